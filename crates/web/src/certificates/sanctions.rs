//! Sanctions (处置, guide 六, issue 11): the supervisor proposes, the approver confirms a
//! suspension or revocation, the holder sends its rectification, the supervisor verifies it.
//! Pages at `/sanctions`, JSON at `/api/v1/sanctions`; the rules live in `zizhi_app::sanctions`.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::sanctions::{Proposal, SanctionView};
use zizhi_app::{Actor, AppError};
use zizhi_domain::lang::{Lang, date_str_text};
use zizhi_domain::roles::Role;
use zizhi_domain::sanction::{Measure, SanctionState};

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render, with_flash};

fn json_of(v: &SanctionView) -> serde_json::Value {
    let s = &v.sanction;
    json!({
        "id": s.id,
        "certificate_number": s.number,
        "holder": s.holder,
        "organization_id": s.organization_id,
        "measure": s.measure.as_str(),
        "measure_name": {"zh": s.measure.name().zh, "en": s.measure.name().en},
        "state": s.state.as_str(),
        "state_name": {"zh": s.state.name().zh, "en": s.state.name().en},
        "violation": s.violation,
        "evidence": s.evidence,
        "reasoning": s.reasoning,
        "proposed_by": s.proposed_by,
        "proposed_on": s.proposed_on,
        "decided_by": s.decided_by,
        "decided_on": s.decided_on,
        "decision_note": s.decision_note,
        "rectification_days": s.rectification_days,
        "rectify_by": s.rectify_by,
        "overdue": v.overdue,
        "closed_on": s.closed_on,
        "rectifications": v.rectifications.iter().map(|r| json!({
            "id": r.id, "submitted_by": r.submitted_by, "submitted_on": r.submitted_on,
            "account": r.account,
            "evidence_ids": serde_json::from_str::<serde_json::Value>(&r.evidence_ids).unwrap_or_default(),
            "verdict": r.verdict, "verdict_on": r.verdict_on, "verdict_note": r.verdict_note,
        })).collect::<Vec<_>>(),
    })
}

// ---- JSON ----

pub async fn api_list(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let list = st.app.sanctions(&a).await.or_fail(&ctx)?;
    Ok(Json(json!({"items": list.iter().map(json_of).collect::<Vec<_>>()})).into_response())
}

/// Missing fields are empty, so that who may propose is answered first (403) and then each
/// field by name (422).
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProposalBody {
    certificate_number: String,
    measure: String,
    violation: String,
    evidence: String,
    reasoning: String,
    rectification_days: Option<u32>,
}

pub async fn api_propose(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<ProposalBody>,
) -> Answer {
    let p = Proposal {
        certificate_number: b.certificate_number,
        measure: b.measure,
        violation: b.violation,
        evidence: b.evidence,
        reasoning: b.reasoning,
        rectification_days: b.rectification_days,
    };
    let v = st.app.propose_sanction(&a, &p).await.or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(json_of(&v))).into_response())
}

pub async fn api_one(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let v = st.app.sanction(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json_of(&v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[serde(default)]
    confirm: bool,
    #[serde(default)]
    note: String,
}

pub async fn api_decide(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Answer {
    let v = st
        .app
        .decide_sanction(&a, id, b.confirm, &b.note)
        .await
        .or_fail(&ctx)?;
    Ok(Json(json_of(&v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RectificationBody {
    #[serde(default)]
    account: String,
    #[serde(default)]
    evidence_ids: Vec<i64>,
}

pub async fn api_rectify(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<RectificationBody>,
) -> Answer {
    let v = st
        .app
        .submit_rectification(&a, id, &b.account, &b.evidence_ids)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(json_of(&v))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    #[serde(default)]
    accept: bool,
    #[serde(default)]
    note: String,
}

pub async fn api_verdict(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<VerdictBody>,
) -> Answer {
    let v = st
        .app
        .verify_rectification(&a, id, b.accept, &b.note)
        .await
        .or_fail(&ctx)?;
    Ok(Json(json_of(&v)).into_response())
}

// ---- pages ----

pub struct Row {
    pub id: i64,
    pub number: String,
    pub holder: String,
    pub measure: String,
    pub state: String,
    pub proposed_on: String,
    pub rectify_by: String,
    pub overdue: bool,
}

pub(crate) fn row_of(v: &SanctionView, lang: Lang) -> Row {
    let s = &v.sanction;
    Row {
        id: s.id,
        number: s.number.clone(),
        holder: s.holder.clone(),
        measure: s.measure.name().get(lang).to_string(),
        state: s.state.name().get(lang).to_string(),
        proposed_on: date_str_text(&s.proposed_on, lang),
        rectify_by: s
            .rectify_by
            .as_deref()
            .map(|d| date_str_text(d, lang))
            .unwrap_or_default(),
        overdue: v.overdue,
    }
}

/// The proposal form's values and the error next to its field.
#[derive(Default, Deserialize)]
pub struct ProposalForm {
    #[serde(default)]
    certificate_number: String,
    #[serde(default)]
    measure: String,
    #[serde(default)]
    violation: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    reasoning: String,
    #[serde(default)]
    rectification_days: String,
}

#[derive(Template)]
#[template(path = "sanctions.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
    may_propose: bool,
    form: ProposalForm,
    /// (field, message) of the proposal's error.
    error: Option<(String, String)>,
    measures: Vec<(&'static str, String)>,
    default_days: u32,
}

impl ListPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        crate::views::field_error(&self.error, field)
    }
}

async fn list_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    form: ProposalForm,
    error: Option<(String, String)>,
) -> Answer {
    let list = st.app.sanctions(a).await.or_fail(ctx)?;
    let page = ListPage {
        c: chrome(ctx, "/sanctions"),
        rows: list.iter().map(|v| row_of(v, ctx.lang)).collect(),
        may_propose: a.role == Role::Supervisor,
        form,
        error,
        measures: Measure::ALL
            .iter()
            .map(|m| (m.as_str(), m.name().get(ctx.lang).to_string()))
            .collect(),
        default_days: st.app.config.rectification_days,
    };
    Ok(render(&page).into_response())
}

/// `?certificate=` fills the proposal's certificate number (from a complaint's page).
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    certificate: String,
}

pub async fn list_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Answer {
    let form = ProposalForm {
        certificate_number: q.certificate,
        ..ProposalForm::default()
    };
    list_page_with(&st, &ctx, &a, form, None).await
}

pub async fn propose_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<ProposalForm>,
) -> Answer {
    let days = f.rectification_days.trim();
    let rectification_days = if days.is_empty() {
        None
    } else {
        match days.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let msg = ctx
                    .lang
                    .pick("请填写天数（整数）", "a whole number of days");
                return list_page_with(
                    &st,
                    &ctx,
                    &a,
                    f,
                    Some(("rectification_days".into(), msg.into())),
                )
                .await
                .map(|r| (StatusCode::UNPROCESSABLE_ENTITY, r).into_response());
            }
        }
    };
    let p = Proposal {
        certificate_number: f.certificate_number.clone(),
        measure: f.measure.clone(),
        violation: f.violation.clone(),
        evidence: f.evidence.clone(),
        reasoning: f.reasoning.clone(),
        rectification_days,
    };
    match st.app.propose_sanction(&a, &p).await {
        Ok(v) => Ok(Redirect::to(&format!("/sanctions/{}", v.sanction.id)).into_response()),
        Err(AppError::Invalid { field, problem }) => {
            let msg = problem.get(ctx.lang).to_string();
            list_page_with(&st, &ctx, &a, f, Some((field, msg)))
                .await
                .map(|r| (StatusCode::UNPROCESSABLE_ENTITY, r).into_response())
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub struct RectRow {
    pub submitted_on: String,
    pub account: String,
    pub evidence: String,
    pub verdict: String,
    pub verdict_note: String,
}

#[derive(Template)]
#[template(path = "sanction.html")]
struct OnePage {
    c: Chrome,
    row: Row,
    violation: String,
    evidence: String,
    reasoning: String,
    decision: String,
    rectifications: Vec<RectRow>,
    may_decide: bool,
    may_rectify: bool,
    may_verify: bool,
    /// The holder's evidence to pick from: (id, name).
    files: Vec<(i64, String)>,
}

async fn one_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    flash: Option<(String, StatusCode)>,
) -> Answer {
    let v = st.app.sanction(a, id).await.or_fail(ctx)?;
    let s = &v.sanction;
    let lang = ctx.lang;
    let holder_user = a.role == Role::Applicant && a.organization_id == Some(s.organization_id);
    let files = if holder_user && s.state == SanctionState::AwaitingRectification {
        st.app
            .list_evidence(a, s.organization_id)
            .await
            .or_fail(ctx)?
            .into_iter()
            .map(|e| (e.id, e.original_name))
            .collect()
    } else {
        Vec::new()
    };
    let decision = match (s.decided_on.as_deref(), s.state) {
        (Some(d), SanctionState::Declined) => format!(
            "{} {}：{}",
            lang.pick("未予确认", "Not confirmed"),
            date_str_text(d, lang),
            s.decision_note
        ),
        (Some(d), _) => format!(
            "{} {} {}",
            lang.pick("已确认", "Confirmed"),
            date_str_text(d, lang),
            s.decision_note
        ),
        (None, _) => String::new(),
    };
    let page = OnePage {
        c: chrome(ctx, &format!("/sanctions/{id}")),
        row: row_of(&v, lang),
        violation: s.violation.clone(),
        evidence: s.evidence.clone(),
        reasoning: s.reasoning.clone(),
        decision,
        rectifications: v
            .rectifications
            .iter()
            .map(|r| RectRow {
                submitted_on: date_str_text(&r.submitted_on, lang),
                account: r.account.clone(),
                evidence: r.evidence_ids.clone(),
                verdict: match r.verdict.as_deref() {
                    Some("accepted") => lang.pick("通过", "Accepted").into(),
                    Some(_) => lang.pick("不通过", "Not accepted").into(),
                    None => lang.pick("待核验", "To verify").into(),
                },
                verdict_note: r.verdict_note.clone(),
            })
            .collect(),
        may_decide: a.role == Role::Approver && s.state == SanctionState::Proposed,
        may_rectify: holder_user && s.state == SanctionState::AwaitingRectification,
        may_verify: a.role == Role::Supervisor && s.state == SanctionState::RectificationSubmitted,
        files,
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
    one_page_with(&st, &ctx, &a, id, None).await
}

/// After a form on one sanction: back to its page, with the error flashed if it failed.
async fn after(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    r: zizhi_app::Result<SanctionView>,
) -> Answer {
    crate::views::redirect_or_again(ctx, r, &format!("/sanctions/{id}"), |flash| {
        one_page_with(st, ctx, a, id, Some(flash))
    })
    .await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

pub async fn decide_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Answer {
    let r = st
        .app
        .decide_sanction(&a, id, f.decision == "confirm", &f.note)
        .await;
    after(&st, &ctx, &a, id, r).await
}

/// The holder's rectification: `account`, and one `evidence` checkbox per file picked.
pub async fn rectify_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Answer {
    let account = pairs
        .iter()
        .find(|(k, _)| k == "account")
        .map_or("", |(_, v)| v.as_str());
    let ids = crate::cases::form_ids(&pairs, "evidence");
    let r = st.app.submit_rectification(&a, id, account, &ids).await;
    after(&st, &ctx, &a, id, r).await
}

#[derive(Deserialize)]
pub struct VerdictForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    note: String,
}

pub async fn verdict_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<VerdictForm>,
) -> Answer {
    let r = st
        .app
        .verify_rectification(&a, id, f.verdict == "accept", &f.note)
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
                "/sanctions",
                Authenticated,
                "处置：列表与提出（监督部门）",
                "Sanctions: the list, and proposing one (supervision department)",
            ),
            get(list_page),
        ),
        (
            r(
                M::POST,
                "/sanctions",
                Authenticated,
                "提出处置（表单）",
                "Propose a sanction (form)",
            ),
            post(propose_form),
        ),
        (
            r(
                M::GET,
                "/sanctions/{id}",
                Authenticated,
                "一项处置",
                "One sanction",
            ),
            get(one_page),
        ),
        (
            r(
                M::POST,
                "/sanctions/{id}/decision",
                Authenticated,
                "确认或不予确认暂停、取消证书（审批人，表单）",
                "Confirm or decline a suspension or revocation (approver, form)",
            ),
            post(decide_form),
        ),
        (
            r(
                M::POST,
                "/sanctions/{id}/rectifications",
                Authenticated,
                "提交整改情况（持证单位，表单）",
                "Send a rectification (holder, form)",
            ),
            post(rectify_form),
        ),
        (
            r(
                M::POST,
                "/sanctions/{id}/verdict",
                Authenticated,
                "核验整改（监督部门，表单）",
                "Verify a rectification (supervision department, form)",
            ),
            post(verdict_form),
        ),
        (
            r(
                M::GET,
                "/api/v1/sanctions",
                Authenticated,
                "处置列表（监督部门、审批人：全部；持证单位：本单位）",
                "Sanctions (supervisors and approvers: all; holders: their own)",
            ),
            get(api_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/sanctions",
                Authenticated,
                "提出处置：警告、限期整改、暂停证书、取消证书（监督部门）",
                "Propose a sanction: warning, rectification, suspension, revocation (supervision department)",
            ),
            post(api_propose),
        ),
        (
            r(
                M::GET,
                "/api/v1/sanctions/{id}",
                Authenticated,
                "一项处置及整改情况",
                "One sanction with its rectifications",
            ),
            get(api_one),
        ),
        (
            r(
                M::POST,
                "/api/v1/sanctions/{id}/decision",
                Authenticated,
                "确认或不予确认暂停、取消证书（审批人）",
                "Confirm or decline a suspension or revocation (approver)",
            ),
            post(api_decide),
        ),
        (
            r(
                M::POST,
                "/api/v1/sanctions/{id}/rectifications",
                Authenticated,
                "提交整改情况及证据（持证单位）",
                "Send a rectification and its evidence (holder)",
            ),
            post(api_rectify),
        ),
        (
            r(
                M::POST,
                "/api/v1/sanctions/{id}/verdict",
                Authenticated,
                "核验整改：通过（解除暂停）或不通过（监督部门）",
                "Verify a rectification: accepted (lifts a suspension) or not (supervision department)",
            ),
            post(api_verdict),
        ),
    ]
}
