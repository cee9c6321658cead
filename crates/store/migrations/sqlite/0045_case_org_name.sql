-- The applicant's name kept with each of its cases (issue 14): the case list showed it by
-- joining `organization` for every page, 50 lookups by key that cost PostgreSQL more than the
-- page's own rows (a page read anew: 0.44–0.52 of SQLite); one list statement serves both
-- databases, so SQLite reads it from the case too. Kept by triggers in the changing
-- transaction, so that no write path can forget it: a new case (or one moved to another
-- organisation, or whose name was written by hand) takes its organisation's name — the store's
-- insert already writes it, so the trigger's update runs only for a path that did not; a
-- renamed organisation renames its cases (the rename already moves `case_version`, migration
-- 0031, so kept list pages are read again). Derived from `organization.name`.
ALTER TABLE application_case ADD COLUMN org_name TEXT NOT NULL DEFAULT '';
UPDATE application_case
   SET org_name = (SELECT name FROM organization o WHERE o.id = application_case.organization_id);

CREATE TRIGGER case_org_name_insert AFTER INSERT ON application_case
    WHEN NEW.org_name IS NOT (SELECT name FROM organization WHERE id = NEW.organization_id)
BEGIN
    UPDATE application_case SET org_name = (SELECT name FROM organization WHERE id = NEW.organization_id)
     WHERE id = NEW.id;
END;
CREATE TRIGGER case_org_name_case AFTER UPDATE OF organization_id, org_name ON application_case
    WHEN NEW.org_name IS NOT (SELECT name FROM organization WHERE id = NEW.organization_id)
BEGIN
    UPDATE application_case SET org_name = (SELECT name FROM organization WHERE id = NEW.organization_id)
     WHERE id = NEW.id;
END;
CREATE TRIGGER case_org_name_organization AFTER UPDATE OF name ON organization
    WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE application_case SET org_name = NEW.name WHERE organization_id = NEW.id;
END;
