-- A number that changes whenever anything the public register (guide 5.5) shows or searches
-- by changes — a certificate issued, its status, holder, name index — bumped by triggers in
-- the changing transaction (issue 14). A server keeps the register's pages it read with the
-- number it read first, and reads a page again only when the number has moved, so a search
-- asked again (the register's first page, a company looked up by many) reads one row of this
-- table instead of its certificates; every process sees the same number, so none shows a
-- status older than the last one committed. Derived data: backups leave it out.
--
-- The name index (`certificate_name`, a virtual table without triggers) is written only in
-- the transaction that writes its certificate's row, whose trigger bumps the number.
CREATE TABLE register_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO register_version (id, n) VALUES (1, 0);

CREATE TRIGGER register_version_insert AFTER INSERT ON certificate
BEGIN UPDATE register_version SET n = n + 1; END;
CREATE TRIGGER register_version_update AFTER UPDATE ON certificate
BEGIN UPDATE register_version SET n = n + 1; END;
CREATE TRIGGER register_version_delete AFTER DELETE ON certificate
BEGIN UPDATE register_version SET n = n + 1; END;
