-- The bell's notices (and the OS notification centre's): written in the transaction of what they
-- tell, before anything shows them, so none is lost across a restart.
--   subject:  what the notice is about (an endpoint's ID…): one unread notice per kind and
--             subject, so a failing endpoint is told once, not per attempt
--   link:     where it leads in the window (`endpoint:<id>`)
--   shown_at: when it was handed to the OS notification centre (NULL: not yet)
CREATE TABLE notice (
    id          INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT NOT NULL,
    read_at_ms  INTEGER,
    shown_at_ms INTEGER
);
CREATE INDEX notice_unread ON notice (kind, subject) WHERE read_at_ms IS NULL;
CREATE INDEX notice_unshown ON notice (id) WHERE shown_at_ms IS NULL;
