//! Complaints (投诉, guide 七). Three things:
//! - each certified organisation keeps its own complaint register (投诉记录) in its portal:
//!   received (date, source, content), how it was handled, the measures against recurrence,
//!   closed — a closed entry never changes;
//! - the supervision department (监督部门) may inspect a register "when necessary": each
//!   inspection is recorded with its reason, and the organisation sees that it happened;
//! - a third party lodges a complaint about a holder with the centre through the public form
//!   (no account; at most `complaints_per_hour` from one address, a centre setting — the guide
//!   gives no number); it waits in the supervision department's 待办 until a supervisor closes
//!   it with a finding, and the complainant is told by e-mail at both ends.

use chrono::NaiveDate;
use serde_json::json;
use zizhi_domain::roles::Role;
use zizhi_store::complaints::{self as store, ComplaintRecord, Inspection, PublicComplaint};

use crate::limits::{NAME, TEXT, bounded};
use crate::notify::messages::Mail;
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// The centre's default for the public form: complaints from one client address per hour.
pub const DEFAULT_COMPLAINTS_PER_HOUR: u32 = 5;

/// An organisation's register as its members (or an inspecting supervisor) see it.
#[derive(Debug, Clone)]
pub struct Register {
    pub organization_id: i64,
    pub records: Vec<ComplaintRecord>,
    pub inspections: Vec<Inspection>,
}

/// A new entry of the register.
#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    /// YYYY-MM-DD, not after today.
    pub received_on: String,
    pub source: String,
    pub content: String,
}

/// What the public form carries.
#[derive(Debug, Clone, Default)]
pub struct Lodged {
    /// The number of the certificate complained about (as the register shows it).
    pub certificate_number: String,
    pub complainant: String,
    pub email: String,
    pub phone: String,
    pub content: String,
}

fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid(field, "不能为空", "must not be empty"));
    }
    bounded(field, v, max)?;
    Ok(v.to_string())
}

fn ready(actor: &Actor) -> Result<()> {
    if actor.needs_totp_enrollment || actor.must_change_password {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// The organisation's own members, and no one else, keep its register.
fn own_org(actor: &Actor, organization_id: i64) -> Result<()> {
    ready(actor)?;
    if actor.role == Role::Applicant && actor.organization_id == Some(organization_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn received_mail(id: i64, number: &str) -> Mail {
    Mail {
        subject: format!("【资质认定】投诉已收到（编号 {id}）/ Complaint received (no. {id})"),
        body: format!(
            "测评中心已收到您对证书 {number} 持证单位的投诉（编号 {id}），监督部门将予以调查处理，并将处理结果告知您。\n\nThe centre has received your complaint (no. {id}) about the holder of certificate {number}. The supervision department will look into it and tell you the outcome.\n"
        ),
    }
}

fn closed_mail(id: i64, number: &str, founded: bool, finding: &str) -> Mail {
    let (zh, en) = if founded {
        ("投诉属实", "the complaint was found to be well founded")
    } else {
        (
            "投诉不属实",
            "the complaint was not found to be well founded",
        )
    };
    Mail {
        subject: format!(
            "【资质认定】投诉处理结果（编号 {id}）/ Outcome of your complaint (no. {id})"
        ),
        body: format!(
            "您对证书 {number} 持证单位的投诉（编号 {id}）已处理完毕：{zh}。\n处理意见：{finding}\n\nYour complaint (no. {id}) about the holder of certificate {number} has been handled: {en}.\nFinding: {finding}\n"
        ),
    }
}

impl App {
    fn not_future(&self, field: &str, raw: &str) -> Result<NaiveDate> {
        let day = zizhi_domain::calendar::parse_date(raw.trim()).ok_or_else(|| {
            AppError::invalid(
                field,
                format!("“{}”不是有效日期（格式 YYYY-MM-DD）", raw.trim()),
                format!("\"{}\" is not a valid date (YYYY-MM-DD)", raw.trim()),
            )
        })?;
        let today = self.clock.today();
        if day > today {
            return Err(AppError::invalid(
                field,
                format!("收到日期 {day} 晚于今天 {today}"),
                format!("the day received, {day}, is after today, {today}"),
            ));
        }
        Ok(day)
    }

    /// The organisation's register and the inspections of it, for its own members.
    pub async fn complaint_register(
        &self,
        actor: &Actor,
        organization_id: i64,
    ) -> Result<Register> {
        own_org(actor, organization_id)?;
        Ok(Register {
            organization_id,
            records: store::records(&self.db, organization_id).await?,
            inspections: store::inspections(&self.db, organization_id).await?,
        })
    }

    /// A member of the organisation records a complaint it received.
    pub async fn record_complaint(&self, actor: &Actor, r: &NewRecord) -> Result<ComplaintRecord> {
        let org = actor.organization_id.ok_or(AppError::Forbidden)?;
        own_org(actor, org)?;
        let day = self.not_future("received_on", &r.received_on)?;
        let source = required("source", &r.source, NAME)?;
        let content = required("content", &r.content, TEXT)?;
        let mut tx = self.db.begin().await?;
        let id = store::insert_record(
            &mut tx,
            &store::NewRecord {
                organization_id: org,
                received_on: &day.to_string(),
                source: &source,
                content: &content,
                recorded_by: actor.user_id,
            },
        )
        .await?;
        crate::audit::record(
            &mut tx,
            actor,
            "complaint_record.create",
            "complaint_record",
            id,
            json!({"organization_id": org, "received_on": day.to_string(), "source": source}),
        )
        .await?;
        let row = store::record_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("complaint"))?;
        tx.commit().await?;
        Ok(row)
    }

    /// A member records how an open complaint was handled and the measures against
    /// recurrence; `close` closes it, which needs both. A closed entry is never changed.
    pub async fn update_complaint(
        &self,
        actor: &Actor,
        id: i64,
        handling: &str,
        prevention: &str,
        close: bool,
    ) -> Result<ComplaintRecord> {
        ready(actor)?;
        bounded("handling", handling.trim(), TEXT)?;
        bounded("prevention", prevention.trim(), TEXT)?;
        let mut tx = self.db.begin().await?;
        let mut row = store::record_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("complaint"))?;
        own_org(actor, row.organization_id).map_err(|_| AppError::NotFound("complaint"))?;
        if let Some(day) = &row.closed_on {
            return Err(AppError::invalid(
                "closed_on",
                format!("该投诉已于 {day} 关闭，记录不能再修改"),
                format!("this complaint was closed on {day}; its record no longer changes"),
            ));
        }
        row.handling = handling.trim().to_string();
        row.prevention = prevention.trim().to_string();
        if close {
            if row.handling.is_empty() {
                return Err(AppError::invalid(
                    "handling",
                    "关闭前请填写处理情况",
                    "say how it was handled before closing",
                ));
            }
            if row.prevention.is_empty() {
                return Err(AppError::invalid(
                    "prevention",
                    "关闭前请填写防止再次发生的措施",
                    "say what was done against recurrence before closing",
                ));
            }
            row.closed_on = Some(self.clock.today().to_string());
        }
        store::save_record(&mut tx, &row).await?;
        crate::audit::record(
            &mut tx,
            actor,
            if close {
                "complaint_record.close"
            } else {
                "complaint_record.update"
            },
            "complaint_record",
            id,
            json!({"organization_id": row.organization_id, "closed_on": row.closed_on}),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The supervision department inspects an organisation's register: the reason is
    /// required and recorded with the inspection (in the same transaction as the read).
    pub async fn inspect_complaint_register(
        &self,
        actor: &Actor,
        organization_id: i64,
        reason: &str,
    ) -> Result<Register> {
        ready(actor)?;
        if actor.role != Role::Supervisor {
            return Err(AppError::Forbidden);
        }
        let reason = required("reason", reason, TEXT)?;
        zizhi_store::organizations::get(&self.db, organization_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        let today = self.clock.today().to_string();
        let mut tx = self.db.begin().await?;
        let id = store::insert_inspection(&mut tx, organization_id, actor.user_id, &reason, &today)
            .await?;
        crate::audit::record(
            &mut tx,
            actor,
            "complaint_register.inspect",
            "organization",
            organization_id,
            json!({"inspection": id, "reason": reason}),
        )
        .await?;
        let records = store::records_tx(&mut tx, organization_id).await?;
        tx.commit().await?;
        Ok(Register {
            organization_id,
            records,
            inspections: store::inspections(&self.db, organization_id).await?,
        })
    }

    /// A third party lodges a complaint about a holder (no account). `address` is the
    /// client's address, for the hourly limit; the limit is counted in the same transaction
    /// that adds the complaint, so several servers share it.
    pub async fn lodge_complaint(&self, address: &str, l: &Lodged) -> Result<i64> {
        let number = l.certificate_number.trim();
        if number.is_empty() {
            return Err(AppError::invalid(
                "certificate_number",
                "请填写被投诉单位的证书编号（可在证书公开名录中查询）",
                "give the certificate number of the holder (search the public register)",
            ));
        }
        bounded("certificate_number", number, NAME)?;
        let complainant = required("complainant", &l.complainant, NAME)?;
        let email = l.email.trim();
        crate::accounts::validate_email_field("email", email)?;
        let phone = l.phone.trim();
        bounded("phone", phone, 40)?;
        let content = required("content", &l.content, TEXT)?;
        let cert = zizhi_store::certificates::by_number(&self.db, number)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "certificate_number",
                    format!("证书公开名录中没有编号为 {number} 的证书"),
                    format!("the public register has no certificate numbered {number}"),
                )
            })?;
        let today = self.clock.today().to_string();
        let mut tx = self.db.begin().await?;
        let hour_ago = zizhi_store::now_us() - 3_600_000_000;
        let per_hour = self.config.complaints_per_hour;
        if store::lodged_since(&mut tx, address, hour_ago).await? >= i64::from(per_hour) {
            return Err(AppError::TooFrequent(zizhi_domain::lang::Text::new(
                format!("同一地址每小时最多提交 {per_hour} 件投诉，请稍后再试"),
                format!("at most {per_hour} complaints an hour from one address; try again later"),
            )));
        }
        let id = store::insert_public(
            &mut tx,
            &store::NewPublic {
                certificate_id: cert.id,
                complainant: &complainant,
                email,
                phone,
                content: &content,
                received_on: &today,
                address,
            },
        )
        .await?;
        crate::audit::record(
            &mut tx,
            None,
            "complaint.lodge",
            "public_complaint",
            id,
            json!({"certificate": cert.number}),
        )
        .await?;
        let m = received_mail(id, &cert.number);
        zizhi_store::outbox::enqueue(&mut tx, email, &m.subject, &m.body).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The complaints lodged with the centre (supervision department; approvers read).
    pub async fn public_complaints(&self, actor: &Actor) -> Result<Vec<PublicComplaint>> {
        ready(actor)?;
        if !matches!(actor.role, Role::Supervisor | Role::Approver) {
            return Err(AppError::Forbidden);
        }
        Ok(store::public_list(&self.db, 500).await?)
    }

    pub async fn public_complaint(&self, actor: &Actor, id: i64) -> Result<PublicComplaint> {
        ready(actor)?;
        if !matches!(actor.role, Role::Supervisor | Role::Approver) {
            return Err(AppError::Forbidden);
        }
        store::public_get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("complaint"))
    }

    /// A supervisor closes a lodged complaint with the finding (well founded or not); the
    /// complainant is told. A founded complaint is where a sanction (六) may start.
    pub async fn close_public_complaint(
        &self,
        actor: &Actor,
        id: i64,
        founded: bool,
        finding: &str,
    ) -> Result<PublicComplaint> {
        ready(actor)?;
        if actor.role != Role::Supervisor {
            return Err(AppError::Forbidden);
        }
        let finding = required("finding", finding, TEXT)?;
        let mut tx = self.db.begin().await?;
        let mut c = store::public_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("complaint"))?;
        if let Some(day) = &c.closed_on {
            return Err(AppError::invalid(
                "state",
                format!("该投诉已于 {day} 处理完毕"),
                format!("this complaint was closed on {day}"),
            ));
        }
        c.state = "closed".into();
        c.handled_by = Some(actor.user_id);
        c.finding = finding;
        c.founded = Some(founded);
        c.closed_on = Some(self.clock.today().to_string());
        store::close_public(&mut tx, &c).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "complaint.close",
            "public_complaint",
            id,
            json!({"certificate": c.number, "founded": founded}),
        )
        .await?;
        let m = closed_mail(id, &c.number, founded, &c.finding);
        zizhi_store::outbox::enqueue(&mut tx, &c.email, &m.subject, &m.body).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The supervision department's 待办: how many lodged complaints are open.
    pub async fn complaint_todo(&self, actor: &Actor) -> Result<i64> {
        if actor.role != Role::Supervisor || ready(actor).is_err() {
            return Ok(0);
        }
        Ok(store::open_count(&self.db).await?)
    }
}
