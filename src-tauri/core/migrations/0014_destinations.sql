-- Destinations: connected CRMs, helpdesks, marketing and analytics tools that follow the
-- workspace's events. Each subscribed destination's queue entry is written in the event's own
-- transaction (the outbox), so a crash loses nothing accepted.

-- One per provider, bound to its connection; kept (with its log) when disconnected.
CREATE TABLE destination (
    provider        TEXT PRIMARY KEY NOT NULL,
    connection_id   TEXT NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
    -- 0 while the connection is not active: nothing is queued for it.
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    -- JSON array of the event types it follows.
    events          TEXT NOT NULL,
    -- JSON array of {"from", "to"}: our lead field → the provider's property.
    mapping         TEXT NOT NULL DEFAULT '[]',
    -- JSON object: the audience / list / ticket group picked, tags, the consent field.
    options         TEXT NOT NULL DEFAULT '{}',
    -- Rate limited or backing off as a whole until then (unix ms).
    hold_until      INTEGER NOT NULL DEFAULT 0,
    last_sync_at    INTEGER,
    -- Set at the first failure in a row, cleared by a success.
    failing_since   INTEGER,
    last_error      TEXT,
    updated_at      INTEGER NOT NULL
);

-- One per destination and event: the queue, in rowid order.
CREATE TABLE destination_item (
    destination     TEXT NOT NULL REFERENCES destination (provider) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES webhook_event (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status = 'pending' OR status = 'done' OR status = 'failed'
                        OR status = 'skipped' OR status = 'cancelled'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- The provider's words and what to change, for a failed or retrying item.
    last_error      TEXT,
    -- The record it created or updated, to open at the provider.
    record_url      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (destination, event_id)
);
CREATE INDEX destination_item_queue ON destination_item (destination, status);

-- The provider's ID of each record we made, by our key ("ticket:conversation:<id>"). A row
-- without provider_id is an intent: the call was (maybe) made but its answer never recorded.
CREATE TABLE destination_object (
    destination     TEXT NOT NULL REFERENCES destination (provider) ON DELETE CASCADE,
    our_key         TEXT NOT NULL,
    provider_id     TEXT,
    url             TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (destination, our_key)
);

-- The sync log: every call to the provider, its bytes and its answer.
CREATE TABLE destination_call (
    id              TEXT PRIMARY KEY NOT NULL,
    destination     TEXT NOT NULL REFERENCES destination (provider) ON DELETE CASCADE,
    -- 'queue' or 'test' (Send a test lead) or 'config' (listing, validation).
    trigger         TEXT NOT NULL,
    method          TEXT NOT NULL,
    url             TEXT NOT NULL,
    request_body    BLOB,
    status          INTEGER,
    response_headers TEXT,
    response_body   BLOB,
    -- network, timeout, rate_limited, refused_token, invalid, server, or NULL when it succeeded.
    error_class     TEXT,
    message         TEXT,
    duration_ms     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX destination_call_time ON destination_call (destination, created_at);

-- Which queue items a call was for (a batch call serves many).
CREATE TABLE destination_call_item (
    call_id         TEXT NOT NULL REFERENCES destination_call (id) ON DELETE CASCADE,
    destination     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    PRIMARY KEY (call_id, event_id)
);
CREATE INDEX destination_call_item_event ON destination_call_item (destination, event_id);
