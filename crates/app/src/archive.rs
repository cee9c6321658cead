//! The project archive (档案, guide 八: 申请单位的项目档案归档保存六年). A case is archived
//! when it closes — not accepted, failed, terminated or withdrawn on its closing day; a
//! certified one on the day its certificate's life ends (expired or revoked) — by the
//! scheduled job `archive_closed_cases`. It is kept `retention_years` (default six, from the
//! guide) from that day: through the corresponding day six years on (Civil Code art. 202; a
//! duty to keep, so no move off rest days). Closed cases take no edits (the state machine); an
//! appeal that reopens a case takes it out of the archive.
//!
//! Legal hold: an open appeal, an open sanction on its certificate, an open complaint about
//! its certificate, or a hold a supervisor placed with a reason, blocks disposal until
//! released. Disposal after retention takes two people: a supervisor lists due cases, an
//! approver (never the proposer) approves; then the cases' evidence bytes go — except objects
//! something kept still refers to (deduplicated across cases) — and what was destroyed (case
//! number, holder, object hashes), by whom and when is recorded in the disposal and the audit
//! chain.

use chrono::NaiveDate;
use serde_json::json;
use zizhi_domain::lang::Text;
use zizhi_domain::period::add_months;
use zizhi_domain::roles::Role;
use zizhi_store::archive::{self as store, ArchiveRecord, Disposal, Due, Hold};

use crate::limits::{TEXT, bounded};
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// The guide's retention (八): six years.
pub const DEFAULT_RETENTION_YEARS: u32 = 6;

/// A case's place in the archive, as staff see it.
#[derive(Debug, Clone)]
pub struct ArchiveView {
    pub record: Option<ArchiveRecord>,
    /// Every hold a supervisor placed (open and released).
    pub holds: Vec<Hold>,
    /// Why it may not be disposed of now (empty: no hold).
    pub held_because: Vec<Text>,
}

/// A case due for disposal, with its number and whether a hold keeps it.
#[derive(Debug, Clone)]
pub struct DueCase {
    pub due: Due,
    pub number: String,
    pub held_because: Vec<Text>,
}

fn staff_ready(actor: &Actor) -> Result<()> {
    if actor.needs_totp_enrollment || actor.must_change_password || !actor.role.is_staff() {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

fn role_ready(actor: &Actor, role: Role) -> Result<()> {
    staff_ready(actor)?;
    if actor.role != role {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

fn ids_of(d: &Disposal) -> Vec<i64> {
    serde_json::from_str(&d.case_ids).unwrap_or_default()
}

impl App {
    /// The last day a case archived on `archived_on` is kept.
    pub fn retain_until(&self, archived_on: NaiveDate) -> NaiveDate {
        add_months(archived_on, 12 * self.config.retention_years)
    }

    /// The scheduled job: archives each closed case once, on the day it closed. Returns how
    /// many.
    pub async fn archive_closed_cases(&self) -> Result<usize> {
        let mut n = 0;
        for (case_id, on) in store::newly_closed(&self.db).await? {
            let Some(day) = zizhi_domain::calendar::parse_date(&on) else {
                continue;
            };
            let until = self.retain_until(day).to_string();
            let mut tx = self.db.begin().await?;
            if store::archive(&mut tx, case_id, &on, &until).await? {
                crate::audit::record(
                    &mut tx,
                    None,
                    "case.archive",
                    "case",
                    case_id,
                    json!({"archived_on": on, "retain_until": until}),
                )
                .await?;
                n += 1;
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    /// Why the case may not be disposed of now: open appeals, open sanctions and open
    /// complaints on it or its certificate, and holds a supervisor placed. Empty: no hold.
    pub async fn legal_holds(&self, case_id: i64) -> Result<Vec<Text>> {
        let mut why = Vec::new();
        for a in zizhi_store::appeals::open_on_case(&self.db, case_id).await? {
            why.push(Text::new(
                format!("申诉 {} 尚未办结", a.id),
                format!("appeal {} is open", a.id),
            ));
        }
        let open = store::open_sanctions_on_case(&self.db, case_id).await?;
        if open > 0 {
            why.push(Text::new(
                format!("证书有 {open} 项未结的处置"),
                format!("{open} sanction(s) on its certificate are open"),
            ));
        }
        if let Some(c) = zizhi_store::certificates::for_case(&self.db, case_id).await?
            && zizhi_store::complaints::open_on_certificate(&self.db, c.id).await?
        {
            why.push(Text::new(
                "有关于该持证单位的投诉尚未办结",
                "a complaint about its holder is open",
            ));
        }
        for h in store::holds(&self.db, case_id).await? {
            if h.released_on.is_none() {
                why.push(Text::new(
                    format!("保全（{}）：{}", h.placed_on, h.reason),
                    format!("hold ({}): {}", h.placed_on, h.reason),
                ));
            }
        }
        Ok(why)
    }

    /// True while anything holds the case (see [`App::legal_holds`]): nothing of it may be
    /// disposed of.
    pub async fn on_legal_hold(&self, case_id: i64) -> Result<bool> {
        Ok(!self.legal_holds(case_id).await?.is_empty())
    }

    /// The case's archive record and holds (staff).
    pub async fn archive_of(&self, actor: &Actor, case_id: i64) -> Result<ArchiveView> {
        staff_ready(actor)?;
        zizhi_store::cases::get(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        Ok(ArchiveView {
            record: store::get(&self.db, case_id).await?,
            holds: store::holds(&self.db, case_id).await?,
            held_because: self.legal_holds(case_id).await?,
        })
    }

    /// A supervisor places a hold on a case's records, with the reason.
    pub async fn place_hold(&self, actor: &Actor, case_id: i64, reason: &str) -> Result<i64> {
        role_ready(actor, Role::Supervisor)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid(
                "reason",
                "请写明保全理由",
                "give the reason for the hold",
            ));
        }
        bounded("reason", reason, TEXT)?;
        zizhi_store::cases::get(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let today = self.clock.today().to_string();
        let mut tx = self.db.begin().await?;
        if let Some(r) = store::get_tx(&mut tx, case_id).await?
            && r.disposed_on.is_some()
        {
            return Err(AppError::invalid(
                "case_id",
                "该案件档案已销毁",
                "this case's file has been disposed of",
            ));
        }
        let id = store::place_hold(&mut tx, case_id, reason, actor.user_id, &today).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "archive.hold",
            "case",
            case_id,
            json!({"hold": id, "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A supervisor releases a hold, saying why.
    pub async fn release_hold(&self, actor: &Actor, hold_id: i64, note: &str) -> Result<Hold> {
        role_ready(actor, Role::Supervisor)?;
        let note = note.trim();
        if note.is_empty() {
            return Err(AppError::invalid(
                "note",
                "请写明解除保全的理由",
                "say why the hold is released",
            ));
        }
        bounded("note", note, TEXT)?;
        let today = self.clock.today().to_string();
        let mut tx = self.db.begin().await?;
        let h = store::hold_locked(&mut tx, hold_id)
            .await?
            .ok_or(AppError::NotFound("hold"))?;
        if let Some(day) = &h.released_on {
            return Err(AppError::invalid(
                "hold",
                format!("该保全已于 {day} 解除"),
                format!("this hold was released on {day}"),
            ));
        }
        store::release_hold(&mut tx, hold_id, actor.user_id, &today, note).await?;
        crate::audit::record(
            &mut tx,
            actor,
            "archive.release_hold",
            "case",
            h.case_id,
            json!({"hold": hold_id, "note": note}),
        )
        .await?;
        let h = store::hold_locked(&mut tx, hold_id)
            .await?
            .ok_or(AppError::NotFound("hold"))?;
        tx.commit().await?;
        Ok(h)
    }

    /// Archived cases past retention that no disposal lists yet (supervisors, approvers),
    /// each with what holds it, if anything.
    pub async fn disposal_due(&self, actor: &Actor) -> Result<Vec<DueCase>> {
        staff_ready(actor)?;
        if !matches!(actor.role, Role::Supervisor | Role::Approver) {
            return Err(AppError::Forbidden);
        }
        let today = self.clock.today().to_string();
        let mut out = Vec::new();
        for due in store::due(&self.db, &today, 500).await? {
            let number = match zizhi_store::cases::get(&self.db, due.case_id).await? {
                Some(c) => crate::cases::case_number(&c),
                None => continue,
            };
            out.push(DueCase {
                held_because: self.legal_holds(due.case_id).await?,
                due,
                number,
            });
        }
        Ok(out)
    }

    /// A supervisor lists due cases for disposal. Each must be archived, past its retention,
    /// on no hold and in no other disposal.
    pub async fn propose_disposal(&self, actor: &Actor, case_ids: &[i64]) -> Result<Disposal> {
        role_ready(actor, Role::Supervisor)?;
        if case_ids.is_empty() {
            return Err(AppError::invalid(
                "case_ids",
                "请选择要销毁的到期档案",
                "choose the due files to dispose of",
            ));
        }
        let mut ids = case_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let today = self.clock.today();
        for &id in &ids {
            self.disposable(id, today, None).await?;
        }
        let mut tx = self.db.begin().await?;
        let list = serde_json::to_string(&ids).expect("ids serialise");
        let did = store::insert_disposal(&mut tx, &list, actor.user_id, &today.to_string()).await?;
        for &id in &ids {
            store::set_disposal(&mut tx, id, Some(did)).await?;
        }
        crate::audit::record(
            &mut tx,
            actor,
            "archive.propose_disposal",
            "disposal",
            did,
            json!({"case_ids": ids}),
        )
        .await?;
        tx.commit().await?;
        store::disposal(&self.db, did)
            .await?
            .ok_or(AppError::NotFound("disposal"))
    }

    /// Refuses a case that may not be disposed of now, naming why (`case_ids`).
    async fn disposable(
        &self,
        case_id: i64,
        today: NaiveDate,
        disposal: Option<i64>,
    ) -> Result<()> {
        let bad = |zh: String, en: String| Err(AppError::invalid("case_ids", zh, en));
        let Some(r) = store::get(&self.db, case_id).await? else {
            return bad(
                format!("案件 {case_id} 尚未归档"),
                format!("case {case_id} is not archived"),
            );
        };
        if r.disposed_on.is_some() {
            return bad(
                format!("案件 {case_id} 的档案已销毁"),
                format!("case {case_id}'s file has been disposed of"),
            );
        }
        if r.disposal_id.is_some() && r.disposal_id != disposal {
            return bad(
                format!("案件 {case_id} 已列入另一销毁清单"),
                format!("case {case_id} is on another disposal list"),
            );
        }
        let until = zizhi_domain::calendar::parse_date(&r.retain_until).unwrap_or(today);
        if today <= until {
            return bad(
                format!("案件 {case_id} 的档案保管至 {until}，期满前不得销毁（指南 八）"),
                format!(
                    "case {case_id}'s file is kept until {until}; it may not be disposed of before (guide 8)"
                ),
            );
        }
        let why = self.legal_holds(case_id).await?;
        if let Some(w) = why.first() {
            return bad(
                format!("案件 {case_id} 处于法定保全：{}", w.zh),
                format!("case {case_id} is on legal hold: {}", w.en),
            );
        }
        Ok(())
    }

    /// An approver (not the proposer) approves or declines a disposal. Approved, each case is
    /// checked again (still due, still on no hold), marked disposed, and its objects that
    /// nothing kept refers to are destroyed after the record commits.
    pub async fn decide_disposal(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        note: &str,
    ) -> Result<Disposal> {
        role_ready(actor, Role::Approver)?;
        bounded("note", note.trim(), TEXT)?;
        let d = store::disposal(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("disposal"))?;
        if d.proposed_by == actor.user_id {
            return Err(AppError::invalid(
                "approver",
                "销毁须由提出人以外的另一人审批",
                "a disposal is approved by someone other than its proposer",
            ));
        }
        if d.state != "proposed" {
            return Err(AppError::invalid(
                "state",
                "该销毁清单已审批",
                "this disposal has been decided",
            ));
        }
        let today = self.clock.today();
        let ids = ids_of(&d);
        if approve {
            for &cid in &ids {
                self.disposable(cid, today, Some(id)).await?;
            }
        }
        // What each case's file holds, read before the record changes.
        let mut files = Vec::new();
        if approve {
            for &cid in &ids {
                let c = zizhi_store::cases::get(&self.db, cid)
                    .await?
                    .ok_or(AppError::NotFound("case"))?;
                let holder = zizhi_store::organizations::get(&self.db, c.organization_id)
                    .await?
                    .map(|o| o.name)
                    .unwrap_or_default();
                let objects = store::case_objects(&self.db, cid).await?;
                files.push((cid, crate::cases::case_number(&c), holder, objects));
            }
        }
        let mut tx = self.db.begin().await?;
        store::lock_objects(&mut tx).await?;
        let mut d = store::disposal_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("disposal"))?;
        if d.state != "proposed" {
            return Err(AppError::invalid(
                "state",
                "该销毁清单已审批",
                "this disposal has been decided",
            ));
        }
        d.decided_by = Some(actor.user_id);
        d.decided_on = Some(today.to_string());
        d.note = note.trim().to_string();
        let mut doomed: Vec<String> = Vec::new();
        if approve {
            let mut gone: Vec<i64> = store::disposed_cases(&mut tx).await?;
            gone.extend(ids.iter().copied());
            let mut destroyed = Vec::new();
            for (cid, number, holder, objects) in &files {
                let mut hashes = Vec::new();
                for o in objects {
                    let refs = store::object_references(&mut tx, &o.sha256).await?;
                    let kept = refs.iter().any(|r| match r {
                        None => true,
                        Some(c) => !gone.contains(c),
                    });
                    hashes.push(json!({"kind": o.kind, "name": o.name, "sha256": o.sha256,
                                       "sm3": o.sm3, "destroyed": !kept}));
                    if !kept && !doomed.contains(&o.sha256) {
                        doomed.push(o.sha256.clone());
                    }
                }
                store::mark_disposed(&mut tx, *cid, &today.to_string()).await?;
                destroyed.push(json!({"case_id": cid, "number": number, "holder": holder,
                                      "objects": hashes}));
            }
            d.state = "carried_out".into();
            d.destroyed = serde_json::to_string(&destroyed).expect("json");
        } else {
            d.state = "declined".into();
            for &cid in &ids {
                store::set_disposal(&mut tx, cid, None).await?;
            }
        }
        store::save_disposal(&mut tx, &d).await?;
        crate::audit::record(
            &mut tx,
            actor,
            if approve {
                "archive.dispose"
            } else {
                "archive.decline_disposal"
            },
            "disposal",
            id,
            json!({"case_ids": ids, "destroyed": serde_json::from_str::<serde_json::Value>(&d.destroyed).unwrap_or_default(), "note": d.note}),
        )
        .await?;
        // The bytes go under the objects lock, so that no upload of the same content can
        // refer to them meanwhile; the record commits right after. Bytes that cannot be
        // deleted stay (the record names them) and are reported in the log.
        for sha in doomed {
            if let Err(e) = self.files.delete(&sha).await {
                tracing::warn!(object = %sha, error = %e, "disposal: could not delete an object");
            }
        }
        tx.commit().await?;
        Ok(d)
    }

    /// The disposals, newest first (supervisors, approvers).
    pub async fn disposals(&self, actor: &Actor) -> Result<Vec<Disposal>> {
        staff_ready(actor)?;
        if !matches!(actor.role, Role::Supervisor | Role::Approver) {
            return Err(AppError::Forbidden);
        }
        Ok(store::disposals(&self.db, 200).await?)
    }
}
