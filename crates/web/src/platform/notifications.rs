//! 通知: the e-mails zizhi sent to the signed-in person, as its mailbox would show them —
//! the same subject and text, the attachments' names, whether it has gone out yet.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::Me;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, fmt_time, render};
use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};

struct NoteView {
    id: i64,
    at: String,
    subject: String,
    body: String,
    /// 已发送 / 待发送 / 发送失败
    status: String,
    status_class: &'static str,
    attachments: Vec<String>,
    /// The case it is about (the link every case mail ends with), for a link here.
    case_href: Option<String>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    c: Chrome,
    notes: Vec<NoteView>,
}

/// `/cases/{id}` named in the body's last link, if any.
fn case_link(body: &str) -> Option<String> {
    let at = body.rfind("/cases/")?;
    let digits: String = body[at + 7..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("/cases/{digits}"))
}

pub async fn notifications_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let lang = ctx.lang;
    let notes = st
        .app
        .notifications(&a)
        .await
        .or_fail(&ctx)?
        .into_iter()
        .map(|m| {
            let (status, status_class) = match m.status.as_str() {
                "sent" => (lang.pick("已发送", "sent"), "ok"),
                "failed" => (lang.pick("发送失败", "failed"), "bad"),
                _ => (lang.pick("待发送", "queued"), "warn"),
            };
            let attachments = serde_json::from_str::<Vec<serde_json::Value>>(&m.attachments)
                .unwrap_or_default()
                .iter()
                .filter_map(|x| x["name"].as_str().map(str::to_string))
                .collect();
            NoteView {
                id: m.id,
                at: fmt_time(m.created_us, lang),
                case_href: case_link(&m.body),
                subject: m.subject,
                body: m.body,
                status: status.to_string(),
                status_class,
                attachments,
            }
        })
        .collect();
    let page = NotificationsPage {
        c: chrome(&ctx, "/notifications"),
        notes,
    };
    Ok(render(&page).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    vec![(
        r(
            Method::GET,
            "/notifications",
            Access::Authenticated,
            "通知：发给本人的全部邮件",
            "Notifications: every e-mail sent to me",
        ),
        get(notifications_page),
    )]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_case_is_found_from_the_mails_link() {
        assert_eq!(
            super::case_link("…\n查看 / View: https://zz.example/cases/42\n").as_deref(),
            Some("/cases/42")
        );
        assert_eq!(super::case_link("no link"), None);
    }
}
