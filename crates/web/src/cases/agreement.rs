//! The delegation agreement as a printable page (5.3).

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::extract::{Me, Path};
use crate::routes::{Access, RouteSpec, r};
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

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

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![(
        r(
            M::GET,
            "/cases/{id}/agreement",
            Authenticated,
            "委托测评协议（可打印）",
            "The delegation agreement (printable)",
        ),
        get(agreement_page),
    )]
}
