-- PostgreSQL's migration 0034 turns off the pending list of its GIN name index. SQLite's name
-- index (FTS5, migration 0018) has no such list: nothing changes here; the number is kept so
-- both backends' migrations stay in step.
SELECT 1;
