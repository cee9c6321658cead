//! Health, style sheets and the OpenAPI document.

use crate::AppState;
use crate::routes::{Access, RouteSpec, r};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

const CSS: &str = include_str!("../../static/app.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");

pub(crate) async fn health(axum::extract::State(st): axum::extract::State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!(
            "{{\"status\":\"ok\",\"database\":\"{}\",\"version\":\"{}\"}}",
            st.app.backend(),
            env!("CARGO_PKG_VERSION")
        ),
    )
        .into_response()
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

async fn agreement_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        zizhi_app::documents::agreement::AGREEMENT_CSS,
    )
        .into_response()
}

async fn openapi() -> Response {
    axum::Json(crate::routes::openapi::openapi_document()).into_response()
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    let mut health_spec = r(M::GET, "/health", Public, "健康检查", "Health check");
    health_spec.bare = true;
    let mut css_spec = r(M::GET, "/static/app.css", Public, "样式表", "Style sheet");
    css_spec.bare = true;
    let mut agreement_css_spec = r(
        M::GET,
        "/static/agreement.css",
        Public,
        "委托协议样式表",
        "Style sheet of the agreement",
    );
    agreement_css_spec.bare = true;
    let mut favicon_spec = r(
        M::GET,
        "/static/favicon.svg",
        Public,
        "网站图标",
        "Site icon",
    );
    favicon_spec.bare = true;
    let mut favicon_ico_spec = r(M::GET, "/favicon.ico", Public, "网站图标", "Site icon");
    favicon_ico_spec.bare = true;
    vec![
        (health_spec, get(health)),
        (css_spec, get(css)),
        (favicon_spec, get(favicon)),
        (favicon_ico_spec, get(favicon)),
        (agreement_css_spec, get(agreement_css)),
        (
            r(
                M::GET,
                "/api/v1/openapi.json",
                Public,
                "OpenAPI 文档",
                "OpenAPI document",
            ),
            get(openapi),
        ),
    ]
}
