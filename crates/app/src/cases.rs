//! Cases (guide §五): an applicant opens an application and fills its facts; each submission is
//! an immutable round with its self-assessment; the registrar records the paper copy and files
//! the case when the three conditions of 5.2 hold; the project lead's acceptance review accepts,
//! refuses, or asks for a supplement within one month (Civil Code period over the holiday
//! calendar), which pauses the project clock until the applicant resubmits. Every transition is
//! decided by `zizhi_domain::case` and written with its audit event in one transaction.

use chrono::{Datelike, NaiveDate};
use serde_json::json;
use zizhi_domain::assess::assess;
use zizhi_domain::case::{self, FilingFacts, Performer, Stage, Transition, TransitionError};
use zizhi_domain::clock::{self, Clock, Pause};
use zizhi_domain::criteria::Pack;
use zizhi_domain::fees::ApplicationKind;
use zizhi_domain::lang::{Lang, Text};
use zizhi_domain::period::{PeriodLength, china_standard_time, period_end};
use zizhi_domain::profile::{Category, Profile, RawProfile};
use zizhi_domain::review::{ActivityKind, Area, audit_ready, decision_ready};
use zizhi_store::audit::{self, NewEvent};
use zizhi_store::cases::{self as repo, CaseRow, NewCase, PauseRow, Round, TransitionRow};
use zizhi_store::{Tx, outbox, users};

use crate::policy::{Action, Actor};
use crate::{App, AppError, Result};

/// The number people quote (受理编号): year of opening and the case id, e.g. `ZZ-2026-00042`.
pub fn case_number(c: &CaseRow) -> String {
    let year = chrono::DateTime::from_timestamp_micros(c.created_us)
        .map_or(0, |d| d.with_timezone(&china_standard_time()).year());
    format!("ZZ-{year}-{:05}", c.id)
}

/// Today in China Standard Time.
pub fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&china_standard_time())
        .date_naive()
}

/// The shipped packs, parsed once.
pub(crate) fn packs() -> &'static [Pack] {
    static PACKS: std::sync::OnceLock<Vec<Pack>> = std::sync::OnceLock::new();
    PACKS.get_or_init(Pack::shipped)
}

pub(crate) fn stage_of(c: &CaseRow) -> Result<Stage> {
    Stage::parse(&c.stage)
        .ok_or_else(|| AppError::Internal(format!("case {} has unknown stage {}", c.id, c.stage)))
}

/// Whose cases a list shows the actor: all for centre staff, an applicant's own organisation's.
fn listed_organization(actor: &Actor) -> Result<Option<i64>> {
    if actor.role.is_staff() {
        Ok(None)
    } else {
        Ok(Some(actor.organization_id.ok_or(AppError::Forbidden)?))
    }
}

/// The case's stage when it is one of `allowed`; otherwise 409 naming the current stage.
pub(crate) fn require_stage(c: &CaseRow, allowed: &[Stage]) -> Result<Stage> {
    let s = stage_of(c)?;
    if allowed.contains(&s) {
        Ok(s)
    } else {
        Err(AppError::WrongStage { current: s.name() })
    }
}

fn date(s: &str) -> Option<NaiveDate> {
    zizhi_domain::calendar::parse_date(s)
}

/// A case with everything its page shows.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: CaseRow,
    pub stage: Stage,
    pub rounds: Vec<Round>,
    pub transitions: Vec<TransitionRow>,
    pub pauses: Vec<PauseRow>,
    /// From filing on.
    pub clock: Option<Clock>,
    /// The transitions the viewer may perform now.
    pub next: Vec<Transition>,
}

/// Validates the facts of a case: a whole profile whose category, level and kind are the case's.
fn parse_profile(c: &CaseRow, raw: &serde_json::Value) -> Result<Profile> {
    let raw: RawProfile = serde_path_to_error::deserialize(raw.clone()).map_err(|e| {
        // Name the field: the path to the error, plus the missing or unknown field's name.
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        let named = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"));
        let field = match (path.as_str(), named) {
            (".", Some(n)) => format!("profile.{n}"),
            (p, Some(n)) if !p.ends_with(n) => format!("profile.{p}.{n}"),
            (".", None) => "profile".to_string(),
            (p, _) => format!("profile.{p}"),
        };
        AppError::Invalid {
            field,
            problem: Text::new(
                format!("申请资料格式有误：{msg}"),
                format!("the application facts are malformed: {msg}"),
            ),
        }
    })?;
    let p = Profile::parse(&raw).map_err(|e| AppError::Invalid {
        field: format!("profile.{}", e.field),
        problem: e.problem,
    })?;
    if p.category.as_str() != c.category
        || i32::from(p.level) != c.level
        || p.kind.as_str() != c.kind
    {
        return Err(AppError::invalid(
            "profile",
            "申请资料的类别、级别或申请类型与案件不一致",
            "the facts' category, level or kind differ from the case's",
        ));
    }
    Ok(p)
}

/// The case's saved facts as a validated profile (the same check as at submission).
pub(crate) fn case_facts(c: &CaseRow) -> Result<Profile> {
    let raw: serde_json::Value = serde_json::from_str(&c.profile)
        .map_err(|e| AppError::Internal(format!("case {} facts: {e}", c.id)))?;
    parse_profile(c, &raw)
}

impl App {
    /// Opens a draft application for the applicant's organisation.
    pub async fn create_case(&self, actor: &Actor, level: i64, kind: &str) -> Result<CaseRow> {
        let org = actor.organization_id.ok_or(AppError::Forbidden)?;
        self.authorize(
            actor,
            &Action::CreateCase {
                organization_id: org,
            },
        )?;
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
        let mut tx = self.db.begin().await?;
        let row = repo::insert(
            &mut tx,
            &NewCase {
                organization_id: org,
                category: Category::DisasterRecovery.as_str(),
                level: i32::from(level),
                kind: kind.as_str(),
                stage: Stage::Draft.as_str(),
                profile: "{}",
                created_by: actor.user_id,
            },
        )
        .await?;
        self.record(&mut tx, Some(actor), "case.create", row.id, json!({"after": {"organization_id": org, "level": level, "kind": kind.as_str(), "stage": "draft"}})).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Appends the case's audit event inside the change's transaction.
    pub(crate) async fn record(
        &self,
        tx: &mut Tx,
        actor: Option<&Actor>,
        action: &str,
        case_id: i64,
        summary: serde_json::Value,
    ) -> Result<()> {
        audit::append(
            tx,
            NewEvent {
                actor_id: actor.map(|a| a.user_id),
                actor: actor.map_or("system".to_string(), |a| a.username.clone()),
                action: action.into(),
                object_type: "case".into(),
                object_id: case_id.to_string(),
                summary,
            },
        )
        .await?;
        Ok(())
    }

    /// The case, when the actor may see it.
    pub(crate) async fn load(&self, actor: &Actor, id: i64) -> Result<CaseRow> {
        let c = repo::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        self.authorize(
            actor,
            &Action::ViewCase {
                organization_id: c.organization_id,
            },
        )?;
        Ok(c)
    }

    /// Saves the applicant's facts (draft or supplementing), validated as a whole profile.
    pub async fn save_case_profile(
        &self,
        actor: &Actor,
        id: i64,
        raw: serde_json::Value,
    ) -> Result<()> {
        let c = self.editable_facts(actor, id).await?;
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
        let c = self.editable_facts(actor, id).await?;
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
        self.store_facts(actor, id, raw, true).await
    }

    /// The case, when its facts are the actor's to change: the applicant's, in draft or while
    /// supplementing.
    async fn editable_facts(&self, actor: &Actor, id: i64) -> Result<CaseRow> {
        let c = self.load(actor, id).await?;
        if actor.role != zizhi_domain::roles::Role::Applicant {
            return Err(AppError::Forbidden);
        }
        require_stage(&c, &[Stage::Draft, Stage::Supplementing])?;
        Ok(c)
    }

    async fn store_facts(
        &self,
        actor: &Actor,
        id: i64,
        raw: serde_json::Value,
        draft: bool,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let mut locked = repo::get_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        locked.profile = raw.to_string();
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

    /// Performs a transition of the acceptance phase (the later phases come with their data).
    pub async fn transition_case(
        &self,
        actor: &Actor,
        id: i64,
        t: Transition,
        note: &str,
    ) -> Result<CaseRow> {
        use Transition::*;
        if !matches!(
            t,
            Submit
                | Resubmit
                | File
                | RequestSupplement
                | NotAccept
                | Accept
                | ExtendSupplement
                | Terminate
                | Withdraw
                | SendAgreement
                | RecordSignedAgreement
                | ApproveAgreement
                | ConfirmPayment
                | ConcludeAudit
                | PanelPass
                | PanelFail
                | PanelReturn
        ) {
            // Issue runs through the batch (App::issue_batch), never one case on its own.
            return Err(AppError::invalid(
                "transition",
                "该环节的操作尚未开放",
                "this step of the process is not available yet",
            ));
        }
        self.load(actor, id).await?;
        self.apply(
            Some(actor),
            Performer::Role(actor.role),
            id,
            t,
            note,
            today(),
        )
        .await
    }

    /// Marks lapsed every supplementing case whose deadline passed before `today` (the system).
    pub async fn lapse_overdue_supplements(&self, today: NaiveDate) -> Result<usize> {
        let ids = repo::supplement_overdue(&self.db, &today.to_string()).await?;
        for id in &ids {
            self.apply(
                None,
                Performer::System,
                *id,
                Transition::MarkLapsed,
                "补正期限已过 / supplement deadline passed",
                today,
            )
            .await?;
        }
        Ok(ids.len())
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
        // The decision of the acceptance review rests on the five areas of this round (5.2).
        let mut areas_text = String::new();
        if matches!(t, Accept | RequestSupplement | NotAccept) {
            let round = repo::last_round(&self.db, id).await?;
            let rows = zizhi_store::review::areas(&self.db, id, round).await?;
            let judged: Vec<(Area, bool)> = rows
                .iter()
                .filter_map(|r| Some((Area::parse(&r.area)?, r.sufficient)))
                .collect();
            decision_ready(t, &judged).map_err(|g| AppError::Invalid {
                field: "areas".into(),
                problem: g.text(),
            })?;
            for (a, ok) in &judged {
                let opinion = rows
                    .iter()
                    .find(|r| r.area == a.as_str())
                    .map_or("", |r| r.opinion.as_str());
                let n = a.name();
                areas_text.push_str(&format!(
                    "· {} / {}：{}\n  {opinion}\n",
                    n.zh,
                    n.en,
                    if *ok {
                        "证据充分 / sufficient"
                    } else {
                        "证据不充分 / insufficient"
                    }
                ));
            }
        }
        let day = today.to_string();
        let mut summary = json!({"before": {"stage": from.as_str()}, "after": {"stage": to.as_str()}, "note": note});
        let mut notify: Option<(String, String)> = None;
        let mut attach: Vec<zizhi_store::outbox::Attachment> = Vec::new();
        match t {
            Submit | Resubmit => {
                let profile = case_facts(&c)?;
                let pack = Pack::for_level(packs(), profile.category, profile.level)
                    .ok_or(AppError::NotFound("criteria pack"))?;
                let report = assess(&profile, pack, &self.config.calendar).report(Lang::Zh);
                let assessment = serde_json::to_string(&report)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let round = repo::add_round(
                    &mut tx,
                    id,
                    &c.profile,
                    &assessment,
                    actor.map_or(0, |a| a.user_id),
                )
                .await?;
                summary["round"] = json!(round);
                summary["eligible"] = json!(report.eligible);
                // Submission is not blocked by missing evidence (the acceptance review judges
                // sufficiency), but what was missing is recorded with the round.
                let linked = zizhi_store::review::linked(&self.db, id).await?;
                let done = crate::review::completeness_of(&c, &linked)?;
                summary["without_evidence"] = json!(done.without_evidence);
                if t == Resubmit {
                    repo::close_pause(&mut tx, id, &day).await?;
                    c.supplement_due = None;
                }
            }
            File => {
                c.filed_on = Some(day.clone());
                notify = Some((
                    "【资质认定】已建档立项 / Your application is filed".into(),
                    format!(
                        "贵单位的申请（{n}）已于 {d} 建档立项，项目负责人将进行受理审查（指南 5.2）。项目实施周期自今日起计算，原则上三个月，最长不超过六个月（九.3）。\n\nYour application {n} was filed on {day}; the project lead will now review it (guide 5.2). The project clock starts today: three months in principle, six at most (九.3).\n",
                        n = case_number(&c),
                        d = today.format("%Y年%-m月%-d日"),
                    ),
                ));
            }
            RequestSupplement | ExtendSupplement => {
                // One month from receipt of the review e-mail (5.2), sent today.
                let dl = period_end(today, PeriodLength::Months(1), &self.config.calendar);
                c.supplement_due = Some(dl.last_day.to_string());
                summary["supplement_due"] = json!(dl.last_day.to_string());
                summary["provisional"] = json!(dl.provisional);
                if t == RequestSupplement {
                    repo::open_pause(&mut tx, id, &day).await?;
                }
                notify = Some((
                    "【资质认定】受理审查意见：请补充资料 / Acceptance review: supplement needed"
                        .into(),
                    format!(
                        "审查意见 / Review opinion：\n{note}\n\n{areas_text}\n请于 {} 24:00（北京时间）前提交补充资料。\nPlease submit the supplement by 24:00 China Standard Time on {}.\n",
                        dl.last_day.format("%Y年%-m月%-d日"),
                        dl.last_day
                    ),
                ));
            }
            NotAccept | Accept => {
                if t == NotAccept {
                    c.closed_on = Some(day.clone());
                }
                let (zh, en) = if t == Accept {
                    ("予以受理", "accepted")
                } else {
                    ("不予受理", "not accepted")
                };
                notify = Some((
                    format!("【资质认定】受理审查意见：{zh} / Acceptance review: {en}"),
                    format!("审查意见 / Review opinion：\n{note}\n\n{areas_text}"),
                ));
            }
            Terminate | Withdraw => {
                c.closed_on = Some(day.clone());
                repo::close_pause(&mut tx, id, &day).await?;
                if t == Terminate {
                    notify = Some((
                        "【资质认定】申请已终止 / Application terminated".into(),
                        format!(
                            "贵单位未在期限内提交补充资料，申请已终止。\n{note}\n\nThe supplement was not submitted in time; the application is terminated.\n{note}\n"
                        ),
                    ));
                }
            }
            MarkLapsed => {
                notify = Some((
                    "【资质认定】补充资料期限已过 / Supplement deadline passed".into(),
                    format!(
                        "补充资料期限（{}）已过，请与项目负责人联系；项目负责人可延长期限或终止申请。\n\nThe supplement deadline ({}) has passed; please contact the project lead, who may extend it or terminate the application.\n",
                        c.supplement_due.as_deref().unwrap_or("-"),
                        c.supplement_due.as_deref().unwrap_or("-"),
                    ),
                ));
            }
            SendAgreement => {
                // The fee of the kind in effect after the renewal rule, from the last round's
                // self-assessment (guide 九): 87 000 initial, 63 000 maintenance for level 2.
                let rounds = repo::rounds(&self.db, id).await?;
                let last = rounds
                    .last()
                    .ok_or(AppError::NotFound("submission round"))?;
                let report: serde_json::Value = serde_json::from_str(&last.assessment)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let fee = report["fee"]["total_cny"].as_i64().ok_or_else(|| {
                    AppError::invalid(
                        "fee",
                        "本级别收费标准待公布，无法生成委托协议",
                        "this level's fee is pending; no agreement can be drawn up",
                    )
                })?;
                let kind = report["application_kind"].as_str().unwrap_or("initial");
                let number = format!("ZZXY-{}-{:05}", today.format("%Y"), id);
                c.agreement_no = Some(number.clone());
                c.fee_fen = Some(fee * 100);
                summary["agreement_no"] = json!(number);
                summary["fee_cny"] = json!(fee);
                summary["application_kind"] = json!(kind);
                // The clock pauses from sending the agreement until payment (九.3).
                repo::open_pause(&mut tx, id, &day).await?;
                // The agreement itself goes with the e-mail (5.3: "发送协议及附件模板").
                let doc = crate::agreement::agreement(
                    &c,
                    &report,
                    &today.format("%Y年%-m月%-d日").to_string(),
                    Lang::Zh,
                    None,
                )?
                .html()?;
                attach.push(zizhi_store::outbox::Attachment {
                    name: format!("委托测评协议-{number}.html"),
                    media_type: "text/html; charset=utf-8".into(),
                    content: doc,
                });
                let fee_text = zizhi_domain::money::Cny::from_yuan(fee);
                notify = Some((
                    format!("【资质认定】委托协议 {number} / Delegation agreement {number}"),
                    format!(
                        "委托测评协议（编号 {number}）\n\n委托方：{org}\n事项：信息安全服务资质认定（灾难恢复类{lvl}），{kzh}\n委托测评费用：{fzh}（审核费用与三年年金，依据收费标准）\n\n协议见附件（可直接打印），请加盖公章后寄回；协议经审批生效并缴费后进入评估阶段。\n{note}\n\nDelegation agreement {number}\nClient: {org}\nSubject: information security service qualification, disaster recovery level {lv}, {ken}\nFee: {fen} (audit fee and three-year annual fee, per the fee schedule)\nThe agreement is attached (ready to print): seal it and return it; evaluation opens once it is approved and the fee is paid.\n",
                        org = report["organization"].as_str().unwrap_or(""),
                        lvl = zizhi_domain::lang::level_zh(u8::try_from(c.level).unwrap_or(0)),
                        lv = c.level,
                        kzh = if kind == "maintenance" {
                            "维持申请"
                        } else {
                            "初次申请"
                        },
                        ken = if kind == "maintenance" {
                            "maintenance application"
                        } else {
                            "initial application"
                        },
                        fzh = fee_text.display(Lang::Zh),
                        fen = fee_text.display(Lang::En),
                    ),
                ));
            }
            ConfirmPayment => {
                repo::close_pause(&mut tx, id, &day).await?;
                notify = Some((
                    "【资质认定】已确认收款，进入评估阶段 / Payment received, evaluation opens"
                        .into(),
                    format!(
                        "已确认收到委托测评费用（协议 {a}），项目进入评估阶段（指南 5.3、5.4），项目组将与贵单位沟通审核计划。\n\nThe fee of agreement {a} has been received; the case enters evaluation (guide 5.3, 5.4) and the team will agree the audit plan with you.\n",
                        a = c.agreement_no.as_deref().unwrap_or("-"),
                    ),
                ));
            }
            ConcludeAudit => {
                // Only the case's lead; every requirement judged; a panel named.
                if actor.map(|a| a.user_id) != c.lead_id {
                    return Err(AppError::Forbidden);
                }
                let pack = crate::evaluation::pack_of(&c)?;
                let judged = zizhi_store::evaluation::judgements(&self.db, id).await?;
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
                let members = zizhi_store::evaluation::members(&self.db, id).await?;
                if !members.iter().any(|m| m.duty == "expert") {
                    return Err(AppError::invalid(
                        "experts",
                        "尚未指定专家组成员",
                        "no expert panel assigned",
                    ));
                }
                let activities = zizhi_store::review::activities(&self.db, id).await?;
                let kinds: Vec<ActivityKind> = activities
                    .iter()
                    .filter_map(|a| ActivityKind::parse(&a.kind))
                    .collect();
                audit_ready(&kinds).map_err(|problem| AppError::Invalid {
                    field: "activities".into(),
                    problem,
                })?;
                let last = repo::rounds(&self.db, id)
                    .await?
                    .pop()
                    .ok_or(AppError::NotFound("submission round"))?;
                let hash =
                    crate::evaluation::dossier_hash(&last.profile, &judged, &activities, note);
                c.audit_conclusion = Some(note.to_string());
                c.dossier_hash = Some(hash.clone());
                c.review_round += 1;
                summary["dossier_hash"] = json!(hash);
                summary["review_round"] = json!(c.review_round);
            }
            Issue => {
                let batch = match c.batch_id {
                    Some(b) => zizhi_store::certificates::batch_locked(&mut tx, b).await?,
                    None => None,
                };
                if batch.is_none_or(|b| b.status != "approved") {
                    return Err(AppError::invalid(
                        "batch",
                        "案件须在已审批的证书批次中",
                        "the case must be in an approved certificate batch",
                    ));
                }
                let cert =
                    crate::certification::issue_certificate(&self.config, &mut tx, &c, today)
                        .await?;
                c.closed_on = Some(day.clone());
                summary["certificate"] =
                    json!({"number": cert.number, "valid_until": cert.valid_until});
                notify = Some((
                    format!(
                        "【资质认定】资质证书已发放 {} / Certificate issued",
                        cert.number
                    ),
                    format!(
                        "贵单位的信息安全服务资质证书（{}）已发放，证书编号 {}，有效期至 {}。可在 /verify/{} 查验。\n\nYour certificate {} has been issued, valid until {}. It can be verified at /verify/{}.\n",
                        zizhi_domain::lang::level_zh(u8::try_from(c.level).unwrap_or(0)),
                        cert.number,
                        cert.valid_until,
                        cert.number,
                        cert.number,
                        cert.valid_until,
                        cert.number
                    ),
                ));
            }
            PanelPass | PanelFail | PanelReturn => {
                // A panel member records the conclusion once every member has voted this round.
                let members = zizhi_store::evaluation::members(&self.db, id).await?;
                let experts: Vec<i64> = members
                    .iter()
                    .filter(|m| m.duty == "expert")
                    .map(|m| m.user_id)
                    .collect();
                if !actor.is_some_and(|a| experts.contains(&a.user_id)) {
                    return Err(AppError::Forbidden);
                }
                let votes = zizhi_store::evaluation::votes(&self.db, id, c.review_round).await?;
                let pending: Vec<i64> = experts
                    .iter()
                    .copied()
                    .filter(|e| !votes.iter().any(|v| v.expert_id == *e))
                    .collect();
                if !pending.is_empty() {
                    return Err(AppError::invalid(
                        "votes",
                        format!("尚有 {} 位专家未表决", pending.len()),
                        format!("{} experts have not voted", pending.len()),
                    ));
                }
                summary["dossier_hash"] = json!(c.dossier_hash);
                summary["votes"] = json!(
                    votes
                        .iter()
                        .map(|v| json!({"expert_id": v.expert_id, "vote": v.vote}))
                        .collect::<Vec<_>>()
                );
                if t == PanelFail {
                    c.closed_on = Some(day.clone());
                    // 七: the applicant may appeal the conclusion in writing.
                    notify = Some((
                        "【资质认定】专家评审结论：未通过 / Expert review: not passed".into(),
                        format!(
                            "专家评审结论：未通过。\n{note}\n\n如对评审结论有异议，可向测评中心提出书面申诉（指南第七章）。\n\nExpert review: not passed.\n{note}\n\nIf you disagree with the conclusion you may appeal to the centre in writing (guide chapter 七).\n"
                        ),
                    ));
                } else if t == PanelPass {
                    notify = Some((
                        "【资质认定】专家评审结论：通过 / Expert review: passed".into(),
                        "专家评审结论为通过，项目进入发证阶段，证书将按批次制作发放（指南 5.5）。\n\nThe expert panel passed the case; the certificate will be made and issued in the next batch (guide 5.5).\n".to_string(),
                    ));
                }
            }
            _ => {}
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
        if let Some((subject, body)) = notify {
            for email in users::emails_of_organization(&self.db, c.organization_id).await? {
                outbox::enqueue_with(&mut tx, &email, &subject, &body, &attach).await?;
            }
        }
        self.record(&mut tx, actor, &format!("case.{}", t.as_str()), id, summary)
            .await?;
        tx.commit().await?;
        Ok(c)
    }

    /// One case with its rounds, history, clock and the viewer's next steps.
    pub async fn case(&self, actor: &Actor, id: i64) -> Result<CaseDetail> {
        let c = self.load(actor, id).await?;
        let stage = stage_of(&c)?;
        let pauses = repo::pauses(&self.db, id).await?;
        let clock = c.filed_on.as_deref().and_then(date).map(|filed| {
            let ps: Vec<Pause> = pauses
                .iter()
                .filter_map(|p| {
                    Some(Pause {
                        start: date(&p.start_on)?,
                        end: p.end_on.as_deref().and_then(date),
                    })
                })
                .collect();
            clock::compute(filed, &ps, today(), c.closed_on.as_deref().and_then(date))
        });
        let me = Performer::Role(actor.role);
        let next = Transition::ALL
            .into_iter()
            .filter(|t| t.performer() == me && t.target(stage).is_some())
            .collect();
        Ok(CaseDetail {
            rounds: repo::rounds(&self.db, id).await?,
            transitions: repo::transitions(&self.db, id).await?,
            pauses,
            clock,
            next,
            stage,
            case: c,
        })
    }

    /// 待办: the cases waiting for this actor, oldest first, each with what is to be done: the
    /// transitions of the actor's role, and the work that is not a transition — an assessor's
    /// judgements on a team, an expert's vote on a panel, a certificate officer's batching.
    pub async fn todo(&self, actor: &Actor) -> Result<Vec<(CaseRow, Vec<Text>)>> {
        use zizhi_domain::roles::Role;
        let me = Performer::Role(actor.role);
        // Only the stages where this role has work, each read in full (a plain "latest cases"
        // list would drop the oldest waiting cases, which are the most urgent).
        let stages: Vec<Stage> = Stage::ALL
            .into_iter()
            .filter(|s| {
                Transition::ALL.iter().any(|t| {
                    t.performer() == me && t.target(*s).is_some() && *t != Transition::Withdraw
                }) || matches!(
                    (actor.role, s),
                    (Role::Assessor, Stage::Evaluation)
                        | (Role::Expert, Stage::ExpertReview)
                        | (Role::CertificateOfficer, Stage::Certification)
                )
            })
            .collect();
        let organization_id = listed_organization(actor)?;
        let mut waiting = Vec::new();
        for s in stages {
            let filter = repo::Filter {
                organization_id,
                stage: Some(s.as_str()),
                open_only: false,
            };
            let (rows, _) = repo::page(&self.db, &filter, 10_000, 0).await?;
            waiting.extend(rows.into_iter().map(|l| l.case));
        }
        waiting.sort_by_key(|c| std::cmp::Reverse(c.id));
        // The actor's seats on teams and panels, and votes cast, read once for all cases.
        let (duties, voted) = match actor.role {
            Role::Assessor | Role::Expert => (
                zizhi_store::evaluation::duties_of(&self.db, actor.user_id).await?,
                zizhi_store::evaluation::votes_of(&self.db, actor.user_id).await?,
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let mut out = Vec::new();
        for c in waiting {
            let Some(stage) = Stage::parse(&c.stage) else {
                continue;
            };
            let mut steps: Vec<Text> = Transition::ALL
                .into_iter()
                .filter(|t| {
                    t.performer() == me
                        && !matches!(
                            t,
                            Transition::Withdraw
                                | Transition::Issue
                                | Transition::PanelPass
                                | Transition::PanelFail
                                | Transition::PanelReturn
                        )
                        && t.target(stage).is_some()
                })
                .map(|t| t.name())
                .collect();
            let on = |duty: &str| duties.iter().any(|(id, d)| *id == c.id && d == duty);
            match (actor.role, stage) {
                (Role::Assessor, Stage::Evaluation) if on("assessor") => {
                    steps.push(Text::new(
                        "记录评估活动与逐项判定",
                        "record activities and judgements",
                    ));
                }
                (Role::Expert, Stage::ExpertReview) if on("expert") => {
                    steps.push(if voted.contains(&(c.id, c.review_round)) {
                        Text::new("形成专家评审结论", "record the panel's conclusion")
                    } else {
                        Text::new("专家表决", "vote")
                    });
                }
                (Role::CertificateOfficer, Stage::Certification) if c.batch_id.is_none() => {
                    steps.push(Text::new("编入证书批次", "put into a certificate batch"));
                }
                _ => {}
            }
            if !steps.is_empty() {
                out.push((c, steps));
            }
        }
        out.reverse();
        Ok(out)
    }
}

/// One open case on the staff dashboard, with its clock.
#[derive(Debug, Clone)]
pub struct DashboardRow {
    pub case: CaseRow,
    pub org_name: String,
    pub stage: Stage,
    pub clock: Option<Clock>,
}

impl DashboardRow {
    /// Sort key: overdue first (most overdue first), then warnings (fewest days left first),
    /// then by days left to the nearer due date; cases without a clock (not filed) last.
    pub fn urgency(&self) -> (u8, i64) {
        use zizhi_domain::clock::Due;
        let Some(k) = &self.clock else {
            return (4, 0);
        };
        let rank = |d: Due| match d {
            Due::Overdue(n) => (0, -n),
            Due::Warning(n) => (1, n),
            Due::Ok(n) => (2, n),
            Due::Met => (3, 0),
        };
        rank(k.target).min(rank(k.limit))
    }
}

impl App {
    /// A page of the cases the actor may see, newest first, optionally in one stage.
    pub async fn cases_page(
        &self,
        actor: &Actor,
        stage: Option<&str>,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<repo::Listed>, i64)> {
        let organization_id = listed_organization(actor)?;
        if let Some(s) = stage
            && Stage::parse(s).is_none()
        {
            return Err(AppError::invalid(
                "stage",
                format!("未知的阶段“{s}”"),
                format!("unknown stage \"{s}\""),
            ));
        }
        if !(1..=200).contains(&per_page) {
            return Err(AppError::invalid(
                "per_page",
                "每页条数应在 1 到 200 之间",
                "per_page must be between 1 and 200",
            ));
        }
        if page < 1 {
            return Err(AppError::invalid(
                "page",
                "页码从 1 开始",
                "pages start at 1",
            ));
        }
        let filter = repo::Filter {
            organization_id,
            stage,
            open_only: false,
        };
        Ok(repo::page(&self.db, &filter, per_page, (page - 1) * per_page).await?)
    }

    /// 工作台: every open case with its project clock, most urgent first (九.3: warn 15 days
    /// before the 3-month target and the 6-month limit, flag overdue). Centre staff only.
    pub async fn dashboard(&self, actor: &Actor) -> Result<Vec<DashboardRow>> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        let filter = repo::Filter {
            organization_id: None,
            stage: None,
            open_only: true,
        };
        let (rows, _) = repo::page(&self.db, &filter, i64::MAX, 0).await?;
        let mut pauses: std::collections::HashMap<i64, Vec<Pause>> = Default::default();
        for (case_id, p) in repo::open_pauses(&self.db).await? {
            if let Some(start) = date(&p.start_on) {
                pauses.entry(case_id).or_default().push(Pause {
                    start,
                    end: p.end_on.as_deref().and_then(date),
                });
            }
        }
        let today = today();
        let mut out: Vec<DashboardRow> = rows
            .into_iter()
            .filter_map(|l| {
                let stage = Stage::parse(&l.case.stage)?;
                let clock = l.case.filed_on.as_deref().and_then(date).map(|filed| {
                    let ps = pauses.get(&l.case.id).map_or(&[][..], |v| v.as_slice());
                    clock::compute(filed, ps, today, None)
                });
                Some(DashboardRow {
                    case: l.case,
                    org_name: l.org_name,
                    stage,
                    clock,
                })
            })
            .collect();
        out.sort_by_key(|r| (r.urgency(), r.case.id));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, filed: Option<&str>, today: NaiveDate) -> DashboardRow {
        DashboardRow {
            case: CaseRow {
                id,
                organization_id: 1,
                category: "disaster_recovery".into(),
                level: 2,
                kind: "initial".into(),
                stage: "evaluation".into(),
                profile: String::new(),
                paper_received_us: None,
                filed_on: filed.map(str::to_string),
                supplement_due: None,
                closed_on: None,
                agreement_no: None,
                fee_fen: None,
                lead_id: None,
                audit_conclusion: None,
                dossier_hash: None,
                review_round: 0,
                batch_id: None,
                created_by: 1,
                created_us: 0,
            },
            org_name: String::new(),
            stage: Stage::Evaluation,
            clock: filed
                .and_then(date)
                .map(|f| clock::compute(f, &[], today, None)),
        }
    }

    /// 九.3 on the dashboard: overdue first (most overdue first), then within 15 days of a due
    /// date (fewest days left first), then the rest, then cases not yet filed.
    #[test]
    fn the_dashboard_puts_the_most_urgent_first() {
        let today = date("2026-11-24").unwrap();
        let mut rows = [
            row(1, None, today),
            row(2, Some("2026-11-01"), today), // target 2027-02-01: 69 days left
            row(3, Some("2026-08-30"), today), // target 2026-11-30: 6 days left (warning)
            row(4, Some("2026-08-20"), today), // target 2026-11-20: overdue by 4
            row(5, Some("2026-05-01"), today), // limit 2026-11-01: overdue by 23
            row(6, Some("2026-09-05"), today), // target 2026-12-05: 11 days left (warning)
        ];
        rows.sort_by_key(|r| (r.urgency(), r.case.id));
        let order: Vec<i64> = rows.iter().map(|r| r.case.id).collect();
        assert_eq!(order, [5, 4, 3, 6, 2, 1]);
        // The boundary: exactly 15 days left is a warning, 16 is not (WARN_DAYS inclusive).
        let fifteen = row(7, Some("2026-09-09"), today); // target 2026-12-09
        let sixteen = row(8, Some("2026-09-10"), today); // target 2026-12-10
        assert_eq!(fifteen.urgency().0, 1);
        assert_eq!(sixteen.urgency().0, 2);
    }
}
