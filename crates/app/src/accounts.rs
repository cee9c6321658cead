//! Accounts: users, passwords, API tokens, the second factor and its recovery codes
//! (signing in is `signin.rs`).

use serde_json::json;
use zizhi_domain::roles::Role;
use zizhi_store::{Tx, now_us, organizations, outbox, sessions, throttle, users};

use crate::policy::{Action, Actor};
use crate::secrets::{self, hash_password_async, verify_password_async};
use crate::{App, AppError, Result, totp};

pub use zizhi_store::audit::{Event, Verification};
pub use zizhi_store::organizations::Organization;
pub use zizhi_store::users::User;

/// A new session: the cookie token and the CSRF token bound to it.
#[derive(Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub actor: Actor,
}

/// Without the tokens.
impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// Who a bearer token speaks for ([`App::bearer`]).
#[derive(Debug, Clone)]
pub enum Bearer {
    /// An API token: its owner.
    ApiToken(Actor),
    /// A session's token sent as a bearer: the actor and the user (whose flags the API
    /// reports).
    Session(Actor, Box<User>),
}

/// Input for creating a user.
#[derive(Clone, Default)]
pub struct NewUserInput {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub organization_id: Option<i64>,
    /// `None`: generate one and require a change at first sign-in.
    pub password: Option<String>,
}

/// Without the password.
impl std::fmt::Debug for NewUserInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUserInput")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}

pub(crate) async fn record(
    tx: &mut Tx,
    actor: Option<&Actor>,
    action: &str,
    object_type: &str,
    object_id: impl ToString,
    summary: serde_json::Value,
) -> Result<()> {
    crate::audit::record(tx, actor, action, object_type, object_id, summary).await
}

/// A user who signs in with a password (and, for staff, a second factor).
pub const SIGN_IN_PASSWORD: &str = "password";
/// A user who signs in only through the centre's OpenID Connect provider (no local password;
/// the provider is responsible for the second factor).
pub const SIGN_IN_OIDC: &str = "oidc";

/// Refuses password work for a single sign-on user, naming `field`.
pub(crate) fn not_for_sso(u: &User, field: &str) -> Result<()> {
    if u.sign_in == SIGN_IN_OIDC {
        return Err(AppError::invalid(
            field,
            "该账号通过单点登录（OpenID Connect）登录，密码由身份提供方管理",
            "this account signs in through single sign-on (OpenID Connect); its password is kept by the identity provider",
        ));
    }
    Ok(())
}

pub(crate) fn role_of(u: &User) -> Result<Role> {
    Role::parse(&u.role)
        .ok_or_else(|| AppError::Internal(format!("user {} has unknown role {}", u.id, u.role)))
}

pub(crate) fn validate_username(name: &str) -> Result<()> {
    let ok = (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "username",
            "用户名须为 3 至 64 个字符，只含字母、数字和 . _ -",
            "a username has 3 to 64 characters: letters, digits and . _ -",
        ))
    }
}

fn validate_email(email: &str) -> Result<()> {
    validate_email_field("email", email)
}

/// Checks an e-mail address, naming `field` when it is not one.
pub(crate) fn validate_email_field(field: &str, email: &str) -> Result<()> {
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !email.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            "电子邮箱地址格式不正确",
            "not a valid e-mail address",
        ))
    }
}

impl App {
    /// The actor for a user record.
    pub fn actor_for(&self, u: &User) -> Result<Actor> {
        let role = role_of(u)?;
        Ok(Actor {
            user_id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role,
            organization_id: u.organization_id,
            needs_totp_enrollment: self.config.require_totp_for_staff
                && role.is_staff()
                && u.sign_in != SIGN_IN_OIDC
                && u.totp_secret.is_none(),
            must_change_password: u.must_change_password,
        })
    }

    /// On first start with no users: creates the administrator `admin` with a one-time
    /// password to be changed at first sign-in. Returns the password, once.
    pub async fn bootstrap_admin(&self) -> Result<Option<(String, String)>> {
        if users::count(&self.db).await? > 0 {
            return Ok(None);
        }
        let password = secrets::generated_password();
        let input = NewUserInput {
            username: "admin".into(),
            display_name: "系统管理员".into(),
            email: "admin@localhost.invalid".into(),
            role: Role::Administrator.as_str().into(),
            organization_id: None,
            password: Some(password.clone()),
        };
        let u = self.insert_user(None, &input, true).await?;
        Ok(Some((u.username, password)))
    }

    /// Creates a user (administrators; `None` actor = the `zizhi admin` command line).
    /// Returns the user and the generated password when none was given.
    pub async fn create_user(
        &self,
        actor: Option<&Actor>,
        input: NewUserInput,
    ) -> Result<(User, Option<String>)> {
        if let Some(a) = actor {
            self.authorize(a, &Action::CreateUser)?;
        }
        let (input, generated) = match &input.password {
            Some(_) => (input, None),
            None => {
                let p = secrets::generated_password();
                (
                    NewUserInput {
                        password: Some(p.clone()),
                        ..input
                    },
                    Some(p),
                )
            }
        };
        let must_change = generated.is_some();
        let u = self.insert_user(actor, &input, must_change).await?;
        Ok((u, generated))
    }

    async fn insert_user(
        &self,
        actor: Option<&Actor>,
        input: &NewUserInput,
        must_change: bool,
    ) -> Result<User> {
        let username = input.username.trim();
        validate_username(username)?;
        let display_name = input.display_name.trim();
        crate::limits::bounded("display_name", display_name, crate::limits::NAME)?;
        if display_name.is_empty() {
            return Err(AppError::invalid(
                "display_name",
                "姓名不能为空",
                "the name must not be empty",
            ));
        }
        validate_email(input.email.trim())?;
        let role = Role::parse(&input.role).ok_or_else(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            AppError::invalid(
                "role",
                format!("未知角色“{}”（可选：{}）", input.role, all.join("、")),
                format!(
                    "unknown role \"{}\" (one of {})",
                    input.role,
                    all.join(", ")
                ),
            )
        })?;
        match (role, input.organization_id) {
            (Role::Applicant, None) => {
                return Err(AppError::invalid(
                    "organization_id",
                    "申请单位用户须属于一个申请单位",
                    "an applicant user belongs to an applicant organisation",
                ));
            }
            (r, Some(_)) if r.is_staff() => {
                return Err(AppError::invalid(
                    "organization_id",
                    "测评中心工作人员不属于申请单位",
                    "centre staff do not belong to an applicant organisation",
                ));
            }
            _ => {}
        }
        if let Some(org) = input.organization_id
            && organizations::get(&self.db, org).await?.is_none()
        {
            return Err(AppError::invalid(
                "organization_id",
                format!("申请单位 {org} 不存在"),
                format!("organisation {org} does not exist"),
            ));
        }
        let password = input.password.as_deref().unwrap_or_default();
        crate::passwords::check("password", password, &[username, input.email.trim()])?;
        let hash = hash_password_async(password).await?;
        let mut tx = self.db.begin().await?;
        let u = users::insert(
            &mut tx,
            &users::NewUser {
                username,
                display_name,
                email: input.email.trim(),
                role: role.as_str(),
                organization_id: input.organization_id,
                password_hash: &hash,
                must_change_password: must_change,
                sign_in: SIGN_IN_PASSWORD,
                email_confirmed: true,
            },
        )
        .await
        .map_err(AppError::from_store)?;
        record(&mut tx, actor, "user.create", "user", u.id, json!({"after": {"username": u.username, "role": u.role, "organization_id": u.organization_id, "email": u.email}})).await?;
        let role_name = role.name();
        outbox::enqueue(
            &mut tx,
            &u.email,
            "【资质认定】账号已开通 / Your zizhi account",
            &format!(
                "{name}，您好：\n\n您在信息安全服务资质认定系统的账号已开通。\n用户名：{user}\n角色：{rzh}\n初始密码请向系统管理员索取，首次登录后须修改。\n\nDear {name},\n\nYour account on the qualification certification system is open.\nUsername: {user}\nRole: {ren}\nAsk your administrator for the initial password; you will change it at first sign-in.\n",
                name = u.display_name, user = u.username, rzh = role_name.zh, ren = role_name.en
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(u)
    }

    /// Sets a new generated password and ends the user's sessions. Returns the password.
    pub async fn reset_password(&self, actor: Option<&Actor>, username: &str) -> Result<String> {
        if let Some(a) = actor {
            self.authorize(a, &Action::ResetPassword)?;
        }
        let u = users::by_username(&self.db, username)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        not_for_sso(&u, "username")?;
        let password = secrets::generated_password();
        let hash = hash_password_async(&password).await?;
        let mut tx = self.db.begin().await?;
        users::set_password(&mut tx, u.id, &hash, true).await?;
        sessions::delete_for_user(&mut tx, u.id, None).await?;
        throttle::clear_all(&mut tx, &u.username.to_lowercase()).await?;
        record(
            &mut tx,
            actor,
            "user.reset_password",
            "user",
            u.id,
            json!({"username": u.username, "must_change_password": true}),
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            &u.email,
            "【资质认定】密码已重置 / Your password was reset",
            &format!(
                "{name}，您好：\n\n您的密码已由系统管理员重置，原有登录会话已全部退出。新初始密码请向系统管理员索取。若非您本人申请，请立即联系测评中心。\n\nDear {name},\n\nAn administrator reset your password and ended your sessions. Ask the administrator for the new initial password. If you did not ask for this, contact the centre at once.\n",
                name = u.display_name
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(password)
    }

    /// Changes one's own password after checking the current one; other sessions end.
    /// Changes one's own password; every other session and every API token of the user ends
    /// (`keep_session`: the session that made the change stays signed in).
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        self.authorize(actor, &Action::ManageOwnAccount)?;
        let u = users::by_id(&self.db, actor.user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        not_for_sso(&u, "current_password")?;
        if !verify_password_async(current, &u.password_hash).await? {
            return Err(AppError::invalid(
                "current_password",
                "当前密码不正确",
                "the current password is wrong",
            ));
        }
        crate::passwords::check("new_password", new, &[&u.username, &u.email])?;
        if new == current {
            return Err(AppError::invalid(
                "new_password",
                "新密码不能与当前密码相同",
                "the new password must differ from the current one",
            ));
        }
        let hash = hash_password_async(new).await?;
        let mut tx = self.db.begin().await?;
        users::set_password(&mut tx, u.id, &hash, false).await?;
        sessions::delete_for_user(&mut tx, u.id, keep_session).await?;
        record(
            &mut tx,
            Some(actor),
            "user.change_password",
            "user",
            u.id,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_disabled(&self, actor: &Actor, user_id: i64, disabled: bool) -> Result<()> {
        self.authorize(actor, &Action::DisableUser)?;
        if user_id == actor.user_id {
            return Err(AppError::invalid(
                "user_id",
                "不能停用自己的账号",
                "you cannot disable your own account",
            ));
        }
        let u = users::by_id(&self.db, user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let mut tx = self.db.begin().await?;
        users::set_disabled(&mut tx, u.id, disabled).await?;
        if disabled {
            sessions::delete_for_user(&mut tx, u.id, None).await?;
        }
        record(
            &mut tx,
            Some(actor),
            "user.set_disabled",
            "user",
            u.id,
            json!({"before": {"disabled": u.disabled}, "after": {"disabled": disabled}}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One user's record (administrators).
    pub async fn user(&self, actor: &Actor, id: i64) -> Result<User> {
        self.authorize(actor, &Action::ListUsers)?;
        users::by_id(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("user"))
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        self.authorize(actor, &Action::ListUsers)?;
        Ok(users::list(&self.db).await?)
    }

    /// Issues an API token for the caller (shown once): [`sessions::API_TOKEN_PREFIX`] and 64
    /// hex digits.
    pub async fn create_api_token(&self, actor: &Actor, label: &str, days: i64) -> Result<String> {
        crate::limits::bounded("label", label.trim(), crate::limits::NAME)?;
        self.authorize(actor, &Action::ManageOwnAccount)?;
        if !(1..=366).contains(&days) {
            return Err(AppError::invalid(
                "days",
                "有效天数应为 1 至 366",
                "validity must be 1 to 366 days",
            ));
        }
        let token = format!("{}{}", sessions::API_TOKEN_PREFIX, secrets::token());
        let mut tx = self.db.begin().await?;
        sessions::insert_api_token(
            &mut tx,
            &token,
            actor.user_id,
            label.trim(),
            now_us() + days * 86_400_000_000,
        )
        .await?;
        record(
            &mut tx,
            Some(actor),
            "api_token.create",
            "user",
            actor.user_id,
            json!({"label": label.trim(), "days": days}),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Who a bearer token speaks for: a live API token of an enabled user (noting when it was
    /// last used, at most once a minute, not on every request), else a live session (sliding
    /// its idle expiry like a cookie's). One query where the token says which it is (issue 14).
    pub async fn bearer(&self, token: &str) -> Result<Option<Bearer>> {
        let created_after = now_us() - self.config.session_absolute_seconds * 1_000_000;
        let Some(t) = sessions::bearer_user(&self.db, token, created_after)
            .await?
            .filter(|t| !t.user.disabled)
        else {
            return Ok(None);
        };
        if !t.api_token {
            let s = self.session_of(token, t).await?;
            return Ok(s.map(|(actor, _, user)| Bearer::Session(actor, Box::new(user))));
        }
        if t.last_used_us.is_none_or(|at| now_us() - at > 60_000_000) {
            sessions::touch_api_token(&self.db, token).await?;
        }
        Ok(Some(Bearer::ApiToken(self.actor_for(&t.user)?)))
    }

    /// The caller's live API tokens (label, created, last used; never the secret).
    pub async fn api_tokens(&self, actor: &Actor) -> Result<Vec<sessions::ApiToken>> {
        self.authorize(actor, &Action::ManageOwnAccount)?;
        Ok(sessions::api_tokens_of(&self.db, actor.user_id).await?)
    }

    /// Revokes one of the caller's API tokens (404 when the caller has none with that id).
    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> Result<()> {
        self.authorize(actor, &Action::ManageOwnAccount)?;
        let mut tx = self.db.begin().await?;
        let label = sessions::revoke_api_token(&mut tx, actor.user_id, id)
            .await?
            .ok_or(AppError::NotFound("api_token"))?;
        record(
            &mut tx,
            Some(actor),
            "api_token.revoke",
            "user",
            actor.user_id,
            json!({"token_id": id, "label": label}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// New recovery codes for the caller's second factor, shown once: the old ones stop
    /// working. Only for a user with a second factor.
    pub async fn new_recovery_codes(&self, actor: &Actor) -> Result<Vec<String>> {
        self.authorize(actor, &Action::ManageOwnAccount)?;
        let u = users::by_id(&self.db, actor.user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if u.totp_secret.is_none() {
            return Err(AppError::invalid(
                "totp",
                "请先启用动态验证码，再生成恢复码",
                "enable the one-time code first, then make recovery codes",
            ));
        }
        let mut tx = self.db.begin().await?;
        let codes = store_recovery_codes(&mut tx, u.id).await?;
        record(
            &mut tx,
            Some(actor),
            "user.recovery_codes",
            "user",
            u.id,
            json!({"count": codes.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// How many unused recovery codes the caller has left.
    pub async fn recovery_codes_left(&self, actor: &Actor) -> Result<i64> {
        Ok(users::recovery_codes_left(&self.db, actor.user_id).await?)
    }

    /// Starts TOTP enrolment: a new secret (base32) and its otpauth URI. Nothing is stored
    /// until [`App::confirm_totp`] proves the app has it.
    pub fn new_totp_secret(&self, actor: &Actor) -> (String, String) {
        let secret = totp::base32_encode(&secrets::random_bytes(20));
        let uri = totp::otpauth_uri(&self.config.totp_issuer, &actor.username, &secret);
        (secret, uri)
    }

    /// Enables the second factor once `code` proves the app has the secret; returns the first
    /// recovery codes, to be shown once.
    pub async fn confirm_totp(
        &self,
        actor: &Actor,
        secret_b32: &str,
        code: &str,
    ) -> Result<Vec<String>> {
        self.authorize(actor, &Action::ManageOwnAccount)?;
        let key = totp::base32_decode(secret_b32)
            .filter(|k| k.len() >= 10)
            .ok_or_else(|| AppError::invalid("secret", "密钥格式不正确", "malformed secret"))?;
        if !totp::verify(&key, code, totp::now_unix()) {
            return Err(AppError::invalid(
                "totp",
                "动态验证码不正确",
                "the one-time code is wrong",
            ));
        }
        let mut tx = self.db.begin().await?;
        users::set_totp(&mut tx, actor.user_id, Some(secret_b32)).await?;
        let codes = store_recovery_codes(&mut tx, actor.user_id).await?;
        record(
            &mut tx,
            Some(actor),
            "user.enable_totp",
            "user",
            actor.user_id,
            json!({"recovery_codes": codes.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }
}

/// Makes and stores (hashed) a user's new recovery codes, replacing the old ones.
async fn store_recovery_codes(tx: &mut Tx, user_id: i64) -> Result<Vec<String>> {
    let codes = secrets::recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| secrets::recovery_code_hash(c))
        .collect();
    users::replace_recovery_codes(tx, user_id, &hashes).await?;
    Ok(codes)
}
