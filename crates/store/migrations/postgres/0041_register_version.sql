-- A number that changes whenever anything the public register (guide 5.5) shows or searches
-- by changes — a certificate issued, its status, holder, name index — bumped by triggers in
-- the changing transaction (issue 14). A server keeps the register's pages it read with the
-- number it read first, and reads a page again only when the number has moved, so a search
-- asked again (the register's first page, a company looked up by many) reads one row of this
-- table instead of its certificates; every server sees the same number, so none shows a status
-- older than the last one committed. Derived data: backups leave it out.
--
-- Certificates are written rarely (a batch's issue, a sanction, a change of name), so
-- writers queuing on this one row cost nothing noticeable; each of them also appends to the
-- audit chain, whose lock they queue on already.
CREATE TABLE register_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO register_version (id, n) VALUES (1, 0);

CREATE FUNCTION register_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_version SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER register_version_certificate AFTER INSERT OR UPDATE OR DELETE ON certificate
    FOR EACH STATEMENT EXECUTE FUNCTION register_version_bump();
