-- $4-<n> for n in 0..$2: projected events accepted from $1, $3 µs apart,
-- every tenth dead-lettered and the rest delivered. Used by the export
-- tests and `dev/bench objects` to fill a read model without the pipeline.
WITH seeded AS (
    INSERT INTO events (id, name, body, event_timestamp, accepted_at, trace_id, brand,
        status, status_generation, status_rank, status_attempt, status_at, delivered_at, updated_at)
    SELECT $4 || '-' || lpad(g::text, 8, '0'), 'order.created', 'body of ' || g, ts, ts,
        md5(g::text), 'acme',
        CASE WHEN g % 10 = 0 THEN 'dead_lettered' ELSE 'delivered' END, 0,
        CASE WHEN g % 10 = 0 THEN 2 ELSE 3 END, 1, ts,
        CASE WHEN g % 10 = 0 THEN NULL ELSE ts END, ts
    FROM generate_series(0, $2 - 1) AS g,
         LATERAL (SELECT $1 + make_interval(secs => g * $3 / 1e6) AS ts) AS t
    RETURNING id, name, body
)
INSERT INTO event_search (id, document) SELECT id, name || ' ' || body FROM seeded
