-- PostgreSQL's migration 0043 makes the case tallies' update triggers lock their two rows in
-- key order (two cases moving in opposite directions at once deadlocked). SQLite has one
-- writer at a time: nothing to change. (A statement, so the two backends keep the same
-- numbers.)
SELECT 1;
