//! Signing in and out (guide: none; issue 9): the password, then the second factor (a TOTP code
//! or a recovery code, each used once); failures counted per (name typed, client address) with
//! back-off; the same answer for a wrong password, an unknown name and a locked pair; sessions
//! with an idle and an absolute lifetime.

use serde_json::json;
use zizhi_store::{Tx, now_us, sessions, throttle, users};

use crate::accounts::{NewSession, SIGN_IN_PASSWORD, User, record};
use crate::policy::{Action, Actor};
use crate::secrets::{self, verify_password_async};
use crate::{App, AppError, Result, totp};

/// The answer to a wrong second-factor code (TOTP or recovery code).
fn wrong_code() -> AppError {
    AppError::invalid(
        "totp",
        "动态验证码或恢复码不正确",
        "the one-time code or recovery code is wrong",
    )
}

impl App {
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
        // A self-registered account signs in once its address is confirmed: the right
        // password sends a fresh link and says so.
        if !u.email_confirmed {
            return Err(self.unconfirmed_sign_in(&u).await?);
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
        match sessions::session_user(&self.db, token, created_after).await? {
            Some(s) => self.session_of(token, s).await,
            None => Ok(None),
        }
    }

    /// A live session's actor, CSRF token and user, unless the user is disabled; slides its
    /// idle expiry (at most once a minute).
    pub(crate) async fn session_of(
        &self,
        token: &str,
        s: sessions::TokenUser,
    ) -> Result<Option<(Actor, String, User)>> {
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
}
