-- Every executor attempt of a run, visible through the API, and idempotency keys of run creation.

CREATE TABLE run_attempts (
    run_id      uuid        NOT NULL REFERENCES runs ON DELETE CASCADE,
    attempt     integer     NOT NULL,
    executor_id text        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    -- running | success | error | timeout | interrupted | retry | released | lost
    outcome     text        NOT NULL DEFAULT 'running',
    error       jsonb,
    PRIMARY KEY (run_id, attempt)
);

CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,  -- the thread id, or 'stateless'
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    run_id       uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
