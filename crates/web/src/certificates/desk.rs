//! The certificate desk (5.5): batches made, approved by another person, issued.

use crate::AppState;
use crate::cases::{form_ids, stage_name};
use crate::certificates::verify::certificate_json;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, failure_flash, render, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::cases::case_number;
use zizhi_app::{Actor, AppError};
use zizhi_domain::certificate::BatchStatus;
use zizhi_domain::roles::Role;

pub struct BatchView {
    pub id: i64,
    pub status: String,
    pub status_code: String,
    /// Case id, case number, stage, applicant, certificate number (once issued).
    pub cases: Vec<(i64, String, String, String, String)>,
    pub can_approve: bool,
    pub can_issue: bool,
    /// "made by 张三, 2026-12-04 10:42" and the like, for made, approved, issued.
    pub steps: Vec<String>,
}

#[derive(Template)]
#[template(path = "batches.html")]
struct BatchesPage {
    c: Chrome,
    waiting: Vec<(i64, String)>,
    batches: Vec<BatchView>,
    officer: bool,
}

/// Who made, approved and issued a batch, and when.
fn step_lines(
    desk: &zizhi_app::cases::certification::DeskDetails,
    id: i64,
    lang: zizhi_domain::lang::Lang,
) -> Vec<String> {
    let Some(times) = desk.times.get(&id) else {
        return Vec::new();
    };
    let labels = [
        lang.pick("建立", "made"),
        lang.pick("审批", "approved"),
        lang.pick("发证", "issued"),
    ];
    times
        .iter()
        .zip(labels)
        .filter_map(|(t, label)| {
            let (who, at) = (*t)?;
            let who = who
                .and_then(|u| desk.names.get(&u).cloned())
                .unwrap_or_default();
            Some(format!(
                "{label}{} {who} · {}",
                lang.pick("：", ": "),
                crate::views::fmt_time(at, lang)
            ))
        })
        .collect()
}

async fn batches_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Answer {
    let desk = st.app.certificate_desk_details(a).await.or_fail(ctx)?;
    let (waiting, batches) = (&desk.waiting, desk.batches.clone());
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
                status: b.status.name().get(lang).to_string(),
                can_approve: b.status == BatchStatus::Open
                    && a.role == Role::Approver
                    && b.created_by != a.user_id,
                can_issue: b.status == BatchStatus::Approved && a.role == Role::CertificateOfficer,
                status_code: b.status.as_str().to_string(),
                steps: step_lines(&desk, b.id, lang),
                cases: cases
                    .iter()
                    .map(|c| {
                        let (holder, number) = desk.cases.get(&c.id).cloned().unwrap_or_default();
                        (
                            c.id,
                            case_number(c),
                            stage_name(c.stage.as_str(), lang),
                            holder,
                            number.unwrap_or_default(),
                        )
                    })
                    .collect(),
            })
            .collect(),
        officer: a.role == Role::CertificateOfficer,
    };
    Ok((status, render(&page)).into_response())
}

/// `GET /batches.xlsx`: the latest batches, one row per case: batch, status, case, holder,
/// certificate number, who made, approved and issued it and when.
pub async fn batches_xlsx(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let desk = st.app.certificate_desk_details(&a).await.or_fail(&ctx)?;
    let lang = ctx.lang;
    let mut body = Vec::new();
    for (b, cases) in &desk.batches {
        let steps = step_lines(&desk, b.id, lang).join("; ");
        for c in cases {
            let (holder, number) = desk.cases.get(&c.id).cloned().unwrap_or_default();
            body.push(vec![
                b.id.to_string(),
                b.status.name().get(lang).to_string(),
                case_number(c),
                holder,
                number.unwrap_or_default(),
                steps.clone(),
            ]);
        }
    }
    let header = [
        lang.pick("批次", "Batch"),
        lang.pick("状态", "Status"),
        lang.pick("案件编号", "Case"),
        lang.pick("申请单位", "Holder"),
        lang.pick("证书编号", "Certificate"),
        lang.pick("经办", "By"),
    ];
    let bytes = zizhi_app::documents::list_xlsx(
        lang.pick("证书批次", "Batches"),
        lang.pick("证书批次", "Certificate batches"),
        &header,
        &body,
    )
    .or_fail(&ctx)?;
    Ok(crate::views::xlsx_response("batches.xlsx", bytes))
}

pub async fn batches_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    batches_page_with(&st, &ctx, &a, None, StatusCode::OK)
        .await
        .into_response()
}

async fn desk_back(st: &AppState, ctx: &Ctx, a: &Actor, r: Result<(), AppError>) -> Response {
    match r {
        Ok(()) => Redirect::to("/batches").into_response(),
        Err(e) => match failure_flash(ctx, e) {
            Ok((msg, status)) => batches_page_with(st, ctx, a, Some((msg, true)), status)
                .await
                .into_response(),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    case_ids: Vec<i64>,
}

pub async fn api_batch_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<BatchBody>,
) -> Answer {
    let batch = st.app.create_batch(&a, &b.case_ids).await.or_fail(&ctx)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": batch.id, "status": batch.status.as_str()})),
    )
        .into_response())
}

pub async fn api_batch_approve(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    st.app.approve_batch(&a, id).await.or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn api_batch_issue(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let certs = st.app.issue_batch(&a, id).await.or_fail(&ctx)?;
    Ok(
        Json(json!({"certificates": certs.iter().map(certificate_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/batches",
                Authenticated,
                "证书批次（制证与审批）",
                "Certificate batches (officer and approver)",
            ),
            get(batches_page),
        ),
        (
            r(
                M::GET,
                "/batches.xlsx",
                Authenticated,
                "证书批次导出为 Excel",
                "Certificate batches as Excel",
            ),
            get(batches_xlsx),
        ),
        (
            r(
                M::POST,
                "/batches",
                Authenticated,
                "建立证书批次（表单）",
                "Build a certificate batch (form)",
            ),
            post(batches_create),
        ),
        (
            r(
                M::POST,
                "/batches/{id}/approve",
                Authenticated,
                "审批证书批次（表单）",
                "Approve a batch (form)",
            ),
            post(batch_approve),
        ),
        (
            r(
                M::POST,
                "/batches/{id}/issue",
                Authenticated,
                "发放批次中的证书（表单）",
                "Issue a batch (form)",
            ),
            post(batch_issue),
        ),
        (
            r(
                M::POST,
                "/api/v1/batches",
                Authenticated,
                "制证工作人员建立证书批次",
                "The certificate officer builds a batch",
            ),
            post(api_batch_create),
        ),
        (
            r(
                M::POST,
                "/api/v1/batches/{id}/approve",
                Authenticated,
                "审批人审批批次（不得审批本人建立的批次）",
                "An approver approves a batch (not one they made)",
            ),
            post(api_batch_approve),
        ),
        (
            r(
                M::POST,
                "/api/v1/batches/{id}/issue",
                Authenticated,
                "发放批次中的证书",
                "Issue the batch's certificates",
            ),
            post(api_batch_issue),
        ),
    ]
}
