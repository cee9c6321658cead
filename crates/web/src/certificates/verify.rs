//! Public verification of a certificate (`/verify/{number}`, `/api/v1/certificates/{number}`).

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::Path;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use serde_json::{Value, json};
use zizhi_app::AppError;
use zizhi_domain::lang::Lang;

pub struct CertView {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    pub category: String,
    pub level: String,
    pub issued_on: String,
    pub valid_until: String,
    pub status: String,
    pub in_force: bool,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    c: Chrome,
    cert: Option<CertView>,
    number: String,
}

/// `GET /verify/{number}`: anyone, without signing in (the certificate's QR code leads here).
pub async fn verify_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Response {
    let (cert, status) = match st.app.verify_certificate(&number).await {
        Ok(v) => {
            let c = v.certificate;
            let lang = ctx.lang;
            let d = |s: &str| zizhi_domain::lang::date_str_text(s, lang);
            let level = u8::try_from(c.level).unwrap_or(0);
            let status_text = match (c.status.as_str(), v.in_force, lang) {
                ("valid", true, Lang::Zh) => "有效".to_string(),
                ("valid", true, Lang::En) => "valid".to_string(),
                ("valid", false, Lang::Zh) => "已过期".to_string(),
                ("valid", false, Lang::En) => "expired".to_string(),
                (other, _, _) => other.to_string(),
            };
            (
                Some(CertView {
                    category: zizhi_domain::profile::Category::parse(&c.category)
                        .map_or(c.category.clone(), |x| x.name().get(lang).to_string()),
                    level: match lang {
                        Lang::Zh => zizhi_domain::lang::level_zh(level),
                        Lang::En => format!("level {level}"),
                    },
                    issued_on: d(&c.issued_on),
                    valid_until: d(&c.valid_until),
                    number: c.number,
                    holder: c.holder,
                    uscc: c.uscc,
                    status: status_text,
                    in_force: v.in_force,
                }),
                StatusCode::OK,
            )
        }
        Err(AppError::NotFound(_)) => (None, StatusCode::NOT_FOUND),
        Err(e) => return ctx.fail(e).into_response(),
    };
    let page = VerifyPage {
        c: chrome(&ctx, &format!("/verify/{number}")),
        cert,
        number,
    };
    (status, render(&page)).into_response()
}

pub(crate) fn certificate_json(c: &zizhi_store::certificates::Certificate) -> Value {
    json!({
        "number": c.number, "holder": c.holder, "uscc": c.uscc, "category": c.category, "level": c.level,
        "issued_on": c.issued_on, "valid_until": c.valid_until, "status": c.status,
        "verify": format!("/verify/{}", c.number),
    })
}

pub async fn api_certificate_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Answer {
    let v = st.app.verify_certificate(&number).await.or_fail(&ctx)?;
    let mut j = certificate_json(&v.certificate);
    j["in_force"] = json!(v.in_force);
    Ok(Json(j).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/api/v1/certificates/{number}",
                Public,
                "公开查验证书",
                "Verify a certificate (public)",
            ),
            get(api_certificate_get),
        ),
        (
            r(
                M::GET,
                "/verify/{number}",
                Public,
                "公开查验证书页面（证书二维码指向此处）",
                "Public verification page (the certificate's QR code leads here)",
            ),
            get(verify_page),
        ),
    ]
}
