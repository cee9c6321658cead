-- A case's certificate by its case (the case page of a certified case, the archive job, appeals
-- and renewals): without it each lookup read every certificate — the archive job's catch-up took
-- 8 s on PostgreSQL at 100 000 certificates (scripts/bench, issue 14).
CREATE INDEX certificate_by_case ON certificate(case_id);
