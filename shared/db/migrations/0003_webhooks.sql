-- Run-end webhooks: the outbox of deliveries (written in the statement that ends a run) and
-- one row per delivery attempt, read by GET /threads/{thread_id}/runs/{run_id}/webhooks.

CREATE TABLE webhook_deliveries (
    delivery_id        uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    url                text        NOT NULL,
    -- pending (due at next_attempt_at) → delivering (claimed under a lease) → delivered | failed
    state              text        NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
    delivery_attempts  integer     NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    claim_token        uuid,
    claimed_at         timestamptz,
    lease_expires_at   timestamptz,
    finished_at        timestamptz,
    -- the run as it ended (no foreign key: a stateless run's thread is deleted after it ends)
    run_id             uuid        NOT NULL,
    thread_id          uuid        NOT NULL,
    assistant_id       uuid        NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    status             text        NOT NULL,
    metadata           jsonb       NOT NULL,
    kwargs             jsonb       NOT NULL,
    multitask_strategy text        NOT NULL,
    attempt            integer     NOT NULL,
    started_at         timestamptz,
    ended_at           timestamptz,
    "values"           jsonb,
    error              jsonb
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_lease ON webhook_deliveries (lease_expires_at)
    WHERE state = 'delivering';
CREATE INDEX webhook_deliveries_run ON webhook_deliveries (run_id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at)
    WHERE state IN ('delivered', 'failed');

CREATE TABLE webhook_attempts (
    delivery_id uuid             NOT NULL REFERENCES webhook_deliveries ON DELETE CASCADE,
    attempt     integer          NOT NULL,
    sent_at     timestamptz      NOT NULL,
    status_code integer,
    latency_ms  double precision,
    error       text,
    -- delivered | retry (another attempt follows) | failed (the last one) | lost (the
    -- deliverer died during the attempt; its lease expired)
    outcome     text             NOT NULL
                CHECK (outcome IN ('delivered', 'retry', 'failed', 'lost')),
    PRIMARY KEY (delivery_id, attempt)
);
