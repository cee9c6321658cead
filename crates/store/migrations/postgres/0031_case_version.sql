-- A number that changes whenever anything the staff dashboard shows changes — a case, its
-- clock's pauses, an applicant's name — bumped by triggers in the changing transaction
-- (issue 14). The dashboard keeps what it computed with the number it read and computes again
-- only when the number has moved (or the day has), so a dashboard request does not read every
-- open case; every server sees the same number, so none shows an out-of-date dashboard.
-- Derived data: backups leave it out. (Case changes already queue on the audit chain's lock,
-- so the one row adds no waiting of its own.)
CREATE TABLE case_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO case_version (id, n) VALUES (1, 0);

CREATE FUNCTION case_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE case_version SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER case_version_case AFTER INSERT OR UPDATE OR DELETE ON application_case
    FOR EACH STATEMENT EXECUTE FUNCTION case_version_bump();
CREATE TRIGGER case_version_pause AFTER INSERT OR UPDATE OR DELETE ON case_pause
    FOR EACH STATEMENT EXECUTE FUNCTION case_version_bump();
CREATE TRIGGER case_version_organization_name AFTER UPDATE OF name ON organization
    FOR EACH STATEMENT EXECUTE FUNCTION case_version_bump();
