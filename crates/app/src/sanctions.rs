//! Sanctions (处置, guide 六): the supervision department (监督部门) proposes one of the four
//! measures against a holder's certificate; a suspension or revocation takes effect only when
//! an approver (a second person) confirms it; a rectification demand and a suspension wait for
//! the holder's rectification, which the supervisor verifies; a verified rectification lifts a
//! suspension; a revocation is final. Each step is one transaction with its audit event, its
//! e-mail and, where the certificate's public status changes, its status history.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use zizhi_domain::period::{PeriodLength, period_end};
use zizhi_domain::profile::CertificateStatus;
use zizhi_domain::roles::Role;
use zizhi_domain::sanction::{self as rules, Measure, SanctionState};
use zizhi_store::Tx;
use zizhi_store::sanctions::{self as store, Rectification, Sanction};

use crate::limits::{TEXT, bounded};
use crate::notify::messages;
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// What the supervisor proposes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Proposal {
    pub certificate_number: String,
    /// `warning`, `rectification`, `suspension` or `revocation`.
    pub measure: String,
    /// The violation found (违规事实).
    pub violation: String,
    /// The evidence it rests on.
    pub evidence: String,
    /// Why this measure (处置理由).
    pub reasoning: String,
    /// Days to rectify (rectification, suspension); the centre's `rectification_days` when
    /// absent.
    #[serde(default)]
    pub rectification_days: Option<u32>,
}

/// A sanction with what the holder sent.
#[derive(Debug, Clone)]
pub struct SanctionView {
    pub sanction: Sanction,
    pub rectifications: Vec<Rectification>,
    /// Past its rectification deadline with nothing verified (escalate it).
    pub overdue: bool,
}

fn text_field(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid(field, "不能为空", "must not be empty"));
    }
    bounded(field, v, TEXT)?;
    Ok(v.to_string())
}

fn staff_ready(actor: &Actor, role: Role) -> Result<()> {
    if actor.role != role || actor.needs_totp_enrollment || actor.must_change_password {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// The certificate's status as the register shows it today (expired once past its last day).
fn register_status(status: &str, valid_until: &str, today: NaiveDate) -> CertificateStatus {
    let stored = CertificateStatus::parse(status).unwrap_or(CertificateStatus::Valid);
    match zizhi_domain::calendar::parse_date(valid_until) {
        Some(until) if stored == CertificateStatus::Valid && until < today => {
            CertificateStatus::Expired
        }
        _ => stored,
    }
}

/// Refuses a measure the certificate's status today rules out (六), naming the certificate.
fn sanctionable(
    measure: Measure,
    cert: &zizhi_store::certificates::Certificate,
    today: NaiveDate,
) -> Result<()> {
    let status = register_status(&cert.status, &cert.valid_until, today);
    match rules::refusal(measure, status) {
        Some(why) => Err(AppError::Invalid {
            field: "certificate_number".into(),
            problem: why,
        }),
        None => Ok(()),
    }
}

fn wrong_state(s: &Sanction, wanted: &str, wanted_en: &str) -> AppError {
    let now = s.state.name();
    AppError::invalid(
        "state",
        format!("该处置现为「{}」，{wanted}", now.zh),
        format!("this sanction is \"{}\"; {wanted_en}", now.en),
    )
}

impl App {
    fn today_str(&self) -> String {
        self.clock.today().to_string()
    }

    /// The last day to rectify for a period of `days` starting today (Civil Code art. 201–203
    /// over the holiday calendar, as the supplement deadline of 5.2).
    fn rectify_by(&self, days: u32) -> NaiveDate {
        period_end(
            self.clock.today(),
            PeriodLength::Days(days),
            &self.config.calendar,
        )
        .last_day
    }

    /// The supervisor proposes a measure against a certificate (六).
    pub async fn propose_sanction(&self, actor: &Actor, p: &Proposal) -> Result<SanctionView> {
        staff_ready(actor, Role::Supervisor)?;
        let measure = Measure::parse(p.measure.trim()).ok_or_else(|| {
            AppError::invalid(
                "measure",
                "处置措施应为 警告、限期整改、暂停证书 或 取消证书（warning / rectification / suspension / revocation）",
                "the measure is warning, rectification, suspension or revocation",
            )
        })?;
        let violation = text_field("violation", &p.violation)?;
        let evidence = text_field("evidence", &p.evidence)?;
        let reasoning = text_field("reasoning", &p.reasoning)?;
        let days = match p.rectification_days {
            None => self.config.rectification_days,
            Some(d) if (1..=365).contains(&d) => d,
            Some(_) => {
                return Err(AppError::invalid(
                    "rectification_days",
                    "整改期限应为 1 至 365 天",
                    "the rectification period is 1 to 365 days",
                ));
            }
        };
        let number = p.certificate_number.trim();
        let cert = zizhi_store::certificates::by_number(&self.db, number)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "certificate_number",
                    format!("没有编号为 {number} 的证书"),
                    format!("there is no certificate numbered {number}"),
                )
            })?;
        let today = self.clock.today();
        sanctionable(measure, &cert, today)?;
        let state = if measure.needs_confirmation() {
            SanctionState::Proposed
        } else {
            SanctionState::in_force(measure)
        };
        // The period runs from the day the measure takes effect: now, or on confirmation.
        let rectify_by = (measure.demands_rectification() && !measure.needs_confirmation())
            .then(|| self.rectify_by(days).to_string());
        let mut tx = self.db.begin().await?;
        let id = store::insert(
            &mut tx,
            &store::NewSanction {
                certificate_id: cert.id,
                measure,
                state,
                violation: &violation,
                evidence: &evidence,
                reasoning: &reasoning,
                proposed_by: actor.user_id,
                proposed_on: &today.to_string(),
                rectification_days: measure.demands_rectification().then_some(days as i32),
                rectify_by: rectify_by.as_deref(),
            },
        )
        .await?;
        crate::audit::record(
            &mut tx,
            actor,
            "sanction.propose",
            "sanction",
            id,
            json!({"certificate": cert.number, "measure": measure.as_str(), "state": state.as_str(),
                   "rectify_by": rectify_by, "rectification_days": days}),
        )
        .await?;
        let s = store::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("sanction"))?;
        if !measure.needs_confirmation() {
            self.sanction_takes_effect(&mut tx, &s).await?;
        }
        tx.commit().await?;
        if !measure.needs_confirmation() {
            self.sanction_letter(actor, id, false).await;
        }
        self.sanction_view(id).await
    }

    /// What happens when a measure takes effect: the certificate's status (suspension,
    /// revocation) with its history, heavier measures superseding open lighter ones, and the
    /// holder's e-mail.
    async fn sanction_takes_effect(&self, tx: &mut Tx, s: &Sanction) -> Result<()> {
        let today = self.today_str();
        if let Some(status) = s.measure.certificate_status() {
            store::change_status(tx, s.certificate_id, &today, status.as_str(), Some(s.id)).await?;
        }
        // A suspension supersedes open rectification demands (it carries the demand on); a
        // revocation ends everything still open on the certificate.
        if matches!(s.measure, Measure::Suspension | Measure::Revocation) {
            for mut other in store::open_for_certificate(tx, s.certificate_id).await? {
                let superseded = other.id != s.id
                    && (s.measure == Measure::Revocation
                        || other.measure == Measure::Rectification);
                if superseded {
                    other.state = SanctionState::Superseded;
                    other.closed_on = Some(today.clone());
                    store::save(tx, &other).await?;
                    crate::audit::record(
                        tx,
                        None,
                        "sanction.supersede",
                        "sanction",
                        other.id,
                        json!({"by_sanction": s.id, "measure": s.measure.as_str()}),
                    )
                    .await?;
                }
            }
        }
        let due = s
            .rectify_by
            .as_deref()
            .and_then(zizhi_domain::calendar::parse_date);
        let m = messages::sanction_in_force(s.measure, &s.number, &s.violation, &s.reasoning, due);
        self.mail_organization(tx, s.organization_id, &m, &[]).await
    }

    /// The approver confirms (the measure takes effect) or declines a proposed suspension or
    /// revocation. The approver is never the person who proposed it.
    pub async fn decide_sanction(
        &self,
        actor: &Actor,
        id: i64,
        confirm: bool,
        note: &str,
    ) -> Result<SanctionView> {
        staff_ready(actor, Role::Approver)?;
        bounded("note", note, TEXT)?;
        if !confirm && note.trim().is_empty() {
            return Err(AppError::invalid(
                "note",
                "不予确认须说明理由",
                "say why the measure is not confirmed",
            ));
        }
        let mut tx = self.db.begin().await?;
        let mut s = store::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("sanction"))?;
        if s.state != SanctionState::Proposed {
            return Err(wrong_state(&s, "不能再确认", "it cannot be confirmed now"));
        }
        if s.proposed_by == actor.user_id {
            return Err(AppError::invalid(
                "decided_by",
                "处置须由提出人以外的另一人确认",
                "a sanction is confirmed by someone other than the person who proposed it",
            ));
        }
        let today = self.clock.today();
        s.decided_by = Some(actor.user_id);
        s.decided_on = Some(today.to_string());
        s.decision_note = note.trim().to_string();
        if confirm {
            let cert = zizhi_store::certificates::by_number(&self.db, &s.number)
                .await?
                .ok_or(AppError::NotFound("certificate"))?;
            sanctionable(s.measure, &cert, today)?;
            s.state = SanctionState::in_force(s.measure);
            // The rectification period runs from the day the measure takes effect.
            if let Some(days) = s.rectification_days {
                s.rectify_by = Some(self.rectify_by(days.max(1) as u32).to_string());
            }
        } else {
            s.state = SanctionState::Declined;
            s.closed_on = Some(today.to_string());
        }
        store::save(&mut tx, &s).await?;
        crate::audit::record(
            &mut tx,
            actor,
            if confirm {
                "sanction.confirm"
            } else {
                "sanction.decline"
            },
            "sanction",
            id,
            json!({"certificate": s.number, "measure": s.measure.as_str(), "note": s.decision_note,
                   "rectify_by": s.rectify_by}),
        )
        .await?;
        if confirm {
            self.sanction_takes_effect(&mut tx, &s).await?;
        }
        tx.commit().await?;
        if confirm {
            self.sanction_letter(actor, id, false).await;
        }
        self.sanction_view(id).await
    }

    /// The holder sends its rectification (what was done, evidence from its file) for a
    /// rectification demand or a suspension; it may do so after the deadline (it is then
    /// overdue, and the supervisor may have escalated it).
    pub async fn submit_rectification(
        &self,
        actor: &Actor,
        id: i64,
        account: &str,
        evidence_ids: &[i64],
    ) -> Result<SanctionView> {
        let s = self.sanction_for(actor, id).await?;
        if actor.organization_id != Some(s.organization_id) {
            return Err(AppError::Forbidden);
        }
        let account = text_field("account", account)?;
        for e in evidence_ids {
            match zizhi_store::evidence::get(&self.db, *e).await? {
                Some(ev) if ev.organization_id == s.organization_id => {}
                _ => {
                    return Err(AppError::invalid(
                        "evidence_ids",
                        format!("证据 {e} 不在本单位的资料中"),
                        format!("evidence {e} is not in your organisation's file"),
                    ));
                }
            }
        }
        let mut tx = self.db.begin().await?;
        let mut s = store::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("sanction"))?;
        if s.state != SanctionState::AwaitingRectification {
            let cert_revoked = zizhi_store::certificates::by_number(&self.db, &s.number)
                .await?
                .is_some_and(|c| c.status == CertificateStatus::Revoked.as_str());
            if cert_revoked {
                return Err(AppError::invalid(
                    "state",
                    "证书已撤销，不能再提交整改",
                    "the certificate is revoked; a rectification can no longer be sent",
                ));
            }
            return Err(wrong_state(
                &s,
                "现在不能提交整改",
                "a rectification cannot be sent now",
            ));
        }
        let ids =
            serde_json::to_string(evidence_ids).map_err(|e| AppError::Internal(e.to_string()))?;
        let rid = store::insert_rectification(
            &mut tx,
            id,
            actor.user_id,
            &self.today_str(),
            &account,
            &ids,
        )
        .await?;
        s.state = SanctionState::RectificationSubmitted;
        store::save(&mut tx, &s).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "sanction.rectification_submit",
            "sanction",
            id,
            json!({"rectification": rid, "evidence_ids": evidence_ids}),
        )
        .await?;
        tx.commit().await?;
        self.sanction_view(id).await
    }

    /// The supervisor verifies the holder's rectification: accepted, the measure ends (a
    /// suspension is lifted, the certificate is valid again); rejected (with the reason), the
    /// holder sends another.
    pub async fn verify_rectification(
        &self,
        actor: &Actor,
        id: i64,
        accept: bool,
        note: &str,
    ) -> Result<SanctionView> {
        staff_ready(actor, Role::Supervisor)?;
        bounded("note", note, TEXT)?;
        if !accept && note.trim().is_empty() {
            return Err(AppError::invalid(
                "note",
                "不通过须说明理由",
                "say why the rectification is not accepted",
            ));
        }
        let today = self.today_str();
        let mut tx = self.db.begin().await?;
        let mut s = store::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("sanction"))?;
        if s.state != SanctionState::RectificationSubmitted {
            return Err(wrong_state(
                &s,
                "没有待核验的整改",
                "there is no rectification to verify",
            ));
        }
        store::judge_rectification(
            &mut tx,
            id,
            if accept { "accepted" } else { "rejected" },
            actor.user_id,
            &today,
            note.trim(),
        )
        .await?;
        let mut lifted = false;
        if accept {
            s.state = SanctionState::Rectified;
            s.closed_on = Some(today.clone());
            if s.measure == Measure::Suspension {
                // Lifted unless another suspension of the certificate is still in force.
                let others = store::open_for_certificate(&mut tx, s.certificate_id).await?;
                let still = others.iter().any(|o| {
                    o.id != s.id
                        && o.measure == Measure::Suspension
                        && o.state != SanctionState::Proposed
                });
                if !still {
                    store::change_status(
                        &mut tx,
                        s.certificate_id,
                        &today,
                        CertificateStatus::Valid.as_str(),
                        Some(s.id),
                    )
                    .await?;
                    lifted = true;
                }
            }
        } else {
            s.state = SanctionState::AwaitingRectification;
        }
        store::save(&mut tx, &s).await?;
        crate::audit::record(
            &mut tx,
            actor,
            if accept {
                "sanction.rectification_accept"
            } else {
                "sanction.rectification_reject"
            },
            "sanction",
            id,
            json!({"note": note.trim(), "suspension_lifted": lifted}),
        )
        .await?;
        let m = messages::rectification_verdict(&s.number, accept, lifted, note.trim());
        self.mail_organization(&mut tx, s.organization_id, &m, &[])
            .await?;
        tx.commit().await?;
        self.sanction_letter(actor, id, true).await;
        self.sanction_view(id).await
    }

    /// Rectifications past their deadline, escalated once each: marked, audited, and the
    /// holder told (the supervisor sees them at the top of the 待办). Idempotent; the
    /// scheduler runs it daily. Returns how many were escalated.
    pub async fn escalate_overdue_rectifications(&self) -> Result<usize> {
        let today = self.today_str();
        let due = store::overdue_unnoted(&self.db, &today).await?;
        let mut n = 0;
        for s in due {
            let mut tx = self.db.begin().await?;
            let Some(mut s) = store::get_locked(&mut tx, s.id).await? else {
                continue;
            };
            if s.overdue_noted || s.state != SanctionState::AwaitingRectification {
                continue;
            }
            s.overdue_noted = true;
            store::save(&mut tx, &s).await?;
            crate::audit::record(
                &mut tx,
                None,
                "sanction.overdue",
                "sanction",
                s.id,
                json!({"certificate": s.number, "rectify_by": s.rectify_by}),
            )
            .await?;
            let m =
                messages::rectification_overdue(&s.number, s.rectify_by.as_deref().unwrap_or("-"));
            self.mail_organization(&mut tx, s.organization_id, &m, &[])
                .await?;
            tx.commit().await?;
            n += 1;
        }
        Ok(n)
    }

    /// A sanction the actor may see: staff of the supervision department, the approvers and
    /// administrators, and the holder's own users (anyone else: not found).
    async fn sanction_for(&self, actor: &Actor, id: i64) -> Result<Sanction> {
        let s = store::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("sanction"))?;
        let sees = match actor.role {
            Role::Supervisor | Role::Approver | Role::Administrator => {
                !actor.needs_totp_enrollment && !actor.must_change_password
            }
            Role::Applicant => actor.organization_id == Some(s.organization_id),
            _ => false,
        };
        if !sees {
            return Err(AppError::NotFound("sanction"));
        }
        Ok(s)
    }

    async fn sanction_view(&self, id: i64) -> Result<SanctionView> {
        let sanction = store::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("sanction"))?;
        let rectifications = store::rectifications(&self.db, id).await?;
        let overdue = self.is_overdue(&sanction);
        Ok(SanctionView {
            sanction,
            rectifications,
            overdue,
        })
    }

    fn is_overdue(&self, s: &Sanction) -> bool {
        s.state == SanctionState::AwaitingRectification
            && s.rectify_by
                .as_deref()
                .and_then(zizhi_domain::calendar::parse_date)
                .is_some_and(|d| d < self.clock.today())
    }

    /// One sanction with its rectifications.
    pub async fn sanction(&self, actor: &Actor, id: i64) -> Result<SanctionView> {
        self.sanction_for(actor, id).await?;
        self.sanction_view(id).await
    }

    /// The sanctions the actor works on or is subject to, overdue rectifications first, then
    /// the rest newest first: the supervisor's open ones and the latest, the approver's
    /// proposals to confirm, the holder's own.
    pub async fn sanctions(&self, actor: &Actor) -> Result<Vec<SanctionView>> {
        let rows = match actor.role {
            Role::Supervisor | Role::Administrator => {
                staff_ready(actor, actor.role)?;
                store::latest(&self.db, 500).await?
            }
            Role::Approver => {
                staff_ready(actor, Role::Approver)?;
                store::latest(&self.db, 500).await?
            }
            Role::Applicant => match actor.organization_id {
                Some(org) => store::for_organization(&self.db, org).await?,
                None => Vec::new(),
            },
            _ => return Err(AppError::Forbidden),
        };
        let mut out: Vec<SanctionView> = rows
            .into_iter()
            .map(|sanction| SanctionView {
                overdue: self.is_overdue(&sanction),
                sanction,
                rectifications: Vec::new(),
            })
            .collect();
        out.sort_by_key(|v| (!v.overdue, std::cmp::Reverse(v.sanction.id)));
        Ok(out)
    }

    /// What waits for the actor among sanctions (their 待办): proposals for the approver,
    /// rectifications to verify and overdue ones for the supervisor, demands for the holder.
    pub async fn sanction_todo(&self, actor: &Actor) -> Result<Vec<SanctionView>> {
        if actor.needs_totp_enrollment || actor.must_change_password {
            return Ok(Vec::new());
        }
        let all = match actor.role {
            Role::Supervisor | Role::Approver | Role::Applicant => self.sanctions(actor).await?,
            _ => return Ok(Vec::new()),
        };
        Ok(all
            .into_iter()
            .filter(|v| match actor.role {
                Role::Approver => v.sanction.state == SanctionState::Proposed,
                Role::Supervisor => {
                    v.overdue || v.sanction.state == SanctionState::RectificationSubmitted
                }
                _ => v.sanction.state == SanctionState::AwaitingRectification,
            })
            .collect())
    }
}
