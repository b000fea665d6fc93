-- The span of each executor attempt (W3C traceparent), when tracing is on: the next attempt of
-- the run (a retry or a reclaim) links its own span to it (shared/execution/attempt.py).

ALTER TABLE run_attempts ADD COLUMN traceparent text;
