-- 公告 (issue 10, guide 5.5): issuing a batch drafts the announcement of its holders; a second
-- person approves it, which publishes it (the date is kept). The items are kept as announced.
CREATE TABLE announcement (
    id            INTEGER PRIMARY KEY,
    batch_id      BIGINT  NOT NULL UNIQUE REFERENCES certificate_batch(id),
    items         TEXT    NOT NULL,
    drafted_by    BIGINT  REFERENCES app_user(id),
    approved_by   BIGINT  REFERENCES app_user(id),
    published_on  TEXT,
    created_us    BIGINT  NOT NULL
);
CREATE INDEX announcement_by_publication ON announcement(published_on, id);
