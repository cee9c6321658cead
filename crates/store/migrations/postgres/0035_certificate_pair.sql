-- The register's search by two characters of a holder's name, newest first, on PostgreSQL
-- (issue 10, guide 5.5). The name index (GIN, migration 0018) finds a name's certificates but
-- not in the order of issue: for the later pages of a common pair of characters ("科技"),
-- PostgreSQL walked the certificates from the newest back, checking each name (page 5 at a
-- million certificates: ~7 300 rows read for 251, 3 ms of the database's time, p99 32 ms under
-- load). Here each pair of consecutive characters of a name (as the name index holds them: the
-- first two of each run of three, and the last two) is a row beside the certificate's id, so a
-- b-tree gives a pair's certificates newest first and a page reads only its own rows (0.15 ms).
--
-- Derived from the name index's column (`name_grams`) by triggers in the transaction that
-- issues a certificate, so it holds exactly what the search by a two-character prefix of a
-- token would find. Derived data: backups leave it out and a restore rebuilds it through the
-- same triggers (as `certificate_year`, migration 0033). Certificates are never deleted (the
-- archive keeps them), so no delete trigger.
--
-- Its cost: about thirteen rows per certificate (at a million certificates 546 MB of table and
-- 503 MB of index beside the 455 MB of certificates). A pair's certificates are read by an
-- index-only scan where autovacuum keeps the visibility map (as it does by default).
CREATE TABLE certificate_pair (
    pair  TEXT COLLATE "C"  NOT NULL,
    id    BIGINT            NOT NULL,
    PRIMARY KEY (pair, id)
);

INSERT INTO certificate_pair (pair, id)
    SELECT DISTINCT left(g.lexeme, 2), c.id
    FROM certificate c, unnest(c.name_grams) g
    WHERE length(g.lexeme) >= 2;

CREATE FUNCTION certificate_pair_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO certificate_pair (pair, id)
        SELECT DISTINCT left(g.lexeme, 2), n.id
        FROM new_rows n, unnest(n.name_grams) g
        WHERE length(g.lexeme) >= 2;
    RETURN NULL;
END
$$;

-- Only a changed name index changes the pairs (a certificate's status changes do not); the
-- name index is only written again by the store's backfill (`index_all_names`).
CREATE FUNCTION certificate_pair_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM certificate_pair p
        USING old_rows o, new_rows n
        WHERE o.id = n.id AND o.name_grams IS DISTINCT FROM n.name_grams AND p.id = n.id;
    INSERT INTO certificate_pair (pair, id)
        SELECT DISTINCT left(g.lexeme, 2), n.id
        FROM new_rows n JOIN old_rows o ON o.id = n.id, unnest(n.name_grams) g
        WHERE o.name_grams IS DISTINCT FROM n.name_grams AND length(g.lexeme) >= 2;
    RETURN NULL;
END
$$;

CREATE TRIGGER certificate_pair_insert AFTER INSERT ON certificate
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_pair_insert();
CREATE TRIGGER certificate_pair_update AFTER UPDATE ON certificate
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION certificate_pair_update();
