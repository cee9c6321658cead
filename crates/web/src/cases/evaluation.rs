//! Evaluation (5.4): the team and panel, activities, judgements.

use crate::AppState;
use crate::cases::{back, evidence_list, form_ids};
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
use serde_json::{Value, json};
use zizhi_app::AppError;

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
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    assessors: Vec<i64>,
    experts: Vec<i64>,
    /// The panel's chair (组长); by default the first expert named, when the panel has none.
    #[serde(default)]
    chair: Option<i64>,
}

pub async fn api_case_team(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<TeamBody>,
) -> Answer {
    let members = st
        .app
        .assign_team(&a, id, &b.assessors, &b.experts, b.chair)
        .await
        .or_fail(&ctx)?;
    Ok(Json(json!({"members": members.iter().map(|m| json!({"user_id": m.user_id, "duty": m.duty, "chair": m.chair})).collect::<Vec<_>>()})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgementBody {
    requirement_id: String,
    verdict: String,
    rationale: String,
    #[serde(default)]
    evidence_ids: Vec<i64>,
}

pub async fn api_case_judgement(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<JudgementBody>,
) -> Answer {
    st.app
        .record_judgement(
            &a,
            id,
            &b.requirement_id,
            &b.verdict,
            &b.rationale,
            &b.evidence_ids,
        )
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn api_case_judgements(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let list = st.app.judgements(&a, id).await.or_fail(&ctx)?;
    /// One judgement, serialised straight from its row (the evidence ids as stored).
    #[derive(serde::Serialize)]
    struct Item<'a> {
        requirement_id: &'a str,
        verdict: &'a str,
        rationale: &'a str,
        evidence_ids: Option<&'a serde_json::value::RawValue>,
        assessor_id: i64,
        at_us: i64,
    }
    #[derive(serde::Serialize)]
    struct List<'a> {
        judgements: Vec<Item<'a>>,
    }
    let judgements = list
        .iter()
        .map(|j| Item {
            requirement_id: &j.requirement_id,
            verdict: j.verdict.as_str(),
            rationale: &j.rationale,
            evidence_ids: crate::cases::json::raw(&j.evidence_ids),
            assessor_id: j.assessor_id,
            at_us: j.at_us,
        })
        .collect();
    Ok(Json(List { judgements }).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    kind: String,
    held_on: String,
    notes: String,
    #[serde(default)]
    evidence_ids: Vec<i64>,
}

/// `POST /api/v1/cases/{id}/activities`: the audit plan or an evaluation activity (5.4).
pub async fn api_case_activity(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ActivityBody>,
) -> Answer {
    let aid = st
        .app
        .record_activity(&a, id, &b.kind, &b.held_on, &b.notes, &b.evidence_ids)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(json!({"id": aid}))).into_response())
}

pub async fn api_case_activities(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let rows = st.app.activities(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"activities": rows.iter().map(|r| json!({
        "id": r.id, "kind": r.kind, "held_on": r.held_on, "notes": r.notes,
        "evidence_ids": serde_json::from_str::<Value>(&r.evidence_ids).unwrap_or(Value::Null),
        "recorded_by": r.recorded_by, "at_us": r.at_us,
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
                "/cases/{id}/team",
                Authenticated,
                "指定项目组与专家组（表单）",
                "Assign the team and the panel (form)",
            ),
            post(case_team),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/activities",
                Authenticated,
                "记录审核计划或评估活动（表单）",
                "Record the audit plan or an activity (form)",
            ),
            post(case_activity),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/judgements",
                Authenticated,
                "逐项判定（表单）",
                "Judge a requirement (form)",
            ),
            post(case_judgement),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/team",
                Authenticated,
                "项目负责人指定项目组成员与专家组（回避规则）",
                "The lead assigns assessors and experts (conflict-of-interest rules)",
            ),
            post(api_case_team),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/judgements",
                Authenticated,
                "逐项判定（测评中心工作人员）",
                "Judgements per requirement (centre staff)",
            ),
            get(api_case_judgements),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/judgements",
                Authenticated,
                "记录或修改一项要求的判定",
                "Record or revise one requirement's judgement",
            ),
            post(api_case_judgement),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/activities",
                Authenticated,
                "审核计划与评估活动（测评中心工作人员）",
                "Audit plan and evaluation activities (centre staff)",
            ),
            get(api_case_activities),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/activities",
                Authenticated,
                "记录审核计划或评估活动：文档审查、人员访谈、实际操作（5.4）",
                "Record the audit plan or an activity: document review, interview, practical operation (5.4)",
            ),
            post(api_case_activity),
        ),
    ]
}
