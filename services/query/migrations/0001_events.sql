-- The read model: one row per event with its latest status, and every status
-- it went through. Both are rebuilt from Kafka at will; Kafka is the record.

CREATE TABLE events (
    id                 text        PRIMARY KEY,
    -- From events.raw; NULL until the raw record is projected (a status record
    -- can arrive first: the two topics are not ordered with each other).
    name               text,
    body               text,
    event_timestamp    timestamptz,
    extra              jsonb,
    accepted_at        timestamptz,
    trace_id           text,
    -- From events.status. The status only moves forward, ordered by
    -- (status_generation, status_rank, status_attempt).
    brand              text,
    status             text        NOT NULL,
    status_generation  integer     NOT NULL,
    status_rank        smallint    NOT NULL,
    status_attempt     integer     NOT NULL,
    status_at          timestamptz NOT NULL,
    last_http_status   integer,
    last_error_kind    text,
    last_error_message text,
    delivered_at       timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Listings by status and time, newest first, with the id as keyset tie-break.
CREATE INDEX events_status_accepted_idx ON events (status, accepted_at DESC, id DESC);
CREATE INDEX events_accepted_idx ON events (accepted_at DESC, id DESC);

CREATE TABLE event_history (
    event_id      text        NOT NULL,
    generation    integer     NOT NULL,
    status        text        NOT NULL,
    attempt       integer     NOT NULL,
    at            timestamptz NOT NULL,
    http_status   integer,
    error_kind    text,
    error_message text,
    latency_ms    bigint,
    PRIMARY KEY (event_id, generation, status, attempt)
);
