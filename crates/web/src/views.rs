//! The page chrome every page shares (header, user bar, flash), rendering, and times.

use crate::http::ctx::{CsrfToken, Ctx};
use crate::http::error::Failure;
use crate::http::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use zizhi_app::AppError;
use zizhi_app::policy::{Action, allowed};
use zizhi_domain::lang::Lang;
use zizhi_domain::roles::Role;

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
    /// The supervision department, approvers and holders see sanctions (处置).
    pub can_sanctions: bool,
    /// Where complaints are (投诉): the lodged ones for the supervision department and
    /// approvers, the organisation's own register for applicants.
    pub complaints_href: Option<String>,
    /// The supervision department (监督部门).
    pub supervises: bool,
    /// Supervisors and approvers see the archive (档案).
    pub archives: bool,
    /// An applicant's own organisation.
    pub own_org: Option<i64>,
}

/// What the base layout needs.
pub struct Chrome {
    pub t: Tr,
    pub csrf: CsrfToken,
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
            can_sanctions: matches!(
                a.role,
                Role::Supervisor | Role::Approver | Role::Administrator | Role::Applicant
            ),
            supervises: a.role == Role::Supervisor,
            archives: matches!(a.role, Role::Supervisor | Role::Approver),
            own_org: a.organization_id.filter(|_| a.role == Role::Applicant),
            complaints_href: match (a.role, a.organization_id) {
                (Role::Supervisor | Role::Approver, _) => Some("/complaints".into()),
                (Role::Applicant, Some(org)) => Some(format!("/organizations/{org}/complaints")),
                _ => None,
            },
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

pub(crate) fn fmt_time(us: i64, lang: Lang) -> String {
    let dt = chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .with_timezone(&zizhi_domain::period::china_standard_time());
    match lang {
        Lang::Zh => dt.format("%Y年%-m月%-d日 %H:%M:%S").to_string(),
        Lang::En => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
    }
}

/// The message of a form's error for `field`, if the error is about it (a form page's
/// `(field, message)`, shown next to that field).
pub(crate) fn field_error<'a>(error: &'a Option<(String, String)>, field: &str) -> Option<&'a str> {
    error
        .as_ref()
        .filter(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

/// After a form that acts on one thing: to `to` when it worked; otherwise the page again
/// (`again`) with the error flashed, or the failure itself when it is not the input's fault.
pub(crate) async fn redirect_or_again<T, Fut>(
    ctx: &Ctx,
    r: zizhi_app::Result<T>,
    to: &str,
    again: impl FnOnce((String, StatusCode)) -> Fut,
) -> crate::http::error::Answer
where
    Fut: std::future::Future<Output = crate::http::error::Answer>,
{
    match r {
        Ok(_) => Ok(axum::response::Redirect::to(to).into_response()),
        Err(e) => match failure_flash(ctx, e) {
            Ok(flash) => again(flash).await,
            Err(resp) => Ok(*resp),
        },
    }
}

/// A refusal's message for people: a fact of the application form is named by its label
/// ("统一社会信用代码：…"), never by its internal path (`profile.organization.uscc`); other
/// messages already name what they are about in words.
pub(crate) fn flash_text(field: Option<&str>, message: &str, lang: Lang) -> String {
    let path = field.map(|f| f.strip_prefix("profile.").unwrap_or(f));
    let label = path.and_then(|p| {
        zizhi_domain::profile::MANDATORY_FIELDS
            .iter()
            .find(|m| m.path == p)
            .map(|m| lang.pick(m.label.0, m.label.1))
    });
    match label {
        Some(l) if !message.contains(l) => format!("{l}{}{message}", lang.pick("：", ": ")),
        _ => message.to_string(),
    }
}

/// A flash message for a failed action, on the same page.
pub(crate) fn failure_flash(ctx: &Ctx, e: AppError) -> Result<(String, StatusCode), Box<Response>> {
    let f = ctx.fail(e);
    if f.status.is_server_error() || f.status == StatusCode::FORBIDDEN {
        return Err(Box::new(f.into_response()));
    }
    Ok((
        flash_text(f.field.as_deref(), f.message.get(ctx.lang), ctx.lang),
        f.status,
    ))
}

/// An `.xlsx` download named `file`.
pub(crate) fn xlsx_response(file: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::flash_text;
    use zizhi_domain::lang::Lang;

    /// A fact of the form is named by its label, never by its path; other messages stand as
    /// they are.
    #[test]
    fn refusals_name_fields_by_their_labels() {
        let m = flash_text(Some("profile.organization.uscc"), "校验位不正确", Lang::Zh);
        assert_eq!(m, "统一社会信用代码：校验位不正确");
        let m = flash_text(Some("organization.uscc"), "check character wrong", Lang::En);
        assert_eq!(m, "Unified social credit code: check character wrong");
        // Already named: not twice.
        let m = flash_text(
            Some("organization.uscc"),
            "统一社会信用代码不正确",
            Lang::Zh,
        );
        assert_eq!(m, "统一社会信用代码不正确");
        assert_eq!(flash_text(Some("role"), "未知角色", Lang::Zh), "未知角色");
        assert_eq!(flash_text(None, "x", Lang::Zh), "x");
    }
}
