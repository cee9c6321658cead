//! One transition of a case, always in the same order: lock the case → the domain's state
//! machine (`zizhi_domain::case::check`) → the policy with the actor's seat on the case → the
//! stage's own effects (in the stage's module) → write the case and its history → queue the
//! e-mail → append the audit event; all in one transaction.

use chrono::NaiveDate;
use serde_json::json;
use zizhi_domain::case::{self, FilingFacts, Performer, Transition, TransitionError};
use zizhi_domain::lang::Text;
use zizhi_store::cases::{self as repo, CaseRow};
use zizhi_store::outbox::{self, Attachment};
use zizhi_store::{Tx, users};

use super::{case_facts, stage_of};
use crate::notify::messages::Mail;
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// The transition being made, as the stage effects see it.
pub(crate) struct Step<'a> {
    pub actor: Option<&'a Actor>,
    pub t: Transition,
    pub note: &'a str,
    pub today: NaiveDate,
}

/// What a stage's effects add to the transition: the audit summary's fields, the applicant's
/// e-mail and its attachments.
pub(crate) struct Effects {
    pub summary: serde_json::Value,
    pub mail: Option<Mail>,
    pub attach: Vec<Attachment>,
}

impl App {
    /// Performs a transition on behalf of a signed-in actor.
    pub async fn transition_case(
        &self,
        actor: &Actor,
        id: i64,
        t: Transition,
        note: &str,
    ) -> Result<CaseRow> {
        if t == Transition::Issue || t == Transition::MarkLapsed {
            // Issue runs through the batch (App::issue_batch), never one case on its own;
            // lapsing is the system's.
            return Err(AppError::invalid(
                "transition",
                "该操作不能单独执行",
                "this step is not taken on its own",
            ));
        }
        self.load(actor, id).await?;
        let today = self.clock.today();
        self.apply(Some(actor), Performer::Role(actor.role), id, t, note, today)
            .await
    }

    pub(crate) async fn apply(
        &self,
        actor: Option<&Actor>,
        by: Performer,
        id: i64,
        t: Transition,
        note: &str,
        today: NaiveDate,
    ) -> Result<CaseRow> {
        use Transition::*;
        let note = note.trim();
        if matches!(
            t,
            RequestSupplement | NotAccept | Accept | ExtendSupplement | Terminate
        ) && note.is_empty()
        {
            return Err(AppError::invalid(
                "note",
                "请填写审查意见或理由",
                "write the opinion or the reason",
            ));
        }
        let mut tx = self.db.begin().await?;
        let mut c = repo::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let from = stage_of(&c)?;
        if let Some(a) = actor
            && a.role == zizhi_domain::roles::Role::Applicant
            && a.organization_id != Some(c.organization_id)
        {
            return Err(AppError::Forbidden);
        }
        // Filing facts matter only where filing can happen (wrong stages answer 409 first).
        let filing = if t == File && t.target(from).is_some() {
            // A submitted case's facts were validated at submission.
            let facts = case_facts(&c)?;
            Some(FilingFacts {
                independent_legal_person: facts.organization.independent_legal_person,
                paper_copy_received: c.paper_received_us.is_some(),
                electronic_materials_attached: zizhi_store::review::linked_count(&self.db, id)
                    .await?
                    > 0,
            })
        } else {
            None
        };
        let to = case::check(t, from, by, filing.as_ref()).map_err(|e| match e {
            TransitionError::WrongRole { .. } => AppError::Forbidden,
            TransitionError::WrongStage { current } => AppError::WrongStage {
                current: current.name(),
            },
            TransitionError::FilingConditions(missing) => {
                let texts: Vec<Text> = missing.iter().map(|m| m.text()).collect();
                AppError::Invalid {
                    field: "filing".into(),
                    problem: Text::join(&texts, "；", "; "),
                }
            }
        })?;
        let step = Step {
            actor,
            t,
            note,
            today,
        };
        let mut fx = Effects {
            summary: json!({"before": {"stage": from.as_str()}, "after": {"stage": to.as_str()}, "note": note}),
            mail: None,
            attach: Vec::new(),
        };
        match t {
            Submit | Resubmit | Withdraw => {
                self.on_submission(&mut tx, &step, &mut c, &mut fx).await?
            }
            File => self.on_filing(&mut tx, &step, &mut c, &mut fx).await?,
            RequestSupplement | ExtendSupplement | NotAccept | Accept | Terminate | MarkLapsed => {
                self.on_acceptance(&mut tx, &step, &mut c, &mut fx).await?
            }
            SendAgreement | RecordSignedAgreement | ApproveAgreement | ConfirmPayment => {
                self.on_agreement(&mut tx, &step, &mut c, &mut fx).await?
            }
            ConcludeAudit => {
                self.on_conclude_audit(&mut tx, &step, &mut c, &mut fx)
                    .await?
            }
            PanelPass | PanelFail | PanelReturn => {
                self.on_panel(&mut tx, &step, &mut c, &mut fx).await?
            }
            Issue => self.on_issue(&mut tx, &step, &mut c, &mut fx).await?,
        }
        c.stage = to.as_str().to_string();
        repo::update(&mut tx, &c).await?;
        repo::add_transition(
            &mut tx,
            id,
            t.as_str(),
            from.as_str(),
            to.as_str(),
            actor.map(|a| a.user_id),
            note,
        )
        .await?;
        if let Some(m) = fx.mail {
            self.mail_applicant(&mut tx, &c, &m, &fx.attach).await?;
        }
        self.record(
            &mut tx,
            actor,
            &format!("case.{}", t.as_str()),
            id,
            fx.summary,
        )
        .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Queues an e-mail to the applicant organisation's users, in the change's transaction.
    pub(crate) async fn mail_applicant(
        &self,
        tx: &mut Tx,
        c: &CaseRow,
        m: &Mail,
        attach: &[Attachment],
    ) -> Result<()> {
        for email in users::emails_of_organization(&self.db, c.organization_id).await? {
            outbox::enqueue_with(tx, &email, &m.subject, &m.body, attach).await?;
        }
        Ok(())
    }
}
