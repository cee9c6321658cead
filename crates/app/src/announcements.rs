//! 公告 (guide 5.5: the centre announces each holder on its website, in 《中国信息安全》 and on
//! its official account). Issuing a batch drafts the announcement of its certificates; an
//! approver other than the person who issued the batch approves it, which publishes it with the
//! day's date. The items are kept as announced; a correction is a new announcement.

use serde::{Deserialize, Serialize};
use serde_json::json;
use zizhi_domain::roles::Role;
use zizhi_store::Tx;
use zizhi_store::announcements as store;
use zizhi_store::certificates::Certificate;

use crate::policy::Actor;
use crate::{App, AppError, Result};

/// One certificate as announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    pub level: i64,
    pub issued_on: String,
    pub valid_until: String,
}

/// An announcement as shown.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub id: i64,
    pub batch_id: i64,
    pub items: Vec<Item>,
    /// ISO date; `None` while a draft.
    pub published_on: Option<String>,
    pub drafted_by: Option<i64>,
    pub approved_by: Option<i64>,
}

impl Announcement {
    /// 信息安全服务资质认定公告（第 N 号）.
    pub fn title_zh(&self) -> String {
        format!("信息安全服务资质认定公告（第 {} 号）", self.id)
    }

    pub fn title_en(&self) -> String {
        format!("Announcement of qualification certificates No. {}", self.id)
    }
}

fn view(a: store::Announcement) -> Result<Announcement> {
    let items: Vec<Item> = serde_json::from_str(&a.items)
        .map_err(|e| AppError::Internal(format!("announcement {}: {e}", a.id)))?;
    Ok(Announcement {
        id: a.id,
        batch_id: a.batch_id,
        items,
        published_on: a.published_on,
        drafted_by: a.drafted_by,
        approved_by: a.approved_by,
    })
}

/// Staff who see drafts.
fn sees_drafts(actor: Option<&Actor>) -> bool {
    actor.is_some_and(|a| {
        matches!(
            a.role,
            Role::CertificateOfficer | Role::Approver | Role::Supervisor | Role::Administrator
        ) && !a.needs_totp_enrollment
            && !a.must_change_password
    })
}

/// Drafts the announcement of an issued batch (inside the transaction; once).
pub(crate) async fn draft(
    tx: &mut Tx,
    actor: &Actor,
    batch_id: i64,
    certs: &[Certificate],
) -> Result<()> {
    let items: Vec<Item> = certs
        .iter()
        .map(|c| Item {
            number: c.number.clone(),
            holder: c.holder.clone(),
            uscc: c.uscc.clone(),
            level: i64::from(c.level),
            issued_on: c.issued_on.clone(),
            valid_until: c.valid_until.clone(),
        })
        .collect();
    let text = serde_json::to_string(&items).map_err(|e| AppError::Internal(e.to_string()))?;
    store::draft(tx, batch_id, &text, Some(actor.user_id)).await?;
    crate::audit::record(
        tx,
        Some(actor),
        "announcement.draft",
        "certificate_batch",
        batch_id,
        json!({"certificates": items.iter().map(|i| &i.number).collect::<Vec<_>>()}),
    )
    .await
}

impl App {
    /// Published announcements, newest first (anyone); staff also see drafts, first.
    pub async fn announcements(&self, actor: Option<&Actor>) -> Result<Vec<Announcement>> {
        store::list(&self.db, sees_drafts(actor), 200)
            .await?
            .into_iter()
            .map(view)
            .collect()
    }

    /// One announcement: published ones for anyone, drafts for staff only.
    pub async fn announcement(&self, actor: Option<&Actor>, id: i64) -> Result<Announcement> {
        let a = store::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("announcement"))?;
        if a.published_on.is_none() && !sees_drafts(actor) {
            return Err(AppError::NotFound("announcement"));
        }
        view(a)
    }

    /// An approver other than the person who issued the batch approves the draft, which
    /// publishes it today.
    pub async fn approve_announcement(&self, actor: &Actor, id: i64) -> Result<Announcement> {
        if actor.role != Role::Approver || actor.needs_totp_enrollment || actor.must_change_password
        {
            return Err(AppError::Forbidden);
        }
        let a = store::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("announcement"))?;
        if a.drafted_by == Some(actor.user_id) {
            return Err(AppError::invalid(
                "approved_by",
                "公告须由发证人以外的另一人审批",
                "an announcement is approved by someone other than the person who issued the batch",
            ));
        }
        let today = self.clock.today().to_string();
        let mut tx = self.db.begin().await?;
        if !store::publish(&mut tx, id, actor.user_id, &today).await? {
            return Err(AppError::invalid(
                "announcement",
                "该公告已发布",
                "this announcement is published already",
            ));
        }
        crate::audit::record(
            &mut tx,
            Some(actor),
            "announcement.publish",
            "announcement",
            id,
            json!({"batch_id": a.batch_id, "published_on": today}),
        )
        .await?;
        tx.commit().await?;
        self.announcement(Some(actor), id).await
    }
}

impl App {
    /// The announcement's list for 《中国信息安全》 as `.xlsx` (same access as the announcement).
    pub async fn announcement_xlsx(&self, actor: Option<&Actor>, id: i64) -> Result<Vec<u8>> {
        let a = self.announcement(actor, id).await?;
        let rows: Vec<Vec<String>> = a
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                vec![
                    (n + 1).to_string(),
                    i.holder.clone(),
                    i.uscc.clone(),
                    i.number.clone(),
                    format!(
                        "灾难恢复类{}",
                        zizhi_domain::lang::level_zh(u8::try_from(i.level).unwrap_or(0))
                    ),
                    i.issued_on.clone(),
                    i.valid_until.clone(),
                ]
            })
            .collect();
        let title = match &a.published_on {
            Some(d) => format!("{}（{d} 发布）", a.title_zh()),
            None => format!("{}（草稿）", a.title_zh()),
        };
        zizhi_docs::sheet::xlsx(
            "证书清单",
            &title,
            &[
                "序号",
                "单位名称",
                "统一社会信用代码",
                "证书编号",
                "资质类别与级别",
                "发证日期",
                "有效期至",
            ],
            &rows,
        )
        .map_err(|e| AppError::Internal(format!("documents: {e}")))
    }
}
