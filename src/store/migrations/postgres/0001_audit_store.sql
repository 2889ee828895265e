-- tollgate audit store, PostgreSQL. Times are unix milliseconds (UTC).

-- Facts the store pins on first start (genesis policy digest, origin, log key).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The log: one row per leaf, the envelope bytes exactly as accepted.
CREATE TABLE entries (
    idx         BIGINT PRIMARY KEY CHECK (idx >= 0),
    entry_id    BYTEA NOT NULL UNIQUE CHECK (octet_length(entry_id) = 32),
    leaf_hash   BYTEA NOT NULL CHECK (octet_length(leaf_hash) = 32),
    body        BYTEA NOT NULL,
    accepted_at BIGINT NOT NULL
);

-- Signed checkpoints (C2SP signed note bytes), one per committed tree size.
CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY CHECK (size >= 0),
    body BYTEA NOT NULL
);

-- Evidence blobs by sha256 (32 raw bytes).
CREATE TABLE evidence (
    digest     BYTEA PRIMARY KEY CHECK (octet_length(digest) = 32),
    media_type TEXT NOT NULL,
    body       BYTEA NOT NULL,
    stored_at  BIGINT NOT NULL
);

-- Deploy hook deliveries (webhooks), one row per attempt.
CREATE TABLE hook_deliveries (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url     TEXT NOT NULL,
    event   TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    status  BIGINT,
    error   TEXT,
    at      BIGINT NOT NULL
);
CREATE INDEX hook_deliveries_event ON hook_deliveries (event);
