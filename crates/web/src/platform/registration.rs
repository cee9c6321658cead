//! 单位注册: an applicant company registers itself (the facts of its 申请书 and its first
//! account), confirms its e-mail address through a link, and waits for an administrator's
//! approval; the administrator approves or rejects on the organisation's page; after a
//! rejection the applicant corrects its facts and asks again.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{ClientIp, Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use zizhi_app::AppError;
use zizhi_app::registration::{CONFIRM_LINK_HOURS, Registration};

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    c: Chrome,
    /// What was typed (passwords are never sent back).
    f: Registration,
    /// Every problem, each next to its field.
    errors: Vec<(String, String)>,
    /// Registered: the address the confirmation link went to.
    sent_to: Option<String>,
    hours: i64,
}

/// One field of the form: name, label, value as typed, input type, autocomplete, hint.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub hint: &'static str,
}

impl RegisterPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// A problem that names no field of the form (shown above it).
    fn general(&self) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f.is_empty())
            .map(|(_, m)| m.as_str())
    }

    /// The organisation's facts, in the 申请书's order.
    fn org_fields(&self) -> Vec<Field> {
        let l = |zh, en| self.c.t.pick(zh, en);
        let f = &self.f;
        let field = |name, label, value: &String, kind, autocomplete, hint| Field {
            name,
            label,
            value: value.clone(),
            kind,
            autocomplete,
            hint,
        };
        vec![
            field(
                "name",
                l("单位名称", "Organisation name"),
                &f.name,
                "text",
                "organization",
                l("与营业执照一致", "As on the business licence"),
            ),
            field(
                "uscc",
                l("统一社会信用代码", "Unified social credit code (USCC)"),
                &f.uscc,
                "text",
                "off",
                l(
                    "18 位，含校验码（GB 32100）",
                    "18 characters with the check character (GB 32100)",
                ),
            ),
            field(
                "address",
                l("注册地址", "Registered address"),
                &f.address,
                "text",
                "street-address",
                "",
            ),
            field(
                "legal_representative",
                l("法定代表人", "Legal representative"),
                &f.legal_representative,
                "text",
                "off",
                "",
            ),
            field(
                "contact_person",
                l("联系人", "Contact person"),
                &f.contact_person,
                "text",
                "name",
                l(
                    "账号以联系人的名义开通",
                    "The account is opened in the contact person's name",
                ),
            ),
            field(
                "contact_phone",
                l("联系电话", "Contact phone"),
                &f.contact_phone,
                "tel",
                "tel",
                "",
            ),
            field(
                "contact_email",
                l("指定电子邮箱", "Designated e-mail"),
                &f.contact_email,
                "email",
                "email",
                l(
                    "确认链接、受理审查意见和委托协议发往此邮箱",
                    "The confirmation link, the review's opinions and the agreement go here",
                ),
            ),
            field(
                "username",
                l("登录用户名", "Username"),
                &f.username,
                "text",
                "username",
                l(
                    "3 至 64 个字符：字母、数字和 . _ -",
                    "3 to 64 characters: letters, digits and . _ -",
                ),
            ),
        ]
    }
}

#[derive(Template)]
#[template(path = "register_confirm.html")]
struct ConfirmPage {
    c: Chrome,
    token: String,
    valid: bool,
    error: Option<String>,
    done: bool,
}

fn register_view(
    ctx: &Ctx,
    f: Registration,
    errors: Vec<(String, String)>,
    sent_to: Option<String>,
    status: StatusCode,
) -> Response {
    let page = RegisterPage {
        c: chrome(ctx, "/register"),
        f: Registration {
            password: String::new(),
            again: String::new(),
            ..f
        },
        errors,
        sent_to,
        hours: CONFIRM_LINK_HOURS,
    };
    (status, render(&page)).into_response()
}

/// `GET /register`: the form.
pub async fn register_page(ctx: Ctx) -> Response {
    register_view(
        &ctx,
        Registration::default(),
        Vec::new(),
        None,
        StatusCode::OK,
    )
}

/// `POST /register`: every problem at once next to its field, with what was typed kept;
/// otherwise the organisation and its account are made and the confirmation link sent.
pub async fn register_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(f): Form<Registration>,
) -> Response {
    // The sign-in limit per address applies: registering is how one gets to sign in.
    if let Some(ip) = ip
        && !st.limiter.allow(ip, st.config.login_attempts_per_minute)
    {
        let msg = crate::http::i18n::Tr { lang: ctx.lang }.get("login.rate_limited");
        return register_view(
            &ctx,
            f,
            vec![(String::new(), msg.to_string())],
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let problems = match st.app.registration_problems(&f).await {
        Ok(p) => p,
        Err(e) => return ctx.fail(e).into_response(),
    };
    if !problems.is_empty() {
        let errors = problems
            .into_iter()
            .map(|(field, t)| (field, t.get(ctx.lang).to_string()))
            .collect();
        return register_view(&ctx, f, errors, None, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match st.app.register_organization(&f).await {
        Ok((_, u)) => register_view(&ctx, f, Vec::new(), Some(u.email), StatusCode::CREATED),
        Err(e) => {
            let fail = ctx.fail(e);
            if fail.status.is_server_error() {
                return fail.into_response();
            }
            let errors = vec![(
                fail.field.clone().unwrap_or_default(),
                fail.message.get(ctx.lang).to_string(),
            )];
            register_view(&ctx, f, errors, None, fail.status)
        }
    }
}

/// `GET /register/confirm/{token}`: a button that confirms (a mail scanner that follows the
/// link confirms nothing).
pub async fn confirm_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    let valid = st
        .app
        .confirmation_link_valid(&token)
        .await
        .unwrap_or(false);
    let page = ConfirmPage {
        c: chrome(&ctx, "/register/confirm"),
        token,
        valid,
        error: None,
        done: false,
    };
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    (status, render(&page)).into_response()
}

/// `POST /register/confirm/{token}`.
pub async fn confirm_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> Response {
    let (status, error, done) = match st.app.confirm_email(&token).await {
        Ok(_) => (StatusCode::OK, None, true),
        Err(e) => {
            let fail = ctx.fail(e);
            if fail.status.is_server_error() {
                return fail.into_response();
            }
            (
                StatusCode::GONE,
                Some(fail.message.get(ctx.lang).to_string()),
                false,
            )
        }
    };
    let page = ConfirmPage {
        c: chrome(&ctx, "/register/confirm"),
        token,
        valid: done,
        error,
        done,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /organizations/{id}/registration`: the administrator approves or rejects (with the
/// reason next to its field when missing, what was typed kept).
pub async fn decide(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let r = match zizhi_app::registration::parse_decision(&f.decision) {
        Ok(approve) => st.app.decide_registration(&a, id, approve, &f.note).await,
        Err(e) => Err(e),
    };
    decided(&st, &ctx, &a, id, r, f.note).await
}

/// After a registration decision or a request to decide again: the organisation's page (saying
/// what happened), or the page again with the error next to its field and the reason as typed.
async fn decided<T>(
    st: &AppState,
    ctx: &Ctx,
    a: &zizhi_app::Actor,
    id: i64,
    r: zizhi_app::Result<T>,
    note: String,
) -> Response {
    match r {
        Ok(_) => {
            Redirect::to(&format!("/organizations/{id}?decided=1#registration")).into_response()
        }
        Err(e) => {
            let fail = ctx.fail(e);
            if fail.status.is_server_error() || fail.status == StatusCode::FORBIDDEN {
                return fail.into_response();
            }
            let field = fail.field.clone().unwrap_or_else(|| "decision".into());
            let msg = fail.message.get(ctx.lang).to_string();
            crate::platform::organizations::org_page_after(st, ctx, a, id, Some((field, msg)), note)
                .await
        }
    }
}

/// `POST /organizations/{id}/registration/resubmit`: the applicant asks again after a
/// rejection.
pub async fn resubmit(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    if a.organization_id != Some(id) {
        return ctx.fail(AppError::Forbidden).into_response();
    }
    let r = st.app.resubmit_registration(&a).await;
    decided(&st, &ctx, &a, id, r, String::new()).await
}

#[derive(Deserialize)]
pub struct RegistrationDecisionBody {
    /// `approve` or `reject`.
    decision: String,
    /// The reason (required to reject; sent to the organisation).
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/organizations/{id}/registration`: an administrator approves or rejects a
/// self-registered organisation.
pub async fn api_decide_registration(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<RegistrationDecisionBody>,
) -> Answer {
    let approve = zizhi_app::registration::parse_decision(&b.decision).or_fail(&ctx)?;
    let o = st
        .app
        .decide_registration(&a, id, approve, &b.note)
        .await
        .or_fail(&ctx)?;
    Ok(Json(crate::platform::organizations::org_json(&o)).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/register",
                Public,
                "申请单位注册",
                "Register an applicant organisation",
            ),
            get(register_page),
        ),
        (
            r(
                M::POST,
                "/register",
                Public,
                "提交单位注册",
                "Submit a registration",
            ),
            post(register_submit),
        ),
        (
            r(
                M::GET,
                "/register/confirm/{token}",
                Public,
                "确认注册邮箱",
                "Confirm the registration's e-mail address",
            ),
            get(confirm_page),
        ),
        (
            r(
                M::POST,
                "/register/confirm/{token}",
                Public,
                "确认注册邮箱",
                "Confirm the e-mail address",
            ),
            post(confirm_submit),
        ),
        (
            r(
                M::POST,
                "/organizations/{id}/registration",
                May(zizhi_app::policy::Action::DecideRegistration),
                "批准或驳回单位注册（系统管理员）",
                "Approve or reject a registration (administrators)",
            ),
            post(decide),
        ),
        (
            r(
                M::POST,
                "/api/v1/organizations/{id}/registration",
                May(zizhi_app::policy::Action::DecideRegistration),
                "批准或驳回单位注册（系统管理员）",
                "Approve or reject a registration (administrators)",
            ),
            post(api_decide_registration),
        ),
        (
            r(
                M::POST,
                "/organizations/{id}/registration/resubmit",
                Authenticated,
                "修改后重新提交单位注册",
                "Ask again after a rejected registration",
            ),
            post(resubmit),
        ),
    ]
}
