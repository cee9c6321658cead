-- Appeals (申诉, guide 七, issue 11): against a non-acceptance, a failed expert review or a
-- sanction; an investigator who took no part concludes upheld or overturned.
CREATE TABLE appeal (
    id               INTEGER PRIMARY KEY,
    organization_id  BIGINT  NOT NULL REFERENCES organization(id),
    subject          TEXT    NOT NULL,
    case_id          BIGINT  REFERENCES application_case(id),
    sanction_id      BIGINT  REFERENCES sanction(id),
    grounds          TEXT    NOT NULL,
    evidence_ids     TEXT    NOT NULL,
    filed_by         BIGINT  NOT NULL REFERENCES app_user(id),
    filed_on         TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    investigator_id  BIGINT  REFERENCES app_user(id),
    assigned_by      BIGINT  REFERENCES app_user(id),
    findings         TEXT    NOT NULL DEFAULT '',
    reopened_at      TEXT,
    concluded_on     TEXT,
    created_us       BIGINT  NOT NULL
);
CREATE INDEX appeal_by_case ON appeal(case_id);
CREATE INDEX appeal_by_sanction ON appeal(sanction_id);
CREATE INDEX appeal_by_organization ON appeal(organization_id, id);

-- A panel stood down when an appeal reopens a case for a fresh one: its members stay on record
-- (and may not sit again on that case) but no longer count.
ALTER TABLE case_member ADD COLUMN released BOOLEAN NOT NULL DEFAULT FALSE;
