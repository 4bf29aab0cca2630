-- OMV configuration snapshots (daily and on change) for drift history.
CREATE TABLE config_snapshots (
    id INTEGER PRIMARY KEY,
    taken_at REAL NOT NULL,
    hash TEXT NOT NULL,
    reason TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX config_snapshots_taken_at ON config_snapshots (taken_at);
