-- The applicant's name kept with each of its cases (issue 14): the case list showed it by
-- joining `organization` for every page, 50 lookups by key that cost PostgreSQL more than the
-- page's own rows (a page read anew: 0.44–0.52 of SQLite). Kept by triggers in the changing
-- transaction, so that no write path can forget it: a new case (or one moved to another
-- organisation) takes its organisation's name; a renamed organisation renames its cases (the
-- rename already moves `case_version`, migration 0031, so kept list pages are read again).
-- Derived from `organization.name`; a restore's rows carry it and the insert trigger sets it
-- again from the restored organisation.
ALTER TABLE application_case ADD COLUMN org_name TEXT NOT NULL DEFAULT '';
UPDATE application_case a SET org_name = o.name FROM organization o WHERE o.id = a.organization_id;

CREATE FUNCTION case_org_name_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.org_name := (SELECT name FROM organization WHERE id = NEW.organization_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER case_org_name_case BEFORE INSERT OR UPDATE OF organization_id, org_name
    ON application_case FOR EACH ROW EXECUTE FUNCTION case_org_name_own();

CREATE FUNCTION case_org_name_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE application_case SET org_name = NEW.name WHERE organization_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_org_name_organization AFTER UPDATE OF name ON organization
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION case_org_name_rename();
