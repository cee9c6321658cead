//! Extractors whose rejections are structured errors naming the field.

use std::net::{IpAddr, SocketAddr};

use axum::body::to_bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use zizhi_domain::lang::{Lang, Text};

use crate::http::ctx::{Ctx, FORM_LIMIT};
use crate::http::error::Failure;

fn ctx_of(ext: &axum::http::Extensions) -> (Lang, bool) {
    ext.get::<Ctx>()
        .map_or((Lang::Zh, false), |c| (c.lang, c.api))
}

/// Turns a serde message and path into a field error.
fn shape_error(path: String, msg: String, lang: Lang, api: bool) -> Failure {
    let quoted = msg.split('`').nth(1).map(str::to_string);
    let field = match quoted {
        Some(q) if msg.starts_with("missing field") || msg.starts_with("unknown field") => {
            if path.is_empty() || path == "." {
                q
            } else if path == q || path.ends_with(&format!(".{q}")) {
                path
            } else {
                format!("{path}.{q}")
            }
        }
        _ => path,
    };
    let (zh, en) = plain_problem(&msg);
    // The field by its label where it is one of the application's facts, else its name.
    let name = {
        let path = field.strip_prefix("profile.").unwrap_or(&field);
        zizhi_domain::profile::MANDATORY_FIELDS
            .iter()
            .find(|m| m.path == path)
            .map_or((field.clone(), field.clone()), |m| {
                (m.label.0.to_string(), m.label.1.to_string())
            })
    };
    Failure {
        field: Some(field.clone()),
        ..Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Text::new(format!("“{}”{zh}", name.0), format!("{}: {en}", name.1)),
            lang,
            api,
        )
    }
}

/// A deserializer's complaint in plain words (never serde's or the parser's own text, which
/// speaks of `i64` and "invalid digit found in string").
fn plain_problem(msg: &str) -> (&'static str, &'static str) {
    let m = msg.to_ascii_lowercase();
    if m.starts_with("missing field") {
        ("为必填项，请填写", "is required")
    } else if m.starts_with("unknown field") {
        ("不是可以接受的字段", "is not a field this form accepts")
    } else if m.contains("invalid digit")
        || m.contains("cannot parse integer")
        || m.contains("number too large")
        || m.contains("number too small")
        || m.contains("expected i64")
        || m.contains("expected i32")
        || m.contains("expected u32")
        || m.contains("expected u64")
        || m.contains("expected usize")
        || m.contains("expected u8")
        || m.contains("expected u16")
    {
        (
            "应为整数（只含数字）",
            "must be a whole number (digits only)",
        )
    } else if m.contains("expected f64") || m.contains("invalid float") {
        ("应为数字", "must be a number")
    } else if m.contains("expected a boolean") || m.contains("provided string was not `true`") {
        (
            "应为“是”或“否”（true / false）",
            "must be yes or no (true / false)",
        )
    } else if m.contains("expected a string") {
        ("应为文字", "must be text")
    } else if m.contains("expected a sequence") {
        ("应为列表", "must be a list")
    } else if m.contains("expected a map") || m.contains("expected struct") {
        ("应为对象", "must be an object")
    } else if m.contains("unknown variant") {
        ("不是可选的取值之一", "is not one of the values allowed")
    } else if m.contains("eof while parsing")
        || m.contains("expected value")
        || m.contains("trailing")
    {
        (
            "格式不正确（不是完整的 JSON）",
            "is not well-formed (incomplete JSON)",
        )
    } else {
        ("格式不正确", "is not in the expected form")
    }
}

/// The refusal of text holding a NUL character: no field may carry one (PostgreSQL cannot store
/// it, and no person types it).
fn nul_failure(field: String, lang: Lang, api: bool) -> Failure {
    Failure {
        field: Some(field),
        ..Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Text::new("不能包含空字符（NUL）", "must not contain a NUL character"),
            lang,
            api,
        )
    }
}

/// The first form field (name or value) holding a NUL character.
fn nul_in_form(bytes: &[u8]) -> Option<String> {
    form_urlencoded::parse(bytes)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', "").to_string())
}

/// The path (`a.b[0]`) of the first JSON string or key holding a NUL character. Only JSON text
/// with an escaped NUL (`\u0000`) is parsed a second time to find it.
fn nul_in_json(bytes: &[u8]) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        match v {
            serde_json::Value::String(s) => s.contains('\0').then(|| path.to_string()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(m) => m.iter().find_map(|(k, x)| {
                let p = if path.is_empty() {
                    k.replace('\0', "")
                } else {
                    format!("{path}.{}", k.replace('\0', ""))
                };
                if k.contains('\0') {
                    Some(p)
                } else {
                    walk(x, &p)
                }
            }),
            _ => None,
        }
    }
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    walk(&v, "").map(|p| if p.is_empty() { "body".into() } else { p })
}

/// A path parameter (`/cases/{id}`): a value that does not parse is a 404 in the request's
/// format (JSON for the API), not axum's plain-text rejection — no such case can exist.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let (lang, api) = ctx_of(&parts.extensions);
        // A NUL character can name nothing that exists.
        let nul = parts.uri.path().contains("%00");
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) if !nul => Ok(Path(v)),
            _ => Err(Failure::from_app(
                zizhi_app::AppError::NotFound("path"),
                lang,
                api,
            )),
        }
    }
}

/// An urlencoded form.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, _: &S) -> Result<Self, Failure> {
        let (lang, api) = ctx_of(req.extensions());
        let bytes = to_bytes(req.into_body(), FORM_LIMIT).await.map_err(|_| {
            Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                Text::new("表单过大", "form too large"),
                lang,
                api,
            )
        })?;
        if let Some(field) = nul_in_form(&bytes) {
            return Err(nul_failure(field, lang, api));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        serde_path_to_error::deserialize(de)
            .map(Form)
            .map_err(|e| shape_error(e.path().to_string(), e.inner().to_string(), lang, api))
    }
}

/// A JSON body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, _: &S) -> Result<Self, Failure> {
        let (lang, api) = ctx_of(req.extensions());
        let bytes = to_bytes(req.into_body(), FORM_LIMIT).await.map_err(|_| {
            Failure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                Text::new("请求体过大", "body too large"),
                lang,
                api,
            )
        })?;
        if let Some(field) = nul_in_json(&bytes) {
            return Err(nul_failure(field, lang, api));
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(JsonBody)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    Failure::new(
                        StatusCode::BAD_REQUEST,
                        "malformed_json",
                        Text::new(
                            format!("JSON 格式错误：{inner}"),
                            format!("malformed JSON: {inner}"),
                        ),
                        lang,
                        api,
                    )
                } else {
                    shape_error(path, inner.to_string(), lang, api)
                }
            })
    }
}

/// The client's address, when the server was started with connect info.
pub struct ClientIp(pub Option<IpAddr>);

/// The client's address: the connection's peer, unless the peer is a trusted proxy
/// (`trusted_proxies`); then `X-Forwarded-For` is read from the right, skipping trusted
/// proxies, and the first other address is the client. Without trusted proxies the header is
/// ignored, since any client can send it.
pub(crate) fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted: &[crate::config::Cidr],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // An unreadable entry: stop at the last address known.
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

impl FromRequestParts<crate::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Ok(ClientIp(client_ip(
            peer,
            &forwarded,
            &st.config.trusted_proxies,
        )))
    }
}

/// The request context (inserted by the context middleware).
impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| {
            Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                Text::new("缺少请求上下文", "missing request context"),
                Lang::Zh,
                false,
            )
        })
    }
}

/// A query string, with field-naming errors (`?page=x` → 422 naming `page`).
pub struct QueryOf<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryOf<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        let (lang, api) = ctx_of(&parts.extensions);
        let q = parts.uri.query().unwrap_or("");
        if let Some(field) = nul_in_form(q.as_bytes()) {
            return Err(nul_failure(field, lang, api));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryOf)
            .map_err(|e| shape_error(e.path().to_string(), e.inner().to_string(), lang, api))
    }
}

/// The signed-in actor of a page or API handler. Every route that takes it is guarded as
/// `Authenticated` (or `May(…)`), so the guard has already sent anyone else to sign in; the
/// rejection is only the guard's own answer again.
pub struct Me(pub zizhi_app::Actor);

impl<S: Send + Sync> FromRequestParts<S> for Me {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        let (lang, api) = ctx_of(&parts.extensions);
        parts
            .extensions
            .get::<Ctx>()
            .and_then(|c| c.actor.clone())
            .map(Me)
            .ok_or_else(|| Failure::from_app(zizhi_app::AppError::Unauthenticated, lang, api))
    }
}

#[cfg(test)]
mod client_ip_tests {
    use super::client_ip;
    use crate::config::Cidr;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let ip = |s: &str| Some(s.parse().unwrap());
        let proxy = [Cidr::parse("10.0.0.0/8").unwrap()];
        // No trusted proxies: the header is ignored.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &["1.2.3.4"], &[]),
            ip("203.0.113.9")
        );
        // A client that is not a trusted proxy cannot choose its address.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &["1.2.3.4"], &proxy),
            ip("203.0.113.9")
        );
        // Behind the proxy: the right-most address that is not a trusted proxy.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["6.6.6.6, 198.51.100.7, 10.0.0.5"], &proxy),
            ip("198.51.100.7"),
            "a forged left-most entry is not believed"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["6.6.6.6", "198.51.100.7"], &proxy),
            ip("198.51.100.7"),
            "several headers read as one list"
        );
        assert_eq!(client_ip(ip("10.0.0.2"), &[], &proxy), ip("10.0.0.2"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &["garbage"], &proxy),
            ip("10.0.0.2")
        );
        assert_eq!(client_ip(None, &["1.2.3.4"], &proxy), None);
    }
}

#[cfg(test)]
mod nul_tests {
    use super::{nul_in_form, nul_in_json};

    #[test]
    fn a_nul_character_is_found_and_named() {
        assert_eq!(
            nul_in_json(br#"{"label": "S\u0000x"}"#).as_deref(),
            Some("label")
        );
        assert_eq!(
            nul_in_json(br#"{"a": {"b": ["ok", "x\u0000"]}}"#).as_deref(),
            Some("a.b[1]")
        );
        assert_eq!(
            nul_in_json(br#"{"label": "S\\u0000x"}"#),
            None,
            "an escaped backslash"
        );
        assert_eq!(nul_in_json(br#"{"label": "fine"}"#), None);
        assert_eq!(nul_in_form(b"label=a%00b&days=3").as_deref(), Some("label"));
        assert_eq!(nul_in_form(b"label=ab&days=3"), None);
    }
}

#[cfg(test)]
mod plain_tests {
    use super::plain_problem;

    /// serde's and the parsers' texts never reach people: each becomes plain words.
    #[test]
    fn deserializer_texts_become_plain_words() {
        for (raw, zh) in [
            ("missing field `as_of`", "为必填项，请填写"),
            ("invalid digit found in string", "应为整数（只含数字）"),
            (
                "invalid type: string \"x\", expected i64",
                "应为整数（只含数字）",
            ),
            ("invalid type: integer `1`, expected a string", "应为文字"),
            (
                "unknown variant `x`, expected one of `a`, `b`",
                "不是可选的取值之一",
            ),
            ("EOF while parsing a value", "格式不正确（不是完整的 JSON）"),
            ("something else entirely", "格式不正确"),
        ] {
            assert_eq!(plain_problem(raw).0, zh, "{raw}");
            assert!(!plain_problem(raw).1.contains('`'), "{raw}");
        }
    }
}
