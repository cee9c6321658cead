//! The home page: each role's 待办.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::platform::organizations::OrgView;
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render, role_name};
use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};

use zizhi_domain::roles::Role;

/// One line of the 待办: the case, its applicant, the stage, what is to be done, by when.
struct TodoRow {
    id: i64,
    number: String,
    holder: String,
    stage: String,
    tasks: String,
    due: String,
    due_class: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    todo: Vec<TodoRow>,
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
    /// Certificate batches waiting for this person (5.5): the approver's to approve (made
    /// by someone else), the officer's approved ones to issue — id, task, holders.
    batches: Vec<(i64, String, String)>,
    /// Registrations waiting for an administrator's approval.
    registrations: i64,
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
            Some(OrgView::of(&o, ctx.lang))
        }
        None => None,
    };
    // 待办: cases waiting for a step of this role.
    let waiting = if a.must_change_password {
        Vec::new()
    } else {
        st.app.todo(&a).await.or_fail(&ctx)?
    };
    let today = st.app.clock.today();
    let todo = waiting
        .into_iter()
        .map(|i| {
            let steps: Vec<String> = i
                .tasks
                .iter()
                .map(|t| t.get(ctx.lang).to_string())
                .collect();
            let (due, due_class) = match i.due {
                Some(d) => crate::cases::banner::due_line(d, today, ctx.lang),
                None => ("—".to_string(), ""),
            };
            TodoRow {
                id: i.case.id,
                number: zizhi_app::cases::case_number(&i.case),
                holder: i.holder,
                stage: crate::cases::stage_name(i.case.stage.as_str(), ctx.lang),
                tasks: steps.join(ctx.lang.pick("；", "; ")),
                due,
                due_class,
            }
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
    let batches = match a.role {
        Role::Approver | Role::CertificateOfficer if !a.must_change_password => {
            use zizhi_domain::certificate::BatchStatus;
            let (_, latest) = st.app.certificate_desk(&a).await.or_fail(&ctx)?;
            latest
                .into_iter()
                .filter_map(|(b, cases)| {
                    let task = match (a.role, b.status) {
                        (Role::Approver, BatchStatus::Open) if b.created_by != a.user_id => {
                            ctx.lang.pick("审批证书批次", "approve the batch")
                        }
                        (Role::CertificateOfficer, BatchStatus::Approved) => {
                            ctx.lang.pick("发证", "issue the certificates")
                        }
                        _ => return None,
                    };
                    let holders = cases
                        .iter()
                        .map(zizhi_app::cases::case_number)
                        .collect::<Vec<_>>()
                        .join(ctx.lang.pick("、", ", "));
                    Some((b.id, task.to_string(), holders))
                })
                .collect()
        }
        _ => Vec::new(),
    };
    // Self-registered organisations waiting for an administrator (issue 13).
    let registrations = if a.must_change_password {
        0
    } else {
        st.app.pending_registrations(&a).await.or_fail(&ctx)?
    };
    let page = HomePage {
        registrations,
        batches,
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
