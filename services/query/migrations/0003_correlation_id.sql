-- The source's X-Correlation-Id, carried by the raw record. Like trace_id it
-- follows the newest raw record, so a redrive keeps it.
ALTER TABLE events ADD COLUMN correlation_id text;
