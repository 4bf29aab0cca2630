-- Assistant: conversations (multi-turn) and 9-point traces.
CREATE TABLE IF NOT EXISTS assist_turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    query TEXT NOT NULL,
    answer TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assist_turns_conv ON assist_turns (conversation_id, id);
CREATE TABLE IF NOT EXISTS assist_traces (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    query TEXT NOT NULL,
    mode TEXT NOT NULL,
    provider TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assist_traces_created ON assist_traces (created_at);
