//! Certification (发证, guide 5.5): the certificate officer puts passed cases into a batch, an
//! approver who is not the batch's maker approves it, and issuing creates the certificates
//! (numbers from the configured template, valid three years less a day) — each case's issue
//! with its history, audit event and e-mail in one transaction. Anyone can verify a number.

use std::sync::Arc;

use chrono::Datelike;
use chrono::NaiveDate;
use serde_json::json;
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::certificate::{self, BatchStatus};
use zizhi_domain::roles::Role;
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow};
use zizhi_store::certificates::{self as store, Batch, Certificate, NewCertificate};

use super::transition::{Effects, Step};
use crate::notify::messages;
use crate::policy::Actor;
use crate::{App, AppConfig, AppError, Result};

/// Creates the certificate of an issued case (inside the case's transaction).
pub(crate) async fn issue_certificate(
    config: &AppConfig,
    tx: &mut Tx,
    c: &CaseRow,
    today: NaiveDate,
) -> Result<Certificate> {
    let pack = crate::cases::evaluation::pack_of(c)?;
    let years = pack.validity_years.ok_or_else(|| {
        AppError::invalid(
            "validity",
            "本级别证书有效期待公布",
            "this level's validity is pending",
        )
    })?;
    let facts = crate::cases::case_facts(c)?;
    let holder = facts.organization.name.clone();
    let level = u8::try_from(c.level).map_err(|_| AppError::Internal("level".into()))?;
    let serial = store::next_serial(
        tx,
        &format!("certificate:{}:{}:{}", today.year(), c.category, level),
    )
    .await?;
    let number = certificate::number(
        &config.certificate_template,
        today.year(),
        "DR",
        level,
        serial,
    );
    let uscc = facts.organization.uscc.to_string();
    let cert = store::insert(
        tx,
        &NewCertificate {
            number: &number,
            case_id: c.id,
            organization_id: c.organization_id,
            holder: &holder,
            uscc: &uscc,
            category: &c.category,
            level: c.level,
            issued_on: &today.to_string(),
            valid_until: &certificate::valid_until(today, years).to_string(),
        },
    )
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Store(zizhi_store::StoreError::Conflict(_)) => AppError::Conflict {
            field: "certificate_number".into(),
        },
        other => other,
    })?;
    Ok(cert)
}

/// What the public verification page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub certificate: Certificate,
    /// In force today (status valid and not past its last day).
    pub in_force: bool,
    /// The kept record is signed by one of the centre's keys and says what the certificate
    /// says (`None`: no signed document yet).
    pub signature_valid: Option<bool>,
    /// The status history, oldest first: (ISO date, status) — issued (valid), then expired the
    /// day after its last day once that has passed; suspensions, lifts and revocations (六)
    /// on their days.
    pub history: Vec<(String, &'static str)>,
}

impl App {
    async fn audit_batch(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        action: &str,
        batch: i64,
        summary: serde_json::Value,
    ) -> Result<()> {
        crate::audit::record(tx, actor, action, "certificate_batch", batch, summary).await
    }

    /// The certificate officer batches cases that passed expert review.
    pub async fn create_batch(&self, actor: &Actor, case_ids: &[i64]) -> Result<Batch> {
        if actor.role != Role::CertificateOfficer {
            return Err(AppError::Forbidden);
        }
        if case_ids.is_empty() {
            return Err(AppError::invalid(
                "case_ids",
                "批次至少包含一个案件",
                "a batch needs at least one case",
            ));
        }
        let mut tx = self.db.begin().await?;
        let batch = store::new_batch(&mut tx, actor.user_id).await?;
        for id in case_ids {
            let mut c = repo::get_locked(&mut tx, *id)
                .await?
                .ok_or(AppError::NotFound("case"))?;
            let stage = c.stage;
            if stage != Stage::Certification {
                return Err(AppError::WrongStage {
                    current: stage.name(),
                });
            }
            if c.batch_id.is_some() {
                return Err(AppError::invalid(
                    "case_ids",
                    format!("案件 {id} 已在批次中"),
                    format!("case {id} is in a batch already"),
                ));
            }
            c.batch_id = Some(batch.id);
            repo::update(&mut tx, &c).await?;
        }
        self.audit_batch(
            &mut tx,
            actor,
            "batch.create",
            batch.id,
            json!({"cases": case_ids}),
        )
        .await?;
        tx.commit().await?;
        Ok(batch)
    }

    /// An approver approves a batch they did not make (separation of duties).
    pub async fn approve_batch(&self, actor: &Actor, id: i64) -> Result<()> {
        if actor.role != Role::Approver {
            return Err(AppError::Forbidden);
        }
        let mut tx = self.db.begin().await?;
        let b = store::batch_locked(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("batch"))?;
        if b.created_by == actor.user_id {
            return Err(AppError::Forbidden);
        }
        if b.status != BatchStatus::Open {
            return Err(AppError::invalid(
                "batch",
                format!("批次状态为“{}”，不能审批", b.status.name().zh),
                format!("the batch is {}, not open", b.status.name().en),
            ));
        }
        store::set_batch(
            &mut tx,
            id,
            BatchStatus::Approved.as_str(),
            Some(actor.user_id),
        )
        .await?;
        self.audit_batch(&mut tx, actor, "batch.approve", id, json!({}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues every case of an approved batch; safe to repeat after an interruption.
    pub async fn issue_batch(&self, actor: &Actor, id: i64) -> Result<Vec<Certificate>> {
        if actor.role != Role::CertificateOfficer {
            return Err(AppError::Forbidden);
        }
        let b = store::batch(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("batch"))?;
        if b.status != BatchStatus::Approved {
            return Err(AppError::invalid(
                "batch",
                "批次尚未审批",
                "the batch is not approved",
            ));
        }
        let today = self.clock.today();
        // Every holder's name must print (no blank boxes): checked for the whole batch before
        // any certificate is issued.
        let mut pending = Vec::new();
        for case_id in store::batch_cases(&self.db, id).await? {
            let c = repo::get(&self.db, case_id)
                .await?
                .ok_or(AppError::NotFound("case"))?;
            if c.stage == Stage::Certification {
                pending.push(c);
            }
        }
        let mut names = Vec::new();
        for c in &pending {
            names.push(crate::cases::case_facts(c)?.organization.name);
        }
        self.check_printable(&names).await?;
        for c in &pending {
            self.apply(
                Some(actor),
                c.id,
                Transition::Issue,
                "",
                today,
                Default::default(),
            )
            .await?;
        }
        // Each certificate's signed PDF (made once; a repeat after an interruption makes the
        // missing ones).
        let mut issued = Vec::new();
        for case_id in store::batch_cases(&self.db, id).await? {
            if let Some(c) = store::for_case(&self.db, case_id).await? {
                issued.push(c);
            }
        }
        self.seal_certificates(Some(actor), &issued).await?;
        let mut tx = self.db.begin().await?;
        store::set_batch(&mut tx, id, BatchStatus::Issued.as_str(), None).await?;
        // The batch's 公告 as a draft, for a second person to approve (5.5).
        crate::announcements::draft(&mut tx, actor, id, &issued).await?;
        self.audit_batch(&mut tx, actor, "batch.issue", id, json!({}))
            .await?;
        tx.commit().await?;
        Ok(issued)
    }

    /// Public verification of a certificate number (no sign-in).
    pub async fn verify_certificate(&self, number: &str) -> Result<Verification> {
        let (cert, sealed) = store::by_number_sealed(&self.db, number.trim())
            .await?
            .ok_or(AppError::NotFound("certificate"))?;
        let in_force = match (
            zizhi_domain::profile::CertificateStatus::parse(&cert.status),
            zizhi_domain::calendar::parse_date(&cert.valid_until),
        ) {
            (Some(status), Some(until)) => certificate::in_force(status, until, self.clock.today()),
            _ => false,
        };
        // No signed document kept: nothing to check (and no second query).
        let signature_valid = if sealed {
            self.seal_check(&cert).await?
        } else {
            None
        };
        let today = self.clock.today();
        let mut history = vec![(cert.issued_on.clone(), "valid")];
        // Suspended, valid again, revoked (六), each on its day.
        let events = if cert.status_changes > 0 {
            zizhi_store::sanctions::status_events(&self.db, cert.id).await?
        } else {
            Vec::new()
        };
        for (on, status, _) in events {
            if let Some(s) = zizhi_domain::profile::CertificateStatus::parse(&status) {
                history.push((on, s.as_str()));
            }
        }
        if let Some(until) = zizhi_domain::calendar::parse_date(&cert.valid_until)
            && until < today
            && (cert.status == "valid" || cert.status == "suspended")
            && let Some(next) = until.succ_opt()
        {
            history.push((next.to_string(), "expired"));
        }
        Ok(Verification {
            history,
            certificate: cert,
            in_force,
            signature_valid,
        })
    }
}

/// Who acted (a user id, none for the system) and when (µs).
pub type Acted = (Option<i64>, i64);

/// The certificate desk and what its rows show (see [`App::certificate_desk_details`]).
pub struct DeskDetails {
    pub waiting: Vec<CaseRow>,
    pub batches: Vec<(Batch, Vec<CaseRow>)>,
    /// Case id → (applicant's name, certificate number once issued).
    pub cases: std::collections::HashMap<i64, (String, Option<String>)>,
    /// Batch id → (who, when) it was made, approved, issued.
    pub times: std::collections::HashMap<i64, [Option<Acted>; 3]>,
    /// User id → display name.
    pub names: std::collections::HashMap<i64, String>,
}

impl App {
    /// The certificate desk: cases waiting for a batch, and the latest batches with their cases
    /// (certificate officer and approver).
    pub async fn certificate_desk(
        &self,
        actor: &Actor,
    ) -> Result<(Vec<CaseRow>, Vec<(Batch, Vec<CaseRow>)>)> {
        if !matches!(actor.role, Role::CertificateOfficer | Role::Approver) {
            return Err(AppError::Forbidden);
        }
        let filter = repo::Filter {
            stage: Some(Stage::Certification.as_str()),
            open_only: true,
            ..Default::default()
        };
        let (rows, _) = repo::page(&self.db, &filter, 1000, 0).await?;
        let waiting = rows
            .into_iter()
            .map(|l| l.case)
            .filter(|c| c.batch_id.is_none())
            .collect();
        let latest = store::batches(&self.db, 50).await?;
        // The cases of all listed batches in one query (batch ids only grow).
        let cases = match latest.iter().map(|b| b.id).min() {
            Some(first) => repo::in_batches_from(&self.db, first).await?,
            None => Vec::new(),
        };
        let batches = latest
            .into_iter()
            .map(|b| {
                let of_b = cases
                    .iter()
                    .filter(|c| c.batch_id == Some(b.id))
                    .cloned()
                    .collect();
                (b, of_b)
            })
            .collect();
        Ok((waiting, batches))
    }

    /// The certificate desk with what each batch's row shows: per case the applicant and
    /// the certificate number once issued; who made and approved the batch and when (from
    /// the audit chain: made, approved, issued).
    pub async fn certificate_desk_details(&self, actor: &Actor) -> Result<DeskDetails> {
        let (waiting, batches) = self.certificate_desk(actor).await?;
        let first = batches.iter().map(|(b, _)| b.id).min();
        let mut cases = std::collections::HashMap::new();
        if let Some(first) = first {
            for (id, holder, number) in repo::batch_details_from(&self.db, first).await? {
                cases.insert(id, (holder, number));
            }
        }
        // Who made, approved and issued each batch, from the audit chain, in one read.
        let ids: Vec<String> = batches.iter().map(|(b, _)| b.id.to_string()).collect();
        let events = zizhi_store::audit::for_objects(&self.db, "certificate_batch", &ids).await?;
        let times = batches
            .iter()
            .map(|(b, _)| {
                let id = b.id.to_string();
                let at = |action: &str| {
                    events
                        .iter()
                        .find(|e| e.object_id == id && e.action == action)
                        .map(|e| (e.actor_id, e.at_us))
                };
                (
                    b.id,
                    [at("batch.create"), at("batch.approve"), at("batch.issue")],
                )
            })
            .collect();
        let names = zizhi_store::users::list(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        Ok(DeskDetails {
            waiting,
            batches,
            cases,
            times,
            names,
        })
    }

    /// Issue (发证, 5.5): only within an approved batch; creates the certificate.
    pub(super) async fn on_issue(
        &self,
        tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        let batch = match c.batch_id {
            Some(b) => store::batch_locked(tx, b).await?,
            None => None,
        };
        if batch.is_none_or(|b| b.status != BatchStatus::Approved) {
            return Err(AppError::invalid(
                "batch",
                "案件须在已审批的证书批次中",
                "the case must be in an approved certificate batch",
            ));
        }
        let cert = issue_certificate(&self.config, tx, c, step.today).await?;
        c.closed_on = Some(step.today.to_string());
        fx.summary["certificate"] = json!({"number": cert.number, "valid_until": cert.valid_until});
        fx.mail = Some(messages::certificate_issued(
            u8::try_from(c.level).unwrap_or(0),
            &cert.number,
            &cert.valid_until,
        ));
        Ok(())
    }
}

/// A search of the public register (guide 5.5: the centre announces each holder).
#[derive(Debug, Clone, Default)]
pub struct RegistryQuery {
    /// A certificate number or USCC, or part of a holder's name.
    pub q: String,
    pub level: Option<i64>,
    /// `valid` (有效), `suspended` (暂停), `revoked` (撤销) or `expired` (过期).
    pub status: Option<String>,
    /// The year of issue.
    pub year: Option<i64>,
    pub page: i64,
}

/// One page of the register.
#[derive(Debug, Clone)]
pub struct RegistryPage {
    /// The page's certificates, and one more when another page follows: shared with the
    /// register's kept page (`store::registry`), not copied.
    rows: Arc<Vec<Certificate>>,
    /// The day the statuses are for ([`registry_status`]).
    today: NaiveDate,
    pub page: i64,
    pub per_page: i64,
    pub has_next: bool,
}

impl RegistryPage {
    /// The page's certificates, each with its status in the register today.
    pub fn certificates(&self) -> impl Iterator<Item = (&Certificate, &'static str)> {
        self.rows
            .iter()
            .take(self.per_page as usize)
            .map(|c| (c, registry_status(c, self.today)))
    }
}

/// The register's statuses (the guide's words: 有效, 暂停, 撤销, 过期).
pub const REGISTRY_STATUSES: [&str; 4] = ["valid", "suspended", "revoked", "expired"];

/// A certificate's status in the register today: `expired` once past its last day.
pub fn registry_status(c: &Certificate, today: NaiveDate) -> &'static str {
    match c.status.as_str() {
        "suspended" => "suspended",
        "revoked" => "revoked",
        _ => match zizhi_domain::calendar::parse_date(&c.valid_until) {
            Some(until) if until < today => "expired",
            _ => "valid",
        },
    }
}

impl App {
    /// Searches the public register (anyone, no sign-in): 50 a page, newest first.
    pub async fn registry(&self, q: &RegistryQuery) -> Result<RegistryPage> {
        const PER_PAGE: i64 = 50;
        let (rows, today) = self
            .registry_rows(q, PER_PAGE + 1, (q.page - 1).max(0) * PER_PAGE)
            .await?;
        let has_next = rows.len() as i64 > PER_PAGE;
        Ok(RegistryPage {
            rows,
            today,
            page: q.page,
            per_page: PER_PAGE,
            has_next,
        })
    }

    /// Every certificate the search finds (at most 10 000), newest first, with its status:
    /// the register as a spreadsheet.
    pub async fn registry_export(
        &self,
        q: &RegistryQuery,
    ) -> Result<Vec<(Certificate, &'static str)>> {
        let q = RegistryQuery {
            page: 1,
            ..q.clone()
        };
        let (rows, today) = self.registry_rows(&q, 10_000, 0).await?;
        // Not kept (`store::KEPT_ROWS`): the one owner of its rows.
        let rows = Arc::try_unwrap(rows).unwrap_or_else(|shared| (*shared).clone());
        Ok(rows
            .into_iter()
            .map(|c| {
                let s = registry_status(&c, today);
                (c, s)
            })
            .collect())
    }

    async fn registry_rows(
        &self,
        q: &RegistryQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Arc<Vec<Certificate>>, NaiveDate)> {
        let text = q.q.trim();
        crate::limits::bounded("q", text, crate::limits::NAME)?;
        if let Some(l) = q.level
            && !(1..=5).contains(&l)
        {
            return Err(AppError::invalid(
                "level",
                "资质级别应为 1 至 5",
                "the level is 1 to 5",
            ));
        }
        if let Some(s) = &q.status
            && !REGISTRY_STATUSES.contains(&s.as_str())
        {
            return Err(AppError::invalid(
                "status",
                format!("状态应为 {}", REGISTRY_STATUSES.join("、")),
                format!("the status is one of {}", REGISTRY_STATUSES.join(", ")),
            ));
        }
        if let Some(y) = q.year
            && !(2000..=2100).contains(&y)
        {
            return Err(AppError::invalid(
                "year",
                "年份应在 2000 至 2100 之间",
                "the year is 2000 to 2100",
            ));
        }
        if !(1..=crate::cases::lists::MAX_PAGE).contains(&q.page) {
            return Err(AppError::invalid(
                "page",
                format!("页码应在 1 到 {} 之间", crate::cases::lists::MAX_PAGE),
                format!(
                    "page must be between 1 and {}",
                    crate::cases::lists::MAX_PAGE
                ),
            ));
        }
        let today = self.clock.today();
        let today_s = today.to_string();
        let filter = store::RegistryFilter {
            q: text,
            level: q.level.map_or(0, |l| l as i32),
            status: q.status.as_deref().unwrap_or(""),
            year: q.year.map_or(0, |y| y as i32),
            today: &today_s,
        };
        let rows = store::registry(&self.db, &filter, limit, offset).await?;
        Ok((rows, today))
    }
}
