-- The rows a list page shows, read from an index alone (issue 14: a page read anew on
-- PostgreSQL was 0.46–0.55 of SQLite). PostgreSQL keeps a table's rows in a heap in no order,
-- so a page of 50 cases newest first (or 51 certificates of the register by their ids) read
-- through the primary key visited a heap page for each row — 31 buffers for a page of the case
-- list, where a case's facts (about 1 KB of JSON) spread the rows over many pages. These
-- indexes hold, after the key, every column the case list (`cases::list`: the case's columns
-- but its facts, the applicant's name and the deadline kept with it) and the register
-- (`certificates::CERT`) read, so a page is an index-only scan: 6 buffers for the case list's
-- page, 0.19 → 0.11 ms of execution; in a measurement alternating with and without them,
-- PostgreSQL's time per request fell by about a tenth for both pages.
--
-- An index-only scan skips the heap only for pages the visibility map has as all-visible
-- (autovacuum keeps it; the benchmarks run VACUUM after seeding, as autovacuum would): a row
-- changed since is read from the heap, as before. A column added to what the lists read must
-- be added here too (a new migration); the store's unit tests check both lists against this
-- file. SQLite needs neither: its tables are B-trees by id, so the same rows are read in key
-- order from the table itself (its migration 0046 is empty).
CREATE INDEX case_list_rows ON application_case (id) INCLUDE (
    organization_id, category, level, kind, stage, paper_received_us, filed_on, supplement_due,
    closed_on, agreement_no, fee_fen, lead_id, audit_conclusion, dossier_hash, review_round,
    batch_id, created_by, created_us, org_name, due_on);
CREATE INDEX certificate_rows ON certificate (id) INCLUDE (
    number, case_id, organization_id, holder, uscc, category, level, issued_on, valid_until,
    status, status_changes);
