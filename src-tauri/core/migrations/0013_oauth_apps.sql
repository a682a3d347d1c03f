-- OAuth apps entered in the window, sign-ins that outlive a restart, and where a connected
-- account's API lives.

-- One OAuth client per provider. Its secret is in the keychain under
-- oauth-app/<provider>/client-secret, never here.
CREATE TABLE oauth_app (
    provider       TEXT PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL,
    has_secret     INTEGER NOT NULL CHECK (has_secret IN (0, 1)),
    -- NULL: the catalog's redirect style and port.
    redirect       TEXT CHECK (redirect IN ('deep_link', 'loopback')),
    loopback_port  INTEGER CHECK (loopback_port BETWEEN 1024 AND 65535),
    -- Zendesk's subdomain; Salesforce's login host.
    subdomain      TEXT,
    login_host     TEXT,
    updated_at     TEXT NOT NULL
);

-- Sign-ins in progress, by the SHA-256 of their state (hex): what outlives a restart so that a
-- callback link which starts the app can be matched, and expired ones cleaned up. The PKCE
-- verifier is in the keychain under oauth-pending/<state hash>, never here.
CREATE TABLE oauth_pending (
    state_hash     TEXT PRIMARY KEY NOT NULL,
    authorization_id TEXT NOT NULL,
    provider       TEXT NOT NULL,
    expires_at     INTEGER NOT NULL -- unix ms
);

-- Where this account's API lives (Salesforce instance_url, Pipedrive api_domain, Mailchimp's
-- data-center endpoint), from the sign-in.
ALTER TABLE integration_connection ADD COLUMN api_base TEXT;
