-- Outgoing webhooks: endpoints and their signing secrets, the outbox of accepted events, one
-- delivery per (event, endpoint), and the delivery log of one row per attempt.
-- Times are unix milliseconds (INTEGER) where the dispatcher sorts or filters on them.

CREATE TABLE webhook_endpoint (
    id                  TEXT PRIMARY KEY NOT NULL,
    url                 TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    -- JSON array of event wire names, e.g. ["lead.captured"].
    events              TEXT NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    policy              TEXT NOT NULL CHECK (policy IN ('single', 'at_least_once')),
    max_attempts        INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 10),
    timeout_ms          INTEGER NOT NULL CHECK (timeout_ms BETWEEN 1000 AND 60000),
    standard_webhooks   INTEGER NOT NULL DEFAULT 0 CHECK (standard_webhooks IN (0, 1)),
    -- Why the app turned it off (410 Gone), shown beside the toggle; NULL when the user did.
    disabled_reason     TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

-- The current secret (expires_at NULL) and, during a rotation's overlap, the previous one.
CREATE TABLE webhook_endpoint_secret (
    id                  INTEGER PRIMARY KEY,
    endpoint_id         TEXT NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
    -- Kept in the database FOR NOW, under a name that says so: a later migration moves each
    -- value to the OS keychain, fills keychain_ref and sets this column to NULL.
    plaintext_secret    TEXT,
    keychain_ref        TEXT,
    expires_at          INTEGER,
    created_at          INTEGER NOT NULL
);
CREATE INDEX webhook_endpoint_secret_endpoint ON webhook_endpoint_secret (endpoint_id);

-- The outbox: every accepted event, written before any attempt.
CREATE TABLE webhook_event (
    id                  TEXT PRIMARY KEY NOT NULL,
    type                TEXT NOT NULL,
    -- The exact body bytes every attempt sends and signs.
    payload             BLOB NOT NULL,
    occurred_at         TEXT NOT NULL,
    created_at          INTEGER NOT NULL
);

-- One per (event, endpoint); its id is X-Pitchbar-Delivery, the same on every attempt.
CREATE TABLE webhook_delivery (
    id                  TEXT PRIMARY KEY NOT NULL,
    event_id            TEXT NOT NULL,
    endpoint_id         TEXT NOT NULL,
    event_type          TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'dead', 'cancelled')),
    -- All attempts ever made, and those of the current run (a redeliver or replay starts a run).
    attempts            INTEGER NOT NULL DEFAULT 0,
    run_attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER,
    trigger             TEXT NOT NULL CHECK (trigger IN ('event', 'test', 'redeliver', 'replay')),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX webhook_delivery_status ON webhook_delivery (status, updated_at);
CREATE INDEX webhook_delivery_endpoint ON webhook_delivery (endpoint_id);

-- The delivery log: one row per attempt, with the exact bytes sent and (up to 64 KiB) received.
CREATE TABLE webhook_attempt (
    id                  INTEGER PRIMARY KEY,
    delivery_id         TEXT NOT NULL,
    endpoint_id         TEXT NOT NULL,
    event_type          TEXT NOT NULL,
    trigger             TEXT NOT NULL,
    attempt_no          INTEGER NOT NULL,
    attempted_at        INTEGER NOT NULL,
    url                 TEXT NOT NULL,
    -- JSON array of [name, value] pairs, in the order sent.
    request_headers     TEXT NOT NULL,
    request_body        BLOB NOT NULL,
    response_status     INTEGER,
    response_headers    TEXT,
    response_body       BLOB,
    response_truncated  INTEGER NOT NULL DEFAULT 0,
    duration_us         INTEGER NOT NULL,
    -- 1 for a 2xx answer; the status filter's "ok".
    ok                  INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error_class         TEXT CHECK (error_class IN ('timeout', 'connection_refused', 'dns', 'tls', 'redirect', 'non_2xx', 'other')),
    error_message       TEXT,
    next_attempt_at     INTEGER
);
-- Keyset paging newest first, for all and per filter (the rowid completes each key).
CREATE INDEX webhook_attempt_time ON webhook_attempt (attempted_at);
CREATE INDEX webhook_attempt_endpoint ON webhook_attempt (endpoint_id, attempted_at);
CREATE INDEX webhook_attempt_ok ON webhook_attempt (ok, attempted_at);
CREATE INDEX webhook_attempt_event ON webhook_attempt (event_type, attempted_at);
CREATE INDEX webhook_attempt_delivery ON webhook_attempt (delivery_id);
