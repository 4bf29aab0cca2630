-- What an admin needs first about an alert (top processes, SMART trend, last change, pattern's
-- first check), built when it opens and refreshed while open; kept after it resolves.
ALTER TABLE alerts ADD COLUMN evidence TEXT;
ALTER TABLE alerts ADD COLUMN evidence_at REAL;

-- "I did it": each verification of a fix (probes re-run, finding re-evaluated) and its outcome,
-- for an alert or for an assistant answer (a conversation turn), never both.
CREATE TABLE resolutions (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER REFERENCES alerts (id) ON DELETE CASCADE,
    turn_id INTEGER REFERENCES assist_turns (id) ON DELETE CASCADE,
    verified_at REAL NOT NULL,
    outcome TEXT NOT NULL,
    ttr_s REAL,
    pattern_id TEXT,
    readings TEXT NOT NULL DEFAULT '[]',
    CHECK ((alert_id IS NULL) != (turn_id IS NULL))
);
CREATE INDEX resolutions_alert ON resolutions (alert_id, verified_at);
CREATE INDEX resolutions_turn ON resolutions (turn_id, verified_at);
