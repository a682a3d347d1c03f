-- The workspace, its members and the app's own settings (the active member).
CREATE TABLE workspace (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    -- At most one workspace per data directory.
    singleton   INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1)
);

CREATE TABLE member (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX member_email ON member (lower(email));

CREATE TABLE setting (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL
);

-- The spec's integration_connection: one row per connection of a catalog integration.
CREATE TABLE integration_connection (
    id              TEXT PRIMARY KEY NOT NULL,
    provider        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'needs_reauth', 'inactive', 'revocation_pending')),
    account_label   TEXT,
    connected_by    TEXT REFERENCES member (id) ON DELETE SET NULL,
    connected_at    TEXT NOT NULL,
    config          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX integration_connection_provider ON integration_connection (provider);
