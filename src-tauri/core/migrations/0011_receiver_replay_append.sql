-- The replay index again: keyed (signed_at, id, signature) instead of (signed_at, signature).
-- Within one second the signatures are random, so under the old key each new row went to a
-- random place among that second's entries: a seek comparing 32-byte blobs all the way down,
-- and a different leaf dirtied per row in a burst. With the rowid before the signature, new
-- rows land at the index's right edge, told apart by integers. A replay lookup still seeks to
-- its second and reads the signatures from the index alone, never the rows.
DROP INDEX receiver_request_replay;
CREATE INDEX receiver_request_replay ON receiver_request (signed_at, id, signature)
WHERE signature IS NOT NULL;
