"""A2A (Agent2Agent, protocol 0.3) over the run service: ``POST /a2a/{assistant_id}``.

A context is a thread (``contextId`` = ``thread_id``), a task is one run on it
(``<contextId>:<run_id>``). Wire models come from ``a2a-sdk`` (``a2a.compat.v0_3.types``).
Source: Agent Server API, "A2A".
"""
