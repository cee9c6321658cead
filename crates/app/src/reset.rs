//! 忘记密码 (issue 13): a single-use link by e-mail to set a new password, valid 30 minutes,
//! only its SM3 hash stored.

use serde_json::json;
use zizhi_store::users::LinkKind;
use zizhi_store::{now_us, outbox, sessions, throttle, users};

use crate::accounts::{SIGN_IN_OIDC, record};
use crate::secrets::{self, hash_password_async};
use crate::{App, AppError, Result};

/// How long a password reset link works (issue 13: 30 minutes).
pub const RESET_LINK_MINUTES: i64 = 30;

pub(crate) fn link_hash(token: &str) -> String {
    use sm3::Digest;
    hex::encode(sm3::Sm3::digest(token.trim().as_bytes()))
}

impl App {
    /// 忘记密码: a single-use link to set a new password, valid [`RESET_LINK_MINUTES`],
    /// e-mailed to the account's address. `who` is a username or an e-mail address. The
    /// answer is the same whether or not such an account exists (nobody learns who has one);
    /// disabled accounts and single sign-on accounts get no link. Only the link's SM3 hash is
    /// stored; asking again makes the earlier link stop working.
    pub async fn request_password_reset(&self, who: &str) -> Result<()> {
        let who = who.trim();
        if who.is_empty() {
            return Err(AppError::invalid(
                "who",
                "请填写用户名或注册的电子邮箱",
                "enter your username or your registered e-mail address",
            ));
        }
        crate::limits::bounded("who", who, crate::limits::NAME)?;
        let user = match users::by_username(&self.db, who).await? {
            Some(u) => Some(u),
            None if who.contains('@') => {
                let mut found = users::by_email(&self.db, who).await?;
                // An address shared by several accounts names none of them.
                if found.len() == 1 { found.pop() } else { None }
            }
            None => None,
        };
        let Some(u) =
            user.filter(|u| !u.disabled && u.sign_in != SIGN_IN_OIDC && !u.email.trim().is_empty())
        else {
            return Ok(());
        };
        let token = secrets::token();
        let now = now_us();
        let expires = now + RESET_LINK_MINUTES * 60 * 1_000_000;
        let link = format!(
            "{}/reset-password/{token}",
            self.documents.public_url.trim_end_matches('/')
        );
        let mut tx = self.db.begin().await?;
        users::insert_link(
            &mut tx,
            LinkKind::PasswordReset,
            &link_hash(&token),
            u.id,
            now,
            expires,
        )
        .await?;
        record(
            &mut tx,
            None,
            "user.reset_requested",
            "user",
            u.id,
            json!({"username": u.username, "valid_minutes": RESET_LINK_MINUTES}),
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            &u.email,
            "【资质认定】重置密码 / Reset your password",
            &format!(
                "{name}，您好：\n\n请在 {m} 分钟内打开以下链接设置新密码（链接只能使用一次）：\n{link}\n\n如果不是您本人申请，请忽略本邮件，您的密码不会改变。\n\nDear {name},\n\nOpen this link within {m} minutes to set a new password (it works once):\n{link}\n\nIf you did not ask for this, ignore this e-mail; your password stays as it is.\n",
                name = u.display_name,
                m = RESET_LINK_MINUTES
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether a reset link still works (for the page that asks for the new password).
    pub async fn reset_link_valid(&self, token: &str) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let r = users::link_of(&mut tx, LinkKind::PasswordReset, &link_hash(token)).await?;
        drop(tx);
        Ok(r.is_some_and(|r| r.used_us.is_none() && r.expires_us > now_us()))
    }

    /// Sets a new password through a reset link: once, within its time; every session and
    /// API token of the user ends, and the user is told by e-mail.
    pub async fn reset_password_with_link(&self, token: &str, new: &str) -> Result<()> {
        let gone = || {
            AppError::invalid(
                "token",
                "重置链接无效、已使用或已过期（30 分钟内有效），请重新申请",
                "the reset link is invalid, used or expired (it works for 30 minutes); ask for a new one",
            )
        };
        let hash = link_hash(token);
        let mut tx = self.db.begin().await?;
        let r = users::link_of(&mut tx, LinkKind::PasswordReset, &hash).await?;
        drop(tx);
        let r = r
            .filter(|r| r.used_us.is_none() && r.expires_us > now_us())
            .ok_or_else(gone)?;
        let u = users::by_id(&self.db, r.user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        crate::passwords::check("new_password", new, &[&u.username, &u.email])?;
        let phc = hash_password_async(new).await?;
        let mut tx = self.db.begin().await?;
        // Again under the lock: two uses of one link cannot both pass.
        let still = users::link_of(&mut tx, LinkKind::PasswordReset, &hash).await?;
        if !still.is_some_and(|r| r.used_us.is_none() && r.expires_us > now_us()) {
            return Err(gone());
        }
        users::use_link(&mut tx, LinkKind::PasswordReset, &hash).await?;
        users::set_password(&mut tx, u.id, &phc, false).await?;
        sessions::delete_for_user(&mut tx, u.id, None).await?;
        throttle::clear_all(&mut tx, &u.username.to_lowercase()).await?;
        record(
            &mut tx,
            None,
            "user.reset_by_link",
            "user",
            u.id,
            json!({"username": u.username}),
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            &u.email,
            "【资质认定】密码已修改 / Your password was changed",
            &format!(
                "{name}，您好：\n\n您的密码已通过重置链接修改，原有登录会话已全部退出。若非您本人操作，请立即联系测评中心。\n\nDear {name},\n\nYour password was changed through a reset link and your sessions were ended. If this was not you, contact the centre at once.\n",
                name = u.display_name
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
