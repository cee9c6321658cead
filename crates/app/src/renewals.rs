//! Renewal reminders and expiry (维持, guide 4): a maintenance application is due at least six
//! months before a certificate expires (`domain::renewal`). The holder is reminded by e-mail and
//! in its 待办 at the centre's `renewal_reminder_months` before expiry (default 9, 7 and 6), and
//! a certificate past its last valid day becomes 过期 (expired) with the change in its history.
//! Both run in the scheduled jobs; each reminder and each expiry happens once.

use chrono::NaiveDate;
use serde_json::json;
use zizhi_domain::period::{add_months, sub_months};
use zizhi_store::sanctions as store;

use crate::notify::messages::Mail;
use crate::{App, Result};

/// A reminder's kind as recorded once sent (`certificate_reminder.kind`).
fn reminder_kind(months: u32) -> String {
    format!("months_{months}")
}

/// The centre's default: reminders 9, 7 and 6 months before expiry (the last is the guide's
/// due date for an on-time maintenance application, 四).
pub const DEFAULT_REMINDER_MONTHS: [u32; 3] = [9, 7, 6];

fn reminder_mail(number: &str, until: &str, due_by: NaiveDate) -> Mail {
    Mail {
        subject: "【资质认定】证书即将到期，请提交维持申请 / Your certificate expires soon".into(),
        body: format!(
            "贵单位的资质证书 {number} 有效期至 {until}。维持申请须至少在有效期届满前六个月提交（即 {due_by} 前，指南 四），并提交近三年的资料信息；逾期提交的按逾期维持处理，届满六个月后提交的视作初次申请。\n\nYour certificate {number} is valid until {until}. A maintenance application is due at least six months before expiry (by {due_by}, guide 4), with the last three years' materials; a later one is late, and one filed more than six months after expiry is an initial application.\n"
        ),
    }
}

fn expired_mail(number: &str, until: &str) -> Mail {
    Mail {
        subject: "【资质认定】证书已过期 / Your certificate has expired".into(),
        body: format!(
            "贵单位的资质证书 {number} 有效期已于 {until} 届满，证书状态为“过期”。届满后六个月内仍可提交维持申请，之后视作初次申请（指南 四）。\n\nYour certificate {number} expired after {until}; its status is now expired. A maintenance application may still be filed within six months; after that it is an initial application (guide 4).\n"
        ),
    }
}

/// Certificates read a page at a time by the jobs, so that a backlog never sits in memory.
const PAGE: i64 = 500;

impl App {
    /// Sends the renewal reminders due today (each once). Returns how many were sent.
    pub async fn remind_renewals(&self) -> Result<usize> {
        let today = self.clock.today();
        let Some(&furthest) = self.config.renewal_reminder_months.iter().max() else {
            return Ok(0);
        };
        // A month of slack: month ends clamp (31 August less nine months is 30 November), so
        // each certificate is judged below on its own dates.
        let from = today.to_string();
        let until = add_months(today, furthest + 1).to_string();
        let mut sent = 0;
        let mut after = (String::new(), 0i64);
        loop {
            let page =
                store::certificates_ending(&self.db, &from, &until, (&after.0, after.1), PAGE)
                    .await?;
            let full = page.len() as i64 == PAGE;
            if let Some(last) = page.last() {
                after = (last.valid_until.clone(), last.id);
            }
            // The reminder each certificate is due, then those not sent yet (one read for the
            // page; the claim in each reminder's transaction still decides a race).
            let due: Vec<_> = page
                .iter()
                .filter_map(|c| Some((c, self.reminder_due(c, today)?)))
                .collect();
            let ids: Vec<i64> = due.iter().map(|(c, _)| c.id).collect();
            let already = store::reminders_sent(&self.db, &ids).await?;
            for (c, (valid_until, months)) in due {
                if !already.contains(&(c.id, reminder_kind(months)))
                    && self.remind_one(c, valid_until, months, today).await?
                {
                    sent += 1;
                }
            }
            if !full {
                return Ok(sent);
            }
        }
    }

    /// The reminder a certificate is due today, if any: its last valid day and how many
    /// months before it, the nearest reminder that is due — one e-mail even when several fall
    /// due at once.
    fn reminder_due(
        &self,
        c: &zizhi_store::certificates::Certificate,
        today: NaiveDate,
    ) -> Option<(NaiveDate, u32)> {
        let valid_until = zizhi_domain::calendar::parse_date(&c.valid_until)?;
        let months = self
            .config
            .renewal_reminder_months
            .iter()
            .copied()
            .filter(|m| today >= sub_months(valid_until, *m))
            .min()?;
        Some((valid_until, months))
    }

    async fn remind_one(
        &self,
        c: &zizhi_store::certificates::Certificate,
        valid_until: NaiveDate,
        months: u32,
        today: NaiveDate,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        if !store::claim_reminder(&mut tx, c.id, &reminder_kind(months), &today.to_string()).await?
        {
            return Ok(false);
        }
        let due_by = sub_months(valid_until, 6);
        let m = reminder_mail(&c.number, &c.valid_until, due_by);
        self.mail_organization(&mut tx, c.organization_id, &m, &[])
            .await?;
        crate::audit::record(
            &mut tx,
            None,
            "certificate.renewal_reminder",
            "certificate",
            &c.number,
            json!({"months_before_expiry": months, "valid_until": c.valid_until}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Certificates past their last valid day become expired (过期), each once, with the
    /// change in its history and an e-mail to the holder. Returns how many.
    pub async fn expire_certificates(&self) -> Result<usize> {
        let today = self.clock.today();
        let yesterday = today.pred_opt().unwrap_or(today).to_string();
        let mut n = 0;
        loop {
            // Each expired certificate leaves the set, so the first page is always the next.
            let page =
                store::certificates_ending(&self.db, "0000-01-01", &yesterday, ("", 0), PAGE)
                    .await?;
            let full = page.len() as i64 == PAGE;
            for c in page {
                let mut tx = self.db.begin().await?;
                let day_after = zizhi_domain::calendar::parse_date(&c.valid_until)
                    .and_then(|d| d.succ_opt())
                    .map_or_else(|| today.to_string(), |d| d.to_string());
                store::claim_reminder(&mut tx, c.id, "expired", &today.to_string()).await?;
                store::change_status(&mut tx, c.id, &day_after, "expired", None).await?;
                let m = expired_mail(&c.number, &c.valid_until);
                self.mail_organization(&mut tx, c.organization_id, &m, &[])
                    .await?;
                crate::audit::record(
                    &mut tx,
                    None,
                    "certificate.expire",
                    "certificate",
                    &c.number,
                    json!({"valid_until": c.valid_until}),
                )
                .await?;
                tx.commit().await?;
                n += 1;
            }
            if !full {
                return Ok(n);
            }
        }
    }
}

impl App {
    /// The holder's certificates due for a maintenance application (its 待办): valid or
    /// suspended, expiring within the furthest reminder, or expired within the six months in
    /// which maintenance is still possible (四), with the last day of an on-time application.
    pub async fn renewal_todo(
        &self,
        actor: &crate::Actor,
    ) -> Result<Vec<(zizhi_store::certificates::Certificate, NaiveDate)>> {
        let Some(org) = actor.organization_id else {
            return Ok(Vec::new());
        };
        let today = self.clock.today();
        let furthest = self
            .config
            .renewal_reminder_months
            .iter()
            .copied()
            .max()
            .unwrap_or(0);
        let mut out = Vec::new();
        for c in zizhi_store::certificates::of_organization(&self.db, org).await? {
            let Some(valid_until) = zizhi_domain::calendar::parse_date(&c.valid_until) else {
                continue;
            };
            let open = matches!(c.status.as_str(), "valid" | "suspended" | "expired");
            if open
                && sub_months(valid_until, furthest) <= today
                && add_months(valid_until, 6) >= today
            {
                out.push((c, sub_months(valid_until, 6)));
            }
        }
        Ok(out)
    }
}
