//! Applicant organisations: the register, one organisation's file and its 申请书 facts, and
//! declared conflicts of interest.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, failure_flash, fmt_time, render, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use zizhi_app::Actor;
use zizhi_app::accounts::Organization;
use zizhi_app::policy::{Action, allowed};
use zizhi_domain::lang::Lang;

pub struct OrgView {
    pub id: i64,
    pub name: String,
    pub uscc: String,
    pub created: String,
    /// `pending`, `approved` or `rejected` (a self-registered organisation, issue 13).
    pub registration: String,
    /// The registration's state in words.
    pub registration_text: String,
    /// The administrator's reason for a rejection.
    pub registration_note: String,
}

impl OrgView {
    pub fn of(o: &Organization, lang: Lang) -> OrgView {
        OrgView {
            id: o.id,
            name: o.name.clone(),
            uscc: o.uscc.clone(),
            created: fmt_time(o.created_us, lang),
            registration: o.registration.clone(),
            registration_text: zizhi_app::registration::state_text(&o.registration)
                .get(lang)
                .to_string(),
            registration_note: o.registration_note.clone(),
        }
    }

    pub fn approved(&self) -> bool {
        self.registration == zizhi_store::organizations::APPROVED
    }
}

#[derive(Template)]
#[template(path = "organizations.html")]
struct OrgsPage {
    c: Chrome,
    orgs: Vec<OrgView>,
    can_create: bool,
    /// Some registrations wait for an administrator.
    has_pending: bool,
}

async fn orgs_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Answer {
    let orgs = st.app.list_organizations(a).await.or_fail(ctx)?;
    let mut c = chrome(ctx, "/organizations");
    if let Some((m, err)) = flash {
        c = with_flash(c, m, err);
    }
    let page = OrgsPage {
        c,
        has_pending: orgs
            .iter()
            .any(|o| o.registration == zizhi_store::organizations::PENDING),
        orgs: orgs.iter().map(|o| OrgView::of(o, ctx.lang)).collect(),
        can_create: allowed(a, &Action::CreateOrganization),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn orgs_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    orgs_page_with(&st, &ctx, &a, None, StatusCode::OK)
        .await
        .into_response()
}

#[derive(Deserialize)]
pub struct NewOrgForm {
    name: String,
    uscc: String,
}

pub async fn orgs_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<NewOrgForm>,
) -> Response {
    match st.app.create_organization(Some(&a), &f.uscc, &f.name).await {
        Ok(o) => orgs_page_with(
            &st,
            &ctx,
            &a,
            Some((format!("{} {}", o.name, o.uscc), false)),
            StatusCode::CREATED,
        )
        .await
        .into_response(),
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => orgs_page_with(&st, &ctx, &a, Some((msg, true)), status)
                .await
                .into_response(),
            Err(r) => *r,
        },
    }
}

pub struct EvidenceRow {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub media_type: String,
    pub sha256: String,
    pub sm3: String,
    pub uploaded: String,
}

#[derive(Template)]
#[template(path = "organization.html")]
struct OrgPage {
    c: Chrome,
    org: OrgView,
    evidence: Vec<EvidenceRow>,
    can_upload: bool,
    /// The 申请书 facts: (field, label, value), as stored or as just typed.
    contact: Vec<(&'static str, String, String)>,
    can_edit_contact: bool,
    /// The field in error and its message (shown next to the field; the contact form's or
    /// the registration decision's).
    contact_error: Option<(String, String)>,
    /// An administrator may approve or reject the registration here.
    can_decide: bool,
    /// Whether the organisation's account confirmed its address (shown to administrators).
    confirmed: bool,
    /// The rejection's reason as typed.
    note: String,
    /// The organisation's applicant may ask again after a rejection.
    can_resubmit: bool,
}

/// The organisation's 申请书 facts as the form posts them.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    address: String,
    #[serde(default)]
    legal_representative: String,
    #[serde(default)]
    contact_person: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_email: String,
}

impl ContactForm {
    fn contact(&self) -> zizhi_store::organizations::Contact {
        zizhi_store::organizations::Contact {
            address: self.address.clone(),
            legal_representative: self.legal_representative.clone(),
            contact_person: self.contact_person.clone(),
            contact_phone: self.contact_phone.clone(),
            contact_email: self.contact_email.clone(),
        }
    }
}

fn contact_rows(
    c: &zizhi_store::organizations::Contact,
    lang: Lang,
) -> Vec<(&'static str, String, String)> {
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    vec![
        (
            "address",
            l("注册地址", "Registered address"),
            c.address.clone(),
        ),
        (
            "legal_representative",
            l("法定代表人", "Legal representative"),
            c.legal_representative.clone(),
        ),
        (
            "contact_person",
            l("联系人", "Contact person"),
            c.contact_person.clone(),
        ),
        (
            "contact_phone",
            l("联系电话", "Contact phone"),
            c.contact_phone.clone(),
        ),
        (
            "contact_email",
            l(
                "指定电子邮箱（受理审查意见、委托协议发往此邮箱）",
                "Designated e-mail (opinions and the agreement go here)",
            ),
            c.contact_email.clone(),
        ),
    ]
}

/// A byte count for people: 1.5 MiB.
fn human_size(n: i64) -> String {
    let units = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < units.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[derive(Deserialize, Default)]
pub struct OrgQuery {
    /// Set after a registration decision (the page says what happened).
    #[serde(default)]
    decided: Option<String>,
}

pub async fn org_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<OrgQuery>,
) -> Response {
    let flash = q.decided.is_some();
    let shown = Shown {
        decided: flash,
        ..Shown::default()
    };
    org_page_with(&st, &ctx, &a, id, shown)
        .await
        .into_response()
}

/// The organisation's page after a failed registration decision: the error next to its
/// field, the reason as typed.
pub(crate) async fn org_page_after(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    error: Option<(String, String)>,
    note: String,
) -> Response {
    let shown = Shown {
        error,
        status: StatusCode::UNPROCESSABLE_ENTITY,
        note,
        ..Shown::default()
    };
    org_page_with(st, ctx, a, id, shown).await.into_response()
}

/// What the organisation's page shows beyond the stored record.
struct Shown<'a> {
    /// The contact facts as typed.
    entered: Option<&'a ContactForm>,
    /// A form's error, next to its field.
    error: Option<(String, String)>,
    status: StatusCode,
    /// The rejection's reason as typed.
    note: String,
    /// A registration decision was just taken.
    decided: bool,
}

impl Default for Shown<'_> {
    fn default() -> Self {
        Shown {
            entered: None,
            error: None,
            status: StatusCode::OK,
            note: String::new(),
            decided: false,
        }
    }
}

async fn org_page_with(st: &AppState, ctx: &Ctx, a: &Actor, id: i64, shown: Shown<'_>) -> Answer {
    let Shown {
        entered,
        error,
        status,
        note,
        decided,
    } = shown;
    let path = format!("/organizations/{id}");
    let org = st.app.organization(a, id).await.or_fail(ctx)?;
    let can_decide = allowed(a, &Action::DecideRegistration);
    let confirmed = if can_decide && org.registration != zizhi_store::organizations::APPROVED {
        st.app.registration_confirmed(a, id).await.or_fail(ctx)?
    } else {
        true
    };
    let evidence = st.app.list_evidence(a, id).await.or_fail(ctx)?;
    let stored = zizhi_store::organizations::Contact {
        address: org.address.clone(),
        legal_representative: org.legal_representative.clone(),
        contact_person: org.contact_person.clone(),
        contact_phone: org.contact_phone.clone(),
        contact_email: org.contact_email.clone(),
    };
    let contact = contact_rows(&entered.map_or(stored, ContactForm::contact), ctx.lang);
    let mut c = chrome(ctx, &path);
    if decided {
        c = with_flash(
            c,
            format!(
                "{}{}",
                ctx.lang.pick("单位注册状态：", "Registration: "),
                zizhi_app::registration::state_text(&org.registration).get(ctx.lang)
            ),
            false,
        );
    }
    let can_resubmit = a.role == zizhi_domain::roles::Role::Applicant
        && a.organization_id == Some(id)
        && org.registration == zizhi_store::organizations::REJECTED;
    let page = OrgPage {
        c,
        org: OrgView::of(&org, ctx.lang),
        can_decide,
        confirmed,
        note,
        can_resubmit,
        evidence: evidence
            .into_iter()
            .map(|e| EvidenceRow {
                id: e.id,
                name: e.original_name,
                size: human_size(e.size),
                media_type: e.media_type,
                sha256: e.sha256,
                sm3: e.sm3,
                uploaded: fmt_time(e.uploaded_us, ctx.lang),
            })
            .collect(),
        can_upload: allowed(
            a,
            &Action::UploadEvidence {
                organization_id: id,
            },
        ),
        contact,
        can_edit_contact: allowed(
            a,
            &Action::EditOrganization {
                organization_id: id,
            },
        ),
        contact_error: error,
    };
    Ok(match render(&page) {
        Ok(html) => (status, html).into_response(),
        Err(f) => f.into_response(),
    })
}

/// `POST /organizations/{id}/contact`: the 申请书 facts; on a problem the form comes back
/// with what was typed and the message next to its field.
pub async fn org_contact(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<ContactForm>,
) -> Response {
    match st.app.set_organization_contact(&a, id, &f.contact()).await {
        Ok(_) => Redirect::to(&format!("/organizations/{id}#contact")).into_response(),
        Err(e) => {
            let failure = ctx.fail(e);
            if failure.status.is_server_error() || failure.status == StatusCode::FORBIDDEN {
                return failure.into_response();
            }
            let field = failure.field.clone().unwrap_or_default();
            let msg = failure.message.get(ctx.lang).to_string();
            let shown = Shown {
                entered: Some(&f),
                error: Some((field, msg)),
                status: failure.status,
                ..Shown::default()
            };
            org_page_with(&st, &ctx, &a, id, shown)
                .await
                .into_response()
        }
    }
}

pub(crate) fn org_json(o: &Organization) -> Value {
    json!({
        "id": o.id, "uscc": o.uscc, "name": o.name, "created_us": o.created_us,
        "address": o.address, "legal_representative": o.legal_representative,
        "contact_person": o.contact_person, "contact_phone": o.contact_phone,
        "contact_email": o.contact_email, "registration": o.registration,
        "registration_note": o.registration_note,
    })
}

pub async fn api_orgs_list(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let orgs = st.app.list_organizations(&a).await.or_fail(&ctx)?;
    Ok(
        Json(json!({"organizations": orgs.iter().map(org_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

pub async fn api_orgs_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let o = st.app.organization(&a, id).await.or_fail(&ctx)?;
    Ok(Json(org_json(&o)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    address: String,
    legal_representative: String,
    contact_person: String,
    contact_phone: String,
    contact_email: String,
}

/// `PUT /api/v1/organizations/{id}/contact`: the 申请书 facts of the organisation.
pub async fn api_orgs_contact(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ContactBody>,
) -> Answer {
    let o = st
        .app
        .set_organization_contact(
            &a,
            id,
            &zizhi_store::organizations::Contact {
                address: b.address,
                legal_representative: b.legal_representative,
                contact_person: b.contact_person,
                contact_phone: b.contact_phone,
                contact_email: b.contact_email,
            },
        )
        .await
        .or_fail(&ctx)?;
    Ok(Json(org_json(&o)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictBody {
    #[serde(default)]
    user_id: Option<i64>,
    organization_id: i64,
    reason: String,
}

/// `POST /api/v1/conflicts`: declare a conflict of interest with an applicant.
pub async fn api_conflicts_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<ConflictBody>,
) -> Answer {
    st.app
        .declare_conflict(&a, b.user_id, b.organization_id, &b.reason)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::CREATED.into_response())
}

/// `GET /api/v1/conflicts`: the caller's own declared conflicts.
pub async fn api_conflicts_list(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let list = st.app.conflicts_of(&a, a.user_id).await.or_fail(&ctx)?;
    Ok(Json(json!({"conflicts": list.iter().map(|c| json!({
        "organization_id": c.organization_id, "reason": c.reason,
        "declared_by": c.declared_by, "declared_us": c.declared_us,
    })).collect::<Vec<_>>()}))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrgBody {
    uscc: String,
    name: String,
}

pub async fn api_orgs_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<NewOrgBody>,
) -> Answer {
    let o = st
        .app
        .create_organization(Some(&a), &b.uscc, &b.name)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(org_json(&o))).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/organizations",
                May(Action::ListOrganizations),
                "申请单位列表",
                "Organisations",
            ),
            get(orgs_page),
        ),
        (
            r(
                M::POST,
                "/organizations",
                May(Action::CreateOrganization),
                "登记申请单位",
                "Register an organisation",
            ),
            post(orgs_create),
        ),
        (
            r(
                M::GET,
                "/organizations/{id}",
                Authenticated,
                "申请单位档案与证据（申请单位用户仅限本单位）",
                "An organisation's file and evidence (applicants: their own)",
            ),
            get(org_page),
        ),
        (
            r(
                M::POST,
                "/organizations/{id}/contact",
                Authenticated,
                "保存申请书信息（地址、法定代表人、联系人、指定电子邮箱）",
                "Save the application facts (address, representative, contacts, designated e-mail)",
            ),
            post(org_contact),
        ),
        (
            r(
                M::GET,
                "/api/v1/organizations",
                May(Action::ListOrganizations),
                "申请单位列表",
                "List organisations",
            ),
            get(api_orgs_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/organizations",
                May(Action::CreateOrganization),
                "登记申请单位",
                "Register an organisation",
            ),
            post(api_orgs_create),
        ),
        (
            r(
                M::GET,
                "/api/v1/organizations/{id}",
                Authenticated,
                "申请单位详情（申请单位用户仅限本单位）",
                "One organisation (applicants: their own only)",
            ),
            get(api_orgs_get),
        ),
        (
            r(
                M::POST,
                "/api/v1/conflicts",
                Authenticated,
                "声明与申请单位的利益冲突（本人；监督人员、管理员可为他人登记）",
                "Declare a conflict of interest with an applicant (one's own; supervisors and administrators for anyone)",
            ),
            post(api_conflicts_create),
        ),
        (
            r(
                M::GET,
                "/api/v1/conflicts",
                Authenticated,
                "本人已声明的利益冲突",
                "One's declared conflicts of interest",
            ),
            get(api_conflicts_list),
        ),
        (
            r(
                M::PUT,
                "/api/v1/organizations/{id}/contact",
                Authenticated,
                "申请书信息：注册地址、法定代表人、联系人、电话、指定电子邮箱",
                "The application's facts: address, legal representative, contact, phone, designated e-mail",
            ),
            put(api_orgs_contact),
        ),
    ]
}
