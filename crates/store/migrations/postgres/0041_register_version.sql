-- A number that changes whenever anything the public register (guide 5.5) shows or searches
-- by changes — a certificate issued, its status, holder, name index — bumped by triggers in
-- the changing transaction (issue 14). A server keeps the register's pages it read with the
-- number it read first, and reads a page again only when the number has moved, so a search
-- asked again (the register's first page, a company looked up by many) reads one row of this
-- table instead of its certificates; every server sees the same number, so none shows a status
-- older than the last one committed. Derived data: backups leave it out.
--
-- Certificates are written rarely (a batch's issue, a sanction, an expiry), so writers
-- queuing on this one row cost nothing noticeable. Each of them also appends to the audit chain
-- (`store::audit::append` locks its table), some before writing a certificate (an appeal that
-- reopens a case, then restores a certificate), some after (a batch's issue): taking the row
-- without the chain's lock could leave two such transactions each waiting for the other's.
-- So the bump takes the chain's lock first — always in that order — and does so before the
-- statement locks any certificate's row (a statement trigger BEFORE it).
CREATE TABLE register_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO register_version (id, n) VALUES (1, 0);

CREATE FUNCTION register_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE audit_event IN SHARE ROW EXCLUSIVE MODE;
    UPDATE register_version SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER register_version_certificate BEFORE INSERT OR UPDATE OR DELETE ON certificate
    FOR EACH STATEMENT EXECUTE FUNCTION register_version_bump();
