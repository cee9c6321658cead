-- A case's revision (0038) moves also with the records its page shows beside its parts (issue
-- 14): the evidence filed against its requirements, the judgements of its requirements and of
-- its review areas, its team, the panel's votes, the evaluation's activities, its letters, the
-- paper copy received and its payments. A process keeps them read together by the revision
-- read before them (`cases::records`), so a case page reads the revision and not these nine
-- tables while the case has not changed. The one joined table, `evidence` (a file's name, size
-- and hash), is never updated or deleted.

CREATE TRIGGER case_rev_case_evidence_insert AFTER INSERT ON case_evidence
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_case_evidence_update AFTER UPDATE ON case_evidence
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_case_evidence_delete AFTER DELETE ON case_evidence
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_judgement_insert AFTER INSERT ON judgement
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_judgement_update AFTER UPDATE ON judgement
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_judgement_delete AFTER DELETE ON judgement
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_review_area_insert AFTER INSERT ON review_area
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_review_area_update AFTER UPDATE ON review_area
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_review_area_delete AFTER DELETE ON review_area
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_case_member_insert AFTER INSERT ON case_member
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_case_member_update AFTER UPDATE ON case_member
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_case_member_delete AFTER DELETE ON case_member
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_panel_vote_insert AFTER INSERT ON panel_vote
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_panel_vote_update AFTER UPDATE ON panel_vote
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_panel_vote_delete AFTER DELETE ON panel_vote
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_audit_activity_insert AFTER INSERT ON audit_activity
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_audit_activity_update AFTER UPDATE ON audit_activity
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_audit_activity_delete AFTER DELETE ON audit_activity
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_case_letter_insert AFTER INSERT ON case_letter
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_case_letter_update AFTER UPDATE ON case_letter
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_case_letter_delete AFTER DELETE ON case_letter
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_paper_copy_insert AFTER INSERT ON paper_copy
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_paper_copy_update AFTER UPDATE ON paper_copy
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_paper_copy_delete AFTER DELETE ON paper_copy
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_payment_insert AFTER INSERT ON payment
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_payment_update AFTER UPDATE ON payment
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_payment_delete AFTER DELETE ON payment
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;
