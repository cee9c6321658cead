-- A case's own revision (issue 14): a number that moves whenever the case or any of the parts
-- its page shows — pauses, submission rounds, transitions — changes, bumped by triggers in the
-- changing transaction so that no write path can forget it. A process keeps a case's parts
-- it has read with the revision it read (`cases::with_parts`); a request reads the revision
-- alone (one row by its key) and reads the parts again only when it has moved, so every
-- server sharing the database sees every change on its next request.
ALTER TABLE application_case ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;

-- Any other change of the case's row. The WHEN keeps the trigger's own update from firing it
-- again (and a part's bump, which moves rev itself, from counting twice).
CREATE TRIGGER case_rev_case AFTER UPDATE ON application_case WHEN NEW.rev = OLD.rev
BEGIN UPDATE application_case SET rev = OLD.rev + 1 WHERE id = NEW.id; END;

CREATE TRIGGER case_rev_pause_insert AFTER INSERT ON case_pause
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_pause_update AFTER UPDATE ON case_pause
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_pause_delete AFTER DELETE ON case_pause
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_round_insert AFTER INSERT ON case_round
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_round_update AFTER UPDATE ON case_round
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_round_delete AFTER DELETE ON case_round
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;

CREATE TRIGGER case_rev_transition_insert AFTER INSERT ON case_transition
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = NEW.case_id; END;
CREATE TRIGGER case_rev_transition_update AFTER UPDATE ON case_transition
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id IN (OLD.case_id, NEW.case_id); END;
CREATE TRIGGER case_rev_transition_delete AFTER DELETE ON case_transition
BEGIN UPDATE application_case SET rev = rev + 1 WHERE id = OLD.case_id; END;
