-- A stateless run whose end a request reads (wait, stream, join) leaves the removal of its
-- temporary thread to that reader. The mark is a column, not a key of ``kwargs``: kwargs is
-- ``json`` (it keeps the client's key order), which cannot be merged into in place.
ALTER TABLE runs ADD COLUMN awaited boolean NOT NULL DEFAULT false;
