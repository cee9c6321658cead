-- The register's search by part of a holder's name (issue 10, guide 5.5) over a million
-- certificates. The name is indexed as its overlapping runs of three characters, then its last
-- two and its last one (store::certificates::name_grams), so that a part of three or more
-- characters is a phrase of consecutive runs and one or two characters the prefix of a token: a
-- substring search through the index, newest certificate first. Keyed by the certificate's id.
CREATE VIRTUAL TABLE certificate_name USING fts5(
    grams, tokenize = 'ascii', prefix = '1 2', content = '', contentless_delete = 1
);

-- The register is ordered by issue (the certificate's id), so the issue-date index goes.
DROP INDEX certificate_by_issue;

-- Work the store does once after a migration that SQL alone cannot do (here: indexing the
-- names of certificates issued before this migration). Db::migrate runs and removes them.
CREATE TABLE store_task (name TEXT PRIMARY KEY);
INSERT INTO store_task (name) VALUES ('certificate_name');
