-- The mail worker claims the pending messages due longest first, twenty at a time
-- (`outbox::claim`: ORDER BY next_attempt_us, id). Along this index a claim reads the twenty
-- it takes and stops; along `outbox_due` (status, next_attempt_us), whose equal keys are not
-- in id order, every pending message due was read and sorted for each claim — a backlog of
-- 180 000 renewal reminders took minutes more to send than its rows' writes, each claim
-- slower than the one before (issue 14: no scan whose cost grows with the data on a round of
-- work). Partial: the sent messages, most of the table, are not in it.
CREATE INDEX outbox_pending ON outbox (next_attempt_us, id) WHERE status = 'pending';
-- The claim was `outbox_due`'s only reader. Left in place, the planner took it (and sorted)
-- whenever its statistics said few messages were pending — as they do just after a batch of
-- reminders is queued, before the table is analysed again.
DROP INDEX outbox_due;
