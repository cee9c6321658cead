//! One's own account: password, second factor, API tokens.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me};
use crate::http::i18n::Tr;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, failure_flash, render, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::{Actor, AppError};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    totp_enabled: bool,
    totp_secret: String,
    totp_uri: String,
}

fn account_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Response {
    let (secret, uri) = st.app.new_totp_secret(a);
    let mut c = chrome(ctx, "/account");
    if let Some((m, err)) = flash {
        c = with_flash(c, m, err);
    }
    let page = AccountPage {
        c,
        totp_enabled: ctx.totp_enabled,
        totp_secret: secret,
        totp_uri: uri,
    };
    (status, render(&page)).into_response()
}

pub async fn account_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    account_page_with(&st, &ctx, &a, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn account_password(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<PasswordForm>,
) -> Response {
    let r = st
        .app
        .change_password(
            &a,
            &f.current_password,
            &f.new_password,
            ctx.session_token.as_deref(),
        )
        .await;
    let mut ctx = ctx.clone();
    ctx.must_change_password &= r.is_err();
    let t = Tr { lang: ctx.lang };
    account_outcome(
        &st,
        &ctx,
        &a,
        r.map(|()| (t.get("account.changed").to_string(), StatusCode::OK)),
    )
}

/// The account page after an action: its success message, or what went wrong.
fn account_outcome(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    outcome: Result<(String, StatusCode), AppError>,
) -> Response {
    match outcome {
        Ok((msg, status)) => account_page_with(st, ctx, a, Some((msg, false)), status),
        Err(e) => match failure_flash(ctx, e) {
            Ok((msg, status)) => account_page_with(st, ctx, a, Some((msg, true)), status),
            Err(r) => *r,
        },
    }
}

#[derive(Deserialize)]
pub struct TotpForm {
    secret: String,
    code: String,
}

pub async fn account_totp(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<TotpForm>,
) -> Response {
    let r = st.app.confirm_totp(&a, &f.secret, &f.code).await;
    let mut ctx = ctx.clone();
    ctx.totp_enabled |= r.is_ok();
    let t = Tr { lang: ctx.lang };
    account_outcome(
        &st,
        &ctx,
        &a,
        r.map(|()| (t.get("account.totp_done").to_string(), StatusCode::OK)),
    )
}

#[derive(Deserialize)]
pub struct TokenForm {
    label: String,
    days: i64,
}

pub async fn account_token(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<TokenForm>,
) -> Response {
    let t = Tr { lang: ctx.lang };
    let r = st.app.create_api_token(&a, &f.label, f.days).await;
    account_outcome(
        &st,
        &ctx,
        &a,
        r.map(|token| {
            (
                format!("{} {token}", t.get("account.token_done")),
                StatusCode::CREATED,
            )
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    label: String,
    #[serde(default = "thirty")]
    days: i64,
}

fn thirty() -> i64 {
    30
}

pub async fn api_tokens_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<TokenBody>,
) -> Answer {
    let token = st
        .app
        .create_api_token(&a, &b.label, b.days)
        .await
        .or_fail(&ctx)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "days": b.days})),
    )
        .into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(M::GET, "/account", Authenticated, "我的账号", "My account"),
            get(account_page),
        ),
        (
            r(
                M::POST,
                "/account/password",
                Authenticated,
                "修改密码",
                "Change password",
            ),
            post(account_password),
        ),
        (
            r(
                M::POST,
                "/account/totp",
                Authenticated,
                "启用双因素认证",
                "Turn on two-factor",
            ),
            post(account_totp),
        ),
        (
            r(
                M::POST,
                "/account/tokens",
                Authenticated,
                "生成 API 令牌",
                "Create an API token",
            ),
            post(account_token),
        ),
        (
            r(
                M::POST,
                "/api/v1/tokens",
                Authenticated,
                "生成 API 令牌",
                "Create an API token",
            ),
            post(api_tokens_create),
        ),
    ]
}
