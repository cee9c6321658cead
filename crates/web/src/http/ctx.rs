//! Per-request context: language, the signed-in actor (session cookie or bearer token), the
//! CSRF token; CSRF and origin checks on every unsafe request; security headers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use zizhi_app::accounts::Bearer;
use zizhi_app::{Actor, secrets};
use zizhi_domain::lang::Lang;

use crate::AppState;
use crate::http::error::Failure;
use crate::http::i18n::negotiate;

pub const SESSION_COOKIE: &str = "zizhi_session";
pub const CSRF_COOKIE: &str = "zizhi_csrf";
/// Forms larger than this are refused before parsing.
pub const FORM_LIMIT: usize = 1024 * 1024;

/// The CSRF token a page's forms echo back: the session's, or the anonymous cookie's; for an
/// anonymous request that brought no cookie, made the first time a page writes it (a form on
/// the page) and then sent as a new cookie (`context`). A page without a form — the public check
/// of a certificate, the register — sets no cookie, and a visitor is not given one for reading
/// (issue 14: nor is a random token made for each such request). Clones share the token.
#[derive(Clone, Default)]
pub struct CsrfToken(Arc<OnceLock<String>>);

impl CsrfToken {
    /// A token already known (empty: none, as for a bearer token's request).
    pub fn known(token: String) -> CsrfToken {
        CsrfToken(Arc::new(OnceLock::from(token)))
    }

    /// The token, made now if it is still to be made.
    pub fn get(&self) -> &str {
        self.0.get_or_init(secrets::token)
    }

    /// The token if it is known or was made; none if nothing asked for it yet.
    fn made(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// Writes the token (making it if need be): `{{ c.csrf }}` in a form.
impl std::fmt::Display for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

/// What every handler knows about its request. Its `Debug` leaves out the tokens.
#[derive(Clone)]
pub struct Ctx {
    /// Quoted in logs and in the `X-Request-Id` header (and in a server error's body).
    pub request_id: String,
    pub lang: Lang,
    pub actor: Option<Actor>,
    /// The token forms must echo back.
    pub csrf: CsrfToken,
    /// The session cookie's token, when signed in through the browser.
    pub session_token: Option<String>,
    /// Authenticated by `Authorization: Bearer` (no cookies, so no CSRF).
    pub bearer: bool,
    /// The bearer token itself (a session or API token), when one authenticated the request.
    pub bearer_token: Option<String>,
    pub must_change_password: bool,
    pub totp_enabled: bool,
    /// The request is for the JSON API: errors are JSON.
    pub api: bool,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("request_id", &self.request_id)
            .field("lang", &self.lang)
            .field("actor", &self.actor.as_ref().map(|a| &a.username))
            .field("bearer", &self.bearer)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    /// A request's context before anyone is known to have signed in (no actor, no tokens).
    pub fn anonymous(request_id: String, lang: Lang, api: bool) -> Ctx {
        Ctx {
            request_id,
            lang,
            actor: None,
            csrf: CsrfToken::known(String::new()),
            session_token: None,
            bearer: false,
            bearer_token: None,
            must_change_password: false,
            totp_enabled: false,
            api,
        }
    }

    /// The response for a failed request, logged by what it answers: a server error (5xx) with
    /// the request id — at warning level when the database cannot take the work now (503), at
    /// error level otherwise (500); a refusal of the request itself (4xx: bad input, not
    /// allowed, not found, rate limited, disposed of) is not logged.
    pub fn fail(&self, e: zizhi_app::AppError) -> Failure {
        let shown = e.to_string();
        let f = Failure::from_app(e, self.lang, self.api);
        if f.status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(request_id = %self.request_id, error = %shown, "database unavailable (503)");
        } else if f.status.is_server_error() {
            tracing::error!(request_id = %self.request_id, error = %shown, "internal error");
        }
        f
    }
}

/// A request id: the process's random prefix and a counter (cheap, unique per server run).
pub fn request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| secrets::token()[..8].to_string());
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A cookie's value from the `Cookie` header.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path /, Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(a) = max_age {
        s.push_str(&format!("; Max-Age={a}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).expect("cookie values are hex or fixed words")
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string())
}

/// A cross-site request: an `Origin` that is not this host, or `Sec-Fetch-Site: cross-site`.
fn cross_site(headers: &HeaderMap) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let o = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            o != host
        }
        _ => false,
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Loads the context, enforces CSRF on unsafe methods, adds security headers.
pub async fn context(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let api = req.uri().path().starts_with("/api/");
    let lang = negotiate(&headers);
    let rid = request_id();
    let mut ctx = Ctx::anonymous(rid.clone(), lang, api);
    // An anonymous request without the cookie: its token is made only if a page writes it.
    let mut fresh_csrf = false;
    let lookup = async {
        if let Some(token) = bearer(&headers) {
            ctx.bearer = true;
            ctx.bearer_token = Some(token.clone());
            match st.app.bearer(&token).await? {
                Some(Bearer::ApiToken(a)) => ctx.actor = Some(a),
                Some(Bearer::Session(a, u)) => {
                    ctx.must_change_password = u.must_change_password;
                    ctx.totp_enabled = u.totp_secret.is_some();
                    ctx.actor = Some(a);
                }
                None => {}
            }
        } else if let Some(token) = cookie(&headers, SESSION_COOKIE)
            && let Some((a, csrf, u)) = st.app.session(&token).await?
        {
            ctx.actor = Some(a);
            ctx.csrf = CsrfToken::known(csrf);
            ctx.session_token = Some(token);
            ctx.must_change_password = u.must_change_password;
            ctx.totp_enabled = u.totp_secret.is_some();
        }
        Ok::<_, zizhi_app::AppError>(())
    };
    if let Err(e) = lookup.await {
        return ctx.fail(e).into_response();
    }
    if ctx.actor.is_none() && !ctx.bearer {
        // Anonymous forms (sign-in) use a double-submit token kept in its own cookie.
        match cookie(&headers, CSRF_COOKIE).filter(|c| c.len() == 64) {
            Some(c) => ctx.csrf = CsrfToken::known(c),
            None => {
                ctx.csrf = CsrfToken::default();
                fresh_csrf = true;
            }
        }
    }

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    // A cross-site page can only send form, multipart or text bodies without a CORS preflight,
    // and only cookies are sent along by the browser. So the token is needed when a cookie
    // authenticates the request, or when the body is of a kind a page can forge.
    let forgeable = form
        || content_type.starts_with("multipart/form-data")
        || content_type.starts_with("text/plain")
        || content_type.is_empty();
    let needs_token = ctx.session_token.is_some() || forgeable;
    let mut req = req;
    if unsafe_method && !ctx.bearer && cross_site(&headers) {
        return Failure::csrf(lang, api).into_response();
    }
    if unsafe_method && !ctx.bearer && needs_token {
        let mut sent = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                req.uri().query().and_then(|q| {
                    q.split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .find(|(k, _)| *k == "csrf")
                        .map(|(_, v)| v.to_string())
                })
            });
        if form && sent.is_none() {
            let (parts, body) = req.into_parts();
            let bytes = match to_bytes(body, FORM_LIMIT).await {
                Ok(b) => b,
                Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response(),
            };
            sent = form_field(&bytes, "csrf");
            req = Request::from_parts(parts, Body::from(bytes));
        }
        // A request that brought no token cookie cannot echo one.
        let ok = match (fresh_csrf, sent, ctx.csrf.made()) {
            (false, Some(s), Some(c)) => !c.is_empty() && constant_time_eq(&s, c),
            _ => false,
        };
        if !ok {
            return Failure::csrf(lang, api).into_response();
        }
    }

    let csrf = ctx.csrf.clone();
    req.extensions_mut().insert(ctx);
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&rid) {
        h.insert("x-request-id", v);
    }
    if fresh_csrf && let Some(c) = csrf.made() {
        h.append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, c, None, st.config.cookies_secure()),
        );
    }
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

/// One field of an urlencoded form.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    s.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Security headers for every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Fixed-window sign-in limiter per client address.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginLimiter {
    /// Counts an attempt; false when the address is over `per_minute`.
    pub fn allow(&self, ip: IpAddr, per_minute: u32) -> bool {
        let mut w = self.windows.lock().expect("limiter lock is never poisoned");
        let now = Instant::now();
        if w.len() > 10_000 {
            w.retain(|_, (start, _)| now.duration_since(*start).as_secs() < 60);
        }
        let e = w.entry(ip).or_insert((now, 0));
        if now.duration_since(e.0).as_secs() >= 60 {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 <= per_minute
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use zizhi_app::AppError;
    use zizhi_domain::lang::{Lang, Text};

    use super::Ctx;

    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Log {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `Ctx::fail` logs for one error: the captured lines.
    fn logged(e: AppError) -> String {
        let log = Log::default();
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .finish();
        let ctx = Ctx::anonymous("req-1".into(), Lang::Zh, true);
        tracing::subscriber::with_default(subscriber, || ctx.fail(e));
        String::from_utf8(log.0.lock().unwrap().clone()).unwrap()
    }

    /// A refused request (4xx) is not logged; a server error is, with the request id, at
    /// error level (500) or at warning level (503: the database cannot take the work now).
    /// Before, a rate limit (429) and a file disposed of after its retention (410) were logged
    /// as internal errors.
    #[test]
    fn only_server_errors_are_logged_by_their_status() {
        for quiet in [
            AppError::TooFrequent(Text::new("每分钟最多 5 次", "at most 5 a minute")),
            AppError::Disposed,
            AppError::Busy,
            AppError::Forbidden,
            AppError::NotFound("case"),
            AppError::Unauthenticated,
            AppError::invalid("name", "不能为空", "must not be empty"),
        ] {
            let shown = quiet.to_string();
            assert_eq!(logged(quiet), "", "{shown} is a refusal, not logged");
        }
        let internal = logged(AppError::Internal("disk on fire".into()));
        assert!(
            internal.contains("ERROR") && internal.contains("internal error"),
            "{internal}"
        );
        assert!(
            internal.contains("req-1") && internal.contains("disk on fire"),
            "{internal}"
        );
        let busy = logged(AppError::Store(zizhi_store::StoreError::Sqlx(
            sqlx::Error::PoolTimedOut,
        )));
        assert!(
            busy.contains("WARN") && busy.contains("database unavailable (503)"),
            "{busy}"
        );
        assert!(!busy.contains("ERROR"), "{busy}");
    }
}
