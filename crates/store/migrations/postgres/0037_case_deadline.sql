-- Each open, filed case's deadlines kept with it (issue 14: the staff dashboard and the case
-- list's "overdue" and "due within 15 days" filters computed every open case's clock from its
-- pauses after any change — 253 ms at 70 000 open cases). The store keeps these columns in the
-- transaction that changes the case or its pauses (`cases::keep_deadline`), from the clock's
-- rules in the domain (`clock::standing`, 九.3); closed and unfiled cases have none:
--   due_on     the deadline the case runs against now: the supplement's last day (5.2) while
--              supplementing, the three-month target while the clock runs;
--   clock_due  the three-month target while the clock runs (a fixed day);
--   clock_left the days left to the target while a pause lasts (fixed: the target moves a
--              day each day of the pause).
-- The dashboard's most urgent cases are then the first rows of two indexes and the filters'
-- pages ranges of a third; the counts of overdue and nearly due cases sum the kept count per
-- deadline day (case_due_tally, kept by triggers like case_tally: a row a day, however many
-- cases fall due on it; derived data, left out of backups and rebuilt by a restore's rows).
-- Existing cases are filled by the store at start-up (store task `case_deadline`).
ALTER TABLE application_case ADD COLUMN due_on TEXT;
ALTER TABLE application_case ADD COLUMN clock_due TEXT;
ALTER TABLE application_case ADD COLUMN clock_left INTEGER;
CREATE INDEX case_by_due ON application_case (due_on, id) WHERE due_on IS NOT NULL;
CREATE INDEX case_by_clock_due ON application_case (clock_due, id) WHERE clock_due IS NOT NULL;
CREATE INDEX case_by_clock_left ON application_case (clock_left, id) WHERE clock_left IS NOT NULL;

CREATE TABLE case_due_tally (
    due_on TEXT PRIMARY KEY,
    n      BIGINT NOT NULL
);

CREATE FUNCTION case_due_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.due_on IS NOT NULL THEN
        UPDATE case_due_tally SET n = n - 1 WHERE due_on = OLD.due_on;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.due_on IS NOT NULL THEN
        INSERT INTO case_due_tally (due_on, n) VALUES (NEW.due_on, 1)
            ON CONFLICT (due_on) DO UPDATE SET n = case_due_tally.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER case_due_tally_insert_delete AFTER INSERT OR DELETE ON application_case
    FOR EACH ROW EXECUTE FUNCTION case_due_tally_keep();
CREATE TRIGGER case_due_tally_update AFTER UPDATE OF due_on ON application_case
    FOR EACH ROW WHEN (OLD.due_on IS DISTINCT FROM NEW.due_on)
    EXECUTE FUNCTION case_due_tally_keep();

INSERT INTO store_task (name) VALUES ('case_deadline');
