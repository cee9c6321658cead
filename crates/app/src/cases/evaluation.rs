//! Evaluation (评估, 5.4): the lead assigns the team under the conflict-of-interest rules; the
//! team records the audit plan and the activities (document review, interview, practical
//! operation) and judges every requirement of the pack; the lead concludes the audit, and the
//! dossier is then fixed by its SHA-256 for the panel.

use serde_json::json;
use sha2::{Digest, Sha256};
use zizhi_domain::case::Stage;
use zizhi_domain::criteria::Pack;
use zizhi_domain::profile::Category;
use zizhi_domain::roles::Role;
use zizhi_store::cases::{self as repo, CaseRow};
use zizhi_store::evaluation::{self as ev, Judgement, Member};
use zizhi_store::users;

use zizhi_domain::review::{ActivityKind, Verdict, audit_ready};
use zizhi_store::Tx;
use zizhi_store::review::{self as store, Activity};

use super::transition::{Effects, Step};
use crate::cases::require_stage;
use crate::policy::{Actor, CaseAction, Seat};
use crate::{App, AppError, Result};

pub fn pack_of(c: &CaseRow) -> Result<&'static Pack> {
    let level = u8::try_from(c.level).map_err(|_| AppError::Internal("level".into()))?;
    Pack::for_level(crate::cases::packs(), Category::DisasterRecovery, level)
        .ok_or(AppError::NotFound("criteria pack"))
}

/// The dossier the panel reviews: the last submission, the judgements, the audit plan and
/// activities, and the conclusion.
pub(crate) fn dossier_hash(
    profile: &str,
    judgements: &[Judgement],
    activities: &[zizhi_store::review::Activity],
    conclusion: &str,
) -> String {
    let doc = json!({
        "profile": serde_json::from_str::<serde_json::Value>(profile).unwrap_or(serde_json::Value::Null),
        "judgements": judgements.iter().map(|j| json!([j.requirement_id, j.verdict.as_str(), j.rationale, j.evidence_ids])).collect::<Vec<_>>(),
        "activities": activities.iter().map(|a| json!([a.kind, a.held_on, a.notes, a.evidence_ids])).collect::<Vec<_>>(),
        "conclusion": conclusion,
    });
    hex::encode(Sha256::digest(doc.to_string().as_bytes()))
}

impl App {
    /// The case's lead seats assessors (项目组) and experts (专家组) and names the panel's chair
    /// (组长; when none is named and the panel has none yet, the first expert named). Only
    /// active centre staff of the right role, without a conflict of interest with the
    /// applicant; nobody twice; the lead never on the panel of its own case.
    pub async fn assign_team(
        &self,
        actor: &Actor,
        case_id: i64,
        assessors: &[i64],
        experts: &[i64],
        chair: Option<i64>,
    ) -> Result<Vec<Member>> {
        let c = self.load(actor, case_id).await?;
        self.authorize_case(actor, &c, CaseAction::AssignTeam)
            .await?;
        let seated = ev::members(&self.db, case_id).await?;
        // In expert review only a fresh panel is seated, after an appeal stood the last one
        // down (七); otherwise the team is seated during evaluation.
        let reseating = c.stage == Stage::ExpertReview
            && assessors.is_empty()
            && !seated.iter().any(|m| m.duty == "expert");
        if !reseating {
            require_stage(&c, &[Stage::Evaluation])?;
        }
        let before = ev::ever_members(&self.db, case_id).await?;
        for (ids, field) in [(assessors, "assessors"), (experts, "experts")] {
            for (i, id) in ids.iter().enumerate() {
                if ids[..i].contains(id) {
                    return Err(AppError::invalid(
                        field,
                        format!("用户 {id} 重复"),
                        format!("user {id} is named twice"),
                    ));
                }
                if !seated.iter().any(|m| m.user_id == *id) && before.contains(id) {
                    return Err(AppError::invalid(
                        field,
                        format!("用户 {id} 曾在本案件被撤换的专家组中，不能再任"),
                        format!(
                            "user {id} sat on this case's stood-down panel and may not sit again"
                        ),
                    ));
                }
                if let Some(m) = seated.iter().find(|m| m.user_id == *id) {
                    return Err(AppError::invalid(
                        field,
                        format!("用户 {id} 已在本项目中（{}）", duty_name(&m.duty).zh),
                        format!(
                            "user {id} already sits on this case ({})",
                            duty_name(&m.duty).en
                        ),
                    ));
                }
            }
        }
        if let Some(ch) = chair
            && !experts.contains(&ch)
            && !seated.iter().any(|m| m.user_id == ch && m.duty == "expert")
        {
            return Err(AppError::invalid(
                "chair",
                "专家组组长须为本项目专家组成员",
                "the chair must be an expert of this case's panel",
            ));
        }
        let chair = chair.or_else(|| {
            (!seated.iter().any(|m| m.chair))
                .then(|| experts.first().copied())
                .flatten()
        });
        if experts.contains(&actor.user_id) {
            return Err(AppError::invalid(
                "experts",
                "项目负责人不得担任本项目专家组成员",
                "the project lead may not sit on the expert panel of the same case",
            ));
        }
        if let Some(both) = assessors.iter().find(|a| experts.contains(a)) {
            return Err(AppError::invalid(
                "experts",
                format!("用户 {both} 不能同时担任项目组成员和专家"),
                format!("user {both} cannot be both assessor and expert"),
            ));
        }
        for (ids, role, field) in [
            (assessors, Role::Assessor, "assessors"),
            (experts, Role::Expert, "experts"),
        ] {
            for id in ids {
                self.seatable(*id, role, c.organization_id, field).await?;
            }
        }
        let mut tx = self.db.begin().await?;
        for a in assessors {
            ev::add_member(&mut tx, case_id, *a, "assessor", false).await?;
        }
        for e in experts {
            ev::add_member(&mut tx, case_id, *e, "expert", false).await?;
        }
        if let Some(ch) = chair {
            ev::set_chair(&mut tx, case_id, ch).await?;
        }
        self.record(
            &mut tx,
            Some(actor),
            "case.assign_team",
            case_id,
            json!({"assessors": assessors, "experts": experts, "chair": chair}),
        )
        .await?;
        tx.commit().await?;
        Ok(ev::members(&self.db, case_id).await?)
    }

    /// An assessor (or the lead) judges one requirement, citing the organisation's evidence.
    pub async fn record_judgement(
        &self,
        actor: &Actor,
        case_id: i64,
        requirement_id: &str,
        verdict: &str,
        rationale: &str,
        evidence_ids: &[i64],
    ) -> Result<()> {
        let c = self.load(actor, case_id).await?;
        self.authorize_case(actor, &c, CaseAction::RecordEvaluation)
            .await?;
        require_stage(&c, &[Stage::Evaluation])?;
        let pack = pack_of(&c)?;
        if !pack.requirements.iter().any(|r| r.id == requirement_id) {
            return Err(AppError::invalid(
                "requirement_id",
                format!("准则包中没有要求 {requirement_id}"),
                format!("no requirement {requirement_id} in the pack"),
            ));
        }
        if Verdict::parse(verdict).is_none() {
            return Err(AppError::invalid(
                "verdict",
                "判定应为 conform、partial、nonconform 或 not_applicable",
                "verdict must be conform, partial, nonconform or not_applicable",
            ));
        }
        crate::limits::bounded("rationale", rationale.trim(), crate::limits::TEXT)?;
        if rationale.trim().is_empty() {
            return Err(AppError::invalid(
                "rationale",
                "请写明判定理由",
                "give the rationale",
            ));
        }
        self.require_own_evidence(c.organization_id, "evidence_ids", evidence_ids)
            .await?;
        let ids = serde_json::to_string(evidence_ids).unwrap_or_else(|_| "[]".into());
        let mut tx = self.db.begin().await?;
        ev::upsert_judgement(
            &mut tx,
            case_id,
            requirement_id,
            verdict,
            rationale.trim(),
            &ids,
            actor.user_id,
        )
        .await?;
        self.record(&mut tx, Some(actor), "case.judgement", case_id, json!({"requirement_id": requirement_id, "verdict": verdict, "evidence_ids": evidence_ids})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The judgements of a case (centre staff only).
    pub async fn judgements(&self, actor: &Actor, case_id: i64) -> Result<Vec<Judgement>> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        // The case's revision and what is kept by it: one read of a row by its key while the
        // case has not changed (issue 14).
        let parts = repo::with_parts(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        Ok(self.records_of(&parts).await?.judgements.clone())
    }

    /// [`App::judgements`] of a case already read for its viewer (centre staff only).
    pub async fn judgements_of(&self, d: &crate::cases::CaseDetail) -> Result<Vec<Judgement>> {
        if !d.viewer.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        Ok(self.records_of(d).await?.judgements.clone())
    }
}

impl App {
    /// Active centre staff (id, display name, role) for team assignment; staff only.
    pub async fn staff_directory(&self, actor: &Actor) -> Result<Vec<(i64, String, Role)>> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        Ok(users::active_staff(&self.db)
            .await?
            .iter()
            .filter_map(|u| Some((u.id, u.display_name.clone(), Role::parse(&u.role)?)))
            .collect())
    }

    /// The team of a case (visible to whoever may see the case).
    pub async fn team(&self, actor: &Actor, case_id: i64) -> Result<Vec<Member>> {
        self.load(actor, case_id).await?;
        Ok(ev::members(&self.db, case_id).await?)
    }

    /// [`App::team`] of a case already read for its viewer (no second read of the case).
    pub async fn team_of(&self, d: &crate::cases::CaseDetail) -> Result<Vec<Member>> {
        Ok(self.records_of(d).await?.members.clone())
    }

    /// A member of the team (or the lead) records the audit plan or an activity, with notes
    /// and the applicant's evidence it looked at.
    pub async fn record_activity(
        &self,
        actor: &Actor,
        case_id: i64,
        kind: &str,
        held_on: &str,
        notes: &str,
        evidence_ids: &[i64],
    ) -> Result<i64> {
        let c = self.load(actor, case_id).await?;
        self.authorize_case(actor, &c, CaseAction::RecordEvaluation)
            .await?;
        require_stage(&c, &[Stage::Evaluation])?;
        let kind = ActivityKind::parse(kind).ok_or_else(|| {
            AppError::invalid(
                "kind",
                "类型应为 plan、document_review、interview 或 practical_operation",
                "kind must be plan, document_review, interview or practical_operation",
            )
        })?;
        let day = zizhi_domain::calendar::parse_date(held_on).ok_or_else(|| {
            AppError::invalid(
                "held_on",
                "日期格式应为 YYYY-MM-DD",
                "the date must be YYYY-MM-DD",
            )
        })?;
        if day > self.clock.today() && kind != ActivityKind::Plan {
            return Err(AppError::invalid(
                "held_on",
                "评估活动的日期不能晚于今天",
                "an activity cannot be dated after today",
            ));
        }
        let notes = notes.trim();
        crate::limits::bounded("notes", notes, crate::limits::TEXT)?;
        if notes.is_empty() {
            return Err(AppError::invalid(
                "notes",
                "请填写记录内容",
                "write the notes",
            ));
        }
        self.require_own_evidence(c.organization_id, "evidence_ids", evidence_ids)
            .await?;
        let ids = serde_json::to_string(evidence_ids).unwrap_or_else(|_| "[]".into());
        let mut tx = self.db.begin().await?;
        let id = store::add_activity(
            &mut tx,
            case_id,
            kind.as_str(),
            &day.to_string(),
            notes,
            &ids,
            actor.user_id,
        )
        .await?;
        self.record(
            &mut tx,
            Some(actor),
            "case.activity",
            case_id,
            json!({"id": id, "kind": kind.as_str(), "held_on": day.to_string(), "evidence_ids": evidence_ids}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The audit plan and activities of a case (centre staff only).
    pub async fn activities(&self, actor: &Actor, case_id: i64) -> Result<Vec<Activity>> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        self.load(actor, case_id).await?;
        Ok(store::activities(&self.db, case_id).await?)
    }

    /// [`App::activities`] of a case already read for its viewer.
    pub async fn activities_of(&self, d: &crate::cases::CaseDetail) -> Result<Vec<Activity>> {
        if !d.viewer.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        Ok(self.records_of(d).await?.activities.clone())
    }

    /// The audit conclusion (5.4): only the case's lead, every requirement judged, a plan and
    /// at least one activity, a panel seated; the dossier is then fixed by its hash.
    pub(super) async fn on_conclude_audit(
        &self,
        _tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        let pack = pack_of(c)?;
        let judged = ev::judgements(&self.db, c.id).await?;
        let missing: Vec<&str> = pack
            .requirements
            .iter()
            .map(|r| r.id.as_str())
            .filter(|r| !judged.iter().any(|j| j.requirement_id == *r))
            .collect();
        if !missing.is_empty() {
            return Err(AppError::invalid(
                "judgements",
                format!("尚未判定的要求：{}", missing.join("、")),
                format!("requirements not yet judged: {}", missing.join(", ")),
            ));
        }
        // The panel must be complete before the dossier goes to it.
        let members = ev::members(&self.db, c.id).await?;
        let seats = members.iter().filter(|m| m.duty == "expert").count();
        let min = self.config.panel_min_experts;
        if seats < min {
            return Err(AppError::invalid(
                "experts",
                format!("专家组须至少 {min} 人（测评中心设置；指南未规定人数），现有 {seats} 人"),
                format!(
                    "the panel needs at least {min} experts (a centre setting; the guide gives no number); it has {seats}"
                ),
            ));
        }
        if !members.iter().any(|m| m.chair) {
            return Err(AppError::invalid(
                "chair",
                "尚未指定专家组组长",
                "no panel chair named",
            ));
        }
        let activities = store::activities(&self.db, c.id).await?;
        let kinds: Vec<ActivityKind> = activities
            .iter()
            .filter_map(|a| ActivityKind::parse(&a.kind))
            .collect();
        audit_ready(&kinds).map_err(|problem| AppError::Invalid {
            field: "activities".into(),
            problem,
        })?;
        let last = repo::rounds(&self.db, c.id)
            .await?
            .pop()
            .ok_or(AppError::NotFound("submission round"))?;
        let hash = dossier_hash(&last.profile, &judged, &activities, step.note);
        c.audit_conclusion = Some(step.note.to_string());
        c.dossier_hash = Some(hash.clone());
        c.review_round += 1;
        fx.summary["dossier_hash"] = json!(hash);
        fx.summary["review_round"] = json!(c.review_round);
        Ok(())
    }
}

/// A duty on a case, by name.
fn duty_name(duty: &str) -> zizhi_domain::lang::Text {
    match duty {
        "assessor" => Seat::Assessor.name(),
        _ => Seat::Expert.name(),
    }
}
