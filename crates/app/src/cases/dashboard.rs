//! 工作台 (the staff dashboard): every open case by the urgency of its project clock (九.3),
//! with counts over all of them, kept between requests by the case version.

use zizhi_domain::case::Stage;
use zizhi_domain::clock::{Clock, WARN_DAYS};
use zizhi_store::cases::{self as repo, CaseRow};

use super::listed_organization;
use super::lists::{clock_of, pause_map};
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// How many of the most urgent open cases the dashboard keeps (the API's largest `limit`).
pub const DASHBOARD_KEEP: usize = 1000;

/// 工作台: the open cases by urgency (the most urgent [`DASHBOARD_KEEP`]) and counts over all
/// of them.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    /// The most urgent first.
    pub rows: Vec<DashboardRow>,
    /// All open cases.
    pub total: usize,
    /// Open cases per stage, in the process's order (stages with none left out).
    pub by_stage: Vec<(Stage, usize)>,
    /// Past the deadline they run against now (the supplement's or the three-month target).
    pub overdue: usize,
    /// Due within 15 days.
    pub warning: usize,
}

/// The dashboard kept between requests: (case version, day, result). Shared by the clones of
/// an `App`; held while it is computed, so that requests arriving meanwhile wait for that one
/// computation instead of each starting their own.
pub(crate) type DashboardCache =
    std::sync::Arc<tokio::sync::Mutex<Option<(i64, chrono::NaiveDate, std::sync::Arc<Dashboard>)>>>;

/// One open case on the staff dashboard, with its clock.
#[derive(Debug, Clone)]
pub struct DashboardRow {
    pub case: CaseRow,
    pub org_name: String,
    pub stage: Stage,
    pub clock: Option<Clock>,
}

impl DashboardRow {
    /// Sort key: overdue first (most overdue first), then warnings (fewest days left first),
    /// then by days left to the nearer due date; cases without a clock (not filed) last.
    pub fn urgency(&self) -> (u8, i64) {
        use zizhi_domain::clock::Due;
        let Some(k) = &self.clock else {
            return (4, 0);
        };
        let rank = |d: Due| match d {
            Due::Overdue(n) => (0, -n),
            Due::Warning(n) => (1, n),
            Due::Ok(n) => (2, n),
            Due::Met => (3, 0),
        };
        rank(k.target).min(rank(k.limit))
    }
}

impl App {
    /// 工作台: every open case with its project clock, most urgent first (九.3: warn 15 days
    /// before the 3-month target and the 6-month limit, flag overdue). Centre staff only.
    ///
    /// Computed from every open case, then kept with the case version (`case_version`,
    /// migration 0031: moved by any change to a case, its pauses or an applicant's name, on
    /// any server) and the day; a request reads the version and computes again only when
    /// either moved (issue 14: a dashboard read every open case each time — 18 ms a request
    /// at 10 000 cases).
    pub async fn dashboard(&self, actor: &Actor) -> Result<std::sync::Arc<Dashboard>> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        listed_organization(actor)?;
        let today = self.clock.today();
        // Read before waiting for the kept result, so that the requests asking together read
        // it together (one statement on PostgreSQL) rather than one after the other.
        let version = repo::version(&self.db).await?;
        let mut kept = self.dashboard.lock().await;
        if let Some((v, day, d)) = kept.as_ref()
            && *v == version
            && *day == today
        {
            return Ok(d.clone());
        }
        let d = std::sync::Arc::new(self.compute_dashboard(today).await?);
        *kept = Some((version, today, d.clone()));
        Ok(d)
    }

    /// The dashboard from what is kept with the cases (issue 14): the counts per stage from
    /// the case tally (migration 0030), the overdue and nearly due counts from the count kept
    /// per deadline day, and the [`DASHBOARD_KEEP`] most urgent from the first rows of the
    /// kept clocks' indexes (migration 0037) — the running clocks by their target day, the
    /// paused ones by their days left — merged, then the cases not yet filed if room is left.
    /// Nothing here reads every open case (it did: 150–270 ms at 70 000 open cases, now
    /// 5–8 ms). Drafts are left out, as everywhere the centre looks (issue 13).
    async fn compute_dashboard(&self, today: chrono::NaiveDate) -> Result<Dashboard> {
        let keep = DASHBOARD_KEEP as i64;
        let stages = repo::open_by_stage(&self.db).await?;
        let by_stage: Vec<(Stage, usize)> = Stage::ALL
            .into_iter()
            .filter_map(|s| {
                let n = stages.iter().find(|(t, _)| *t == s)?.1;
                Some((s, usize::try_from(n).ok()?))
            })
            .collect();
        let total = by_stage.iter().map(|(_, n)| n).sum();
        // Counted as the case list's deadline filters count (their links): the deadline
        // each case runs against now — the supplement's, or the three-month target (九.3).
        let warn_until = today + chrono::Days::new(WARN_DAYS as u64);
        let (overdue, warning) =
            repo::due_counts(&self.db, &today.to_string(), &warn_until.to_string()).await?;
        let mut rows = repo::most_urgent(&self.db, repo::Urgent::Running, keep).await?;
        rows.extend(repo::most_urgent(&self.db, repo::Urgent::Paused, keep).await?);
        let filed = rows.len() as i64;
        if filed < keep {
            rows.extend(repo::most_urgent(&self.db, repo::Urgent::Unfiled, keep - filed).await?);
        }
        let ids: Vec<i64> = rows.iter().map(|l| l.case.id).collect();
        let pauses = pause_map(repo::pauses_of(&self.db, &ids).await?);
        let mut rows: Vec<DashboardRow> = rows
            .into_iter()
            .map(|l| DashboardRow {
                clock: clock_of(&l.case, &pauses, today),
                stage: l.case.stage,
                case: l.case,
                org_name: l.org_name,
            })
            .collect();
        rows.sort_by_key(|r| (r.urgency(), r.case.id));
        rows.truncate(DASHBOARD_KEEP);
        Ok(Dashboard {
            rows,
            total,
            by_stage,
            overdue: usize::try_from(overdue).unwrap_or(0),
            warning: usize::try_from(warning).unwrap_or(0),
        })
    }
}
