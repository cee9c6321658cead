//! Accounts, organisations, sign-in and sessions, the audit log.

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

async fn record(
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
fn not_for_sso(u: &User, field: &str) -> Result<()> {
    if u.sign_in == SIGN_IN_OIDC {
        return Err(AppError::invalid(
            field,
            "该账号通过单点登录（OpenID Connect）登录，密码由身份提供方管理",
            "this account signs in through single sign-on (OpenID Connect); its password is kept by the identity provider",
        ));
    }
    Ok(())
}

/// The answer to a wrong second-factor code (TOTP or recovery code).
fn wrong_code() -> AppError {
    AppError::invalid(
        "totp",
        "动态验证码或恢复码不正确",
        "the one-time code or recovery code is wrong",
    )
}

fn role_of(u: &User) -> Result<Role> {
    Role::parse(&u.role)
        .ok_or_else(|| AppError::Internal(format!("user {} has unknown role {}", u.id, u.role)))
}

fn validate_username(name: &str) -> Result<()> {
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

    /// Names whose sign-in is locked now from some address, with the number of addresses
    /// (administrators).
    pub async fn locked_sign_ins(
        &self,
        actor: &Actor,
    ) -> Result<std::collections::HashMap<String, i64>> {
        self.authorize(actor, &Action::ListUsers)?;
        Ok(throttle::locked_names(&self.db)
            .await?
            .into_iter()
            .collect())
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        self.authorize(actor, &Action::ListUsers)?;
        Ok(users::list(&self.db).await?)
    }

    /// Counts a failed sign-in for the pair (name typed, address) and locks the pair at the
    /// threshold, with back-off: the first lock lasts `lockout_seconds`, each failure after it
    /// doubles the lock, up to a day. An existing account also counts the failure and audits
    /// it. The answer stays the same whatever happened.
    async fn login_failed(
        &self,
        key: &str,
        address: &str,
        user: Option<&User>,
        reason: &str,
    ) -> Result<()> {
        let threshold = self.config.lockout_threshold;
        let base = self.config.lockout_seconds;
        let now = now_us();
        let mut tx = self.db.begin().await?;
        let (failures, lock) = throttle::record_failure(&mut tx, key, address, |n| {
            (n >= threshold).then(|| {
                let doublings = u32::try_from(n - threshold).unwrap_or(0).min(16);
                let seconds = base.saturating_mul(1 << doublings).min(86_400);
                now + seconds * 1_000_000
            })
        })
        .await?;
        if let Some(u) = user {
            users::record_failure(&mut tx, u.id, None).await?;
            record(
                &mut tx,
                None,
                "user.login_failed",
                "user",
                u.id,
                json!({"username": u.username, "reason": reason, "address": address, "failures": failures, "locked_until_us": lock}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Signs in with no known client address (the command line, tests): see [`App::login_from`].
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        second_factor: Option<&str>,
    ) -> Result<NewSession> {
        self.login_from(username, password, second_factor, None)
            .await
    }

    /// Signs in: the password, then the second factor when the user has one (a TOTP code, or a
    /// recovery code instead). A wrong password, an unknown name, a disabled account and a
    /// locked (name, address) pair all get the same answer, [`AppError::Unauthenticated`]; a
    /// wrong second factor counts like a wrong password, and a code is accepted once.
    pub async fn login_from(
        &self,
        username: &str,
        password: &str,
        second_factor: Option<&str>,
        address: Option<std::net::IpAddr>,
    ) -> Result<NewSession> {
        let username = username.trim();
        // The pair a failure counts against: the name as typed (bounded, case folded) and the
        // client's address.
        let key: String = username.to_lowercase().chars().take(64).collect();
        let address = address.map_or_else(|| "-".to_string(), |a| a.to_string());
        let now = now_us();
        if let Some(t) = throttle::get(&self.db, &key, &address).await?
            && t.locked_until_us.is_some_and(|until| until > now)
        {
            return Err(AppError::Unauthenticated);
        }
        let user = if username.len() <= 64 {
            users::by_username(&self.db, username).await?
        } else {
            None
        };
        let Some(u) = user else {
            // Same work as for a real user, so timing does not reveal who exists.
            secrets::verify_against_dummy(password).await?;
            self.login_failed(&key, &address, None, "unknown").await?;
            return Err(AppError::Unauthenticated);
        };
        // A single sign-on user has no local password ("!" never verifies): the same answer.
        let password_ok = verify_password_async(password, &u.password_hash).await?
            && !u.disabled
            && u.sign_in == SIGN_IN_PASSWORD;
        if !password_ok {
            self.login_failed(&key, &address, Some(&u), "password")
                .await?;
            return Err(AppError::Unauthenticated);
        }
        // The second factor: a TOTP code (its time step is then used up) or a recovery code
        // (used up too).
        let mut totp_step = None;
        let mut recovery = None;
        if let Some(secret) = &u.totp_secret {
            let key_bytes = totp::base32_decode(secret)
                .ok_or_else(|| AppError::Internal("stored TOTP secret is not base32".into()))?;
            let code = second_factor.map(str::trim).unwrap_or_default();
            if code.is_empty() {
                return Err(AppError::TotpRequired);
            }
            if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                totp_step = totp::matching_step(&key_bytes, code, totp::now_unix());
            } else {
                recovery = Some(secrets::recovery_code_hash(code));
            }
            if totp_step.is_none() && recovery.is_none() {
                self.login_failed(&key, &address, Some(&u), "totp").await?;
                return Err(wrong_code());
            }
        }
        let mut tx = self.db.begin().await?;
        if let Some(step) = totp_step
            && !users::claim_totp_step(&mut tx, u.id, i64::try_from(step).unwrap_or(i64::MAX))
                .await?
        {
            return Err(AppError::invalid(
                "totp",
                "该动态验证码已使用过，请等待下一个验证码",
                "this one-time code was used already; wait for the next one",
            ));
        }
        if let Some(h) = &recovery
            && !users::use_recovery_code(&mut tx, u.id, h).await?
        {
            drop(tx);
            self.login_failed(&key, &address, Some(&u), "recovery_code")
                .await?;
            return Err(wrong_code());
        }
        throttle::clear(&mut tx, &key, &address).await?;
        let how = if recovery.is_some() {
            json!({"second_factor": "recovery_code"})
        } else {
            json!({})
        };
        let session = self.open_session(tx, &u, how).await?;
        Ok(session)
    }

    /// Opens a session for a user whose sign-in succeeded (any way), audited with `how`, and
    /// commits `tx`.
    pub(crate) async fn open_session(
        &self,
        mut tx: Tx,
        u: &User,
        how: serde_json::Value,
    ) -> Result<NewSession> {
        let actor = self.actor_for(u)?;
        let token = secrets::token();
        let csrf_token = secrets::token();
        users::record_success(&mut tx, u.id).await?;
        sessions::insert(
            &mut tx,
            &token,
            u.id,
            &csrf_token,
            now_us() + self.config.session_idle_seconds * 1_000_000,
        )
        .await?;
        record(&mut tx, Some(&actor), "user.login", "user", u.id, how).await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            csrf_token,
            actor,
        })
    }

    /// The actor and CSRF token of a live session; slides its idle expiry.
    pub async fn session(&self, token: &str) -> Result<Option<(Actor, String, User)>> {
        let created_after = now_us() - self.config.session_absolute_seconds * 1_000_000;
        let Some(s) = sessions::session_user(&self.db, token, created_after).await? else {
            return Ok(None);
        };
        let u = s.user;
        if u.disabled {
            return Ok(None);
        }
        // Slide the expiry at most once a minute, not on every request.
        let fresh = now_us() + self.config.session_idle_seconds * 1_000_000;
        if fresh - s.expires_us > 60_000_000 {
            sessions::touch(&self.db, token, fresh).await?;
        }
        Ok(Some((
            self.actor_for(&u)?,
            s.csrf_token.unwrap_or_default(),
            u,
        )))
    }

    pub async fn logout(&self, actor: &Actor, token: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        sessions::delete(&mut tx, token).await?;
        record(
            &mut tx,
            Some(actor),
            "user.logout",
            "user",
            actor.user_id,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues an API token for the caller (shown once).
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
        let token = secrets::token();
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

    /// The actor of a bearer API token; notes when the token was last used (at most once a
    /// minute, not on every request).
    pub async fn api_actor(&self, token: &str) -> Result<Option<Actor>> {
        match sessions::api_token_user(&self.db, token).await? {
            Some(t) if !t.user.disabled => {
                if t.last_used_us.is_none_or(|at| now_us() - at > 60_000_000) {
                    sessions::touch_api_token(&self.db, token).await?;
                }
                Ok(Some(self.actor_for(&t.user)?))
            }
            _ => Ok(None),
        }
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
