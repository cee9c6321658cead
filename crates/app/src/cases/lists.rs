//! Lists of cases: a page of the cases the actor may see (with the deadline filters of the
//! project clock, 九.3, read by the deadline kept with each case), each person's 待办, and the
//! clocks of the cases that the dashboard (`dashboard.rs`) shows.

use std::sync::Arc;

use zizhi_domain::case::{Performer, Stage, Transition};
use zizhi_domain::clock::{self, Clock, Pause};
use zizhi_domain::lang::Text;
use zizhi_store::cases::{self as repo, CaseRow};

use super::{date, listed_organization};
use crate::policy::Actor;
use crate::{App, AppError, Result};

impl App {
    /// 待办: the cases waiting for this actor, oldest first, each with what is to be done: the
    /// transitions of the actor's role, and the work that is not a transition — an assessor's
    /// judgements on a team, an expert's vote on a panel, a certificate officer's batching.
    pub async fn todo(&self, actor: &Actor) -> Result<Vec<TodoItem>> {
        use zizhi_domain::roles::Role;
        let me = Performer::Role(actor.role);
        // Only the stages where this role has work, each read in full (a plain "latest cases"
        // list would drop the oldest waiting cases, which are the most urgent).
        let stages: Vec<Stage> = Stage::ALL
            .into_iter()
            .filter(|s| {
                Transition::ALL.iter().any(|t| {
                    t.performer() == me && t.target(*s).is_some() && *t != Transition::Withdraw
                }) || matches!(
                    (actor.role, s),
                    (
                        Role::Applicant,
                        Stage::Submitted | Stage::AgreementSent | Stage::AgreementEffective
                    ) | (Role::Assessor, Stage::Evaluation)
                        | (Role::Expert, Stage::ExpertReview)
                        | (Role::CertificateOfficer, Stage::Certification)
                )
            })
            .collect();
        let organization_id = listed_organization(actor)?;
        let mut waiting = Vec::new();
        for s in stages {
            let filter = repo::Filter {
                organization_id,
                stage: Some(s.as_str()),
                ..Default::default()
            };
            let (rows, _) = repo::page(&self.db, &filter, 10_000, 0).await?;
            waiting.extend(rows);
        }
        waiting.sort_by_key(|l| std::cmp::Reverse(l.case.id));
        // The actor's seats on teams and panels, and votes cast, read once for all cases.
        let (duties, voted) = match actor.role {
            Role::Assessor | Role::Expert => (
                zizhi_store::evaluation::duties_of(&self.db, actor.user_id).await?,
                zizhi_store::evaluation::votes_of(&self.db, actor.user_id).await?,
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let mut out = Vec::new();
        for l in waiting {
            // The centre's deadlines are staff's business (the kept deadline: the supplement's
            // or the project's three-month target, 九.3); the applicant's is the supplement.
            let due = if actor.role.is_staff() {
                l.due_on.as_deref().and_then(date)
            } else {
                due_of(&l.case, None)
            };
            let c = l.case;
            let stage = c.stage;
            let mut steps: Vec<Text> = Transition::ALL
                .into_iter()
                .filter(|t| {
                    t.performer() == me
                        // The lead's steps are the assigned lead's only.
                        && (actor.role != Role::ProjectLead || c.lead_id == Some(actor.user_id))
                        && !matches!(
                            t,
                            Transition::Withdraw
                                | Transition::Issue
                                | Transition::PanelPass
                                | Transition::PanelFail
                                | Transition::PanelReturn
                        )
                        && t.target(stage).is_some()
                })
                .map(|t| t.name())
                .collect();
            let on = |duty: &str| duties.iter().any(|(id, d, _)| *id == c.id && d == duty);
            let chair = duties.iter().any(|(id, _, ch)| *id == c.id && *ch);
            match (actor.role, stage) {
                (Role::Assessor, Stage::Evaluation) if on("assessor") => {
                    steps.push(Text::new(
                        "记录评估活动与逐项判定",
                        "record activities and judgements",
                    ));
                }
                (Role::Expert, Stage::ExpertReview) if on("expert") => {
                    if !voted.contains(&(c.id, c.review_round)) {
                        steps.push(Text::new("专家表决", "vote"));
                    } else if chair {
                        steps.push(Text::new(
                            "形成专家评审结论（全部表决后）",
                            "record the panel's conclusion (once all have voted)",
                        ));
                    }
                }
                (Role::CertificateOfficer, Stage::Certification) if c.batch_id.is_none() => {
                    steps.push(Text::new("编入证书批次", "put into a certificate batch"));
                }
                _ => {}
            }
            // The applicant's work is what the case waits for from it, in its own words
            // (signing and paying included, 5.3).
            if actor.role == Role::Applicant {
                steps = super::waiting::expected(&c, stage, None)
                    .into_iter()
                    .filter(|e| e.role == Role::Applicant)
                    .map(|e| e.task)
                    .collect();
            }
            if !steps.is_empty() {
                out.push(TodoItem {
                    case: c,
                    holder: l.org_name,
                    tasks: steps,
                    due,
                });
            }
        }
        out.reverse();
        Ok(out)
    }
}

/// Pauses by case id, typed (for the clocks).
type PauseMap = std::collections::HashMap<i64, Vec<Pause>>;

pub(super) fn pause_map(rows: Vec<(i64, repo::PauseRow)>) -> PauseMap {
    let mut pauses = PauseMap::default();
    for (case_id, p) in rows {
        if let Some(pause) = p.pause() {
            pauses.entry(case_id).or_default().push(pause);
        }
    }
    pauses
}

/// A filed case's project clock today (九.3).
pub(super) fn clock_of(c: &CaseRow, pauses: &PauseMap, today: chrono::NaiveDate) -> Option<Clock> {
    c.filed_on.as_deref().and_then(date).map(|filed| {
        let ps = pauses.get(&c.id).map_or(&[][..], |v| v.as_slice());
        clock::compute(filed, ps, today, c.closed_on.as_deref().and_then(date))
    })
}

/// The deadline a case runs against now ([`Stage::deadline`]: the supplement's last day while
/// supplementing, the project's three-month target while the clock runs).
pub fn due_of(c: &CaseRow, clock: Option<&Clock>) -> Option<chrono::NaiveDate> {
    c.stage.deadline(
        c.supplement_due.as_deref().and_then(date),
        clock.map(|k| k.target_due),
    )
}

/// The case list's search and filters.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CaseQuery {
    /// A case number, a USCC or part of the applicant's name.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub lead_id: Option<i64>,
    /// Overdue, or due within 15 days (九.3's warning); the list is then in the deadline's
    /// order, the earliest (the most overdue) first.
    #[serde(default)]
    pub due: Option<DueFilter>,
    /// Filed (建档立项) from / to, ISO days.
    #[serde(default, rename = "from")]
    pub filed_from: Option<String>,
    #[serde(default, rename = "to")]
    pub filed_to: Option<String>,
    /// Only the cases listed after case `after` (newest first: those with a smaller id), a
    /// page from there: a keyset page, read along the index from that case however deep in the
    /// list it is (issue 14). Not with a page number past 1, nor with `due`.
    #[serde(default)]
    pub after: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueFilter {
    Overdue,
    Within15,
}

/// A row of the case list: the case and its deadline.
#[derive(Debug, Clone, Copy)]
pub struct ListedCase<'a> {
    pub listed: &'a repo::Listed,
    /// The supplement deadline, or the project's target day while the clock runs: the
    /// deadline kept with the case (migration 0037), the one the deadline filters and the
    /// dashboard use.
    pub due: Option<chrono::NaiveDate>,
}

/// A page of the case list ([`App::cases_search`]): the store's page, shared with the pages
/// it keeps (issue 14: not copied for each request).
#[derive(Debug, Clone)]
pub struct CaseList(Arc<repo::ListPage>);

impl CaseList {
    /// The page's cases as stored, in the list's order.
    pub fn listed(&self) -> &[repo::Listed] {
        &self.0.rows
    }

    /// The page's cases, each with its deadline.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = ListedCase<'_>> {
        self.0.rows.iter().map(|listed| ListedCase {
            due: listed.due_on.as_deref().and_then(date),
            listed,
        })
    }

    /// How many cases the whole search has.
    pub fn total(&self) -> i64 {
        self.0.total
    }
}

/// One line of a person's 待办: the case, its applicant, what is to be done, and by when.
#[derive(Debug, Clone)]
pub struct TodoItem {
    pub case: CaseRow,
    /// The applicant organisation's name.
    pub holder: String,
    pub tasks: Vec<Text>,
    /// The supplement deadline (5.2), or the project's three-month target (九.3) for the
    /// centre's steps while the clock runs.
    pub due: Option<chrono::NaiveDate>,
}

/// The highest page number a list accepts.
pub const MAX_PAGE: i64 = 1_000_000;

impl App {
    /// A page of the cases the actor may see, newest first, optionally in one stage (the API's
    /// list: the rows as stored).
    pub async fn cases_page(
        &self,
        actor: &Actor,
        stage: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<repo::Listed>, i64)> {
        self.cases_page_after(actor, stage, None, page, per_page)
            .await
            .map(|list| repo::ListPage::owned(list.0))
    }

    /// [`App::cases_page`], or with `after` the cases listed after that one (a keyset page;
    /// see [`CaseQuery::after`]). The total is the whole list's either way.
    pub async fn cases_page_after(
        &self,
        actor: &Actor,
        stage: Option<&str>,
        after: Option<i64>,
        page: i64,
        per_page: i64,
    ) -> Result<CaseList> {
        let q = CaseQuery {
            stage: stage.map(str::to_string),
            after,
            ..Default::default()
        };
        self.cases_search(actor, &q, page, per_page, 200).await
    }

    /// The case list with its search and filters (see [`CaseQuery`]), each row with the
    /// deadline kept with it (the one the filters use: no clock is computed, no pause read);
    /// the centre never sees an applicant's unsubmitted drafts.
    pub async fn cases_search(
        &self,
        actor: &Actor,
        q: &CaseQuery,
        page: i64,
        per_page: i64,
        max_per_page: i64,
    ) -> Result<CaseList> {
        let organization_id = listed_organization(actor)?;
        let stage = q.stage.as_deref().filter(|s| !s.is_empty());
        if let Some(s) = stage
            && (Stage::parse(s).is_none() || (actor.role.is_staff() && s == "draft"))
        {
            return Err(AppError::invalid(
                "stage",
                format!("未知的阶段“{s}”"),
                format!("unknown stage \"{s}\""),
            ));
        }
        if !(1..=max_per_page).contains(&per_page) {
            return Err(AppError::invalid(
                "per_page",
                format!("每页条数应在 1 到 {max_per_page} 之间"),
                format!("per_page must be between 1 and {max_per_page}"),
            ));
        }
        // Bounded, so that the offset cannot overflow (a huge page was a 500 on PostgreSQL).
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(AppError::invalid(
                "page",
                format!("页码应在 1 到 {MAX_PAGE} 之间"),
                format!("page must be between 1 and {MAX_PAGE}"),
            ));
        }
        if let Some(after) = q.after {
            if after < 1 {
                return Err(AppError::invalid(
                    "after",
                    "“after”应为案件的 id（正整数）",
                    "after must be a case's id (a positive number)",
                ));
            }
            if page != 1 {
                return Err(AppError::invalid(
                    "page",
                    "页码与“after”不能同时使用",
                    "page cannot be combined with after",
                ));
            }
            if q.due.is_some() {
                return Err(AppError::invalid(
                    "after",
                    "按期限筛选时不能使用“after”",
                    "after cannot be combined with the deadline filter",
                ));
            }
        }
        let day = |field: &str, v: &Option<String>| -> Result<Option<String>> {
            match v.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
                None => Ok(None),
                Some(x) => date(x).map(|d| Some(d.to_string())).ok_or_else(|| {
                    AppError::invalid(
                        field,
                        format!("日期“{x}”无法识别，请按 2026-12-31 的格式填写"),
                        format!("the date \"{x}\" is not understood; write it as 2026-12-31"),
                    )
                }),
            }
        };
        let filed_from = day("from", &q.filed_from)?;
        let filed_to = day("to", &q.filed_to)?;
        // One search box: a case number (ZZ-2026-00042, or just 42), a USCC, or part of a name.
        let text = q.q.as_deref().map(str::trim).filter(|x| !x.is_empty());
        let (mut id, mut uscc, mut name) = (None, None, None);
        if let Some(t) = text {
            let digits = t.rsplit('-').next().filter(|d| {
                !d.is_empty() && d.len() <= 12 && d.bytes().all(|b| b.is_ascii_digit())
            });
            let upper = t.to_ascii_uppercase();
            if let Some(d) = digits.filter(|_| upper.starts_with("ZZ-") || !t.contains('-')) {
                id = d.parse::<i64>().ok();
            } else if t.len() == 18 && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                uscc = Some(upper);
            } else {
                name = Some(t.to_string());
            }
        }
        let today = self.clock.today();
        // By the deadline kept with each case (九.3, 5.2; migration 0037): overdue is before
        // today; due within 15 days is today to 15 days on, both ends included.
        let warn_until = today + chrono::Days::new(clock::WARN_DAYS as u64);
        let (due_from, due_to) = match q.due {
            None => (None, None),
            Some(DueFilter::Overdue) => (None, Some(today.pred_opt().unwrap_or(today))),
            Some(DueFilter::Within15) => (Some(today), Some(warn_until)),
        };
        let (due_from, due_to) = (
            due_from.map(|d| d.to_string()),
            due_to.map(|d| d.to_string()),
        );
        let filter = repo::Filter {
            organization_id,
            stage,
            open_only: q.due.is_some(),
            no_drafts: actor.role.is_staff(),
            id,
            uscc: uscc.as_deref(),
            name_like: name.as_deref(),
            lead_id: q.lead_id,
            filed_from: filed_from.as_deref(),
            filed_to: filed_to.as_deref(),
            before_id: q.after,
            due_from: due_from.as_deref(),
            due_to: due_to.as_deref(),
        };
        repo::shared_page(&self.db, &filter, per_page, (page - 1) * per_page)
            .await
            .map(CaseList)
            .map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::dashboard::DashboardRow;
    use chrono::NaiveDate;

    fn row(id: i64, filed: Option<&str>, today: NaiveDate) -> DashboardRow {
        DashboardRow {
            case: CaseRow {
                id,
                organization_id: 1,
                category: "disaster_recovery".into(),
                level: 2,
                kind: zizhi_domain::fees::ApplicationKind::Initial,
                stage: Stage::Evaluation,
                profile: String::new(),
                paper_received_us: None,
                filed_on: filed.map(str::to_string),
                supplement_due: None,
                closed_on: None,
                agreement_no: None,
                fee_fen: None,
                lead_id: None,
                audit_conclusion: None,
                dossier_hash: None,
                review_round: 0,
                batch_id: None,
                created_by: 1,
                created_us: 0,
            },
            org_name: String::new(),
            stage: Stage::Evaluation,
            clock: filed
                .and_then(date)
                .map(|f| clock::compute(f, &[], today, None)),
        }
    }

    /// 九.3 on the dashboard: overdue first (most overdue first), then within 15 days of a due
    /// date (fewest days left first), then the rest, then cases not yet filed.
    #[test]
    fn the_dashboard_puts_the_most_urgent_first() {
        let today = date("2026-11-24").unwrap();
        let mut rows = [
            row(1, None, today),
            row(2, Some("2026-11-01"), today), // target 2027-02-01: 69 days left
            row(3, Some("2026-08-30"), today), // target 2026-11-30: 6 days left (warning)
            row(4, Some("2026-08-20"), today), // target 2026-11-20: overdue by 4
            row(5, Some("2026-05-01"), today), // limit 2026-11-01: overdue by 23
            row(6, Some("2026-09-05"), today), // target 2026-12-05: 11 days left (warning)
        ];
        rows.sort_by_key(|r| (r.urgency(), r.case.id));
        let order: Vec<i64> = rows.iter().map(|r| r.case.id).collect();
        assert_eq!(order, [5, 4, 3, 6, 2, 1]);
        // The boundary: exactly 15 days left is a warning, 16 is not (WARN_DAYS inclusive).
        let fifteen = row(7, Some("2026-09-09"), today); // target 2026-12-09
        let sixteen = row(8, Some("2026-09-10"), today); // target 2026-12-10
        assert_eq!(fifteen.urgency().0, 1);
        assert_eq!(sixteen.urgency().0, 2);
    }

    /// The deadline a case runs against: the supplement's last day while supplementing (5.2),
    /// the three-month target while the clock runs (九.3), none while paused for the agreement
    /// or once closed.
    #[test]
    fn each_stage_runs_against_its_own_deadline() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let mut r = row(1, Some("2026-10-01"), today);
        let target = r.clock.as_ref().unwrap().target_due;
        assert_eq!(
            due_of(&r.case, r.clock.as_ref()),
            Some(target),
            "evaluation"
        );
        r.case.stage = Stage::Supplementing;
        r.case.supplement_due = Some("2027-01-04".into());
        assert_eq!(
            due_of(&r.case, r.clock.as_ref()),
            NaiveDate::from_ymd_opt(2027, 1, 4)
        );
        for s in [
            Stage::AgreementSent,
            Stage::AgreementEffective,
            Stage::Certified,
        ] {
            r.case.stage = s;
            assert_eq!(due_of(&r.case, r.clock.as_ref()), None, "{s:?}");
        }
        // A running stage before filing has no clock, so no deadline.
        r.case.stage = Stage::AcceptanceReview;
        assert_eq!(due_of(&r.case, None), None);
    }
}
