-- The local API's data: agents and their custom lead fields, the leads they capture, and the
-- conversations (with their messages) visitors have with them.
-- Times are unix milliseconds (INTEGER): leads and messages are paged and filtered on them.

CREATE TABLE agent (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    -- JSON array of {"key", "label", "required"}: the custom fields its lead form asks for.
    lead_fields         TEXT NOT NULL DEFAULT '[]',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE conversation (
    id                  TEXT PRIMARY KEY NOT NULL,
    agent_id            TEXT NOT NULL REFERENCES agent (id),
    -- JSON {"id", "name", "email", "phone"}: what the visitor told.
    visitor             TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'routed', 'closed')),
    route_reason        TEXT,
    close_reason        TEXT,
    created_at          INTEGER NOT NULL,
    closed_at           INTEGER
);
CREATE INDEX conversation_time ON conversation (created_at DESC, id DESC);

CREATE TABLE message (
    id                  TEXT PRIMARY KEY NOT NULL,
    conversation_id     TEXT NOT NULL REFERENCES conversation (id) ON DELETE CASCADE,
    direction           TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    text                TEXT NOT NULL,
    created_at          INTEGER NOT NULL
);
CREATE INDEX message_conversation ON message (conversation_id, created_at, id);

CREATE TABLE lead (
    id                  TEXT PRIMARY KEY NOT NULL,
    agent_id            TEXT NOT NULL REFERENCES agent (id),
    conversation_id     TEXT REFERENCES conversation (id),
    name                TEXT,
    email               TEXT,
    phone               TEXT,
    -- JSON object of custom field values by key (every key the agent defined when captured).
    fields              TEXT NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
-- The admin lead list: newest first, keyset-paged, optionally from a time on.
CREATE INDEX lead_time ON lead (created_at DESC, id DESC);
CREATE INDEX lead_agent ON lead (agent_id);
