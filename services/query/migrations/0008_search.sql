-- Search: by correlation id, trace id, failure and text. Each exact filter
-- has an index that also yields the listing's order, so a page is a short
-- index range scan however many events there are; text in the name or body
-- uses a trigram index (pg_trgm ships with Debian's PostgreSQL and RDS, and
-- is a trusted extension a database owner may create).
--
-- The extension and its operator class are named in `public`: a projection
-- rebuild runs these migrations with its side schema as the only search
-- path, and drops that schema afterwards, which must not take pg_trgm along.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE INDEX events_correlation_idx ON events (correlation_id, accepted_at DESC, id DESC)
    WHERE correlation_id IS NOT NULL;
CREATE INDEX events_trace_idx ON events (trace_id, accepted_at DESC, id DESC)
    WHERE trace_id IS NOT NULL;
CREATE INDEX events_error_kind_idx ON events (last_error_kind, accepted_at DESC, id DESC)
    WHERE last_error_kind IS NOT NULL;
CREATE INDEX events_http_status_idx ON events (last_http_status, accepted_at DESC, id DESC)
    WHERE last_http_status IS NOT NULL;
-- The expression is the one `db::list_events` searches, character for character.
CREATE INDEX events_text_trgm_idx ON events
    USING gin ((coalesce(name, '') || ' ' || coalesce(body, '')) public.gin_trgm_ops);
