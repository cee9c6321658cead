-- A case's revision (0038) moves also with the records its page shows beside its parts (issue
-- 14): the evidence filed against its requirements, the judgements of its requirements and of
-- its review areas, its team, the panel's votes, the evaluation's activities, its letters, the
-- paper copy received and its payments. A process keeps them read together by the revision
-- read before them (`cases::records`), so a case page reads the revision and not these nine
-- tables while the case has not changed. The one joined table, `evidence` (a file's name, size
-- and hash), is never updated or deleted.

CREATE TRIGGER case_rev_case_evidence AFTER INSERT OR UPDATE OR DELETE ON case_evidence
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_judgement AFTER INSERT OR UPDATE OR DELETE ON judgement
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_review_area AFTER INSERT OR UPDATE OR DELETE ON review_area
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_case_member AFTER INSERT OR UPDATE OR DELETE ON case_member
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_panel_vote AFTER INSERT OR UPDATE OR DELETE ON panel_vote
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_audit_activity AFTER INSERT OR UPDATE OR DELETE ON audit_activity
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_case_letter AFTER INSERT OR UPDATE OR DELETE ON case_letter
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_paper_copy AFTER INSERT OR UPDATE OR DELETE ON paper_copy
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_payment AFTER INSERT OR UPDATE OR DELETE ON payment
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
