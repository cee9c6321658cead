-- Nothing on SQLite: PostgreSQL's migration 0046 adds indexes holding the rows the case list
-- and the register show, so that a page is read from an index alone rather than from a heap
-- page per row. SQLite's tables are B-trees by id: the same pages already read their rows in
-- key order from the table itself. (The migrations of both databases keep the same numbers.)
SELECT 1;
