//! Filing (建档立项, 5.2): the registrar records the stamped, bound paper copy; the case is filed
//! when the three conditions of 5.2 hold, and the project clock starts (九.3).

use serde_json::json;
use zizhi_domain::case::Stage;
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow};

use super::transition::{Effects, Step};
use super::{case_number, require_stage};
use crate::notify::messages;
use crate::policy::Actor;
use crate::{App, AppError, Result};

impl App {
    /// The registrar records receipt of the stamped, bound paper copy (5.2, condition 2).
    pub async fn record_paper_copy(&self, actor: &Actor, id: i64) -> Result<()> {
        let c = self.load(actor, id).await?;
        if actor.role != zizhi_domain::roles::Role::Registrar {
            return Err(AppError::Forbidden);
        }
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

    pub(super) async fn on_filing(
        &self,
        _tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        c.filed_on = Some(step.today.to_string());
        fx.mail = Some(messages::filed(&case_number(c), step.today));
        Ok(())
    }
}
