//! HTTP plumbing shared by every handler: the request context (session, CSRF, request id,
//! security headers), errors and answers, extractors, and the language of each request.

pub mod ctx;
pub mod error;
pub mod extract;
pub mod i18n;

/// A JSON answer written into a buffer of about `capacity` bytes from the start (issue 14):
/// axum's `Json` starts from 128 bytes and grows by doubling, which for a case's data (10 KB)
/// or a list page (20–60 KB) was 5 % of the request's CPU in copies and reallocations.
pub(crate) fn json_sized<T: serde::Serialize>(
    value: &T,
    capacity: usize,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => (
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        // As axum's `Json` answers a value that cannot be written (none of ours).
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
