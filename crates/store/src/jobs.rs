//! Leases of scheduled jobs: a job runs where its lease was won, once per period, however many
//! servers share the database.

use crate::{Db, Result, on_pool};

/// Takes the lease of `job` for `holder` until `until_us` if nobody holds it at `now_us`
/// (or `holder` itself does). True when taken: the caller runs the job.
pub async fn claim(db: &Db, job: &str, holder: &str, now_us: i64, until_us: i64) -> Result<bool> {
    let n = on_pool!(db, p => sqlx::query(
        "INSERT INTO job_lease (name, holder, until_us) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_us = excluded.until_us
         WHERE job_lease.until_us <= $4 OR job_lease.holder = excluded.holder")
        .bind(job)
        .bind(holder)
        .bind(until_us)
        .bind(now_us)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Who holds a job's lease and until when.
pub async fn lease(db: &Db, job: &str) -> Result<Option<(String, i64)>> {
    Ok(
        on_pool!(db, p => sqlx::query_as("SELECT holder, until_us FROM job_lease WHERE name = $1")
        .bind(job)
        .fetch_optional(p)
        .await)?,
    )
}
