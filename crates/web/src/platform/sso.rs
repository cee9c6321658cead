//! Single sign-on for centre staff through the centre's OpenID Connect provider (issue 9): the
//! authorization code flow with PKCE, a nonce and a state, then the ID token checked by the
//! `openidconnect` crate (signature against the provider's published keys, issuer, audience,
//! expiry, nonce). Who the person is here is decided in `zizhi_app::sso`.
//!
//! `GET /login/oidc?next=…` sends the browser to the provider with a short-lived cookie holding
//! the flow's secrets; `GET /login/oidc/callback` finishes it. Password sign-in stays for
//! applicants (and for staff accounts created here).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use zizhi_app::sso::OidcIdentity;

use crate::AppState;
use crate::config::OidcSettings;
use crate::http::ctx::{Ctx, cookie, set_cookie};
use crate::http::i18n::Tr;
use crate::platform::session::{LoginPage, NextQuery, safe_next, signed_in};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{chrome, render, with_flash};

/// The cookie that carries the flow's state, nonce, PKCE verifier and `next` to the callback.
const FLOW_COOKIE: &str = "zizhi_oidc";
/// How long a person has at the provider (seconds).
const FLOW_SECONDS: i64 = 600;

/// Why single sign-on failed, for the log and (in words) for the person.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SsoError(String);

/// The provider's HTTP, through reqwest (redirects not followed: following them would let the
/// provider's metadata point the server elsewhere).
async fn send(
    client: reqwest::Client,
    req: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, SsoError> {
    let req = reqwest::Request::try_from(req).map_err(|e| SsoError(e.to_string()))?;
    let res = client
        .execute(req)
        .await
        .map_err(|e| SsoError(format!("the identity provider cannot be reached: {e}")))?;
    let mut out = openidconnect::http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        out = out.header(k, v);
    }
    let body = res.bytes().await.map_err(|e| SsoError(e.to_string()))?;
    out.body(body.to_vec()).map_err(|e| SsoError(e.to_string()))
}

fn http_client() -> Result<reqwest::Client, SsoError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| SsoError(e.to_string()))
}

/// Discovers the provider and builds the client for it.
async fn client_for(
    o: &OidcSettings,
    http: &reqwest::Client,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    SsoError,
> {
    let issuer = IssuerUrl::new(o.issuer.clone()).map_err(|e| SsoError(e.to_string()))?;
    let c = http.clone();
    let metadata = CoreProviderMetadata::discover_async(issuer, &move |r| send(c.clone(), r))
        .await
        .map_err(|e| SsoError(format!("discovery failed: {e}")))?;
    let redirect = RedirectUrl::new(o.redirect_url.clone()).map_err(|e| SsoError(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(o.client_id.clone()),
        o.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect))
}

/// The login page with a message (single sign-on failed or was refused).
fn login_with_message(st: &AppState, ctx: &Ctx, message: &str, status: StatusCode) -> Response {
    let t = Tr { lang: ctx.lang };
    let page = LoginPage {
        c: with_flash(
            chrome(ctx, "/login"),
            format!("{}{message}", t.get("login.sso_failed")),
            true,
        ),
        next: "/".into(),
        username: String::new(),
        sso: st.oidc.is_some(),
    };
    (status, render(&page)).into_response()
}

fn settings(st: &AppState) -> Option<Arc<OidcSettings>> {
    st.oidc.clone()
}

/// `GET /login/oidc`: off to the provider.
pub async fn oidc_start(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Response {
    let Some(o) = settings(&st) else {
        return ctx
            .fail(zizhi_app::AppError::NotFound("oidc"))
            .into_response();
    };
    let started = async {
        let http = http_client()?;
        let client = client_for(&o, &http).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in o.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok::<_, SsoError>((url, state, nonce, verifier))
    };
    match started.await {
        Ok((url, state, nonce, verifier)) => {
            let next: String =
                form_urlencoded::byte_serialize(safe_next(q.next.as_deref()).as_bytes()).collect();
            let value = format!(
                "{}.{}.{}.{next}",
                state.secret(),
                nonce.secret(),
                verifier.secret()
            );
            let mut res = Redirect::to(url.as_str()).into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    FLOW_COOKIE,
                    &value,
                    Some(FLOW_SECONDS),
                    st.config.cookies_secure(),
                ),
            );
            res
        }
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on could not start");
            login_with_message(&st, &ctx, &e.0, StatusCode::BAD_GATEWAY)
        }
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The flow's secrets from its cookie.
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

fn flow_of(headers: &HeaderMap) -> Option<Flow> {
    let v = cookie(headers, FLOW_COOKIE)?;
    let mut parts = v.splitn(4, '.');
    let (state, nonce, verifier, next) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let next = form_urlencoded::parse(format!("n={next}").as_bytes())
        .next()
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| "/".into());
    Some(Flow {
        state: state.to_string(),
        nonce: nonce.to_string(),
        verifier: verifier.to_string(),
        next,
    })
}

/// Reads one claim from a verified ID token's payload (the crate's typed claims do not carry the
/// centre's own role claim).
fn claim_of(id_token: &str, name: &str) -> Option<serde_json::Value> {
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get(name).cloned()
}

/// `GET /login/oidc/callback`: the provider sends the person back with a code.
pub async fn oidc_callback(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(o) = settings(&st) else {
        return ctx
            .fail(zizhi_app::AppError::NotFound("oidc"))
            .into_response();
    };
    let t = Tr { lang: ctx.lang };
    if let Some(err) = &q.error {
        let text = q.error_description.clone().unwrap_or_else(|| err.clone());
        return login_with_message(&st, &ctx, &text, StatusCode::UNAUTHORIZED);
    }
    let (Some(flow), Some(code), Some(state)) = (flow_of(&headers), &q.code, &q.state) else {
        return login_with_message(
            &st,
            &ctx,
            t.pick(
                "登录流程已过期或不完整，请重新开始",
                "the sign-in expired or is incomplete; start again",
            ),
            StatusCode::BAD_REQUEST,
        );
    };
    if *state != flow.state {
        return login_with_message(
            &st,
            &ctx,
            t.pick(
                "登录流程不匹配，请重新开始",
                "the sign-in does not match; start again",
            ),
            StatusCode::BAD_REQUEST,
        );
    }
    let verified = async {
        let http = http_client()?;
        let client = client_for(&o, &http).await?;
        let c = http.clone();
        let token = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .map_err(|e| SsoError(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&move |r| send(c.clone(), r))
            .await
            .map_err(|e| SsoError(format!("the code exchange failed: {e}")))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| SsoError("the provider sent no ID token".into()))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(flow.nonce.clone()))
            .map_err(|e| SsoError(format!("the ID token is not valid: {e}")))?;
        let raw = id_token.to_string();
        Ok::<_, SsoError>(OidcIdentity {
            issuer: claims.issuer().as_str().to_string(),
            subject: claims.subject().as_str().to_string(),
            preferred_username: claims.preferred_username().map(|u| u.as_str().to_string()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_string()),
            email: claims.email().map(|e| e.as_str().to_string()),
            role_claim: claim_of(&raw, &o.role_claim),
        })
    };
    let identity = match verified.await {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on failed");
            return login_with_message(&st, &ctx, &e.0, StatusCode::UNAUTHORIZED);
        }
    };
    match st.app.login_oidc(&identity, &o.role_claim).await {
        Ok(s) => {
            let mut res = signed_in(&st, &s.token, &flow.next);
            res.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(FLOW_COOKIE, "", Some(0), st.config.cookies_secure()),
            );
            res
        }
        Err(zizhi_app::AppError::Invalid { problem, .. }) => {
            login_with_message(&st, &ctx, problem.get(ctx.lang), StatusCode::FORBIDDEN)
        }
        Err(e) => ctx.fail(e).into_response(),
    }
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/login/oidc",
                Public,
                "工作人员单点登录",
                "Staff single sign-on",
            ),
            get(oidc_start),
        ),
        (
            r(
                M::GET,
                "/login/oidc/callback",
                Public,
                "单点登录回调",
                "Single sign-on callback",
            ),
            get(oidc_callback),
        ),
    ]
}
