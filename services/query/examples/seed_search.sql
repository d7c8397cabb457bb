-- $4-<n> for n in 0..$2: projected events accepted from $1, $3 µs apart,
-- with what support searches by: a correlation id shared by three events,
-- a trace id each, names and JSON bodies with words and a unique reference,
-- and failures (every tenth dead-lettered after two failed attempts, every
-- tenth plus one retrying after a 429, the rest delivered), each with its
-- history. Used by the search tests and `dev/bench console`.
WITH seeded AS (
    INSERT INTO events (id, name, body, event_timestamp, accepted_at, trace_id, correlation_id,
        brand, status, status_generation, status_rank, status_attempt, status_at,
        last_http_status, last_error_kind, last_error_message, delivered_at, updated_at)
    SELECT $4 || '-' || lpad(g::text, 8, '0'),
        (ARRAY['order.created', 'order.paid', 'invoice.sent', 'user.signed_up'])[g % 4 + 1],
        '{"order":' || g || ',"customer":"'
            || (ARRAY['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra',
                      'Barbara Liskov'])[g % 5 + 1]
            || '","ref":"' || md5($4 || g::text) || '"}',
        ts, ts, md5($4 || 'trace' || g::text), $4 || '-corr-' || (g / 3), 'acme',
        f.status, 0, f.rank, f.attempts, ts + interval '150 ms',
        f.http_status, f.kind, f.message,
        CASE WHEN f.status = 'delivered' THEN ts + interval '50 ms' END, ts
    FROM generate_series(0, $2 - 1) AS g,
         LATERAL (SELECT $1 + make_interval(secs => g * $3 / 1e6) AS ts) AS t,
         LATERAL (SELECT
             CASE g % 10 WHEN 0 THEN 'dead_lettered' WHEN 1 THEN 'retrying' ELSE 'delivered' END
                 AS status,
             CASE g % 10 WHEN 0 THEN 2 WHEN 1 THEN 1 ELSE 3 END AS rank,
             CASE g % 10 WHEN 0 THEN 3 ELSE 1 END AS attempts,
             CASE g % 10
                 WHEN 0 THEN (ARRAY['server_error', 'client_error', 'timeout'])[g / 10 % 3 + 1]
                 WHEN 1 THEN 'rate_limited' END AS kind,
             CASE g % 10
                 WHEN 0 THEN (ARRAY[503, 422, NULL])[g / 10 % 3 + 1]
                 WHEN 1 THEN 429 ELSE 200 END AS http_status,
             CASE g % 10 WHEN 0 THEN 'the target refused it' WHEN 1 THEN 'slow down' END
                 AS message) AS f
    RETURNING id, name, body, status, accepted_at, last_http_status, last_error_kind,
        last_error_message
), searchable AS (
    INSERT INTO event_search (id, document)
    SELECT id, name || ' ' || body FROM seeded
)
INSERT INTO event_history (event_id, generation, status, attempt, at, http_status, error_kind,
    error_message, latency_ms)
SELECT id, 0, 'accepted', 0, accepted_at, NULL, NULL, NULL, NULL FROM seeded
UNION ALL
SELECT id, 0, 'delivered', 1, accepted_at + interval '50 ms', 200, NULL, NULL, 40
    FROM seeded WHERE status = 'delivered'
UNION ALL
SELECT id, 0, 'retrying', a, accepted_at + a * interval '50 ms', last_http_status,
        last_error_kind, last_error_message, 30
    FROM seeded, generate_series(1, 2) AS a WHERE status = 'dead_lettered'
UNION ALL
SELECT id, 0, 'retrying', 1, accepted_at + interval '50 ms', 429, 'rate_limited', 'slow down', 30
    FROM seeded WHERE status = 'retrying'
UNION ALL
SELECT id, 0, 'dead_lettered', 3, accepted_at + interval '150 ms', last_http_status,
        last_error_kind, last_error_message, 30
    FROM seeded WHERE status = 'dead_lettered'
