-- Cases (one application = one project, guide §五): the current stage, the applicant's facts,
-- the immutable submission rounds, every transition, and the pauses of the project clock.
CREATE TABLE application_case (
    id                 INTEGER PRIMARY KEY,
    organization_id    BIGINT  NOT NULL REFERENCES organization(id),
    category           TEXT    NOT NULL,
    level              INTEGER NOT NULL,
    kind               TEXT    NOT NULL,
    stage              TEXT    NOT NULL,
    profile            TEXT    NOT NULL,
    paper_received_us  BIGINT,
    filed_on           TEXT,
    supplement_due     TEXT,
    closed_on          TEXT,
    created_by         BIGINT  NOT NULL REFERENCES app_user(id),
    created_us         BIGINT  NOT NULL
);
CREATE INDEX case_by_organization ON application_case(organization_id);
CREATE INDEX case_by_stage ON application_case(stage);

CREATE TABLE case_round (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT  NOT NULL REFERENCES application_case(id),
    round         INTEGER NOT NULL,
    profile       TEXT    NOT NULL,
    assessment    TEXT    NOT NULL,
    submitted_by  BIGINT  NOT NULL REFERENCES app_user(id),
    submitted_us  BIGINT  NOT NULL,
    UNIQUE (case_id, round)
);

CREATE TABLE case_transition (
    id          INTEGER PRIMARY KEY,
    case_id     BIGINT  NOT NULL REFERENCES application_case(id),
    transition  TEXT    NOT NULL,
    from_stage  TEXT    NOT NULL,
    to_stage    TEXT    NOT NULL,
    actor_id    BIGINT,
    note        TEXT    NOT NULL,
    at_us       BIGINT  NOT NULL
);
CREATE INDEX case_transition_by_case ON case_transition(case_id);

CREATE TABLE case_pause (
    id        INTEGER PRIMARY KEY,
    case_id   BIGINT  NOT NULL REFERENCES application_case(id),
    start_on  TEXT    NOT NULL,
    end_on    TEXT
);
CREATE INDEX case_pause_by_case ON case_pause(case_id);
