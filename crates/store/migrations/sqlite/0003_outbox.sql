-- The outbox: e-mail written in the same transaction as the change that causes it, delivered
-- by a background worker that claims due messages.
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY,
    recipient         TEXT    NOT NULL,
    subject           TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_us   BIGINT  NOT NULL,
    claimed_by        TEXT,
    claimed_until_us  BIGINT,
    message_id        TEXT,
    last_error        TEXT,
    created_us        BIGINT  NOT NULL,
    sent_us           BIGINT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_us);
