//! The applicant's evidence filed per requirement and the completeness check; the lead's
//! acceptance review of the five areas (5.2); the team's audit plan and activities (5.4).

use serde_json::json;
use zizhi_domain::assess::Assessment;
use zizhi_domain::case::Stage;
use zizhi_domain::lang::Text;
use zizhi_domain::profile::{MANDATORY_FIELDS, Profile};
use zizhi_domain::review::{ActivityKind, Area};
use zizhi_domain::roles::Role;
use zizhi_store::cases::{self as repo, CaseRow};
use zizhi_store::evaluation as ev;
use zizhi_store::review::{self as store, Activity, AreaRow, CaseEvidence};

use crate::cases::require_stage;
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// What the applicant still lacks before submitting: the facts (the first field in error) and
/// the requirements without any evidence filed against them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completeness {
    /// Mandatory facts not filled in (paths of `MANDATORY_FIELDS`).
    pub missing_fields: Vec<&'static str>,
    /// When all are filled but the facts are still not a valid profile: the field and why.
    pub facts: Option<(String, Text)>,
    /// Requirement ids (in pack order) with no evidence filed.
    pub without_evidence: Vec<String>,
}

impl Completeness {
    pub fn complete(&self) -> bool {
        self.missing_fields.is_empty() && self.facts.is_none() && self.without_evidence.is_empty()
    }
}

/// The case's facts as a validated profile, or the field in error (a shape or rule error of
/// the applicant's input, not a failure).
fn facts_of(c: &CaseRow) -> Result<std::result::Result<Profile, (String, Text)>> {
    match crate::cases::case_facts(c) {
        Ok(p) => Ok(Ok(p)),
        Err(AppError::Invalid { field, problem }) => Ok(Err((field, problem))),
        Err(e) => Err(e),
    }
}

pub(crate) fn completeness_of(c: &CaseRow, linked: &[CaseEvidence]) -> Result<Completeness> {
    completeness_with(c, linked, &facts_of(c)?)
}

fn completeness_with(
    c: &CaseRow,
    linked: &[CaseEvidence],
    facts: &std::result::Result<Profile, (String, Text)>,
) -> Result<Completeness> {
    let pack = crate::evaluation::pack_of(c)?;
    let raw: serde_json::Value = serde_json::from_str(&c.profile).unwrap_or_default();
    let missing_fields: Vec<&'static str> = MANDATORY_FIELDS
        .iter()
        .filter(|f| match lookup(&raw, f.path) {
            None | Some(serde_json::Value::Null) => true,
            Some(serde_json::Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        })
        .map(|f| f.path)
        .collect();
    // The profile's own error is worth showing once every mandatory fact is there.
    let facts = match facts {
        Err(e) if missing_fields.is_empty() => Some(e.clone()),
        _ => None,
    };
    let without_evidence = pack
        .requirements
        .iter()
        .filter(|r| !linked.iter().any(|l| l.requirement_id == r.id))
        .map(|r| r.id.clone())
        .collect();
    Ok(Completeness {
        missing_fields,
        facts,
        without_evidence,
    })
}

/// What the portal shows of a case: the evidence filed per requirement, the completeness check
/// and the live self-assessment (`None` while the facts are not a valid profile).
pub struct Portal {
    pub linked: Vec<CaseEvidence>,
    pub completeness: Completeness,
    pub assessment: Option<Assessment>,
}

/// The value at a dotted path of a JSON document.
pub fn lookup<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

impl App {
    /// The applicant files one of the organisation's uploaded files against a requirement of
    /// the case (draft, or while supplementing).
    pub async fn link_case_evidence(
        &self,
        actor: &Actor,
        case_id: i64,
        requirement_id: &str,
        evidence_id: i64,
    ) -> Result<()> {
        let c = self.load(actor, case_id).await?;
        if actor.role != Role::Applicant {
            return Err(AppError::Forbidden);
        }
        require_stage(&c, &[Stage::Draft, Stage::Supplementing])?;
        let pack = crate::evaluation::pack_of(&c)?;
        if !pack.requirements.iter().any(|r| r.id == requirement_id) {
            return Err(AppError::invalid(
                "requirement_id",
                format!("准则包中没有要求 {requirement_id}"),
                format!("no requirement {requirement_id} in the pack"),
            ));
        }
        let own = ev::evidence_ids(&self.db, c.organization_id).await?;
        if !own.contains(&evidence_id) {
            return Err(AppError::invalid(
                "evidence_id",
                format!("证据 {evidence_id} 不属于本单位"),
                format!("evidence {evidence_id} is not your organisation's"),
            ));
        }
        let mut tx = self.db.begin().await?;
        store::link(&mut tx, case_id, requirement_id, evidence_id, actor.user_id)
            .await
            .map_err(|e| match e {
                zizhi_store::StoreError::Conflict(_) => AppError::Conflict {
                    field: "evidence_id".into(),
                },
                other => other.into(),
            })?;
        self.record(
            &mut tx,
            Some(actor),
            "case.link_evidence",
            case_id,
            json!({"requirement_id": requirement_id, "evidence_id": evidence_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The evidence filed against the case's requirements.
    pub async fn case_evidence(&self, actor: &Actor, case_id: i64) -> Result<Vec<CaseEvidence>> {
        self.load(actor, case_id).await?;
        Ok(store::linked(&self.db, case_id).await?)
    }

    /// The completeness check of the portal: every mandatory fact, every requirement with
    /// evidence.
    pub async fn completeness(&self, actor: &Actor, case_id: i64) -> Result<Completeness> {
        let c = self.load(actor, case_id).await?;
        let linked = store::linked(&self.db, case_id).await?;
        completeness_of(&c, &linked)
    }

    /// The lead judges one area of the acceptance review for the current submission round.
    pub async fn record_review_area(
        &self,
        actor: &Actor,
        case_id: i64,
        area: &str,
        sufficient: bool,
        opinion: &str,
    ) -> Result<()> {
        let c = self.load(actor, case_id).await?;
        if actor.role != Role::ProjectLead {
            return Err(AppError::Forbidden);
        }
        require_stage(&c, &[Stage::AcceptanceReview])?;
        let area = Area::parse(area).ok_or_else(|| {
            AppError::invalid(
                "area",
                "方面应为 formal_conformity、basic_qualification、basic_capability、process_capability 或 organisational_management",
                "area must be formal_conformity, basic_qualification, basic_capability, process_capability or organisational_management",
            )
        })?;
        let opinion = opinion.trim();
        if opinion.is_empty() {
            return Err(AppError::invalid(
                "opinion",
                "请填写该方面的审查意见",
                "write the opinion on this area",
            ));
        }
        let round = repo::last_round(&self.db, case_id).await?;
        let mut tx = self.db.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    /// The area judgements of the latest submission round (what the decision rests on).
    pub async fn review_areas(&self, actor: &Actor, case_id: i64) -> Result<Vec<AreaRow>> {
        self.load(actor, case_id).await?;
        let round = repo::last_round(&self.db, case_id).await?;
        Ok(store::areas(&self.db, case_id, round).await?)
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
        let members = ev::members(&self.db, case_id).await?;
        let on_team = c.lead_id == Some(actor.user_id)
            || members
                .iter()
                .any(|m| m.user_id == actor.user_id && m.duty == "assessor");
        if !on_team {
            return Err(AppError::Forbidden);
        }
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
        if day > crate::cases::today() && kind != ActivityKind::Plan {
            return Err(AppError::invalid(
                "held_on",
                "评估活动的日期不能晚于今天",
                "an activity cannot be dated after today",
            ));
        }
        let notes = notes.trim();
        if notes.is_empty() {
            return Err(AppError::invalid(
                "notes",
                "请填写记录内容",
                "write the notes",
            ));
        }
        let own = ev::evidence_ids(&self.db, c.organization_id).await?;
        if let Some(bad) = evidence_ids.iter().find(|e| !own.contains(e)) {
            return Err(AppError::invalid(
                "evidence_ids",
                format!("证据 {bad} 不属于该申请单位"),
                format!("evidence {bad} is not this applicant's"),
            ));
        }
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
}

impl App {
    /// The portal of a case the caller has read through `App::case` (which checked the
    /// actor may see it): one read of the filed evidence, the facts parsed once.
    pub async fn portal(&self, d: &crate::cases::CaseDetail) -> Result<Portal> {
        let linked = store::linked(&self.db, d.case.id).await?;
        let facts = facts_of(&d.case)?;
        let completeness = completeness_with(&d.case, &linked, &facts)?;
        let pack = crate::evaluation::pack_of(&d.case)?;
        Ok(Portal {
            assessment: facts
                .ok()
                .map(|p| zizhi_domain::assess::assess(&p, pack, &self.config.calendar)),
            linked,
            completeness,
        })
    }

    /// The area judgements of the latest round of a case read through `App::case`.
    pub async fn review_areas_of(&self, d: &crate::cases::CaseDetail) -> Result<Vec<AreaRow>> {
        let round = d.rounds.last().map_or(0, |r| r.round);
        Ok(store::areas(&self.db, d.case.id, round).await?)
    }
}
