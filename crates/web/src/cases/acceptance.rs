//! Filing and the acceptance review (5.2): the paper copy, the five areas.

use crate::AppState;
use crate::cases::back;
use crate::cases::view::Entered;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::AppError;
use zizhi_domain::review::Area;

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

pub async fn api_case_paper_copy(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    st.app.record_paper_copy(&a, id).await.or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    area: String,
    sufficient: bool,
    opinion: String,
}

/// `POST /api/v1/cases/{id}/review-areas`: the lead judges one of the five areas (5.2).
pub async fn api_case_review_area(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AreaBody>,
) -> Answer {
    st.app
        .record_review_area(&a, id, &b.area, b.sufficient, &b.opinion)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::CREATED.into_response())
}

pub async fn api_case_review_areas(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let rows = st.app.review_areas(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"areas": rows.iter().map(|r| json!({
        "round": r.round, "area": r.area, "sufficient": r.sufficient, "opinion": r.opinion,
        "reviewer_id": r.reviewer_id, "at_us": r.at_us,
    })).collect::<Vec<_>>()}))
    .into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::POST,
                "/cases/{id}/paper-copy",
                Authenticated,
                "登记收到纸版申请书（表单）",
                "Record the paper copy (form)",
            ),
            post(case_paper),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/areas",
                Authenticated,
                "受理审查五个方面的判定（表单）",
                "The five areas of the acceptance review (form)",
            ),
            post(case_areas),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/paper-copy",
                Authenticated,
                "登记收到纸版申请书",
                "Record receipt of the paper copy",
            ),
            post(api_case_paper_copy),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/review-areas",
                Authenticated,
                "受理审查：本轮五个方面的证据充分性判定",
                "Acceptance review: this round's judgement of the five areas",
            ),
            get(api_case_review_areas),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/review-areas",
                Authenticated,
                "项目负责人判定一个方面的证据充分性并填写意见（5.2）",
                "The lead judges one area's evidence sufficiency with an opinion (5.2)",
            ),
            post(api_case_review_area),
        ),
    ]
}
