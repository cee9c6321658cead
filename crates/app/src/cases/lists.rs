//! Lists of cases: a page of the cases the actor may see, the staff dashboard ordered by the
//! project clock (九.3), and each person's 待办.

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
    pub async fn todo(&self, actor: &Actor) -> Result<Vec<(CaseRow, Vec<Text>)>> {
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
                    (Role::Assessor, Stage::Evaluation)
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
                open_only: false,
            };
            let (rows, _) = repo::page(&self.db, &filter, 10_000, 0).await?;
            waiting.extend(rows.into_iter().map(|l| l.case));
        }
        waiting.sort_by_key(|c| std::cmp::Reverse(c.id));
        // The actor's seats on teams and panels, and votes cast, read once for all cases.
        let (duties, voted) = match actor.role {
            Role::Assessor | Role::Expert => (
                zizhi_store::evaluation::duties_of(&self.db, actor.user_id).await?,
                zizhi_store::evaluation::votes_of(&self.db, actor.user_id).await?,
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let mut out = Vec::new();
        for c in waiting {
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
            if !steps.is_empty() {
                out.push((c, steps));
            }
        }
        out.reverse();
        Ok(out)
    }
}

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

/// The highest page number a list accepts.
pub const MAX_PAGE: i64 = 1_000_000;

impl App {
    /// A page of the cases the actor may see, newest first, optionally in one stage.
    pub async fn cases_page(
        &self,
        actor: &Actor,
        stage: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<repo::Listed>, i64)> {
        let organization_id = listed_organization(actor)?;
        if let Some(s) = stage
            && Stage::parse(s).is_none()
        {
            return Err(AppError::invalid(
                "stage",
                format!("未知的阶段“{s}”"),
                format!("unknown stage \"{s}\""),
            ));
        }
        if !(1..=200).contains(&per_page) {
            return Err(AppError::invalid(
                "per_page",
                "每页条数应在 1 到 200 之间",
                "per_page must be between 1 and 200",
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
        let filter = repo::Filter {
            organization_id,
            stage,
            open_only: false,
        };
        Ok(repo::page(&self.db, &filter, per_page, (page - 1) * per_page).await?)
    }

    /// 工作台: every open case with its project clock, most urgent first (九.3: warn 15 days
    /// before the 3-month target and the 6-month limit, flag overdue). Centre staff only.
    pub async fn dashboard(&self, actor: &Actor) -> Result<Vec<DashboardRow>> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        listed_organization(actor)?;
        let filter = repo::Filter {
            organization_id: None,
            stage: None,
            open_only: true,
        };
        let (rows, _) = repo::page(&self.db, &filter, i64::MAX, 0).await?;
        let mut pauses: std::collections::HashMap<i64, Vec<Pause>> = Default::default();
        for (case_id, p) in repo::open_pauses(&self.db).await? {
            if let Some(start) = date(&p.start_on) {
                pauses.entry(case_id).or_default().push(Pause {
                    start,
                    end: p.end_on.as_deref().and_then(date),
                });
            }
        }
        let today = self.clock.today();
        let mut out: Vec<DashboardRow> = rows
            .into_iter()
            .map(|l| {
                let stage = l.case.stage;
                let clock = l.case.filed_on.as_deref().and_then(date).map(|filed| {
                    let ps = pauses.get(&l.case.id).map_or(&[][..], |v| v.as_slice());
                    clock::compute(filed, ps, today, None)
                });
                DashboardRow {
                    case: l.case,
                    org_name: l.org_name,
                    stage,
                    clock,
                }
            })
            .collect();
        out.sort_by_key(|r| (r.urgency(), r.case.id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
