//! Acceptance review (受理审查, 5.2): the project lead judges the evidence of the round in five
//! areas and decides: accept, refuse, or ask for a supplement within one month (a Civil Code
//! period over the holiday calendar), which pauses the project clock until the applicant
//! resubmits; past the deadline the case lapses, and the lead extends or terminates.

use chrono::NaiveDate;
use serde_json::json;
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::period::{PeriodLength, period_end};
use zizhi_domain::review::{Area, decision_ready};
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow};
use zizhi_store::review::{self as store, AreaRow};

use super::require_stage;
use super::transition::{Effects, Step};
use crate::notify::messages;
use crate::policy::{Actor, CaseAction};
use crate::{App, AppError, Result};

impl App {
    /// The lead judges one area of the acceptance review for the current submission round.
    pub async fn record_review_area(
        &self,
        actor: &Actor,
        case_id: i64,
        area: &str,
        sufficient: bool,
        opinion: &str,
    ) -> Result<()> {
        self.record_review_areas(actor, case_id, &[(area, sufficient, opinion)])
            .await
    }

    /// Several areas' judgements at once (the page's one form), all or none: every area is
    /// checked before anything is written, then all are written in one transaction.
    pub async fn record_review_areas(
        &self,
        actor: &Actor,
        case_id: i64,
        judged: &[(&str, bool, &str)],
    ) -> Result<()> {
        let c = self.load(actor, case_id).await?;
        self.authorize_case(actor, &c, CaseAction::JudgeReviewArea)
            .await?;
        require_stage(&c, &[Stage::AcceptanceReview])?;
        let mut checked = Vec::with_capacity(judged.len());
        for (area, sufficient, opinion) in judged {
            let area = Area::parse(area).ok_or_else(|| {
                AppError::invalid(
                    "area",
                    "方面应为 formal_conformity、basic_qualification、basic_capability、process_capability 或 organisational_management",
                    "area must be formal_conformity, basic_qualification, basic_capability, process_capability or organisational_management",
                )
            })?;
            let opinion = opinion.trim();
            crate::limits::bounded("opinion", opinion, crate::limits::TEXT)?;
            if opinion.is_empty() {
                return Err(AppError::invalid(
                    "opinion",
                    format!("请填写“{}”的审查意见", area.name().zh),
                    format!("write the opinion on {}", area.name().en),
                ));
            }
            checked.push((area, *sufficient, opinion));
        }
        let round = repo::last_round(&self.db, case_id).await?;
        let mut tx = self.db.begin().await?;
        for (area, sufficient, opinion) in checked {
            store::upsert_area(
                &mut tx,
                case_id,
                round,
                area.as_str(),
                sufficient,
                opinion,
                actor.user_id,
            )
            .await?;
            self.record(
                &mut tx,
                Some(actor),
                "case.review_area",
                case_id,
                json!({"round": round, "area": area.as_str(), "sufficient": sufficient}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The area judgements of the latest submission round (what the decision rests on).
    pub async fn review_areas(&self, actor: &Actor, case_id: i64) -> Result<Vec<AreaRow>> {
        self.load(actor, case_id).await?;
        let round = repo::last_round(&self.db, case_id).await?;
        Ok(store::areas(&self.db, case_id, round).await?)
    }

    /// The area judgements of the latest round of a case read through `App::case`.
    pub async fn review_areas_of(&self, d: &crate::cases::CaseDetail) -> Result<Vec<AreaRow>> {
        Ok(self.records_of(d).await?.areas.clone())
    }

    /// Marks lapsed every supplementing case whose deadline passed before `today` (the system).
    pub async fn lapse_overdue_supplements(&self, today: NaiveDate) -> Result<usize> {
        let ids = repo::supplement_overdue(&self.db, &today.to_string()).await?;
        for id in &ids {
            self.apply(
                None,
                *id,
                Transition::MarkLapsed,
                "补充资料期限已过 / supplement deadline passed",
                today,
                Default::default(),
            )
            .await?;
        }
        Ok(ids.len())
    }

    /// The decisions of the review rest on the five areas of this round (5.2); a supplement
    /// runs one month from the review e-mail, sent today.
    pub(super) async fn on_acceptance(
        &self,
        tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        use Transition::*;
        let (t, note, today) = (step.t, step.note, step.today);
        let day = today.to_string();
        let mut areas_text = String::new();
        if matches!(t, Accept | RequestSupplement | NotAccept) {
            let round = repo::last_round(&self.db, c.id).await?;
            let rows = store::areas(&self.db, c.id, round).await?;
            let judged: Vec<(Area, bool)> = rows
                .iter()
                .filter_map(|r| Some((Area::parse(&r.area)?, r.sufficient)))
                .collect();
            decision_ready(t, &judged).map_err(|g| AppError::Invalid {
                field: "areas".into(),
                problem: g.text(),
            })?;
            for (a, ok) in &judged {
                let opinion = rows
                    .iter()
                    .find(|r| r.area == a.as_str())
                    .map_or("", |r| r.opinion.as_str());
                let n = a.name();
                areas_text.push_str(&format!(
                    "· {} / {}：{}\n  {opinion}\n",
                    n.zh,
                    n.en,
                    if *ok {
                        "证据充分 / sufficient"
                    } else {
                        "证据不充分 / insufficient"
                    }
                ));
            }
        }
        match t {
            RequestSupplement | ExtendSupplement => {
                let mut dl = period_end(today, PeriodLength::Months(1), &self.config.calendar);
                // An extension to the day the lead named (a day, not a period: final).
                if let Some(until) = step.extend_to.filter(|_| t == ExtendSupplement) {
                    dl.last_day = until;
                    dl.provisional = false;
                }
                c.supplement_due = Some(dl.last_day.to_string());
                fx.summary["supplement_due"] = json!(dl.last_day.to_string());
                fx.summary["provisional"] = json!(dl.provisional);
                if t == RequestSupplement {
                    repo::open_pause(tx, c.id, &day).await?;
                }
                fx.mail = Some(messages::supplement_requested(
                    note,
                    &areas_text,
                    dl.last_day,
                ));
            }
            NotAccept | Accept => {
                if t == NotAccept {
                    c.closed_on = Some(day.clone());
                }
                fx.mail = Some(messages::acceptance_decided(t == Accept, note, &areas_text));
            }
            Terminate => {
                c.closed_on = Some(day.clone());
                repo::close_pause(tx, c.id, &day).await?;
                fx.mail = Some(messages::terminated(note));
            }
            MarkLapsed => {
                fx.mail = Some(messages::lapsed(c.supplement_due.as_deref().unwrap_or("-")));
            }
            _ => {}
        }
        Ok(())
    }
}
