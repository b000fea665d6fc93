"""Who is calling and what they may do: the request context built at the edge
(:mod:`shared.auth.context`) and the access seam that builds and checks it
(:mod:`shared.auth.access`)."""
