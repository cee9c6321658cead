//! User accounts (administrators): list, create, reset passwords, disable and enable.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::http::i18n::Tr;
use crate::platform::organizations::OrgView;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, failure_flash, render, role_name, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use zizhi_app::accounts::{NewUserInput, User};
use zizhi_app::policy::Action;
use zizhi_app::{Actor, AppError};
use zizhi_domain::roles::Role;

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub email: String,
    pub disabled: bool,
    /// Addresses from which sign-in as this user is locked now.
    pub locked_from: i64,
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
) -> Answer {
    let users = st.app.list_users(a).await.or_fail(ctx)?;
    let orgs = st.app.list_organizations(a).await.or_fail(ctx)?;
    let locked = st.app.locked_sign_ins(a).await.or_fail(ctx)?;
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
                locked_from: locked.get(&u.username.to_lowercase()).copied().unwrap_or(0),
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
        orgs: orgs.iter().map(|o| OrgView::of(o, ctx.lang)).collect(),
    };
    Ok((status, render(&page)).into_response())
}

pub async fn users_page(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Response {
    users_page_with(&st, &ctx, &a, None, StatusCode::OK)
        .await
        .into_response()
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
            users_page_with(&st, &ctx, &a, Some((msg, false)), StatusCode::CREATED)
                .await
                .into_response()
        }
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => users_page_with(&st, &ctx, &a, Some((msg, true)), status)
                .await
                .into_response(),
            Err(r) => *r,
        },
    }
}

pub async fn user_reset(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let user = st.app.user(&a, id).await.or_fail(&ctx)?;
    Ok(
        match st.app.reset_password(Some(&a), &user.username).await {
            Ok(pw) => {
                let t = Tr { lang: ctx.lang };
                let msg = format!("{} {pw} — {}", t.get("users.reset_done"), user.username);
                users_page_with(&st, &ctx, &a, Some((msg, false)), StatusCode::OK)
                    .await
                    .into_response()
            }
            Err(e) => ctx.fail(e).into_response(),
        },
    )
}

async fn user_set_disabled(st: AppState, ctx: Ctx, a: Actor, id: i64, disabled: bool) -> Response {
    match st.app.set_disabled(&a, id, disabled).await {
        Ok(()) => Redirect::to("/users").into_response(),
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => users_page_with(&st, &ctx, &a, Some((msg, true)), status)
                .await
                .into_response(),
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

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "display_name": u.display_name, "email": u.email,
        "role": u.role, "organization_id": u.organization_id, "disabled": u.disabled,
        "totp_enabled": u.totp_secret.is_some(), "must_change_password": u.must_change_password,
    })
}

pub async fn api_users_list(State(st): State<AppState>, ctx: Ctx, Me(a): Me) -> Answer {
    let users = st.app.list_users(&a).await.or_fail(&ctx)?;
    Ok(Json(json!({"users": users.iter().map(user_json).collect::<Vec<_>>()})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    username: String,
    display_name: String,
    email: String,
    role: String,
    #[serde(default)]
    organization_id: Option<i64>,
    #[serde(default)]
    password: Option<String>,
}

pub async fn api_users_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<NewUserBody>,
) -> Answer {
    let input = NewUserInput {
        username: b.username,
        display_name: b.display_name,
        email: b.email,
        role: b.role,
        organization_id: b.organization_id,
        password: b.password,
    };
    let (u, pw) = st.app.create_user(Some(&a), input).await.or_fail(&ctx)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user_json(&u), "initial_password": pw})),
    )
        .into_response())
}

pub async fn api_users_reset(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let r = async {
        let u = st.app.user(&a, id).await?;
        st.app.reset_password(Some(&a), &u.username).await
    }
    .await;
    let pw = r.or_fail(&ctx)?;
    Ok(Json(json!({"password": pw, "must_change_password": true})).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/users",
                May(Action::ListUsers),
                "用户列表",
                "Users",
            ),
            get(users_page),
        ),
        (
            r(
                M::POST,
                "/users",
                May(Action::CreateUser),
                "新建用户",
                "Create a user",
            ),
            post(users_create),
        ),
        (
            r(
                M::POST,
                "/users/{id}/reset-password",
                May(Action::ResetPassword),
                "重置密码",
                "Reset a password",
            ),
            post(user_reset),
        ),
        (
            r(
                M::POST,
                "/users/{id}/disable",
                May(Action::DisableUser),
                "停用用户",
                "Disable a user",
            ),
            post(user_disable),
        ),
        (
            r(
                M::POST,
                "/users/{id}/enable",
                May(Action::DisableUser),
                "启用用户",
                "Enable a user",
            ),
            post(user_enable),
        ),
        (
            r(
                M::GET,
                "/api/v1/users",
                May(Action::ListUsers),
                "用户列表",
                "List users",
            ),
            get(api_users_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/users",
                May(Action::CreateUser),
                "新建用户",
                "Create a user",
            ),
            post(api_users_create),
        ),
        (
            r(
                M::POST,
                "/api/v1/users/{id}/reset-password",
                May(Action::ResetPassword),
                "重置密码",
                "Reset a password",
            ),
            post(api_users_reset),
        ),
    ]
}
