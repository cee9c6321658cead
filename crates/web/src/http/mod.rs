//! HTTP plumbing shared by every handler: the request context (session, CSRF, request id,
//! security headers), errors and answers, extractors, and the language of each request.

pub mod ctx;
pub mod error;
pub mod extract;
pub mod i18n;
