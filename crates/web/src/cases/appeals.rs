//! Appeals (申诉, guide 七, issue 11): pages at `/appeals`, JSON at `/api/v1/appeals`; the rules
//! live in `zizhi_app::appeals`.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::appeals::AppealInput;
use zizhi_app::{Actor, AppError};
use zizhi_domain::appeal::{AppealState, Subject};
use zizhi_domain::lang::{Lang, date_str_text};
use zizhi_domain::roles::Role;
use zizhi_store::appeals::Appeal;

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render, with_flash};

fn json_of(a: &Appeal) -> serde_json::Value {
    json!({
        "id": a.id,
        "organization_id": a.organization_id,
        "subject": a.subject.as_str(),
        "case_id": a.case_id,
        "sanction_id": a.sanction_id,
        "grounds": a.grounds,
        "evidence_ids": serde_json::from_str::<serde_json::Value>(&a.evidence_ids).unwrap_or_default(),
        "filed_by": a.filed_by,
        "filed_on": a.filed_on,
        "state": a.state.as_str(),
        "state_name": {"zh": a.state.name().zh, "en": a.state.name().en},
        "investigator_id": a.investigator_id,
        "findings": a.findings,
        "reopened_at": a.reopened_at,
        "concluded_on": a.concluded_on,
    })
}

pub async fn api_list(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let list = st.app.appeals(&a).await.or_fail(&ctx)?;
    Ok(Json(json!({"items": list.iter().map(json_of).collect::<Vec<_>>()})).into_response())
}

/// Missing fields are empty, so that who may file is answered first, then each field.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppealBody {
    subject: String,
    case_id: Option<i64>,
    sanction_id: Option<i64>,
    grounds: String,
    evidence_ids: Vec<i64>,
}

pub async fn api_file(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<AppealBody>,
) -> Answer {
    let input = AppealInput {
        subject: b.subject,
        case_id: b.case_id,
        sanction_id: b.sanction_id,
        grounds: b.grounds,
        evidence_ids: b.evidence_ids,
    };
    let x = st.app.file_appeal(&a, &input).await.or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(json_of(&x))).into_response())
}

pub async fn api_one(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let x = st.app.appeal(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json_of(&x)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssignBody {
    investigator_id: i64,
}

pub async fn api_assign(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AssignBody>,
) -> Answer {
    let x = st
        .app
        .assign_investigator(&a, id, b.investigator_id)
        .await
        .or_fail(&ctx)?;
    Ok(Json(json_of(&x)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConclusionBody {
    outcome: String,
    findings: String,
    reopen_at: Option<String>,
}

pub async fn api_conclude(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ConclusionBody>,
) -> Answer {
    let x = st
        .app
        .conclude_appeal(&a, id, &b.outcome, &b.findings, b.reopen_at.as_deref())
        .await
        .or_fail(&ctx)?;
    Ok(Json(json_of(&x)).into_response())
}

// ---- pages ----

pub struct Row {
    pub id: i64,
    pub subject: String,
    /// Where what is appealed is: the case or the sanction.
    pub about: String,
    pub about_href: String,
    pub state: String,
    pub filed_on: String,
    pub open: bool,
}

pub(crate) fn row_of(a: &Appeal, lang: Lang) -> Row {
    let (about, about_href) = match (a.case_id, a.sanction_id) {
        (Some(c), _) => (
            format!("{} {c}", lang.pick("案件", "case")),
            format!("/cases/{c}"),
        ),
        (_, Some(s)) => (
            format!("{} {s}", lang.pick("处置", "sanction")),
            format!("/sanctions/{s}"),
        ),
        _ => (String::new(), String::new()),
    };
    Row {
        id: a.id,
        subject: a.subject.name().get(lang).to_string(),
        about,
        about_href,
        state: a.state.name().get(lang).to_string(),
        filed_on: date_str_text(&a.filed_on, lang),
        open: a.state.is_open(),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct FileForm {
    subject: String,
    target: String,
    grounds: String,
}

#[derive(Template)]
#[template(path = "appeals.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
    may_file: bool,
    form: FileForm,
    error: Option<(String, String)>,
    subjects: Vec<(&'static str, String)>,
    window_days: u32,
}

impl ListPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        crate::views::field_error(&self.error, field)
    }
}

async fn list_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    form: FileForm,
    error: Option<(String, String)>,
) -> Answer {
    let list = st.app.appeals(a).await.or_fail(ctx)?;
    let page = ListPage {
        c: chrome(ctx, "/appeals"),
        rows: list.iter().map(|x| row_of(x, ctx.lang)).collect(),
        may_file: a.role == Role::Applicant,
        form,
        error,
        subjects: Subject::ALL
            .iter()
            .map(|s| (s.as_str(), s.name().get(ctx.lang).to_string()))
            .collect(),
        window_days: st.app.config.appeal_window_days,
    };
    Ok(render(&page).into_response())
}

pub async fn list_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    list_with(&st, &ctx, &a, FileForm::default(), None).await
}

/// The applicant's form: the subject and the number of the case or sanction appealed.
pub async fn file_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<FileForm>,
) -> Answer {
    let target = f.target.trim().parse::<i64>().ok();
    let is_sanction = f.subject == Subject::Sanction.as_str();
    let input = AppealInput {
        subject: f.subject.clone(),
        case_id: if is_sanction { None } else { target },
        sanction_id: if is_sanction { target } else { None },
        grounds: f.grounds.clone(),
        evidence_ids: Vec::new(),
    };
    match st.app.file_appeal(&a, &input).await {
        Ok(x) => Ok(Redirect::to(&format!("/appeals/{}", x.id)).into_response()),
        Err(AppError::Invalid { field, problem }) => {
            let field = match field.as_str() {
                "case_id" | "sanction_id" => "target".to_string(),
                _ => field,
            };
            list_with(
                &st,
                &ctx,
                &a,
                f,
                Some((field, problem.get(ctx.lang).to_string())),
            )
            .await
            .map(|r| (StatusCode::UNPROCESSABLE_ENTITY, r).into_response())
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

#[derive(Template)]
#[template(path = "appeal.html")]
struct OnePage {
    c: Chrome,
    row: Row,
    grounds: String,
    findings: String,
    reopened_at: String,
    may_assign: bool,
    may_conclude: bool,
    /// (value, label) of the stages a case may reopen at.
    reopen: Vec<(&'static str, String)>,
    /// Staff who may investigate: (id, name, role).
    staff: Vec<(i64, String, String)>,
}

async fn one_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    flash: Option<(String, StatusCode)>,
) -> Answer {
    let x = st.app.appeal(a, id).await.or_fail(ctx)?;
    let lang = ctx.lang;
    let may_assign = a.role == Role::Supervisor && x.state == AppealState::Filed;
    let staff = if may_assign {
        st.app
            .investigator_candidates(a, id)
            .await
            .or_fail(ctx)?
            .into_iter()
            .map(|(id, name, r)| (id, name, r.name().get(lang).to_string()))
            .collect()
    } else {
        Vec::new()
    };
    let page = OnePage {
        c: chrome(ctx, &format!("/appeals/{id}")),
        row: row_of(&x, lang),
        grounds: x.grounds.clone(),
        findings: x.findings.clone(),
        reopened_at: x
            .reopened_at
            .as_deref()
            .and_then(zizhi_domain::case::Stage::parse)
            .map(|s| s.name().get(lang).to_string())
            .unwrap_or_default(),
        may_assign,
        may_conclude: x.state == AppealState::Investigating && x.investigator_id == Some(a.user_id),
        reopen: x
            .subject
            .reopen_stages()
            .iter()
            .map(|s| (s.as_str(), s.name().get(lang).to_string()))
            .collect(),
        staff,
    };
    let (c, status) = match flash {
        Some((m, status)) => (with_flash(page.c, m, true), status),
        None => (page.c, StatusCode::OK),
    };
    let page = OnePage { c, ..page };
    Ok((status, render(&page)).into_response())
}

pub async fn one_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    one_with(&st, &ctx, &a, id, None).await
}

async fn after(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    r: zizhi_app::Result<Appeal>,
) -> Answer {
    crate::views::redirect_or_again(ctx, r, &format!("/appeals/{id}"), |flash| {
        one_with(st, ctx, a, id, Some(flash))
    })
    .await
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct AssignForm {
    investigator_id: String,
}

pub async fn assign_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> Answer {
    let who = f.investigator_id.trim().parse::<i64>().unwrap_or(0);
    let r = st.app.assign_investigator(&a, id, who).await;
    after(&st, &ctx, &a, id, r).await
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ConclusionForm {
    outcome: String,
    findings: String,
    reopen_at: String,
}

pub async fn conclude_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<ConclusionForm>,
) -> Answer {
    let reopen = Some(f.reopen_at.as_str()).filter(|s| !s.is_empty());
    let r = st
        .app
        .conclude_appeal(&a, id, &f.outcome, &f.findings, reopen)
        .await;
    after(&st, &ctx, &a, id, r).await
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/appeals",
                Authenticated,
                "申诉：列表与提出",
                "Appeals: the list, and filing one",
            ),
            get(list_page),
        ),
        (
            r(
                M::POST,
                "/appeals",
                Authenticated,
                "提出申诉（申请单位，表单）",
                "File an appeal (applicant, form)",
            ),
            post(file_form),
        ),
        (
            r(
                M::GET,
                "/appeals/{id}",
                Authenticated,
                "一项申诉",
                "One appeal",
            ),
            get(one_page),
        ),
        (
            r(
                M::POST,
                "/appeals/{id}/investigator",
                Authenticated,
                "指派调查人（监督部门，表单）",
                "Assign the investigator (supervision department, form)",
            ),
            post(assign_form),
        ),
        (
            r(
                M::POST,
                "/appeals/{id}/conclusion",
                Authenticated,
                "调查结论：维持或撤销原决定（调查人，表单）",
                "The conclusion: upheld or overturned (investigator, form)",
            ),
            post(conclude_form),
        ),
        (
            r(
                M::GET,
                "/api/v1/appeals",
                Authenticated,
                "申诉列表（监督部门、审批人：全部；申请单位：本单位；调查人：指派给本人的）",
                "Appeals (supervisors and approvers: all; applicants: their own; investigators: theirs)",
            ),
            get(api_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/appeals",
                Authenticated,
                "提出申诉：不予受理、专家评审未通过或处置决定（申请单位）",
                "File an appeal against a non-acceptance, a failed review or a sanction (applicant)",
            ),
            post(api_file),
        ),
        (
            r(
                M::GET,
                "/api/v1/appeals/{id}",
                Authenticated,
                "一项申诉",
                "One appeal",
            ),
            get(api_one),
        ),
        (
            r(
                M::POST,
                "/api/v1/appeals/{id}/investigator",
                Authenticated,
                "指派未参与原事项的调查人（监督部门）",
                "Assign an investigator who took no part (supervision department)",
            ),
            post(api_assign),
        ),
        (
            r(
                M::POST,
                "/api/v1/appeals/{id}/conclusion",
                Authenticated,
                "调查结论：维持（upheld）或撤销（overturned，案件重新开启于所选阶段或撤销处置）（调查人）",
                "The conclusion: upheld or overturned (the case reopens at the chosen stage, or the sanction is withdrawn) (investigator)",
            ),
            post(api_conclude),
        ),
    ]
}
