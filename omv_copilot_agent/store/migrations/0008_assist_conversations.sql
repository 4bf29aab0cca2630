-- Assistant conversations an admin renamed: the title shown instead of the first question.
CREATE TABLE IF NOT EXISTS assist_conversations (
    conversation_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    updated_at REAL NOT NULL
);
-- A turn's answer id (its trace id) and the admin's rating of it, so the rating shows after a reload.
ALTER TABLE assist_turns ADD COLUMN query_id TEXT;
ALTER TABLE assist_turns ADD COLUMN feedback TEXT;
CREATE INDEX IF NOT EXISTS assist_turns_query ON assist_turns (query_id);
