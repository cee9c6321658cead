-- Sanctions (处置, guide 六) against a certificate holder (issue 11): the measure, why, who
-- proposed and who confirmed it, the rectification deadline and where it stands
-- (domain::sanction::SanctionState).
CREATE TABLE sanction (
    id              INTEGER PRIMARY KEY,
    certificate_id  BIGINT  NOT NULL REFERENCES certificate(id),
    measure         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    violation       TEXT    NOT NULL,
    evidence        TEXT    NOT NULL,
    reasoning       TEXT    NOT NULL,
    proposed_by     BIGINT  NOT NULL REFERENCES app_user(id),
    proposed_on     TEXT    NOT NULL,
    decided_by      BIGINT  REFERENCES app_user(id),
    decided_on      TEXT,
    decision_note   TEXT    NOT NULL DEFAULT '',
    rectification_days INTEGER,
    rectify_by      TEXT,
    overdue_noted   BOOLEAN NOT NULL DEFAULT FALSE,
    closed_on       TEXT,
    created_us      BIGINT  NOT NULL
);
CREATE INDEX sanction_by_certificate ON sanction(certificate_id, id);
CREATE INDEX sanction_by_state ON sanction(state, id);

-- What the holder sent to rectify (整改情况 and evidence from its file) and the supervisor's
-- verdict on it. A rejected one stays; the holder sends another.
CREATE TABLE rectification (
    id            INTEGER PRIMARY KEY,
    sanction_id   BIGINT  NOT NULL REFERENCES sanction(id),
    submitted_by  BIGINT  NOT NULL REFERENCES app_user(id),
    submitted_on  TEXT    NOT NULL,
    account       TEXT    NOT NULL,
    evidence_ids  TEXT    NOT NULL,
    verdict       TEXT,
    verdict_by    BIGINT  REFERENCES app_user(id),
    verdict_on    TEXT,
    verdict_note  TEXT    NOT NULL DEFAULT '',
    created_us    BIGINT  NOT NULL
);
CREATE INDEX rectification_by_sanction ON rectification(sanction_id, id);

-- Every change of a certificate's public status after its issue (suspended, valid again,
-- revoked), with the sanction that made it: the certificate page's history.
CREATE TABLE certificate_status_event (
    id              INTEGER PRIMARY KEY,
    certificate_id  BIGINT  NOT NULL REFERENCES certificate(id),
    on_date         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    sanction_id     BIGINT  REFERENCES sanction(id),
    created_us      BIGINT  NOT NULL
);
CREATE INDEX certificate_status_event_by_certificate ON certificate_status_event(certificate_id, id);

-- How many times the status changed after issue: the verification page reads the history only
-- when there is one.
ALTER TABLE certificate ADD COLUMN status_changes INTEGER NOT NULL DEFAULT 0;
