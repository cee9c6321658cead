-- The case core (issue 8): the panel's chair, declared conflicts of interest, the applicant
-- organisation's 申请书 facts, and CHECK constraints on the enum-like columns (expand only:
-- every value written so far is allowed).
ALTER TABLE case_member ADD COLUMN chair INTEGER NOT NULL DEFAULT 0;

CREATE TABLE conflict_of_interest (
    id               INTEGER PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES app_user(id),
    organization_id  BIGINT NOT NULL REFERENCES organization(id),
    reason           TEXT   NOT NULL,
    declared_by      BIGINT NOT NULL REFERENCES app_user(id),
    declared_us      BIGINT NOT NULL,
    UNIQUE (user_id, organization_id)
);

ALTER TABLE organization ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE organization ADD COLUMN legal_representative TEXT NOT NULL DEFAULT '';
ALTER TABLE organization ADD COLUMN contact_person TEXT NOT NULL DEFAULT '';
ALTER TABLE organization ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE organization ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';

-- SQLite cannot add a CHECK to an existing table; triggers refuse the same rows.
CREATE TRIGGER application_case_stage_check_insert BEFORE INSERT ON application_case
WHEN NEW.stage NOT IN ('draft', 'submitted', 'acceptance_review', 'supplementing', 'lapsed', 'agreement_drafting', 'agreement_sent', 'agreement_signed', 'agreement_effective', 'evaluation', 'expert_review', 'certification', 'certified', 'not_accepted', 'failed', 'terminated', 'withdrawn')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: application_case.stage'); END;
CREATE TRIGGER application_case_stage_check_update BEFORE UPDATE ON application_case
WHEN NEW.stage NOT IN ('draft', 'submitted', 'acceptance_review', 'supplementing', 'lapsed', 'agreement_drafting', 'agreement_sent', 'agreement_signed', 'agreement_effective', 'evaluation', 'expert_review', 'certification', 'certified', 'not_accepted', 'failed', 'terminated', 'withdrawn')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: application_case.stage'); END;
CREATE TRIGGER application_case_kind_check_insert BEFORE INSERT ON application_case
WHEN NEW.kind NOT IN ('initial', 'maintenance')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: application_case.kind'); END;
CREATE TRIGGER application_case_kind_check_update BEFORE UPDATE ON application_case
WHEN NEW.kind NOT IN ('initial', 'maintenance')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: application_case.kind'); END;
CREATE TRIGGER case_member_duty_check_insert BEFORE INSERT ON case_member
WHEN NEW.duty NOT IN ('assessor', 'expert')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: case_member.duty'); END;
CREATE TRIGGER case_member_duty_check_update BEFORE UPDATE ON case_member
WHEN NEW.duty NOT IN ('assessor', 'expert')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: case_member.duty'); END;
CREATE TRIGGER panel_vote_vote_check_insert BEFORE INSERT ON panel_vote
WHEN NEW.vote NOT IN ('pass', 'fail', 'return')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: panel_vote.vote'); END;
CREATE TRIGGER panel_vote_vote_check_update BEFORE UPDATE ON panel_vote
WHEN NEW.vote NOT IN ('pass', 'fail', 'return')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: panel_vote.vote'); END;
CREATE TRIGGER judgement_verdict_check_insert BEFORE INSERT ON judgement
WHEN NEW.verdict NOT IN ('conform', 'partial', 'nonconform', 'not_applicable')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: judgement.verdict'); END;
CREATE TRIGGER judgement_verdict_check_update BEFORE UPDATE ON judgement
WHEN NEW.verdict NOT IN ('conform', 'partial', 'nonconform', 'not_applicable')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: judgement.verdict'); END;
CREATE TRIGGER certificate_batch_status_check_insert BEFORE INSERT ON certificate_batch
WHEN NEW.status NOT IN ('open', 'approved', 'issued')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: certificate_batch.status'); END;
CREATE TRIGGER certificate_batch_status_check_update BEFORE UPDATE ON certificate_batch
WHEN NEW.status NOT IN ('open', 'approved', 'issued')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: certificate_batch.status'); END;
CREATE TRIGGER certificate_status_check_insert BEFORE INSERT ON certificate
WHEN NEW.status NOT IN ('valid', 'suspended', 'revoked')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: certificate.status'); END;
CREATE TRIGGER certificate_status_check_update BEFORE UPDATE ON certificate
WHEN NEW.status NOT IN ('valid', 'suspended', 'revoked')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: certificate.status'); END;
CREATE TRIGGER audit_activity_kind_check_insert BEFORE INSERT ON audit_activity
WHEN NEW.kind NOT IN ('plan', 'document_review', 'interview', 'practical_operation')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: audit_activity.kind'); END;
CREATE TRIGGER audit_activity_kind_check_update BEFORE UPDATE ON audit_activity
WHEN NEW.kind NOT IN ('plan', 'document_review', 'interview', 'practical_operation')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: audit_activity.kind'); END;
CREATE TRIGGER review_area_area_check_insert BEFORE INSERT ON review_area
WHEN NEW.area NOT IN ('formal_conformity', 'basic_qualification', 'basic_capability', 'process_capability', 'organisational_management')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: review_area.area'); END;
CREATE TRIGGER review_area_area_check_update BEFORE UPDATE ON review_area
WHEN NEW.area NOT IN ('formal_conformity', 'basic_qualification', 'basic_capability', 'process_capability', 'organisational_management')
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: review_area.area'); END;
