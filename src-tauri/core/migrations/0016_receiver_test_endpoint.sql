-- The endpoint "Send test events here" makes for the local receiver receives test events only:
-- the outbox never subscribes it to real events, and it is turned off whenever the receiver
-- stops (its port may be taken by something else by then).
ALTER TABLE webhook_endpoint ADD COLUMN test_only INTEGER NOT NULL DEFAULT 0
    CHECK (test_only IN (0, 1));
-- Made before this version, recognised by the description it was given; the receiver is not
-- running while migrations run.
UPDATE webhook_endpoint
SET test_only = 1,
    active = 0,
    disabled_reason = 'The local receiver stopped. Start it and press Send test events here to use this endpoint again.'
WHERE description = 'Pitchbar Admin''s local receiver';
