-- Platform: organisations, users, sessions, API tokens, the audit chain.
-- Times are UTC microseconds since the epoch (BIGINT), bound from Rust on both backends.

CREATE TABLE organization (
    id          INTEGER PRIMARY KEY,
    uscc        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_us  BIGINT  NOT NULL
);

CREATE TABLE app_user (
    id               INTEGER PRIMARY KEY,
    username         TEXT    NOT NULL UNIQUE,
    display_name     TEXT    NOT NULL,
    email            TEXT    NOT NULL,
    role             TEXT    NOT NULL,
    organization_id  BIGINT  REFERENCES organization(id),
    password_hash    TEXT    NOT NULL,
    totp_secret      TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    failed_logins    INTEGER NOT NULL DEFAULT 0,
    locked_until_us  BIGINT,
    disabled         INTEGER NOT NULL DEFAULT 0,
    created_us       BIGINT  NOT NULL
);

CREATE TABLE session (
    token_hash   TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES app_user(id),
    csrf_token   TEXT    NOT NULL,
    created_us   BIGINT  NOT NULL,
    expires_us   BIGINT  NOT NULL
);
CREATE INDEX session_by_user ON session(user_id);

CREATE TABLE api_token (
    token_hash   TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES app_user(id),
    label        TEXT    NOT NULL,
    created_us   BIGINT  NOT NULL,
    expires_us   BIGINT  NOT NULL
);

-- The audit chain: each event's hash is SM3(previous hash ‖ canonical event). Append-only.
CREATE TABLE audit_event (
    seq          BIGINT  PRIMARY KEY,
    at_us        BIGINT  NOT NULL,
    actor_id     BIGINT,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    object_type  TEXT    NOT NULL,
    object_id    TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
);
CREATE INDEX audit_event_object ON audit_event(object_type, object_id);

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
