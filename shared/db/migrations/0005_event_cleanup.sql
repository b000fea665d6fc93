-- Stream events go with their run, whichever path deletes it (rollback, run or thread delete,
-- stateless clean-up), and expired events are found from recently ended runs, not by scanning
-- every stored event.

CREATE FUNCTION lgd_delete_run_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_events WHERE run_id = OLD.run_id;
    RETURN OLD;
END $$;

CREATE TRIGGER runs_delete_events AFTER DELETE ON runs
    FOR EACH ROW EXECUTE FUNCTION lgd_delete_run_events();

CREATE INDEX runs_ended_at ON runs (ended_at) WHERE ended_at IS NOT NULL;

DELETE FROM run_events e WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = e.run_id);
