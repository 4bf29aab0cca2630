-- Feedback on knowledge-base patterns: nudges ranking within bounds.
CREATE TABLE knowledge_feedback (
    id INTEGER PRIMARY KEY,
    pattern_id TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    comment TEXT,
    query TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX knowledge_feedback_pattern ON knowledge_feedback (pattern_id);
