-- PostgreSQL's migration 0035 adds a table of the pairs of characters of the holders' names, so
-- that a search by two characters reads its page in the order of issue. SQLite's name index
-- (FTS5, migration 0018) already does: its lists of matches are kept in the order of the
-- certificates' ids. Nothing changes here; the number is kept so both backends' migrations
-- stay in step.
SELECT 1;
