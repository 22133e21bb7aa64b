-- Schema 4: the job queue of `newsdesk worker` (index/jobs.py). Bot processes enqueue moderators' /ingest and
-- /reindex; workers claim jobs under a lease that a heartbeat extends, so a job whose worker died is taken again.
-- Times are UTC ISO-8601 text of one fixed width (compared as text). Idempotent (SQLite runs it again on open).
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('ingest_url', 'ingest_file', 'ingest_text', 'reindex', 'poll_feeds')),
    payload TEXT NOT NULL DEFAULT '{}',
    collection TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5,
    run_after TEXT NOT NULL,
    owner TEXT,
    lease_expires TEXT,
    heartbeat_at TEXT,
    last_error TEXT,
    progress TEXT,
    result TEXT,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_queued ON jobs (run_after, id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_leased ON jobs (lease_expires) WHERE state = 'running';
