//! Appeals (申诉, guide 七): the applicant files a written appeal (grounds and evidence from its
//! file) against a non-acceptance, a failed expert review or a sanction, within the centre's
//! window; the supervision department assigns an investigator who took no part in what is
//! appealed; the investigator records findings and concludes: upheld, or overturned — the case
//! reopens at the stage the investigator chooses (a failed review with a new round and a fresh
//! panel), or the sanction is withdrawn. An open appeal puts its case on legal hold.

use serde::Deserialize;
use serde_json::json;
use zizhi_domain::appeal::{AppealState, Subject};
use zizhi_domain::case::Stage;
use zizhi_domain::period::{PeriodLength, period_end};
use zizhi_domain::profile::CertificateStatus;
use zizhi_domain::roles::Role;
use zizhi_domain::sanction::SanctionState;
use zizhi_store::appeals::{self as store, Appeal};

use crate::limits::{TEXT, bounded};
use crate::notify::messages::Mail;
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// What the applicant files.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AppealInput {
    /// `not_accepted`, `failed_review` or `sanction`.
    pub subject: String,
    pub case_id: Option<i64>,
    pub sanction_id: Option<i64>,
    pub grounds: String,
    #[serde(default)]
    pub evidence_ids: Vec<i64>,
}

fn ready(actor: &Actor) -> Result<()> {
    if actor.needs_totp_enrollment || actor.must_change_password {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

fn appeal_mail(a: &Appeal, zh: &str, en: &str, findings: &str) -> Mail {
    Mail {
        subject: format!("【资质认定】申诉 {}：{zh} / Appeal {}: {en}", a.id, a.id),
        body: format!(
            "贵单位就「{}」提出的申诉（第 {} 号）：{zh}。\n{findings}\n\nYour appeal No. {} against the {}: {en}.\n{findings}\n",
            a.subject.name().zh,
            a.id,
            a.id,
            a.subject.name().en.to_lowercase(),
        ),
    }
}

impl App {
    /// The applicant files an appeal (七).
    pub async fn file_appeal(&self, actor: &Actor, input: &AppealInput) -> Result<Appeal> {
        ready(actor)?;
        let org = match (actor.role, actor.organization_id) {
            (Role::Applicant, Some(org)) => org,
            _ => return Err(AppError::Forbidden),
        };
        let subject = Subject::parse(input.subject.trim()).ok_or_else(|| {
            AppError::invalid(
                "subject",
                "申诉事项应为 不予受理决定、专家评审未通过 或 处置决定（not_accepted / failed_review / sanction）",
                "the subject is not_accepted, failed_review or sanction",
            )
        })?;
        let grounds = input.grounds.trim();
        if grounds.is_empty() {
            return Err(AppError::invalid(
                "grounds",
                "请写明申诉理由",
                "write your grounds",
            ));
        }
        bounded("grounds", grounds, TEXT)?;
        for e in &input.evidence_ids {
            match zizhi_store::evidence::get(&self.db, *e).await? {
                Some(ev) if ev.organization_id == org => {}
                _ => {
                    return Err(AppError::invalid(
                        "evidence_ids",
                        format!("证据 {e} 不在本单位的资料中"),
                        format!("evidence {e} is not in your organisation's file"),
                    ));
                }
            }
        }
        // What is appealed, whether it can be, and the day of the decision.
        let (field, decided_on) = match subject.case_stage() {
            Some(stage) => {
                let id = input.case_id.ok_or_else(|| {
                    AppError::invalid("case_id", "请指明申诉的案件", "name the case appealed")
                })?;
                let c = zizhi_store::cases::get(&self.db, id)
                    .await?
                    .filter(|c| c.organization_id == org)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "case_id",
                            format!("本单位没有编号为 {id} 的案件"),
                            format!("your organisation has no case {id}"),
                        )
                    })?;
                if c.stage != stage {
                    return Err(AppError::invalid(
                        "case_id",
                        format!(
                            "该案件处于「{}」，不能就「{}」申诉",
                            c.stage.name().zh,
                            subject.name().zh
                        ),
                        format!(
                            "the case is \"{}\"; it cannot be appealed as a {}",
                            c.stage.name().en,
                            subject.name().en.to_lowercase()
                        ),
                    ));
                }
                ("case_id", c.closed_on.unwrap_or_default())
            }
            None => {
                let id = input.sanction_id.ok_or_else(|| {
                    AppError::invalid(
                        "sanction_id",
                        "请指明申诉的处置",
                        "name the sanction appealed",
                    )
                })?;
                let s = zizhi_store::sanctions::get(&self.db, id)
                    .await?
                    .filter(|s| s.organization_id == org)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "sanction_id",
                            format!("本单位没有编号为 {id} 的处置"),
                            format!("your organisation has no sanction {id}"),
                        )
                    })?;
                if matches!(
                    s.state,
                    SanctionState::Proposed | SanctionState::Declined | SanctionState::Withdrawn
                ) {
                    return Err(AppError::invalid(
                        "sanction_id",
                        format!("该处置现为「{}」，未生效，不能申诉", s.state.name().zh),
                        format!(
                            "this sanction is \"{}\" and not in effect; it cannot be appealed",
                            s.state.name().en
                        ),
                    ));
                }
                ("sanction_id", s.decided_on.unwrap_or(s.proposed_on))
            }
        };
        // The window runs from the decision (a centre setting; the guide gives none).
        let today = self.clock.today();
        if let Some(d) = zizhi_domain::calendar::parse_date(&decided_on) {
            let end = period_end(
                d,
                PeriodLength::Days(self.config.appeal_window_days),
                &self.config.calendar,
            );
            if !end.is_in_time(today) {
                return Err(AppError::invalid(
                    field,
                    format!(
                        "申诉期限（决定之日起 {} 日，至 {}）已过",
                        self.config.appeal_window_days, end.last_day
                    ),
                    format!(
                        "the window for appeal ({} days from the decision, until {}) has passed",
                        self.config.appeal_window_days, end.last_day
                    ),
                ));
            }
        }
        if store::open_on_subject(
            &self.db,
            input.case_id.filter(|_| field == "case_id"),
            input.sanction_id.filter(|_| field == "sanction_id"),
        )
        .await?
        .is_some()
        {
            return Err(AppError::invalid(
                field,
                "已有未结的申诉",
                "an appeal on this is already open",
            ));
        }
        let ids = serde_json::to_string(&input.evidence_ids)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        let id = store::insert(
            &mut tx,
            &store::NewAppeal {
                organization_id: org,
                subject,
                case_id: input.case_id.filter(|_| field == "case_id"),
                sanction_id: input.sanction_id.filter(|_| field == "sanction_id"),
                grounds,
                evidence_ids: &ids,
                filed_by: actor.user_id,
                filed_on: &today.to_string(),
            },
        )
        .await?;
        crate::audit::record(
            &mut tx,
            actor,
            "appeal.file",
            "appeal",
            id,
            json!({"subject": subject.as_str(), "case_id": input.case_id, "sanction_id": input.sanction_id}),
        )
        .await?;
        tx.commit().await?;
        self.appeal_row(id).await
    }

    async fn appeal_row(&self, id: i64) -> Result<Appeal> {
        store::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("appeal"))
    }

    /// Who took part in what is appealed: anyone who acted on the case (or on the sanction
    /// and the case its certificate came from), sat on its team or panel, or led it.
    async fn took_part(&self, a: &Appeal) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        let mut case_id = a.case_id;
        if let Some(sid) = a.sanction_id {
            ids.extend(
                zizhi_store::audit::actors_on(&self.db, "sanction", &sid.to_string()).await?,
            );
            if let Some(s) = zizhi_store::sanctions::get(&self.db, sid).await? {
                ids.push(s.proposed_by);
                ids.extend(s.decided_by);
                case_id = zizhi_store::certificates::by_number(&self.db, &s.number)
                    .await?
                    .map(|c| c.case_id);
            }
        }
        if let Some(cid) = case_id {
            ids.extend(zizhi_store::audit::actors_on(&self.db, "case", &cid.to_string()).await?);
            ids.extend(zizhi_store::evaluation::ever_members(&self.db, cid).await?);
            if let Some(c) = zizhi_store::cases::get(&self.db, cid).await? {
                ids.extend(c.lead_id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The supervision department assigns the investigator: centre staff (not an
    /// administrator) who took no part in what is appealed.
    pub async fn assign_investigator(
        &self,
        actor: &Actor,
        id: i64,
        investigator_id: i64,
    ) -> Result<Appeal> {
        ready(actor)?;
        if actor.role != Role::Supervisor {
            return Err(AppError::Forbidden);
        }
        let a = self.appeal_row(id).await?;
        if a.state != AppealState::Filed {
            return Err(AppError::invalid(
                "state",
                format!("该申诉现为「{}」，不能再指派", a.state.name().zh),
                format!(
                    "this appeal is \"{}\"; it cannot be assigned now",
                    a.state.name().en
                ),
            ));
        }
        let user = zizhi_store::users::by_id(&self.db, investigator_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(|| {
                AppError::invalid(
                    "investigator_id",
                    format!("没有有效的用户 {investigator_id}"),
                    format!("there is no active user {investigator_id}"),
                )
            })?;
        let role = Role::parse(&user.role);
        if !role.is_some_and(|r| r.is_staff() && r != Role::Administrator) {
            return Err(AppError::invalid(
                "investigator_id",
                "调查人须为测评中心工作人员",
                "the investigator is one of the centre's staff",
            ));
        }
        if self.took_part(&a).await?.contains(&investigator_id) {
            return Err(AppError::invalid(
                "investigator_id",
                format!("{} 参与过被申诉的事项，须回避", user.display_name),
                format!(
                    "{} took part in what is appealed and must stand aside",
                    user.display_name
                ),
            ));
        }
        let mut tx = self.db.begin().await?;
        let mut a = store::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("appeal"))?;
        a.state = AppealState::Investigating;
        a.investigator_id = Some(investigator_id);
        a.assigned_by = Some(actor.user_id);
        store::save(&mut tx, &a).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "appeal.assign",
            "appeal",
            id,
            json!({"investigator_id": investigator_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// The investigator concludes: `upheld`, or `overturned` (a case reopens at `reopen_at`;
    /// a sanction is withdrawn and what it did to the certificate undone).
    pub async fn conclude_appeal(
        &self,
        actor: &Actor,
        id: i64,
        outcome: &str,
        findings: &str,
        reopen_at: Option<&str>,
    ) -> Result<Appeal> {
        ready(actor)?;
        let a = self.appeal_row(id).await?;
        if a.investigator_id != Some(actor.user_id) {
            return Err(AppError::Forbidden);
        }
        let findings = findings.trim();
        if findings.is_empty() {
            return Err(AppError::invalid(
                "findings",
                "请记录调查结论",
                "record the findings",
            ));
        }
        bounded("findings", findings, TEXT)?;
        let overturn = match outcome {
            "upheld" => false,
            "overturned" => true,
            _ => {
                return Err(AppError::invalid(
                    "outcome",
                    "结论应为 维持（upheld）或 撤销（overturned）",
                    "the outcome is upheld or overturned",
                ));
            }
        };
        let target = match (overturn, a.subject.case_stage()) {
            (true, Some(_)) => {
                let allowed = a.subject.reopen_stages();
                let stage = reopen_at
                    .and_then(Stage::parse)
                    .filter(|s| allowed.contains(s))
                    .ok_or_else(|| {
                        let names: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
                        AppError::invalid(
                            "reopen_at",
                            format!("请选择重新开启的阶段：{}", names.join("、")),
                            format!("choose the stage to reopen at: {}", names.join(", ")),
                        )
                    })?;
                Some(stage)
            }
            _ => None,
        };
        let today = self.clock.today().to_string();
        let mut tx = self.db.begin().await?;
        let mut a = store::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("appeal"))?;
        if a.state != AppealState::Investigating {
            return Err(AppError::invalid(
                "state",
                format!("该申诉现为「{}」，不能作出结论", a.state.name().zh),
                format!(
                    "this appeal is \"{}\"; it cannot be concluded",
                    a.state.name().en
                ),
            ));
        }
        a.state = if overturn {
            AppealState::Overturned
        } else {
            AppealState::Upheld
        };
        a.findings = findings.to_string();
        a.concluded_on = Some(today.clone());
        a.reopened_at = target.map(|s| s.as_str().to_string());
        if let (Some(stage), Some(case_id)) = (target, a.case_id) {
            let mut c = zizhi_store::cases::get_locked(&mut tx, case_id)
                .await?
                .ok_or(AppError::NotFound("case"))?;
            let from = c.stage;
            c.stage = stage;
            c.closed_on = None;
            match stage {
                Stage::Evaluation => {
                    // Evaluated again; its conclusion starts a new review round.
                    c.audit_conclusion = None;
                    c.dossier_hash = None;
                    zizhi_store::evaluation::release_experts(&mut tx, case_id).await?;
                }
                Stage::ExpertReview => {
                    // The same dossier before a fresh panel, in a new round.
                    c.review_round += 1;
                    zizhi_store::evaluation::release_experts(&mut tx, case_id).await?;
                }
                _ => {}
            }
            zizhi_store::cases::update(&mut tx, &c).await?;
            // Open again, it leaves the archive (八) until it closes anew.
            let left_archive = zizhi_store::archive::reopen(&mut tx, case_id).await?;
            crate::audit::record(
                &mut tx,
                actor,
                "case.reopen",
                "case",
                case_id,
                json!({"appeal": a.id, "from": from.as_str(), "to": stage.as_str(), "review_round": c.review_round, "left_archive": left_archive}),
            )
            .await?;
        }
        if let (true, Some(sid)) = (overturn, a.sanction_id) {
            let mut s = zizhi_store::sanctions::get_locked(&mut tx, sid)
                .await?
                .ok_or(AppError::NotFound("sanction"))?;
            let undo = s.measure.certificate_status().is_some()
                && matches!(
                    s.state,
                    SanctionState::Effective
                        | SanctionState::AwaitingRectification
                        | SanctionState::RectificationSubmitted
                );
            s.state = SanctionState::Withdrawn;
            s.closed_on = Some(today.clone());
            zizhi_store::sanctions::save(&mut tx, &s).await?;
            if undo {
                zizhi_store::sanctions::change_status(
                    &mut tx,
                    s.certificate_id,
                    &today,
                    CertificateStatus::Valid.as_str(),
                    Some(s.id),
                )
                .await?;
            }
            crate::audit::record(
                &mut tx,
                actor,
                "sanction.withdraw",
                "sanction",
                sid,
                json!({"appeal": a.id, "certificate_restored": undo}),
            )
            .await?;
        }
        store::save(&mut tx, &a).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "appeal.conclude",
            "appeal",
            id,
            json!({"outcome": a.state.as_str(), "reopened_at": a.reopened_at}),
        )
        .await?;
        let m = if overturn {
            appeal_mail(&a, "撤销原决定", "the decision is overturned", findings)
        } else {
            appeal_mail(&a, "维持原决定", "the decision is upheld", findings)
        };
        self.mail_organization(&mut tx, a.organization_id, &m, &[])
            .await?;
        tx.commit().await?;
        self.appeal_letter(actor, a.id).await;
        Ok(a)
    }

    /// Who the supervision department may assign to investigate an appeal: active staff (not
    /// administrators) who took no part in what is appealed, as (id, name, role).
    pub async fn investigator_candidates(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<Vec<(i64, String, Role)>> {
        ready(actor)?;
        if actor.role != Role::Supervisor {
            return Err(AppError::Forbidden);
        }
        let a = self.appeal_row(id).await?;
        let took_part = self.took_part(&a).await?;
        Ok(zizhi_store::users::list(&self.db)
            .await?
            .into_iter()
            .filter(|u| !u.disabled && !took_part.contains(&u.id))
            .filter_map(|u| {
                let r = Role::parse(&u.role)?;
                (r.is_staff() && r != Role::Administrator).then_some((u.id, u.display_name, r))
            })
            .collect())
    }

    /// An appeal the actor may see: the supervision department, approvers, administrators,
    /// its investigator, and the appellant's own users.
    pub async fn appeal(&self, actor: &Actor, id: i64) -> Result<Appeal> {
        ready(actor)?;
        let a = self.appeal_row(id).await?;
        let sees = match actor.role {
            Role::Supervisor | Role::Approver | Role::Administrator => true,
            Role::Applicant => actor.organization_id == Some(a.organization_id),
            _ => a.investigator_id == Some(actor.user_id),
        };
        if !sees {
            return Err(AppError::NotFound("appeal"));
        }
        Ok(a)
    }

    /// The appeals the actor sees, newest first.
    pub async fn appeals(&self, actor: &Actor) -> Result<Vec<Appeal>> {
        ready(actor)?;
        Ok(match actor.role {
            Role::Supervisor | Role::Approver | Role::Administrator => {
                store::latest(&self.db, 500).await?
            }
            Role::Applicant => match actor.organization_id {
                Some(org) => store::for_organization(&self.db, org).await?,
                None => Vec::new(),
            },
            _ => store::latest(&self.db, 500)
                .await?
                .into_iter()
                .filter(|a| a.investigator_id == Some(actor.user_id))
                .collect(),
        })
    }

    /// What waits for the actor among appeals: to assign (supervision department), to
    /// investigate (the investigator).
    pub async fn appeal_todo(&self, actor: &Actor) -> Result<Vec<Appeal>> {
        if actor.needs_totp_enrollment
            || actor.must_change_password
            || actor.role == Role::Applicant
        {
            return Ok(Vec::new());
        }
        Ok(self
            .appeals(actor)
            .await?
            .into_iter()
            .filter(|a| {
                (actor.role == Role::Supervisor && a.state == AppealState::Filed)
                    || (a.state == AppealState::Investigating
                        && a.investigator_id == Some(actor.user_id))
            })
            .collect())
    }
}
