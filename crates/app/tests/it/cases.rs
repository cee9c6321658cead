//! The acceptance phase of a case (guide 5.2), on SQLite and (with ZIZHI_TEST_POSTGRES_URL)
//! PostgreSQL: draft, submission rounds, paper copy, filing conditions, supplement deadline and
//! clock pause, resubmission, acceptance, lapse and termination, withdrawal; wrong roles and
//! wrong stages refused.

use crate::without_staff_second_factor;
use zizhi_app::accounts::NewUserInput;
use zizhi_app::{Actor, App, AppError};
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::criteria::Pack;
use zizhi_domain::period::{PeriodLength, period_end};
use zizhi_domain::review::Area;
use zizhi_store::files::FileStore;

pub(crate) const PROFILE: &str = include_str!("../../../../examples/profile.json");

pub(crate) async fn apps() -> Vec<App> {
    let mut out = Vec::new();
    for b in zizhi_testkit::backends("zizhi_cases").await {
        let files = FileStore::open(&b.dir.join("evidence")).await.unwrap();
        out.push(App::new(b.db, files, without_staff_second_factor()));
    }
    out
}

pub(crate) struct People {
    pub applicant: Actor,
    pub stranger: Actor,
    pub registrar: Actor,
    pub lead: Actor,
    pub finance: Actor,
}

pub(crate) async fn people(app: &App) -> People {
    let org = app
        .create_organization(None, "91350100M000100Y43", "示例灾备科技有限公司")
        .await
        .unwrap();
    let other = app
        .create_organization(None, "91110000600037341L", "另一单位")
        .await
        .unwrap();
    let mk = |name: &str, role: &str, org: Option<i64>| NewUserInput {
        username: name.into(),
        display_name: name.into(),
        email: format!("{name}@example.test"),
        role: role.into(),
        organization_id: org,
        password: Some("a long password".into()),
    };
    for (n, r, o) in [
        ("appl", "applicant", Some(org.id)),
        ("stranger", "applicant", Some(other.id)),
        ("reg", "registrar", None),
        ("lead", "project_lead", None),
        ("fin", "contract_finance", None),
    ] {
        app.create_user(None, mk(n, r, o)).await.unwrap();
    }
    let login =
        |n: &'static str| async move { app.login(n, "a long password", None).await.unwrap().actor };
    People {
        applicant: login("appl").await,
        stranger: login("stranger").await,
        registrar: login("reg").await,
        lead: login("lead").await,
        finance: login("fin").await,
    }
}

pub(crate) fn stage(app_case: &zizhi_store::cases::CaseRow) -> Stage {
    app_case.stage
}

#[tokio::test]
async fn a_case_goes_from_draft_through_a_supplement_to_acceptance() {
    for app in apps().await {
        let p = people(&app).await;
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        assert_eq!(stage(&c), Stage::Draft);
        // Submitting without facts names the problem.
        let e = app
            .transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap_err();
        // (The date, name and USCC are the server's: the first missing fact is the
        // applicant's own.)
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field == "profile.organization.independent_legal_person"),
            "{e:?}"
        );
        let facts: serde_json::Value = serde_json::from_str(PROFILE).unwrap();
        app.save_case_profile(&p.applicant, c.id, facts.clone())
            .await
            .unwrap();
        let c = app
            .transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Submitted);

        // Filing: the paper copy and electronic materials are missing, and are named.
        let e = app
            .transition_case(&p.registrar, c.id, Transition::File, "")
            .await
            .unwrap_err();
        let AppError::Invalid { field, problem } = e else {
            panic!("{e:?}")
        };
        assert_eq!(field, "filing");
        assert!(
            problem.zh.contains("纸版申请书") && problem.zh.contains("电子版资料"),
            "{}",
            problem.zh
        );
        app.record_paper_copy(&p.registrar, c.id).await.unwrap();
        let mut up = app
            .begin_evidence(&p.applicant, c.organization_id)
            .await
            .unwrap();
        app.write_evidence(&mut up, b"%PDF-1.7 application")
            .await
            .unwrap();
        let ev = app
            .finish_evidence(
                &p.applicant,
                c.organization_id,
                up,
                "申请书.pdf",
                Some("application/pdf"),
            )
            .await
            .unwrap();
        // An upload not filed with the application is not its electronic material (5.2 (三)).
        let e = app
            .transition_case(&p.registrar, c.id, Transition::File, "")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, ref problem } if field == "filing" && problem.zh.contains("电子版资料") && !problem.zh.contains("纸版")),
            "{e:?}"
        );
        // Submitted cases are not the applicant's to change.
        assert!(matches!(
            app.link_case_evidence(&p.applicant, c.id, "3.1.1", ev.id)
                .await,
            Err(AppError::WrongStage { .. })
        ));
        link_in_db(&app, c.id, "3.1.1", ev.id, &p.applicant).await;
        // Filing names the project lead (建档立项).
        let e = app
            .transition_case(&p.registrar, c.id, Transition::File, "")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field == "lead_id"),
            "{e:?}"
        );
        let c = app
            .transition_case_with(
                &p.registrar,
                c.id,
                Transition::File,
                "",
                Some(p.lead.user_id),
            )
            .await
            .unwrap();
        assert_eq!(c.lead_id, Some(p.lead.user_id));
        assert_eq!(stage(&c), Stage::AcceptanceReview);
        assert_eq!(
            c.filed_on.as_deref(),
            Some(app.clock.today().to_string().as_str())
        );
        let body = last_mail_body(&app).await;
        assert!(
            body.contains("建档立项") && body.contains("ZZ-"),
            "the applicant hears of the filing: {body}"
        );

        // The lead asks for a supplement: one month (Civil Code, holidays), clock paused.
        let e = app
            .transition_case(&p.lead, c.id, Transition::RequestSupplement, "  ")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid { ref field, .. } if field == "note"));
        // Not before the five areas of 5.2 are judged.
        let e = app
            .transition_case(&p.lead, c.id, Transition::RequestSupplement, "请补充")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, ref problem } if field == "areas" && problem.zh.contains("组织管理能力")),
            "{e:?}"
        );
        review(&app, &p, c.id, Some(Area::BasicCapability)).await;
        let c = app
            .transition_case(
                &p.lead,
                c.id,
                Transition::RequestSupplement,
                "请补充近三年审计报告",
            )
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Supplementing);
        let due = period_end(
            app.clock.today(),
            PeriodLength::Months(1),
            &app.config.calendar,
        )
        .last_day;
        assert_eq!(c.supplement_due.as_deref(), Some(due.to_string().as_str()));
        let d = app.case(&p.applicant, c.id).await.unwrap();
        assert!(d.clock.unwrap().paused_now);
        assert_eq!(d.next, vec![Transition::Resubmit, Transition::Withdraw]);
        let mails = zizhi_store::outbox::counts(app.store_for_tests())
            .await
            .unwrap();
        assert!(
            mails.iter().any(|(s, n)| s == "pending" && *n >= 1),
            "the opinion is e-mailed: {mails:?}"
        );
        let body = last_mail_body(&app).await;
        assert!(
            body.contains("基本能力")
                && body.contains("证据不充分")
                && body.contains("意见：basic_capability"),
            "the e-mail carries the five areas: {body}"
        );

        // The applicant corrects and resubmits: a second, separate round.
        let mut facts2 = facts.clone();
        facts2["staff"]["full_time_registered_professionals"] = serde_json::json!(9);
        app.save_case_profile(&p.applicant, c.id, facts2)
            .await
            .unwrap();
        let c = app
            .transition_case(&p.applicant, c.id, Transition::Resubmit, "已补充")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::AcceptanceReview);
        let d = app.case(&p.lead, c.id).await.unwrap();
        assert_eq!(d.rounds.len(), 2);
        assert!(
            d.rounds[0]
                .profile
                .contains("\"full_time_registered_professionals\":8"),
            "round 1 is kept as it was"
        );
        assert!(
            d.rounds[1]
                .profile
                .contains("\"full_time_registered_professionals\":9")
        );
        assert!(d.rounds[1].assessment.contains("\"eligible\":true"));
        assert_eq!(d.pauses.len(), 1);
        assert!(d.pauses[0].end_on.is_some());
        assert!(!d.clock.unwrap().paused_now);

        // Round 2 is judged afresh; acceptance needs every area sufficient.
        assert!(app.review_areas(&p.lead, c.id).await.unwrap().is_empty());
        review(&app, &p, c.id, Some(Area::ProcessCapability)).await;
        let e = app
            .transition_case(&p.lead, c.id, Transition::Accept, "予以受理")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, ref problem } if field == "areas" && problem.zh.contains("专项技术过程能力")),
            "{e:?}"
        );
        review(&app, &p, c.id, None).await;
        let c = app
            .transition_case(&p.lead, c.id, Transition::Accept, "材料齐全，予以受理")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::AgreementDrafting);
        let history: Vec<String> = app
            .case(&p.lead, c.id)
            .await
            .unwrap()
            .transitions
            .iter()
            .map(|t| t.transition.clone())
            .collect();
        assert_eq!(
            history,
            ["submit", "file", "request_supplement", "resubmit", "accept"]
        );
        assert_eq!(app.verify_audit(None).await.unwrap().first_break, None);
    }
}

#[tokio::test]
async fn wrong_roles_wrong_stages_and_other_organisations_are_refused() {
    for app in apps().await {
        let p = people(&app).await;
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        assert!(matches!(
            app.create_case(&p.registrar, 2, "initial").await,
            Err(AppError::Forbidden)
        ));
        assert!(
            matches!(app.create_case(&p.applicant, 4, "initial").await, Err(AppError::Invalid { ref field, .. }) if field == "level")
        );
        assert!(matches!(
            app.case(&p.stranger, c.id).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.transition_case(&p.stranger, c.id, Transition::Withdraw, "")
                .await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.transition_case(&p.lead, c.id, Transition::Submit, "")
                .await,
            Err(AppError::Forbidden)
        ));
        let e = app
            .transition_case(&p.registrar, c.id, Transition::File, "")
            .await
            .unwrap_err();
        let AppError::WrongStage { current } = e else {
            panic!("{e:?}")
        };
        assert_eq!(current.zh, "草稿");
        assert!(matches!(
            app.record_paper_copy(&p.registrar, c.id).await,
            Err(AppError::WrongStage { .. })
        ));
        assert!(matches!(
            app.save_case_profile(&p.lead, c.id, serde_json::json!({}))
                .await,
            Err(AppError::Forbidden)
        ));
        // Withdrawal closes the case; nothing moves afterwards.
        let c = app
            .transition_case(&p.applicant, c.id, Transition::Withdraw, "")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Withdrawn);
        assert!(c.closed_on.is_some());
        assert!(matches!(
            app.transition_case(&p.applicant, c.id, Transition::Submit, "")
                .await,
            Err(AppError::WrongStage { .. })
        ));
        assert_eq!(
            app.cases_page(&p.stranger, None, 1, 50)
                .await
                .unwrap()
                .0
                .len(),
            0
        );
        assert_eq!(
            app.cases_page(&p.lead, None, 1, 50).await.unwrap().0.len(),
            1
        );
    }
}

#[tokio::test]
async fn a_passed_supplement_deadline_lapses_the_case_and_the_lead_terminates_it() {
    for app in apps().await {
        let p = people(&app).await;
        let id = filed(&app, &p, serde_json::from_str(PROFILE).unwrap(), "initial").await;
        review(&app, &p, id, Some(Area::FormalConformity)).await;
        let c = app
            .transition_case(&p.lead, id, Transition::RequestSupplement, "请补充")
            .await
            .unwrap();
        let due = zizhi_domain::calendar::parse_date(c.supplement_due.as_deref().unwrap()).unwrap();
        // On the last day it is still in time; the day after, it lapses.
        assert_eq!(app.lapse_overdue_supplements(due).await.unwrap(), 0);
        assert_eq!(
            app.lapse_overdue_supplements(due.succ_opt().unwrap())
                .await
                .unwrap(),
            1
        );
        let d = app.case(&p.lead, c.id).await.unwrap();
        assert_eq!(d.stage, Stage::Lapsed);
        let body = last_mail_body(&app).await;
        assert!(
            body.contains("补充资料期限") && body.contains(&due.to_string()),
            "{body}"
        );
        assert_eq!(
            d.next,
            vec![Transition::ExtendSupplement, Transition::Terminate]
        );
        let c = app
            .transition_case(&p.lead, c.id, Transition::Terminate, "逾期未补充资料，终止")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Terminated);
        let d = app.case(&p.lead, c.id).await.unwrap();
        assert!(d.pauses.iter().all(|p| p.end_on.is_some()));
        assert_eq!(
            d.transitions
                .iter()
                .find(|t| t.transition == "mark_lapsed")
                .unwrap()
                .actor_id,
            None,
            "the system lapsed it"
        );
    }
}

/// Files evidence against a requirement directly in the store (for a case past its draft,
/// where the applicant no longer may).
pub(crate) async fn link_in_db(
    app: &App,
    case_id: i64,
    requirement: &str,
    evidence_id: i64,
    by: &Actor,
) {
    let mut tx = app.store_for_tests().begin().await.unwrap();
    zizhi_store::review::link(&mut tx, case_id, requirement, evidence_id, by.user_id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The lead judges the five areas of the current round; `weak` insufficient, the rest
/// sufficient. Each opinion names its area.
pub(crate) async fn review(app: &App, p: &People, id: i64, weak: Option<Area>) {
    for a in Area::ALL {
        app.record_review_area(
            &p.lead,
            id,
            a.as_str(),
            Some(a) != weak,
            &format!("意见：{}", a.as_str()),
        )
        .await
        .unwrap();
    }
}

/// Seeds the demo and gives the certificate of its certified case (issued in a batch, sealed).
pub(crate) async fn demo_certificate(app: &App) -> zizhi_store::certificates::Certificate {
    let seeded = app.seed_demo().await.unwrap();
    let (id, _) = seeded
        .cases
        .iter()
        .find(|(_, stage)| *stage == Stage::Certified)
        .unwrap();
    zizhi_store::certificates::for_case(app.store_for_tests(), *id)
        .await
        .unwrap()
        .unwrap()
}

/// The newest pending step notice's body (claimed, so a later call sees only newer ones); the
/// formal letter that follows a step in its own e-mail is not a notice.
pub(crate) async fn last_mail_body(app: &App) -> String {
    let until = zizhi_store::now_us() + 3_600_000_000;
    let mails = zizhi_store::outbox::claim(app.store_for_tests(), "test", 1000, until)
        .await
        .unwrap();
    mails
        .into_iter()
        .filter(|m| !m.subject.ends_with("/ Formal letter"))
        .max_by_key(|m| m.id)
        .unwrap()
        .body
}

/// Draft → filed (in acceptance review), with `facts` as the application.
pub(crate) async fn filed(app: &App, p: &People, facts: serde_json::Value, kind: &str) -> i64 {
    let c = app.create_case(&p.applicant, 2, kind).await.unwrap();
    app.save_case_profile(&p.applicant, c.id, facts)
        .await
        .unwrap();
    app.transition_case(&p.applicant, c.id, Transition::Submit, "")
        .await
        .unwrap();
    app.record_paper_copy(&p.registrar, c.id).await.unwrap();
    let mut up = app
        .begin_evidence(&p.applicant, c.organization_id)
        .await
        .unwrap();
    app.write_evidence(&mut up, b"materials").await.unwrap();
    let ev = app
        .finish_evidence(&p.applicant, c.organization_id, up, "m.pdf", None)
        .await
        .unwrap();
    link_in_db(app, c.id, "3.1.1", ev.id, &p.applicant).await;
    app.transition_case_with(
        &p.registrar,
        c.id,
        Transition::File,
        "",
        Some(p.lead.user_id),
    )
    .await
    .unwrap();
    c.id
}

/// Draft → accepted.
pub(crate) async fn accepted(app: &App, p: &People, facts: serde_json::Value, kind: &str) -> i64 {
    let id = filed(app, p, facts, kind).await;
    review(app, p, id, None).await;
    app.transition_case(&p.lead, id, Transition::Accept, "予以受理")
        .await
        .unwrap();
    id
}

/// Draft → accepted → agreement sent, signed, approved and paid: in evaluation (5.3).
pub(crate) async fn paid(app: &App, p: &People, facts: serde_json::Value, kind: &str) -> i64 {
    let id = accepted(app, p, facts, kind).await;
    for (who, t) in [
        (&p.lead, Transition::SendAgreement),
        (&p.lead, Transition::RecordSignedAgreement),
        (&p.finance, Transition::ApproveAgreement),
        (&p.finance, Transition::ConfirmPayment),
    ] {
        app.transition_case(who, id, t, "ok").await.unwrap();
    }
    id
}

#[tokio::test]
async fn the_agreement_carries_the_fee_and_pauses_the_clock_until_payment() {
    for app in apps().await {
        let p = people(&app).await;
        let id = accepted(&app, &p, serde_json::from_str(PROFILE).unwrap(), "initial").await;
        assert!(matches!(
            app.transition_case(&p.finance, id, Transition::SendAgreement, "x")
                .await,
            Err(AppError::Forbidden)
        ));
        let c = app
            .transition_case(&p.lead, id, Transition::SendAgreement, "协议模板见附件")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::AgreementSent);
        assert_eq!(
            c.fee_fen,
            Some(87_000 * 100),
            "initial level 2: 72 000 + 15 000"
        );
        assert!(c.agreement_no.as_deref().unwrap().starts_with("ZZXY-"));
        assert!(
            app.case(&p.lead, id)
                .await
                .unwrap()
                .clock
                .unwrap()
                .paused_now
        );
        assert!(
            matches!(
                app.transition_case(&p.finance, id, Transition::ApproveAgreement, "")
                    .await,
                Err(AppError::WrongStage { .. })
            ),
            "not signed yet"
        );
        app.transition_case(
            &p.lead,
            id,
            Transition::RecordSignedAgreement,
            "已收到签章协议",
        )
        .await
        .unwrap();
        assert!(matches!(
            app.transition_case(&p.lead, id, Transition::ApproveAgreement, "")
                .await,
            Err(AppError::Forbidden)
        ));
        app.transition_case(&p.finance, id, Transition::ApproveAgreement, "")
            .await
            .unwrap();
        let c = app
            .transition_case(
                &p.finance,
                id,
                Transition::ConfirmPayment,
                "到账 87,000.00 元",
            )
            .await
            .unwrap();
        assert_eq!(
            stage(&c),
            Stage::Evaluation,
            "evaluation opens only after payment"
        );
        let d = app.case(&p.lead, id).await.unwrap();
        assert!(!d.clock.unwrap().paused_now);
        assert_eq!(d.pauses.len(), 1);
        assert_eq!(app.verify_audit(None).await.unwrap().first_break, None);
    }
}

#[tokio::test]
async fn an_on_time_maintenance_application_is_charged_the_maintenance_fee() {
    for app in apps().await {
        let p = people(&app).await;
        let mut facts: serde_json::Value = serde_json::from_str(PROFILE).unwrap();
        facts["kind"] = serde_json::json!("maintenance");
        // Level-2 certificate valid well beyond six months from today: on time.
        let until = app
            .clock
            .today()
            .checked_add_months(chrono::Months::new(12))
            .unwrap()
            .to_string();
        facts["certificates"] = serde_json::json!([{"category": "disaster_recovery", "level": 2, "number": "N-2", "valid_until": until, "status": "valid"}]);
        facts["as_of"] = serde_json::json!(app.clock.today().to_string());
        let id = accepted(&app, &p, facts, "maintenance").await;
        let c = app
            .transition_case(&p.lead, id, Transition::SendAgreement, "维持申请协议")
            .await
            .unwrap();
        assert_eq!(
            c.fee_fen,
            Some(63_000 * 100),
            "maintenance level 2: 48 000 + 15 000"
        );
    }
}

#[tokio::test]
async fn evaluation_judges_every_requirement_and_the_panel_concludes_on_a_fixed_dossier() {
    for app in apps().await {
        let p = people(&app).await;
        let mk = |n: &str, r: &str| NewUserInput {
            username: n.into(),
            display_name: n.into(),
            email: format!("{n}@example.test"),
            role: r.into(),
            organization_id: None,
            password: Some("a long password".into()),
        };
        let a1 = app
            .create_user(None, mk("assessor1", "assessor"))
            .await
            .unwrap()
            .0
            .id;
        let e1 = app
            .create_user(None, mk("expert1", "expert"))
            .await
            .unwrap()
            .0
            .id;
        let e2 = app
            .create_user(None, mk("expert2", "expert"))
            .await
            .unwrap()
            .0
            .id;
        let e3 = app
            .create_user(None, mk("expert3", "expert"))
            .await
            .unwrap()
            .0
            .id;
        let assessor = app
            .login("assessor1", "a long password", None)
            .await
            .unwrap()
            .actor;
        let expert1 = app
            .login("expert1", "a long password", None)
            .await
            .unwrap()
            .actor;
        let expert2 = app
            .login("expert2", "a long password", None)
            .await
            .unwrap()
            .actor;
        let expert3 = app
            .login("expert3", "a long password", None)
            .await
            .unwrap()
            .actor;
        let id = paid(&app, &p, serde_json::from_str(PROFILE).unwrap(), "initial").await;
        // Conflict of interest and roles.
        let e = app
            .assign_team(&p.lead, id, &[a1], &[e1, p.lead.user_id], None)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field == "experts"),
            "{e:?}"
        );
        assert!(
            app.assign_team(&p.lead, id, &[e1], &[e2], None)
                .await
                .is_err(),
            "an expert is not an assessor"
        );
        assert!(
            app.assign_team(&p.lead, id, &[a1], &[a1], None)
                .await
                .is_err()
        );
        assert!(matches!(
            app.assign_team(&p.registrar, id, &[a1], &[e1], None).await,
            Err(AppError::Forbidden)
        ));
        app.assign_team(&p.lead, id, &[a1], &[e1, e2, e3], Some(e1))
            .await
            .unwrap();

        // Every requirement must be judged before the audit is concluded.
        let pack = Pack::shipped().into_iter().find(|x| x.level == 2).unwrap();
        let evidence = zizhi_store::evaluation::evidence_ids(
            app.store_for_tests(),
            p.applicant.organization_id.unwrap(),
        )
        .await
        .unwrap();
        for r in &pack.requirements[..pack.requirements.len() - 1] {
            app.record_judgement(&assessor, id, &r.id, "conform", "材料与访谈一致", &evidence)
                .await
                .unwrap();
        }
        let e = app
            .transition_case(&p.lead, id, Transition::ConcludeAudit, "符合二级要求")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref problem, .. } if problem.zh.contains("3.4.3")),
            "{e:?}"
        );
        assert!(matches!(
            app.record_judgement(&assessor, id, "9.9.9", "conform", "x", &[])
                .await,
            Err(AppError::Invalid { .. })
        ));
        assert!(matches!(
            app.record_judgement(&expert1, id, "3.4.3", "conform", "x", &[])
                .await,
            Err(AppError::Forbidden)
        ));
        app.record_judgement(&assessor, id, "3.4.3", "partial", "跟踪记录不完整", &[])
            .await
            .unwrap();
        assert!(matches!(
            app.transition_case(&assessor, id, Transition::ConcludeAudit, "x")
                .await,
            Err(AppError::Forbidden)
        ));
        // 5.4: an audit plan, then activities, before the conclusion.
        let e = app
            .transition_case(&p.lead, id, Transition::ConcludeAudit, "x")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, ref problem } if field == "activities" && problem.zh.contains("审核计划")),
            "{e:?}"
        );
        let day = app.clock.today().to_string();
        app.record_activity(&p.lead, id, "plan", &day, "文档审查、访谈、演示各一天", &[])
            .await
            .unwrap();
        let e = app
            .transition_case(&p.lead, id, Transition::ConcludeAudit, "x")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref problem, .. } if problem.zh.contains("评估活动")),
            "{e:?}"
        );
        assert!(matches!(
            app.record_activity(&expert1, id, "interview", &day, "x", &[])
                .await,
            Err(AppError::Forbidden)
        ));
        assert!(
            matches!(app.record_activity(&assessor, id, "audit", &day, "x", &[]).await, Err(AppError::Invalid { ref field, .. }) if field == "kind")
        );
        assert!(
            matches!(app.record_activity(&assessor, id, "interview", "2026-13-01", "x", &[]).await, Err(AppError::Invalid { ref field, .. }) if field == "held_on")
        );
        let tomorrow = (app.clock.today() + chrono::Days::new(1)).to_string();
        assert!(
            matches!(app.record_activity(&assessor, id, "interview", &tomorrow, "x", &[]).await, Err(AppError::Invalid { ref field, .. }) if field == "held_on"),
            "an activity is not dated in the future"
        );
        assert!(
            matches!(app.record_activity(&assessor, id, "interview", &day, "x", &[999_999]).await, Err(AppError::Invalid { ref field, .. }) if field == "evidence_ids")
        );
        app.record_activity(
            &assessor,
            id,
            "practical_operation",
            &day,
            "演示切换演练",
            &evidence,
        )
        .await
        .unwrap();
        let acts = app.activities(&p.lead, id).await.unwrap();
        assert_eq!(acts.len(), 2);
        assert!(matches!(
            app.activities(&p.applicant, id).await,
            Err(AppError::Forbidden)
        ));
        let c = app
            .transition_case(&p.lead, id, Transition::ConcludeAudit, "基本符合二级要求")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::ExpertReview);
        let first_hash = c.dossier_hash.clone().unwrap();
        assert_eq!(first_hash.len(), 64);

        // The panel: all must vote before a conclusion; the lead cannot vote.
        assert!(matches!(
            app.panel_vote(&p.lead, id, "pass", "x").await,
            Err(AppError::Forbidden)
        ));
        app.panel_vote(&expert1, id, "return", "请补充 3.4.3 的纠正措施记录")
            .await
            .unwrap();
        assert!(matches!(
            app.panel_vote(&expert1, id, "pass", "again").await,
            Err(AppError::Conflict { .. })
        ));
        assert!(
            matches!(app.transition_case(&expert1, id, Transition::PanelReturn, "补充后再审").await, Err(AppError::Invalid { ref field, .. }) if field == "votes")
        );
        app.panel_vote(&expert2, id, "return", "同意退回")
            .await
            .unwrap();
        app.panel_vote(&expert3, id, "pass", "可以通过（保留意见）")
            .await
            .unwrap();
        let c = app
            .transition_case(
                &expert1,
                id,
                Transition::PanelReturn,
                "请补充纠正措施记录后再审",
            )
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Evaluation);

        // A second review round on a new dossier.
        app.record_judgement(
            &assessor,
            id,
            "3.4.3",
            "conform",
            "已补充纠正措施记录",
            &evidence,
        )
        .await
        .unwrap();
        let c = app
            .transition_case(&p.lead, id, Transition::ConcludeAudit, "符合二级要求")
            .await
            .unwrap();
        assert_ne!(
            c.dossier_hash.as_deref(),
            Some(first_hash.as_str()),
            "a changed dossier has a new hash"
        );
        assert_eq!(c.review_round, 2);
        app.panel_vote(&expert1, id, "pass", "证据充分，结论合理")
            .await
            .unwrap();
        app.panel_vote(&expert2, id, "pass", "同意").await.unwrap();
        app.panel_vote(&expert3, id, "pass", "同意").await.unwrap();
        // Only the chair records the panel's conclusion.
        assert!(matches!(
            app.transition_case(&expert2, id, Transition::PanelPass, "通过")
                .await,
            Err(AppError::Forbidden)
        ));
        let c = app
            .transition_case(&expert1, id, Transition::PanelPass, "通过")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Certification);
        let history: Vec<String> = app
            .case(&p.lead, id)
            .await
            .unwrap()
            .transitions
            .iter()
            .map(|t| t.transition.clone())
            .collect();
        assert_eq!(
            &history[history.len() - 3..],
            ["panel_return", "conclude_audit", "panel_pass"]
        );
        assert_eq!(app.verify_audit(None).await.unwrap().first_break, None);
    }
}

#[tokio::test]
async fn the_portal_saves_drafts_checks_completeness_and_files_evidence_per_requirement() {
    for app in apps().await {
        let p = people(&app).await;
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        let pack = Pack::shipped().into_iter().find(|x| x.level == 2).unwrap();
        // An empty draft lacks every mandatory fact and every requirement's evidence.
        let done = app.completeness(&p.applicant, c.id).await.unwrap();
        assert_eq!(
            done.missing_fields.len(),
            zizhi_domain::profile::MANDATORY_FIELDS.len()
        );
        assert_eq!(done.without_evidence.len(), pack.requirements.len());
        assert!(!done.complete());
        // A partial draft is saved as it stands; what is missing is listed.
        let mut facts: serde_json::Value = serde_json::from_str(PROFILE).unwrap();
        facts["staff"]
            .as_object_mut()
            .unwrap()
            .remove("dr_technical_staff");
        // The name is the registered organisation's whatever the form says.
        facts["organization"]["name"] = serde_json::json!("  ");
        app.save_case_draft(&p.applicant, c.id, facts.clone())
            .await
            .unwrap();
        let done = app.completeness(&p.applicant, c.id).await.unwrap();
        assert_eq!(done.missing_fields, ["staff.dr_technical_staff"]);
        // Submission validates the whole profile and names the field.
        let e = app
            .transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field.starts_with("profile.")),
            "{e:?}"
        );
        // Filled but wrong: no field missing, the profile's own error is shown.
        facts["organization"]["name"] = serde_json::json!("示例灾备科技有限公司");
        facts["staff"]["dr_technical_staff"] = serde_json::json!(50);
        facts["organization"]["security_service_since"] = serde_json::json!("2099-01-01");
        app.save_case_draft(&p.applicant, c.id, facts.clone())
            .await
            .unwrap();
        let done = app.completeness(&p.applicant, c.id).await.unwrap();
        assert!(done.missing_fields.is_empty());
        assert_eq!(
            done.facts.as_ref().map(|f| f.0.as_str()),
            Some("profile.organization.security_service_since")
        );
        facts["organization"]["security_service_since"] = serde_json::json!("2019-03-01");
        app.save_case_draft(&p.applicant, c.id, facts.clone())
            .await
            .unwrap();
        let d = app.case(&p.applicant, c.id).await.unwrap();
        assert!(app.portal(&d).await.unwrap().assessment.unwrap().eligible);
        // Evidence: the organisation's own, against a requirement of the pack, once.
        let mut up = app
            .begin_evidence(&p.applicant, c.organization_id)
            .await
            .unwrap();
        app.write_evidence(&mut up, b"licence").await.unwrap();
        let ev = app
            .finish_evidence(&p.applicant, c.organization_id, up, "营业执照.pdf", None)
            .await
            .unwrap();
        let other = p.stranger.organization_id.unwrap();
        let mut up = app.begin_evidence(&p.stranger, other).await.unwrap();
        app.write_evidence(&mut up, b"not yours").await.unwrap();
        let foreign = app
            .finish_evidence(&p.stranger, other, up, "x.pdf", None)
            .await
            .unwrap();
        assert!(
            matches!(app.link_case_evidence(&p.applicant, c.id, "3.1.1", foreign.id).await, Err(AppError::Invalid { ref field, .. }) if field == "evidence_id")
        );
        assert!(
            matches!(app.link_case_evidence(&p.applicant, c.id, "9.9", ev.id).await, Err(AppError::Invalid { ref field, .. }) if field == "requirement_id")
        );
        assert!(matches!(
            app.link_case_evidence(&p.lead, c.id, "3.1.1", ev.id).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.link_case_evidence(&p.stranger, c.id, "3.1.1", foreign.id)
                .await,
            Err(AppError::Forbidden)
        ));
        for r in &pack.requirements {
            app.link_case_evidence(&p.applicant, c.id, &r.id, ev.id)
                .await
                .unwrap();
        }
        assert!(matches!(
            app.link_case_evidence(&p.applicant, c.id, "3.1.1", ev.id)
                .await,
            Err(AppError::Conflict { .. })
        ));
        let done = app.completeness(&p.applicant, c.id).await.unwrap();
        assert!(done.complete(), "{done:?}");
        assert_eq!(
            app.case_evidence(&p.registrar, c.id).await.unwrap().len(),
            pack.requirements.len()
        );
        // The review areas are the assigned lead's: before filing names one, nobody's.
        assert!(matches!(
            app.record_review_area(&p.lead, c.id, "basic_capability", true, "ok")
                .await,
            Err(AppError::Forbidden)
        ));
        app.transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap();
        app.record_paper_copy(&p.registrar, c.id).await.unwrap();
        app.transition_case_with(
            &p.registrar,
            c.id,
            Transition::File,
            "",
            Some(p.lead.user_id),
        )
        .await
        .unwrap();
        assert!(matches!(
            app.record_review_area(&p.registrar, c.id, "basic_capability", true, "ok")
                .await,
            Err(AppError::Forbidden)
        ));
        assert!(
            matches!(app.record_review_area(&p.lead, c.id, "everything", true, "ok").await, Err(AppError::Invalid { ref field, .. }) if field == "area")
        );
        assert!(
            matches!(app.record_review_area(&p.lead, c.id, "basic_capability", true, " ").await, Err(AppError::Invalid { ref field, .. }) if field == "opinion")
        );
        // A revision within the round replaces the earlier judgement.
        app.record_review_area(&p.lead, c.id, "basic_capability", false, "人员证明不足")
            .await
            .unwrap();
        app.record_review_area(&p.lead, c.id, "basic_capability", true, "已核实")
            .await
            .unwrap();
        let areas = app.review_areas(&p.applicant, c.id).await.unwrap();
        assert_eq!(areas.len(), 1);
        assert!(areas[0].sufficient);
        assert_eq!(areas[0].opinion, "已核实");
    }
}

#[tokio::test]
async fn the_demo_seeds_a_case_in_every_stage_through_the_use_cases() {
    for app in apps().await {
        let s = app.seed_demo().await.unwrap();
        assert_eq!(s.users.len(), 15);
        for stage in Stage::ALL {
            let (id, _) = s
                .cases
                .iter()
                .find(|(_, st)| *st == stage)
                .unwrap_or_else(|| panic!("no demo case in {stage:?}"));
            let c = zizhi_store::cases::get(app.store_for_tests(), *id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(c.stage, stage, "case {id}");
        }
        let admin = app
            .login("demo-admin", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        // 17 stages, one case each; the centre does not see the applicant's draft (issue 13).
        let (_, total) = app.cases_page(&admin, None, 1, 50).await.unwrap();
        assert_eq!(total, 16);
        assert!(matches!(
            app.cases_page(&admin, Some("draft"), 1, 50).await,
            Err(AppError::Invalid { ref field, .. }) if field == "stage"
        ));
        let (open, _) = app
            .cases_page(&admin, Some("expert_review"), 1, 50)
            .await
            .unwrap();
        assert_eq!(open.len(), 1);
        assert!(open[0].org_name.starts_with("【演示】"));
        // The dashboard lists the open, filed cases first, by urgency; closed ones not at all,
        // nor the applicant's draft (the centre does not see it, issue 13).
        let lead = app
            .login("demo-lead", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        let dash = app.dashboard(&lead).await.unwrap();
        assert!(dash.rows.iter().all(|r| !r.stage.is_closed()));
        assert!(dash.rows.iter().all(|r| r.stage != Stage::Draft));
        assert_eq!(dash.rows.len(), 17 - 5 - 1, "five closed, one draft");
        assert_eq!(dash.total, 17 - 5 - 1);
        assert!(dash.by_stage.iter().all(|(st, _)| *st != Stage::Draft));
        assert!(
            dash.rows.last().unwrap().clock.is_none(),
            "unfiled cases come last"
        );
        assert!(matches!(
            app.dashboard(&p_applicant(&app).await).await,
            Err(AppError::Forbidden)
        ));
        // 待办 includes the work that is not a transition: judging, voting, batching.
        let stage_case = |st: Stage| s.cases.iter().find(|(_, x)| *x == st).unwrap().0;
        for (user, stage, says) in [
            ("demo-assessor", Stage::Evaluation, "逐项判定"),
            ("demo-expert1", Stage::ExpertReview, "专家表决"),
            ("demo-officer", Stage::Certification, "证书批次"),
            ("demo-lead", Stage::AcceptanceReview, "予以受理"),
        ] {
            let who = app
                .login(user, zizhi_app::demo::DEMO_PASSWORD, None)
                .await
                .unwrap()
                .actor;
            let todo = app.todo(&who).await.unwrap();
            let item = todo
                .iter()
                .find(|i| i.case.id == stage_case(stage))
                .unwrap_or_else(|| panic!("{user} should see the {stage:?} case"));
            assert!(
                item.tasks.iter().any(|t| t.zh.contains(says)),
                "{user}: {:?}",
                item.tasks
            );
            assert!(!item.holder.is_empty(), "each row names the applicant");
        }
        // Once the expert has voted, what remains is the panel's conclusion.
        let expert = app
            .login("demo-expert1", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        let review = stage_case(Stage::ExpertReview);
        app.panel_vote(&expert, review, "pass", "同意")
            .await
            .unwrap();
        let todo = app.todo(&expert).await.unwrap();
        let item = todo.iter().find(|i| i.case.id == review).unwrap();
        assert!(
            !item.tasks.iter().any(|t| t.zh.contains("专家表决")),
            "{:?}",
            item.tasks
        );
        // Bulk rows for benchmarks go under the demo organisation.
        let b = app.seed_bench(40, 100).await.unwrap();
        assert_eq!(b.certificates, 100);
        let v = app
            .verify_certificate(&b.sample_certificate.unwrap())
            .await
            .unwrap();
        assert!(v.in_force);
        // The second page holds the rest (drafts are not the centre's to see).
        let (second, total) = app.cases_page(&admin, None, 2, 50).await.unwrap();
        assert!(total > 50, "{total}");
        assert_eq!(second.len() as i64, total - 50);
        assert!(second.iter().all(|l| l.case.stage != Stage::Draft));
        // With many cases, the oldest waiting ones stay on the to-do list.
        app.seed_bench(1200, 0).await.unwrap();
        let reg = app
            .login("demo-registrar", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        let (submitted, n) = app
            .cases_page(&admin, Some("submitted"), 1, 200)
            .await
            .unwrap();
        let oldest = submitted.iter().map(|l| l.case.id).min().unwrap();
        let todo = app.todo(&reg).await.unwrap();
        assert_eq!(
            todo.len() as i64,
            n,
            "every submitted case waits for the registrar"
        );
        assert_eq!(todo[0].case.id, oldest, "oldest first");
        assert!(matches!(
            app.cases_page(&admin, None, 0, 50).await,
            Err(AppError::Invalid { ref field, .. }) if field == "page"
        ));
        assert!(matches!(
            app.cases_page(&admin, Some("nowhere"), 1, 50).await,
            Err(AppError::Invalid { ref field, .. }) if field == "stage"
        ));
        // A keyset page (issue 14) is not one of the deadline filters' pages.
        let keyset_by_deadline = zizhi_app::cases::lists::CaseQuery {
            after: Some(5),
            due: Some(zizhi_app::cases::lists::DueFilter::Overdue),
            ..Default::default()
        };
        assert!(matches!(
            app.cases_search(&admin, &keyset_by_deadline, 1, 50, 200).await,
            Err(AppError::Invalid { ref field, .. }) if field == "after"
        ));
        assert_eq!(app.verify_audit(None).await.unwrap().first_break, None);
        // The applicants heard of each step: filing, payment, the panel's conclusion (with the
        // right of appeal when it failed, 七), the lapse and the termination.
        let mails = zizhi_store::outbox::claim(
            app.store_for_tests(),
            "peek",
            100_000,
            zizhi_store::now_us() + 3_600_000_000,
        )
        .await
        .unwrap();
        for (subject, body) in [
            ("建档立项", "5.2"),
            ("进入评估阶段", "5.4"),
            ("专家评审结论：通过", "5.5"),
            ("专家评审结论：未通过", "书面申诉"),
            ("补充资料期限已过", "延长期限或终止"),
            ("申请已终止", "未在期限内"),
        ] {
            assert!(
                mails
                    .iter()
                    .any(|m| m.subject.contains(subject) && m.body.contains(body)),
                "no e-mail \"{subject}\""
            );
        }
        // A second demo on the same data is refused (the users exist).
        assert!(matches!(
            app.seed_demo().await,
            Err(AppError::Conflict { .. })
        ));
    }
}

async fn p_applicant(app: &App) -> Actor {
    app.login("demo-applicant1", zizhi_app::demo::DEMO_PASSWORD, None)
        .await
        .unwrap()
        .actor
}

/// Runs a statement straight on the database (a test's set-up).
pub(super) async fn execute(db: &zizhi_store::Db, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        zizhi_store::Db::Sqlite(p, _) => sqlx::query(sql).execute(p).await.map(drop),
        zizhi_store::Db::Pg(p, _) => sqlx::query(sql).execute(p).await.map(drop),
    }
    .unwrap();
}

/// What the dashboard and the deadline filters should show on the app's day, worked out the
/// long way: every open case the centre sees, read stage by stage through the case list (200
/// a page) with its clock computed from its pauses — and each row's deadline in the list is
/// the one computed; (the most urgent [`DASHBOARD_KEEP`] as
/// (urgency, id), overdue, due within 15 days).
async fn dashboard_the_long_way(app: &App, lead: &Actor) -> (Vec<((u8, i64), i64)>, i64, i64) {
    use zizhi_app::cases::dashboard::DASHBOARD_KEEP;
    use zizhi_app::cases::lists::CaseQuery;
    let today = app.clock.today();
    let (mut all, mut overdue, mut warning) = (Vec::new(), 0, 0);
    for stage in Stage::ALL
        .into_iter()
        .filter(|s| !s.is_closed() && *s != Stage::Draft)
    {
        for page in 1.. {
            let q = CaseQuery {
                stage: Some(stage.as_str().into()),
                ..Default::default()
            };
            let list = app.cases_search(lead, &q, page, 200, 200).await.unwrap();
            let rows: Vec<_> = list.rows().collect();
            if rows.is_empty() {
                break;
            }
            let ids: Vec<i64> = rows.iter().map(|r| r.listed.case.id).collect();
            let pauses = zizhi_store::cases::pauses_of(app.store_for_tests(), &ids)
                .await
                .unwrap();
            for r in rows {
                let c = &r.listed.case;
                let ps: Vec<_> = pauses
                    .iter()
                    .filter(|(id, _)| *id == c.id)
                    .filter_map(|(_, p)| p.pause())
                    .collect();
                let clock = c
                    .filed_on
                    .as_deref()
                    .and_then(zizhi_domain::calendar::parse_date)
                    .map(|filed| {
                        zizhi_domain::clock::compute(
                            filed,
                            &ps,
                            today,
                            c.closed_on
                                .as_deref()
                                .and_then(zizhi_domain::calendar::parse_date),
                        )
                    });
                let due = zizhi_app::cases::lists::due_of(c, clock.as_ref());
                // The list shows the deadline kept with the case: the one computed here.
                assert_eq!(r.due, due, "case {} on {today}", c.id);
                match due.map(|d| (d - today).num_days()) {
                    Some(n) if n < 0 => overdue += 1,
                    Some(n) if n <= 15 => warning += 1,
                    _ => {}
                }
                let row = zizhi_app::cases::dashboard::DashboardRow {
                    stage: r.listed.case.stage,
                    case: r.listed.case.clone(),
                    org_name: r.listed.org_name.clone(),
                    clock,
                };
                all.push((row.urgency(), row.case.id));
            }
        }
    }
    all.sort();
    all.truncate(DASHBOARD_KEEP);
    (all, overdue, warning)
}

/// Issue 14: the dashboard and the deadline filters read the deadlines kept with the cases
/// (migration 0037) — the most urgent 1 000 and the counts, a page of a filter and its count —
/// and show what computing every open case's clock shows.
#[tokio::test]
async fn the_dashboard_and_the_deadline_filters_read_the_kept_deadlines() {
    use zizhi_app::cases::dashboard::DASHBOARD_KEEP;
    use zizhi_app::cases::lists::{CaseQuery, DueFilter};
    for app in apps().await {
        app.seed_demo().await.unwrap();
        // 3 500 cases over the 17 stages, filed 0–199 days ago: about 2 500 open, many past
        // their three-month target.
        app.seed_bench(3500, 0).await.unwrap();
        let lead = app
            .login("demo-lead", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        let dash = app.dashboard(&lead).await.unwrap();
        assert!(dash.total > 2000, "{} open cases", dash.total);
        assert_eq!(
            dash.by_stage.iter().map(|(_, n)| n).sum::<usize>(),
            dash.total
        );
        // Each stage's count is the case list's.
        for (stage, n) in &dash.by_stage {
            let (_, listed) = app
                .cases_page(&lead, Some(stage.as_str()), 1, 1)
                .await
                .unwrap();
            assert_eq!(listed, *n as i64, "{stage:?}");
        }
        let (urgent, overdue, warning) = dashboard_the_long_way(&app, &lead).await;
        assert_eq!(dash.overdue as i64, overdue);
        assert_eq!(dash.warning as i64, warning);
        assert_eq!(dash.rows.len(), DASHBOARD_KEEP);
        let kept: Vec<_> = dash.rows.iter().map(|r| (r.urgency(), r.case.id)).collect();
        assert_eq!(kept, urgent);
        // The deadline filters count what the dashboard counts, and page: the earliest
        // deadline first (the most overdue), then by case.
        let due = |want| CaseQuery {
            due: Some(want),
            ..Default::default()
        };
        let first = app
            .cases_search(&lead, &due(DueFilter::Overdue), 1, 200, 200)
            .await
            .unwrap();
        let n = first.total();
        let first: Vec<_> = first.rows().collect();
        assert!(n > 400, "{n} overdue");
        assert_eq!(n, overdue);
        assert_eq!(first.len(), 200);
        let last_page = (n + 199) / 200;
        let last = app
            .cases_search(&lead, &due(DueFilter::Overdue), last_page, 200, 200)
            .await
            .unwrap();
        let last: Vec<_> = last.rows().collect();
        assert_eq!(last.len() as i64, n - (last_page - 1) * 200);
        let key = |r: &zizhi_app::cases::lists::ListedCase| (r.due.unwrap(), r.listed.case.id);
        assert!(first.windows(2).all(|w| key(&w[0]) < key(&w[1])));
        assert!(key(first.last().unwrap()) < key(&last[0]));
        let today = app.clock.today();
        assert!(first.iter().chain(&last).all(|r| r.due.unwrap() < today));
        let soon = app
            .cases_search(&lead, &due(DueFilter::Within15), 1, 200, 200)
            .await
            .unwrap();
        assert_eq!(soon.total(), warning);
        assert!(soon.rows().all(|r| {
            let left = (r.due.unwrap() - today).num_days();
            (0..=15).contains(&left)
        }));
    }
}

/// Issue 14: the deadlines kept with a case follow it through the process — a supplement
/// requested and answered, an agreement sent and paid (the clock's pauses, 九.3), lapsing,
/// closing — so that on any later day the dashboard and the filters show what the clocks
/// computed from the pauses show; a database from before the kept deadlines gets them at
/// start-up (store task `case_deadline`).
#[tokio::test]
async fn the_kept_deadlines_follow_the_process_and_the_days() {
    for app in apps().await {
        // One case in every stage, each brought there through the process on its own days.
        app.seed_demo().await.unwrap();
        let lead = app
            .login("demo-lead", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        let start = app.clock.today();
        let check = |app: &App| {
            let app = app.clone();
            let lead = lead.clone();
            async move {
                let dash = app.dashboard(&lead).await.unwrap();
                let (urgent, overdue, warning) = dashboard_the_long_way(&app, &lead).await;
                let kept: Vec<_> = dash.rows.iter().map(|r| (r.urgency(), r.case.id)).collect();
                let day = app.clock.today();
                assert_eq!(kept, urgent, "{day}");
                assert_eq!(
                    (dash.overdue as i64, dash.warning as i64),
                    (overdue, warning),
                    "{day}"
                );
                (overdue, warning)
            }
        };
        // Paused clocks keep their days left, running ones come due: over 200 days every
        // kind of row is seen as due later, warned, overdue.
        let mut seen = std::collections::BTreeSet::new();
        for days in [0, 10, 40, 75, 80, 89, 95, 120, 200] {
            app.clock.set_today(start + chrono::Duration::days(days));
            seen.insert(check(&app).await);
        }
        assert!(seen.len() > 3, "the counts moved with the days: {seen:?}");
        // A database from before migration 0037: the kept columns empty, the store task
        // pending. Starting (migrating) fills them again.
        app.clock.set_today(start);
        let db = app.store_for_tests();
        let before = check(&app).await;
        for sql in [
            "UPDATE application_case SET due_on = NULL, clock_due = NULL, clock_left = NULL",
            "INSERT INTO store_task (name) VALUES ('case_deadline')",
        ] {
            execute(db, sql).await;
        }
        let empty = app.dashboard(&lead).await.unwrap();
        assert_eq!((empty.overdue, empty.warning), (0, 0), "nothing kept");
        db.migrate().await.unwrap();
        assert_eq!(check(&app).await, before);
    }
}

/// Issue 14: the dashboard is kept between requests and computed again as soon as anything it
/// shows changes — through this server or another on the same database — or the day turns.
#[tokio::test]
async fn the_kept_dashboard_follows_every_change_and_the_day() {
    use std::sync::Arc;
    for app in apps().await {
        let s = app.seed_demo().await.unwrap();
        let lead = app
            .login("demo-lead", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        let first = app.dashboard(&lead).await.unwrap();
        let again = app.dashboard(&lead).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "nothing changed: kept");
        // Another server (a second App on the same database) changes a case: the submitted
        // case is withdrawn.
        let other = App::new(
            app.store_for_tests().clone(),
            app.files.clone(),
            (*app.config).clone(),
        );
        let (submitted, _) = *s
            .cases
            .iter()
            .find(|(_, st)| *st == Stage::Submitted)
            .unwrap();
        let db = other.store_for_tests();
        let mut c = zizhi_store::cases::get(db, submitted)
            .await
            .unwrap()
            .unwrap();
        c.stage = Stage::Withdrawn;
        c.closed_on = Some(app.clock.today().to_string());
        let mut tx = db.begin().await.unwrap();
        zizhi_store::cases::update(&mut tx, &c).await.unwrap();
        tx.commit().await.unwrap();
        let after = app.dashboard(&lead).await.unwrap();
        assert_eq!(
            after.total,
            first.total - 1,
            "the other server's change is seen"
        );
        assert!(after.rows.iter().all(|r| r.case.id != submitted));
        assert_eq!(
            after
                .by_stage
                .iter()
                .find(|(st, _)| *st == Stage::Submitted),
            None
        );
        // A hundred days on, every running three-month clock is overdue: computed again.
        app.clock
            .set_today(app.clock.today() + chrono::Duration::days(100));
        let later = app.dashboard(&lead).await.unwrap();
        assert!(!Arc::ptr_eq(&after, &later));
        assert!(
            later.overdue > after.overdue,
            "{} > {}",
            later.overdue,
            after.overdue
        );
        assert_eq!(later.total, after.total);
    }
}
