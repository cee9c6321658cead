-- PostgreSQL's migration 0032 orders its index of last valid days by id too. SQLite's index
-- (valid_until) already ends in the rowid, which is the certificate's id: nothing to change.
SELECT 1;
