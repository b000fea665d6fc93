"""Deploy from Git: turn a build request (repo, ref, langgraph.json path) into an immutable,
content-addressed build context.

- :mod:`.models`: the request (CloudEvent ``dev.lgdeploy.build.requested``) and Build shapes.
- :mod:`.git`: fetch into a per-repository cache and check out one commit (the ``git`` CLI).
- :mod:`.requirements` and :mod:`.project`: validate ``requirements.txt`` and ``langgraph.json``.
- :mod:`.context`: the generated Dockerfile and the deterministic tar named by its sha256.
- :mod:`.service`: one build end to end, recorded in the ``builds`` table.
"""
