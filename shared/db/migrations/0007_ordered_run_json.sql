-- A run's kwargs (input, command, context, config) and result keep the key order the client and
-- the graph gave them: ``json`` stores the text as sent, while ``jsonb`` reorders object keys,
-- which changed prompts and tool schemas built from a run's input. Nothing queries these
-- columns with jsonb operators (the webhook outbox reads ``kwargs->>'webhook'``, which json has
-- too); the outbox's copy of kwargs follows, so a webhook's payload keeps the order as well.
ALTER TABLE runs
    ALTER COLUMN kwargs DROP DEFAULT,
    ALTER COLUMN kwargs TYPE json USING kwargs::json,
    ALTER COLUMN kwargs SET DEFAULT '{}',
    ALTER COLUMN result TYPE json USING result::json;
ALTER TABLE webhook_deliveries ALTER COLUMN kwargs TYPE json USING kwargs::json;
