//! 忘记密码: a reset link by e-mail (single use, 30 minutes, only its SM3 hash stored), and the
//! page that sets the new password through it.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::extract::{ClientIp, Form, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render, with_flash};
use askama::Template;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use zizhi_app::AppError;

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    c: Chrome,
    who: String,
    error: Option<(String, String)>,
    /// The request was taken: the same words whether or not the account exists.
    sent: bool,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    c: Chrome,
    token: String,
    valid: bool,
    error: Option<(String, String)>,
    done: bool,
}

#[derive(Deserialize, Default)]
pub struct ForgotForm {
    #[serde(default)]
    who: String,
}

#[derive(Deserialize, Default)]
pub struct ResetForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    again: String,
}

fn error_of(ctx: &Ctx, e: AppError) -> Result<(StatusCode, (String, String)), Box<Response>> {
    let f = ctx.fail(e);
    if f.status.is_server_error() {
        return Err(Box::new(f.into_response()));
    }
    let msg = f.message.get(ctx.lang).to_string();
    Ok((f.status, (f.field.unwrap_or_default(), msg)))
}

pub async fn forgot_page(ctx: Ctx) -> Response {
    let page = ForgotPage {
        c: chrome(&ctx, "/forgot-password"),
        who: String::new(),
        error: None,
        sent: false,
    };
    render(&page).into_response()
}

pub async fn forgot_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<ForgotForm>,
) -> Response {
    let page = |error, sent, status| {
        let mut c = chrome(&ctx, "/forgot-password");
        if sent {
            c = with_flash(
                c,
                ctx.lang.pick(
                    "如果该账号存在并登记了电子邮箱，重置链接已发送到该邮箱（30 分钟内有效，只能使用一次）。",
                    "If the account exists and has an e-mail address, a reset link is on its way (it works once, for 30 minutes).",
                ),
                false,
            );
        }
        let p = ForgotPage {
            c,
            who: f.who.clone(),
            error,
            sent,
        };
        (status, render(&p)).into_response()
    };
    // The sign-in limit applies: a reset request is a sign-in attempt by other means.
    if let Some(ip) = ip
        && !st.limiter.allow(ip, st.config.login_attempts_per_minute)
    {
        let msg = crate::http::i18n::Tr { lang: ctx.lang }.get("login.rate_limited");
        return page(
            Some(("who".into(), msg.to_string())),
            false,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    match st.app.request_password_reset(&f.who).await {
        Ok(()) => page(None, true, StatusCode::OK),
        Err(e) => match error_of(&ctx, e) {
            Ok((status, err)) => page(Some(err), false, status),
            Err(r) => *r,
        },
    }
}

pub async fn reset_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    let valid = st.app.reset_link_valid(&token).await.unwrap_or(false);
    let page = ResetPage {
        c: chrome(&ctx, "/reset-password"),
        token,
        valid,
        error: None,
        done: false,
    };
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    (status, render(&page)).into_response()
}

pub async fn reset_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(f): Form<ResetForm>,
) -> Response {
    let r = if f.new_password != f.again {
        Err(AppError::invalid(
            "again",
            "两次输入的新密码不一致",
            "the two new passwords differ",
        ))
    } else {
        st.app
            .reset_password_with_link(&token, &f.new_password)
            .await
    };
    let (status, error, done) = match r {
        Ok(()) => (StatusCode::OK, None, true),
        Err(e) => match error_of(&ctx, e) {
            Ok((s, err)) => (s, Some(err), false),
            Err(resp) => return *resp,
        },
    };
    let valid = done || st.app.reset_link_valid(&token).await.unwrap_or(false);
    let page = ResetPage {
        c: chrome(&ctx, "/reset-password"),
        token,
        valid,
        error,
        done,
    };
    (status, render(&page)).into_response()
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/forgot-password",
                Public,
                "忘记密码：申请重置链接",
                "Forgot password: ask for a reset link",
            ),
            get(forgot_page),
        ),
        (
            r(
                M::POST,
                "/forgot-password",
                Public,
                "发送重置链接",
                "Send a reset link",
            ),
            post(forgot_submit),
        ),
        (
            r(
                M::GET,
                "/reset-password/{token}",
                Public,
                "通过重置链接设置新密码",
                "Set a new password through a reset link",
            ),
            get(reset_page),
        ),
        (
            r(
                M::POST,
                "/reset-password/{token}",
                Public,
                "设置新密码",
                "Set the new password",
            ),
            post(reset_submit),
        ),
    ]
}
