-- Deploy hooks derived from the log (DESIGN §4): how far the log has been
-- folded for notifications, and every notification claimed from it. The
-- cursor row is taken under a lock with the claims, so each notification is
-- claimed once across restarts and across store instances.

-- An existing store starts notifying from its current end; a new one from 0.
CREATE TABLE hook_cursor (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    next_index INTEGER NOT NULL CHECK (next_index >= 0)
);
INSERT INTO hook_cursor (id, next_index) SELECT 1, COALESCE(MAX(idx) + 1, 0) FROM entries;

-- One row per notification (its stable event id), with the exact body sent
-- on every attempt. claimed_at is when an instance took it on (unix ms); a
-- notification not done long after that is taken on again.
CREATE TABLE hook_events (
    id         TEXT PRIMARY KEY NOT NULL,
    idx        INTEGER NOT NULL,
    body       BLOB NOT NULL,
    claimed_at INTEGER NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hook_events_pending ON hook_events (done, claimed_at);
