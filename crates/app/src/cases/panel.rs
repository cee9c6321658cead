//! The expert panel (专家组, 5.4): the seated experts vote on the dossier fixed by the audit
//! conclusion, and the panel concludes: pass to certification, fail, or return to evaluation.

use serde_json::json;
use zizhi_domain::case::{Stage, Transition};
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow};
use zizhi_store::evaluation as ev;

use super::require_stage;
use super::transition::{Effects, Step};
use crate::notify::messages;
use crate::policy::Actor;
use crate::{App, AppError, Result};

pub const VOTES: [&str; 3] = ["pass", "fail", "return"];

impl App {
    /// A panel member votes on the current review round.
    pub async fn panel_vote(
        &self,
        actor: &Actor,
        case_id: i64,
        vote: &str,
        opinion: &str,
    ) -> Result<()> {
        let c = repo::get(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let members = ev::members(&self.db, case_id).await?;
        if !members
            .iter()
            .any(|m| m.user_id == actor.user_id && m.duty == "expert")
        {
            return Err(AppError::Forbidden);
        }
        require_stage(&c, &[Stage::ExpertReview])?;
        if !VOTES.contains(&vote) {
            return Err(AppError::invalid(
                "vote",
                "表决应为 pass、fail 或 return",
                "vote must be pass, fail or return",
            ));
        }
        if opinion.trim().is_empty() {
            return Err(AppError::invalid(
                "opinion",
                "请填写专家评审意见",
                "write the review opinion",
            ));
        }
        let mut tx = self.db.begin().await?;
        ev::add_vote(
            &mut tx,
            case_id,
            actor.user_id,
            vote,
            opinion.trim(),
            c.review_round,
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Store(zizhi_store::StoreError::Conflict(_)) => AppError::Conflict {
                field: "vote".into(),
            },
            other => other,
        })?;
        self.record(
            &mut tx,
            Some(actor),
            "case.panel_vote",
            case_id,
            json!({"vote": vote, "round": c.review_round, "dossier_hash": c.dossier_hash}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The votes of the current review round (centre staff).
    pub async fn votes(
        &self,
        actor: &Actor,
        case_id: i64,
    ) -> Result<Vec<zizhi_store::evaluation::Vote>> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        let c = repo::get(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        Ok(ev::votes(&self.db, case_id, c.review_round).await?)
    }

    /// A panel member records the conclusion once every member has voted this round.
    pub(super) async fn on_panel(
        &self,
        _tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        let members = ev::members(&self.db, c.id).await?;
        let experts: Vec<i64> = members
            .iter()
            .filter(|m| m.duty == "expert")
            .map(|m| m.user_id)
            .collect();
        if !step.actor.is_some_and(|a| experts.contains(&a.user_id)) {
            return Err(AppError::Forbidden);
        }
        let votes = ev::votes(&self.db, c.id, c.review_round).await?;
        let pending: Vec<i64> = experts
            .iter()
            .copied()
            .filter(|e| !votes.iter().any(|v| v.expert_id == *e))
            .collect();
        if !pending.is_empty() {
            return Err(AppError::invalid(
                "votes",
                format!("尚有 {} 位专家未表决", pending.len()),
                format!("{} experts have not voted", pending.len()),
            ));
        }
        fx.summary["dossier_hash"] = json!(c.dossier_hash);
        fx.summary["votes"] = json!(
            votes
                .iter()
                .map(|v| json!({"expert_id": v.expert_id, "vote": v.vote}))
                .collect::<Vec<_>>()
        );
        match step.t {
            Transition::PanelFail => {
                c.closed_on = Some(step.today.to_string());
                // 七: the applicant may appeal the conclusion in writing.
                fx.mail = Some(messages::panel_failed(step.note));
            }
            Transition::PanelPass => fx.mail = Some(messages::panel_passed()),
            _ => {}
        }
        Ok(())
    }
}
