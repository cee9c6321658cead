-- A number that changes whenever anything the public register (guide 5.5) shows or searches
-- by changes — a certificate issued, its status, holder, name index — bumped by triggers in
-- the changing transaction (issue 14). A server keeps the register's pages it read with the
-- number it read first, and reads a page again only when the number has moved, so a search
-- asked again (the register's first page, a company looked up by many) reads one row of this
-- table instead of its certificates; every server sees the same number, so none shows a status
-- older than the last one committed. Derived data: backups leave it out.
--
-- The bump waits until the transaction commits (a deferred constraint trigger): the row is
-- then the last thing the transaction locks. Transactions that write certificates also take
-- the audit chain's lock (`store::audit::append`) and the cases' kept counts, in different
-- orders (an appeal reopens a case, appends, then restores a certificate; an issue writes
-- the certificate, then the case, then appends); taking this row at the certificate's write
-- could leave two of them each waiting for the other. Certificates are written rarely, so
-- writers queuing on this one row at their commit cost nothing noticeable.
CREATE TABLE register_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO register_version (id, n) VALUES (1, 0);

-- A constraint trigger runs for each row; the number moves once a transaction (a setting local
-- to it remembers that it has): a restore's million certificates would otherwise update the
-- row a million times in one transaction, each update walking the row's earlier versions.
CREATE FUNCTION register_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('zizhi.register_version_bumped', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('zizhi.register_version_bumped', 'yes', true);
    UPDATE register_version SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER register_version_certificate
    AFTER INSERT OR UPDATE OR DELETE ON certificate
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION register_version_bump();
