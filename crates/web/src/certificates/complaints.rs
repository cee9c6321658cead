//! Complaints (投诉, guide 七, issue 11): the public form anyone can use to complain about a
//! holder (`/complaints/new`), the supervision department's list of what was lodged
//! (`/complaints`), and each organisation's own complaint register with the inspections of it
//! (`/organizations/{id}/complaints`). JSON at `/api/v1/complaints` and
//! `/api/v1/organizations/{id}/complaints`; the rules live in `zizhi_app::complaints`.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::complaints::{Lodged, NewRecord, Register};
use zizhi_app::{Actor, AppError};
use zizhi_domain::lang::{Lang, date_str_text};
use zizhi_domain::roles::Role;
use zizhi_store::complaints::{ComplaintRecord, PublicComplaint};

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{ClientIp, Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, field_error, render};

/// The error of a form, next to its field.
type FieldError = Option<(String, String)>;

fn record_json(r: &ComplaintRecord) -> serde_json::Value {
    json!({
        "id": r.id, "organization_id": r.organization_id, "received_on": r.received_on,
        "source": r.source, "content": r.content, "handling": r.handling,
        "prevention": r.prevention, "closed_on": r.closed_on,
    })
}

fn register_json(g: &Register) -> serde_json::Value {
    json!({
        "organization_id": g.organization_id,
        "records": g.records.iter().map(record_json).collect::<Vec<_>>(),
        "inspections": g.inspections.iter().map(|i| json!({
            "id": i.id, "inspected_on": i.inspected_on, "inspector": i.inspector, "reason": i.reason,
        })).collect::<Vec<_>>(),
    })
}

fn public_json(c: &PublicComplaint) -> serde_json::Value {
    json!({
        "id": c.id, "certificate_number": c.number, "holder": c.holder,
        "organization_id": c.organization_id, "complainant": c.complainant, "email": c.email,
        "phone": c.phone, "content": c.content, "received_on": c.received_on, "state": c.state,
        "finding": c.finding, "founded": c.founded, "closed_on": c.closed_on,
    })
}

// ---- the public form ----

#[derive(Default, Deserialize)]
pub struct LodgeForm {
    #[serde(default)]
    certificate_number: String,
    #[serde(default)]
    complainant: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    content: String,
}

#[derive(Template)]
#[template(path = "complaint_form.html")]
struct LodgePage {
    c: Chrome,
    form: LodgeForm,
    error: FieldError,
    /// The number given to a complaint just lodged.
    lodged: Option<i64>,
}

impl LodgePage {
    fn error_for(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
}

#[derive(Deserialize)]
pub struct LodgeQuery {
    #[serde(default)]
    certificate: String,
}

pub async fn lodge_page(ctx: Ctx, Query(q): Query<LodgeQuery>) -> Answer {
    let page = LodgePage {
        c: chrome(&ctx, "/complaints/new"),
        form: LodgeForm {
            certificate_number: q.certificate,
            ..LodgeForm::default()
        },
        error: None,
        lodged: None,
    };
    Ok(render(&page).into_response())
}

pub async fn lodge_form(
    State(st): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<LodgeForm>,
) -> Answer {
    let address = ip.map_or_else(|| "unknown".to_string(), |ip| ip.to_string());
    let l = Lodged {
        certificate_number: f.certificate_number.clone(),
        complainant: f.complainant.clone(),
        email: f.email.clone(),
        phone: f.phone.clone(),
        content: f.content.clone(),
    };
    let (status, form, error, lodged) = match st.app.lodge_complaint(&address, &l).await {
        Ok(id) => (StatusCode::OK, LodgeForm::default(), None, Some(id)),
        Err(AppError::Invalid { field, problem }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            f,
            Some((field, problem.get(ctx.lang).to_string())),
            None,
        ),
        Err(AppError::TooFrequent(why)) => (
            StatusCode::TOO_MANY_REQUESTS,
            f,
            Some(("content".into(), why.get(ctx.lang).to_string())),
            None,
        ),
        Err(e) => return Err(ctx.fail(e)),
    };
    let page = LodgePage {
        c: chrome(&ctx, "/complaints/new"),
        form,
        error,
        lodged,
    };
    Ok((status, render(&page)).into_response())
}

// ---- the supervision department's list ----

pub struct Row {
    pub id: i64,
    pub number: String,
    pub holder: String,
    pub received_on: String,
    pub state: String,
    pub open: bool,
}

fn state_name(c: &PublicComplaint, lang: Lang) -> String {
    match (c.state.as_str(), c.founded) {
        ("open", _) => lang.pick("待处理", "Open").into(),
        (_, Some(true)) => lang.pick("已处理：属实", "Closed: well founded").into(),
        _ => lang.pick("已处理：不属实", "Closed: not founded").into(),
    }
}

fn row_of(c: &PublicComplaint, lang: Lang) -> Row {
    Row {
        id: c.id,
        number: c.number.clone(),
        holder: c.holder.clone(),
        received_on: date_str_text(&c.received_on, lang),
        state: state_name(c, lang),
        open: c.state == "open",
    }
}

#[derive(Template)]
#[template(path = "complaints.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
}

pub async fn list_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let list = st.app.public_complaints(&a).await.or_fail(&ctx)?;
    let page = ListPage {
        c: chrome(&ctx, "/complaints"),
        rows: list.iter().map(|c| row_of(c, ctx.lang)).collect(),
    };
    Ok(render(&page).into_response())
}

#[derive(Template)]
#[template(path = "complaint.html")]
struct OnePage {
    c: Chrome,
    row: Row,
    x: PublicComplaint,
    may_close: bool,
    error: FieldError,
    finding: String,
}

impl OnePage {
    fn error_for(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
}

async fn one_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    error: FieldError,
    finding: String,
) -> Answer {
    let x = st.app.public_complaint(a, id).await.or_fail(ctx)?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = OnePage {
        c: chrome(ctx, &format!("/complaints/{id}")),
        row: row_of(&x, ctx.lang),
        may_close: a.role == Role::Supervisor && x.state == "open",
        x,
        error,
        finding,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn one_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    one_page_with(&st, &ctx, &a, id, None, String::new()).await
}

#[derive(Deserialize)]
pub struct ClosingForm {
    #[serde(default)]
    founded: String,
    #[serde(default)]
    finding: String,
}

pub async fn close_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<ClosingForm>,
) -> Answer {
    match st
        .app
        .close_public_complaint(&a, id, f.founded == "yes", &f.finding)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/complaints/{id}")).into_response()),
        Err(AppError::Invalid { field, problem }) => {
            let msg = problem.get(ctx.lang).to_string();
            one_page_with(&st, &ctx, &a, id, Some((field, msg)), f.finding).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

// ---- an organisation's own register ----

#[derive(Default, Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    content: String,
}

pub struct RecordRow {
    pub id: i64,
    pub received_on: String,
    pub source: String,
    pub content: String,
    pub handling: String,
    pub prevention: String,
    pub closed_on: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "complaint_register.html")]
struct RegisterPage {
    c: Chrome,
    org_id: i64,
    org_name: String,
    /// The register is shown (its members, or a supervisor who gave a reason).
    shown: bool,
    /// Its members may add and close entries.
    own: bool,
    /// A supervisor is asked for the reason of an inspection first.
    may_inspect: bool,
    records: Vec<RecordRow>,
    /// (date, inspector, reason)
    inspections: Vec<(String, String, String)>,
    form: RecordForm,
    error: FieldError,
    /// The entry an error is about (its own form), if any.
    error_record: Option<i64>,
    reason: String,
}

impl RegisterPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        if self.error_record.is_some() {
            return None;
        }
        field_error(&self.error, field)
    }

    fn record_error(&self, id: &i64) -> Option<&str> {
        if self.error_record == Some(*id) {
            self.error.as_ref().map(|(_, m)| m.as_str())
        } else {
            None
        }
    }
}

struct RegisterInput {
    form: RecordForm,
    error: FieldError,
    error_record: Option<i64>,
    reason: String,
    status: StatusCode,
}

impl Default for RegisterInput {
    fn default() -> Self {
        RegisterInput {
            form: RecordForm::default(),
            error: None,
            error_record: None,
            reason: String::new(),
            status: StatusCode::OK,
        }
    }
}

async fn register_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    org_id: i64,
    shown: Option<Register>,
    input: RegisterInput,
) -> Answer {
    let o = st.app.organization(a, org_id).await.or_fail(ctx)?;
    let own = a.role == Role::Applicant && a.organization_id == Some(org_id);
    let may_inspect = a.role == Role::Supervisor;
    if !own && !may_inspect {
        return Err(ctx.fail(AppError::Forbidden));
    }
    let register = match shown {
        Some(g) => Some(g),
        None if own => Some(st.app.complaint_register(a, org_id).await.or_fail(ctx)?),
        None => None,
    };
    let lang = ctx.lang;
    let (records, inspections) = match &register {
        Some(g) => (
            g.records
                .iter()
                .map(|r| RecordRow {
                    id: r.id,
                    received_on: date_str_text(&r.received_on, lang),
                    source: r.source.clone(),
                    content: r.content.clone(),
                    handling: r.handling.clone(),
                    prevention: r.prevention.clone(),
                    closed_on: r
                        .closed_on
                        .as_deref()
                        .map(|d| date_str_text(d, lang))
                        .unwrap_or_default(),
                    open: r.closed_on.is_none(),
                })
                .collect(),
            g.inspections
                .iter()
                .map(|i| {
                    (
                        date_str_text(&i.inspected_on, lang),
                        i.inspector.clone(),
                        i.reason.clone(),
                    )
                })
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let page = RegisterPage {
        c: chrome(ctx, &format!("/organizations/{org_id}/complaints")),
        org_id,
        org_name: o.name,
        shown: register.is_some(),
        own,
        may_inspect,
        records,
        inspections,
        form: input.form,
        error: input.error,
        error_record: input.error_record,
        reason: input.reason,
    };
    Ok((input.status, render(&page)).into_response())
}

pub async fn register_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org_id): Path<i64>,
) -> Answer {
    register_page_with(&st, &ctx, &a, org_id, None, RegisterInput::default()).await
}

pub async fn add_record_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org_id): Path<i64>,
    Form(f): Form<RecordForm>,
) -> Answer {
    if a.role != Role::Applicant || a.organization_id != Some(org_id) {
        return Err(ctx.fail(AppError::Forbidden));
    }
    let r = NewRecord {
        received_on: f.received_on.clone(),
        source: f.source.clone(),
        content: f.content.clone(),
    };
    match st.app.record_complaint(&a, &r).await {
        Ok(_) => Ok(Redirect::to(&format!("/organizations/{org_id}/complaints")).into_response()),
        Err(AppError::Invalid { field, problem }) => {
            let input = RegisterInput {
                form: f,
                error: Some((field, problem.get(ctx.lang).to_string())),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..RegisterInput::default()
            };
            register_page_with(&st, &ctx, &a, org_id, None, input).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    handling: String,
    #[serde(default)]
    prevention: String,
    /// `close` closes the entry; anything else saves it.
    #[serde(default)]
    action: String,
}

pub async fn update_record_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path((org_id, id)): Path<(i64, i64)>,
    Form(f): Form<UpdateForm>,
) -> Answer {
    if a.role != Role::Applicant || a.organization_id != Some(org_id) {
        return Err(ctx.fail(AppError::Forbidden));
    }
    match st
        .app
        .update_complaint(&a, id, &f.handling, &f.prevention, f.action == "close")
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/organizations/{org_id}/complaints#record-{id}"))
                .into_response(),
        ),
        Err(AppError::Invalid { field, problem }) => {
            let input = RegisterInput {
                error: Some((field, problem.get(ctx.lang).to_string())),
                error_record: Some(id),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..RegisterInput::default()
            };
            register_page_with(&st, &ctx, &a, org_id, None, input).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

#[derive(Deserialize)]
pub struct InspectionForm {
    #[serde(default)]
    reason: String,
}

pub async fn inspect_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org_id): Path<i64>,
    Form(f): Form<InspectionForm>,
) -> Answer {
    match st
        .app
        .inspect_complaint_register(&a, org_id, &f.reason)
        .await
    {
        Ok(g) => {
            let c = RegisterInput {
                reason: f.reason,
                ..RegisterInput::default()
            };
            register_page_with(&st, &ctx, &a, org_id, Some(g), c).await
        }
        Err(AppError::Invalid { field, problem }) => {
            let input = RegisterInput {
                error: Some((field, problem.get(ctx.lang).to_string())),
                reason: f.reason,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..RegisterInput::default()
            };
            register_page_with(&st, &ctx, &a, org_id, None, input).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

// ---- JSON ----

pub async fn api_list(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let list = st.app.public_complaints(&a).await.or_fail(&ctx)?;
    Ok(Json(json!({"items": list.iter().map(public_json).collect::<Vec<_>>()})).into_response())
}

pub async fn api_one(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let x = st.app.public_complaint(&a, id).await.or_fail(&ctx)?;
    Ok(Json(public_json(&x)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClosingBody {
    founded: bool,
    finding: String,
}

pub async fn api_close(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ClosingBody>,
) -> Answer {
    let x = st
        .app
        .close_public_complaint(&a, id, b.founded, &b.finding)
        .await
        .or_fail(&ctx)?;
    Ok(Json(public_json(&x)).into_response())
}

pub async fn api_register(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org_id): Path<i64>,
) -> Answer {
    let g = st.app.complaint_register(&a, org_id).await.or_fail(&ctx)?;
    Ok(Json(register_json(&g)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordBody {
    received_on: String,
    source: String,
    content: String,
}

pub async fn api_add_record(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org_id): Path<i64>,
    JsonBody(b): JsonBody<RecordBody>,
) -> Answer {
    if a.role != Role::Applicant || a.organization_id != Some(org_id) {
        return Err(ctx.fail(AppError::Forbidden));
    }
    let r = NewRecord {
        received_on: b.received_on,
        source: b.source,
        content: b.content,
    };
    let row = st.app.record_complaint(&a, &r).await.or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(record_json(&row))).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateBody {
    handling: String,
    prevention: String,
    close: bool,
}

pub async fn api_update_record(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path((org_id, id)): Path<(i64, i64)>,
    JsonBody(b): JsonBody<UpdateBody>,
) -> Answer {
    if a.role != Role::Applicant || a.organization_id != Some(org_id) {
        return Err(ctx.fail(AppError::Forbidden));
    }
    let row = st
        .app
        .update_complaint(&a, id, &b.handling, &b.prevention, b.close)
        .await
        .or_fail(&ctx)?;
    if row.organization_id != org_id {
        return Err(ctx.fail(AppError::NotFound("complaint")));
    }
    Ok(Json(record_json(&row)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InspectionBody {
    reason: String,
}

pub async fn api_inspect(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org_id): Path<i64>,
    JsonBody(b): JsonBody<InspectionBody>,
) -> Answer {
    let g = st
        .app
        .inspect_complaint_register(&a, org_id, &b.reason)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(register_json(&g))).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/complaints/new",
                Public,
                "投诉持证单位（公开表单，无需账号）",
                "Complain about a holder (public form, no account needed)",
            ),
            get(lodge_page),
        ),
        (
            r(
                M::POST,
                "/complaints/new",
                Public,
                "提交投诉（公开表单，每个地址每小时限量）",
                "Lodge a complaint (public form, limited per address and hour)",
            ),
            post(lodge_form),
        ),
        (
            r(
                M::GET,
                "/complaints",
                Authenticated,
                "收到的投诉（监督部门、审批人）",
                "Complaints lodged with the centre (supervision department, approvers)",
            ),
            get(list_page),
        ),
        (
            r(
                M::GET,
                "/complaints/{id}",
                Authenticated,
                "一件投诉",
                "One complaint",
            ),
            get(one_page),
        ),
        (
            r(
                M::POST,
                "/complaints/{id}/closing",
                Authenticated,
                "办结投诉（监督部门，表单）",
                "Close a complaint with the finding (supervision department, form)",
            ),
            post(close_form),
        ),
        (
            r(
                M::GET,
                "/organizations/{id}/complaints",
                Authenticated,
                "单位的投诉记录（本单位；监督部门须说明查阅理由）",
                "An organisation's complaint register (its members; a supervisor gives a reason)",
            ),
            get(register_page),
        ),
        (
            r(
                M::POST,
                "/organizations/{id}/complaints",
                Authenticated,
                "登记收到的投诉（本单位，表单）",
                "Record a complaint received (the organisation, form)",
            ),
            post(add_record_form),
        ),
        (
            r(
                M::POST,
                "/organizations/{id}/complaints/{record}",
                Authenticated,
                "填写处理情况和预防措施、关闭投诉记录（本单位，表单）",
                "Record the handling and the measures, or close an entry (the organisation, form)",
            ),
            post(update_record_form),
        ),
        (
            r(
                M::POST,
                "/organizations/{id}/complaints/inspection",
                Authenticated,
                "查阅单位的投诉记录并登记理由（监督部门，表单）",
                "Inspect an organisation's register, recording the reason (supervision department, form)",
            ),
            post(inspect_form),
        ),
        (
            r(
                M::GET,
                "/api/v1/complaints",
                Authenticated,
                "收到的投诉（监督部门、审批人）",
                "Complaints lodged with the centre (supervision department, approvers)",
            ),
            get(api_list),
        ),
        (
            r(
                M::GET,
                "/api/v1/complaints/{id}",
                Authenticated,
                "一件投诉",
                "One complaint",
            ),
            get(api_one),
        ),
        (
            r(
                M::POST,
                "/api/v1/complaints/{id}/closing",
                Authenticated,
                "办结投诉：属实或不属实及处理意见（监督部门）",
                "Close a complaint: well founded or not, with the finding (supervision department)",
            ),
            post(api_close),
        ),
        (
            r(
                M::GET,
                "/api/v1/organizations/{id}/complaints",
                Authenticated,
                "本单位的投诉记录及被查阅情况",
                "The organisation's complaint register and its inspections (its members)",
            ),
            get(api_register),
        ),
        (
            r(
                M::POST,
                "/api/v1/organizations/{id}/complaints",
                Authenticated,
                "登记收到的投诉（本单位）",
                "Record a complaint received (the organisation)",
            ),
            post(api_add_record),
        ),
        (
            r(
                M::POST,
                "/api/v1/organizations/{id}/complaints/{record}",
                Authenticated,
                "填写处理情况和预防措施，或关闭（本单位）",
                "Record the handling and the measures, or close (the organisation)",
            ),
            post(api_update_record),
        ),
        (
            r(
                M::POST,
                "/api/v1/organizations/{id}/complaints/inspection",
                Authenticated,
                "查阅单位的投诉记录，须说明理由（监督部门）",
                "Inspect an organisation's register with a reason (supervision department)",
            ),
            post(api_inspect),
        ),
    ]
}
