//! Demo data (`zizhi demo`): a user for every role, three demo applicant organisations and one
//! case in every stage of the process, each driven there through the same use cases the pages
//! and the API call (so every audit event, round, pause and e-mail is real). Everything is
//! marked 【演示】/ demo: user names start with `demo-`, display names and organisation names
//! with 【演示】, and every note says it is demo data.
//!
//! The story is told on the centre's clock: each case is filed some weeks ago (its own number
//! of days, chosen so that the dashboard shows real figures — one case near its 3-month target,
//! one past it, one with a supplement pause), and every step is taken on the day it would have
//! been, so the project clocks, pauses and deadlines are the ones the dates give.

use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::review::Area;
use zizhi_domain::roles::Role;

use crate::accounts::NewUserInput;
use crate::policy::Actor;
use crate::{App, AppError, Result};

/// The password of every demo user (printed by `zizhi demo`; demo data only).
pub const DEMO_PASSWORD: &str = "zizhi-demo-2026";

const NOTE: &str = "【演示】demo";

/// The demo organisations: (USCC, name).
const ORGS: [(&str, &str); 3] = [
    ("91350100M000100Y43", "【演示】闽江灾备科技有限公司"),
    ("91110000600037341L", "【演示】京华数据恢复服务有限公司"),
    ("91310000MA1FL2QK27", "【演示】申城容灾技术股份有限公司"),
];

/// Who plays each part.
pub struct Cast {
    pub applicants: Vec<Actor>,
    pub registrar: Actor,
    pub lead: Actor,
    /// A second project lead, who is assigned no demo case.
    pub lead2: Actor,
    pub assessor: Actor,
    /// The panel: the first is its chair.
    pub experts: [Actor; 3],
    pub finance: Actor,
    pub officer: Actor,
    pub approver: Actor,
    pub supervisor: Actor,
    pub admin: Actor,
}

/// What `seed` made.
pub struct Seeded {
    /// (username, role) of every demo user.
    pub users: Vec<(String, Role)>,
    /// (case id, stage) of every demo case.
    pub cases: Vec<(i64, Stage)>,
}

fn actor(u: &crate::accounts::User) -> Result<Actor> {
    Ok(Actor {
        user_id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: Role::parse(&u.role).ok_or_else(|| AppError::Internal("role".into()))?,
        organization_id: u.organization_id,
        needs_totp_enrollment: false,
        must_change_password: u.must_change_password,
    })
}

/// The example facts of the guide's level 2, for one demo organisation.
fn facts(uscc: &str, name: &str, kind: &str) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../examples/profile.json")).unwrap_or_default();
    v["organization"]["uscc"] = serde_json::json!(uscc);
    v["organization"]["name"] = serde_json::json!(name);
    v["kind"] = serde_json::json!(kind);
    v
}

impl App {
    /// Creates the demo cast: one user per role (two project leads, three experts, one
    /// applicant per demo organisation). Fails with a conflict when demo users exist already.
    pub async fn demo_cast(&self) -> Result<(Cast, Vec<(String, Role)>)> {
        let mut made = Vec::new();
        let mut orgs = Vec::new();
        for (uscc, name) in ORGS {
            orgs.push(self.create_organization(None, uscc, name).await?);
        }
        let mut mk = async |username: &str, role: Role, zh: &str, org: Option<i64>| {
            let (u, _) = self
                .create_user(
                    None,
                    NewUserInput {
                        username: username.into(),
                        display_name: format!("【演示】{zh}"),
                        email: format!("{username}@demo.invalid"),
                        role: role.as_str().into(),
                        organization_id: org,
                        password: Some(DEMO_PASSWORD.into()),
                    },
                )
                .await?;
            made.push((username.to_string(), role));
            actor(&u)
        };
        let mut applicants = Vec::new();
        for (i, o) in orgs.iter().enumerate() {
            let name = format!("demo-applicant{}", i + 1);
            applicants.push(
                mk(
                    &name,
                    Role::Applicant,
                    &format!("申请单位用户{}", i + 1),
                    Some(o.id),
                )
                .await?,
            );
        }
        let cast = Cast {
            applicants,
            registrar: mk("demo-registrar", Role::Registrar, "受理登记员", None).await?,
            lead: mk("demo-lead", Role::ProjectLead, "项目负责人", None).await?,
            lead2: mk("demo-lead2", Role::ProjectLead, "项目负责人二", None).await?,
            assessor: mk("demo-assessor", Role::Assessor, "评估人员", None).await?,
            experts: [
                mk("demo-expert1", Role::Expert, "评审专家一（组长）", None).await?,
                mk("demo-expert2", Role::Expert, "评审专家二", None).await?,
                mk("demo-expert3", Role::Expert, "评审专家三", None).await?,
            ],
            finance: mk("demo-finance", Role::ContractFinance, "合同财务", None).await?,
            officer: mk("demo-officer", Role::CertificateOfficer, "制证人员", None).await?,
            approver: mk("demo-approver", Role::Approver, "审批人", None).await?,
            supervisor: mk("demo-supervisor", Role::Supervisor, "监督人员", None).await?,
            admin: mk("demo-admin", Role::Administrator, "系统管理员", None).await?,
        };
        Ok((cast, made))
    }

    /// How many days before today a demo case in `target` was filed (建档立项), so that its
    /// clock tells a true story: most cases are a few weeks in, the evaluation case is near
    /// its 3-month target and the expert review case past it (九.3).
    pub fn demo_filed_days_ago(target: Stage) -> u64 {
        use Stage as S;
        match target {
            S::Draft | S::Withdrawn | S::Submitted => 0,
            S::AcceptanceReview => 3,
            S::NotAccepted => 12,
            S::Supplementing => 20,
            S::Lapsed | S::Terminated => 60,
            S::AgreementDrafting => 9,
            S::AgreementSent => 12,
            S::AgreementSigned => 18,
            S::AgreementEffective => 20,
            // With the agreement pause (14 days) the 3-month target is about 105 days after
            // filing: 95 days in leaves about ten days — inside the 15-day warning.
            S::Evaluation => 95,
            // 115 days in: past the target.
            S::ExpertReview => 115,
            S::Certification => 70,
            S::Failed => 75,
            S::Certified => 90,
        }
    }

    /// Opens a case for `applicant` and drives it to `target` along the normal path (or the
    /// branch that ends there), each step on the day it would have been taken.
    pub async fn demo_case(&self, cast: &Cast, applicant: usize, target: Stage) -> Result<i64> {
        let real = self.clock.today();
        let r = self.demo_case_dated(cast, applicant, target, real).await;
        self.clock.reset();
        r
    }

    async fn demo_case_dated(
        &self,
        cast: &Cast,
        applicant: usize,
        target: Stage,
        real: chrono::NaiveDate,
    ) -> Result<i64> {
        use Stage as S;
        use Transition as T;
        let filed = real - chrono::Days::new(Self::demo_filed_days_ago(target));
        // The clock on `offset` days after filing (never after today).
        let at = |offset: i64| {
            let d = filed + chrono::TimeDelta::days(offset);
            self.clock.set_today(d.min(real));
            d.min(real)
        };
        at(-5);
        let appl = &cast.applicants[applicant % cast.applicants.len()];
        let (_, name) = ORGS[applicant % ORGS.len()];
        let c = self.create_case(appl, 2, "initial").await?;
        let id = c.id;
        self.save_case_draft(appl, id, facts("", name, "initial"))
            .await?;
        // One document per requirement, filed against it.
        let org = appl.organization_id.ok_or(AppError::Forbidden)?;
        let pack = crate::cases::evaluation::pack_of(&c)?;
        for r in &pack.requirements {
            let mut up = self.begin_evidence(appl, org).await?;
            let body = format!("【演示】{name} — 要求 {} 的证明材料（演示文件）\n", r.id);
            self.write_evidence(&mut up, body.as_bytes()).await?;
            let ev = self
                .finish_evidence(
                    appl,
                    org,
                    up,
                    &format!("演示材料-{}.txt", r.id),
                    Some("text/plain"),
                )
                .await?;
            self.link_case_evidence(appl, id, &r.id, ev.id).await?;
        }
        if target == S::Draft {
            return Ok(id);
        }
        if target == S::Withdrawn {
            self.transition_case(appl, id, T::Withdraw, NOTE).await?;
            return Ok(id);
        }
        self.transition_case(appl, id, T::Submit, NOTE).await?;
        if target == S::Submitted {
            return Ok(id);
        }
        at(-1);
        self.record_paper_copy(&cast.registrar, id).await?;
        at(0);
        self.transition_case_with(&cast.registrar, id, T::File, NOTE, Some(cast.lead.user_id))
            .await?;
        if target == S::AcceptanceReview {
            return Ok(id);
        }
        at(7);
        let weak = matches!(
            target,
            S::Supplementing | S::Lapsed | S::Terminated | S::NotAccepted
        );
        for a in Area::ALL {
            let insufficient = weak && a == Area::OrganisationalManagement;
            let opinion = if insufficient {
                "【演示】质量管理记录不完整，请补充近一年的内部审核记录"
            } else {
                "【演示】证据充分"
            };
            self.record_review_area(&cast.lead, id, a.as_str(), !insufficient, opinion)
                .await?;
        }
        match target {
            S::NotAccepted => {
                self.transition_case(&cast.lead, id, T::NotAccept, NOTE)
                    .await?;
                return Ok(id);
            }
            S::Supplementing | S::Lapsed | S::Terminated => {
                let asked = self
                    .transition_case(&cast.lead, id, T::RequestSupplement, NOTE)
                    .await?;
                if target != S::Supplementing {
                    // The month passed without a supplement: the system lapses it the day
                    // after the deadline.
                    let due = asked
                        .supplement_due
                        .as_deref()
                        .and_then(zizhi_domain::calendar::parse_date)
                        .ok_or_else(|| AppError::Internal("supplement deadline".into()))?;
                    let next = due.succ_opt().unwrap_or(due);
                    self.clock.set_today(next.min(real));
                    self.lapse_overdue_supplements(next.min(real)).await?;
                }
                if target == S::Terminated {
                    self.transition_case(&cast.lead, id, T::Terminate, NOTE)
                        .await?;
                }
                return Ok(id);
            }
            _ => {}
        }
        self.transition_case(&cast.lead, id, T::Accept, NOTE)
            .await?;
        let steps = [
            (S::AgreementDrafting, &cast.lead, T::SendAgreement, 8),
            (S::AgreementSent, &cast.lead, T::RecordSignedAgreement, 15),
            (S::AgreementSigned, &cast.finance, T::ApproveAgreement, 17),
            (S::AgreementEffective, &cast.finance, T::ConfirmPayment, 22),
        ];
        for (stop, who, t, day) in steps {
            if target == stop {
                return Ok(id);
            }
            at(day);
            self.transition_case(who, id, t, NOTE).await?;
        }
        at(23);
        self.assign_team(
            &cast.lead,
            id,
            &[cast.assessor.user_id],
            &cast.experts.iter().map(|e| e.user_id).collect::<Vec<_>>(),
            Some(cast.experts[0].user_id),
        )
        .await?;
        let plan_day = at(25).to_string();
        self.record_activity(
            &cast.lead,
            id,
            "plan",
            &plan_day,
            "【演示】审核计划：文档审查一天、人员访谈半天、实际操作半天",
            &[],
        )
        .await?;
        if target == S::Evaluation {
            return Ok(id);
        }
        for (kind, notes, day) in [
            (
                "document_review",
                "【演示】审查灾难恢复服务过程记录与项目报告",
                30,
            ),
            ("interview", "【演示】访谈技术负责人与项目经理", 31),
            ("practical_operation", "【演示】演示备份恢复与切换演练", 32),
        ] {
            let held = at(day).to_string();
            self.record_activity(&cast.assessor, id, kind, &held, notes, &[])
                .await?;
        }
        for r in &pack.requirements {
            self.record_judgement(
                &cast.assessor,
                id,
                &r.id,
                "conform",
                "【演示】证据与访谈一致",
                &[],
            )
            .await?;
        }
        at(40);
        self.transition_case(&cast.lead, id, T::ConcludeAudit, "【演示】符合二级资质要求")
            .await?;
        if target == S::ExpertReview {
            return Ok(id);
        }
        at(48);
        // A real panel: the failed case is failed by two of three, with a dissent on record.
        let votes: [&str; 3] = if target == S::Failed {
            ["fail", "fail", "pass"]
        } else {
            ["pass", "pass", "pass"]
        };
        for (e, v) in cast.experts.iter().zip(votes) {
            let opinion = if v == "pass" {
                "【演示】证据充分，审核结论合理"
            } else {
                "【演示】实际操作记录不足以证明切换能力"
            };
            self.panel_vote(e, id, v, opinion).await?;
        }
        at(50);
        let t = if target == S::Failed {
            T::PanelFail
        } else {
            T::PanelPass
        };
        self.transition_case(&cast.experts[0], id, t, "【演示】专家组评审意见")
            .await?;
        if matches!(target, S::Failed | S::Certification) {
            return Ok(id);
        }
        at(55);
        let batch = self.create_batch(&cast.officer, &[id]).await?;
        at(57);
        self.approve_batch(&cast.approver, batch.id).await?;
        at(60);
        self.issue_batch(&cast.officer, batch.id).await?;
        Ok(id)
    }

    /// Seeds the demo: the cast and one case in every stage.
    pub async fn seed_demo(&self) -> Result<Seeded> {
        let (cast, users) = self.demo_cast().await?;
        let mut cases = Vec::new();
        // Lapsing moves every overdue supplement, so the lapsed cases come before the one
        // that stays in its supplement period.
        let mut order: Vec<Stage> = Stage::ALL.to_vec();
        order.sort_by_key(|s| *s == Stage::Supplementing);
        for (i, s) in order.into_iter().enumerate() {
            let id = self.demo_case(&cast, i, s).await?;
            cases.push((id, s));
        }
        Ok(Seeded { users, cases })
    }
}

/// What `seed_bench` made.
pub struct BenchSeeded {
    pub cases: usize,
    pub certificates: usize,
    /// A certificate number to verify.
    pub sample_certificate: Option<String>,
}

impl App {
    /// Bulk demo audit events for the chain's verify benchmark (issue 14): `n` events of
    /// about the size the process writes (a case transition with its note), appended to the
    /// chain 10 000 to a transaction.
    pub async fn seed_bench_events(&self, n: usize) -> Result<usize> {
        let mut left = n;
        while left > 0 {
            let mut tx = self.db.begin().await?;
            for _ in 0..left.min(10_000) {
                let i = n - left;
                zizhi_store::audit::append(
                    &mut tx,
                    zizhi_store::audit::NewEvent {
                        actor_id: None,
                        actor: "【演示】bench".into(),
                        action: "case.transition".into(),
                        object_type: "case".into(),
                        object_id: (i % 10_000 + 1).to_string(),
                        summary: serde_json::json!({
                            "transition": "accept", "from": "acceptance_review",
                            "to": "agreement_drafting", "round": i % 3 + 1,
                            "note": "【演示】受理审查完成：申请资料齐全，符合受理条件，予以受理。",
                        }),
                    },
                )
                .await?;
                left -= 1;
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    /// Bulk demo rows for benchmarks: `cases` cases spread over the stages (written straight
    /// to the store, without the per-step history of `seed_demo`) and `certificates`
    /// certificates numbered `DEMO-CNITSEC{year}SRV-II-{serial}`, issued in order over the
    /// last ~1000 days, all under the first demo organisation: the first with its name and
    /// USCC, the others with names and USCCs of their own, as a register holds. Needs
    /// `demo_cast` (or `seed_demo`) first.
    pub async fn seed_bench(&self, cases: usize, certificates: usize) -> Result<BenchSeeded> {
        use zizhi_store::cases as repo;
        use zizhi_store::certificates as certs;
        let orgs = zizhi_store::organizations::list(&self.db).await?;
        let (uscc, name) = ORGS[0];
        let org = orgs
            .iter()
            .find(|o| o.uscc == uscc)
            .ok_or(AppError::NotFound(
                "demo organisation (run `zizhi demo` first)",
            ))?;
        let by = zizhi_store::users::by_username(&self.db, "demo-applicant1")
            .await?
            .ok_or(AppError::NotFound("demo user (run `zizhi demo` first)"))?;
        if certificates > 0 && cases == 0 {
            return Err(AppError::invalid(
                "bench_cases",
                "生成证书须同时生成案件",
                "certificates need cases to belong to",
            ));
        }
        let mut profile = facts(uscc, name, "initial");
        profile["as_of"] = serde_json::json!(self.clock.today().to_string());
        let profile = profile.to_string();
        let today = self.clock.today();
        // Committed a thousand rows at a time: the kept tallies (case_[due_]tally, case_version,
        // certificate_year) are single rows updated by every insert, and on PostgreSQL each
        // update of a row already updated in the same transaction walks all its versions.
        const COMMIT_EVERY: usize = 1000;
        let mut tx = self.db.begin().await?;
        let mut ids = Vec::with_capacity(cases);
        for i in 0..cases {
            if i > 0 && i % COMMIT_EVERY == 0 {
                tx.commit().await?;
                tx = self.db.begin().await?;
            }
            let stage = Stage::ALL[i % Stage::ALL.len()];
            let mut row = repo::insert(
                &mut tx,
                &repo::NewCase {
                    organization_id: org.id,
                    category: "disaster_recovery",
                    level: 2,
                    kind: "initial",
                    stage: stage.as_str(),
                    profile: &profile,
                    created_by: by.id,
                },
            )
            .await?;
            if !matches!(stage, Stage::Draft | Stage::Submitted | Stage::Withdrawn) {
                let filed = today - chrono::Days::new((i % 200) as u64);
                row.filed_on = Some(filed.to_string());
                if stage.is_closed() {
                    row.closed_on = Some(today.to_string());
                }
                repo::update(&mut tx, &row).await?;
            } else if stage.is_closed() {
                // Withdrawn before filing: closed, as a withdrawal closes a case.
                row.closed_on = Some(today.to_string());
                repo::update(&mut tx, &row).await?;
            }
            ids.push(row.id);
        }
        let mut sample = None;
        let mut holders = BenchHolders::default();
        for i in 0..certificates {
            if i > 0 && i % COMMIT_EVERY == 0 {
                tx.commit().await?;
                tx = self.db.begin().await?;
            }
            // Issued in order over the last ~1000 days, the newest last.
            let back = (certificates - 1 - i) * 1000 / certificates.max(1);
            let issued = today - chrono::Days::new(back as u64);
            let number = format!(
                "DEMO-CNITSEC{}SRV-II-{:06}",
                chrono::Datelike::year(&issued),
                i + 1
            );
            let valid = zizhi_domain::certificate::valid_until(issued, 3);
            holders.next(i);
            certs::insert(
                &mut tx,
                &certs::NewCertificate {
                    number: &number,
                    case_id: ids.get(i % ids.len().max(1)).copied().unwrap_or(1),
                    organization_id: org.id,
                    holder: if i == 0 { name } else { &holders.name },
                    uscc: if i == 0 { uscc } else { &holders.uscc },
                    category: "disaster_recovery",
                    level: 2,
                    issued_on: &issued.to_string(),
                    valid_until: &valid.to_string(),
                },
            )
            .await?;
            if i == certificates / 2 {
                sample = Some(number);
            }
        }
        tx.commit().await?;
        self.db.compact_kept_counts().await?;
        Ok(BenchSeeded {
            cases,
            certificates,
            sample_certificate: sample,
        })
    }
}

/// Holder names for bench certificates, so that a search of the register by part of a name
/// meets what a real register holds: a place, a two-word trade name, a trade and a company
/// form, ~1.3 million combinations (the first certificate keeps the demo organisation's name).
#[derive(Default)]
struct BenchHolders {
    name: String,
    /// A valid USCC of the holder (check character computed), one per certificate.
    uscc: String,
}

impl BenchHolders {
    const PLACES: [&str; 16] = [
        "北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "福州", "厦门",
        "天津", "重庆", "长沙", "济南", "沈阳",
    ];
    const WORDS: [&str; 32] = [
        "华信", "天融", "安恒", "启明", "星辰", "中科", "云端", "数安", "容备", "恒远", "博通",
        "致远", "鼎信", "宏图", "瑞达", "金盾", "龙腾", "汇智", "联创", "卓越", "盛世", "光大",
        "长城", "海量", "方舟", "灵犀", "锐捷", "浩瀚", "明德", "宇宙", "蓝海", "泰山",
    ];
    const TRADES: [&str; 5] = ["数据", "信息技术", "灾备", "网络安全", "云计算"];
    const FORMS: [&str; 2] = ["有限公司", "股份有限公司"];

    fn next(&mut self, i: usize) {
        let mut n = i;
        let mut pick = |len: usize| {
            let k = n % len;
            n /= len;
            k
        };
        let (p, w1, w2, t, f) = (
            pick(Self::PLACES.len()),
            pick(Self::WORDS.len()),
            pick(Self::WORDS.len()),
            pick(Self::TRADES.len()),
            pick(Self::FORMS.len()),
        );
        let first17 = format!("91110000MA{:07}", i % 10_000_000);
        let check = zizhi_domain::uscc::check_char(&first17).expect("17 code characters");
        self.uscc = format!("{first17}{check}");
        self.name = format!(
            "{}{}{}{}{}",
            Self::PLACES[p],
            Self::WORDS[w1],
            Self::WORDS[w2],
            Self::TRADES[t],
            Self::FORMS[f]
        );
    }
}
