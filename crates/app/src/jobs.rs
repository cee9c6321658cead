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

/// What a job's work follows from, read before it runs: the day, the cases' version
/// (migration 0031) and the register's (migration 0041). Both move with every change, in the
/// changing transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Inputs {
    today: chrono::NaiveDate,
    cases: i64,
    register: i64,
}

/// The inputs each job last ran on, to the end, in this process (issue 14). Expiry, renewal
/// reminders and archiving follow only from the day, the cases and the certificates (and the
/// reminders and archive records they write themselves); while none has moved, a run would
/// find what the last one left, nothing to do, and the job is not run. Before, the scheduler
/// read every certificate in the reminder window and every closed case every five minutes
/// (at 100 000 certificates 21 000 certificates and 10 000 cases, 0.2–0.3 s of CPU, which
/// showed as a slower round and a p99 of 43 ms in the benchmark): the cost grew with the data
/// when nothing had changed. The command line's `jobs run-once` starts with none, so it reads
/// everything, as does a server once after it starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unchanged(std::sync::Arc<std::sync::Mutex<Vec<(&'static str, Inputs)>>>);

impl Unchanged {
    fn get(&self, job: &str) -> Option<Inputs> {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().find(|(j, _)| *j == job).map(|(_, i)| *i)
    }

    fn set(&self, job: &'static str, inputs: Inputs) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|(j, _)| *j != job);
        all.push((job, inputs));
    }
}

/// Whether a job is skipped while its [`Inputs`] stand: those that read the certificates or
/// every closed case. Overdue rectifications follow from sanctions, which move without either
/// version; lapsed supplements are one indexed read of the cases supplementing; the name
/// index's merge keeps its own state: those always run.
fn follows_from_inputs(job: &str) -> bool {
    matches!(
        job,
        "expire_certificates" | "remind_renewals" | "archive_cases"
    )
}

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
            // Read before the job: whatever commits during it moves a version past these.
            let inputs = if follows_from_inputs(job) {
                let inputs = Inputs {
                    today: self.clock.today(),
                    cases: zizhi_store::cases::version(&self.db).await?,
                    register: zizhi_store::certificates::register_version(&self.db).await?,
                };
                if self.jobs.get(job) == Some(inputs) {
                    out.push(JobRun {
                        job,
                        done: Some(0),
                        held_by: None,
                    });
                    continue;
                }
                Some(inputs)
            } else {
                None
            };
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
            if let Some(inputs) = inputs {
                self.jobs.set(job, inputs);
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
