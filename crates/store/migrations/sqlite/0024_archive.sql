-- The project archive (档案, guide 八; issue 12): a closed case's file is kept six years (the
-- centre's retention_years) from the day it was archived; disposal after that needs two people.
CREATE TABLE archive_record (
    case_id        BIGINT  PRIMARY KEY REFERENCES application_case(id),
    archived_on    TEXT    NOT NULL,
    retain_until   TEXT    NOT NULL,
    disposal_id    BIGINT,
    disposed_on    TEXT,
    created_us     BIGINT  NOT NULL
);
CREATE INDEX archive_record_by_retention ON archive_record(retain_until);

-- A hold a supervisor places on a case's records, with the reason; released with a reason.
CREATE TABLE legal_hold (
    id             INTEGER PRIMARY KEY,
    case_id        BIGINT  NOT NULL REFERENCES application_case(id),
    reason         TEXT    NOT NULL,
    placed_by      BIGINT  NOT NULL REFERENCES app_user(id),
    placed_on      TEXT    NOT NULL,
    released_by    BIGINT  REFERENCES app_user(id),
    released_on    TEXT,
    release_note   TEXT    NOT NULL DEFAULT '',
    created_us     BIGINT  NOT NULL
);
CREATE INDEX legal_hold_by_case ON legal_hold(case_id, id);

-- A disposal: the due cases a supervisor lists, an approver's decision, and once carried out
-- what was destroyed (case numbers, holders, object hashes) as JSON.
CREATE TABLE disposal (
    id             INTEGER PRIMARY KEY,
    case_ids       TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    proposed_by    BIGINT  NOT NULL REFERENCES app_user(id),
    proposed_on    TEXT    NOT NULL,
    decided_by     BIGINT  REFERENCES app_user(id),
    decided_on     TEXT,
    note           TEXT    NOT NULL DEFAULT '',
    destroyed      TEXT    NOT NULL DEFAULT '[]',
    created_us     BIGINT  NOT NULL
);
