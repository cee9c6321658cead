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

use super::case_facts;
use crate::notify::messages::Mail;
use crate::policy::{Actor, CaseAction};
use crate::{App, AppError, Result};

/// The transition being made, as the stage effects see it.
pub(crate) struct Step<'a> {
    pub actor: Option<&'a Actor>,
    pub t: Transition,
    /// Filing names the project lead (建档立项).
    pub lead_id: Option<i64>,
    /// Extending the supplement deadline names the new last day (else one month from today).
    pub extend_to: Option<NaiveDate>,
    pub note: &'a str,
    pub today: NaiveDate,
}

/// A step's extra input beyond its note.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StepInput {
    pub lead_id: Option<i64>,
    pub extend_to: Option<NaiveDate>,
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
        self.transition_case_with(actor, id, t, note, None).await
    }

    /// Performs a transition with its extra input: filing (建档立项) names the project lead.
    pub async fn transition_case_with(
        &self,
        actor: &Actor,
        id: i64,
        t: Transition,
        note: &str,
        lead_id: Option<i64>,
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
        self.apply(
            Some(actor),
            id,
            t,
            note,
            today,
            StepInput {
                lead_id,
                ..Default::default()
            },
        )
        .await
    }

    /// 延长补充资料期限: the lead names the new last day (the guide gives the first month,
    /// 5.2, and no length for an extension), after today.
    pub async fn extend_supplement(
        &self,
        actor: &Actor,
        id: i64,
        until: NaiveDate,
        note: &str,
    ) -> Result<CaseRow> {
        self.load(actor, id).await?;
        let today = self.clock.today();
        if until <= today {
            return Err(AppError::invalid(
                "until",
                "新的补充资料期限应晚于今天",
                "the new supplement deadline must be after today",
            ));
        }
        self.apply(
            Some(actor),
            id,
            Transition::ExtendSupplement,
            note,
            today,
            StepInput {
                extend_to: Some(until),
                ..Default::default()
            },
        )
        .await
    }

    pub(crate) async fn apply(
        &self,
        actor: Option<&Actor>,
        id: i64,
        t: Transition,
        note: &str,
        today: NaiveDate,
        input: StepInput,
    ) -> Result<CaseRow> {
        use Transition::*;
        // A person acts in their role; without one, the system acts (deadlines).
        let by = actor.map_or(Performer::System, |a| Performer::Role(a.role));
        let note = note.trim();
        crate::limits::bounded("note", note, crate::limits::TEXT)?;
        if t.needs_note() && note.is_empty() {
            let (zh, en) = match t {
                ReturnToApplicant => ("请写明退回的理由", "give the reason for returning it"),
                PanelPass | PanelFail | PanelReturn => (
                    "请填写专家组的评审意见（专家评审意见）",
                    "write the panel's opinion",
                ),
                _ => ("请填写审查意见或理由", "write the opinion or the reason"),
            };
            return Err(AppError::invalid("note", zh, en));
        }
        let mut tx = self.db.begin().await?;
        let mut c = repo::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let from = c.stage;
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
        // The policy, with the actor's seats on this case (the system acts by the calendar).
        if let Some(a) = actor {
            self.authorize_case(a, &c, CaseAction::Transition(t))
                .await?;
        }
        let step = Step {
            actor,
            t,
            lead_id: input.lead_id,
            extend_to: input.extend_to,
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
            File | ReturnToApplicant => self.on_filing(&mut tx, &step, &mut c, &mut fx).await?,
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
        c.stage = to;
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
        // The step's formal letter, if it has one (after the step: the step stands either way).
        self.letter_after(actor, &c, t, note).await;
        Ok(c)
    }

    /// Queues an e-mail to the applicant, in the change's transaction: to the organisation's
    /// designated e-mail (申请单位指定电子邮箱, 5.3) and its users, each address once.
    pub(crate) async fn mail_applicant(
        &self,
        tx: &mut Tx,
        c: &CaseRow,
        m: &Mail,
        attach: &[Attachment],
    ) -> Result<()> {
        // Every message about a case names it and links to it (issue 13): the number in the
        // subject, an absolute link at the end.
        let number = super::case_number(c);
        let link = format!(
            "{}/cases/{}",
            self.documents.public_url.trim_end_matches('/'),
            c.id
        );
        let m = Mail {
            subject: if m.subject.contains(&number) {
                m.subject.clone()
            } else {
                format!("【{number}】{}", m.subject)
            },
            body: format!(
                "{}\n\n案件编号 / Case: {number}\n查看 / View: {link}\n",
                m.body.trim_end()
            ),
        };
        self.mail_organization(tx, c.organization_id, &m, attach)
            .await
    }

    /// Queues an e-mail to an organisation: its designated e-mail and its users, each address
    /// once, in the caller's transaction.
    pub(crate) async fn mail_organization(
        &self,
        tx: &mut Tx,
        organization_id: i64,
        m: &Mail,
        attach: &[Attachment],
    ) -> Result<()> {
        let mut to: Vec<String> = Vec::new();
        if let Some(o) = zizhi_store::organizations::get(&self.db, organization_id).await?
            && !o.contact_email.is_empty()
        {
            to.push(o.contact_email);
        }
        for email in users::emails_of_organization(&self.db, organization_id).await? {
            if !to.iter().any(|t| t.eq_ignore_ascii_case(&email)) {
                to.push(email);
            }
        }
        for email in to {
            outbox::enqueue_with(tx, &email, &m.subject, &m.body, attach).await?;
        }
        Ok(())
    }
}
