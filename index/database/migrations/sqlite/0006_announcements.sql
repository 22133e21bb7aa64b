-- Schema 6: the outbox of feed announcements (index/announcements.py). Whoever polls a feed (a bot or
-- `newsdesk worker`) adds one row per new article to announce; any bot process claims pending rows under a
-- lease and posts them, so a feed polled by a worker is announced too, and never twice.
-- Times are UTC ISO-8601 text of one fixed width (compared as text).
CREATE TABLE IF NOT EXISTS announcements (
    id INTEGER PRIMARY KEY,
    feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    collection TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    article_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_at TEXT,
    posted_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (channel_id, article_id)
);
CREATE INDEX IF NOT EXISTS announcements_pending ON announcements (id) WHERE posted_at IS NULL;
