//! An applicant company registers itself (issue 13; the guide says only that an applicant
//! applies, 5.1, so the steps are the centre's): it gives its facts as on the 申请书 (name,
//! USCC with its check character, address, legal representative, contact person, phone and the
//! designated e-mail 指定电子邮箱) and opens its first account; the address is confirmed
//! through a single-use link sent to it ([`CONFIRM_LINK_HOURS`]); an administrator then
//! approves the organisation — or rejects it with a reason, after which the applicant may
//! correct its facts and ask again. Until approved it may prepare (sign in, fill its facts,
//! upload evidence) but not open an application. A registration never confirmed lapses when
//! its link expires: its USCC and username can then be registered again.

use serde_json::json;
use zizhi_domain::lang::Text;
use zizhi_domain::roles::Role;
use zizhi_domain::uscc::Uscc;
use zizhi_store::organizations::{self as orgs, Contact, Organization};
use zizhi_store::users::{self, LinkKind, User};
use zizhi_store::{Tx, now_us, outbox};

use crate::accounts::{SIGN_IN_PASSWORD, record};
use crate::notify::messages;
use crate::policy::{Action, Actor};
use crate::reset::link_hash;
use crate::secrets::{self, hash_password_async};
use crate::{App, AppError, Result};

/// How long an e-mail confirmation link works. The guide gives no number; a day is long
/// enough to find the mail, and signing in with the right password sends a fresh link.
pub const CONFIRM_LINK_HOURS: i64 = 24;

/// What the registration form carries.
#[derive(Clone, Default, serde::Deserialize)]
pub struct Registration {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub uscc: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub legal_representative: String,
    #[serde(default)]
    pub contact_person: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub again: String,
    /// The declaration that the facts are true (承诺所填信息真实、准确).
    #[serde(default)]
    pub pledge: Option<String>,
}

/// Without the passwords.
impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .field("uscc", &self.uscc)
            .field("username", &self.username)
            .field("contact_email", &self.contact_email)
            .finish_non_exhaustive()
    }
}

/// One problem with what was typed: the field and the words.
pub type Problem = (String, Text);

fn problem_of(e: AppError) -> Option<Problem> {
    match e {
        AppError::Invalid { field, problem } => Some((field, problem)),
        _ => None,
    }
}

/// The registration's state in words.
pub fn state_text(state: &str) -> Text {
    match state {
        orgs::PENDING => Text::new("待审核", "waiting for approval"),
        orgs::REJECTED => Text::new("未通过审核", "rejected"),
        orgs::LAPSED => Text::new(
            "已失效（联系邮箱未在期限内确认）",
            "lapsed (the address was never confirmed)",
        ),
        _ => Text::new("已审核通过", "approved"),
    }
}

/// An administrator's decision as the page and the API send it: `approve` (true) or
/// `reject` (false).
pub fn parse_decision(s: &str) -> Result<bool> {
    match s.trim() {
        "approve" => Ok(true),
        "reject" => Ok(false),
        _ => Err(AppError::invalid(
            "decision",
            "请选择批准（approve）或驳回（reject）",
            "choose approve or reject",
        )),
    }
}

/// Whether one of these accounts (enabled) confirmed its address: an administrator approves
/// a registration only then.
fn has_confirmed_member(members: &[User]) -> bool {
    members.iter().any(|u| u.email_confirmed && !u.disabled)
}

impl Registration {
    /// The contact facts, trimmed.
    fn contact(&self) -> Contact {
        crate::organizations::trimmed(&Contact {
            address: self.address.clone(),
            legal_representative: self.legal_representative.clone(),
            contact_person: self.contact_person.clone(),
            contact_phone: self.contact_phone.clone(),
            contact_email: self.contact_email.clone(),
        })
    }
}

impl App {
    /// Every problem with a registration at once, each naming its field: the form's own
    /// checks (the USCC's check character, required facts, the e-mail's form, the username's
    /// characters, the password rule, the two passwords alike, the declaration) and what is
    /// taken already (the USCC, the username).
    pub async fn registration_problems(&self, r: &Registration) -> Result<Vec<Problem>> {
        Ok(self.check_registration(r).await?.0)
    }

    /// The problems, and the lapsed registration of the USCC that this one would replace.
    async fn check_registration(
        &self,
        r: &Registration,
    ) -> Result<(Vec<Problem>, Option<Organization>)> {
        let mut errors: Vec<AppError> = Vec::new();
        let name = r.name.trim();
        if name.is_empty() {
            errors.push(AppError::invalid(
                "name",
                "请填写单位名称（与营业执照一致）",
                "enter the organisation's name (as on its business licence)",
            ));
        } else if let Err(e) = crate::limits::bounded("name", name, crate::limits::NAME) {
            errors.push(e);
        }
        let uscc = Uscc::parse(&r.uscc)
            .map_err(|e| {
                errors.push(AppError::Invalid {
                    field: "uscc".into(),
                    problem: e.text(),
                })
            })
            .ok();
        errors.extend(crate::organizations::contact_problems(&r.contact()));
        let username = r.username.trim();
        errors.extend(crate::accounts::validate_username(username).err());
        if r.password != r.again {
            errors.push(AppError::invalid(
                "again",
                "两次输入的密码不一致",
                "the two passwords differ",
            ));
        }
        errors.extend(
            crate::passwords::check("password", &r.password, &[username, r.contact_email.trim()])
                .err(),
        );
        if r.pledge.is_none() {
            errors.push(AppError::invalid(
                "pledge",
                "请确认所填信息真实、准确",
                "confirm that the facts given are true and accurate",
            ));
        }
        let lapsed = match &uscc {
            Some(u) => self.lapsed_registration(u.as_str()).await?,
            None => None,
        };
        if let Some(u) = &uscc
            && lapsed.is_none()
            && orgs::by_uscc(&self.db, u.as_str()).await?.is_some()
        {
            errors.push(AppError::invalid(
                "uscc",
                "该统一社会信用代码已注册。如需为本单位增加账号或找回账号，请联系测评中心（指南 十）",
                "this USCC is registered already; to add or recover an account of the organisation, contact the centre (guide 10)",
            ));
        }
        let holder = if errors
            .iter()
            .all(|e| !matches!(e, AppError::Invalid { field, .. } if field == "username"))
        {
            users::by_username(&self.db, username).await?
        } else {
            None
        };
        // A lapsed registration's own username is free again with it.
        if holder.is_some_and(|h| {
            lapsed
                .as_ref()
                .is_none_or(|l| h.organization_id != Some(l.id))
        }) {
            errors.push(AppError::invalid(
                "username",
                "该用户名已被使用，请换一个",
                "this username is taken; choose another",
            ));
        }
        let mut out = Vec::with_capacity(errors.len());
        for e in errors {
            match problem_of(e) {
                Some(p) => out.push(p),
                None => return Err(AppError::Internal("a form check failed otherwise".into())),
            }
        }
        Ok((out, lapsed))
    }

    /// The registration of this USCC if it lapsed: waiting, none of its accounts confirmed its
    /// address, and [`CONFIRM_LINK_HOURS`] past since it was made (its link expired then). Such
    /// a registration does not keep the USCC from its rightful owner.
    async fn lapsed_registration(&self, uscc: &str) -> Result<Option<Organization>> {
        let Some(org) = orgs::by_uscc(&self.db, uscc).await? else {
            return Ok(None);
        };
        if org.registration != orgs::PENDING
            || now_us() < org.created_us + CONFIRM_LINK_HOURS * 3_600_000_000
        {
            return Ok(None);
        }
        let members = users::of_organization(&self.db, org.id).await?;
        if members.iter().any(|u| u.email_confirmed) {
            return Ok(None);
        }
        Ok(Some(org))
    }

    /// Registers an organisation and its first account, waiting for the address to be
    /// confirmed and an administrator's approval. The account's holder is the contact person
    /// and its address the designated e-mail. Fails with the first problem of
    /// [`App::registration_problems`] (a page shows them all before calling this).
    pub async fn register_organization(&self, r: &Registration) -> Result<(Organization, User)> {
        let (problems, lapsed) = self.check_registration(r).await?;
        if let Some((field, problem)) = problems.into_iter().next() {
            return Err(AppError::Invalid { field, problem });
        }
        let uscc = Uscc::parse(&r.uscc).map_err(|e| AppError::Invalid {
            field: "uscc".into(),
            problem: e.text(),
        })?;
        let contact = r.contact();
        let hash = hash_password_async(&r.password).await?;
        let mut tx = self.db.begin().await?;
        // An earlier registration of this USCC whose address was never confirmed lapsed: it is
        // marked so and its USCC and usernames freed (the rows stay), recorded, and this one
        // takes its place.
        if let Some(old) = &lapsed {
            let mut removed = Vec::new();
            for u in users::of_organization(&self.db, old.id).await? {
                if users::retire_unconfirmed(&mut tx, u.id).await? {
                    removed.push(u.username);
                }
            }
            if !orgs::lapse_pending(&mut tx, old.id).await? {
                return Err(AppError::Conflict {
                    field: "uscc".into(),
                });
            }
            record(
                &mut tx,
                None,
                "organization.registration_lapsed",
                "organization",
                old.id,
                json!({"uscc": old.uscc, "name": old.name, "registered_us": old.created_us, "accounts": removed}),
            )
            .await?;
        }
        let org = orgs::insert_registered(&mut tx, uscc.as_str(), r.name.trim(), &contact)
            .await
            .map_err(crate::organizations::uscc_taken)?;
        let u = users::insert(
            &mut tx,
            &users::NewUser {
                username: r.username.trim(),
                display_name: &contact.contact_person,
                email: &contact.contact_email,
                role: Role::Applicant.as_str(),
                organization_id: Some(org.id),
                password_hash: &hash,
                must_change_password: false,
                sign_in: SIGN_IN_PASSWORD,
                email_confirmed: false,
            },
        )
        .await
        .map_err(AppError::from_store)?;
        let actor = self.actor_for(&u)?;
        record(
            &mut tx,
            Some(&actor),
            "organization.register",
            "organization",
            org.id,
            json!({"after": {"uscc": org.uscc, "name": org.name, "registration": org.registration, "username": u.username, "contact_email": contact.contact_email}}),
        )
        .await?;
        self.send_confirmation(&mut tx, &u).await?;
        tx.commit().await?;
        Ok((org, u))
    }

    /// Queues a fresh confirmation link to the user's address (earlier ones stop working).
    async fn send_confirmation(&self, tx: &mut Tx, u: &User) -> Result<()> {
        let token = secrets::token();
        let now = now_us();
        let expires = now + CONFIRM_LINK_HOURS * 3_600_000_000;
        users::insert_link(
            tx,
            LinkKind::EmailConfirmation,
            &link_hash(&token),
            u.id,
            now,
            expires,
        )
        .await?;
        let link = format!(
            "{}/register/confirm/{token}",
            self.documents.public_url.trim_end_matches('/')
        );
        record(
            tx,
            None,
            "user.confirmation_sent",
            "user",
            u.id,
            json!({"username": u.username, "valid_hours": CONFIRM_LINK_HOURS}),
        )
        .await?;
        let m =
            messages::registration_confirm(&u.display_name, &u.username, CONFIRM_LINK_HOURS, &link);
        outbox::enqueue(tx, &u.email, &m.subject, &m.body).await?;
        Ok(())
    }

    /// Signing in with the right password to an account whose address is not confirmed yet:
    /// a fresh link goes out, and the answer says so (naming the address the link went to).
    pub(crate) async fn unconfirmed_sign_in(&self, u: &User) -> Result<AppError> {
        let mut tx = self.db.begin().await?;
        self.send_confirmation(&mut tx, u).await?;
        tx.commit().await?;
        Ok(AppError::invalid(
            "username",
            format!(
                "该账号的电子邮箱尚未确认：新的确认链接已发送到 {}，请打开邮件中的链接（{} 小时内有效）后再登录",
                u.email, CONFIRM_LINK_HOURS
            ),
            format!(
                "this account's e-mail address is not confirmed yet: a new link went to {}; open it (it works for {} hours), then sign in",
                u.email, CONFIRM_LINK_HOURS
            ),
        ))
    }

    /// Whether a confirmation link still works (for the page that confirms through it).
    pub async fn confirmation_link_valid(&self, token: &str) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let r = users::link_of(&mut tx, LinkKind::EmailConfirmation, &link_hash(token)).await?;
        drop(tx);
        Ok(r.is_some_and(|r| r.used_us.is_none() && r.expires_us > now_us()))
    }

    /// Confirms the address through its link (once, within its time). The administrators are
    /// told that a registration waits for them.
    pub async fn confirm_email(&self, token: &str) -> Result<User> {
        let gone = || {
            AppError::invalid(
                "token",
                format!(
                    "确认链接无效、已使用或已过期（{CONFIRM_LINK_HOURS} 小时内有效）；用注册的用户名和密码登录即会收到新的链接"
                ),
                format!(
                    "the confirmation link is invalid, used or expired (it works for {CONFIRM_LINK_HOURS} hours); sign in with your username and password to receive a new one"
                ),
            )
        };
        let hash = link_hash(token);
        let mut tx = self.db.begin().await?;
        let link = users::link_of(&mut tx, LinkKind::EmailConfirmation, &hash)
            .await?
            .filter(|r| r.used_us.is_none() && r.expires_us > now_us())
            .ok_or_else(gone)?;
        let u = users::by_id(&self.db, link.user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        users::use_link(&mut tx, LinkKind::EmailConfirmation, &hash).await?;
        users::confirm_email(&mut tx, u.id).await?;
        let actor = self.actor_for(&u)?;
        record(
            &mut tx,
            Some(&actor),
            "user.email_confirmed",
            "user",
            u.id,
            json!({"username": u.username, "email": u.email}),
        )
        .await?;
        if let Some(org_id) = u.organization_id
            && let Some(org) = orgs::get(&self.db, org_id).await?
            && org.registration == orgs::PENDING
        {
            self.tell_administrators(&mut tx, &org).await?;
        }
        tx.commit().await?;
        users::by_id(&self.db, u.id)
            .await?
            .ok_or(AppError::NotFound("user"))
    }

    async fn tell_administrators(&self, tx: &mut Tx, org: &Organization) -> Result<()> {
        let link = format!(
            "{}/organizations/{}",
            self.documents.public_url.trim_end_matches('/'),
            org.id
        );
        for to in users::emails_of_role(&self.db, Role::Administrator.as_str()).await? {
            let m = messages::registration_waiting(&org.name, &org.uscc, &link);
            outbox::enqueue(tx, &to, &m.subject, &m.body).await?;
        }
        Ok(())
    }

    /// Registrations waiting for an administrator (for the 待办).
    pub async fn pending_registrations(&self, actor: &Actor) -> Result<i64> {
        if !crate::policy::allowed(actor, &Action::DecideRegistration) {
            return Ok(0);
        }
        Ok(orgs::pending_count(&self.db).await?)
    }

    /// Whether an organisation's registering account confirmed its address (an administrator
    /// approves only then).
    pub async fn registration_confirmed(&self, actor: &Actor, org_id: i64) -> Result<bool> {
        self.authorize(
            actor,
            &Action::ViewOrganization {
                organization_id: org_id,
            },
        )?;
        Ok(has_confirmed_member(
            &users::of_organization(&self.db, org_id).await?,
        ))
    }

    /// An administrator approves a registration (from waiting, or after a rejection) or
    /// rejects it with a reason. The organisation's accounts are told by e-mail.
    pub async fn decide_registration(
        &self,
        actor: &Actor,
        org_id: i64,
        approve: bool,
        note: &str,
    ) -> Result<Organization> {
        self.authorize(actor, &Action::DecideRegistration)?;
        let note = note.trim();
        crate::limits::bounded("note", note, crate::limits::TEXT)?;
        if !approve && note.is_empty() {
            return Err(AppError::invalid(
                "note",
                "驳回注册须写明理由（将发送给申请单位）",
                "a rejection needs its reason (it is sent to the organisation)",
            ));
        }
        let members = users::of_organization(&self.db, org_id).await?;
        let mut tx = self.db.begin().await?;
        let org = orgs::get_for_update(&mut tx, org_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        let allowed_from: &[&str] = if approve {
            &[orgs::PENDING, orgs::REJECTED]
        } else {
            &[orgs::PENDING]
        };
        if !allowed_from.contains(&org.registration.as_str()) {
            return Err(AppError::WrongStage {
                current: state_text(&org.registration),
            });
        }
        if approve && !has_confirmed_member(&members) {
            return Err(AppError::invalid(
                "registration",
                "申请单位尚未确认联系邮箱，确认后方可批准",
                "the organisation has not confirmed its contact address yet; approve it once it has",
            ));
        }
        let (state, action) = if approve {
            (orgs::APPROVED, "organization.approve")
        } else {
            (orgs::REJECTED, "organization.reject")
        };
        orgs::set_registration(&mut tx, org_id, state, note).await?;
        record(
            &mut tx,
            Some(actor),
            action,
            "organization",
            org_id,
            json!({"before": org.registration, "after": state, "note": note}),
        )
        .await?;
        let link = format!("{}/", self.documents.public_url.trim_end_matches('/'));
        let m = messages::registration_decided(&org.name, approve, note, &link);
        let mut to: Vec<String> = members
            .iter()
            .filter(|u| !u.disabled)
            .map(|u| u.email.clone())
            .collect();
        if !to
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&org.contact_email))
            && !org.contact_email.is_empty()
        {
            to.push(org.contact_email.clone());
        }
        for addr in to {
            outbox::enqueue(&mut tx, &addr, &m.subject, &m.body).await?;
        }
        tx.commit().await?;
        orgs::get(&self.db, org_id)
            .await?
            .ok_or(AppError::NotFound("organization"))
    }

    /// The applicant asks again after a rejection (having corrected its facts): the
    /// registration waits for an administrator once more.
    pub async fn resubmit_registration(&self, actor: &Actor) -> Result<Organization> {
        let org_id = actor.organization_id.ok_or(AppError::Forbidden)?;
        self.authorize(
            actor,
            &Action::EditOrganization {
                organization_id: org_id,
            },
        )?;
        if actor.role != Role::Applicant {
            return Err(AppError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        let org = orgs::get_for_update(&mut tx, org_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        if org.registration != orgs::REJECTED {
            return Err(AppError::WrongStage {
                current: state_text(&org.registration),
            });
        }
        orgs::set_registration(&mut tx, org_id, orgs::PENDING, "").await?;
        record(
            &mut tx,
            Some(actor),
            "organization.resubmit",
            "organization",
            org_id,
            json!({"before": org.registration, "after": orgs::PENDING, "rejected_for": org.registration_note}),
        )
        .await?;
        self.tell_administrators(&mut tx, &org).await?;
        tx.commit().await?;
        orgs::get(&self.db, org_id)
            .await?
            .ok_or(AppError::NotFound("organization"))
    }

    /// Refuses an application from an organisation not (or no longer) approved.
    pub(crate) async fn require_registered(&self, org_id: i64) -> Result<()> {
        let org = orgs::get(&self.db, org_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        match org.registration.as_str() {
            orgs::APPROVED => Ok(()),
            orgs::REJECTED => Err(AppError::invalid(
                "organization",
                format!(
                    "本单位的注册未通过测评中心审核（理由：{}），请修改单位信息后重新提交审核",
                    org.registration_note
                ),
                format!(
                    "the centre rejected your organisation's registration (reason: {}); correct the facts and ask again",
                    org.registration_note
                ),
            )),
            _ => Err(AppError::invalid(
                "organization",
                "本单位的注册正在等待测评中心审核，审核通过后方可新建申请",
                "your organisation's registration is waiting for the centre's approval; you can apply once it is approved",
            )),
        }
    }
}
