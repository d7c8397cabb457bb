-- The overdue sweeper's record of what it did: which events it published
-- again (once each, ever) and which then overran a second time. It is the
-- sweeper's own decision log, not a projection of Kafka, so a rebuild keeps
-- it and nothing is swept twice.
CREATE TABLE event_sweeps (
    event_id          text        PRIMARY KEY,
    -- The generation the sweep published.
    generation        integer     NOT NULL,
    swept_at          timestamptz NOT NULL,
    -- Set when the event was still not final one overdue limit after its sweep.
    overdue_failed_at timestamptz
);

-- Unfinished events by acceptance time: the sweeper's and the overdue
-- listing's only access path. Few rows (most events end within seconds), so
-- counting them every sweep is cheap at any table size.
CREATE INDEX events_unfinished_accepted_idx ON events (accepted_at, id)
    WHERE status IN ('accepted', 'retrying');
