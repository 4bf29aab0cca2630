-- Snapshots (one JSON document per collection cycle) and the metric time series.
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    taken_at REAL NOT NULL,
    overall TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX snapshots_taken_at ON snapshots (taken_at);

-- tier 0 = raw samples, 1 = 5-minute averages, 2 = hourly averages
CREATE TABLE metrics (
    ts REAL NOT NULL,
    name TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL,
    tier INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX metrics_lookup ON metrics (name, labels, tier, ts);
CREATE INDEX metrics_tier_ts ON metrics (tier, ts);
