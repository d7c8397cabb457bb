-- The console: sessions (a key exchanged once for a cookie), the audit log
-- of every action, and redrives with their events so progress can be shown.
-- None of these is projected from Kafka: a projection rebuild leaves them.

CREATE TABLE console_sessions (
    -- SHA-256 of the cookie's random token: a leaked table opens no session.
    token_hash  bytea       PRIMARY KEY,
    key_name    text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('reader', 'ops')),
    -- Sent in every state-changing form and compared with this.
    csrf_token  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX console_sessions_expiry_idx ON console_sessions (expires_at);

CREATE TABLE console_audit (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    key_name    text        NOT NULL,
    role        text        NOT NULL,
    -- login, logout, redrive, pause, resume, rate, export.
    action      text        NOT NULL,
    -- What was asked for and what happened, as JSON.
    detail      json        NOT NULL,
    -- The preview an action followed, when it followed one.
    preview_id  uuid
);
CREATE INDEX console_audit_at_idx ON console_audit (at DESC, id DESC);

-- A redrive: previewed (the filter and the ids it selected), then confirmed.
CREATE TABLE console_redrives (
    id           uuid        PRIMARY KEY,
    key_name     text        NOT NULL,
    filter       json        NOT NULL,
    previewed_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    -- Events re-published; set when confirmed.
    published    integer
);
CREATE TABLE console_redrive_events (
    redrive_id  uuid    NOT NULL REFERENCES console_redrives (id) ON DELETE CASCADE,
    event_id    text    NOT NULL,
    -- The generation the redrive publishes: progress counts an event done
    -- once its status is of this generation or later, and final.
    generation  integer NOT NULL,
    PRIMARY KEY (redrive_id, event_id)
);

-- The delivery page's per-minute charts of the last hour.
CREATE INDEX events_delivered_at_idx ON events (delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX events_dead_lettered_at_idx ON events (status_at) WHERE status = 'dead_lettered';
