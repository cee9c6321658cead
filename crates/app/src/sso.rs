//! Single sign-on for centre staff through the centre's OpenID Connect provider (issue 9).
//!
//! The web layer runs the protocol (discovery, the code flow with PKCE, the ID token's
//! signature, issuer, audience, expiry and nonce) and hands over the verified identity; this
//! module decides who that is here. The provider is the source of truth for the person's name,
//! e-mail and role: a claim (`oidc_role_claim`, default `zizhi_role`) names one of the staff
//! roles. Applicants keep password sign-in: a provider cannot make anyone an applicant. The first
//! sign-in creates the user (single sign-on only, no local password); later ones update it. A
//! user disabled here stays out whatever the provider says.

use serde_json::json;
use zizhi_domain::roles::Role;
use zizhi_store::users::{self, User};

use crate::accounts::{NewSession, SIGN_IN_OIDC};
use crate::{App, AppError, Result};

/// What a verified ID token says.
#[derive(Debug, Clone, Default)]
pub struct OidcIdentity {
    /// The provider's issuer URL and the person's subject there: together, the identity.
    pub issuer: String,
    pub subject: String,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The value of the role claim: a string, or an array of strings (groups).
    pub role_claim: Option<serde_json::Value>,
}

fn refused(zh: impl Into<String>, en: impl Into<String>) -> AppError {
    AppError::invalid("oidc", zh, en)
}

/// The staff role the claim names: exactly one staff role among its values.
pub fn role_from_claim(claim: Option<&serde_json::Value>, claim_name: &str) -> Result<Role> {
    let values: Vec<&str> = match claim {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    let mut staff: Vec<Role> = values
        .iter()
        .filter_map(|v| Role::parse(v.trim()))
        .filter(|r| r.is_staff())
        .collect();
    staff.dedup();
    match staff.as_slice() {
        [one] => Ok(*one),
        [] => Err(refused(
            format!(
                "单点登录账号没有本系统的工作人员角色（身份提供方的 {claim_name} 声明），请联系管理员"
            ),
            format!(
                "the single sign-on account has no staff role here (the provider's {claim_name} claim); ask an administrator"
            ),
        )),
        _ => Err(refused(
            format!(
                "单点登录账号的 {claim_name} 声明给出了多个工作人员角色，一个用户只能有一个角色"
            ),
            format!("the {claim_name} claim names several staff roles; a user has exactly one"),
        )),
    }
}

/// The username for a new single sign-on user: `preferred_username`, else the e-mail's local
/// part, kept to the letters, digits and `. _ -` a username allows.
fn username_for(id: &OidcIdentity) -> Option<String> {
    let from = id.preferred_username.clone().or_else(|| {
        id.email
            .as_deref()
            .and_then(|e| e.split('@').next())
            .map(str::to_string)
    })?;
    let name: String = from
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(64)
        .collect();
    (name.len() >= 3).then_some(name)
}

impl App {
    /// Signs in a person the centre's identity provider vouched for (see the module).
    pub async fn login_oidc(&self, id: &OidcIdentity, role_claim_name: &str) -> Result<NewSession> {
        let role = role_from_claim(id.role_claim.as_ref(), role_claim_name)?;
        let display_name = id
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .or(id.preferred_username.as_deref())
            .unwrap_or(&id.subject)
            .chars()
            .take(crate::limits::NAME)
            .collect::<String>();
        let email = id.email.clone().unwrap_or_default();
        if crate::accounts::validate_email_field("email", email.trim()).is_err() {
            return Err(refused(
                "单点登录账号没有有效的电子邮箱（email 声明），无法接收通知",
                "the single sign-on account has no valid e-mail address (the email claim) for notices",
            ));
        }
        let email = email.trim().to_string();
        let existing = users::by_oidc(&self.db, &id.issuer, &id.subject).await?;
        let mut tx = self.db.begin().await?;
        let user: User = match existing {
            Some(u) => {
                if u.disabled {
                    return Err(refused(
                        "该账号已停用，请联系管理员",
                        "this account is disabled; ask an administrator",
                    ));
                }
                if u.role != role.as_str() || u.display_name != display_name || u.email != email {
                    users::set_profile(&mut tx, u.id, &display_name, &email, role.as_str()).await?;
                    crate::audit::record(
                        &mut tx,
                        None,
                        "user.oidc_update",
                        "user",
                        u.id,
                        json!({"before": {"role": u.role, "display_name": u.display_name, "email": u.email},
                               "after": {"role": role.as_str(), "display_name": display_name, "email": email}}),
                    )
                    .await?;
                }
                User {
                    role: role.as_str().to_string(),
                    display_name: display_name.clone(),
                    email: email.clone(),
                    ..u
                }
            }
            None => {
                let username = username_for(id).ok_or_else(|| {
                    refused(
                        "单点登录账号没有可用的用户名（preferred_username 或 email 声明）",
                        "the single sign-on account has no usable username (preferred_username or email claim)",
                    )
                })?;
                if users::by_username(&self.db, &username).await?.is_some() {
                    return Err(refused(
                        format!("用户名“{username}”已被本系统的其他账号使用，请管理员处理"),
                        format!(
                            "the username \"{username}\" belongs to another account here; ask an administrator"
                        ),
                    ));
                }
                let u = users::insert(
                    &mut tx,
                    &users::NewUser {
                        username: &username,
                        display_name: &display_name,
                        email: &email,
                        role: role.as_str(),
                        organization_id: None,
                        // Not a PHC string: no password ever verifies against it.
                        password_hash: "!",
                        must_change_password: false,
                        sign_in: SIGN_IN_OIDC,
                        email_confirmed: true,
                    },
                )
                .await
                .map_err(AppError::from_store)?;
                users::link_oidc(&mut tx, &id.issuer, &id.subject, u.id).await?;
                crate::audit::record(
                    &mut tx,
                    None,
                    "user.create",
                    "user",
                    u.id,
                    json!({"after": {"username": u.username, "role": u.role, "email": u.email},
                           "via": "oidc", "issuer": id.issuer, "subject": id.subject}),
                )
                .await?;
                u
            }
        };
        self.open_session(tx, &user, json!({"via": "oidc", "issuer": id.issuer}))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_claim_must_name_exactly_one_staff_role() {
        let r = |v: serde_json::Value| role_from_claim(Some(&v), "zizhi_role");
        assert_eq!(r(json!("project_lead")).unwrap(), Role::ProjectLead);
        assert_eq!(
            r(json!(["staff", "expert", "someone"])).unwrap(),
            Role::Expert,
            "groups: the one staff role among them"
        );
        assert!(r(json!("applicant")).is_err(), "never an applicant");
        assert!(r(json!(["expert", "supervisor"])).is_err(), "two roles");
        assert!(r(json!(42)).is_err());
        assert!(role_from_claim(None, "zizhi_role").is_err());
    }

    #[test]
    fn usernames_come_from_the_claims() {
        let id = |u: Option<&str>, e: Option<&str>| OidcIdentity {
            preferred_username: u.map(str::to_string),
            email: e.map(str::to_string),
            ..Default::default()
        };
        assert_eq!(
            username_for(&id(Some("li.si"), None)).as_deref(),
            Some("li.si")
        );
        assert_eq!(
            username_for(&id(None, Some("wang_wu@centre.example"))).as_deref(),
            Some("wang_wu")
        );
        assert_eq!(
            username_for(&id(Some("李四"), None)),
            None,
            "nothing usable"
        );
        assert_eq!(username_for(&id(None, None)), None);
    }
}
