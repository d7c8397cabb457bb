-- Records the projector could not project: ones that do not decode, and ones
-- Postgres refuses for a reason a retry cannot mend (a data exception, a
-- constraint, a value over a limit). Each is kept whole with where it was
-- read and why, so nothing is skipped silently and the records around it are
-- projected. A replay of the same record finds its row already there.
CREATE TABLE projection_quarantine (
    topic          text        NOT NULL,
    partition      integer     NOT NULL,
    record_offset  bigint      NOT NULL,
    -- The event's id when the record decoded (first 200 characters).
    event_id       text,
    -- 'unreadable' (did not decode) or 'refused' (Postgres refused it).
    reason         text        NOT NULL,
    error          text        NOT NULL,
    record         bytea       NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, record_offset)
);
