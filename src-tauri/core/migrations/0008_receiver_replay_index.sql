-- The receiver's replay memory on disk, keyed by the signed timestamp first. The old index on
-- the signature alone put each new row on a random page of the index (HMACs are random), so
-- every batch rewrote thousands of index pages; timestamps arrive in order, so new rows now
-- land at the index's right edge. A replay carries the same timestamp (the signature covers
-- it), so the lookup is exact.
ALTER TABLE receiver_request ADD COLUMN signed_at INTEGER;
UPDATE receiver_request SET signed_at = json_extract(verdict, '$.timestamp')
WHERE signature IS NOT NULL;
DROP INDEX receiver_request_signature;
CREATE INDEX receiver_request_replay ON receiver_request (signed_at, signature)
WHERE signature IS NOT NULL;
