//! 工作台 (the staff dashboard): every open case by the urgency of its project clock (九.3),
//! with counts over all of them, kept between requests by the case version.

use zizhi_domain::case::Stage;
use zizhi_domain::clock::Clock;
use zizhi_store::cases::{self as repo, CaseRow};

use super::listed_organization;
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
        let mut kept = self.dashboard.lock().await;
        let version = repo::version(&self.db).await?;
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

    /// The dashboard from every open case, read a chunk at a time: the counts over all of
    /// them and the [`DASHBOARD_KEEP`] most urgent, kept in a bounded heap, so that memory
    /// stays bounded however many cases are open (issue 14: at 100 000 open cases, holding
    /// them all took 200 MB).
    async fn compute_dashboard(&self, today: chrono::NaiveDate) -> Result<Dashboard> {
        let filter = repo::Filter {
            open_only: true,
            ..Default::default()
        };
        let mut top = std::collections::BinaryHeap::with_capacity(DASHBOARD_KEEP + 1);
        let (mut total, mut overdue, mut warning) = (0, 0, 0);
        let mut per_stage = [0usize; Stage::ALL.len()];
        self.each_case(&filter, today, |r| {
            total += 1;
            // Counted as the case list's deadline filters count (their links): the deadline
            // each case runs against now — the supplement's, or the three-month target (九.3).
            match r.due.map(|d| (d - today).num_days()) {
                Some(n) if n < 0 => overdue += 1,
                Some(n) if n <= 15 => warning += 1,
                _ => {}
            }
            let stage = r.listed.case.stage;
            if let Some(i) = Stage::ALL.iter().position(|s| *s == stage) {
                per_stage[i] += 1;
            }
            let row = DashboardRow {
                case: r.listed.case,
                org_name: r.listed.org_name,
                stage,
                clock: r.clock,
            };
            let key = (row.urgency(), row.case.id);
            // A max-heap of the most urgent so far: a row enters only if it beats the least
            // urgent kept one.
            if top.len() < DASHBOARD_KEEP || top.peek().is_some_and(|t: &Ranked| key < t.0) {
                top.push(Ranked(key, row));
                if top.len() > DASHBOARD_KEEP {
                    top.pop();
                }
            }
        })
        .await?;
        let by_stage = Stage::ALL
            .into_iter()
            .zip(per_stage)
            .filter(|(_, n)| *n > 0)
            .collect();
        Ok(Dashboard {
            rows: top.into_sorted_vec().into_iter().map(|r| r.1).collect(),
            total,
            by_stage,
            overdue,
            warning,
        })
    }
}

/// A dashboard row with its sort key, ordered by the key alone (for the bounded heap).
struct Ranked(((u8, i64), i64), DashboardRow);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}
