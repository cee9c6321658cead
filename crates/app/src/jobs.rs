//! Scheduled work (issue 11), run by the scheduler inside `zizhi serve` every few minutes and
//! by `zizhi jobs run-once` (from cron): lapsed supplements (5.2), overdue rectifications (六),
//! expiry and renewal reminders (四), archiving (八); and the register's name index kept merged
//! (issue 14).
//! Each job takes a lease first, so that several servers on one PostgreSQL run it once; each
//! is idempotent (a second run finds nothing to do) and what it changes is audited.

use serde_json::json;

use crate::{App, Result};

/// The jobs, in the order they run.
pub const JOBS: [&str; 6] = [
    "lapse_supplements",
    "escalate_rectifications",
    "expire_certificates",
    "remind_renewals",
    // After expiry, so that a certificate that ended today is archived today (八).
    "archive_cases",
    // Upkeep, not a rule of the guide: the register's searches stay as fast as the register
    // grows ([`zizhi_store::certificates::merge_name_index`]).
    "merge_register_index",
];

/// How long a won lease keeps other runners off the job (the scheduler's period).
pub const LEASE_SECONDS: i64 = 240;

/// One job's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    pub job: &'static str,
    /// `None`: another runner holds the lease (named), so this one did not run it.
    pub done: Option<usize>,
    pub held_by: Option<String>,
}

impl App {
    /// Runs every job whose lease `runner` wins now.
    pub async fn run_jobs_once(&self, runner: &str) -> Result<Vec<JobRun>> {
        let mut out = Vec::new();
        for job in JOBS {
            let now = self.clock.now_us();
            let won = zizhi_store::jobs::claim(
                &self.db,
                job,
                runner,
                now,
                now + LEASE_SECONDS * 1_000_000,
            )
            .await?;
            if !won {
                let held_by = zizhi_store::jobs::lease(&self.db, job).await?.map(|l| l.0);
                out.push(JobRun {
                    job,
                    done: None,
                    held_by,
                });
                continue;
            }
            let done = match job {
                "lapse_supplements" => self.lapse_overdue_supplements(self.clock.today()).await?,
                "escalate_rectifications" => self.escalate_overdue_rectifications().await?,
                "expire_certificates" => self.expire_certificates().await?,
                "archive_cases" => self.archive_closed_cases().await?,
                "merge_register_index" => {
                    zizhi_store::certificates::merge_name_index(&self.db).await?
                }
                _ => self.remind_renewals().await?,
            };
            if done > 0 {
                let mut tx = self.db.begin().await?;
                crate::audit::record(
                    &mut tx,
                    None,
                    "job.run",
                    "job",
                    job,
                    json!({"runner": runner, "done": done}),
                )
                .await?;
                tx.commit().await?;
            }
            out.push(JobRun {
                job,
                done: Some(done),
                held_by: None,
            });
        }
        Ok(out)
    }
}
