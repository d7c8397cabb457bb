-- Export jobs: asked for over HTTP, run by whichever query replica claims
-- them (FOR UPDATE SKIP LOCKED). A started job whose heartbeat is older than
-- the lease is taken over; after its second attempt it fails for good.
CREATE TABLE export_jobs (
    id            uuid        PRIMARY KEY,
    from_at       timestamptz NOT NULL,
    to_at         timestamptz NOT NULL,
    status_filter text,
    format        text        NOT NULL CHECK (format IN ('ndjson', 'csv')),
    state         text        NOT NULL DEFAULT 'not_started'
                              CHECK (state IN ('not_started', 'started', 'finished', 'failed')),
    attempts      integer     NOT NULL DEFAULT 0,
    rows          bigint      NOT NULL DEFAULT 0,
    bytes         bigint      NOT NULL DEFAULT 0,
    object_key    text,
    error         text,
    worker        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    heartbeat_at  timestamptz,
    finished_at   timestamptz,
    expires_at    timestamptz,
    CHECK (from_at < to_at)
);

-- Workers look only at jobs not yet over, oldest first.
CREATE INDEX export_jobs_open_idx ON export_jobs (created_at) WHERE state IN ('not_started', 'started');
-- GET /exports lists the newest first.
CREATE INDEX export_jobs_created_idx ON export_jobs (created_at DESC, id DESC);
