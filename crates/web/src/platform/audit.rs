//! The audit log and its chain check (administrators and supervisors).

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Me, QueryOf};
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
    /// "2026-11-24 10:42 张三 予以受理 ZZ-2026-00003"
    pub sentence: String,
    pub action: String,
    pub summary: String,
    /// A link to what it was about, where there is a page for it.
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    events: Vec<EventRow>,
    older: Option<i64>,
    q: AuditForm,
    /// The filters' query string (paging back, export).
    query: String,
    error: Option<(String, String)>,
    /// The kinds of action to filter by: (prefix, name).
    kinds: Vec<(&'static str, &'static str)>,
}

/// The audit page's filters as typed.
#[derive(Deserialize, Default, Clone)]
pub struct AuditForm {
    #[serde(default)]
    case: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: String,
}

impl AuditForm {
    fn query(&self) -> zizhi_app::AuditQuery {
        let o = |s: &str| Some(s.trim().to_string()).filter(|x| !x.is_empty());
        zizhi_app::AuditQuery {
            case: o(&self.case),
            user: o(&self.user),
            action: o(&self.action),
            from: o(&self.from),
            to: o(&self.to),
        }
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                [
                    ("case", &self.case),
                    ("user", &self.user),
                    ("action", &self.action),
                    ("from", &self.from),
                    ("to", &self.to),
                ]
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty()),
            )
            .finish()
    }
}

const AUDIT_PAGE: i64 = 100;

/// The kinds of action (the prefix before the dot) offered as a filter.
fn kinds(lang: zizhi_domain::lang::Lang) -> Vec<(&'static str, &'static str)> {
    [
        ("case.", "案件办理", "Cases"),
        ("evidence.", "证据", "Evidence"),
        ("batch.", "证书批次", "Batches"),
        ("certificate.", "证书", "Certificates"),
        ("announcement.", "公告", "Announcements"),
        ("sanction.", "处置", "Sanctions"),
        ("appeal.", "申诉", "Appeals"),
        ("complaint.", "投诉", "Complaints"),
        ("archive.", "档案", "Archive"),
        ("letter.", "文书", "Letters"),
        ("user.", "用户与登录", "Users and sign-in"),
        ("organization.", "申请单位", "Organisations"),
        ("mail.", "邮件", "E-mail"),
    ]
    .into_iter()
    .map(|(k, zh, en)| (k, lang.pick(zh, en)))
    .collect()
}

/// One event as a sentence: when, who, what, about what.
fn sentence_of(
    e: &zizhi_store::audit::Event,
    page: &AuditPageData,
    lang: zizhi_domain::lang::Lang,
) -> (String, Option<String>) {
    let when = chrono::DateTime::from_timestamp_micros(e.at_us)
        .unwrap_or_default()
        .with_timezone(&zizhi_domain::period::china_standard_time())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let who = e
        .actor_id
        .and_then(|id| page.names.get(&id).cloned())
        .unwrap_or_else(|| match e.actor.as_str() {
            "system" => lang.pick("系统", "the system").to_string(),
            other => other.to_string(),
        });
    let what = crate::http::i18n::action_label(&e.action, lang);
    let (about, href) = match e.object_type.as_str() {
        "case" => {
            let id = e.object_id.parse::<i64>().ok();
            (
                id.and_then(|i| page.cases.get(&i).cloned())
                    .unwrap_or_else(|| format!("#{}", e.object_id)),
                id.map(|i| format!("/cases/{i}")),
            )
        }
        "user" => (
            e.object_id
                .parse::<i64>()
                .ok()
                .and_then(|i| page.names.get(&i).cloned())
                .unwrap_or_else(|| format!("{} #{}", lang.pick("用户", "user"), e.object_id)),
            None,
        ),
        "evidence" => (
            format!("{} #{}", lang.pick("证据", "evidence"), e.object_id),
            Some(format!("/evidence/{}", e.object_id)),
        ),
        "sanction" => (
            format!("{} #{}", lang.pick("处置", "sanction"), e.object_id),
            Some(format!("/sanctions/{}", e.object_id)),
        ),
        "appeal" => (
            format!("{} #{}", lang.pick("申诉", "appeal"), e.object_id),
            Some(format!("/appeals/{}", e.object_id)),
        ),
        "organization" => (
            format!("{} #{}", lang.pick("申请单位", "organisation"), e.object_id),
            Some(format!("/organizations/{}", e.object_id)),
        ),
        "certificate" => (e.object_id.clone(), None),
        other => (format!("{other} #{}", e.object_id), None),
    };
    (format!("{when} {who} {what} {about}"), href)
}

type AuditPageData = zizhi_app::AuditPage;

async fn audit_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    f: &AuditForm,
    flash: Option<(String, bool)>,
) -> Answer {
    let before = f.before.trim().parse::<i64>().ok();
    let mut c = chrome(ctx, "/audit");
    if let Some((m, err)) = flash {
        c = with_flash(c, m, err);
    }
    let mut status = axum::http::StatusCode::OK;
    let mut error = None;
    let data = match st.app.audit_search(a, &f.query(), before, AUDIT_PAGE).await {
        Ok(d) => d,
        Err(e) => {
            let fail = ctx.fail(e);
            if fail.status.is_server_error() || fail.status == axum::http::StatusCode::FORBIDDEN {
                return Err(fail);
            }
            status = fail.status;
            error = Some((
                fail.field.clone().unwrap_or_default(),
                fail.message.get(ctx.lang).to_string(),
            ));
            zizhi_app::AuditPage {
                events: Vec::new(),
                cases: Default::default(),
                names: Default::default(),
            }
        }
    };
    let older =
        (data.events.len() as i64 == AUDIT_PAGE).then(|| data.events.last().map_or(0, |e| e.seq));
    let events = data
        .events
        .iter()
        .map(|e| {
            let (sentence, href) = sentence_of(e, &data, ctx.lang);
            EventRow {
                seq: e.seq,
                time: fmt_time(e.at_us, ctx.lang),
                sentence,
                action: e.action.clone(),
                summary: e.summary.clone(),
                href,
            }
        })
        .collect();
    let page = AuditPage {
        c,
        events,
        older,
        query: f.query_string(),
        q: f.clone(),
        error,
        kinds: kinds(ctx.lang),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn audit_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    QueryOf(f): QueryOf<AuditForm>,
) -> Response {
    audit_page_with(&st, &ctx, &a, &f, None)
        .await
        .into_response()
}

/// `GET /audit.xlsx`: the events the filters select (up to 10 000), one sentence each, with
/// the action code, the summary and the chain hash.
pub async fn audit_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    QueryOf(f): QueryOf<AuditForm>,
) -> Answer {
    let data = st
        .app
        .audit_search(&a, &f.query(), None, 10_000)
        .await
        .or_fail(&ctx)?;
    let lang = ctx.lang;
    let rows: Vec<Vec<String>> = data
        .events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                sentence_of(e, &data, lang).0,
                e.action.clone(),
                e.summary.clone(),
                e.hash.clone(),
            ]
        })
        .collect();
    let header = [
        lang.pick("序号", "Seq"),
        lang.pick("事件", "Event"),
        lang.pick("操作代码", "Action code"),
        lang.pick("摘要", "Summary"),
        lang.pick("哈希（SM3）", "Hash (SM3)"),
    ];
    let bytes = zizhi_app::documents::list_xlsx(
        lang.pick("审计日志", "Audit log"),
        lang.pick("审计日志", "Audit log"),
        &header,
        &rows,
    )
    .or_fail(&ctx)?;
    Ok(crate::views::xlsx_response("audit.xlsx", bytes))
}

pub async fn audit_verify(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let t = Tr { lang: ctx.lang };
    let v = st.app.verify_audit(Some(&a)).await.or_fail(&ctx)?;
    let flash = match v.first_break {
        None => (format!("{} {}", t.get("audit.ok"), v.events), false),
        Some((seq, why)) => (format!("{} {seq} — {why}", t.get("audit.broken")), true),
    };
    audit_page_with(&st, &ctx, &a, &AuditForm::default(), Some(flash)).await
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
                M::GET,
                "/audit.xlsx",
                May(Action::ViewAuditLog),
                "审计日志导出为 Excel（按所选筛选条件）",
                "The audit log as Excel (with the filters chosen)",
            ),
            get(audit_xlsx),
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
