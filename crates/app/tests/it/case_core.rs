//! The case core (issue 8): who may act on a case and on what basis — the assigned lead, the
//! seated panel and its tally, the server's date of submission, the registered identity, the
//! register's certificates, returning a submission, certificate numbers. On SQLite and (with
//! ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use zizhi_app::accounts::NewUserInput;
use zizhi_app::{Actor, App, AppError};
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::criteria::Pack;

use super::cases::{PROFILE, People, accepted, apps, filed, link_in_db, paid, people, stage};

pub(crate) async fn user(app: &App, name: &str, role: &str, org: Option<i64>) -> Actor {
    app.create_user(
        None,
        NewUserInput {
            username: name.into(),
            display_name: name.into(),
            email: format!("{name}@example.test"),
            role: role.into(),
            organization_id: org,
            password: Some("a long password".into()),
        },
    )
    .await
    .unwrap();
    app.login(name, "a long password", None)
        .await
        .unwrap()
        .actor
}

fn facts() -> serde_json::Value {
    serde_json::from_str(PROFILE).unwrap()
}

pub(crate) fn field_of(e: &AppError) -> &str {
    match e {
        AppError::Invalid { field, .. } => field,
        _ => panic!("expected a field error, got {e:?}"),
    }
}

/// A case in evaluation, paid, with the plan, an activity and every requirement judged.
pub(crate) async fn ready_to_conclude(app: &App, p: &People, assessor: &Actor) -> i64 {
    let id = paid(app, p, facts(), "initial").await;
    app.assign_team(&p.lead, id, &[assessor.user_id], &[], None)
        .await
        .unwrap();
    let day = app.clock.today().to_string();
    app.record_activity(&p.lead, id, "plan", &day, "计划", &[])
        .await
        .unwrap();
    app.record_activity(assessor, id, "interview", &day, "访谈", &[])
        .await
        .unwrap();
    let pack = Pack::shipped().into_iter().find(|x| x.level == 2).unwrap();
    for r in &pack.requirements {
        app.record_judgement(assessor, id, &r.id, "conform", "一致", &[])
            .await
            .unwrap();
    }
    id
}

/// 5.4: the panel's conclusion is computed from its votes — more than half of the seats —
/// and recorded by its chair; a conclusion against the votes is refused naming `votes`.
#[tokio::test]
async fn the_panel_concludes_only_what_its_votes_say() {
    for app in apps().await {
        let p = people(&app).await;
        let assessor = user(&app, "as1", "assessor", None).await;
        let e: Vec<Actor> = vec![
            user(&app, "ex1", "expert", None).await,
            user(&app, "ex2", "expert", None).await,
            user(&app, "ex3", "expert", None).await,
        ];
        let id = ready_to_conclude(&app, &p, &assessor).await;
        // A panel of two (below the centre's default minimum of three) cannot take the case.
        app.assign_team(
            &p.lead,
            id,
            &[],
            &[e[0].user_id, e[1].user_id],
            Some(e[0].user_id),
        )
        .await
        .unwrap();
        let err = app
            .transition_case(&p.lead, id, Transition::ConcludeAudit, "符合")
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "experts", "{err:?}");
        assert!(format!("{err:?}").contains("指南未规定人数"), "{err:?}");
        // Exactly the minimum is enough (不少于).
        app.assign_team(&p.lead, id, &[], &[e[2].user_id], None)
            .await
            .unwrap();
        app.transition_case(&p.lead, id, Transition::ConcludeAudit, "符合")
            .await
            .unwrap();
        // Two of three fail.
        app.panel_vote(&e[0], id, "fail", "证据不足").await.unwrap();
        app.panel_vote(&e[1], id, "fail", "同意不通过")
            .await
            .unwrap();
        // Not before every seat has voted.
        let err = app
            .transition_case(&e[0], id, Transition::PanelFail, "不通过")
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "votes");
        app.panel_vote(&e[2], id, "pass", "保留意见：可以通过")
            .await
            .unwrap();
        // The chair cannot record a pass against two fails, nor a return.
        for t in [Transition::PanelPass, Transition::PanelReturn] {
            let err = app.transition_case(&e[0], id, t, "结论").await.unwrap_err();
            assert_eq!(field_of(&err), "votes", "{t:?}");
        }
        // Another expert is not the chair.
        assert!(matches!(
            app.transition_case(&e[1], id, Transition::PanelFail, "不通过")
                .await,
            Err(AppError::Forbidden)
        ));
        // The chair's opinion is required.
        let err = app
            .transition_case(&e[0], id, Transition::PanelFail, "  ")
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "note");
        let c = app
            .transition_case(&e[0], id, Transition::PanelFail, "专家组意见：证据不充分")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Failed);
        // The dissent stays on the record.
        let view = app.panel(&p.lead, id).await.unwrap();
        assert_eq!(view.votes.len(), 3);
        assert!(view.votes.iter().any(|v| v.opinion.contains("保留意见")));
        let t = view.tally.unwrap();
        assert_eq!((t.pass, t.fail, t.ret, t.seats), (1, 2, 0, 3));
    }
}

/// 5.4: votes are secret until every seat has voted; nothing is pre-selected.
#[tokio::test]
async fn votes_stay_secret_until_every_seat_has_voted() {
    for app in apps().await {
        let p = people(&app).await;
        let assessor = user(&app, "as1", "assessor", None).await;
        let e: Vec<Actor> = vec![
            user(&app, "ex1", "expert", None).await,
            user(&app, "ex2", "expert", None).await,
            user(&app, "ex3", "expert", None).await,
        ];
        let id = ready_to_conclude(&app, &p, &assessor).await;
        let ids: Vec<i64> = e.iter().map(|x| x.user_id).collect();
        app.assign_team(&p.lead, id, &[], &ids, Some(ids[1]))
            .await
            .unwrap();
        app.transition_case(&p.lead, id, Transition::ConcludeAudit, "符合")
            .await
            .unwrap();
        // No default vote: an empty or unknown vote names the field.
        for bad in ["", "yes"] {
            let err = app.panel_vote(&e[0], id, bad, "意见").await.unwrap_err();
            assert_eq!(field_of(&err), "vote");
        }
        app.panel_vote(&e[0], id, "pass", "第一票").await.unwrap();
        // The voter sees its own vote only; the others see none, and nobody a tally.
        let mine = app.panel(&e[0], id).await.unwrap();
        assert_eq!(mine.votes.len(), 1);
        assert_eq!(mine.votes[0].expert_id, e[0].user_id);
        assert!(mine.tally.is_none() && mine.conclusion.is_none());
        // The same from the case as read for its viewer (the case page's one read).
        let d = app.case(&e[0], id).await.unwrap();
        let team = app.team_of(&d).await.unwrap();
        let seen = app.panel_of_case(&d, &team).await.unwrap();
        assert_eq!(seen.votes.len(), 1);
        assert_eq!(seen.votes[0].expert_id, e[0].user_id);
        let other = app.panel(&e[1], id).await.unwrap();
        assert!(other.votes.is_empty() && other.mine.is_none());
        assert_eq!((other.cast, other.seats), (1, 3));
        let lead = app.panel(&p.lead, id).await.unwrap();
        assert!(lead.votes.is_empty() && lead.tally.is_none());
        app.panel_vote(&e[1], id, "pass", "第二票").await.unwrap();
        assert!(app.panel(&p.lead, id).await.unwrap().votes.is_empty());
        app.panel_vote(&e[2], id, "fail", "第三票").await.unwrap();
        let all = app.panel(&p.lead, id).await.unwrap();
        assert_eq!(all.votes.len(), 3);
        assert_eq!(
            all.conclusion,
            Some(zizhi_domain::panel::Vote::Pass),
            "two of three"
        );
        // The applicant sees no votes at all, nor the team's activities, however asked.
        assert!(matches!(
            app.panel(&p.applicant, id).await,
            Err(AppError::Forbidden)
        ));
        let own = app.case(&p.applicant, id).await.unwrap();
        assert!(matches!(
            app.panel_of_case(&own, &team).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.activities_of(&own).await,
            Err(AppError::Forbidden)
        ));
        let d = app.case(&p.lead, id).await.unwrap();
        let team = app.team_of(&d).await.unwrap();
        assert_eq!(app.panel_of_case(&d, &team).await.unwrap().votes.len(), 3);
        assert!(!app.activities_of(&d).await.unwrap().is_empty());
        // The chair (the second expert here) concludes.
        app.transition_case(&e[1], id, Transition::PanelPass, "通过")
            .await
            .unwrap();
    }
}

/// 5.2: filing names the lead; only that lead takes the lead's steps; a supervisor reassigns
/// with a reason; a person with a declared conflict cannot be seated.
#[tokio::test]
async fn only_the_assigned_lead_decides_and_reassignment_is_a_supervisors_act() {
    for app in apps().await {
        let p = people(&app).await;
        let lead2 = user(&app, "lead2", "project_lead", None).await;
        let sup = user(&app, "sup", "supervisor", None).await;
        let id = filed(&app, &p, facts(), "initial").await;
        super::cases::review(&app, &p, id, None).await;
        // Another project lead is refused every lead's step.
        assert!(matches!(
            app.transition_case(&lead2, id, Transition::Accept, "予以受理")
                .await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.record_review_area(&lead2, id, "basic_capability", true, "ok")
                .await,
            Err(AppError::Forbidden)
        ));
        // Reassignment: the supervisor's, with a reason, to an active lead.
        assert!(matches!(
            app.reassign_lead(&p.lead, id, lead2.user_id, "工作调整")
                .await,
            Err(AppError::Forbidden)
        ));
        let err = app
            .reassign_lead(&sup, id, lead2.user_id, " ")
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "reason");
        let err = app
            .reassign_lead(&sup, id, p.registrar.user_id, "工作调整")
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "lead_id");
        let c = app
            .reassign_lead(&sup, id, lead2.user_id, "原负责人休假")
            .await
            .unwrap();
        assert_eq!(c.lead_id, Some(lead2.user_id));
        assert!(matches!(
            app.transition_case(&p.lead, id, Transition::Accept, "予以受理")
                .await,
            Err(AppError::Forbidden)
        ));
        // The new lead judges the areas of the round afresh and decides.
        for a in zizhi_domain::review::Area::ALL {
            app.record_review_area(&lead2, id, a.as_str(), true, "充分")
                .await
                .unwrap();
        }
        app.transition_case(&lead2, id, Transition::Accept, "予以受理")
            .await
            .unwrap();
        let events = app.audit_log(&sup, None, 500).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.action == "case.reassign_lead" && e.summary.contains("原负责人休假")),
            "the reassignment and its reason are audited"
        );

        // A declared conflict keeps the person off the applicant's cases.
        let expert = user(&app, "ex1", "expert", None).await;
        let org = p.applicant.organization_id.unwrap();
        app.declare_conflict(&expert, None, org, "曾在该单位任职")
            .await
            .unwrap();
        assert!(matches!(
            app.declare_conflict(&p.applicant, None, org, "x").await,
            Err(AppError::Forbidden)
        ));
        let id2 = filed(&app, &p, facts(), "initial").await;
        let lead3 = user(&app, "lead3", "project_lead", None).await;
        app.declare_conflict(&sup, Some(lead3.user_id), org, "亲属任职")
            .await
            .unwrap();
        let err = app
            .reassign_lead(&sup, id2, lead3.user_id, "调整")
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "lead_id");
        assert!(format!("{err:?}").contains("利益冲突"));
    }
}

/// 四, 九, 3.2.1: the assessment of a submission is made by the server on the day of
/// submission; an applicant's date is ignored.
#[tokio::test]
async fn the_server_dates_the_submission_not_the_applicant() {
    for app in apps().await {
        let p = people(&app).await;
        let today = app.clock.today();
        // A level-2 certificate that expired eight months ago, the application backdated ten
        // months: as of today it is past the six-month late window, so initial and 87 000.
        let expired = today
            .checked_sub_months(chrono::Months::new(8))
            .unwrap()
            .to_string();
        let backdated = today
            .checked_sub_months(chrono::Months::new(10))
            .unwrap()
            .to_string();
        let mut f = facts();
        f["kind"] = serde_json::json!("maintenance");
        f["as_of"] = serde_json::json!(backdated);
        f["certificates"] = serde_json::json!([{"category": "disaster_recovery", "level": 2,
            "number": "CNITSEC2023SRV-II-0042", "valid_until": expired, "status": "valid"}]);
        let id = accepted(&app, &p, f, "maintenance").await;
        let d = app.case(&p.lead, id).await.unwrap();
        let round: zizhi_domain::assess::Report =
            serde_json::from_str(&d.rounds.last().unwrap().assessment).unwrap();
        assert_eq!(round.as_of, today.to_string());
        assert_eq!(
            round.application_kind,
            zizhi_domain::fees::ApplicationKind::Initial
        );
        let c = app
            .transition_case(&p.lead, id, Transition::SendAgreement, "协议")
            .await
            .unwrap();
        assert_eq!(c.fee_fen, Some(87_000 * 100));

        // A future date does not turn 1.5 years of service into three (3.2.1).
        let mut f = facts();
        let since = today.checked_sub_months(chrono::Months::new(18)).unwrap();
        f["organization"]["security_service_since"] = serde_json::json!(since.to_string());
        f["as_of"] = serde_json::json!("2031-01-01");
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        app.save_case_profile(&p.applicant, c.id, f).await.unwrap();
        let c = app
            .transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap();
        let d = app.case(&p.applicant, c.id).await.unwrap();
        let round: zizhi_domain::assess::Report =
            serde_json::from_str(&d.rounds.last().unwrap().assessment).unwrap();
        assert_eq!(round.as_of, today.to_string());
        let r321 = round.requirements.iter().find(|r| r.id == "3.2.1").unwrap();
        assert_eq!(
            r321.status,
            zizhi_domain::assess::Status::NotMet,
            "{r321:?}"
        );
        assert!(!round.eligible);
    }
}

/// 5.2, 5.3: the application carries the registered organisation's name and USCC; another
/// organisation's USCC is refused; the e-mails go to the designated address too.
#[tokio::test]
async fn an_application_carries_only_its_own_organisations_identity() {
    for app in apps().await {
        let p = people(&app).await;
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        let mut f = facts();
        // The stranger's organisation (registered in `people`).
        f["organization"]["uscc"] = serde_json::json!("91110000600037341L");
        f["organization"]["name"] = serde_json::json!("另一单位");
        let err = app
            .save_case_profile(&p.applicant, c.id, f.clone())
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "organization.uscc");
        let err = app
            .save_case_draft(&p.applicant, c.id, f.clone())
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "organization.uscc");
        // A name typed differently is replaced by the registered one.
        f["organization"]["uscc"] = serde_json::json!("91350100m000100y43");
        app.save_case_profile(&p.applicant, c.id, f).await.unwrap();
        let d = app.case(&p.applicant, c.id).await.unwrap();
        let saved: serde_json::Value = serde_json::from_str(&d.case.profile).unwrap();
        assert_eq!(saved["organization"]["name"], "示例灾备科技有限公司");
        assert_eq!(saved["organization"]["uscc"], "91350100M000100Y43");

        // The designated e-mail (指定电子邮箱) receives the centre's opinions.
        let org = p.applicant.organization_id.unwrap();
        let contact = zizhi_store::organizations::Contact {
            address: "福州市鼓楼区示例路 1 号".into(),
            legal_representative: "张三".into(),
            contact_person: "李四".into(),
            contact_phone: "0591-12345678".into(),
            contact_email: "zizhi@applicant.example".into(),
        };
        assert!(matches!(
            app.set_organization_contact(&p.stranger, org, &contact)
                .await,
            Err(AppError::Forbidden)
        ));
        let mut bad = contact.clone();
        bad.contact_email = "not-an-address".into();
        let err = app
            .set_organization_contact(&p.applicant, org, &bad)
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "contact_email");
        let o = app
            .set_organization_contact(&p.applicant, org, &contact)
            .await
            .unwrap();
        assert_eq!(o.legal_representative, "张三");
        filed(&app, &p, facts(), "initial").await;
        let mails = zizhi_store::outbox::claim(
            app.store_for_tests(),
            "peek",
            1000,
            zizhi_store::now_us() + 3_600_000_000,
        )
        .await
        .unwrap();
        assert!(
            mails
                .iter()
                .any(|m| m.recipient == "zizhi@applicant.example" && m.subject.contains("建档立项")),
            "the filing notice goes to the designated e-mail"
        );
    }
}

/// 5.2: the registrar returns a submission it cannot file (退回), with a reason; the round
/// stays on the record and the applicant submits again.
#[tokio::test]
async fn the_registrar_returns_a_submission_with_a_reason() {
    for app in apps().await {
        let p = people(&app).await;
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        app.save_case_profile(&p.applicant, c.id, facts())
            .await
            .unwrap();
        app.transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap();
        // No evidence: it cannot be filed.
        app.record_paper_copy(&p.registrar, c.id).await.unwrap();
        let err = app
            .transition_case_with(
                &p.registrar,
                c.id,
                Transition::File,
                "",
                Some(p.lead.user_id),
            )
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "filing");
        let err = app
            .transition_case(&p.registrar, c.id, Transition::ReturnToApplicant, "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "note");
        assert!(matches!(
            app.transition_case(&p.lead, c.id, Transition::ReturnToApplicant, "x")
                .await,
            Err(AppError::Forbidden)
        ));
        let back = app
            .transition_case(
                &p.registrar,
                c.id,
                Transition::ReturnToApplicant,
                "未随附电子版资料，请按要求逐项上传后重新提交",
            )
            .await
            .unwrap();
        assert_eq!(stage(&back), Stage::Draft);
        assert!(
            back.paper_received_us.is_none(),
            "a new paper copy is needed"
        );
        let body = super::cases::last_mail_body(&app).await;
        assert!(body.contains("逐项上传"), "{body}");
        // The applicant amends and submits again: the first round stays.
        let mut up = app
            .begin_evidence(&p.applicant, c.organization_id)
            .await
            .unwrap();
        app.write_evidence(&mut up, b"materials").await.unwrap();
        let ev = app
            .finish_evidence(&p.applicant, c.organization_id, up, "m.pdf", None)
            .await
            .unwrap();
        link_in_db(&app, c.id, "3.1.1", ev.id, &p.applicant).await;
        app.transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap();
        let d = app.case(&p.registrar, c.id).await.unwrap();
        assert_eq!(d.rounds.len(), 2);
        // Only from submitted.
        app.transition_case(&p.registrar, c.id, Transition::ReturnToApplicant, "x")
            .await
            .unwrap();
        assert!(matches!(
            app.transition_case(&p.registrar, c.id, Transition::ReturnToApplicant, "x")
                .await,
            Err(AppError::WrongStage { .. })
        ));
    }
}

/// 3.1.4, 四: a held certificate this centre issued is read from its register; another
/// holder's is refused; others stay declarations for the assessors. Numbers carry the
/// category and are unique.
#[tokio::test]
async fn held_certificates_are_looked_up_in_the_register() {
    for app in apps().await {
        let p = people(&app).await;
        // Certificates of this centre's register: one of the stranger's, one of our own.
        let stranger_org = p.stranger.organization_id.unwrap();
        let own_org = p.applicant.organization_id.unwrap();
        let cert = |number: &'static str, org: i64, case_id: i64| {
            zizhi_store::certificates::NewCertificate {
                number,
                case_id,
                organization_id: org,
                holder: "h",
                uscc: "u",
                category: "disaster_recovery",
                level: 1,
                issued_on: "2025-01-10",
                valid_until: "2028-01-09",
            }
        };
        let mut tx = app.store_for_tests().begin().await.unwrap();
        let case_id =
            zizhi_testkit::insert_certified_case(&mut tx, stranger_org, p.stranger.user_id, 1)
                .await;
        for (number, org) in [
            ("CNITSEC2025SRV-DR-I-0001", stranger_org),
            ("CNITSEC2025SRV-DR-I-0002", own_org),
        ] {
            zizhi_store::certificates::insert(&mut tx, &cert(number, org, case_id))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // The same number twice is refused by the database.
        let mut tx = app.store_for_tests().begin().await.unwrap();
        assert!(
            zizhi_store::certificates::insert(
                &mut tx,
                &cert("CNITSEC2025SRV-DR-I-0001", own_org, case_id)
            )
            .await
            .is_err()
        );
        drop(tx);

        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        let mut f = facts();
        f["certificates"] = serde_json::json!([{"category": "disaster_recovery", "level": 1,
            "number": "CNITSEC2025SRV-DR-I-0001", "valid_until": "2029-12-31", "status": "valid"}]);
        let err = app
            .save_case_profile(&p.applicant, c.id, f.clone())
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "certificates[0].number");
        // Its own: the register's facts replace what was typed.
        f["certificates"] = serde_json::json!([
            {"category": "disaster_recovery", "level": 2, "number": "CNITSEC2025SRV-DR-I-0002",
             "valid_until": "2099-12-31", "status": "valid"},
            {"category": "disaster_recovery", "level": 1, "number": "OLD-2019-7",
             "valid_until": "2027-12-31", "status": "valid"}
        ]);
        app.save_case_profile(&p.applicant, c.id, f).await.unwrap();
        let d = app.case(&p.applicant, c.id).await.unwrap();
        let saved: serde_json::Value = serde_json::from_str(&d.case.profile).unwrap();
        assert_eq!(saved["certificates"][0]["valid_until"], "2028-01-09");
        assert_eq!(saved["certificates"][0]["level"], 1);
        assert_eq!(saved["certificates"][0]["registered"], true);
        assert_eq!(saved["certificates"][1]["registered"], false);
        let portal = app.portal(&d).await.unwrap();
        let r314 = portal
            .assessment
            .unwrap()
            .requirements
            .into_iter()
            .find(|r| r.id == "3.1.4")
            .unwrap();
        assert!(r314.reason.zh.contains("登记簿核验"), "{}", r314.reason.zh);
        // A revoked certificate in the register is not in force (3.1.4).
        let mut tx = app.store_for_tests().begin().await.unwrap();
        zizhi_store::certificates::set_status(&mut tx, "CNITSEC2025SRV-DR-I-0002", "revoked")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut f = facts();
        f["certificates"] = serde_json::json!([{"category": "disaster_recovery", "level": 1,
            "number": "CNITSEC2025SRV-DR-I-0002", "valid_until": "2028-01-09", "status": "valid"}]);
        app.save_case_profile(&p.applicant, c.id, f).await.unwrap();
        let d = app.case(&p.applicant, c.id).await.unwrap();
        let saved: serde_json::Value = serde_json::from_str(&d.case.profile).unwrap();
        assert_eq!(saved["certificates"][0]["status"], "revoked");
        let portal = app.portal(&d).await.unwrap();
        let r314 = portal
            .assessment
            .unwrap()
            .requirements
            .into_iter()
            .find(|r| r.id == "3.1.4")
            .unwrap();
        assert_eq!(r314.status, zizhi_domain::assess::Status::NotMet);
    }
}

/// 5.5: the default certificate number carries the category (DR, 灾难恢复类).
#[tokio::test]
async fn issued_certificate_numbers_carry_the_category() {
    for app in apps().await {
        let cert = super::cases::demo_certificate(&app).await;
        let year = chrono::Datelike::year(&app.clock.today());
        assert!(
            cert.number.starts_with(&format!("CNITSEC{year}SRV-DR-II-"))
                || cert
                    .number
                    .starts_with(&format!("CNITSEC{}SRV-DR-II-", year - 1)),
            "{}",
            cert.number
        );
    }
}
