-- The register's search by part of a holder's name (issue 10, guide 5.5) over a million
-- certificates. The name is indexed as its overlapping runs of three characters, then its last
-- two and its last one (store::certificates::name_grams), so that a part of three or more
-- characters is a phrase of consecutive runs and one or two characters the prefix of a token: a
-- substring search through the index, newest certificate first.
ALTER TABLE certificate ADD COLUMN name_grams tsvector;
CREATE INDEX certificate_name ON certificate USING GIN (name_grams);

-- The register is ordered by issue (the certificate's id), so the issue-date index goes.
DROP INDEX certificate_by_issue;

-- Work the store does once after a migration that SQL alone cannot do (here: indexing the
-- names of certificates issued before this migration). Db::migrate runs and removes them.
CREATE TABLE store_task (name TEXT PRIMARY KEY);
INSERT INTO store_task (name) VALUES ('certificate_name');
