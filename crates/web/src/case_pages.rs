//! The case pages: the list, the staff dashboard, one case (with a form for every step the
//! viewer may take now), the delegation agreement, and the certificate desk. Handlers are thin:
//! extract, call one `zizhi-app` function, redirect back or re-render with the error.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use zizhi_app::cases::{DashboardRow, case_number};
use zizhi_app::policy::{Action, allowed};
use zizhi_app::{Actor, AppError};
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::clock::Due;
use zizhi_domain::lang::Lang;
use zizhi_domain::profile::{FieldKind, MANDATORY_FIELDS};
use zizhi_domain::review::{ActivityKind, Area};
use zizhi_domain::roles::Role;

use zizhi_app::policy::CaseAction;
use zizhi_domain::panel::Vote as PanelVote;

use crate::AppState;
use crate::ctx::Ctx;
use crate::extract::{Form, Me, QueryOf};
use crate::pages::{Chrome, chrome, failure_flash, fmt_time, render, with_flash};

pub(crate) fn kind_name(kind: &str, lang: Lang) -> String {
    zizhi_domain::fees::ApplicationKind::parse(kind)
        .map_or(kind.to_string(), |k| k.name().get(lang).to_string())
}

pub(crate) fn level_name(level: i32, lang: Lang) -> String {
    let l = u8::try_from(level).unwrap_or(0);
    zizhi_domain::lang::qualification_text(l)
        .get(lang)
        .to_string()
}

pub(crate) fn stage_name(stage: &str, lang: Lang) -> String {
    Stage::parse(stage).map_or(stage.to_string(), |s| s.name().get(lang).to_string())
}

fn day(s: &str, lang: Lang) -> String {
    zizhi_domain::lang::date_str_text(s, lang)
}

fn due_text(d: Due, lang: Lang) -> String {
    match (d, lang) {
        (Due::Ok(n), Lang::Zh) => format!("剩余 {n} 天"),
        (Due::Ok(n), Lang::En) => format!("{n} days left"),
        (Due::Warning(n), Lang::Zh) => format!("⚠ 仅剩 {n} 天"),
        (Due::Warning(n), Lang::En) => format!("⚠ only {n} days left"),
        (Due::Overdue(n), Lang::Zh) => format!("已超期 {n} 天"),
        (Due::Overdue(n), Lang::En) => format!("overdue by {n} days"),
        (Due::Met, Lang::Zh) => "已按期完成".into(),
        (Due::Met, Lang::En) => "met".into(),
    }
}

/// `a（b）` in Chinese, `a (b)` in English.
fn paren(a: String, b: String, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{a}（{b}）"),
        Lang::En => format!("{a} ({b})"),
    }
}

fn due_class(d: Due) -> &'static str {
    match d {
        Due::Overdue(_) => "bad",
        Due::Warning(_) => "warn",
        _ => "",
    }
}

// ------------------------------------------------------------------------ the list

pub struct CaseRowView {
    pub id: i64,
    pub number: String,
    pub org: String,
    pub level: String,
    pub kind: String,
    pub stage: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    c: Chrome,
    rows: Vec<CaseRowView>,
    can_create: bool,
    stages: Vec<(&'static str, String)>,
    stage: String,
    page: i64,
    pages: i64,
    total: i64,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    stage: String,
    page: Option<i64>,
}

const PER_PAGE: i64 = 50;

async fn cases_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    q: &ListQuery,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Response {
    let stage = Some(q.stage.as_str()).filter(|s| !s.is_empty());
    let page = q.page.unwrap_or(1);
    let (list, total) = match st.app.cases_page(a, stage, page, PER_PAGE).await {
        Ok(l) => l,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let rows = list
        .iter()
        .map(|l| CaseRowView {
            id: l.case.id,
            number: case_number(&l.case),
            org: l.org_name.clone(),
            level: level_name(l.case.level, ctx.lang),
            kind: kind_name(&l.case.kind, ctx.lang),
            stage: stage_name(&l.case.stage, ctx.lang),
        })
        .collect();
    let mut ch = chrome(ctx, "/cases");
    if let Some((m, err)) = flash {
        ch = with_flash(ch, m, err);
    }
    let can_create = a
        .organization_id
        .is_some_and(|o| allowed(a, &Action::CreateCase { organization_id: o }));
    let page_view = CasesPage {
        c: ch,
        rows,
        can_create,
        stages: Stage::ALL
            .iter()
            .map(|s| (s.as_str(), s.name().get(ctx.lang).to_string()))
            .collect(),
        stage: q.stage.clone(),
        page,
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        total,
    };
    (status, render(&page_view)).into_response()
}

pub async fn cases_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    QueryOf(q): QueryOf<ListQuery>,
) -> Response {
    cases_page_with(&st, &ctx, &a, &q, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct NewCaseForm {
    level: i64,
    kind: String,
}

pub async fn cases_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<NewCaseForm>,
) -> Response {
    match st.app.create_case(&a, f.level, &f.kind).await {
        Ok(c) => Redirect::to(&format!("/cases/{}", c.id)).into_response(),
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => {
                cases_page_with(
                    &st,
                    &ctx,
                    &a,
                    &ListQuery::default(),
                    Some((msg, true)),
                    status,
                )
                .await
            }
            Err(r) => *r,
        },
    }
}

// ------------------------------------------------------------------------ dashboard

pub struct DashView {
    pub id: i64,
    pub number: String,
    pub org: String,
    pub stage: String,
    pub running: String,
    pub target: String,
    pub target_class: &'static str,
    pub limit: String,
    pub limit_class: &'static str,
    pub paused: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    rows: Vec<DashView>,
    total: usize,
    by_stage: Vec<(String, usize)>,
    overdue: usize,
    warning: usize,
}

fn dash_view(r: &DashboardRow, lang: Lang) -> DashView {
    let (running, target, tc, limit, lc, paused) = match &r.clock {
        Some(k) => (
            k.running_days.to_string(),
            paren(
                day(&k.target_due.to_string(), lang),
                due_text(k.target, lang),
                lang,
            ),
            due_class(k.target),
            paren(
                day(&k.limit_due.to_string(), lang),
                due_text(k.limit, lang),
                lang,
            ),
            due_class(k.limit),
            k.paused_now,
        ),
        None => ("—".into(), "—".into(), "", "—".into(), "", false),
    };
    DashView {
        id: r.case.id,
        number: case_number(&r.case),
        org: r.org_name.clone(),
        stage: r.stage.name().get(lang).to_string(),
        running,
        target,
        target_class: tc,
        limit,
        limit_class: lc,
        paused,
    }
}

/// How many of the most urgent cases the dashboard lists.
const DASHBOARD_ROWS: usize = 100;

/// 工作台 (staff): open cases by urgency, with counts per stage.
pub async fn dashboard_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    let rows = match st.app.dashboard(&a).await {
        Ok(r) => r,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let mut by_stage: Vec<(String, usize)> = Vec::new();
    for s in Stage::ALL {
        let n = rows.iter().filter(|r| r.stage == s).count();
        if n > 0 {
            by_stage.push((s.name().get(ctx.lang).to_string(), n));
        }
    }
    let is =
        |r: &DashboardRow, f: fn(Due) -> bool| r.clock.is_some_and(|k| f(k.target) || f(k.limit));
    let overdue = rows
        .iter()
        .filter(|r| is(r, |d| matches!(d, Due::Overdue(_))))
        .count();
    let warning = rows
        .iter()
        .filter(|r| {
            !is(r, |d| matches!(d, Due::Overdue(_))) && is(r, |d| matches!(d, Due::Warning(_)))
        })
        .count();
    let page = DashboardPage {
        c: chrome(&ctx, "/dashboard"),
        // The most urgent first; the counts above cover all of them.
        rows: rows
            .iter()
            .take(DASHBOARD_ROWS)
            .map(|r| dash_view(r, ctx.lang))
            .collect(),
        total: rows.len(),
        by_stage,
        overdue,
        warning,
    };
    render(&page).into_response()
}

// ------------------------------------------------------------------------ one case

pub struct ClockView {
    pub running: i64,
    pub paused: i64,
    pub paused_now: bool,
    pub target_due: String,
    pub limit_due: String,
    pub target: String,
    pub limit: String,
    pub target_class: &'static str,
    pub limit_class: &'static str,
}

/// One mandatory fact on the form.
pub struct FieldView {
    pub path: &'static str,
    pub label: &'static str,
    /// `text`, `date`, `number` or `yesno`
    pub input: &'static str,
    pub value: String,
    pub missing: bool,
}

/// One requirement: the live self-assessment, the expected evidence, what is filed.
pub struct ReqView {
    pub id: String,
    pub text: String,
    pub status: String,
    pub status_class: &'static str,
    pub reason: String,
    pub expected: String,
    pub filed: Vec<(i64, String)>,
    pub judgement: String,
}

pub struct AreaView {
    pub code: &'static str,
    pub name: String,
    pub sufficient: Option<bool>,
    pub opinion: String,
}

pub struct ActivityView {
    pub kind: String,
    pub held_on: String,
    pub notes: String,
    pub by: String,
    pub evidence: String,
}

pub struct VoteView {
    pub expert: String,
    pub vote: String,
    pub opinion: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    id: i64,
    number: String,
    org: String,
    stage: String,
    stage_code: &'static str,
    level: String,
    kind: String,
    supplement_due: Option<String>,
    fee: Option<String>,
    agreement: Option<String>,
    certificate: Option<String>,
    clock: Option<ClockView>,
    next: Vec<(&'static str, String)>,
    history: Vec<(String, String, String, String)>,
    rounds: Vec<(i32, String, String)>,
    is_staff: bool,
    // The applicant's portal
    editing: bool,
    fields: Vec<FieldView>,
    projects: String,
    certificates: String,
    verdict: Option<String>,
    facts_error: Option<String>,
    reqs: Vec<ReqView>,
    missing_count: usize,
    without_evidence: Vec<String>,
    complete: bool,
    org_id: i64,
    org_evidence: Vec<(i64, String)>,
    // Filing
    can_paper: bool,
    paper_received: bool,
    // Acceptance review
    areas: Vec<AreaView>,
    has_areas: bool,
    can_review: bool,
    // Evaluation
    team: Vec<(String, String)>,
    can_assign: bool,
    assessors: Vec<(i64, String)>,
    experts: Vec<(i64, String)>,
    activities: Vec<ActivityView>,
    activity_kinds: Vec<(&'static str, String)>,
    can_record: bool,
    verdicts: Vec<(&'static str, String)>,
    today: String,
    // Expert review
    dossier_hash: Option<String>,
    audit_conclusion: Option<String>,
    votes: Vec<VoteView>,
    can_vote: bool,
    /// Votes cast / seats, or the tally once complete.
    panel_status: Option<String>,
    /// Project leads to name when filing (or to reassign to).
    leads: Vec<(i64, String)>,
    /// A supervisor may hand the case to another lead.
    can_reassign: bool,
    has_chair: bool,
    panel_min: usize,
}

/// Lines of `name | level` (or `name | seven element levels`) for the DR projects.
fn projects_text(profile: &Value) -> String {
    let mut out = Vec::new();
    for p in profile["track_record"]["dr_construction_projects"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = p["name"].as_str().unwrap_or("");
        let level = if let Some(l) = p["gbt20988_level"].as_i64() {
            l.to_string()
        } else if let Some(e) = p["gbt20988_elements"].as_object() {
            ELEMENTS
                .iter()
                .map(|k| e.get(*k).and_then(Value::as_i64).unwrap_or(0).to_string())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            String::new()
        };
        out.push(format!("{name} | {level}"));
    }
    out.join("\n")
}

const ELEMENTS: [&str; 7] = [
    "data_backup",
    "standby_processing",
    "standby_network",
    "standby_infrastructure",
    "technical_support",
    "operations_management",
    "dr_plan",
];

/// Lines of `number | level | valid until | status` for the held certificates.
fn certificates_text(profile: &Value) -> String {
    profile["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} | {} | {} | {}",
                c["number"].as_str().unwrap_or(""),
                c["level"].as_i64().unwrap_or(0),
                c["valid_until"].as_str().unwrap_or(""),
                c["status"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        _ => String::new(),
    }
}

/// The form as the applicant typed it, to show again after an error.
type Entered = HashMap<String, String>;

async fn case_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    flash: Option<(String, bool)>,
    status: StatusCode,
    entered: Option<&Entered>,
) -> Response {
    match build_case_page(st, ctx, a, id, flash, entered).await {
        Ok(page) => (status, render(&page)).into_response(),
        Err(e) => ctx.fail(e).into_response(),
    }
}

async fn build_case_page(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    flash: Option<(String, bool)>,
    entered: Option<&Entered>,
) -> Result<CasePage, AppError> {
    let app = &st.app;
    let d = app.case(a, id).await?;
    let lang = ctx.lang;
    let c = &d.case;
    let staff = a.role.is_staff();
    let certificate = d.certificate.as_ref().map(|c| c.number.clone());
    let pack = zizhi_app::cases::evaluation::pack_of(c)?;
    let directory = if staff {
        app.staff_directory(a).await?
    } else {
        Vec::new()
    };
    let names: HashMap<i64, &str> = directory
        .iter()
        .map(|(id, n, _)| (*id, n.as_str()))
        .collect();
    let name_of = |uid: i64| {
        names
            .get(&uid)
            .map_or_else(|| format!("#{uid}"), |n| n.to_string())
    };

    // The portal: facts, live self-assessment, evidence per requirement, completeness.
    let editing =
        a.role == Role::Applicant && matches!(d.stage, Stage::Draft | Stage::Supplementing);
    let profile: Value = serde_json::from_str(&c.profile).unwrap_or_default();
    let portal = app.portal(&d).await?;
    let done = &portal.completeness;
    let fields = MANDATORY_FIELDS
        .iter()
        .map(|f| FieldView {
            path: f.path,
            label: match lang {
                Lang::Zh => f.label.0,
                Lang::En => f.label.1,
            },
            input: match f.kind {
                FieldKind::Text | FieldKind::Amount => "text",
                FieldKind::Date => "date",
                FieldKind::Count => "number",
                FieldKind::YesNo => "yesno",
            },
            value: match entered {
                Some(e) => e.get(f.path).cloned().unwrap_or_default(),
                None => value_text(zizhi_app::cases::submission::lookup(&profile, f.path)),
            },
            missing: done.missing_fields.contains(&f.path),
        })
        .collect();
    let (projects, certificates) = match entered {
        Some(e) => (
            e.get("projects").cloned().unwrap_or_default(),
            e.get("certificates").cloned().unwrap_or_default(),
        ),
        None => (projects_text(&profile), certificates_text(&profile)),
    };
    let live = portal.assessment.as_ref();
    let linked = &portal.linked;
    let judged = if staff {
        app.judgements(a, id).await?
    } else {
        Vec::new()
    };
    let verdict_name = |v: &str| {
        zizhi_app::cases::evaluation::VERDICTS
            .iter()
            .find(|(c, _, _)| *c == v)
            .map_or(v.to_string(), |(_, zh, en)| {
                match lang {
                    Lang::Zh => zh,
                    Lang::En => en,
                }
                .to_string()
            })
    };
    let reqs = pack
        .requirements
        .iter()
        .map(|r| {
            let result = live.and_then(|asm| asm.requirements.iter().find(|x| x.id == r.id));
            let (status, status_class, reason) = match result {
                Some(x) => (
                    x.status.name().get(lang).to_string(),
                    match x.status {
                        zizhi_domain::assess::Status::Met => "ok",
                        zizhi_domain::assess::Status::NotMet => "bad",
                        zizhi_domain::assess::Status::NeedsReview => "warn",
                    },
                    x.reason.get(lang).to_string(),
                ),
                None => ("—".into(), "", String::new()),
            };
            let judgement = judged
                .iter()
                .find(|j| j.requirement_id == r.id)
                .map(|j| {
                    format!(
                        "{}{}{}",
                        verdict_name(&j.verdict),
                        lang.pick("：", ": "),
                        j.rationale
                    )
                })
                .unwrap_or_default();
            ReqView {
                id: r.id.clone(),
                text: r.text.get(lang).to_string(),
                status,
                status_class,
                reason,
                expected: r
                    .evidence
                    .iter()
                    .map(|e| e.get(lang).to_string())
                    .collect::<Vec<_>>()
                    .join("；"),
                filed: linked
                    .iter()
                    .filter(|l| l.requirement_id == r.id)
                    .map(|l| (l.evidence_id, l.original_name.clone()))
                    .collect(),
                judgement,
            }
        })
        .collect();
    let verdict = live.map(|asm| {
        let fee = asm
            .fee
            .as_ref()
            .map(|f| f.total().display(lang))
            .unwrap_or_else(|| lang.pick("待公布", "pending").to_string());
        let kind = kind_name(asm.application_kind.as_str(), lang);
        match (asm.eligible, lang) {
            (true, Lang::Zh) => format!("符合申请的基本条件 · 按{kind}收费 {fee}"),
            (true, Lang::En) => format!("Meets the conditions to apply · charged as {kind}: {fee}"),
            (false, Lang::Zh) => format!("尚不符合申请条件 · 按{kind}收费 {fee}"),
            (false, Lang::En) => {
                format!("Does not yet meet the conditions · charged as {kind}: {fee}")
            }
        }
    });
    let facts_error = done
        .facts
        .as_ref()
        .map(|(field, problem)| format!("{field}{}{}", lang.pick("：", ": "), problem.get(lang)));
    let org_evidence = if editing {
        app.list_evidence(a, c.organization_id)
            .await?
            .into_iter()
            .map(|e| (e.id, e.original_name))
            .collect()
    } else {
        Vec::new()
    };

    // Acceptance review: the five areas of the current round.
    let area_rows = app.review_areas_of(&d).await?;
    let areas = Area::ALL
        .iter()
        .map(|ar| {
            let row = area_rows.iter().find(|r| r.area == ar.as_str());
            AreaView {
                code: ar.as_str(),
                name: ar.name().get(lang).to_string(),
                sufficient: row.map(|r| r.sufficient),
                opinion: row.map(|r| r.opinion.clone()).unwrap_or_default(),
            }
        })
        .collect();

    // Evaluation and expert review.
    let members = app.team(a, id).await?;
    let duty = |d: &str| match (d, lang) {
        ("expert", Lang::Zh) => "专家组成员",
        ("expert", Lang::En) => "expert panel",
        (_, Lang::Zh) => "项目组成员",
        (_, Lang::En) => "assessor",
    };
    let mut team: Vec<(String, String)> = Vec::new();
    if let Some(l) = c.lead_id {
        team.push((name_of(l), lang.pick("项目负责人", "project lead").into()));
    }
    team.extend(members.iter().map(|m| {
        let d = if m.chair {
            lang.pick("专家组组长", "panel chair")
        } else {
            duty(&m.duty)
        };
        (name_of(m.user_id), d.to_string())
    }));
    let in_eval = d.stage == Stage::Evaluation;
    let can_assign = staff && in_eval && d.may(CaseAction::AssignTeam);
    let (assessors, experts) = if can_assign {
        let seated = |uid: i64| members.iter().any(|m| m.user_id == uid);
        let pick = |role: Role| {
            directory
                .iter()
                .filter(|(uid, _, r)| *r == role && *uid != a.user_id && !seated(*uid))
                .map(|(uid, n, _)| (*uid, n.clone()))
                .collect::<Vec<_>>()
        };
        (pick(Role::Assessor), pick(Role::Expert))
    } else {
        (Vec::new(), Vec::new())
    };
    let has_chair = members.iter().any(|m| m.chair);
    let activities = if staff {
        app.activities(a, id)
            .await?
            .into_iter()
            .map(|x| ActivityView {
                kind: ActivityKind::parse(&x.kind)
                    .map_or(x.kind.clone(), |k| k.name().get(lang).to_string()),
                held_on: day(&x.held_on, lang),
                notes: x.notes,
                by: name_of(x.recorded_by),
                evidence: x.evidence_ids.trim_matches(['[', ']']).to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    // Votes are secret until every seat has voted (5.4): the app gives each viewer only what
    // it may see.
    let panel = if staff && c.dossier_hash.is_some() {
        Some(app.panel(a, id).await?)
    } else {
        None
    };
    let can_vote = d.stage == Stage::ExpertReview
        && d.may(CaseAction::Vote)
        && panel.as_ref().is_some_and(|p| p.mine.is_none());
    let vote_name = |v: &str| {
        zizhi_domain::panel::Vote::parse(v)
            .map_or(v.to_string(), |x| x.name().get(lang).to_string())
    };
    let votes = panel
        .as_ref()
        .map(|p| p.votes.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|v| VoteView {
            expert: name_of(v.expert_id),
            vote: vote_name(&v.vote),
            opinion: v.opinion.clone(),
        })
        .collect();
    let panel_status = panel.as_ref().map(|p| match (&p.tally, p.conclusion, lang) {
        (Some(t), Some(k), Lang::Zh) => format!(
            "全部 {} 位专家已表决：通过 {} 票、不通过 {} 票、退回 {} 票，结论为“{}”（过半数席位决定；专家组组长据此记录结论）",
            t.seats, t.pass, t.fail, t.ret, k.name().zh
        ),
        (Some(t), Some(k), Lang::En) => format!(
            "All {} experts have voted: {} pass, {} fail, {} return — the conclusion is \"{}\" (more than half of the seats decide; the chair records it)",
            t.seats, t.pass, t.fail, t.ret, k.name().en
        ),
        (_, _, Lang::Zh) => format!(
            "已表决 {} / {} 位；全部表决前不公开各票和计票结果",
            p.cast, p.seats
        ),
        (_, _, Lang::En) => format!(
            "{} of {} have voted; the votes stay secret until all have voted",
            p.cast, p.seats
        ),
    });
    let panel_conclusion = panel.as_ref().and_then(|p| p.conclusion);
    let can_reassign =
        d.may(CaseAction::ReassignLead) && c.filed_on.is_some() && !d.stage.is_closed();
    let leads: Vec<(i64, String)> = if d.next.contains(&Transition::File) || can_reassign {
        directory
            .iter()
            .filter(|(_, _, r)| *r == Role::ProjectLead)
            .map(|(uid, n, _)| (*uid, n.clone()))
            .collect()
    } else {
        Vec::new()
    };

    let mut ch = chrome(ctx, &format!("/cases/{id}"));
    if let Some((m, err)) = flash {
        ch = with_flash(ch, m, err);
    }
    let clock = d.clock.map(|k| ClockView {
        running: k.running_days,
        paused: k.paused_days,
        paused_now: k.paused_now,
        target_due: day(&k.target_due.to_string(), lang),
        limit_due: day(&k.limit_due.to_string(), lang),
        target: due_text(k.target, lang),
        limit: due_text(k.limit, lang),
        target_class: due_class(k.target),
        limit_class: due_class(k.limit),
    });
    Ok(CasePage {
        c: ch,
        id,
        number: case_number(c),
        org: app
            .organization(a, c.organization_id)
            .await
            .map(|o| o.name)
            .unwrap_or_default(),
        stage: d.stage.name().get(lang).to_string(),
        stage_code: d.stage.as_str(),
        level: level_name(c.level, lang),
        kind: kind_name(&c.kind, lang),
        supplement_due: c.supplement_due.as_deref().map(|s| day(s, lang)),
        fee: c
            .fee_fen
            .map(|f| zizhi_domain::money::Cny::from_fen(f).display(lang)),
        agreement: c.agreement_no.clone(),
        certificate,
        clock,
        // Issue runs through the certificate desk, never one case on its own; votes and the
        // panel's conclusion have their own form.
        // Issue runs through the certificate desk, never one case on its own; the panel's
        // conclusion is offered once every seat has voted.
        next: d
            .next
            .iter()
            .filter(|t| **t != Transition::Issue)
            .filter(|t| match t {
                // Only the conclusion the votes give is offered (the app refuses any other).
                Transition::PanelPass => panel_conclusion == Some(PanelVote::Pass),
                Transition::PanelFail => panel_conclusion == Some(PanelVote::Fail),
                Transition::PanelReturn => panel_conclusion == Some(PanelVote::Return),
                _ => true,
            })
            .map(|t| (t.as_str(), t.name().get(lang).to_string()))
            .collect(),
        leads,
        can_reassign,
        panel_status,
        history: d
            .transitions
            .iter()
            .map(|t| {
                let label = Transition::parse(&t.transition)
                    .map_or(t.transition.clone(), |x| x.name().get(lang).to_string());
                (
                    fmt_time(t.at_us, lang),
                    label,
                    stage_name(&t.to_stage, lang),
                    t.note.clone(),
                )
            })
            .collect(),
        rounds: d
            .rounds
            .iter()
            .map(|r| {
                let report: Option<zizhi_domain::assess::Report> =
                    serde_json::from_str(&r.assessment).ok();
                let eligible = report.as_ref().is_some_and(|x| x.eligible);
                let (met, not_met, review) = report.as_ref().map_or((0, 0, 0), |x| {
                    (x.summary.met, x.summary.not_met, x.summary.needs_review)
                });
                let verdict = match (eligible, lang) {
                    (true, Lang::Zh) => "符合申请的基本条件",
                    (true, Lang::En) => "meets the conditions to apply",
                    (false, Lang::Zh) => "不符合申请条件",
                    (false, Lang::En) => "does not meet the conditions",
                };
                let counts = match lang {
                    Lang::Zh => {
                        format!("{verdict}（满足 {met}，不满足 {not_met}，待审核 {review}）")
                    }
                    Lang::En => {
                        format!("{verdict} ({met} met, {not_met} not met, {review} to review)")
                    }
                };
                (r.round, fmt_time(r.submitted_us, lang), counts)
            })
            .collect(),
        is_staff: staff,
        editing,
        fields,
        projects,
        certificates,
        verdict,
        facts_error,
        reqs,
        missing_count: done.missing_fields.len(),
        without_evidence: done.without_evidence.clone(),
        complete: done.complete(),
        org_id: c.organization_id,
        org_evidence,
        can_paper: d.may(CaseAction::RecordPaperCopy) && d.stage == Stage::Submitted,
        paper_received: c.paper_received_us.is_some(),
        has_areas: !area_rows.is_empty(),
        areas,
        can_review: d.may(CaseAction::JudgeReviewArea) && d.stage == Stage::AcceptanceReview,
        team,
        can_assign,
        has_chair,
        panel_min: app.config.panel_min_experts,
        assessors,
        experts,
        activities,
        activity_kinds: ActivityKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.name().get(lang).to_string()))
            .collect(),
        can_record: in_eval && d.may(CaseAction::RecordEvaluation),
        verdicts: zizhi_app::cases::evaluation::VERDICTS
            .iter()
            .map(|(code, zh, en)| {
                (
                    *code,
                    match lang {
                        Lang::Zh => zh.to_string(),
                        Lang::En => en.to_string(),
                    },
                )
            })
            .collect(),
        today: st.app.clock.today().to_string(),
        dossier_hash: c.dossier_hash.clone(),
        audit_conclusion: c.audit_conclusion.clone(),
        votes,
        can_vote,
    })
}

pub async fn case_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    case_page_with(&st, &ctx, &a, id, None, StatusCode::OK, None).await
}

/// After a form on the case page: back to the case, or the case again with the error.
async fn back(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    r: Result<(), AppError>,
    anchor: &str,
    entered: Option<&Entered>,
) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/cases/{id}{anchor}")).into_response(),
        Err(e) => match failure_flash(ctx, e) {
            Ok((msg, status)) => {
                case_page_with(st, ctx, a, id, Some((msg, true)), status, entered).await
            }
            Err(r) => *r,
        },
    }
}

#[derive(Deserialize)]
pub struct TransitionForm {
    transition: String,
    #[serde(default)]
    note: String,
    /// Filing names the project lead.
    #[serde(default)]
    lead_id: String,
}

pub async fn case_transition(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<TransitionForm>,
) -> Response {
    let r = match Transition::parse(&f.transition) {
        None => Err(AppError::invalid(
            "transition",
            "未知的操作",
            "unknown step",
        )),
        Some(t) => match f.lead_id.trim() {
            "" => Ok(None),
            x => x.parse::<i64>().map(Some).map_err(|_| {
                AppError::invalid("lead_id", "请选择项目负责人", "choose the project lead")
            }),
        }
        .map(|lead| (t, lead)),
    };
    let r = match r {
        Ok((t, lead)) => st
            .app
            .transition_case_with(&a, id, t, &f.note, lead)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    back(&st, &ctx, &a, id, r, "", None).await
}

/// Builds the profile JSON from the form's fields; a malformed number or line names its field.
fn profile_from_form(form: &Entered) -> Result<Value, AppError> {
    let mut v = json!({
        "organization": {}, "staff": {}, "track_record": {}, "certificates": [],
    });
    for f in MANDATORY_FIELDS {
        let raw = form.get(f.path).map(|s| s.trim()).unwrap_or("");
        let value = match f.kind {
            FieldKind::YesNo => match raw {
                "yes" => json!(true),
                "no" => json!(false),
                _ => continue,
            },
            _ if raw.is_empty() => continue,
            FieldKind::Count => json!(raw.parse::<i64>().map_err(|_| {
                AppError::invalid(
                    f.path,
                    "应为整数（人数）",
                    "must be a whole number (people)",
                )
            })?),
            _ => json!(raw),
        };
        let (section, key) = f.path.split_once('.').unwrap_or(("", f.path));
        v[section][key] = value;
    }
    let mut projects = Vec::new();
    for (i, line) in form
        .get("projects")
        .map(String::as_str)
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let field = format!("track_record.dr_construction_projects[{i}]");
        let (name, level) = line.rsplit_once('|').ok_or_else(|| {
            AppError::invalid(
                &field,
                "每行应为“项目名称 | GB/T 20988 等级”",
                "each line must be \"project name | GB/T 20988 level\"",
            )
        })?;
        let level = level.trim();
        let mut p = json!({"name": name.trim()});
        if let Ok(l) = level.parse::<i64>() {
            p["gbt20988_level"] = json!(l);
        } else {
            let parts: Vec<i64> = level
                .split([',', '，'])
                .map(|x| x.trim().parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    AppError::invalid(
                        &field,
                        "等级应为 1–6 的整数，或七个要素的等级（以逗号分隔）",
                        "the level must be a whole number 1–6, or seven element levels separated by commas",
                    )
                })?;
            if parts.len() != ELEMENTS.len() {
                return Err(AppError::invalid(
                    &field,
                    "要素等级应为七个",
                    "give all seven element levels",
                ));
            }
            p["gbt20988_elements"] = ELEMENTS
                .iter()
                .zip(parts)
                .map(|(k, l)| ((*k).to_string(), json!(l)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        projects.push(p);
    }
    v["track_record"]["dr_construction_projects"] = json!(projects);
    let mut certs = Vec::new();
    for (i, line) in form
        .get("certificates")
        .map(String::as_str)
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let field = format!("certificates[{i}]");
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [number, level, valid_until, status] = parts[..] else {
            return Err(AppError::invalid(
                &field,
                "每行应为“证书编号 | 级别 | 有效期至 | 状态（valid、suspended、revoked、expired）”",
                "each line must be \"number | level | valid until | status (valid, suspended, revoked, expired)\"",
            ));
        };
        let level: i64 = level.parse().map_err(|_| {
            AppError::invalid(&field, "级别应为整数", "the level must be a whole number")
        })?;
        certs.push(json!({
            "category": "disaster_recovery", "level": level, "number": number,
            "valid_until": valid_until, "status": status,
        }));
    }
    v["certificates"] = json!(certs);
    Ok(v)
}

/// `POST /cases/{id}/profile`: the applicant saves the form (complete or not).
pub async fn case_profile(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form: Entered = pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
    let r = match profile_from_form(&form) {
        Ok(v) => st.app.save_case_draft(&a, id, v).await,
        Err(e) => Err(e),
    };
    let entered = r.is_err().then_some(&form);
    back(&st, &ctx, &a, id, r, "#portal", entered).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    requirement_id: String,
    evidence_id: i64,
}

/// `POST /cases/{id}/evidence`: files an uploaded document against a requirement.
pub async fn case_link(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Response {
    let r = st
        .app
        .link_case_evidence(&a, id, &f.requirement_id, f.evidence_id)
        .await;
    back(&st, &ctx, &a, id, r, "#requirements", None).await
}

/// `POST /cases/{id}/paper-copy`: the registrar records the bound paper copy.
pub async fn case_paper(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    let r = st.app.record_paper_copy(&a, id).await;
    back(&st, &ctx, &a, id, r, "", None).await
}

/// `POST /cases/{id}/areas`: the lead's five area judgements in one form.
pub async fn case_areas(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form: Entered = pairs.into_iter().collect();
    let mut r = Ok(());
    for area in Area::ALL {
        let code = area.as_str();
        let sufficient = match form.get(&format!("{code}.sufficient")).map(String::as_str) {
            Some("yes") => true,
            Some("no") => false,
            _ => {
                r = Err(AppError::invalid(
                    &format!("{code}.sufficient"),
                    format!("请判定“{}”的证据是否充分", area.name().zh),
                    format!(
                        "judge whether the evidence on {} is sufficient",
                        area.name().en
                    ),
                ));
                break;
            }
        };
        let opinion = form
            .get(&format!("{code}.opinion"))
            .map_or("", String::as_str);
        if let Err(e) = st
            .app
            .record_review_area(&a, id, code, sufficient, opinion)
            .await
        {
            r = Err(match e {
                AppError::Invalid { field, problem } if field == "opinion" => AppError::Invalid {
                    field: format!("{code}.opinion"),
                    problem,
                },
                other => other,
            });
            break;
        }
    }
    back(&st, &ctx, &a, id, r, "#review", None).await
}

/// The ids of a repeated form field (checkboxes).
fn form_ids(pairs: &[(String, String)], key: &str) -> Vec<i64> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .filter_map(|(_, v)| v.parse().ok())
        .collect()
}

/// `POST /cases/{id}/team`: repeated `assessor` and `expert` fields.
#[derive(Deserialize)]
pub struct LeadForm {
    #[serde(default)]
    lead_id: String,
    #[serde(default)]
    reason: String,
}

/// `POST /cases/{id}/lead`: a supervisor reassigns the project lead, with a reason.
pub async fn case_lead(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<LeadForm>,
) -> Response {
    let r = match f.lead_id.trim().parse::<i64>() {
        Ok(lead) => st
            .app
            .reassign_lead(&a, id, lead, &f.reason)
            .await
            .map(|_| ()),
        Err(_) => Err(AppError::invalid(
            "lead_id",
            "请选择项目负责人",
            "choose the project lead",
        )),
    };
    back(&st, &ctx, &a, id, r, "", None).await
}

pub async fn case_team(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (assessors, experts) = (form_ids(&pairs, "assessor"), form_ids(&pairs, "expert"));
    let chair = form_ids(&pairs, "chair").first().copied();
    let r = if assessors.is_empty() && experts.is_empty() {
        Err(AppError::invalid(
            "assessors",
            "请至少指定一名项目组成员或专家",
            "name at least one assessor or expert",
        ))
    } else {
        st.app
            .assign_team(&a, id, &assessors, &experts, chair)
            .await
            .map(|_| ())
    };
    back(&st, &ctx, &a, id, r, "#evaluation", None).await
}

fn evidence_list(s: &str) -> Result<Vec<i64>, AppError> {
    s.split([',', '，', ' '])
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            x.trim().parse::<i64>().map_err(|_| {
                AppError::invalid(
                    "evidence_ids",
                    "证据编号应为以逗号分隔的数字",
                    "evidence ids must be numbers separated by commas",
                )
            })
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ActivityForm {
    kind: String,
    held_on: String,
    notes: String,
    #[serde(default)]
    evidence_ids: String,
}

pub async fn case_activity(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<ActivityForm>,
) -> Response {
    let r = match evidence_list(&f.evidence_ids) {
        Ok(ev) => st
            .app
            .record_activity(&a, id, &f.kind, &f.held_on, &f.notes, &ev)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    back(&st, &ctx, &a, id, r, "#evaluation", None).await
}

#[derive(Deserialize)]
pub struct JudgementForm {
    requirement_id: String,
    verdict: String,
    rationale: String,
    #[serde(default)]
    evidence_ids: String,
}

pub async fn case_judgement(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<JudgementForm>,
) -> Response {
    let r = match evidence_list(&f.evidence_ids) {
        Ok(ev) => {
            st.app
                .record_judgement(&a, id, &f.requirement_id, &f.verdict, &f.rationale, &ev)
                .await
        }
        Err(e) => Err(e),
    };
    back(&st, &ctx, &a, id, r, "#requirements", None).await
}

#[derive(Deserialize)]
pub struct VoteForm {
    vote: String,
    opinion: String,
}

pub async fn case_vote(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<VoteForm>,
) -> Response {
    let r = st.app.panel_vote(&a, id, &f.vote, &f.opinion).await;
    back(&st, &ctx, &a, id, r, "#panel", None).await
}

// ------------------------------------------------------------------------ the agreement

/// `GET /cases/{id}/agreement`: the standard delegation agreement (制式委托协议, 5.3), filled
/// from the case, the fee fixed when it was sent: the document attached to the e-mail, in the
/// reader's language, printable. Staff and the applicant.
pub async fn agreement_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    match st.app.agreement_html(&a, id, ctx.lang).await {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => ctx.fail(e).into_response(),
    }
}

// ------------------------------------------------------------------------ certificate desk

pub struct BatchView {
    pub id: i64,
    pub status: String,
    pub status_code: String,
    pub cases: Vec<(i64, String, String)>,
    pub can_approve: bool,
    pub can_issue: bool,
}

#[derive(Template)]
#[template(path = "batches.html")]
struct BatchesPage {
    c: Chrome,
    waiting: Vec<(i64, String)>,
    batches: Vec<BatchView>,
    officer: bool,
}

async fn batches_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Response {
    let (waiting, batches) = match st.app.certificate_desk(a).await {
        Ok(x) => x,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let lang = ctx.lang;
    let mut ch = chrome(ctx, "/batches");
    if let Some((m, err)) = flash {
        ch = with_flash(ch, m, err);
    }
    let page = BatchesPage {
        c: ch,
        waiting: waiting.iter().map(|c| (c.id, case_number(c))).collect(),
        batches: batches
            .into_iter()
            .map(|(b, cases)| BatchView {
                id: b.id,
                status: match (b.status.as_str(), lang) {
                    ("open", Lang::Zh) => "待审批".into(),
                    ("open", Lang::En) => "awaiting approval".into(),
                    ("approved", Lang::Zh) => "已审批，待发证".into(),
                    ("approved", Lang::En) => "approved, to issue".into(),
                    ("issued", Lang::Zh) => "已发证".into(),
                    ("issued", Lang::En) => "issued".into(),
                    (s, _) => s.to_string(),
                },
                can_approve: b.status == "open"
                    && a.role == Role::Approver
                    && b.created_by != a.user_id,
                can_issue: b.status == "approved" && a.role == Role::CertificateOfficer,
                status_code: b.status,
                cases: cases
                    .iter()
                    .map(|c| (c.id, case_number(c), stage_name(&c.stage, lang)))
                    .collect(),
            })
            .collect(),
        officer: a.role == Role::CertificateOfficer,
    };
    (status, render(&page)).into_response()
}

pub async fn batches_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    batches_page_with(&st, &ctx, &a, None, StatusCode::OK).await
}

async fn desk_back(st: &AppState, ctx: &Ctx, a: &Actor, r: Result<(), AppError>) -> Response {
    match r {
        Ok(()) => Redirect::to("/batches").into_response(),
        Err(e) => match failure_flash(ctx, e) {
            Ok((msg, status)) => batches_page_with(st, ctx, a, Some((msg, true)), status).await,
            Err(r) => *r,
        },
    }
}

pub async fn batches_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let r = st
        .app
        .create_batch(&a, &form_ids(&pairs, "case"))
        .await
        .map(|_| ());
    desk_back(&st, &ctx, &a, r).await
}

pub async fn batch_approve(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    let r = st.app.approve_batch(&a, id).await;
    desk_back(&st, &ctx, &a, r).await
}

pub async fn batch_issue(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    let r = st.app.issue_batch(&a, id).await.map(|_| ());
    desk_back(&st, &ctx, &a, r).await
}
