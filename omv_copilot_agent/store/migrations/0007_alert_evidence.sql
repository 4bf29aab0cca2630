-- What an admin needs first about an alert (top processes, SMART trend, last change, pattern's
-- first check), built when it opens and refreshed while open; kept after it resolves.
ALTER TABLE alerts ADD COLUMN evidence TEXT;
ALTER TABLE alerts ADD COLUMN evidence_at REAL;

-- "I did it": each verification of a fix (probes re-run, finding re-evaluated) and its outcome.
CREATE TABLE resolutions (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    verified_at REAL NOT NULL,
    outcome TEXT NOT NULL,
    ttr_s REAL,
    pattern_id TEXT,
    readings TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX resolutions_alert ON resolutions (alert_id, verified_at);
