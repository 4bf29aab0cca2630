-- Alerts: one row per (rule, subject) episode; history is the resolved rows.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    resolved_at REAL,
    acknowledged_at REAL,
    ack_note TEXT,
    count INTEGER NOT NULL DEFAULT 1,
    clear_count INTEGER NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alerts_open ON alerts (rule, subject, state);
CREATE INDEX alerts_state ON alerts (state, last_seen);

-- Admin notes, optionally linked to an alert.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    text TEXT NOT NULL,
    alert_id INTEGER REFERENCES alerts (id) ON DELETE SET NULL
);
