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
    /// The registrar records receipt of the stamped, bound paper copy (5.2, condition 2),
    /// received today, without a tracking number (handed in).
    pub async fn record_paper_copy(&self, actor: &Actor, id: i64) -> Result<()> {
        let today = self.clock.today();
        self.record_paper_copy_received(actor, id, today, "").await
    }

    /// The registrar records the paper copy with the day it arrived and the courier's
    /// tracking number (the guide: sent by express, 四). The day may not be in the future
    /// nor before the application was submitted.
    pub async fn record_paper_copy_received(
        &self,
        actor: &Actor,
        id: i64,
        received_on: chrono::NaiveDate,
        tracking_no: &str,
    ) -> Result<()> {
        let c = self.load(actor, id).await?;
        self.authorize_case(actor, &c, CaseAction::RecordPaperCopy)
            .await?;
        require_stage(&c, &[Stage::Submitted])?;
        let tracking_no = tracking_no.trim();
        crate::limits::bounded("tracking_no", tracking_no, 64)?;
        if received_on > self.clock.today() {
            return Err(AppError::invalid(
                "received_on",
                "收到日期不能晚于今天",
                "the day received cannot be after today",
            ));
        }
        let submitted = repo::rounds(&self.db, id)
            .await?
            .last()
            .and_then(|r| chrono::DateTime::from_timestamp_micros(r.submitted_us))
            .map(|t| {
                t.with_timezone(&zizhi_domain::period::china_standard_time())
                    .date_naive()
            });
        // (A clock set back before the submission, as the demo's dated cases run, makes no
        // day impossible.)
        if let Some(s) = submitted
            && s <= self.clock.today()
            && received_on < s
        {
            return Err(AppError::invalid(
                "received_on",
                format!("收到日期不能早于在线提交的日期（{s}）"),
                format!("the day received cannot be before the online submission ({s})"),
            ));
        }
        let mut tx = self.db.begin().await?;
        let mut locked = repo::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        locked.paper_received_us = Some(zizhi_store::now_us());
        repo::update(&mut tx, &locked).await?;
        zizhi_store::receipts::record_paper_copy(
            &mut tx,
            id,
            &received_on.to_string(),
            tracking_no,
            actor.user_id,
        )
        .await?;
        self.record(
            &mut tx,
            Some(actor),
            "case.paper_copy_received",
            id,
            json!({"after": {"received_on": received_on.to_string(), "tracking_no": tracking_no}}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The paper copy as recorded, if it is.
    pub async fn paper_copy(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<Option<zizhi_store::receipts::PaperCopy>> {
        self.load(actor, id).await?;
        Ok(zizhi_store::receipts::paper_copy(&self.db, id).await?)
    }

    /// [`App::paper_copy`] of a case already read for its viewer.
    pub async fn paper_copy_of(
        &self,
        d: &crate::cases::CaseDetail,
    ) -> Result<Option<zizhi_store::receipts::PaperCopy>> {
        Ok(self.records_of(d).await?.paper.clone())
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
