-- Raw samples (tier 0) in their own table, keyed by time: id = the sample's time in µs * 1024
-- + its place among that cycle's samples, a rowid, so a flush of 15 cycles' samples appends
-- to the last page (SQLite's quick balance) and a time range is a rowid range; a series is a
-- small integer (metric_series), not its name and labels repeated in every row. In `metrics`
-- the same rows went into a different leaf of metrics_lookup per series plus two more
-- B-trees: 31-40 pages (~150 KiB of WAL) per flush once the table held two days of samples.
-- Tiers 1 and 2 stay in `metrics` (rolled up once a day).
CREATE TABLE metric_series (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '',
    UNIQUE (name, labels)
);
CREATE TABLE metrics_raw (
    id INTEGER PRIMARY KEY,
    series INTEGER NOT NULL,
    ts REAL NOT NULL,
    value REAL NOT NULL
);
INSERT OR IGNORE INTO metric_series (name, labels) SELECT DISTINCT name, labels FROM metrics WHERE tier = 0;
INSERT OR REPLACE INTO metrics_raw (id, series, ts, value)
    SELECT CAST(m.ts * 1000000 AS INTEGER) * 1024 + (ROW_NUMBER() OVER (PARTITION BY m.ts ORDER BY m.name, m.labels) - 1) % 1024,
           s.id, m.ts, m.value FROM metrics m JOIN metric_series s ON s.name = m.name AND s.labels = m.labels WHERE m.tier = 0;
DELETE FROM metrics WHERE tier = 0;
