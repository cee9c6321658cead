-- The in-app notifications page (issue 13) reads each person's messages from the outbox by
-- address, newest first; addresses compare without regard to case.
CREATE INDEX outbox_recipient ON outbox (lower(recipient), id);
