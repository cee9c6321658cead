-- PostgreSQL's migration 0042 narrows its update trigger of the register's year ranges to a
-- changed day of issue. SQLite's (migration 0033) is `AFTER UPDATE OF issued_on` already, and
-- SQLite has one writer at a time: nothing to change. (A statement, so the two backends keep
-- the same numbers.)
SELECT 1;
