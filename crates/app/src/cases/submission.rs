//! Submission (申请, 5.1–5.2): the applicant opens a draft, fills its facts, files evidence per
//! requirement and checks completeness; each submission is an immutable round with the
//! server's self-assessment of that day; the applicant may withdraw.

use serde_json::json;
use zizhi_domain::assess::{Assessment, assess};
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::criteria::Pack;
use zizhi_domain::fees::ApplicationKind;
use zizhi_domain::lang::{Lang, Text};
use zizhi_domain::profile::{Category, MANDATORY_FIELDS, Profile};
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow, NewCase};
use zizhi_store::review::{self as store, CaseEvidence};

use super::transition::{Effects, Step};
use super::{case_facts, packs, parse_profile, require_stage};
use crate::policy::{Action, Actor, CaseAction};
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
    let pack = crate::cases::evaluation::pack_of(c)?;
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
        .map(|r| r.id.as_str())
        .chain(maintenance_slot_ids(c.kind).iter().copied())
        .filter(|id| !linked.iter().any(|l| l.requirement_id == *id))
        .map(str::to_string)
        .collect();
    Ok(Completeness {
        missing_fields,
        facts,
        without_evidence,
    })
}

/// One of the three yearly slots of a maintenance application's materials (维持申请需要提交近
/// 三年的资料信息, guide 四): evidence is filed against it as against a requirement, and the
/// application is not complete without all three. The guide names no list of documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceSlot {
    /// `maint-1` (the earliest year) to `maint-3` (the year up to the day).
    pub id: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

impl MaintenanceSlot {
    pub fn text(&self) -> Text {
        Text::new(
            format!("近三年的资料信息（指南 四）：{} 至 {}", self.from, self.to),
            format!(
                "The last three years' materials (guide 4): {} to {}",
                self.from, self.to
            ),
        )
    }

    pub fn expected() -> Text {
        Text::new(
            "该年度的资料信息，如完成的灾难恢复服务项目、人员和财务变化、投诉处理情况（指南未列明具体清单）",
            "that year's materials, e.g. disaster recovery services delivered, changes of staff and finances, complaints handled (the guide gives no list)",
        )
    }
}

/// The yearly slots of a maintenance application as of `day` (none for an initial one): the
/// three years before `day`, each a year long, the last ending on `day`.
pub fn maintenance_slots(kind: ApplicationKind, day: chrono::NaiveDate) -> Vec<MaintenanceSlot> {
    if kind != ApplicationKind::Maintenance {
        return Vec::new();
    }
    (1..=3u32)
        .map(|k| {
            let end = zizhi_domain::period::sub_months(day, 12 * (3 - k));
            let start = zizhi_domain::period::sub_months(day, 12 * (4 - k)) + chrono::Days::new(1);
            MaintenanceSlot {
                id: maintenance_slot_ids(kind)[k as usize - 1].to_string(),
                from: start,
                to: end,
            }
        })
        .collect()
}

/// The ids of the yearly slots (they do not depend on the day; their periods do).
pub fn maintenance_slot_ids(kind: ApplicationKind) -> &'static [&'static str] {
    match kind {
        ApplicationKind::Maintenance => &["maint-1", "maint-2", "maint-3"],
        ApplicationKind::Initial => &[],
    }
}

/// Whether `id` names a yearly slot of a maintenance application.
fn is_maintenance_slot(kind: ApplicationKind, id: &str) -> bool {
    maintenance_slot_ids(kind).contains(&id)
}

/// The starting facts of a maintenance application.
struct Prefill {
    profile: serde_json::Value,
    /// The held certificate's number.
    certificate: String,
    /// The application that earned it.
    from_case: i64,
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
        let c = self.editable(actor, case_id).await?;
        let pack = crate::cases::evaluation::pack_of(&c)?;
        if !pack.requirements.iter().any(|r| r.id == requirement_id)
            && !is_maintenance_slot(c.kind, requirement_id)
        {
            return Err(AppError::invalid(
                "requirement_id",
                format!("准则包中没有要求 {requirement_id}"),
                format!("no requirement {requirement_id} in the pack"),
            ));
        }
        self.require_own_evidence(c.organization_id, "evidence_id", &[evidence_id])
            .await?;
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

    /// Withdraws a filed document from a requirement before submission: any filing of a
    /// draft; while supplementing, only what was filed since the last submission (what the
    /// centre already received stays on the record of its round).
    pub async fn unlink_case_evidence(
        &self,
        actor: &Actor,
        case_id: i64,
        requirement_id: &str,
        evidence_id: i64,
    ) -> Result<()> {
        let c = self.editable(actor, case_id).await?;
        let linked = store::linked(&self.db, case_id).await?;
        let Some(l) = linked
            .iter()
            .find(|l| l.requirement_id == requirement_id && l.evidence_id == evidence_id)
        else {
            return Err(AppError::NotFound("filed evidence"));
        };
        if c.stage == Stage::Supplementing {
            let submitted = repo::rounds(&self.db, case_id)
                .await?
                .last()
                .map_or(0, |r| r.submitted_us);
            if l.linked_us <= submitted {
                return Err(AppError::invalid(
                    "evidence_id",
                    "已随申请提交的证据不能撤回；可补充新的文件",
                    "evidence already submitted cannot be withdrawn; add new files instead",
                ));
            }
        }
        let mut tx = self.db.begin().await?;
        store::unlink(&mut tx, case_id, requirement_id, evidence_id).await?;
        self.record(
            &mut tx,
            Some(actor),
            "case.unlink_evidence",
            case_id,
            json!({"requirement_id": requirement_id, "evidence_id": evidence_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The case, when the actor may edit its application now (a member of the applicant, a
    /// draft or a case being supplemented).
    async fn editable(&self, actor: &Actor, case_id: i64) -> Result<CaseRow> {
        let c = self.load(actor, case_id).await?;
        self.authorize_case(actor, &c, CaseAction::EditApplication)
            .await?;
        require_stage(&c, &[Stage::Draft, Stage::Supplementing])?;
        Ok(c)
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
}

impl App {
    /// The portal of a case the caller has read through `App::case` (which checked the
    /// actor may see it): one read of the filed evidence, the facts parsed once.
    pub async fn portal(&self, d: &crate::cases::CaseDetail) -> Result<Portal> {
        let linked = self.records_of(d).await?.linked.clone();
        let facts = facts_of(&d.case)?;
        let completeness = completeness_with(&d.case, &linked, &facts)?;
        let pack = crate::cases::evaluation::pack_of(&d.case)?;
        let today = self.clock.today();
        Ok(Portal {
            // The live self-assessment is as of today, whatever day the facts were saved.
            assessment: facts.ok().map(|mut p| {
                p.as_of = today;
                zizhi_domain::assess::assess(&p, pack, &self.config.calendar)
            }),
            linked,
            completeness,
        })
    }

    /// Opens a draft application for the applicant's organisation.
    pub async fn create_case(&self, actor: &Actor, level: i64, kind: &str) -> Result<CaseRow> {
        let org = actor.organization_id.ok_or(AppError::Forbidden)?;
        self.authorize(
            actor,
            &Action::CreateCase {
                organization_id: org,
            },
        )?;
        // A self-registered organisation applies once an administrator approved it.
        self.require_registered(org).await?;
        let kind = ApplicationKind::parse(kind).ok_or_else(|| {
            AppError::invalid(
                "kind",
                "申请类型应为 initial 或 maintenance",
                "kind must be initial or maintenance",
            )
        })?;
        let level = u8::try_from(level)
            .ok()
            .filter(|l| Pack::for_level(packs(), Category::DisasterRecovery, *l).is_some())
            .ok_or_else(|| {
                AppError::invalid(
                    "level",
                    format!("没有 {level} 级的准则包"),
                    format!("no criteria pack for level {level}"),
                )
            })?;
        // A maintenance application starts from the held certificate and the facts of the
        // application that earned it (四: 维持申请流程与首次申请流程一致).
        let prefill = match kind {
            ApplicationKind::Maintenance => self.maintenance_prefill(org, level).await?,
            ApplicationKind::Initial => None,
        };
        let profile = prefill
            .as_ref()
            .map_or_else(|| "{}".to_string(), |p| p.profile.to_string());
        let mut tx = self.db.begin().await?;
        let row = repo::insert(
            &mut tx,
            &NewCase {
                organization_id: org,
                category: Category::DisasterRecovery.as_str(),
                level: i32::from(level),
                kind: kind.as_str(),
                stage: Stage::Draft.as_str(),
                profile: &profile,
                created_by: actor.user_id,
            },
        )
        .await?;
        let prefilled = prefill
            .as_ref()
            .map(|p| json!({"certificate": p.certificate, "from_case": p.from_case}));
        self.record(&mut tx, Some(actor), "case.create", row.id, json!({"after": {"organization_id": org, "level": level, "kind": kind.as_str(), "stage": "draft"}, "prefilled": prefilled})).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// What a maintenance application of `level` starts from: the organisation's latest
    /// certificate of that level in the centre's register that can still be maintained (not
    /// revoked; 四), and the facts of the application that earned it, with the held
    /// certificate read from the register. `None` when the register has none (the applicant
    /// may still declare one; the self-assessment then says whether it counts). Evidence is
    /// not carried over: the three years' materials are current ones, and the earlier files
    /// stay in the organisation's file, one choice away.
    async fn maintenance_prefill(&self, org: i64, level: u8) -> Result<Option<Prefill>> {
        let held = zizhi_store::certificates::of_organization(&self.db, org)
            .await?
            .into_iter()
            .filter(|c| {
                c.category == Category::DisasterRecovery.as_str()
                    && c.level == i32::from(level)
                    && c.status != "revoked"
            })
            .max_by(|a, b| (&a.valid_until, a.id).cmp(&(&b.valid_until, b.id)));
        let Some(cert) = held else {
            return Ok(None);
        };
        let Some(source) = repo::get(&self.db, cert.case_id).await? else {
            return Ok(None);
        };
        let mut raw: serde_json::Value =
            serde_json::from_str(&source.profile).unwrap_or_else(|_| json!({}));
        if !raw.is_object() {
            raw = json!({});
        }
        let obj = raw.as_object_mut().expect("an object");
        obj.insert("kind".into(), json!(ApplicationKind::Maintenance.as_str()));
        obj.insert("level".into(), json!(level));
        obj.insert(
            "category".into(),
            json!(Category::DisasterRecovery.as_str()),
        );
        let certs = obj.entry("certificates").or_insert_with(|| json!([]));
        if !certs.is_array() {
            *certs = json!([]);
        }
        let list = certs.as_array_mut().expect("an array");
        if !list
            .iter()
            .any(|x| x.get("number").and_then(|n| n.as_str()) == Some(cert.number.as_str()))
        {
            list.push(json!({"number": cert.number}));
        }
        self.stamp_facts(&source, &mut raw, self.clock.today())
            .await?;
        Ok(Some(Prefill {
            profile: raw,
            certificate: cert.number,
            from_case: source.id,
        }))
    }

    /// Saves the applicant's facts (draft or supplementing), validated as a whole profile.
    pub async fn save_case_profile(
        &self,
        actor: &Actor,
        id: i64,
        raw: serde_json::Value,
    ) -> Result<()> {
        let c = self.editable(actor, id).await?;
        let mut raw = raw;
        self.stamp_facts(&c, &mut raw, self.clock.today()).await?;
        parse_profile(&c, &raw)?;
        self.store_facts(actor, id, raw, false).await
    }

    /// Saves the applicant's facts as they stand, complete or not (the portal's form; the
    /// completeness check says what is missing, and submission validates the whole profile).
    /// Only the shape is checked here: a JSON object; its category, level and kind are set to
    /// the case's.
    pub async fn save_case_draft(
        &self,
        actor: &Actor,
        id: i64,
        mut raw: serde_json::Value,
    ) -> Result<()> {
        let c = self.editable(actor, id).await?;
        let Some(obj) = raw.as_object_mut() else {
            return Err(AppError::invalid(
                "profile",
                "申请资料应为 JSON 对象",
                "the application facts must be a JSON object",
            ));
        };
        obj.insert("category".into(), json!(c.category));
        obj.insert("level".into(), json!(c.level));
        obj.insert("kind".into(), json!(c.kind));
        self.stamp_facts(&c, &mut raw, self.clock.today()).await?;
        self.store_facts(actor, id, raw, true).await
    }

    /// What the centre's system, not the applicant, decides in the facts (refusing what
    /// contradicts it):
    /// - the assessment date (`as_of`) is the server's day in China time — the day of saving,
    ///   and at submission the day of submission (四, 九: renewal timing and fee follow from it);
    /// - the organisation's name and USCC are the registered organisation's; another USCC is
    ///   refused (`organization.uscc`);
    /// - a held certificate this centre issued is read from its register (holder, level,
    ///   validity, status); another holder's number is refused; any other number stays the
    ///   applicant's declaration, marked for the assessors to verify (3.1.4).
    pub(crate) async fn stamp_facts(
        &self,
        c: &CaseRow,
        raw: &mut serde_json::Value,
        day: chrono::NaiveDate,
    ) -> Result<()> {
        let Some(obj) = raw.as_object_mut() else {
            return Err(AppError::invalid(
                "profile",
                "申请资料应为 JSON 对象",
                "the application facts must be a JSON object",
            ));
        };
        obj.insert("as_of".into(), json!(day.to_string()));
        let org = zizhi_store::organizations::get(&self.db, c.organization_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        let o = obj.entry("organization").or_insert_with(|| json!({}));
        let Some(o) = o.as_object_mut() else {
            return Err(AppError::invalid(
                "profile.organization",
                "申请单位信息应为 JSON 对象",
                "organization must be a JSON object",
            ));
        };
        if let Some(given) = o.get("uscc").and_then(|v| v.as_str())
            && !given.trim().is_empty()
            && given.trim().to_ascii_uppercase() != org.uscc
        {
            return Err(AppError::invalid(
                "organization.uscc",
                format!(
                    "统一社会信用代码须为本单位登记的 {}，不能填写其他单位的代码 {}",
                    org.uscc,
                    given.trim()
                ),
                format!(
                    "the USCC must be your registered organisation's ({}), not {}",
                    org.uscc,
                    given.trim()
                ),
            ));
        }
        o.insert("uscc".into(), json!(org.uscc));
        o.insert("name".into(), json!(org.name));
        if let Some(certs) = obj.get_mut("certificates").and_then(|v| v.as_array_mut()) {
            for (i, cert) in certs.iter_mut().enumerate() {
                let Some(cert) = cert.as_object_mut() else {
                    continue;
                };
                let number = cert
                    .get("number")
                    .and_then(|v| v.as_str())
                    .map(|n| n.trim().to_string())
                    .unwrap_or_default();
                let found = if number.is_empty() {
                    None
                } else {
                    zizhi_store::certificates::by_number(&self.db, &number).await?
                };
                match found {
                    Some(reg) if reg.organization_id != c.organization_id => {
                        return Err(AppError::invalid(
                            &format!("certificates[{i}].number"),
                            format!("证书 {number} 的持证单位不是本单位"),
                            format!("certificate {number} is held by another organisation"),
                        ));
                    }
                    Some(reg) => {
                        cert.insert("number".into(), json!(reg.number));
                        cert.insert("category".into(), json!(reg.category));
                        cert.insert("level".into(), json!(reg.level));
                        cert.insert("valid_until".into(), json!(reg.valid_until));
                        cert.insert("status".into(), json!(reg.status));
                        cert.insert("registered".into(), json!(true));
                    }
                    None => {
                        cert.insert("registered".into(), json!(false));
                    }
                }
            }
        }
        Ok(())
    }

    async fn store_facts(
        &self,
        actor: &Actor,
        id: i64,
        raw: serde_json::Value,
        draft: bool,
    ) -> Result<()> {
        let text = raw.to_string();
        if text.len() > crate::limits::FACTS_BYTES {
            return Err(AppError::invalid(
                "profile",
                format!("申请资料不能超过 {} KB", crate::limits::FACTS_BYTES / 1024),
                format!(
                    "the application facts are at most {} KB",
                    crate::limits::FACTS_BYTES / 1024
                ),
            ));
        }
        let mut tx = self.db.begin().await?;
        let mut locked = repo::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        locked.profile = text;
        repo::update(&mut tx, &locked).await?;
        self.record(
            &mut tx,
            Some(actor),
            "case.save_profile",
            id,
            json!({"stage": locked.stage, "draft": draft}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Submit and resubmit store the round with the day's self-assessment; withdrawal closes.
    pub(super) async fn on_submission(
        &self,
        tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        let day = step.today.to_string();
        if step.t == Transition::Withdraw {
            c.closed_on = Some(day.clone());
            repo::close_pause(tx, c.id, &day).await?;
            return Ok(());
        }
        // The round is assessed as of the day of submission, by the server (China time), with
        // the registered identity and the register's certificates of that day.
        let mut raw: serde_json::Value = serde_json::from_str(&c.profile).unwrap_or(json!({}));
        self.stamp_facts(c, &mut raw, step.today).await?;
        c.profile = raw.to_string();
        let profile = case_facts(c)?;
        let pack = Pack::for_level(packs(), profile.category, profile.level)
            .ok_or(AppError::NotFound("criteria pack"))?;
        let report = assess(&profile, pack, &self.config.calendar).report(Lang::Zh);
        let assessment =
            serde_json::to_string(&report).map_err(|e| AppError::Internal(e.to_string()))?;
        let round = repo::add_round(
            tx,
            c.id,
            &c.profile,
            &assessment,
            step.actor.map_or(0, |a| a.user_id),
        )
        .await?;
        fx.summary["round"] = json!(round);
        fx.summary["eligible"] = json!(report.eligible);
        // Submission is not blocked by missing evidence (the acceptance review judges
        // sufficiency), but what was missing is recorded with the round.
        let linked = store::linked(&self.db, c.id).await?;
        let done = completeness_of(c, &linked)?;
        fx.summary["without_evidence"] = json!(done.without_evidence);
        if step.t == Transition::Resubmit {
            repo::close_pause(tx, c.id, &day).await?;
            c.supplement_due = None;
        }
        Ok(())
    }
}
