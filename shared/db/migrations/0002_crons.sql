-- Crons: scheduled runs (Agent Server API "Crons"), fired by the cron function's ticks.
-- A cron bound to a thread runs on it; one without (stateless) gets a new thread per firing.

CREATE TABLE crons (
    cron_id          uuid        PRIMARY KEY,
    assistant_id     uuid        NOT NULL REFERENCES assistants ON DELETE CASCADE,
    thread_id        uuid        REFERENCES threads ON DELETE CASCADE,
    user_id          text,
    schedule         text        NOT NULL,
    timezone         text,
    end_time         timestamptz,
    -- the body of the runs it creates (input, config, context, metadata, stream_mode, …)
    payload          jsonb       NOT NULL DEFAULT '{}',
    metadata         jsonb       NOT NULL DEFAULT '{}',
    on_run_completed text CHECK (on_run_completed IN ('delete', 'keep')),
    enabled          boolean     NOT NULL DEFAULT true,
    -- the next due time; NULL when the schedule has no future time
    next_run_date    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crons_due ON crons (next_run_date) WHERE enabled;
CREATE INDEX crons_assistant ON crons (assistant_id);
CREATE INDEX crons_thread ON crons (thread_id);
CREATE INDEX crons_metadata ON crons USING gin (metadata jsonb_path_ops);

-- Ticks already handled, by CloudEvent source and id: a redelivered event changes nothing.
CREATE TABLE cron_ticks (
    event_key   text        PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cron_ticks_received_at ON cron_ticks (received_at);
