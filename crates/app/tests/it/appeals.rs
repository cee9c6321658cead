//! Appeals (申诉, guide 七, issue 11): what can be appealed and until when, the investigator
//! who took no part, upheld or overturned — a failed review reopened before a fresh panel and
//! passed, a non-acceptance reopened at acceptance review, a sanction withdrawn — and the legal
//! hold while an appeal is open. On SQLite and (with ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use zizhi_app::appeals::AppealInput;
use zizhi_app::{Actor, App, AppError};
use zizhi_domain::appeal::AppealState;
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::review::Area;

use super::case_core::{field_of, ready_to_conclude, user};
use super::cases::{PROFILE, apps, filed, people, review, stage};

fn input(subject: &str, case_id: Option<i64>, sanction_id: Option<i64>) -> AppealInput {
    AppealInput {
        subject: subject.into(),
        case_id,
        sanction_id,
        grounds: "专家组未考虑我单位补充提交的灾备中心租赁合同".into(),
        evidence_ids: Vec::new(),
    }
}

async fn failed_case(app: &App, p: &super::cases::People) -> (i64, Vec<Actor>) {
    let assessor = user(app, "as1", "assessor", None).await;
    let e = vec![
        user(app, "ex1", "expert", None).await,
        user(app, "ex2", "expert", None).await,
        user(app, "ex3", "expert", None).await,
    ];
    let id = ready_to_conclude(app, p, &assessor).await;
    let ids: Vec<i64> = e.iter().map(|x| x.user_id).collect();
    app.assign_team(&p.lead, id, &[], &ids, Some(ids[0]))
        .await
        .unwrap();
    app.transition_case(&p.lead, id, Transition::ConcludeAudit, "符合")
        .await
        .unwrap();
    for x in &e {
        app.panel_vote(x, id, "fail", "不通过").await.unwrap();
    }
    let c = app
        .transition_case(&e[0], id, Transition::PanelFail, "专家组意见：证据不充分")
        .await
        .unwrap();
    assert_eq!(stage(&c), Stage::Failed);
    (id, e)
}

/// 七 and 5.4: a failed review is appealed; an expert who sat on the panel may not
/// investigate; overturned, the case reopens at expert review in a new round, the old panel
/// stood down (its members may not sit again), a fresh panel passes it.
#[tokio::test]
async fn a_failed_review_is_appealed_overturned_and_passed_by_a_fresh_panel() {
    for app in apps().await {
        let p = people(&app).await;
        let (id, old) = failed_case(&app, &p).await;
        let sup = user(&app, "sup", "supervisor", None).await;
        let inv = user(&app, "inv", "supervisor", None).await;
        // Only the applicant files, on its own case, on a subject the case is in.
        assert!(matches!(
            app.file_appeal(&p.lead, &input("failed_review", Some(id), None))
                .await,
            Err(AppError::Forbidden)
        ));
        let e = app
            .file_appeal(&p.stranger, &input("failed_review", Some(id), None))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "case_id");
        let e = app
            .file_appeal(&p.applicant, &input("not_accepted", Some(id), None))
            .await
            .unwrap_err();
        assert_eq!(
            field_of(&e),
            "case_id",
            "a failed case was not refused acceptance"
        );
        let mut blank = input("failed_review", Some(id), None);
        blank.grounds = " ".into();
        let e = app.file_appeal(&p.applicant, &blank).await.unwrap_err();
        assert_eq!(field_of(&e), "grounds");
        let a = app
            .file_appeal(&p.applicant, &input("failed_review", Some(id), None))
            .await
            .unwrap();
        assert_eq!(a.state, AppealState::Filed);
        let e = app
            .file_appeal(&p.applicant, &input("failed_review", Some(id), None))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "case_id", "one open appeal per decision");
        assert!(app.on_legal_hold(id).await.unwrap());
        // The investigator took no part: not the lead, not a panel member.
        for x in [&p.lead, &old[1]] {
            let e = app
                .assign_investigator(&sup, a.id, x.user_id)
                .await
                .unwrap_err();
            assert_eq!(field_of(&e), "investigator_id");
        }
        let e = app
            .assign_investigator(&sup, a.id, p.applicant.user_id)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "investigator_id", "not staff");
        assert!(matches!(
            app.assign_investigator(&p.lead, a.id, inv.user_id).await,
            Err(AppError::Forbidden)
        ));
        let candidates = app.investigator_candidates(&sup, a.id).await.unwrap();
        assert!(candidates.iter().any(|c| c.0 == inv.user_id));
        assert!(
            !candidates
                .iter()
                .any(|c| c.0 == old[0].user_id || c.0 == p.lead.user_id)
        );
        app.assign_investigator(&sup, a.id, inv.user_id)
            .await
            .unwrap();
        // Only the investigator concludes; an overturn names where the case reopens.
        assert!(matches!(
            app.conclude_appeal(&sup, a.id, "upheld", "x", None).await,
            Err(AppError::Forbidden)
        ));
        let e = app
            .conclude_appeal(&inv, a.id, "overturned", "合同证据有效", None)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "reopen_at");
        let e = app
            .conclude_appeal(
                &inv,
                a.id,
                "overturned",
                "合同证据有效",
                Some("acceptance_review"),
            )
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "reopen_at");
        let e = app
            .conclude_appeal(&inv, a.id, "maybe", "合同证据有效", None)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "outcome");
        let round_before = zizhi_store::cases::get(app.store_for_tests(), id)
            .await
            .unwrap()
            .unwrap()
            .review_round;
        let done = app
            .conclude_appeal(
                &inv,
                a.id,
                "overturned",
                "合同证据有效",
                Some("expert_review"),
            )
            .await
            .unwrap();
        assert_eq!(done.state, AppealState::Overturned);
        assert!(!app.on_legal_hold(id).await.unwrap());
        let c = zizhi_store::cases::get(app.store_for_tests(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.stage, Stage::ExpertReview);
        assert_eq!(c.closed_on, None);
        assert_eq!(c.review_round, round_before + 1, "a new round");
        // A fresh panel: the old members may not sit again; new ones pass the case.
        let e = app
            .assign_team(&p.lead, id, &[], &[old[0].user_id], None)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "experts");
        let fresh = vec![
            user(&app, "nx1", "expert", None).await,
            user(&app, "nx2", "expert", None).await,
            user(&app, "nx3", "expert", None).await,
        ];
        let ids: Vec<i64> = fresh.iter().map(|x| x.user_id).collect();
        app.assign_team(&p.lead, id, &[], &ids, Some(ids[0]))
            .await
            .unwrap();
        for x in &fresh {
            app.panel_vote(x, id, "pass", "通过").await.unwrap();
        }
        let c = app
            .transition_case(&fresh[0], id, Transition::PanelPass, "专家组意见：通过")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::Certification);
        // A concluded appeal cannot be concluded again.
        let e = app
            .conclude_appeal(&inv, a.id, "upheld", "x", None)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "state");
    }
}

/// 七 and 5.2: a non-acceptance is appealed within the centre's window (the 60th day counts,
/// the 61st is late); upheld, the case stays closed; an appeal on a case in another stage is
/// refused naming the case.
#[tokio::test]
async fn a_non_acceptance_is_appealed_within_the_window() {
    for app in apps().await {
        let p = people(&app).await;
        let facts: serde_json::Value = serde_json::from_str(PROFILE).unwrap();
        let id = filed(&app, &p, facts.clone(), "initial").await;
        review(&app, &p, id, Some(Area::ALL[0])).await;
        let c = app
            .transition_case(&p.lead, id, Transition::NotAccept, "不符合受理条件")
            .await
            .unwrap();
        assert_eq!(stage(&c), Stage::NotAccepted);
        let decided = zizhi_domain::calendar::parse_date(c.closed_on.as_deref().unwrap()).unwrap();
        // A case still open cannot be appealed.
        let open = filed(&app, &p, facts, "initial").await;
        let e = app
            .file_appeal(&p.applicant, &input("not_accepted", Some(open), None))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "case_id");
        // The window: a Civil Code period of appeal_window_days from the decision.
        let end = zizhi_domain::period::period_end(
            decided,
            zizhi_domain::period::PeriodLength::Days(60),
            &app.config.calendar,
        )
        .last_day;
        app.clock.set_today(end.succ_opt().unwrap());
        let e = app
            .file_appeal(&p.applicant, &input("not_accepted", Some(id), None))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "case_id");
        assert!(format!("{e:?}").contains("申诉期限"), "{e:?}");
        app.clock.set_today(end);
        let a = app
            .file_appeal(&p.applicant, &input("not_accepted", Some(id), None))
            .await
            .unwrap();
        let sup = user(&app, "sup", "supervisor", None).await;
        let inv = user(&app, "inv", "approver", None).await;
        app.assign_investigator(&sup, a.id, inv.user_id)
            .await
            .unwrap();
        let done = app
            .conclude_appeal(&inv, a.id, "upheld", "受理审查意见成立", None)
            .await
            .unwrap();
        assert_eq!(done.state, AppealState::Upheld);
        let c = zizhi_store::cases::get(app.store_for_tests(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.stage, Stage::NotAccepted, "the decision stands");
        assert!(
            super::cases::last_mail_body(&app)
                .await
                .contains("维持原决定")
        );
    }
}

/// 七 and 六: a sanction is appealed once it took effect (not while proposed); the supervisor
/// who proposed it may not investigate; overturned, the sanction is withdrawn and the
/// certificate valid again, with the change in its history.
#[tokio::test]
async fn an_overturned_revocation_is_withdrawn_and_the_certificate_restored() {
    for app in apps().await {
        let c = super::sanctions::cast(&app, "2026-09-01").await;
        let n = c.cert.number.clone();
        let x = app
            .propose_sanction(&c.supervisor, &super::sanctions::proposal(&n, "revocation"))
            .await
            .unwrap();
        let e = app
            .file_appeal(&c.holder, &input("sanction", None, Some(x.sanction.id)))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "sanction_id", "not in effect yet");
        app.decide_sanction(&c.approver, x.sanction.id, true, "")
            .await
            .unwrap();
        let e = app
            .file_appeal(&c.stranger, &input("sanction", None, Some(x.sanction.id)))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "sanction_id");
        let a = app
            .file_appeal(&c.holder, &input("sanction", None, Some(x.sanction.id)))
            .await
            .unwrap();
        assert!(app.on_legal_hold(c.cert.case_id).await.unwrap());
        let sup2 = user(&app, "sup2", "supervisor", None).await;
        for took_part in [&c.supervisor, &c.approver] {
            let e = app
                .assign_investigator(&sup2, a.id, took_part.user_id)
                .await
                .unwrap_err();
            assert_eq!(field_of(&e), "investigator_id");
        }
        let inv = user(&app, "inv", "supervisor", None).await;
        app.assign_investigator(&sup2, a.id, inv.user_id)
            .await
            .unwrap();
        app.clock
            .set_today(zizhi_domain::calendar::parse_date("2026-09-20").unwrap());
        app.conclude_appeal(&inv, a.id, "overturned", "违规事实不成立", None)
            .await
            .unwrap();
        let v = app.verify_certificate(&n).await.unwrap();
        assert_eq!(v.certificate.status, "valid");
        assert_eq!(
            v.history.last().unwrap(),
            &("2026-09-20".to_string(), "valid")
        );
        assert_eq!(
            app.sanction(&c.supervisor, x.sanction.id)
                .await
                .unwrap()
                .sanction
                .state,
            zizhi_domain::sanction::SanctionState::Withdrawn
        );
    }
}
