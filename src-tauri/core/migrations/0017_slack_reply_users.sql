-- Replies from Slack: only these Slack member IDs (a JSON array) may reply to a visitor; an
-- empty list lets anyone of the connected workspace reply.
ALTER TABLE notify_target ADD COLUMN reply_users TEXT NOT NULL DEFAULT '[]';
