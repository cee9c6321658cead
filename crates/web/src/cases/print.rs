//! `GET /cases/{id}/print`: the case as paper. For the applicant it is the 申请书 as the
//! centre receives it (5.2 requires it stamped, bound and posted, with a disc of the
//! electronic files); for centre staff the whole 案卷 — the application, the acceptance
//! review, the evaluation, the panel, the letters and the history — without forms or buttons.

use crate::AppState;
use crate::cases::page::build_case_page;
use crate::cases::view::CasePage;
use crate::http::ctx::Ctx;
use crate::http::extract::{Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render};
use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use zizhi_domain::case::Stage;

#[derive(Template)]
#[template(path = "case_print.html")]
struct CasePrint {
    c: Chrome,
    p: CasePage,
    /// The applicant sees the mailing instructions (before the paper copy is recorded).
    mail_to: Option<(String, String)>,
    /// The round printed and when it was submitted.
    round: Option<(i32, String)>,
    /// Printed on, for the footer.
    printed: String,
}

pub async fn case_print(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    let page = match build_case_page(&st, &ctx, &a, id, None, None).await {
        Ok(p) => p,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let d = match st.app.case(&a, id).await {
        Ok(d) => d,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let docs = &st.app.documents;
    let mail_to =
        (!a.role.is_staff() && d.case.paper_received_us.is_none() && d.stage != Stage::Draft)
            .then(|| (docs.centre_name.clone(), docs.centre_address.clone()));
    let round = d
        .rounds
        .last()
        .map(|r| (r.round, crate::views::fmt_time(r.submitted_us, ctx.lang)));
    let t = CasePrint {
        c: chrome(&ctx, &format!("/cases/{id}/print")),
        p: page,
        mail_to,
        round,
        printed: zizhi_domain::lang::date_text(st.app.clock.today(), ctx.lang),
    };
    render(&t).into_response()
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    vec![(
        r(
            Method::GET,
            "/cases/{id}/print",
            Access::Authenticated,
            "打印：申请书（申请单位）或案卷（测评中心）",
            "Print: the application (applicant) or the case file (centre)",
        ),
        get(case_print),
    )]
}
