//! The applicant organisation's record beyond its identity: the 申请书 facts (address, legal
//! representative, contact person and phone, and the designated e-mail to which the centre's
//! opinions go, 5.2 and 5.3), and declared conflicts of interest (利益冲突) between centre staff
//! and an applicant, which keep that person off its cases.

use serde_json::json;
use zizhi_domain::roles::Role;
use zizhi_domain::uscc::Uscc;
use zizhi_store::evaluation as ev;
use zizhi_store::organizations::{self as repo, Contact, Organization};

use crate::policy::{Action, Actor};
use crate::{App, AppError, Result};

/// The longest text kept in a contact field.
const MAX_FIELD: usize = 200;

fn field(name: &str, zh: &str, en: &str, v: &str, required: bool) -> Result<String> {
    let v = v.trim();
    if required && v.is_empty() {
        return Err(AppError::invalid(
            name,
            format!("请填写{zh}"),
            format!("the {en} is required"),
        ));
    }
    if v.chars().count() > MAX_FIELD || v.chars().any(char::is_control) {
        return Err(AppError::invalid(
            name,
            format!("{zh}不超过 {MAX_FIELD} 个字符，且不含控制字符"),
            format!("the {en} is at most {MAX_FIELD} characters, without control characters"),
        ));
    }
    Ok(v.to_string())
}

/// A store error inserting an organisation: a unique violation is the USCC taken.
pub(crate) fn uscc_taken(e: zizhi_store::StoreError) -> AppError {
    match AppError::from_store(e) {
        AppError::Conflict { .. } => AppError::Conflict {
            field: "uscc".into(),
        },
        other => other,
    }
}

pub(crate) fn trimmed(c: &Contact) -> Contact {
    Contact {
        address: c.address.trim().to_string(),
        legal_representative: c.legal_representative.trim().to_string(),
        contact_person: c.contact_person.trim().to_string(),
        contact_phone: c.contact_phone.trim().to_string(),
        contact_email: c.contact_email.trim().to_string(),
    }
}

/// Every problem with the 申请书 facts at once, each naming its field: every field is
/// required, bounded and without control characters; the e-mail must look like one.
pub(crate) fn contact_problems(c: &Contact) -> Vec<AppError> {
    let mut out: Vec<AppError> = [
        ("address", "注册地址", "address", &c.address),
        (
            "legal_representative",
            "法定代表人",
            "legal representative",
            &c.legal_representative,
        ),
        (
            "contact_person",
            "联系人",
            "contact person",
            &c.contact_person,
        ),
        (
            "contact_phone",
            "联系电话",
            "contact phone",
            &c.contact_phone,
        ),
        (
            "contact_email",
            "指定电子邮箱",
            "designated e-mail",
            &c.contact_email,
        ),
    ]
    .into_iter()
    .filter_map(|(name, zh, en, v)| field(name, zh, en, v, true).err())
    .collect();
    if !out
        .iter()
        .any(|e| matches!(e, AppError::Invalid { field, .. } if field == "contact_email"))
    {
        out.extend(
            crate::accounts::validate_email_field("contact_email", c.contact_email.trim()).err(),
        );
    }
    out
}

impl App {
    /// Changes the organisation's 申请书 facts: the applicant for its own organisation, the
    /// registrar or an administrator for any. Every field is required; the e-mail must look
    /// like one.
    pub async fn set_organization_contact(
        &self,
        actor: &Actor,
        id: i64,
        c: &Contact,
    ) -> Result<Organization> {
        self.authorize(
            actor,
            &Action::EditOrganization {
                organization_id: id,
            },
        )?;
        repo::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        if let Some(e) = contact_problems(c).into_iter().next() {
            return Err(e);
        }
        let clean = trimmed(c);
        let mut tx = self.db.begin().await?;
        repo::set_contact(&mut tx, id, &clean).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "organization.contact",
            "organization",
            id,
            json!({"after": {"address": clean.address, "legal_representative": clean.legal_representative, "contact_person": clean.contact_person, "contact_phone": clean.contact_phone, "contact_email": clean.contact_email}}),
        )
        .await?;
        tx.commit().await?;
        repo::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("organization"))
    }

    /// Records a conflict of interest between a centre staff member and an applicant
    /// organisation: staff declare their own; a supervisor or administrator records one for
    /// anyone. From then on that person cannot be named lead, assessor or expert on the
    /// organisation's cases.
    pub async fn declare_conflict(
        &self,
        actor: &Actor,
        user_id: Option<i64>,
        organization_id: i64,
        reason: &str,
    ) -> Result<()> {
        let user_id = user_id.unwrap_or(actor.user_id);
        let may = if user_id == actor.user_id {
            actor.role.is_staff()
        } else {
            matches!(actor.role, Role::Supervisor | Role::Administrator)
        };
        if !may {
            return Err(AppError::Forbidden);
        }
        let u = zizhi_store::users::by_id(&self.db, user_id)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "user_id",
                    format!("用户 {user_id} 不存在"),
                    format!("user {user_id} does not exist"),
                )
            })?;
        if u.organization_id.is_some() {
            return Err(AppError::invalid(
                "user_id",
                "利益冲突声明仅适用于测评中心人员",
                "conflicts of interest are declared for centre staff",
            ));
        }
        repo::get(&self.db, organization_id).await?.ok_or_else(|| {
            AppError::invalid(
                "organization_id",
                format!("申请单位 {organization_id} 不存在"),
                format!("organisation {organization_id} does not exist"),
            )
        })?;
        let reason = field("reason", "利益冲突说明", "reason", reason, true)?;
        let mut tx = self.db.begin().await?;
        ev::declare_conflict(&mut tx, user_id, organization_id, &reason, actor.user_id)
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Store(zizhi_store::StoreError::Conflict(_)) => AppError::Conflict {
                    field: "organization_id".into(),
                },
                other => other,
            })?;
        crate::audit::record(
            &mut tx,
            actor,
            "conflict.declare",
            "user",
            user_id,
            json!({"organization_id": organization_id, "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One person's declared conflicts: their own, or anyone's for a supervisor or
    /// administrator.
    pub async fn conflicts_of(&self, actor: &Actor, user_id: i64) -> Result<Vec<ev::Conflict>> {
        if user_id != actor.user_id && !matches!(actor.role, Role::Supervisor | Role::Administrator)
        {
            return Err(AppError::Forbidden);
        }
        Ok(ev::conflicts_of(&self.db, user_id).await?)
    }

    /// Registers an applicant organisation under a validated USCC.
    pub async fn create_organization(
        &self,
        actor: Option<&Actor>,
        uscc: &str,
        name: &str,
    ) -> Result<Organization> {
        if let Some(a) = actor {
            self.authorize(a, &Action::CreateOrganization)?;
        }
        let code = Uscc::parse(uscc).map_err(|e| AppError::Invalid {
            field: "uscc".into(),
            problem: e.text(),
        })?;
        let name = name.trim();
        crate::limits::bounded("name", name, crate::limits::NAME)?;
        if name.is_empty() {
            return Err(AppError::invalid(
                "name",
                "单位名称不能为空",
                "the name must not be empty",
            ));
        }
        let mut tx = self.db.begin().await?;
        let org = repo::insert(&mut tx, code.as_str(), name)
            .await
            .map_err(uscc_taken)?;
        crate::audit::record(
            &mut tx,
            actor,
            "organization.create",
            "organization",
            org.id,
            json!({"after": {"uscc": org.uscc, "name": org.name}}),
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn list_organizations(&self, actor: &Actor) -> Result<Vec<Organization>> {
        self.authorize(actor, &Action::ListOrganizations)?;
        Ok(repo::list(&self.db).await?)
    }

    pub async fn organization(&self, actor: &Actor, id: i64) -> Result<Organization> {
        self.authorize(
            actor,
            &Action::ViewOrganization {
                organization_id: id,
            },
        )?;
        repo::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("organization"))
    }
}
