-- alerts_state indexed last_seen, which an open alert's flush rewrites: the index entry moved
-- (one more page written per open alert per flush). Retention needs (state, resolved_at),
-- which is written once, when an alert resolves; listings sort the few open rows in memory.
DROP INDEX IF EXISTS alerts_state;
CREATE INDEX alerts_state ON alerts (state, resolved_at);
