//! What the centre receives, recorded as it arrives (issue 13), on SQLite and PostgreSQL: the
//! paper copy with its day and tracking number (5.2), payments of the fee with amount, day and
//! voucher checked against the agreement (5.3), and an extension of the supplement deadline to
//! the day the lead names.

use crate::cases::{accepted, apps, filed, people, review};
use zizhi_app::AppError;
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::money::Cny;

fn field_of(e: &AppError) -> &str {
    match e {
        AppError::Invalid { field, .. } => field,
        _ => "",
    }
}

#[tokio::test]
async fn the_paper_copy_records_its_day_and_tracking_number() {
    for app in apps().await {
        let p = people(&app).await;
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        app.save_case_profile(
            &p.applicant,
            c.id,
            serde_json::from_str(crate::cases::PROFILE).unwrap(),
        )
        .await
        .unwrap();
        app.transition_case(&p.applicant, c.id, Transition::Submit, "")
            .await
            .unwrap();
        let today = app.clock.today();
        // Not the applicant's to record; not in the future; not before the submission.
        assert!(matches!(
            app.record_paper_copy_received(&p.applicant, c.id, today, "SF1")
                .await,
            Err(AppError::Forbidden)
        ));
        let e = app
            .record_paper_copy_received(&p.registrar, c.id, today.succ_opt().unwrap(), "SF1")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "received_on");
        let e = app
            .record_paper_copy_received(&p.registrar, c.id, today.pred_opt().unwrap(), "SF1")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "received_on", "before the online submission");
        let long = "9".repeat(65);
        let e = app
            .record_paper_copy_received(&p.registrar, c.id, today, &long)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "tracking_no");
        // Today (the boundary) with the courier's number.
        app.record_paper_copy_received(&p.registrar, c.id, today, " SF1234567890 ")
            .await
            .unwrap();
        let pc = app.paper_copy(&p.registrar, c.id).await.unwrap().unwrap();
        assert_eq!(pc.received_on, today.to_string());
        assert_eq!(pc.tracking_no, "SF1234567890");
        assert_eq!(pc.recorded_by, p.registrar.user_id);
        assert!(
            app.case(&p.registrar, c.id)
                .await
                .unwrap()
                .case
                .paper_received_us
                .is_some()
        );
        assert_eq!(app.verify_audit(None).await.unwrap().first_break, None);
    }
}

#[tokio::test]
async fn payments_are_checked_against_the_fee_and_confirm_it_once_complete() {
    for app in apps().await {
        let p = people(&app).await;
        let id = accepted(
            &app,
            &p,
            serde_json::from_str(crate::cases::PROFILE).unwrap(),
            "initial",
        )
        .await;
        for (who, t) in [
            (&p.lead, Transition::SendAgreement),
            (&p.lead, Transition::RecordSignedAgreement),
            (&p.finance, Transition::ApproveAgreement),
        ] {
            app.transition_case(who, id, t, "ok").await.unwrap();
        }
        let today = app.clock.today();
        let yuan = |y: i64| Cny::from_yuan(y);
        // Only contract & finance record payments.
        assert!(matches!(
            app.record_payment(&p.lead, id, yuan(87_000), today, "V1", "")
                .await,
            Err(AppError::Forbidden)
        ));
        let e = app
            .record_payment(&p.finance, id, yuan(1), today.succ_opt().unwrap(), "V1", "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "paid_on");
        let e = app
            .record_payment(&p.finance, id, yuan(1), today, "  ", "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "voucher_no");
        let e = app
            .record_payment(&p.finance, id, Cny::from_fen(0), today, "V1", "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "amount");
        // Short by one fen: recorded, flagged, not confirmed (九: 72 000 + 15 000).
        let o = app
            .record_payment(&p.finance, id, Cny::from_fen(8_699_999), today, "V1", "")
            .await
            .unwrap();
        assert_eq!(o.fee, Some(yuan(87_000)));
        assert_eq!(o.difference_fen, Some(-1));
        assert!(!o.confirmed);
        assert_eq!(
            app.case(&p.finance, id).await.unwrap().stage,
            Stage::AgreementEffective
        );
        // The missing fen completes it (the boundary: paid = fee confirms).
        let o = app
            .record_payment(&p.finance, id, Cny::from_fen(1), today, "V2", "")
            .await
            .unwrap();
        assert_eq!((o.difference_fen, o.confirmed), (Some(0), true));
        let d = app.case(&p.finance, id).await.unwrap();
        assert_eq!(d.stage, Stage::Evaluation);
        let pays = app.payments(&p.finance, id).await.unwrap();
        assert_eq!(pays.len(), 2);
        assert_eq!(pays[0].expected_fen, Some(8_700_000));
        assert!(
            d.transitions.last().unwrap().note.contains("87,000.00 元"),
            "the confirmation names the amount"
        );
        // No more payments once evaluation opened.
        assert!(matches!(
            app.record_payment(&p.finance, id, yuan(1), today, "V3", "")
                .await,
            Err(AppError::WrongStage { .. })
        ));
    }
}

#[tokio::test]
async fn an_overpayment_confirms_and_is_flagged() {
    for app in apps().await {
        let p = people(&app).await;
        let id = accepted(
            &app,
            &p,
            serde_json::from_str(crate::cases::PROFILE).unwrap(),
            "initial",
        )
        .await;
        for (who, t) in [
            (&p.lead, Transition::SendAgreement),
            (&p.lead, Transition::RecordSignedAgreement),
            (&p.finance, Transition::ApproveAgreement),
        ] {
            app.transition_case(who, id, t, "ok").await.unwrap();
        }
        let o = app
            .record_payment(
                &p.finance,
                id,
                Cny::from_yuan(90_000),
                app.clock.today(),
                "V9",
                "",
            )
            .await
            .unwrap();
        assert_eq!((o.difference_fen, o.confirmed), (Some(300_000), true));
        let d = app.case(&p.finance, id).await.unwrap();
        assert!(
            d.transitions
                .last()
                .unwrap()
                .note
                .contains("多付 3,000.00 元")
        );
    }
}

#[tokio::test]
async fn an_extension_runs_to_the_day_the_lead_names() {
    for app in apps().await {
        let p = people(&app).await;
        let id = filed(
            &app,
            &p,
            serde_json::from_str(crate::cases::PROFILE).unwrap(),
            "initial",
        )
        .await;
        review(
            &app,
            &p,
            id,
            Some(zizhi_domain::review::Area::BasicCapability),
        )
        .await;
        app.transition_case(&p.lead, id, Transition::RequestSupplement, "请补充")
            .await
            .unwrap();
        let due = app
            .case(&p.lead, id)
            .await
            .unwrap()
            .case
            .supplement_due
            .clone()
            .unwrap();
        let due = zizhi_domain::calendar::parse_date(&due).unwrap();
        // The deadline passes; the case lapses; the lead extends to a day of its choosing.
        app.clock.set_today(due.succ_opt().unwrap());
        app.lapse_overdue_supplements(app.clock.today())
            .await
            .unwrap();
        assert_eq!(app.case(&p.lead, id).await.unwrap().stage, Stage::Lapsed);
        let today = app.clock.today();
        let e = app
            .extend_supplement(&p.lead, id, today, "再给两周")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "until", "today is not after today");
        let until = today + chrono::Days::new(14);
        assert!(matches!(
            app.extend_supplement(&p.applicant, id, until, "x").await,
            Err(AppError::Forbidden)
        ));
        let c = app
            .extend_supplement(&p.lead, id, until, "再给两周")
            .await
            .unwrap();
        assert_eq!(c.stage, Stage::Supplementing);
        assert_eq!(
            c.supplement_due.as_deref(),
            Some(until.to_string().as_str())
        );
        app.clock.reset();
    }
}

/// Filed evidence can be withdrawn before submission (issue 13): anything from a draft; while
/// supplementing, only what was filed since the last submission; nobody else's.
#[tokio::test]
async fn filed_evidence_is_withdrawn_only_before_it_is_submitted() {
    for app in apps().await {
        let p = people(&app).await;
        let id = filed(
            &app,
            &p,
            serde_json::from_str(crate::cases::PROFILE).unwrap(),
            "initial",
        )
        .await;
        let c = app.case(&p.lead, id).await.unwrap().case.clone();
        review(
            &app,
            &p,
            id,
            Some(zizhi_domain::review::Area::BasicCapability),
        )
        .await;
        app.transition_case(&p.lead, id, Transition::RequestSupplement, "请补充")
            .await
            .unwrap();
        // A new filing can be taken back before resubmitting.
        let mut up = app
            .begin_evidence(&p.applicant, c.organization_id)
            .await
            .unwrap();
        app.write_evidence(&mut up, b"internal audit 2026")
            .await
            .unwrap();
        let ev = app
            .finish_evidence(&p.applicant, c.organization_id, up, "内审.pdf", None)
            .await
            .unwrap();
        app.link_case_evidence(&p.applicant, id, "3.1.2", ev.id)
            .await
            .unwrap();
        assert!(matches!(
            app.unlink_case_evidence(&p.stranger, id, "3.1.2", ev.id)
                .await,
            Err(AppError::Forbidden | AppError::NotFound(_))
        ));
        assert!(matches!(
            app.unlink_case_evidence(&p.lead, id, "3.1.2", ev.id).await,
            Err(AppError::Forbidden)
        ));
        app.unlink_case_evidence(&p.applicant, id, "3.1.2", ev.id)
            .await
            .unwrap();
        assert!(
            !app.case_evidence(&p.applicant, id)
                .await
                .unwrap()
                .iter()
                .any(|l| l.evidence_id == ev.id && l.requirement_id == "3.1.2")
        );
        // Twice: nothing filed there any more.
        assert!(matches!(
            app.unlink_case_evidence(&p.applicant, id, "3.1.2", ev.id)
                .await,
            Err(AppError::NotFound(_))
        ));
        // Filed again and submitted with the supplement: then it stays on the record.
        app.link_case_evidence(&p.applicant, id, "3.1.2", ev.id)
            .await
            .unwrap();
        app.transition_case(&p.applicant, id, Transition::Resubmit, "")
            .await
            .unwrap();
        review(
            &app,
            &p,
            id,
            Some(zizhi_domain::review::Area::BasicCapability),
        )
        .await;
        app.transition_case(&p.lead, id, Transition::RequestSupplement, "再补充")
            .await
            .unwrap();
        let e = app
            .unlink_case_evidence(&p.applicant, id, "3.1.2", ev.id)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "evidence_id", "submitted evidence stays");
        // A draft's filings come off freely.
        let d = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        app.link_case_evidence(&p.applicant, d.id, "3.1.1", ev.id)
            .await
            .unwrap();
        app.unlink_case_evidence(&p.applicant, d.id, "3.1.1", ev.id)
            .await
            .unwrap();
        assert!(
            app.case_evidence(&p.applicant, d.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
