-- The register's name index (migration 0018) updated as certificates are issued, not through
-- GIN's pending list (issue 10). With `fastupdate` on, new entries wait in an unordered list
-- that every search reads in full until a vacuum merges it; where autovacuum is late, or off
-- as on the machine the benchmarks ran on, a search by part of a name over a million
-- certificates read ~280 pending pages (8 ms instead of 0.9 ms of the database's time).
-- Certificates are issued in batches of hundreds, so inserting into the index directly costs
-- nothing anyone waits for. What is already pending is merged now.
ALTER INDEX certificate_name SET (fastupdate = off);
SELECT gin_clean_pending_list('certificate_name');
