-- The register's year filter (issue 10, guide 5.5) through a range of ids: for each year of
-- issue, the lowest and highest id of a certificate issued in it. A search by part of a name
-- and a year walked the name index from the newest certificate back to the year (at a million
-- certificates, 84 searches a second on SQLite, 8 on PostgreSQL); bounded by the year's ids it
-- starts there. Kept by triggers in the transaction that issues a certificate; a bound only
-- widens, so a range always holds every certificate of its year (the year is still checked
-- row by row). Derived data: backups leave it out and a restore rebuilds it through the same
-- triggers.
CREATE TABLE certificate_year (
    year    TEXT    PRIMARY KEY,
    min_id  INTEGER NOT NULL,
    max_id  INTEGER NOT NULL
);
INSERT INTO certificate_year (year, min_id, max_id)
    SELECT substr(issued_on, 1, 4), MIN(id), MAX(id) FROM certificate GROUP BY substr(issued_on, 1, 4);

CREATE TRIGGER certificate_year_insert AFTER INSERT ON certificate
BEGIN
    INSERT INTO certificate_year (year, min_id, max_id) VALUES (substr(NEW.issued_on, 1, 4), NEW.id, NEW.id)
        ON CONFLICT (year) DO UPDATE SET min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id);
END;

CREATE TRIGGER certificate_year_update AFTER UPDATE OF issued_on ON certificate
BEGIN
    INSERT INTO certificate_year (year, min_id, max_id) VALUES (substr(NEW.issued_on, 1, 4), NEW.id, NEW.id)
        ON CONFLICT (year) DO UPDATE SET min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id);
END;

-- A rare status (suspended, revoked) with part of a name: the status's certificates, newest
-- first, each matched by name.
CREATE INDEX certificate_by_status ON certificate(status, id);
