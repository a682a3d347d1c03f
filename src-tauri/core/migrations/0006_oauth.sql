-- OAuth connections: why a connection needs attention, and revocations still owed to providers.

-- What the card says about a status other than active (a refused refresh, a pending revocation).
ALTER TABLE integration_connection ADD COLUMN status_detail TEXT;

-- Upstream revocations the provider has not confirmed yet, retried with backoff until it does
-- (across restarts). The token to revoke is in the keychain under
-- connection/<connection_id>/revocation/<id>, never here.
CREATE TABLE oauth_revocation (
    id               TEXT PRIMARY KEY NOT NULL,
    connection_id    TEXT NOT NULL REFERENCES integration_connection (id) ON DELETE CASCADE,
    provider         TEXT NOT NULL,
    -- Which token the keychain entry holds: what the provider's revocation call takes.
    token_kind       TEXT NOT NULL CHECK (token_kind IN ('access_token', 'refresh_token')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL, -- unix ms
    last_error       TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX oauth_revocation_due ON oauth_revocation (next_attempt_at);
