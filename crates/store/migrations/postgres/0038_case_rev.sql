-- A case's own revision (issue 14): a number that moves whenever the case or any of the parts
-- its page shows — pauses, submission rounds, transitions — changes, bumped by triggers in the
-- changing transaction so that no write path can forget it. A process keeps a case's parts
-- it has read with the revision it read (`cases::with_parts`); a request reads the revision
-- alone (one row by its key) and reads the parts again only when it has moved, so every
-- server sharing the database sees every change on its next request.
ALTER TABLE application_case ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;

-- Any change of the case's row, a part's bump included, moves it by one.
CREATE FUNCTION case_rev_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.rev := OLD.rev + 1;
    RETURN NEW;
END
$$;
CREATE TRIGGER case_rev_case BEFORE UPDATE ON application_case
    FOR EACH ROW EXECUTE FUNCTION case_rev_own();

CREATE FUNCTION case_rev_part() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.case_id <> OLD.case_id) THEN
        UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_rev_pause AFTER INSERT OR UPDATE OR DELETE ON case_pause
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_round AFTER INSERT OR UPDATE OR DELETE ON case_round
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
CREATE TRIGGER case_rev_transition AFTER INSERT OR UPDATE OR DELETE ON case_transition
    FOR EACH ROW EXECUTE FUNCTION case_rev_part();
