-- A thread's values, interrupts and config, a cron's payload and a webhook's values keep the
-- key order the graph and the client gave them (``json`` stores the text as written; ``jsonb``
-- sorted the keys, so GET /threads/{id} and the runs a cron starts differed from the official
-- server's). The thread search filter casts "values" to jsonb for ``@>``; nothing else
-- queries these columns with jsonb operators.
--
-- ``interrupts`` is NULL until the thread's state is first stored (a run ended, a state
-- update): the official server's thread has no ``interrupts`` (nor ``error``) key until then.
-- A thread with neither values nor interrupts never had its state stored.
ALTER TABLE threads
    ALTER COLUMN config DROP DEFAULT,
    ALTER COLUMN config TYPE json USING config::json,
    ALTER COLUMN config SET DEFAULT '{}',
    ALTER COLUMN "values" TYPE json USING "values"::json,
    ALTER COLUMN interrupts DROP DEFAULT,
    ALTER COLUMN interrupts DROP NOT NULL,
    ALTER COLUMN interrupts TYPE json USING
        CASE WHEN "values" IS NULL AND interrupts = '{}' THEN NULL ELSE interrupts::json END;
ALTER TABLE crons
    ALTER COLUMN payload DROP DEFAULT,
    ALTER COLUMN payload TYPE json USING payload::json,
    ALTER COLUMN payload SET DEFAULT '{}';
ALTER TABLE webhook_deliveries ALTER COLUMN "values" TYPE json USING "values"::json;
