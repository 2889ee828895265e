-- tollgate audit store, SQLite. Times are unix milliseconds (UTC).

-- Facts the store pins on first start (genesis policy digest, origin, log key).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- The log: one row per leaf, the envelope bytes exactly as accepted.
CREATE TABLE entries (
    idx         INTEGER PRIMARY KEY NOT NULL CHECK (idx >= 0),
    entry_id    BLOB NOT NULL UNIQUE CHECK (length(entry_id) = 32),
    leaf_hash   BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    body        BLOB NOT NULL,
    accepted_at INTEGER NOT NULL
);

-- Signed checkpoints (C2SP signed note bytes), one per committed tree size.
CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY NOT NULL CHECK (size >= 0),
    body BLOB NOT NULL
);

-- Evidence blobs by sha256 (32 raw bytes).
CREATE TABLE evidence (
    digest     BLOB PRIMARY KEY NOT NULL CHECK (length(digest) = 32),
    media_type TEXT NOT NULL,
    body       BLOB NOT NULL,
    stored_at  INTEGER NOT NULL
);

-- Deploy hook deliveries (webhooks), one row per attempt.
CREATE TABLE hook_deliveries (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    url     TEXT NOT NULL,
    event   TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status  INTEGER,
    error   TEXT,
    at      INTEGER NOT NULL
);
CREATE INDEX hook_deliveries_event ON hook_deliveries (event);
