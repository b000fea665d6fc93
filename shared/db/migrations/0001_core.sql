-- Core tables of the Agent Server: assistants (with versions), threads, runs and run events.
-- Checkpoints live in langgraph-checkpoint-postgres's own tables (set up by shared.db.migrate).

CREATE TABLE assistants (
    assistant_id uuid PRIMARY KEY,
    graph_id     text        NOT NULL,
    config       jsonb       NOT NULL DEFAULT '{}',
    context      jsonb       NOT NULL DEFAULT '{}',
    metadata     jsonb       NOT NULL DEFAULT '{}',
    name         text        NOT NULL,
    description  text,
    version      integer     NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assistants_graph_id ON assistants (graph_id);
CREATE INDEX assistants_metadata ON assistants USING gin (metadata jsonb_path_ops);

CREATE TABLE assistant_versions (
    assistant_id uuid        NOT NULL REFERENCES assistants ON DELETE CASCADE,
    version      integer     NOT NULL,
    graph_id     text        NOT NULL,
    config       jsonb       NOT NULL DEFAULT '{}',
    context      jsonb       NOT NULL DEFAULT '{}',
    metadata     jsonb       NOT NULL DEFAULT '{}',
    name         text        NOT NULL,
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (assistant_id, version)
);

CREATE TABLE threads (
    thread_id        uuid        PRIMARY KEY,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    state_updated_at timestamptz NOT NULL DEFAULT now(),
    metadata         jsonb       NOT NULL DEFAULT '{}',
    status           text        NOT NULL DEFAULT 'idle'
                     CHECK (status IN ('idle', 'busy', 'interrupted', 'error')),
    config           jsonb       NOT NULL DEFAULT '{}',
    "values"         jsonb,
    interrupts       jsonb       NOT NULL DEFAULT '{}',
    error            jsonb,
    -- a stateless run's thread: hidden from search, deleted once its run ends
    temporary        boolean     NOT NULL DEFAULT false
);
CREATE INDEX threads_metadata ON threads USING gin (metadata jsonb_path_ops);
CREATE INDEX threads_created_at ON threads (created_at);

CREATE TABLE runs (
    run_id             uuid        PRIMARY KEY,
    seq                bigserial   NOT NULL,
    thread_id          uuid        NOT NULL REFERENCES threads ON DELETE CASCADE,
    assistant_id       uuid        NOT NULL,
    status             text        NOT NULL
                       CHECK (status IN ('pending', 'running', 'success', 'error',
                                         'timeout', 'interrupted')),
    metadata           jsonb       NOT NULL DEFAULT '{}',
    kwargs             jsonb       NOT NULL DEFAULT '{}',
    multitask_strategy text        NOT NULL DEFAULT 'enqueue',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    available_at       timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    ended_at           timestamptz,
    attempt            integer     NOT NULL DEFAULT 0,
    executor_id        text,
    claim_token        uuid,
    lease_expires_at   timestamptz,
    cancel_action      text CHECK (cancel_action IN ('interrupt', 'rollback')),
    result             jsonb,
    error              jsonb
);
-- one running run per thread, durably
CREATE UNIQUE INDEX runs_one_running_per_thread ON runs (thread_id) WHERE status = 'running';
CREATE INDEX runs_pending ON runs (available_at, seq) WHERE status = 'pending';
CREATE INDEX runs_thread ON runs (thread_id, seq);
CREATE INDEX runs_lease ON runs (lease_expires_at) WHERE status = 'running';

CREATE TABLE run_events (
    run_id uuid    NOT NULL,
    seq    integer NOT NULL,
    event  text    NOT NULL,
    data   text    NOT NULL,
    PRIMARY KEY (run_id, seq)
);
