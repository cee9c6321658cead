-- A number that changes whenever anything the staff dashboard shows changes — a case, its
-- clock's pauses, an applicant's name — bumped by triggers in the changing transaction
-- (issue 14). The dashboard keeps what it computed with the number it read and computes again
-- only when the number has moved (or the day has), so a dashboard request does not read every
-- open case; every server sees the same number, so none shows an out-of-date dashboard.
-- Derived data: backups leave it out.
CREATE TABLE case_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO case_version (id, n) VALUES (1, 0);

CREATE TRIGGER case_version_case_insert AFTER INSERT ON application_case
BEGIN UPDATE case_version SET n = n + 1; END;
CREATE TRIGGER case_version_case_update AFTER UPDATE ON application_case
BEGIN UPDATE case_version SET n = n + 1; END;
CREATE TRIGGER case_version_case_delete AFTER DELETE ON application_case
BEGIN UPDATE case_version SET n = n + 1; END;
CREATE TRIGGER case_version_pause_insert AFTER INSERT ON case_pause
BEGIN UPDATE case_version SET n = n + 1; END;
CREATE TRIGGER case_version_pause_update AFTER UPDATE ON case_pause
BEGIN UPDATE case_version SET n = n + 1; END;
CREATE TRIGGER case_version_pause_delete AFTER DELETE ON case_pause
BEGIN UPDATE case_version SET n = n + 1; END;
CREATE TRIGGER case_version_organization_name AFTER UPDATE OF name ON organization
BEGIN UPDATE case_version SET n = n + 1; END;
