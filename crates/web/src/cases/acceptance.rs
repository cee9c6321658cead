//! Filing and the acceptance review (5.2): the paper copy, the five areas.

use crate::AppState;
use crate::cases::back;
use crate::cases::page::case_page_with;
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
use zizhi_domain::case::Transition;
use zizhi_domain::lang::{Lang, Text};
use zizhi_domain::review::Area;

#[derive(Deserialize, Default)]
pub struct PaperForm {
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    tracking_no: String,
}

/// `POST /cases/{id}/paper-copy`: the registrar records the bound paper copy with the day it
/// arrived and the courier's tracking number (both asked for on the page).
pub async fn case_paper(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<PaperForm>,
) -> Response {
    // Who may, before what was typed is read.
    if let Err(e) = st
        .app
        .authorize_on_case(&a, id, zizhi_app::policy::CaseAction::RecordPaperCopy)
        .await
    {
        return ctx.fail(e).into_response();
    }
    let mut form: Entered = [
        ("form".to_string(), "paper".to_string()),
        ("received_on".to_string(), f.received_on.clone()),
        ("tracking_no".to_string(), f.tracking_no.clone()),
    ]
    .into_iter()
    .collect();
    let day = zizhi_domain::calendar::parse_date(f.received_on.trim());
    let mut errors: Vec<(&str, Text)> = Vec::new();
    if day.is_none() {
        errors.push((
            "received_on",
            Text::new(
                "请填写收到日期（如 2026-12-04）",
                "enter the day it arrived (e.g. 2026-12-04)",
            ),
        ));
    }
    if f.tracking_no.trim().is_empty() {
        errors.push((
            "tracking_no",
            Text::new(
                "请填写快递单号（当面递交的写“当面递交”）",
                "enter the courier's tracking number (or \"handed in\")",
            ),
        ));
    }
    let r = match (day, errors.is_empty()) {
        (Some(d), true) => {
            st.app
                .record_paper_copy_received(&a, id, d, &f.tracking_no)
                .await
        }
        _ => {
            let (first, _) = errors[0];
            for (k, m) in &errors {
                form.insert(format!("error.{k}"), m.get(ctx.lang).to_string());
            }
            Err(AppError::invalid(
                first,
                errors[0].1.zh.clone(),
                errors[0].1.en.clone(),
            ))
        }
    };
    // A refusal of the app (a day in the future, …) is shown next to its field too.
    if let Err(AppError::Invalid { field, problem }) = &r {
        form.entry(format!("error.{field}"))
            .or_insert_with(|| problem.get(ctx.lang).to_string());
    }
    back(&st, &ctx, &a, id, r, "#paper", Some(&form)).await
}

/// `POST /cases/{id}/areas`: the lead's five area judgements in one form, and with them, in
/// the same submit, the decision they support ("保存并予以受理", 5.2). Every problem is named
/// next to its field at once, and everything typed comes back; nothing is saved unless all
/// five are complete.
pub async fn case_areas(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = ctx.lang;
    let mut form: Entered = pairs.into_iter().collect();
    form.insert("form".into(), "areas".into());
    let get = |k: &str| form.get(k).map_or("", |v| v.trim());
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut judged: Vec<(&str, bool, String)> = Vec::new();
    for area in Area::ALL {
        let code = area.as_str();
        let name = area.name();
        let sufficient = match get(&format!("{code}.sufficient")) {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.push((
                    format!("{code}.sufficient"),
                    match lang {
                        Lang::Zh => format!("请判定“{}”的证据是否充分", name.zh),
                        Lang::En => {
                            format!("judge whether the evidence on {} is sufficient", name.en)
                        }
                    },
                ));
                None
            }
        };
        let opinion = get(&format!("{code}.opinion")).to_string();
        if opinion.is_empty() {
            errors.push((
                format!("{code}.opinion"),
                match lang {
                    Lang::Zh => format!("请填写“{}”的审查意见", name.zh),
                    Lang::En => format!("write the opinion on {}", name.en),
                },
            ));
        }
        if let Some(s) = sufficient {
            judged.push((code, s, opinion));
        }
    }
    let then = match get("then") {
        "" => None,
        x => match Transition::parse(x) {
            Some(
                t @ (Transition::Accept | Transition::RequestSupplement | Transition::NotAccept),
            ) => Some(t),
            _ => {
                return back(
                    &st,
                    &ctx,
                    &a,
                    id,
                    Err(AppError::invalid("then", "未知的决定", "unknown decision")),
                    "",
                    None,
                )
                .await;
            }
        },
    };
    let note = get("note").to_string();
    if let Some(t) = then {
        if t.needs_note() && note.is_empty() {
            errors.push((
                "note".into(),
                lang.pick(
                    "请填写审查结论说明（随受理审查意见邮件发送申请单位）",
                    "write the decision's note (it goes to the applicant with the opinions)",
                )
                .into(),
            ));
        }
        if t.consequence().is_some() && get("confirm") != "yes" {
            errors.push((
                "confirm".into(),
                lang.pick(
                    "请勾选确认您已知晓此操作的后果",
                    "tick the box to confirm you know what this step does",
                )
                .into(),
            ));
        }
    }
    if !errors.is_empty() {
        let n = errors.len();
        for (k, m) in errors {
            form.insert(format!("error.{k}"), m);
        }
        let msg = match lang {
            Lang::Zh => format!("有 {n} 处需要更正（已在各项旁标出），尚未保存"),
            Lang::En => format!("{n} problems to correct (marked next to each); nothing saved yet"),
        };
        return case_page_with(
            &st,
            &ctx,
            &a,
            id,
            Some((msg, true)),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&form),
        )
        .await;
    }
    let rows: Vec<(&str, bool, &str)> = judged
        .iter()
        .map(|(c, s, o)| (*c, *s, o.as_str()))
        .collect();
    let mut r = st.app.record_review_areas(&a, id, &rows).await;
    if r.is_ok()
        && let Some(t) = then
    {
        r = st
            .app
            .transition_case_with(&a, id, t, &note, None)
            .await
            .map(|_| ());
    }
    back(&st, &ctx, &a, id, r, "#review", Some(&form)).await
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
