//! The audit log and its chain check (administrators and supervisors).

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::Me;
use crate::http::i18n::Tr;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, fmt_time, render, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zizhi_app::Actor;
use zizhi_app::policy::Action;

pub struct EventRow {
    pub seq: i64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub action_label: String,
    pub object: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    events: Vec<EventRow>,
    older: Option<i64>,
}

#[derive(Deserialize)]
pub struct BeforeQuery {
    before: Option<i64>,
}

const AUDIT_PAGE: i64 = 100;

async fn audit_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    before: Option<i64>,
    flash: Option<(String, bool)>,
) -> Answer {
    let events = st.app.audit_log(a, before, AUDIT_PAGE).await.or_fail(ctx)?;
    let older = (events.len() as i64 == AUDIT_PAGE).then(|| events.last().map_or(0, |e| e.seq));
    let mut c = chrome(ctx, "/audit");
    if let Some((m, err)) = flash {
        c = with_flash(c, m, err);
    }
    let page = AuditPage {
        c,
        events: events
            .into_iter()
            .map(|e| EventRow {
                seq: e.seq,
                time: fmt_time(e.at_us, ctx.lang),
                actor: e.actor,
                action_label: crate::http::i18n::action_label(&e.action, ctx.lang),
                action: e.action,
                object: format!("{}:{}", e.object_type, e.object_id),
                summary: e.summary,
            })
            .collect(),
        older,
    };
    Ok(render(&page).into_response())
}

pub async fn audit_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Query(q): Query<BeforeQuery>,
) -> Response {
    audit_page_with(&st, &ctx, &a, q.before, None)
        .await
        .into_response()
}

pub async fn audit_verify(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let t = Tr { lang: ctx.lang };
    let v = st.app.verify_audit(Some(&a)).await.or_fail(&ctx)?;
    let flash = match v.first_break {
        None => (format!("{} {}", t.get("audit.ok"), v.events), false),
        Some((seq, why)) => (format!("{} {seq} — {why}", t.get("audit.broken")), true),
    };
    audit_page_with(&st, &ctx, &a, None, Some(flash)).await
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct EventJson {
    seq: i64,
    at_us: i64,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    summary: Value,
    prev_hash: String,
    hash: String,
}

pub async fn api_audit_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Query(q): Query<AuditQuery>,
) -> Answer {
    let events = st
        .app
        .audit_log(&a, q.before, q.limit.unwrap_or(100))
        .await
        .or_fail(&ctx)?;
    Ok(Json(json!({"events": events.into_iter().map(|e| EventJson {
            seq: e.seq, at_us: e.at_us, actor_id: e.actor_id, actor: e.actor, action: e.action,
            object_type: e.object_type, object_id: e.object_id,
            summary: serde_json::from_str(&e.summary).unwrap_or(Value::String(e.summary)),
            prev_hash: e.prev_hash, hash: e.hash,
        }).collect::<Vec<_>>()}))
    .into_response())
}

pub async fn api_audit_verify(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let v = st.app.verify_audit(Some(&a)).await.or_fail(&ctx)?;
    Ok(Json(json!({
        "events": v.events, "head": v.head, "intact": v.first_break.is_none(),
        "first_break": v.first_break.map(|(seq, reason)| json!({"seq": seq, "reason": reason})),
    }))
    .into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/audit",
                May(Action::ViewAuditLog),
                "审计日志",
                "Audit log",
            ),
            get(audit_page),
        ),
        (
            r(
                M::POST,
                "/audit/verify",
                May(Action::VerifyAuditChain),
                "校验审计哈希链",
                "Verify the audit chain",
            ),
            post(audit_verify),
        ),
        (
            r(
                M::GET,
                "/api/v1/audit",
                May(Action::ViewAuditLog),
                "审计事件（新的在前）",
                "Audit events, newest first",
            ),
            get(api_audit_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/audit/verify",
                May(Action::VerifyAuditChain),
                "校验审计哈希链",
                "Verify the audit chain",
            ),
            post(api_audit_verify),
        ),
    ]
}
