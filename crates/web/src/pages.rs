//! Server-rendered pages. Handlers are thin: extract, call one `zizhi-app` function, render.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use zizhi_app::accounts::NewUserInput;
use zizhi_app::policy::{Action, allowed};
use zizhi_app::{Actor, AppError};
use zizhi_domain::lang::Lang;
use zizhi_domain::roles::Role;
use zizhi_store::now_us;

use crate::AppState;
use crate::ctx::{CSRF_COOKIE, Ctx, SESSION_COOKIE, set_cookie};
use crate::error::Failure;
use crate::extract::{ClientIp, Form, Me};
use crate::i18n::{LANG_COOKIE, Tr};

/// The user bar and navigation.
pub struct UserBar {
    pub display_name: String,
    pub role: String,
    pub can_users: bool,
    pub can_orgs: bool,
    pub can_audit: bool,
    /// Centre staff see the dashboard (工作台).
    pub is_staff: bool,
    /// Certificate officers and approvers see the certificate desk.
    pub can_batches: bool,
}

/// What the base layout needs.
pub struct Chrome {
    pub t: Tr,
    pub csrf: String,
    pub user: Option<UserBar>,
    pub path: String,
    pub flash: Option<String>,
    pub flash_error: bool,
}

pub(crate) fn role_name(role: Role, lang: Lang) -> String {
    role.name().get(lang).to_string()
}

pub(crate) fn chrome(ctx: &Ctx, path: &str) -> Chrome {
    Chrome {
        t: Tr { lang: ctx.lang },
        csrf: ctx.csrf.clone(),
        user: ctx.actor.as_ref().map(|a| UserBar {
            display_name: a.display_name.clone(),
            role: role_name(a.role, ctx.lang),
            can_users: allowed(a, &Action::ListUsers),
            can_orgs: allowed(a, &Action::ListOrganizations),
            can_audit: allowed(a, &Action::ViewAuditLog),
            is_staff: a.role.is_staff(),
            can_batches: matches!(a.role, Role::CertificateOfficer | Role::Approver),
        }),
        path: path.to_string(),
        flash: None,
        flash_error: false,
    }
}

pub(crate) fn with_flash(mut c: Chrome, msg: impl Into<String>, error: bool) -> Chrome {
    c.flash = Some(msg.into());
    c.flash_error = error;
    c
}

pub(crate) fn render(t: &impl Template) -> Result<Html<String>, Failure> {
    t.render().map(Html).map_err(|e| {
        Failure::from_app(
            AppError::Internal(format!("template: {e}")),
            Lang::Zh,
            false,
        )
    })
}

/// Only local paths are followed after sign-in or a language switch.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub(crate) fn fmt_time(us: i64, lang: Lang) -> String {
    let dt = chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .with_timezone(&zizhi_domain::period::china_standard_time());
    match lang {
        Lang::Zh => dt.format("%Y年%-m月%-d日 %H:%M:%S").to_string(),
        Lang::En => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

// ------------------------------------------------------------------------ sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    username: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.actor.is_some() {
        return Redirect::to("/").into_response();
    }
    let page = LoginPage {
        c: chrome(&ctx, "/login"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    };
    render(&page).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    next: String,
}

pub async fn login_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> Response {
    let fail_page = |key: &str, status: StatusCode| {
        let t = Tr { lang: ctx.lang };
        let page = LoginPage {
            c: with_flash(chrome(&ctx, "/login"), t.get(key), true),
            next: safe_next(Some(&f.next)),
            username: f.username.clone(),
        };
        (status, render(&page)).into_response()
    };
    if let Some(ip) = ip
        && !st.limiter.allow(ip, st.config.login_attempts_per_minute)
    {
        return fail_page("login.rate_limited", StatusCode::TOO_MANY_REQUESTS);
    }
    let totp = (!f.totp.trim().is_empty()).then_some(f.totp.trim());
    match st.app.login(&f.username, &f.password, totp).await {
        Ok(s) => {
            let mut res = Redirect::to(&safe_next(Some(&f.next))).into_response();
            let h = res.headers_mut();
            let max_age = st.config.session_idle_minutes * 60;
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &s.token,
                    Some(max_age),
                    st.config.secure_cookies,
                ),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(CSRF_COOKIE, "", Some(0), st.config.secure_cookies),
            );
            res
        }
        Err(AppError::Unauthenticated) => fail_page("login.failed", StatusCode::UNAUTHORIZED),
        Err(AppError::TotpRequired) => fail_page("login.totp_required", StatusCode::UNAUTHORIZED),
        Err(AppError::Invalid { .. }) => fail_page("login.totp_required", StatusCode::UNAUTHORIZED),
        Err(AppError::Locked { .. }) => fail_page("login.locked", StatusCode::LOCKED),
        Err(e) => ctx.fail(e).into_response(),
    }
}

pub async fn logout(State(st): State<AppState>, ctx: Ctx) -> Response {
    if let (Some(a), Some(token)) = (&ctx.actor, &ctx.session_token)
        && let Err(e) = st.app.logout(a, token).await
    {
        return ctx.fail(e).into_response();
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), st.config.secure_cookies),
    );
    res
}

pub async fn set_lang(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = match Lang::parse(&code) {
        Some(Lang::En) => "en",
        _ => "zh",
    };
    let mut res = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
        ))
        .expect("ascii"),
    );
    res
}

// ------------------------------------------------------------------------ home

pub struct OrgView {
    pub id: i64,
    pub name: String,
    pub uscc: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    todo: Vec<(i64, String, String, String)>,
    name: String,
    role: String,
    must_change: bool,
    needs_totp: bool,
    is_admin: bool,
    org: Option<OrgView>,
}

pub async fn home(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    let org = match a.organization_id {
        Some(id) => match st.app.organization(&a, id).await {
            Ok(o) => Some(OrgView {
                id: o.id,
                name: o.name,
                uscc: o.uscc,
                created: fmt_time(o.created_us, ctx.lang),
            }),
            Err(e) => return ctx.fail(e).into_response(),
        },
        None => None,
    };
    // 待办: cases waiting for a step of this role.
    let todo = match st.app.todo(&a).await {
        Ok(list) => list
            .into_iter()
            .map(|(c, next)| {
                let steps: Vec<String> = next.iter().map(|t| t.get(ctx.lang).to_string()).collect();
                (
                    c.id,
                    zizhi_app::cases::case_number(&c),
                    crate::case_pages::stage_name(&c.stage, ctx.lang),
                    steps.join(" / "),
                )
            })
            .collect(),
        Err(e) => return ctx.fail(e).into_response(),
    };
    let page = HomePage {
        todo,
        c: chrome(&ctx, "/"),
        name: a.display_name.clone(),
        role: role_name(a.role, ctx.lang),
        must_change: ctx.must_change_password,
        needs_totp: a.needs_totp_enrollment,
        is_admin: a.role == Role::Administrator,
        org,
    };
    render(&page).into_response()
}

// ------------------------------------------------------------------------ users

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub email: String,
    pub disabled: bool,
    pub locked: bool,
    pub totp: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserRow>,
    roles: Vec<(&'static str, String)>,
    orgs: Vec<OrgView>,
}

async fn users_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Response {
    let users = match st.app.list_users(a).await {
        Ok(u) => u,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let orgs = match st.app.list_organizations(a).await {
        Ok(o) => o,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let now = now_us();
    let mut c = chrome(ctx, "/users");
    if let Some((m, err)) = flash {
        c = with_flash(c, m, err);
    }
    let page = UsersPage {
        c,
        users: users
            .into_iter()
            .map(|u| UserRow {
                id: u.id,
                role: Role::parse(&u.role).map_or(u.role.clone(), |r| role_name(r, ctx.lang)),
                locked: u.locked_until_us.is_some_and(|t| t > now),
                totp: u.totp_secret.is_some(),
                username: u.username,
                display_name: u.display_name,
                email: u.email,
                disabled: u.disabled,
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), role_name(*r, ctx.lang)))
            .collect(),
        orgs: orgs
            .into_iter()
            .map(|o| OrgView {
                id: o.id,
                name: o.name,
                uscc: o.uscc,
                created: fmt_time(o.created_us, ctx.lang),
            })
            .collect(),
    };
    (status, render(&page)).into_response()
}

pub async fn users_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    users_page_with(&st, &ctx, &a, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    email: String,
    role: String,
    #[serde(default)]
    organization_id: String,
}

/// A flash message for a failed action, on the same page.
pub(crate) fn failure_flash(ctx: &Ctx, e: AppError) -> Result<(String, StatusCode), Box<Response>> {
    let f = ctx.fail(e);
    if f.status.is_server_error() || f.status == StatusCode::FORBIDDEN {
        return Err(Box::new(f.into_response()));
    }
    let field = f.field.map(|x| format!(" [{x}]")).unwrap_or_default();
    Ok((format!("{}{field}", f.message.get(ctx.lang)), f.status))
}

pub async fn users_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<NewUserForm>,
) -> Response {
    let org = match f.organization_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return ctx
                    .fail(AppError::invalid(
                        "organization_id",
                        "申请单位编号无效",
                        "invalid organisation id",
                    ))
                    .into_response();
            }
        },
    };
    let input = NewUserInput {
        username: f.username,
        display_name: f.display_name,
        email: f.email,
        role: f.role,
        organization_id: org,
        password: None,
    };
    match st.app.create_user(Some(&a), input).await {
        Ok((u, pw)) => {
            let t = Tr { lang: ctx.lang };
            let msg = format!(
                "{} {} — {}",
                t.get("users.created"),
                pw.unwrap_or_default(),
                u.username
            );
            users_page_with(&st, &ctx, &a, Some((msg, false)), StatusCode::CREATED).await
        }
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => users_page_with(&st, &ctx, &a, Some((msg, true)), status).await,
            Err(r) => *r,
        },
    }
}

pub async fn user_reset(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    let user = match st.app.user(&a, id).await {
        Ok(u) => u,
        Err(e) => return ctx.fail(e).into_response(),
    };
    match st.app.reset_password(Some(&a), &user.username).await {
        Ok(pw) => {
            let t = Tr { lang: ctx.lang };
            let msg = format!("{} {pw} — {}", t.get("users.reset_done"), user.username);
            users_page_with(&st, &ctx, &a, Some((msg, false)), StatusCode::OK).await
        }
        Err(e) => ctx.fail(e).into_response(),
    }
}

async fn user_set_disabled(st: AppState, ctx: Ctx, a: Actor, id: i64, disabled: bool) -> Response {
    match st.app.set_disabled(&a, id, disabled).await {
        Ok(()) => Redirect::to("/users").into_response(),
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => users_page_with(&st, &ctx, &a, Some((msg, true)), status).await,
            Err(r) => *r,
        },
    }
}

pub async fn user_disable(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    user_set_disabled(st, ctx, a, id, true).await
}

pub async fn user_enable(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    user_set_disabled(st, ctx, a, id, false).await
}

// ------------------------------------------------------------------------ organisations

#[derive(Template)]
#[template(path = "organizations.html")]
struct OrgsPage {
    c: Chrome,
    orgs: Vec<OrgView>,
    can_create: bool,
}

async fn orgs_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Response {
    let orgs = match st.app.list_organizations(a).await {
        Ok(o) => o,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let mut c = chrome(ctx, "/organizations");
    if let Some((m, err)) = flash {
        c = with_flash(c, m, err);
    }
    let page = OrgsPage {
        c,
        orgs: orgs
            .into_iter()
            .map(|o| OrgView {
                id: o.id,
                name: o.name,
                uscc: o.uscc,
                created: fmt_time(o.created_us, ctx.lang),
            })
            .collect(),
        can_create: allowed(a, &Action::CreateOrganization),
    };
    (status, render(&page)).into_response()
}

pub async fn orgs_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    orgs_page_with(&st, &ctx, &a, None, StatusCode::OK).await
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
        Ok(o) => {
            orgs_page_with(
                &st,
                &ctx,
                &a,
                Some((format!("{} {}", o.name, o.uscc), false)),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => orgs_page_with(&st, &ctx, &a, Some((msg, true)), status).await,
            Err(r) => *r,
        },
    }
}

// ------------------------------------------------------------------------ audit

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
) -> Response {
    let events = match st.app.audit_log(a, before, AUDIT_PAGE).await {
        Ok(e) => e,
        Err(e) => return ctx.fail(e).into_response(),
    };
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
                action_label: crate::i18n::action_label(&e.action, ctx.lang),
                action: e.action,
                object: format!("{}:{}", e.object_type, e.object_id),
                summary: e.summary,
            })
            .collect(),
        older,
    };
    render(&page).into_response()
}

pub async fn audit_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Query(q): Query<BeforeQuery>,
) -> Response {
    audit_page_with(&st, &ctx, &a, q.before, None).await
}

pub async fn audit_verify(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    let t = Tr { lang: ctx.lang };
    let flash = match st.app.verify_audit(Some(&a)).await {
        Ok(v) => match v.first_break {
            None => (format!("{} {}", t.get("audit.ok"), v.events), false),
            Some((seq, why)) => (format!("{} {seq} — {why}", t.get("audit.broken")), true),
        },
        Err(e) => return ctx.fail(e).into_response(),
    };
    audit_page_with(&st, &ctx, &a, None, Some(flash)).await
}

// ------------------------------------------------------------------------ account

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    totp_enabled: bool,
    totp_secret: String,
    totp_uri: String,
}

fn account_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Response {
    let (secret, uri) = st.app.new_totp_secret(a);
    let mut c = chrome(ctx, "/account");
    if let Some((m, err)) = flash {
        c = with_flash(c, m, err);
    }
    let page = AccountPage {
        c,
        totp_enabled: ctx.totp_enabled,
        totp_secret: secret,
        totp_uri: uri,
    };
    (status, render(&page)).into_response()
}

pub async fn account_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    account_page_with(&st, &ctx, &a, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn account_password(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<PasswordForm>,
) -> Response {
    let r = st
        .app
        .change_password(&a, &f.current_password, &f.new_password)
        .await;
    let mut ctx = ctx.clone();
    ctx.must_change_password &= r.is_err();
    let t = Tr { lang: ctx.lang };
    account_outcome(
        &st,
        &ctx,
        &a,
        r.map(|()| (t.get("account.changed").to_string(), StatusCode::OK)),
    )
}

/// The account page after an action: its success message, or what went wrong.
fn account_outcome(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    outcome: Result<(String, StatusCode), AppError>,
) -> Response {
    match outcome {
        Ok((msg, status)) => account_page_with(st, ctx, a, Some((msg, false)), status),
        Err(e) => match failure_flash(ctx, e) {
            Ok((msg, status)) => account_page_with(st, ctx, a, Some((msg, true)), status),
            Err(r) => *r,
        },
    }
}

#[derive(Deserialize)]
pub struct TotpForm {
    secret: String,
    code: String,
}

pub async fn account_totp(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<TotpForm>,
) -> Response {
    let r = st.app.confirm_totp(&a, &f.secret, &f.code).await;
    let mut ctx = ctx.clone();
    ctx.totp_enabled |= r.is_ok();
    let t = Tr { lang: ctx.lang };
    account_outcome(
        &st,
        &ctx,
        &a,
        r.map(|()| (t.get("account.totp_done").to_string(), StatusCode::OK)),
    )
}

#[derive(Deserialize)]
pub struct TokenForm {
    label: String,
    days: i64,
}

pub async fn account_token(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<TokenForm>,
) -> Response {
    let t = Tr { lang: ctx.lang };
    let r = st.app.create_api_token(&a, &f.label, f.days).await;
    account_outcome(
        &st,
        &ctx,
        &a,
        r.map(|token| {
            (
                format!("{} {token}", t.get("account.token_done")),
                StatusCode::CREATED,
            )
        }),
    )
}

// ------------------------------------------------------------------------ one organisation

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
    /// The field in error and its message (shown next to the field).
    contact_error: Option<(String, String)>,
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

pub async fn org_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    org_page_with(&st, &ctx, &a, id, None, None, StatusCode::OK).await
}

async fn org_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    entered: Option<&ContactForm>,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let path = format!("/organizations/{id}");
    let org = match st.app.organization(a, id).await {
        Ok(o) => o,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let evidence = match st.app.list_evidence(a, id).await {
        Ok(e) => e,
        Err(e) => return ctx.fail(e).into_response(),
    };
    let stored = zizhi_store::organizations::Contact {
        address: org.address.clone(),
        legal_representative: org.legal_representative.clone(),
        contact_person: org.contact_person.clone(),
        contact_phone: org.contact_phone.clone(),
        contact_email: org.contact_email.clone(),
    };
    let contact = contact_rows(&entered.map_or(stored, ContactForm::contact), ctx.lang);
    let page = OrgPage {
        c: chrome(ctx, &path),
        org: OrgView {
            id: org.id,
            name: org.name,
            uscc: org.uscc,
            created: fmt_time(org.created_us, ctx.lang),
        },
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
    match render(&page) {
        Ok(html) => (status, html).into_response(),
        Err(f) => f.into_response(),
    }
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
            org_page_with(
                &st,
                &ctx,
                &a,
                id,
                Some(&f),
                Some((field, msg)),
                failure.status,
            )
            .await
        }
    }
}

// ------------------------------------------------------------------------ public verification

pub struct CertView {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    pub category: String,
    pub level: String,
    pub issued_on: String,
    pub valid_until: String,
    pub status: String,
    pub in_force: bool,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    c: Chrome,
    cert: Option<CertView>,
    number: String,
}

/// `GET /verify/{number}`: anyone, without signing in (the certificate's QR code leads here).
pub async fn verify_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Response {
    let (cert, status) = match st.app.verify_certificate(&number).await {
        Ok(v) => {
            let c = v.certificate;
            let lang = ctx.lang;
            let d = |s: &str| zizhi_domain::lang::date_str_text(s, lang);
            let level = u8::try_from(c.level).unwrap_or(0);
            let status_text = match (c.status.as_str(), v.in_force, lang) {
                ("valid", true, Lang::Zh) => "有效".to_string(),
                ("valid", true, Lang::En) => "valid".to_string(),
                ("valid", false, Lang::Zh) => "已过期".to_string(),
                ("valid", false, Lang::En) => "expired".to_string(),
                (other, _, _) => other.to_string(),
            };
            (
                Some(CertView {
                    category: zizhi_domain::profile::Category::parse(&c.category)
                        .map_or(c.category.clone(), |x| x.name().get(lang).to_string()),
                    level: match lang {
                        Lang::Zh => zizhi_domain::lang::level_zh(level),
                        Lang::En => format!("level {level}"),
                    },
                    issued_on: d(&c.issued_on),
                    valid_until: d(&c.valid_until),
                    number: c.number,
                    holder: c.holder,
                    uscc: c.uscc,
                    status: status_text,
                    in_force: v.in_force,
                }),
                StatusCode::OK,
            )
        }
        Err(AppError::NotFound(_)) => (None, StatusCode::NOT_FOUND),
        Err(e) => return ctx.fail(e).into_response(),
    };
    let page = VerifyPage {
        c: chrome(&ctx, &format!("/verify/{number}")),
        cert,
        number,
    };
    (status, render(&page)).into_response()
}
