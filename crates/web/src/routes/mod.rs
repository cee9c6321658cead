//! Every route, in one table built from each resource module's rows: its method, path, who
//! may reach it and what it does. The router, the per-route access guard and the OpenAPI
//! document are all built from this table, and the route × role test walks it, so no route can
//! exist without an access decision.

pub mod openapi;

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::Failure;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use axum::{Router, middleware};
use std::convert::Infallible;
use std::time::Duration;
use tower_http::timeout::TimeoutLayer;
use zizhi_app::policy::{Action, allowed};

/// Who may reach a route (checked before the handler; the use case checks again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any signed-in user; the use case decides finer points (e.g. an applicant's own
    /// organisation).
    Authenticated,
    /// Signed in and allowed this action by the policy.
    May(Action),
}

/// One route.
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// What it does (zh, en).
    pub summary: (&'static str, &'static str),
    /// Served without loading a session (health, static files).
    pub bare: bool,
    /// Streams a large body (evidence): no 1 MiB body limit, no request timeout.
    pub streaming: bool,
    /// Query parameters (name, JSON type, description), for the OpenAPI document.
    pub query: &'static [(&'static str, &'static str, &'static str)],
}

pub(crate) fn r(
    method: Method,
    path: &'static str,
    access: Access,
    zh: &'static str,
    en: &'static str,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        summary: (zh, en),
        bare: false,
        streaming: false,
        query: &[],
    }
}

pub(crate) fn with_query(
    mut spec: RouteSpec,
    query: &'static [(&'static str, &'static str, &'static str)],
) -> RouteSpec {
    spec.query = query;
    spec
}

pub(crate) fn streaming(mut spec: RouteSpec) -> RouteSpec {
    spec.streaming = true;
    spec
}

/// Checks a route's access before its handler runs.
async fn guard(access: Access, req: Request, next: Next) -> Response {
    if access == Access::Public {
        return next.run(req).await;
    }
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(actor) = &ctx.actor else {
        if ctx.api || req.method() != Method::GET {
            return ctx
                .fail(zizhi_app::AppError::Unauthenticated)
                .into_response();
        }
        let next_path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let to: String = form_urlencoded::byte_serialize(next_path.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={to}")).into_response();
    };
    if let Access::May(a) = access
        && !allowed(actor, &a)
    {
        return Failure::from_app(zizhi_app::AppError::Forbidden, ctx.lang, ctx.api)
            .into_response();
    }
    next.run(req).await
}

/// Builds the two routers: session-aware routes and bare ones.
pub fn routers() -> (Router<AppState>, Router<AppState>) {
    let mut with_ctx = Router::new();
    let mut bare = Router::new();
    for (spec, mr) in table() {
        let access = spec.access;
        // Ordinary requests: bodies up to 1 MiB, answered within 60 s. Evidence streams may
        // be up to the evidence limit (plus multipart overhead) and take as long as the
        // transfer takes.
        let mr = if spec.streaming {
            mr.layer::<_, Infallible>(axum::extract::DefaultBodyLimit::max((1 << 30) + (1 << 20)))
        } else {
            mr.layer::<_, Infallible>(axum::extract::DefaultBodyLimit::max(
                crate::http::ctx::FORM_LIMIT,
            ))
            .layer::<_, Infallible>(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(60),
            ))
        };
        let mr = mr.route_layer(middleware::from_fn(move |req: Request, next: Next| {
            guard(access, req, next)
        }));
        if spec.bare {
            bare = bare.route(spec.path, mr);
        } else {
            with_ctx = with_ctx.route(spec.path, mr);
        }
    }
    (with_ctx, bare)
}

/// The table: every resource module's rows.
pub fn table() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    [
        crate::platform::session::routes(),
        crate::platform::reset::routes(),
        crate::platform::registration::routes(),
        crate::platform::sso::routes(),
        crate::platform::home::routes(),
        crate::platform::users::routes(),
        crate::platform::organizations::routes(),
        crate::platform::audit::routes(),
        crate::platform::account::routes(),
        crate::platform::notifications::routes(),
        crate::platform::assets::routes(),
        crate::certificates::verify::routes(),
        crate::certificates::registry::routes(),
        crate::certificates::announcements::routes(),
        crate::certificates::desk::routes(),
        crate::certificates::sanctions::routes(),
        crate::certificates::complaints::routes(),
        crate::cases::list::routes(),
        crate::cases::dashboard::routes(),
        crate::cases::page::routes(),
        crate::cases::print::routes(),
        crate::cases::transitions::routes(),
        crate::cases::portal::routes(),
        crate::cases::acceptance::routes(),
        crate::cases::evaluation::routes(),
        crate::cases::panel::routes(),
        crate::cases::agreement::routes(),
        crate::cases::letters::routes(),
        crate::cases::appeals::routes(),
        crate::cases::archive::routes(),
        crate::platform::evidence::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
