-- PostgreSQL's migration 0044 adds the index of pending messages in the order the mail worker
-- claims them (next_attempt_us, id). On SQLite `outbox_due` (status, next_attempt_us) already
-- gives that order: an index's entries end with the row id, so for one status they are in
-- (next_attempt_us, id) order and a claim reads only the rows it takes. Nothing to change. (A
-- statement, so the two backends keep the same numbers.)
SELECT 1;
