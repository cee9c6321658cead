//! One's own account: password, second factor, API tokens.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::http::i18n::Tr;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, failure_flash, fmt_time, render, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
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
    /// Recovery codes just made (shown this once).
    recovery_codes: Vec<String>,
    recovery_left: i64,
    tokens: Vec<TokenRow>,
}

/// One live API token on the account page.
struct TokenRow {
    id: i64,
    label: String,
    created: String,
    last_used: String,
    expires: String,
}

/// What an action leaves on the account page: its message (or error) and recovery codes to
/// show once.
#[derive(Default)]
struct Shown {
    flash: Option<(String, bool)>,
    recovery_codes: Vec<String>,
}

async fn account_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    shown: Shown,
    status: StatusCode,
) -> Response {
    let (secret, uri) = st.app.new_totp_secret(a);
    let mut c = chrome(ctx, "/account");
    if let Some((m, err)) = shown.flash {
        c = with_flash(c, m, err);
    }
    let t = Tr { lang: ctx.lang };
    let loaded = async {
        let tokens = st.app.api_tokens(a).await?;
        let left = st.app.recovery_codes_left(a).await?;
        Ok::<_, AppError>((tokens, left))
    };
    let (tokens, recovery_left) = match loaded.await {
        Ok(x) => x,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let tokens = tokens
        .into_iter()
        .map(|k| TokenRow {
            id: k.id,
            label: k.label,
            created: fmt_time(k.created_us, ctx.lang),
            last_used: k.last_used_us.map_or_else(
                || t.get("account.token_never").to_string(),
                |u| fmt_time(u, ctx.lang),
            ),
            expires: fmt_time(k.expires_us, ctx.lang),
        })
        .collect();
    let page = AccountPage {
        c,
        totp_enabled: ctx.totp_enabled,
        totp_secret: secret,
        totp_uri: uri,
        recovery_codes: shown.recovery_codes,
        recovery_left,
        tokens,
    };
    (status, render(&page)).into_response()
}

pub async fn account_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    account_page_with(&st, &ctx, &a, Shown::default(), StatusCode::OK).await
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
        Vec::new(),
    )
    .await
}

/// The account page after an action: its success message (and recovery codes to show once),
/// or what went wrong.
async fn account_outcome(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    outcome: Result<(String, StatusCode), AppError>,
    recovery_codes: Vec<String>,
) -> Response {
    let (shown, status) = match outcome {
        Ok((msg, status)) => (
            Shown {
                flash: Some((msg, false)),
                recovery_codes,
            },
            status,
        ),
        Err(e) => match failure_flash(ctx, e) {
            Ok((msg, status)) => (
                Shown {
                    flash: Some((msg, true)),
                    recovery_codes: Vec::new(),
                },
                status,
            ),
            Err(r) => return *r,
        },
    };
    account_page_with(st, ctx, a, shown, status).await
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
    let (r, codes) = match r {
        Ok(codes) => (
            Ok((t.get("account.totp_done").to_string(), StatusCode::OK)),
            codes,
        ),
        Err(e) => (Err(e), Vec::new()),
    };
    account_outcome(&st, &ctx, &a, r, codes).await
}

/// New recovery codes (the old ones stop working), shown once on the page.
pub async fn account_recovery_codes(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    let t = Tr { lang: ctx.lang };
    let (r, codes) = match st.app.new_recovery_codes(&a).await {
        Ok(codes) => (
            Ok((t.get("account.recovery_shown").to_string(), StatusCode::OK)),
            codes,
        ),
        Err(e) => (Err(e), Vec::new()),
    };
    account_outcome(&st, &ctx, &a, r, codes).await
}

/// Revokes one of one's API tokens from the account page.
pub async fn account_token_revoke(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    let t = Tr { lang: ctx.lang };
    let r = st.app.revoke_api_token(&a, id).await;
    account_outcome(
        &st,
        &ctx,
        &a,
        r.map(|()| (t.get("account.token_revoked").to_string(), StatusCode::OK)),
        Vec::new(),
    )
    .await
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
        Vec::new(),
    )
    .await
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

/// `GET /api/v1/tokens`: the caller's live API tokens (never their secrets).
pub async fn api_tokens_list(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let tokens = st.app.api_tokens(&a).await.or_fail(&ctx)?;
    let items: Vec<_> = tokens
        .into_iter()
        .map(|k| {
            json!({"id": k.id, "label": k.label, "created_us": k.created_us,
                   "expires_us": k.expires_us, "last_used_us": k.last_used_us})
        })
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's API tokens.
pub async fn api_tokens_revoke(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    st.app.revoke_api_token(&a, id).await.or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/me/recovery-codes`: new recovery codes, returned once; the old ones stop
/// working.
pub async fn api_recovery_codes(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let codes = st.app.new_recovery_codes(&a).await.or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(json!({ "codes": codes }))).into_response())
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
                "/account/tokens/{id}/revoke",
                Authenticated,
                "吊销 API 令牌",
                "Revoke an API token",
            ),
            post(account_token_revoke),
        ),
        (
            r(
                M::POST,
                "/account/recovery-codes",
                Authenticated,
                "生成新的恢复码",
                "Make new recovery codes",
            ),
            post(account_recovery_codes),
        ),
        (
            r(
                M::GET,
                "/api/v1/tokens",
                Authenticated,
                "本人的 API 令牌",
                "One's own API tokens",
            ),
            get(api_tokens_list),
        ),
        (
            r(
                M::DELETE,
                "/api/v1/tokens/{id}",
                Authenticated,
                "吊销本人的一个 API 令牌",
                "Revoke one of one's API tokens",
            ),
            delete(api_tokens_revoke),
        ),
        (
            r(
                M::POST,
                "/api/v1/me/recovery-codes",
                Authenticated,
                "生成新的恢复码（旧的作废）",
                "New recovery codes (the old ones stop working)",
            ),
            post(api_recovery_codes),
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
