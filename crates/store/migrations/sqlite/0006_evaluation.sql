-- Evaluation (评估, 5.4) and expert review (专家评审): the team, a judgement per requirement,
-- the audit conclusion, the panel's votes, and the dossier hash fixed with the conclusion.
CREATE TABLE case_member (
    id        INTEGER PRIMARY KEY,
    case_id   BIGINT NOT NULL REFERENCES application_case(id),
    user_id   BIGINT NOT NULL REFERENCES app_user(id),
    duty      TEXT   NOT NULL,
    UNIQUE (case_id, user_id)
);

CREATE TABLE judgement (
    id              INTEGER PRIMARY KEY,
    case_id         BIGINT NOT NULL REFERENCES application_case(id),
    requirement_id  TEXT   NOT NULL,
    verdict         TEXT   NOT NULL,
    rationale       TEXT   NOT NULL,
    evidence_ids    TEXT   NOT NULL,
    assessor_id     BIGINT NOT NULL REFERENCES app_user(id),
    at_us           BIGINT NOT NULL,
    UNIQUE (case_id, requirement_id)
);

CREATE TABLE panel_vote (
    id         INTEGER PRIMARY KEY,
    case_id    BIGINT NOT NULL REFERENCES application_case(id),
    expert_id  BIGINT NOT NULL REFERENCES app_user(id),
    vote       TEXT   NOT NULL,
    opinion    TEXT   NOT NULL,
    round      INTEGER NOT NULL,
    at_us      BIGINT NOT NULL,
    UNIQUE (case_id, expert_id, round)
);

ALTER TABLE application_case ADD COLUMN lead_id BIGINT;
ALTER TABLE application_case ADD COLUMN audit_conclusion TEXT;
ALTER TABLE application_case ADD COLUMN dossier_hash TEXT;
ALTER TABLE application_case ADD COLUMN review_round INTEGER NOT NULL DEFAULT 0;
