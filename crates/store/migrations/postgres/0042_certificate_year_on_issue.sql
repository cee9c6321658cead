-- The register's year ranges (migration 0033) widen only when a certificate is issued or its
-- day of issue changes — as on SQLite, whose trigger is `AFTER UPDATE OF issued_on`. Here the
-- update trigger ran for any update of a certificate (PostgreSQL allows no column list with a
-- transition table) and wrote its year's row each time, so a status change (a suspension, an
-- appeal restoring a certificate, an expiry) locked the row that an issue in the same year
-- locks too. An appeal (its case, the audit chain, then the certificate's status) and an issue
-- (the certificate, then its case and the chain) could then each wait for the other, and
-- PostgreSQL failed one (issue 14, found by
-- `certificate_writes_queue_with_cases_and_the_audit_chain_in_any_order`). Now an update
-- writes the year's row only for the certificates whose day of issue changed.
CREATE FUNCTION certificate_year_keep_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO certificate_year (year, min_id, max_id)
        SELECT substr(n.issued_on, 1, 4), MIN(n.id), MAX(n.id)
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.issued_on IS DISTINCT FROM n.issued_on
        GROUP BY substr(n.issued_on, 1, 4)
        ON CONFLICT (year) DO UPDATE SET min_id = LEAST(certificate_year.min_id, EXCLUDED.min_id),
                                         max_id = GREATEST(certificate_year.max_id, EXCLUDED.max_id);
    RETURN NULL;
END
$$;

DROP TRIGGER certificate_year_update ON certificate;
CREATE TRIGGER certificate_year_update AFTER UPDATE ON certificate
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION certificate_year_keep_changed();
