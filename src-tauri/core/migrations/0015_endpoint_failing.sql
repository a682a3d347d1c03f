-- Endpoints that keep failing are disabled, as Stripe and Svix do.
--   failing_since: when the first attempt of the current run of failures was made (unix ms);
--                  NULL while the last attempt succeeded (or none was made). The card counts
--                  down from it.
--   disabled_at:   when the app turned the endpoint off (unix ms); NULL when it is on or the
--                  person turned it off.
--   disabled_for:  why the app turned it off: 'failing' (every attempt failed for the
--                  workspace's period; its pending deliveries are held and sent when it is
--                  turned back on) or 'gone' (it answered 410 Gone).
ALTER TABLE webhook_endpoint ADD COLUMN failing_since INTEGER;
ALTER TABLE webhook_endpoint ADD COLUMN disabled_at INTEGER;
ALTER TABLE webhook_endpoint ADD COLUMN disabled_for TEXT
    CHECK (disabled_for IS NULL OR disabled_for = 'failing' OR disabled_for = 'gone');
