//! Filing (建档立项, 5.2): the registrar records the stamped, bound paper copy; the case is filed
//! when the three conditions of 5.2 hold, and the project clock starts (九.3).

use serde_json::json;
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::roles::Role;
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow};

use super::transition::{Effects, Step};
use super::{case_number, require_stage};
use crate::notify::messages;
use crate::policy::{Actor, CaseAction};
use crate::{App, AppError, Result};

impl App {
    /// The registrar records receipt of the stamped, bound paper copy (5.2, condition 2).
    pub async fn record_paper_copy(&self, actor: &Actor, id: i64) -> Result<()> {
        let c = self.load(actor, id).await?;
        self.authorize_case(actor, &c, CaseAction::RecordPaperCopy)
            .await?;
        require_stage(&c, &[Stage::Submitted])?;
        let mut tx = self.db.begin().await?;
        let mut locked = repo::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        locked.paper_received_us = Some(zizhi_store::now_us());
        repo::update(&mut tx, &locked).await?;
        self.record(
            &mut tx,
            Some(actor),
            "case.paper_copy_received",
            id,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Filing names the project lead (项目负责人), who alone takes the lead's steps from now
    /// on; returning gives the application back to the applicant (退回), whose round stays on
    /// the record, and asks for a new paper copy with the amended application.
    pub(super) async fn on_filing(
        &self,
        _tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        if step.t == Transition::ReturnToApplicant {
            c.paper_received_us = None;
            fx.mail = Some(messages::returned(&case_number(c), step.note));
            return Ok(());
        }
        let lead_id = step.lead_id.ok_or_else(|| {
            AppError::invalid(
                "lead_id",
                "建档立项须指定项目负责人",
                "filing names the project lead: give lead_id",
            )
        })?;
        let lead = self
            .seatable(lead_id, Role::ProjectLead, c.organization_id, "lead_id")
            .await?;
        c.lead_id = Some(lead.id);
        c.filed_on = Some(step.today.to_string());
        fx.summary["lead"] = json!({"id": lead.id, "username": lead.username});
        fx.mail = Some(messages::filed(&case_number(c), step.today));
        Ok(())
    }

    /// A supervisor hands the case to another project lead, with a reason (audited).
    pub async fn reassign_lead(
        &self,
        actor: &Actor,
        id: i64,
        lead_id: i64,
        reason: &str,
    ) -> Result<CaseRow> {
        let c = self.load(actor, id).await?;
        self.authorize_case(actor, &c, CaseAction::ReassignLead)
            .await?;
        let reason = reason.trim();
        crate::limits::bounded("reason", reason, crate::limits::TEXT)?;
        if reason.is_empty() {
            return Err(AppError::invalid(
                "reason",
                "请写明更换项目负责人的理由",
                "give the reason for the reassignment",
            ));
        }
        if c.filed_on.is_none() || c.stage.is_closed() {
            return Err(AppError::WrongStage {
                current: c.stage.name(),
            });
        }
        let lead = self
            .seatable(lead_id, Role::ProjectLead, c.organization_id, "lead_id")
            .await?;
        if c.lead_id == Some(lead.id) {
            return Err(AppError::invalid(
                "lead_id",
                "该用户已是本项目的项目负责人",
                "this user is already the case's lead",
            ));
        }
        let mut tx = self.db.begin().await?;
        let mut locked = repo::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let before = locked.lead_id;
        locked.lead_id = Some(lead.id);
        repo::update(&mut tx, &locked).await?;
        self.record(
            &mut tx,
            Some(actor),
            "case.reassign_lead",
            id,
            json!({"before": {"lead_id": before}, "after": {"lead_id": lead.id}, "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        Ok(locked)
    }
}
