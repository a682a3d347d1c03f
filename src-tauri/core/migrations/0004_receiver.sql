-- The local receiver's log: every request it received (any method or path), the verdict on its
-- signature, what it answered, and what the forward target answered.
-- Columns a list row needs come first and the blobs last: SQLite reads a row's columns in
-- order, so a page of summaries never walks a large body's overflow pages.

CREATE TABLE receiver_request (
    -- The rowid, assigned in received order: listing newest first walks the table's own
    -- B-tree backwards, so no other index is needed for paging.
    id                      INTEGER PRIMARY KEY,
    received_at             INTEGER NOT NULL,   -- unix ms
    method                  TEXT NOT NULL,
    path                    TEXT NOT NULL,
    query                   TEXT,
    body_size               INTEGER NOT NULL,
    valid                   INTEGER NOT NULL CHECK (valid IN (0, 1)),
    verdict_code            TEXT NOT NULL,
    verdict_title           TEXT NOT NULL,
    -- NULL when the connection was closed without an answer.
    response_status         INTEGER,
    response_closed         INTEGER NOT NULL CHECK (response_closed IN (0, 1)),
    response_delay_ms       INTEGER NOT NULL,
    forward_url             TEXT,
    forward_status          INTEGER,
    -- timeout | connection_refused | dns | tls | other; NULL while pending or on an answer.
    forward_error_class     TEXT,
    forward_duration_us     INTEGER,
    -- The header's first v1 value when a secret matched (NULL otherwise): the same signed
    -- message arriving again carries it, which makes it a replay.
    signature               BLOB,
    -- The whole verdict as JSON (title, detail, matched secret, skew…).
    verdict                 TEXT NOT NULL,
    -- JSON arrays of [name, value] pairs, in the order received or answered.
    headers                 TEXT NOT NULL,
    response_headers        TEXT,
    forward_headers         TEXT,
    forward_error_message   TEXT,
    forward_truncated       INTEGER NOT NULL DEFAULT 0,
    body_truncated          INTEGER NOT NULL DEFAULT 0,
    response_body           BLOB,
    forward_body            BLOB,
    body                    BLOB NOT NULL
);
CREATE INDEX receiver_request_signature ON receiver_request (signature) WHERE signature IS NOT NULL;
