-- The register's year filter (issue 10, guide 5.5) through a range of ids: for each year of
-- issue, the lowest and highest id of a certificate issued in it. A search by part of a name
-- and a year walked the certificates from the newest back to the year (at a million
-- certificates, 8 searches a second); bounded by the year's ids it starts there. Kept by
-- triggers in the transaction that issues a certificate; a bound only widens, so a range
-- always holds every certificate of its year (the year is still checked row by row). Derived
-- data: backups leave it out and a restore rebuilds it through the same triggers.
--
-- The triggers run once per statement over the statement's new rows (a transition table),
-- not once per row: a restore's COPY of a million certificates updates each year once
-- instead of a million times in one transaction (each update of a row already updated in the
-- same transaction walks all its earlier versions).
CREATE TABLE certificate_year (
    year    TEXT    PRIMARY KEY,
    min_id  BIGINT  NOT NULL,
    max_id  BIGINT  NOT NULL
);
INSERT INTO certificate_year (year, min_id, max_id)
    SELECT substr(issued_on, 1, 4), MIN(id), MAX(id) FROM certificate GROUP BY substr(issued_on, 1, 4);

CREATE FUNCTION certificate_year_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO certificate_year (year, min_id, max_id)
        SELECT substr(issued_on, 1, 4), MIN(id), MAX(id) FROM new_rows GROUP BY substr(issued_on, 1, 4)
        ON CONFLICT (year) DO UPDATE SET min_id = LEAST(certificate_year.min_id, EXCLUDED.min_id),
                                         max_id = GREATEST(certificate_year.max_id, EXCLUDED.max_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER certificate_year_insert AFTER INSERT ON certificate
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_year_keep();
CREATE TRIGGER certificate_year_update AFTER UPDATE ON certificate
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_year_keep();

-- A rare status (suspended, revoked) with part of a name: the status's certificates, newest
-- first, each matched by name.
CREATE INDEX certificate_by_status ON certificate(status, id);
