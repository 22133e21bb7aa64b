-- Schema 3, the baseline: articles, passages and their vectors, sentences with the attribution table,
-- near-duplicate sources, feeds, conversations, feedback and digests. Idempotent (older files are upgraded).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT,
    url TEXT,
    published TEXT,
    highlights TEXT NOT NULL DEFAULT '[]',
    dateline TEXT,
    author TEXT,
    added_at TEXT NOT NULL,
    minhash BLOB,
    UNIQUE (collection, key)
);
CREATE INDEX IF NOT EXISTS articles_collection ON articles (collection);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    sentences TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages (article_id);
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    spans TEXT NOT NULL,
    vectors BLOB NOT NULL,
    attributions TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS article_sources (
    article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    source TEXT,
    url TEXT,
    title TEXT NOT NULL,
    published TEXT,
    added_at TEXT NOT NULL,
    UNIQUE (article_id, url, title)
);
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    url TEXT NOT NULL,
    canonical TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    channel_id INTEGER,
    added_by INTEGER,
    added_at TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_polled TEXT,
    last_success TEXT,
    next_poll TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (collection, canonical)
);
CREATE INDEX IF NOT EXISTS feeds_next_poll ON feeds (next_poll);
CREATE TABLE IF NOT EXISTS feed_entries (
    feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    entry_id TEXT NOT NULL,
    link TEXT NOT NULL DEFAULT '',
    article_id TEXT,
    done INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (feed_id, entry_id)
);
CREATE INDEX IF NOT EXISTS feed_entries_link ON feed_entries (feed_id, link);

CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    collections TEXT NOT NULL,
    guild_id INTEGER,
    thread_id INTEGER UNIQUE,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT
);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations (updated_at);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    collections TEXT NOT NULL,
    question TEXT NOT NULL,
    rewritten TEXT NOT NULL,
    answered INTEGER NOT NULL,
    quotes TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created ON answers (created_at);

CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL,
    user_key TEXT NOT NULL,
    collection TEXT NOT NULL,
    question TEXT NOT NULL,
    quotes TEXT NOT NULL,
    vote INTEGER,
    reason TEXT,
    details TEXT,
    reported_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_key)
);
CREATE INDEX IF NOT EXISTS feedback_reports ON feedback (collection, reported_at);
CREATE TABLE IF NOT EXISTS feedback_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS digest_schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    channel_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    timezone TEXT NOT NULL,
    topic TEXT,
    added_by INTEGER,
    created_at TEXT NOT NULL,
    next_run TEXT NOT NULL,
    last_run TEXT
);
CREATE INDEX IF NOT EXISTS digest_schedules_due ON digest_schedules (next_run);
CREATE TABLE IF NOT EXISTS digest_posted (
    schedule_id INTEGER NOT NULL REFERENCES digest_schedules (id) ON DELETE CASCADE,
    story_key TEXT NOT NULL,
    article_ids TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    PRIMARY KEY (schedule_id, story_key)
);
