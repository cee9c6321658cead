-- Evidence filed against a requirement of a case (the applicant's portal), the acceptance
-- review's judgement of the five areas (5.2), and the evaluation's audit plan and activities
-- (5.4: document review, interview, practical operation).
CREATE TABLE case_evidence (
    id              INTEGER PRIMARY KEY,
    case_id         BIGINT NOT NULL REFERENCES application_case(id),
    requirement_id  TEXT   NOT NULL,
    evidence_id     BIGINT NOT NULL REFERENCES evidence(id),
    linked_by       BIGINT NOT NULL REFERENCES app_user(id),
    linked_us       BIGINT NOT NULL,
    UNIQUE (case_id, requirement_id, evidence_id)
);

CREATE TABLE review_area (
    id           INTEGER PRIMARY KEY,
    case_id      BIGINT  NOT NULL REFERENCES application_case(id),
    round        INTEGER NOT NULL,
    area         TEXT    NOT NULL,
    sufficient   BOOLEAN NOT NULL,
    opinion      TEXT    NOT NULL,
    reviewer_id  BIGINT  NOT NULL REFERENCES app_user(id),
    at_us        BIGINT  NOT NULL,
    UNIQUE (case_id, round, area)
);

CREATE TABLE audit_activity (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT NOT NULL REFERENCES application_case(id),
    kind          TEXT   NOT NULL,
    held_on       TEXT   NOT NULL,
    notes         TEXT   NOT NULL,
    evidence_ids  TEXT   NOT NULL,
    recorded_by   BIGINT NOT NULL REFERENCES app_user(id),
    at_us         BIGINT NOT NULL
);
CREATE INDEX audit_activity_by_case ON audit_activity(case_id);
CREATE INDEX case_by_created ON application_case(created_us);
