//! 工作台 (九.3): the open cases by the urgency of their project clock, with counts per stage
//! that link to the case list's filters; the page and `GET /api/v1/dashboard`.

use crate::AppState;
use crate::cases::json::{CaseItem, clock_json};
use crate::cases::{day, due_class, due_text, paren};
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Me, QueryOf};
use crate::routes::{Access, RouteSpec, r, with_query};
use crate::views::{Chrome, chrome, render};
use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use zizhi_app::AppError;
use zizhi_app::cases::{DashboardRow, case_number};
use zizhi_domain::lang::Lang;

pub struct DashView {
    pub id: i64,
    pub number: String,
    pub org: String,
    pub stage: String,
    pub running: String,
    pub target: String,
    pub target_class: &'static str,
    pub limit: String,
    pub limit_class: &'static str,
    pub paused: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    rows: Vec<DashView>,
    total: usize,
    /// Stage code, name, count: each a link to the case list filtered by it.
    by_stage: Vec<(&'static str, String, usize)>,
    overdue: usize,
    warning: usize,
    /// Overdue rectifications (六), above everything, for escalation.
    overdue_rectifications: Vec<crate::certificates::sanctions::Row>,
}

fn dash_view(r: &DashboardRow, lang: Lang) -> DashView {
    let (running, target, tc, limit, lc, paused) = match &r.clock {
        Some(k) => (
            k.running_days.to_string(),
            paren(
                day(&k.target_due.to_string(), lang),
                due_text(k.target, lang),
                lang,
            ),
            due_class(k.target),
            paren(
                day(&k.limit_due.to_string(), lang),
                due_text(k.limit, lang),
                lang,
            ),
            due_class(k.limit),
            k.paused_now,
        ),
        None => ("—".into(), "—".into(), "", "—".into(), "", false),
    };
    DashView {
        id: r.case.id,
        number: case_number(&r.case),
        org: r.org_name.clone(),
        stage: r.stage.name().get(lang).to_string(),
        running,
        target,
        target_class: tc,
        limit,
        limit_class: lc,
        paused,
    }
}

/// How many of the most urgent cases the dashboard lists.
const DASHBOARD_ROWS: usize = 100;

/// 工作台 (staff): open cases by urgency, with counts per stage.
pub async fn dashboard_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let d = st.app.dashboard(&a).await.or_fail(&ctx)?;
    let by_stage: Vec<(&'static str, String, usize)> = d
        .by_stage
        .iter()
        .map(|(s, n)| (s.as_str(), s.name().get(ctx.lang).to_string(), *n))
        .collect();
    let overdue_rectifications = match a.role {
        zizhi_domain::roles::Role::Supervisor => st
            .app
            .sanctions(&a)
            .await
            .or_fail(&ctx)?
            .iter()
            .filter(|v| v.overdue)
            .map(|v| crate::certificates::sanctions::row_of(v, ctx.lang))
            .collect(),
        _ => Vec::new(),
    };
    let page = DashboardPage {
        overdue_rectifications,
        c: chrome(&ctx, "/dashboard"),
        // The most urgent first; the counts above cover all of them.
        rows: d
            .rows
            .iter()
            .take(DASHBOARD_ROWS)
            .map(|r| dash_view(r, ctx.lang))
            .collect(),
        total: d.total,
        by_stage,
        overdue: d.overdue,
        warning: d.warning,
    };
    Ok(render(&page).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/dashboard?limit=`: open cases with their clocks, most urgent first (staff);
/// 100 by default, at most 1000; `total` counts all open cases.
pub async fn api_dashboard(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    QueryOf(q): QueryOf<DashboardQuery>,
) -> Answer {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ctx.fail(AppError::invalid(
            "limit",
            "limit 应在 1 到 1000 之间",
            "limit must be between 1 and 1000",
        )));
    }
    let d = st.app.dashboard(&a).await.or_fail(&ctx)?;
    /// An open case with its clock, serialised straight from the kept rows.
    #[derive(serde::Serialize)]
    struct Item<'a> {
        #[serde(flatten)]
        case: CaseItem<'a>,
        clock: Option<crate::cases::json::ClockItem<'a>>,
    }
    #[derive(serde::Serialize)]
    struct Body<'a> {
        cases: Vec<Item<'a>>,
        total: usize,
    }
    let cases = d
        .rows
        .iter()
        .take(limit)
        .map(|r| Item {
            case: CaseItem::of(&r.case, Some(&r.org_name)),
            clock: r.clock.as_ref().map(clock_json),
        })
        .collect();
    // A case takes about 615 bytes in the demo; a little more is reserved.
    let capacity = 256 + 640 * limit.min(d.rows.len());
    Ok(crate::http::json_sized(
        &Body {
            cases,
            total: d.total,
        },
        capacity,
    ))
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/dashboard",
                Authenticated,
                "工作台：未结案件按紧急程度排列",
                "Dashboard: open cases by urgency",
            ),
            get(dashboard_page),
        ),
        (
            with_query(
                r(
                    M::GET,
                    "/api/v1/dashboard",
                    Authenticated,
                    "工作台：未结案件及项目周期，最紧急的在前（测评中心工作人员）",
                    "Dashboard: open cases with their clocks, most urgent first (centre staff)",
                ),
                &[("limit", "integer", "1–1000 (default 100); total counts all")],
            ),
            get(api_dashboard),
        ),
    ]
}
