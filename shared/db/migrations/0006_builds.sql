-- Builds of user repositories ("Deploy from Git"), one per build-request CloudEvent.
-- The builder resolves ref to a commit, validates langgraph.json + requirements.txt and stores
-- a deterministic build context named by its sha256 digest.

CREATE TABLE builds (
    build_id     uuid        PRIMARY KEY,
    -- the CloudEvent that asked for it: a redelivery finds this row instead of a new build
    event_source text        NOT NULL,
    event_id     text        NOT NULL,
    repo         text        NOT NULL,
    ref          text        NOT NULL,
    config_path  text        NOT NULL,
    -- the commit ref resolved to; NULL until resolved (or when it could not be)
    commit       text,
    status       text        NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- why it failed; while queued again after a transient failure, that failure
    error        text,
    -- "sha256:<hex>" of the build context, once succeeded
    digest       text,
    -- the graph ids of its langgraph.json, once validated
    graphs       jsonb       NOT NULL DEFAULT '[]',
    attempts     integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_source, event_id)
);
