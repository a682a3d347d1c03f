-- Notifications to Slack, Microsoft Teams and Discord: one target per integration with its
-- settings, an outbox of notifications (durable across restarts, retried from the card), and
-- the daily summaries already sent (never twice for one day).

CREATE TABLE notify_target (
    provider            TEXT PRIMARY KEY NOT NULL CHECK (provider IN ('slack', 'microsoft-teams', 'discord')),
    -- Slack: the OAuth connection whose bot token posts.
    connection_id       TEXT REFERENCES integration_connection (id) ON DELETE CASCADE,
    channel_id          TEXT,
    channel_name        TEXT,
    new_leads           INTEGER NOT NULL DEFAULT 1 CHECK (new_leads IN (0, 1)),
    new_conversations   INTEGER NOT NULL DEFAULT 1 CHECK (new_conversations IN (0, 1)),
    escalations         INTEGER NOT NULL DEFAULT 1 CHECK (escalations IN (0, 1)),
    all_messages        INTEGER NOT NULL DEFAULT 0 CHECK (all_messages IN (0, 1)),
    daily_summary       INTEGER NOT NULL DEFAULT 0 CHECK (daily_summary IN (0, 1)),
    -- When the daily summary was (last) turned on, unix ms: no summary of a day that ended before.
    summary_since       INTEGER,
    reply_from_slack    INTEGER NOT NULL DEFAULT 0 CHECK (reply_from_slack IN (0, 1)),
    -- "HH:MM", local time of the computer running the app.
    summary_time        TEXT NOT NULL DEFAULT '09:00',
    -- Teams / Discord: the pasted URL holds a token, so it is in the keychain under this
    -- account; the database keeps only a shortened form to show.
    webhook_ref         TEXT,
    webhook_shown       TEXT,
    -- The rowid of the last webhook_event turned into notifications (or skipped).
    event_cursor        INTEGER NOT NULL DEFAULT 0,
    -- What stopped sending and what to do; NULL while all is well.
    last_error          TEXT,
    last_error_at       INTEGER,
    connected_by        TEXT REFERENCES member (id) ON DELETE SET NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE notify_outbox (
    id                  TEXT PRIMARY KEY NOT NULL,
    provider            TEXT NOT NULL REFERENCES notify_target (provider) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('lead', 'started', 'routed', 'message', 'summary')),
    -- The conversation it is about, if any: a threaded Slack reply maps back through it.
    conversation_id     TEXT,
    -- The notification's content as JSON, rendered into the target's format when sent.
    notice              TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT,
    -- Where Slack put it (chat.postMessage's channel and ts).
    slack_channel       TEXT,
    slack_ts            TEXT,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER
);
-- Each target's queue in the order written (the rowid completes the key).
CREATE INDEX notify_outbox_queue ON notify_outbox (provider, status);
CREATE INDEX notify_outbox_slack ON notify_outbox (slack_channel, slack_ts);

-- One row per target and local day whose summary was queued: the key makes "once" hold.
CREATE TABLE notify_summary (
    provider            TEXT NOT NULL REFERENCES notify_target (provider) ON DELETE CASCADE,
    day                 TEXT NOT NULL,
    outbox_id           TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (provider, day)
);
