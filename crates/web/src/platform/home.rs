//! The home page: each role's 待办.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::platform::organizations::OrgView;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, fmt_time, render, role_name};
use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};

use zizhi_domain::roles::Role;

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
    /// Sanctions waiting for this person, overdue rectifications first (六).
    sanctions: Vec<crate::certificates::sanctions::Row>,
    /// Appeals to assign or to investigate (七).
    appeals: Vec<crate::cases::appeals::Row>,
    /// The holder's certificates due for maintenance (四): number, valid until, apply by.
    renewals: Vec<(String, String, String)>,
    /// Complaints lodged with the centre still open (监督部门, 七).
    complaints: i64,
}

/// `GET /`: the signed-in person's 待办; anyone else sees the public register.
pub async fn home(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let Some(a) = ctx.actor.clone() else {
        return Ok(
            crate::certificates::registry::registry_page_for(&st, &ctx, Default::default()).await,
        );
    };
    // With a one-time password, the home page only asks for the change (nothing else is
    // allowed until then).
    let org = match a.organization_id {
        Some(_) if a.must_change_password => None,
        Some(id) => {
            let o = st.app.organization(&a, id).await.or_fail(&ctx)?;
            Some(OrgView {
                id: o.id,
                name: o.name,
                uscc: o.uscc,
                created: fmt_time(o.created_us, ctx.lang),
            })
        }
        None => None,
    };
    // 待办: cases waiting for a step of this role.
    let waiting = if a.must_change_password {
        Vec::new()
    } else {
        st.app.todo(&a).await.or_fail(&ctx)?
    };
    let todo = waiting
        .into_iter()
        .map(|(c, next)| {
            let steps: Vec<String> = next.iter().map(|t| t.get(ctx.lang).to_string()).collect();
            (
                c.id,
                zizhi_app::cases::case_number(&c),
                crate::cases::stage_name(c.stage.as_str(), ctx.lang),
                steps.join(" / "),
            )
        })
        .collect();
    let sanctions = if a.must_change_password {
        Vec::new()
    } else {
        st.app
            .sanction_todo(&a)
            .await
            .or_fail(&ctx)?
            .iter()
            .map(|v| crate::certificates::sanctions::row_of(v, ctx.lang))
            .collect()
    };
    let appeals = if a.must_change_password {
        Vec::new()
    } else {
        st.app
            .appeal_todo(&a)
            .await
            .or_fail(&ctx)?
            .iter()
            .map(|x| crate::cases::appeals::row_of(x, ctx.lang))
            .collect()
    };
    let renewals = if a.must_change_password {
        Vec::new()
    } else {
        st.app
            .renewal_todo(&a)
            .await
            .or_fail(&ctx)?
            .into_iter()
            .map(|(c, due)| {
                (
                    c.number,
                    zizhi_domain::lang::date_str_text(&c.valid_until, ctx.lang),
                    zizhi_domain::lang::date_str_text(&due.to_string(), ctx.lang),
                )
            })
            .collect()
    };
    let complaints = if a.must_change_password {
        0
    } else {
        st.app.complaint_todo(&a).await.or_fail(&ctx)?
    };
    let page = HomePage {
        complaints,
        renewals,
        appeals,
        sanctions,
        todo,
        c: chrome(&ctx, "/"),
        name: a.display_name.clone(),
        role: role_name(a.role, ctx.lang),
        must_change: ctx.must_change_password,
        needs_totp: a.needs_totp_enrollment,
        is_admin: a.role == Role::Administrator,
        org,
    };
    Ok(render(&page).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![(
        r(
            M::GET,
            "/",
            Public,
            "首页：登录后为各角色的待办，未登录为证书公开名录",
            "Home: each role's to-do when signed in, the public register otherwise",
        ),
        get(home),
    )]
}
