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
DROP TRIGGER certificate_status_check_insert;
DROP TRIGGER certificate_status_check_update;
CREATE TRIGGER certificate_status_check_insert BEFORE INSERT ON certificate
WHEN NEW.status NOT IN ('valid', 'suspended', 'revoked', 'expired')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: certificate.status'); END;
CREATE TRIGGER certificate_status_check_update BEFORE UPDATE ON certificate
WHEN NEW.status NOT IN ('valid', 'suspended', 'revoked', 'expired')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: certificate.status'); END;
