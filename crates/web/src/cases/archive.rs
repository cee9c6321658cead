//! The project archive (档案, guide 八; issue 12): a case's archive record and holds
//! (`/cases/{id}/archive`), the files due for disposal and the disposals (`/archive`). JSON at
//! `/api/v1/cases/{id}/archive`, `/api/v1/archive/due` and `/api/v1/disposals`; the rules live
//! in `zizhi_app::archive`.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::Actor;
use zizhi_app::archive::{ArchiveView, DueCase};
use zizhi_domain::lang::{Lang, date_str_text};
use zizhi_domain::roles::Role;
use zizhi_store::archive::Disposal;

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render, with_flash};

fn view_json(case_id: i64, v: &ArchiveView) -> serde_json::Value {
    json!({
        "case_id": case_id,
        "archived_on": v.record.as_ref().map(|r| r.archived_on.clone()),
        "retain_until": v.record.as_ref().map(|r| r.retain_until.clone()),
        "disposed_on": v.record.as_ref().and_then(|r| r.disposed_on.clone()),
        "on_hold": !v.held_because.is_empty(),
        "held_because": v.held_because.iter().map(|t| json!({"zh": t.zh, "en": t.en})).collect::<Vec<_>>(),
        "holds": v.holds.iter().map(|h| json!({
            "id": h.id, "reason": h.reason, "placed_by": h.placed_by, "placed_on": h.placed_on,
            "released_on": h.released_on, "release_note": h.release_note,
        })).collect::<Vec<_>>(),
    })
}

fn due_json(d: &DueCase) -> serde_json::Value {
    json!({
        "case_id": d.due.case_id, "number": d.number, "holder": d.due.holder,
        "archived_on": d.due.archived_on, "retain_until": d.due.retain_until,
        "on_hold": !d.held_because.is_empty(),
        "held_because": d.held_because.iter().map(|t| json!({"zh": t.zh, "en": t.en})).collect::<Vec<_>>(),
    })
}

fn disposal_json(d: &Disposal) -> serde_json::Value {
    json!({
        "id": d.id, "state": d.state,
        "case_ids": serde_json::from_str::<serde_json::Value>(&d.case_ids).unwrap_or_default(),
        "proposed_by": d.proposed_by, "proposed_on": d.proposed_on,
        "decided_by": d.decided_by, "decided_on": d.decided_on, "note": d.note,
        "destroyed": serde_json::from_str::<serde_json::Value>(&d.destroyed).unwrap_or_default(),
    })
}

// ---- JSON ----

pub async fn api_case(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let v = st.app.archive_of(&a, id).await.or_fail(&ctx)?;
    Ok(Json(view_json(id, &v)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HoldBody {
    reason: String,
}

pub async fn api_hold(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<HoldBody>,
) -> Answer {
    st.app.place_hold(&a, id, &b.reason).await.or_fail(&ctx)?;
    let v = st.app.archive_of(&a, id).await.or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(view_json(id, &v))).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReleaseBody {
    note: String,
}

pub async fn api_release(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ReleaseBody>,
) -> Answer {
    let h = st.app.release_hold(&a, id, &b.note).await.or_fail(&ctx)?;
    let v = st.app.archive_of(&a, h.case_id).await.or_fail(&ctx)?;
    Ok(Json(view_json(h.case_id, &v)).into_response())
}

pub async fn api_due(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let list = st.app.disposal_due(&a).await.or_fail(&ctx)?;
    Ok(Json(json!({"items": list.iter().map(due_json).collect::<Vec<_>>()})).into_response())
}

pub async fn api_disposals(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let list = st.app.disposals(&a).await.or_fail(&ctx)?;
    Ok(Json(json!({"items": list.iter().map(disposal_json).collect::<Vec<_>>()})).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProposalBody {
    case_ids: Vec<i64>,
}

pub async fn api_propose(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<ProposalBody>,
) -> Answer {
    let d = st
        .app
        .propose_disposal(&a, &b.case_ids)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(disposal_json(&d))).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionBody {
    approve: bool,
    note: String,
}

pub async fn api_decide(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Answer {
    let d = st
        .app
        .decide_disposal(&a, id, b.approve, &b.note)
        .await
        .or_fail(&ctx)?;
    Ok(Json(disposal_json(&d)).into_response())
}

/// `GET /cases/{id}/archive.bag.zip`: the case's archival package (staff).
pub async fn bag_download(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let (name, path) = st.app.case_bag_zip(&a, id).await.or_fail(&ctx)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ctx.fail(zizhi_app::AppError::Internal(format!("bag: {e}"))))?;
    // Unlinked now; the open file stays readable until the answer is sent.
    let _ = tokio::fs::remove_file(&path).await;
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 1 << 20];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let mut res = axum::response::Response::new(axum::body::Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

// ---- pages ----

pub struct HoldRow {
    pub id: i64,
    pub reason: String,
    pub placed_on: String,
    pub released: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "case_archive.html")]
struct CasePage {
    c: Chrome,
    id: i64,
    number: String,
    archived_on: String,
    retain_until: String,
    disposed_on: String,
    held_because: Vec<String>,
    holds: Vec<HoldRow>,
    may_hold: bool,
}

async fn case_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    flash: Option<(String, StatusCode)>,
) -> Answer {
    let v = st.app.archive_of(a, id).await.or_fail(ctx)?;
    let d = st.app.case(a, id).await.or_fail(ctx)?;
    let lang = ctx.lang;
    let day = |s: &str| date_str_text(s, lang);
    let page = CasePage {
        c: chrome(ctx, &format!("/cases/{id}/archive")),
        id,
        number: zizhi_app::cases::case_number(&d.case),
        archived_on: v
            .record
            .as_ref()
            .map(|r| day(&r.archived_on))
            .unwrap_or_default(),
        retain_until: v
            .record
            .as_ref()
            .map(|r| day(&r.retain_until))
            .unwrap_or_default(),
        disposed_on: v
            .record
            .as_ref()
            .and_then(|r| r.disposed_on.as_deref())
            .map(day)
            .unwrap_or_default(),
        held_because: v
            .held_because
            .iter()
            .map(|t| t.get(lang).to_string())
            .collect(),
        holds: v
            .holds
            .iter()
            .map(|h| HoldRow {
                id: h.id,
                reason: h.reason.clone(),
                placed_on: day(&h.placed_on),
                released: h
                    .released_on
                    .as_deref()
                    .map(|d| format!("{} {}", day(d), h.release_note))
                    .unwrap_or_default(),
                open: h.released_on.is_none(),
            })
            .collect(),
        may_hold: a.role == Role::Supervisor,
    };
    let (c, status) = match flash {
        Some((m, status)) => (with_flash(page.c, m, true), status),
        None => (page.c, StatusCode::OK),
    };
    let page = CasePage { c, ..page };
    Ok((status, render(&page)).into_response())
}

pub async fn case_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    case_page_with(&st, &ctx, &a, id, None).await
}

async fn after_case<T>(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    r: zizhi_app::Result<T>,
) -> Answer {
    crate::views::redirect_or_again(ctx, r, &format!("/cases/{id}/archive"), |flash| {
        case_page_with(st, ctx, a, id, Some(flash))
    })
    .await
}

#[derive(Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    reason: String,
}

pub async fn hold_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<HoldForm>,
) -> Answer {
    let r = st.app.place_hold(&a, id, &f.reason).await;
    after_case(&st, &ctx, &a, id, r).await
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    #[serde(default)]
    note: String,
}

pub async fn release_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path((id, hold)): Path<(i64, i64)>,
    Form(f): Form<ReleaseForm>,
) -> Answer {
    let r = st.app.release_hold(&a, hold, &f.note).await;
    after_case(&st, &ctx, &a, id, r).await
}

pub struct DueRow {
    pub case_id: i64,
    pub number: String,
    pub holder: String,
    pub archived_on: String,
    pub retain_until: String,
    pub held: String,
}

pub struct DisposalRow {
    pub id: i64,
    pub state: String,
    pub cases: String,
    pub proposed_on: String,
    pub decided: String,
    pub destroyed: usize,
    pub kept: usize,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "archive.html")]
struct ArchivePage {
    c: Chrome,
    due: Vec<DueRow>,
    disposals: Vec<DisposalRow>,
    may_propose: bool,
    may_decide: bool,
    years: u32,
}

fn disposal_row(d: &Disposal, lang: Lang) -> DisposalRow {
    let objects: Vec<serde_json::Value> =
        serde_json::from_str::<Vec<serde_json::Value>>(&d.destroyed)
            .unwrap_or_default()
            .iter()
            .flat_map(|c| c["objects"].as_array().cloned().unwrap_or_default())
            .collect();
    let destroyed = objects.iter().filter(|o| o["destroyed"] == true).count();
    DisposalRow {
        id: d.id,
        state: match d.state.as_str() {
            "proposed" => lang.pick("待审批", "Awaiting approval"),
            "declined" => lang.pick("未予批准", "Declined"),
            _ => lang.pick("已销毁", "Carried out"),
        }
        .into(),
        cases: serde_json::from_str::<Vec<i64>>(&d.case_ids)
            .unwrap_or_default()
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        proposed_on: date_str_text(&d.proposed_on, lang),
        decided: d
            .decided_on
            .as_deref()
            .map(|x| format!("{} {}", date_str_text(x, lang), d.note))
            .unwrap_or_default(),
        destroyed,
        kept: objects.len() - destroyed,
        open: d.state == "proposed",
    }
}

async fn archive_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, StatusCode)>,
) -> Answer {
    let lang = ctx.lang;
    let due = st.app.disposal_due(a).await.or_fail(ctx)?;
    let disposals = st.app.disposals(a).await.or_fail(ctx)?;
    let page = ArchivePage {
        c: chrome(ctx, "/archive"),
        due: due
            .iter()
            .map(|d| DueRow {
                case_id: d.due.case_id,
                number: d.number.clone(),
                holder: d.due.holder.clone(),
                archived_on: date_str_text(&d.due.archived_on, lang),
                retain_until: date_str_text(&d.due.retain_until, lang),
                held: d
                    .held_because
                    .iter()
                    .map(|t| t.get(lang).to_string())
                    .collect::<Vec<_>>()
                    .join("；"),
            })
            .collect(),
        disposals: disposals.iter().map(|d| disposal_row(d, lang)).collect(),
        may_propose: a.role == Role::Supervisor,
        may_decide: a.role == Role::Approver,
        years: st.app.config.retention_years,
    };
    let (c, status) = match flash {
        Some((m, status)) => (with_flash(page.c, m, true), status),
        None => (page.c, StatusCode::OK),
    };
    let page = ArchivePage { c, ..page };
    Ok((status, render(&page)).into_response())
}

pub async fn archive_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    archive_page_with(&st, &ctx, &a, None).await
}

async fn after_archive<T>(st: &AppState, ctx: &Ctx, a: &Actor, r: zizhi_app::Result<T>) -> Answer {
    crate::views::redirect_or_again(ctx, r, "/archive", |flash| {
        archive_page_with(st, ctx, a, Some(flash))
    })
    .await
}

/// The supervisor's list: one `case` checkbox per due file.
pub async fn propose_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Answer {
    let ids = crate::cases::form_ids(&pairs, "case");
    let r = st.app.propose_disposal(&a, &ids).await;
    after_archive(&st, &ctx, &a, r).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

pub async fn decide_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Answer {
    let r = st
        .app
        .decide_disposal(&a, id, f.decision == "approve", &f.note)
        .await;
    after_archive(&st, &ctx, &a, r).await
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/archive",
                Authenticated,
                "档案：到期待销毁的档案与销毁清单（监督部门、审批人）",
                "The archive: files due for disposal and the disposals (supervision department, approvers)",
            ),
            get(archive_page),
        ),
        (
            r(
                M::POST,
                "/archive/disposals",
                Authenticated,
                "提出销毁清单（监督部门，表单）",
                "List due files for disposal (supervision department, form)",
            ),
            post(propose_form),
        ),
        (
            r(
                M::POST,
                "/archive/disposals/{id}/decision",
                Authenticated,
                "审批销毁清单（审批人，表单）",
                "Approve or decline a disposal (approver, form)",
            ),
            post(decide_form),
        ),
        (
            r(
                M::GET,
                "/cases/{id}/archive",
                Authenticated,
                "案件档案：归档日期、保管期限与保全（工作人员）",
                "A case's archive record, retention and holds (staff)",
            ),
            get(case_page),
        ),
        (
            r(
                M::GET,
                "/cases/{id}/archive.bag.zip",
                Authenticated,
                "下载案件档案包（BagIt 1.0，zip；工作人员）",
                "Download the case's archival package (BagIt 1.0, zip; staff)",
            ),
            get(bag_download),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/holds",
                Authenticated,
                "对案件档案采取保全（监督部门，表单）",
                "Place a hold on a case's file (supervision department, form)",
            ),
            post(hold_form),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/holds/{hold}/release",
                Authenticated,
                "解除保全（监督部门，表单）",
                "Release a hold (supervision department, form)",
            ),
            post(release_form),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/archive",
                Authenticated,
                "案件档案：归档日期、保管期限、保全（工作人员）",
                "A case's archive record, retention and holds (staff)",
            ),
            get(api_case),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/holds",
                Authenticated,
                "对案件档案采取保全，须写明理由（监督部门）",
                "Place a hold on a case's file, with the reason (supervision department)",
            ),
            post(api_hold),
        ),
        (
            r(
                M::POST,
                "/api/v1/holds/{id}/release",
                Authenticated,
                "解除保全，须写明理由（监督部门）",
                "Release a hold, with the reason (supervision department)",
            ),
            post(api_release),
        ),
        (
            r(
                M::GET,
                "/api/v1/archive/due",
                Authenticated,
                "保管期满、可销毁的档案（监督部门、审批人）",
                "Files past retention (supervision department, approvers)",
            ),
            get(api_due),
        ),
        (
            r(
                M::GET,
                "/api/v1/disposals",
                Authenticated,
                "销毁清单（监督部门、审批人）",
                "Disposals (supervision department, approvers)",
            ),
            get(api_disposals),
        ),
        (
            r(
                M::POST,
                "/api/v1/disposals",
                Authenticated,
                "提出销毁清单（监督部门）",
                "List due files for disposal (supervision department)",
            ),
            post(api_propose),
        ),
        (
            r(
                M::POST,
                "/api/v1/disposals/{id}/decision",
                Authenticated,
                "审批销毁清单：批准即销毁（审批人，非提出人）",
                "Approve (the files are destroyed) or decline a disposal (approver, not the proposer)",
            ),
            post(api_decide),
        ),
    ]
}
