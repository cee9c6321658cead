-- Renewal reminders and expiry (四, issue 11): each reminder of a certificate is sent once (the
-- scheduled job is idempotent); certificates are found by their last valid day.
CREATE TABLE certificate_reminder (
    certificate_id  BIGINT  NOT NULL REFERENCES certificate(id),
    kind            TEXT    NOT NULL,
    sent_on         TEXT    NOT NULL,
    PRIMARY KEY (certificate_id, kind)
);
CREATE INDEX certificate_by_valid_until ON certificate(valid_until);
CREATE INDEX certificate_by_organization ON certificate(organization_id, id);

-- A certificate past its last valid day is marked expired (过期) by the scheduled job.
ALTER TABLE certificate DROP CONSTRAINT certificate_status_check;
ALTER TABLE certificate ADD CONSTRAINT certificate_status_check CHECK (status IN ('valid', 'suspended', 'revoked', 'expired'));
