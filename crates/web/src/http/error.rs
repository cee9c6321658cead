//! Errors as responses: JSON `{"error": {...}}` for the API, a page for browsers. 4xx name the
//! field; 5xx never show internals (they are logged).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use zizhi_app::AppError;
use zizhi_domain::lang::{Lang, Text};

use crate::http::i18n::{Tr, text};

#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<String>,
    pub message: Text,
    pub lang: Lang,
    pub api: bool,
}

fn t(key: &str) -> Text {
    let (zh, en) = text(key).unwrap_or(("", ""));
    Text::new(zh, en)
}

impl Failure {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: Text,
        lang: Lang,
        api: bool,
    ) -> Failure {
        Failure {
            status,
            code,
            field: None,
            message,
            lang,
            api,
        }
    }

    pub fn csrf(lang: Lang, api: bool) -> Failure {
        Failure::new(StatusCode::FORBIDDEN, "csrf", t("error.csrf"), lang, api)
    }

    pub fn not_found(lang: Lang, api: bool) -> Failure {
        Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            t("error.not_found"),
            lang,
            api,
        )
    }

    pub fn from_app(e: AppError, lang: Lang, api: bool) -> Failure {
        let f = |status, code, message| Failure::new(status, code, message, lang, api);
        match e {
            AppError::Unauthenticated => f(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                t("login.failed"),
            ),
            AppError::TotpRequired => f(
                StatusCode::UNAUTHORIZED,
                "totp_required",
                t("login.totp_required"),
            ),
            AppError::Busy => f(StatusCode::TOO_MANY_REQUESTS, "busy", t("login.busy")),
            AppError::TooFrequent(why) => f(StatusCode::TOO_MANY_REQUESTS, "rate_limited", why),
            AppError::Forbidden => f(StatusCode::FORBIDDEN, "forbidden", t("error.forbidden")),
            AppError::NotFound(_) => f(StatusCode::NOT_FOUND, "not_found", t("error.not_found")),
            AppError::Disposed => f(
                StatusCode::GONE,
                "disposed",
                Text::new(
                    "该文件已在档案保管期满后按规定销毁（指南 八）",
                    "this file was disposed of after its retention period (guide 8)",
                ),
            ),
            AppError::Invalid { field, problem } => Failure {
                field: Some(field),
                ..f(StatusCode::UNPROCESSABLE_ENTITY, "invalid", problem)
            },
            AppError::Conflict { field } => {
                let base = t("error.conflict");
                Failure {
                    message: Text::new(
                        format!("{}{field}", base.zh),
                        format!("{} {field}", base.en),
                    ),
                    field: Some(field),
                    ..f(StatusCode::CONFLICT, "conflict", Text::new("", ""))
                }
            }
            AppError::WrongStage { current } => f(
                StatusCode::CONFLICT,
                "wrong_stage",
                Text::new(
                    format!("案件当前处于“{}”阶段，不能进行此操作", current.zh),
                    format!("not possible while the case is in stage \"{}\"", current.en),
                ),
            ),
            // The database cannot take the work now (connections exhausted, starting up): try
            // again shortly — not an internal error of the request.
            AppError::Store(s) if s.is_unavailable() => f(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                t("error.unavailable"),
            ),
            _ => {
                // Logged with the request id by `Ctx::fail`.
                f(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    t("error.internal"),
                )
            }
        }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: Tr,
    status: u16,
    message: &'a str,
    field: Option<&'a str>,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut res = self.body();
        if matches!(
            self.status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ) {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        res
    }
}

impl Failure {
    fn body(&self) -> Response {
        if self.api {
            let body = json!({"error": {
                "code": self.code,
                "field": self.field,
                "message": self.message.get(self.lang),
                "message_zh": &self.message.zh,
                "message_en": &self.message.en,
            }});
            return (self.status, Json(body)).into_response();
        }
        let page = ErrorPage {
            t: Tr { lang: self.lang },
            status: self.status.as_u16(),
            message: self.message.get(self.lang),
            field: self.field.as_deref(),
        };
        match askama::Template::render(&page) {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message.get(self.lang).to_string()).into_response(),
        }
    }
}

/// What a handler answers: a response, or a structured failure (4xx/5xx).
pub type Answer = Result<Response, Failure>;

/// Turns a use case's result into the request's failure (its language and format).
pub trait OrFail<T> {
    fn or_fail(self, ctx: &crate::http::ctx::Ctx) -> Result<T, Failure>;
}

impl<T> OrFail<T> for zizhi_app::Result<T> {
    fn or_fail(self, ctx: &crate::http::ctx::Ctx) -> Result<T, Failure> {
        self.map_err(|e| ctx.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 9: a full hashing queue is 429 with `Retry-After`, before any hashing.
    #[test]
    fn busy_is_429_with_retry_after() {
        let r = Failure::from_app(AppError::Busy, Lang::Zh, true).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[axum::http::header::RETRY_AFTER], "5");
    }

    /// A database that cannot take the work now (no connection free in time) is 503 with
    /// `Retry-After` and a message in both languages, not an internal error; another database
    /// error stays 500.
    #[test]
    fn an_unavailable_database_is_503_with_retry_after() {
        use zizhi_store::StoreError;
        let busy = AppError::Store(StoreError::Sqlx(sqlx::Error::PoolTimedOut));
        let f = Failure::from_app(busy, Lang::Zh, true);
        assert_eq!(
            (f.status, f.code),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        );
        assert_eq!(f.message.zh, "系统繁忙，请稍后再试");
        assert!(f.message.en.contains("try again"));
        let r = f.into_response();
        assert_eq!(r.headers()[axum::http::header::RETRY_AFTER], "5");
        let broken = AppError::Store(StoreError::Sqlx(sqlx::Error::RowNotFound));
        let f = Failure::from_app(broken, Lang::Zh, true);
        assert_eq!(f.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
