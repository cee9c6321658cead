-- The case tallies (migrations 0030, 0037) move a case from one row to another: the old
-- stage's (or deadline day's) row down, the new one's up. Taken in that order, two cases
-- moving in opposite directions at once (one from review to supplementing, one back) each
-- held the row the other wanted next, and PostgreSQL ended one of them (deadlock, 40P01).
-- Now an update first makes sure the new row exists, then locks both rows in key order, and
-- only then counts: whichever takes the first row goes on, the other waits before holding
-- anything of the table. (SQLite has one writer at a time: its migration 0043 is a no-op.)
CREATE OR REPLACE FUNCTION case_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO case_tally (stage, is_open, n) VALUES (NEW.stage, NEW.closed_on IS NULL, 0)
            ON CONFLICT (stage, is_open) DO NOTHING;
        PERFORM 1 FROM case_tally
            WHERE (stage, is_open) IN ((OLD.stage, OLD.closed_on IS NULL),
                                       (NEW.stage, NEW.closed_on IS NULL))
            ORDER BY stage, is_open FOR UPDATE;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE case_tally SET n = n - 1 WHERE stage = OLD.stage AND is_open = (OLD.closed_on IS NULL);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO case_tally (stage, is_open, n) VALUES (NEW.stage, NEW.closed_on IS NULL, 1)
            ON CONFLICT (stage, is_open) DO UPDATE SET n = case_tally.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION case_due_tally_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.due_on IS NOT NULL AND NEW.due_on IS NOT NULL THEN
        INSERT INTO case_due_tally (due_on, n) VALUES (NEW.due_on, 0)
            ON CONFLICT (due_on) DO NOTHING;
        PERFORM 1 FROM case_due_tally WHERE due_on IN (OLD.due_on, NEW.due_on)
            ORDER BY due_on FOR UPDATE;
    END IF;
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
