-- Raw samples (tier 0) in their own table, clustered by time: a flush of 15 cycles' samples
-- appends to the last page or two. In `metrics` the same rows went into a different leaf of
-- metrics_lookup per series plus two more B-trees: 31-40 pages (~150 KiB of WAL) per flush once
-- the table held two days of samples. Tiers 1 and 2 stay in `metrics` (rolled up once a day).
CREATE TABLE metrics_raw (
    ts REAL NOT NULL,
    name TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL,
    PRIMARY KEY (ts, name, labels)
) WITHOUT ROWID;
INSERT OR REPLACE INTO metrics_raw (ts, name, labels, value) SELECT ts, name, labels, value FROM metrics WHERE tier = 0;
DELETE FROM metrics WHERE tier = 0;
