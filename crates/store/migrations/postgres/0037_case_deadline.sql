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
-- The dashboard's most urgent cases are then the first rows of two indexes, its counts and
-- the filters' pages ranges of a third. Existing cases are filled by the store at start-up
-- (store task `case_deadline`).
ALTER TABLE application_case ADD COLUMN due_on TEXT;
ALTER TABLE application_case ADD COLUMN clock_due TEXT;
ALTER TABLE application_case ADD COLUMN clock_left INTEGER;
CREATE INDEX case_by_due ON application_case (due_on, id) WHERE due_on IS NOT NULL;
CREATE INDEX case_by_clock_due ON application_case (clock_due, id) WHERE clock_due IS NOT NULL;
CREATE INDEX case_by_clock_left ON application_case (clock_left, id) WHERE clock_left IS NOT NULL;
INSERT INTO store_task (name) VALUES ('case_deadline');
