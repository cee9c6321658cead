//! Signing in and out (pages and `/api/v1/session`), `/api/v1/me`, the language switch.

use crate::AppState;
use crate::http::ctx::{CSRF_COOKIE, Ctx, SESSION_COOKIE, set_cookie};
use crate::http::error::{Answer, Failure, OrFail};
use crate::http::extract::{ClientIp, Form, JsonBody, Me, Path};
use crate::http::i18n::{LANG_COOKIE, Tr};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::AppError;
use zizhi_domain::lang::Lang;

/// The one check for every redirect that a request names (`next` after sign-in or a language
/// switch): only a path of this site. Browsers read a URL the WHATWG way — they drop tabs and
/// newlines anywhere, trim leading control characters and spaces, and treat `\\` as `/` — so
/// `/\t/example.com` or `/\\example.com` would leave the site as `//example.com`. Anything with a
/// control character, whitespace or a backslash, or whose second character could start an
/// authority, falls back to the home page. (A control character in a `Location` header would
/// also make the response itself invalid.)
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else {
        return "/".to_string();
    };
    let bad_char = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    let ok =
        n.starts_with('/') && !n.starts_with("//") && !n.chars().any(bad_char) && n.len() <= 2048;
    if ok { n.to_string() } else { "/".to_string() }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    /// Hostile `next` values (as they arrive, percent-decoded) never leave the site.
    #[test]
    fn only_same_site_paths_are_followed() {
        for bad in [
            "//example.com",
            "/\t/example.com",
            "/\n/example.com",
            "/\r\n/example.com",
            "/\\example.com",
            "\\\\example.com",
            "/\\/example.com",
            " /example.com",
            "\u{0}/x",
            "/\u{b}/example.com",
            "/ /example.com",
            "/\u{a0}/example.com",
            "https://example.com",
            "javascript:alert(1)",
            "example.com",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        for good in [
            "/",
            "/cases/7",
            "/cases?page=2&stage=draft",
            "/verify/CNITSEC2026SRV-DR-II-0001",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        assert_eq!(safe_next(None), "/");
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub(crate) c: Chrome,
    pub(crate) next: String,
    pub(crate) username: String,
    /// Staff single sign-on is configured: offer it.
    pub(crate) sso: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    pub(crate) next: Option<String>,
}

pub async fn login_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    if ctx.actor.is_some() {
        return Redirect::to("/").into_response();
    }
    let page = LoginPage {
        c: chrome(&ctx, "/login"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        sso: st.oidc.is_some(),
    };
    render(&page).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    next: String,
}

pub async fn login_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> Response {
    let message_page = |msg: String, status: StatusCode| {
        let page = LoginPage {
            c: with_flash(chrome(&ctx, "/login"), msg, true),
            next: safe_next(Some(&f.next)),
            username: f.username.clone(),
            sso: st.oidc.is_some(),
        };
        (status, render(&page)).into_response()
    };
    let fail_page = |key: &str, status: StatusCode| {
        message_page(Tr { lang: ctx.lang }.get(key).to_string(), status)
    };
    if let Some(ip) = ip
        && !st.limiter.allow(ip, st.config.login_attempts_per_minute)
    {
        return fail_page("login.rate_limited", StatusCode::TOO_MANY_REQUESTS);
    }
    let totp = (!f.totp.trim().is_empty()).then_some(f.totp.trim());
    match st.app.login_from(&f.username, &f.password, totp, ip).await {
        Ok(s) => signed_in(&st, &s.token, &f.next),
        Err(AppError::Unauthenticated) => fail_page("login.failed", StatusCode::UNAUTHORIZED),
        Err(AppError::TotpRequired) => fail_page("login.totp_required", StatusCode::UNAUTHORIZED),
        // A self-registered account whose address is not confirmed: a new link went out.
        Err(AppError::Invalid { field, problem }) if field == "username" => {
            message_page(problem.get(ctx.lang).to_string(), StatusCode::FORBIDDEN)
        }
        Err(AppError::Invalid { .. }) => fail_page("login.totp_wrong", StatusCode::UNAUTHORIZED),
        Err(AppError::Busy) => {
            let mut res = fail_page("login.busy", StatusCode::TOO_MANY_REQUESTS);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            res
        }
        Err(e) => ctx.fail(e).into_response(),
    }
}

/// The answer to a successful sign-in (password or single sign-on): the session cookie, the
/// pre-sign-in CSRF cookie cleared, and on to `next` (same-site only).
pub(crate) fn signed_in(st: &AppState, token: &str, next: &str) -> Response {
    let mut res = Redirect::to(&safe_next(Some(next))).into_response();
    let h = res.headers_mut();
    let max_age = st.config.session_idle_minutes * 60;
    h.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            token,
            Some(max_age),
            st.config.cookies_secure(),
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(CSRF_COOKIE, "", Some(0), st.config.cookies_secure()),
    );
    res
}

pub async fn logout(State(st): State<AppState>, ctx: Ctx) -> Response {
    if let (Some(a), Some(token)) = (&ctx.actor, &ctx.session_token)
        && let Err(e) = st.app.logout(a, token).await
    {
        return ctx.fail(e).into_response();
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), st.config.cookies_secure()),
    );
    res
}

pub async fn set_lang(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = match Lang::parse(&code) {
        Some(Lang::En) => "en",
        _ => "zh",
    };
    let mut res = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
        ))
        .expect("ascii"),
    );
    res
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

pub async fn api_session_create(
    State(st): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    JsonBody(b): JsonBody<LoginBody>,
) -> Answer {
    if let Some(ip) = ip
        && !st.limiter.allow(ip, st.config.login_attempts_per_minute)
    {
        let t = crate::http::i18n::text("login.rate_limited").unwrap_or_default();
        return Err(Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            zizhi_domain::lang::Text::new(t.0, t.1),
            ctx.lang,
            true,
        ));
    }
    let s = st
        .app
        .login_from(&b.username, &b.password, b.totp.as_deref(), ip)
        .await
        .or_fail(&ctx)?;
    Ok((
            StatusCode::CREATED,
            Json(json!({"token": s.token, "csrf_token": s.csrf_token, "user": {"id": s.actor.user_id, "username": s.actor.username, "role": s.actor.role.as_str()}})),
        )
            .into_response())
}

pub async fn api_session_delete(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    headers: axum::http::HeaderMap,
) -> Answer {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or(ctx.session_token.clone());
    if let Some(t) = token
        && let Err(e) = st.app.logout(&a, &t).await
    {
        return Err(ctx.fail(e));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn api_me_get(ctx: Ctx, Me(a): Me) -> Answer {
    Ok(Json(json!({
        "id": a.user_id, "username": a.username, "display_name": a.display_name,
        "role": a.role.as_str(), "organization_id": a.organization_id,
        "must_change_password": ctx.must_change_password, "totp_enabled": ctx.totp_enabled,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// `PUT /api/v1/me/password`: change one's own password (a one-time password must be changed
/// before anything else); every other session and API token of the user ends, the one calling
/// stays.
pub async fn api_me_password(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<PasswordBody>,
) -> Answer {
    let keep = ctx
        .session_token
        .clone()
        .or_else(|| ctx.bearer_token.clone());
    st.app
        .change_password(&a, &b.current_password, &b.new_password, keep.as_deref())
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(M::GET, "/login", Public, "登录页", "Sign-in page"),
            get(login_page),
        ),
        (
            r(M::POST, "/login", Public, "登录", "Sign in"),
            post(login_submit),
        ),
        (
            r(
                M::GET,
                "/lang/{code}",
                Public,
                "切换语言",
                "Switch language",
            ),
            get(set_lang),
        ),
        (
            r(M::POST, "/logout", Authenticated, "退出", "Sign out"),
            post(logout),
        ),
        (
            r(
                M::POST,
                "/api/v1/session",
                Public,
                "登录，返回令牌",
                "Sign in; returns a token",
            ),
            post(api_session_create),
        ),
        (
            r(
                M::DELETE,
                "/api/v1/session",
                Authenticated,
                "退出",
                "Sign out",
            ),
            delete(api_session_delete),
        ),
        (
            r(
                M::GET,
                "/api/v1/me",
                Authenticated,
                "当前用户",
                "The signed-in user",
            ),
            get(api_me_get),
        ),
        (
            r(
                M::PUT,
                "/api/v1/me/password",
                Authenticated,
                "修改本人密码（一次性密码须先修改）",
                "Change one's own password (a one-time password first of all)",
            ),
            put(api_me_password),
        ),
    ]
}
