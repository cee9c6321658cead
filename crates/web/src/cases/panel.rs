//! The expert panel (5.4): votes, secret until all have voted.

use crate::AppState;
use crate::cases::back;
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

/// `GET /api/v1/cases/{id}/panel`: the panel as the caller may see it — votes stay secret
/// until every seat has voted.
pub async fn api_case_panel(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let p = st.app.panel(&a, id).await.or_fail(&ctx)?;
    let vote = |v: &zizhi_store::evaluation::Vote| json!({"expert_id": v.expert_id, "vote": v.vote.as_str(), "opinion": v.opinion, "round": v.round, "at_us": v.at_us});
    Ok(Json(json!({
        "seats": p.seats,
        "cast": p.cast,
        "complete": p.tally.is_some(),
        "votes": p.votes.iter().map(vote).collect::<Vec<_>>(),
        "mine": p.mine.as_ref().map(vote),
        "tally": p.tally.map(|t| json!({"pass": t.pass, "fail": t.fail, "return": t.ret, "seats": t.seats})),
        "conclusion": p.conclusion.map(|v| v.as_str()),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    vote: String,
    opinion: String,
}

pub async fn api_case_vote(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<VoteBody>,
) -> Answer {
    st.app
        .panel_vote(&a, id, &b.vote, &b.opinion)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::POST,
                "/cases/{id}/votes",
                Authenticated,
                "专家表决（表单）",
                "An expert votes (form)",
            ),
            post(case_vote),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/panel",
                Authenticated,
                "专家组：席位、已表决人数；全部表决后公开各票、意见与计票结果（测评中心工作人员）",
                "The panel: seats and votes cast; every vote, opinion and the tally once all have voted (centre staff)",
            ),
            get(api_case_panel),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/votes",
                Authenticated,
                "专家表决（pass、fail、return）与评审意见",
                "An expert's vote (pass, fail, return) and opinion",
            ),
            post(api_case_vote),
        ),
    ]
}
