-- The searchable text moves to a table of its own, written once per event.
--
-- In `events` every status change writes a new row version, and since
-- `status` is indexed no update can be HOT: each version was inserted into
-- every index, the trigram GIN index among them, which re-extracted the
-- trigrams of the whole body for an accepted -> retrying -> delivered walk
-- that never changed the text. Here the text is written when the raw record
-- is projected and rewritten only if it changes, so status updates never
-- touch the trigram index: the projector went from 32.8k to 41.7k records/s
-- (dev/bench query, same machine, back to back).
CREATE TABLE event_search (
    id       text PRIMARY KEY,
    -- name || ' ' || body of the event's row, as `db::list_events` searches it.
    document text NOT NULL
);

INSERT INTO event_search (id, document)
SELECT id, coalesce(name, '') || ' ' || coalesce(body, '')
FROM events
WHERE name IS NOT NULL OR body IS NOT NULL;

DROP INDEX IF EXISTS events_text_trgm_idx;

-- pg_trgm's operator class is named in `public`, as in 0008: a rebuild's
-- side schema is the only search path when these migrations run there.
CREATE INDEX event_search_trgm_idx ON event_search USING gin (document public.gin_trgm_ops);

-- Statistics now, not at autovacuum's next visit: without them the planner
-- guessed a hash join over every match, and a search for a word in a fifth
-- of a million events took 650 ms instead of 2 ms.
ANALYZE event_search;
