-- Schema 5 (PostgreSQL): what several processes share besides the articles: per-user rate limits (token buckets) and the
-- claims of Discord shards by bot processes. (Version 4, the job table, comes from its own migration.)
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_updated ON rate_limits (updated_at);
CREATE TABLE IF NOT EXISTS shard_claims (
    shard_count INTEGER NOT NULL,
    shard_id INTEGER NOT NULL,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (shard_count, shard_id)
);
