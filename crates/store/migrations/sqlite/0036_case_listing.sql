-- The case list's pages past the first few (issue 14: no linear scan on a page request): a
-- page skips the cases before it by offset, and each case skipped was read whole from the
-- table, its facts (about 1 KB of JSON) included — the last page of 100 000 cases took 50 ms
-- on SQLite. This index holds only what the list's filters look at (stage, open, organisation,
-- project lead, filing day), in the list's order (newest first), so a page skips along it and
-- reads just its own cases from the table (`cases::rows_and_filter`): 3–13 ms for the same
-- page whatever the filter; on PostgreSQL an index-only scan.
CREATE INDEX case_listing ON application_case (id, stage, closed_on, organization_id, lead_id, filed_on);
