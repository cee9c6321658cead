//! The one audit-event builder: every state change appends its event inside the change's own
//! transaction, so a committed change always has its event and a rolled-back one never does.

use zizhi_store::Tx;
use zizhi_store::audit::{self, Event, NewEvent, Verification};

use crate::policy::Action;
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// Who acted: a signed-in person, or the system (a background job, named).
#[derive(Debug, Clone, Copy)]
pub(crate) enum By<'a> {
    Person(&'a Actor),
    System(&'a str),
}

impl<'a> From<Option<&'a Actor>> for By<'a> {
    fn from(a: Option<&'a Actor>) -> Self {
        a.map_or(By::System("system"), By::Person)
    }
}

impl<'a> From<&'a Actor> for By<'a> {
    fn from(a: &'a Actor) -> Self {
        By::Person(a)
    }
}

/// Appends one audit event: `action` done by `by` on the object `object_type`/`object_id`.
pub(crate) async fn record<'a>(
    tx: &mut Tx,
    by: impl Into<By<'a>>,
    action: &str,
    object_type: &str,
    object_id: impl ToString,
    summary: serde_json::Value,
) -> Result<()> {
    let (actor_id, actor) = match by.into() {
        By::Person(a) => (Some(a.user_id), a.username.clone()),
        By::System(name) => (None, name.to_string()),
    };
    audit::append(
        tx,
        NewEvent {
            actor_id,
            actor,
            action: action.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            summary,
        },
    )
    .await?;
    Ok(())
}

/// The audit page's search fields (see [`App::audit_search`]).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub case: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

/// Events with what their sentences need.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<Event>,
    /// Case id → its number.
    pub cases: std::collections::HashMap<i64, String>,
    /// User id → display name.
    pub names: std::collections::HashMap<i64, String>,
}

impl App {
    pub async fn audit_log(
        &self,
        actor: &Actor,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        self.authorize(actor, &Action::ViewAuditLog)?;
        Ok(audit::list(&self.db, before_seq, limit.clamp(1, 500)).await?)
    }

    /// The audit page's search: events about a case (by its number, `ZZ-2026-00042`, or id),
    /// by a user (username), of an action (or a kind, `case.`), between two days (China
    /// Standard Time, both included); newest first, older than `before`. With the events,
    /// the case numbers and people's names the sentences need.
    pub async fn audit_search(
        &self,
        actor: &Actor,
        q: &AuditQuery,
        before: Option<i64>,
        limit: i64,
    ) -> Result<AuditPage> {
        self.authorize(actor, &Action::ViewAuditLog)?;
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
        };
        let case_id = match text(&q.case) {
            None => None,
            Some(c) => {
                let digits = c.rsplit('-').next().unwrap_or("");
                Some(digits.parse::<i64>().map_err(|_| {
                    AppError::invalid(
                        "case",
                        format!("“{c}”不是案件编号（如 ZZ-2026-00042）"),
                        format!("\"{c}\" is not a case number (such as ZZ-2026-00042)"),
                    )
                })?)
            }
        };
        let actor_id = match text(&q.user) {
            None => None,
            Some(u) => match zizhi_store::users::by_username(&self.db, &u).await? {
                Some(user) => Some(user.id),
                None => {
                    return Err(AppError::invalid(
                        "user",
                        format!("没有用户名为“{u}”的用户"),
                        format!("there is no user \"{u}\""),
                    ));
                }
            },
        };
        let day = |field: &str, v: &Option<String>, end: bool| -> Result<Option<i64>> {
            match text(v) {
                None => Ok(None),
                Some(x) => {
                    let d = zizhi_domain::calendar::parse_date(&x).ok_or_else(|| {
                        AppError::invalid(
                            field,
                            format!("日期“{x}”无法识别，请按 2026-12-31 的格式填写"),
                            format!("the date \"{x}\" is not understood; write it as 2026-12-31"),
                        )
                    })?;
                    let d = if end { d.succ_opt().unwrap_or(d) } else { d };
                    let start = d
                        .and_hms_opt(0, 0, 0)
                        .and_then(|t| {
                            t.and_local_timezone(zizhi_domain::period::china_standard_time())
                                .single()
                        })
                        .map(|t| t.timestamp_micros());
                    Ok(start)
                }
            }
        };
        let from_us = day("from", &q.from, false)?;
        let until_us = day("to", &q.to, true)?;
        let action = text(&q.action);
        let case_key = case_id.map(|id| id.to_string());
        let filter = audit::Filter {
            before_seq: before,
            object: case_key.as_deref().map(|id| ("case", id)),
            actor_id,
            action: action.as_deref(),
            from_us,
            until_us,
        };
        let events = audit::list_filtered(&self.db, &filter, limit.clamp(1, 10_000)).await?;
        // The case numbers of the cases named, read once each.
        let mut cases = std::collections::HashMap::new();
        for e in events.iter().filter(|e| e.object_type == "case") {
            if let Ok(id) = e.object_id.parse::<i64>()
                && !cases.contains_key(&id)
                && let Some(c) = zizhi_store::cases::get(&self.db, id).await?
            {
                cases.insert(id, crate::cases::case_number(&c));
            }
        }
        let names = zizhi_store::users::list(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        Ok(AuditPage {
            events,
            cases,
            names,
        })
    }

    /// Verifies the chain (`None` actor = the command line).
    pub async fn verify_audit(&self, actor: Option<&Actor>) -> Result<Verification> {
        if let Some(a) = actor {
            self.authorize(a, &Action::VerifyAuditChain)?;
        }
        Ok(audit::verify(&self.db).await?)
    }
}
