//! A case's formal letters (issue 10): the list and each PDF, for whoever may see the case.

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};
use serde_json::json;

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Me, Path};
use crate::routes::{Access, RouteSpec, r};

/// `GET /cases/{id}/letters/{letter}`: the letter's PDF (checked against its hash).
pub async fn letter_pdf(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path((id, letter)): Path<(i64, i64)>,
) -> Answer {
    let (l, bytes) = st.app.letter_pdf(&a, id, letter).await.or_fail(&ctx)?;
    Ok(crate::certificates::verify::pdf_response(
        bytes,
        &format!("letter-{id}-{}.pdf", l.id),
    ))
}

/// `GET /api/v1/cases/{id}/letters`.
pub async fn api_letters(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let list = st.app.case_letters(&a, id).await.or_fail(&ctx)?;
    let items: Vec<_> = list
        .iter()
        .map(|l| {
            json!({"id": l.id, "kind": l.kind, "title": l.title, "signed_by": l.signed_by,
                   "created_us": l.created_us, "pdf_sha256": l.pdf_sha256, "pdf_sm3": l.pdf_sm3,
                   "download": format!("/cases/{id}/letters/{}", l.id)})
        })
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/cases/{id}/letters/{letter}",
                Authenticated,
                "下载案件的正式文书（PDF）",
                "Download one of a case's formal letters (PDF)",
            ),
            get(letter_pdf),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/letters",
                Authenticated,
                "案件的正式文书",
                "A case's formal letters",
            ),
            get(api_letters),
        ),
    ]
}
