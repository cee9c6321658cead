//! The steps of the process (transitions) and the lead's reassignment.

use crate::AppState;
use crate::cases::back;
use crate::cases::json::case_json;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post, put};
use serde::Deserialize;
use zizhi_app::AppError;
use zizhi_domain::case::Transition;

#[derive(Deserialize)]
pub struct TransitionForm {
    transition: String,
    #[serde(default)]
    note: String,
    /// Filing names the project lead.
    #[serde(default)]
    lead_id: String,
    /// A step that ends the case is confirmed with its consequence on the page (`yes`).
    #[serde(default)]
    confirm: String,
    /// Extending the supplement deadline names the new last day.
    #[serde(default)]
    until: String,
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
        Some(t) if t.consequence().is_some() && f.confirm != "yes" => Err(AppError::invalid(
            "confirm",
            "请勾选确认您已知晓此操作的后果",
            "tick the box to confirm you know what this step does",
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
        Ok((Transition::ExtendSupplement, _)) => {
            match zizhi_domain::calendar::parse_date(f.until.trim()) {
                Some(day) => st
                    .app
                    .extend_supplement(&a, id, day, &f.note)
                    .await
                    .map(|_| ()),
                None => Err(AppError::invalid(
                    "until",
                    "请填写新的补充资料期限（如 2027-01-31）",
                    "enter the new supplement deadline (e.g. 2027-01-31)",
                )),
            }
        }
        Ok((t, lead)) => st
            .app
            .transition_case_with(&a, id, t, &f.note, lead)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    back(&st, &ctx, &a, id, r, "", None).await
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    transition: String,
    #[serde(default)]
    note: String,
    /// Filing (`file`) names the project lead.
    #[serde(default)]
    lead_id: Option<i64>,
}

pub async fn api_case_transition(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<TransitionBody>,
) -> Answer {
    let Some(t) = zizhi_domain::case::Transition::parse(&b.transition) else {
        let all: Vec<&str> = zizhi_domain::case::Transition::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        return Err(ctx.fail(AppError::invalid(
            "transition",
            format!("未知的操作“{}”", b.transition),
            format!(
                "unknown transition \"{}\" (one of {})",
                b.transition,
                all.join(", ")
            ),
        )));
    };
    let c = st
        .app
        .transition_case_with(&a, id, t, &b.note, b.lead_id)
        .await
        .or_fail(&ctx)?;
    Ok(Json(case_json(&c)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadBody {
    lead_id: i64,
    reason: String,
}

/// `PUT /api/v1/cases/{id}/lead`: a supervisor hands the case to another project lead.
pub async fn api_case_lead(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LeadBody>,
) -> Answer {
    let c = st
        .app
        .reassign_lead(&a, id, b.lead_id, &b.reason)
        .await
        .or_fail(&ctx)?;
    Ok(Json(case_json(&c)).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::POST,
                "/cases/{id}/transitions",
                Authenticated,
                "流程操作（表单）",
                "A process step (form)",
            ),
            post(case_transition),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/lead",
                Authenticated,
                "更换项目负责人（监督人员）",
                "Reassign the project lead (supervisor)",
            ),
            post(case_lead),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/transitions",
                Authenticated,
                "流程操作：submit、file、request_supplement、resubmit、accept、not_accept、extend_supplement、terminate、withdraw、send_agreement、record_signed_agreement、approve_agreement、confirm_payment、conclude_audit、panel_pass、panel_fail、panel_return",
                "A process step: submit, file, request_supplement, resubmit, accept, not_accept, extend_supplement, terminate, withdraw, send_agreement, record_signed_agreement, approve_agreement, confirm_payment, conclude_audit, panel_pass, panel_fail, panel_return",
            ),
            post(api_case_transition),
        ),
        (
            r(
                M::PUT,
                "/api/v1/cases/{id}/lead",
                Authenticated,
                "更换项目负责人（监督人员，须写明理由）",
                "Reassign the project lead (supervisor, with a reason)",
            ),
            put(api_case_lead),
        ),
    ]
}
