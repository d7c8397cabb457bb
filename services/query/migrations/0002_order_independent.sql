-- Every column becomes a function of the set of records projected, not of the
-- order or batching they arrived in, so a rebuild from Kafka reproduces the
-- live rows exactly (checksum for checksum).

-- The raw fields come from the newest raw record (by its acceptance time).
ALTER TABLE events ADD COLUMN last_accepted_at timestamptz;
UPDATE events SET last_accepted_at = accepted_at;

-- The HTTP status and the error each come from the furthest status record
-- that carried one, ordered like the status: {generation, rank, attempt}.
ALTER TABLE events ADD COLUMN last_http_order integer[];
ALTER TABLE events ADD COLUMN last_error_order integer[];
UPDATE events SET last_http_order = ARRAY[status_generation, status_rank, status_attempt]
    WHERE last_http_status IS NOT NULL;
UPDATE events SET last_error_order = ARRAY[status_generation, status_rank, status_attempt]
    WHERE last_error_kind IS NOT NULL;

-- The time of the newest record about the event, not the time of the write.
ALTER TABLE events ALTER COLUMN updated_at DROP DEFAULT;
