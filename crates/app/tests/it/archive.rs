//! The project archive (档案, guide 八; issue 12): a closed case is archived on its closing day
//! and kept six years through the corresponding day; holds (placed with a reason, or an open
//! appeal, sanction or complaint) block disposal; disposal takes a supervisor and an approver,
//! destroys only objects nothing kept refers to, and records what went. On SQLite and (with
//! ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use zizhi_app::{Actor, App, AppError};

use super::case_core::field_of;
use super::cases::apps;
use super::sanctions::{Cast, cast};

fn day(s: &str) -> chrono::NaiveDate {
    zizhi_domain::calendar::parse_date(s).unwrap()
}

/// An uploaded file of the holder's organisation.
async fn upload(app: &App, who: &Actor, bytes: &'static [u8], name: &str) -> (i64, String) {
    let org = who.organization_id.unwrap();
    let mut up = app.begin_evidence(who, org).await.unwrap();
    app.write_evidence(&mut up, bytes).await.unwrap();
    let ev = app.finish_evidence(who, org, up, name, None).await.unwrap();
    (ev.id, ev.sha256)
}

/// A draft of the holder's with `files` filed against 3.1.1, then closed as withdrawn on
/// `closed_on` (or left open with `None`).
async fn case_with(app: &App, c: &Cast, files: &[i64], closed_on: Option<&str>) -> i64 {
    let case = app.create_case(&c.holder, 2, "initial").await.unwrap();
    for &f in files {
        app.link_case_evidence(&c.holder, case.id, "3.1.1", f)
            .await
            .unwrap();
    }
    if let Some(on) = closed_on {
        let db = app.store_for_tests();
        let mut row = zizhi_store::cases::get(db, case.id).await.unwrap().unwrap();
        row.stage = zizhi_domain::case::Stage::Withdrawn;
        row.closed_on = Some(on.into());
        let mut tx = db.begin().await.unwrap();
        zizhi_store::cases::update(&mut tx, &row).await.unwrap();
        tx.commit().await.unwrap();
    }
    case.id
}

/// 八: archived on the day it closed, kept six years through the corresponding day (a leap
/// day's file through 28 February); the job archives each case once; a valid certificate's
/// case is not archived; not due on the last day of retention, due the day after.
#[tokio::test]
async fn a_closed_case_is_kept_six_years_through_the_corresponding_day() {
    for app in apps().await {
        let c = cast(&app, "2020-03-01").await;
        assert_eq!(
            app.retain_until(day("2020-02-29")).to_string(),
            "2026-02-28"
        );
        let id = case_with(&app, &c, &[], Some("2020-03-01")).await;
        let open = case_with(&app, &c, &[], None).await;
        assert_eq!(app.archive_closed_cases().await.unwrap(), 1);
        assert_eq!(app.archive_closed_cases().await.unwrap(), 0, "once");
        let v = app.archive_of(&c.supervisor, id).await.unwrap();
        let r = v.record.unwrap();
        assert_eq!(r.archived_on, "2020-03-01");
        assert_eq!(r.retain_until, "2026-03-01");
        assert!(
            app.archive_of(&c.supervisor, open)
                .await
                .unwrap()
                .record
                .is_none()
        );
        assert!(
            app.archive_of(&c.supervisor, c.cert.case_id)
                .await
                .unwrap()
                .record
                .is_none(),
            "a valid certificate's case stays open"
        );
        assert!(matches!(
            app.archive_of(&c.holder, id).await.unwrap_err(),
            AppError::Forbidden
        ));

        app.clock.set_today(day("2026-03-01"));
        assert!(app.disposal_due(&c.supervisor).await.unwrap().is_empty());
        let e = app
            .propose_disposal(&c.supervisor, &[id])
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "case_ids");
        assert!(e.to_string().contains("2026-03-01"), "{e}");
        app.clock.set_today(day("2026-03-02"));
        let due = app.disposal_due(&c.supervisor).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].due.case_id, id);
        assert!(due[0].held_because.is_empty());
        let e = app
            .propose_disposal(&c.supervisor, &[open])
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "case_ids", "an open case is not archived");
    }
}

/// 八: an expired certificate's case is archived on the day its life ended (the day after its
/// last valid day), whenever the job notices.
#[tokio::test]
async fn a_certified_case_is_archived_when_its_certificate_ends() {
    for app in apps().await {
        let c = cast(&app, "2023-01-10").await;
        assert_eq!(c.cert.valid_until, "2026-01-09");
        app.clock.set_today(day("2026-01-09"));
        assert_eq!(app.expire_certificates().await.unwrap(), 0);
        assert_eq!(app.archive_closed_cases().await.unwrap(), 0);
        // The jobs run a day late: the date is still the day its life ended.
        app.clock.set_today(day("2026-01-11"));
        assert_eq!(app.expire_certificates().await.unwrap(), 1);
        assert_eq!(app.archive_closed_cases().await.unwrap(), 1);
        let r = app
            .archive_of(&c.supervisor, c.cert.case_id)
            .await
            .unwrap()
            .record
            .unwrap();
        assert_eq!(r.archived_on, "2026-01-10");
        assert_eq!(r.retain_until, "2032-01-10");
    }
}

/// 八: a hold a supervisor places (with a reason) blocks disposal until released (with a
/// reason); only supervisors hold, only they propose, only approvers decide; a declined list
/// frees its cases; carried out, the case's own object goes and an object another case still
/// refers to stays (deduplicated bytes), the record names both, and the audit chain holds.
#[tokio::test]
async fn disposal_takes_two_people_and_spares_what_is_still_referred_to() {
    for app in apps().await {
        let c = cast(&app, "2020-03-01").await;
        let (own, own_sha) = upload(&app, &c.holder, b"only in the old case", "old.pdf").await;
        let (shared_a, shared_sha) = upload(&app, &c.holder, b"shared bytes", "a.pdf").await;
        let (shared_b, shared_sha_b) = upload(&app, &c.holder, b"shared bytes", "b.pdf").await;
        assert_eq!(shared_sha, shared_sha_b, "stored once");
        let old = case_with(&app, &c, &[own, shared_a], Some("2020-03-01")).await;
        let _live = case_with(&app, &c, &[shared_b], None).await;
        app.archive_closed_cases().await.unwrap();
        app.clock.set_today(day("2026-03-02"));

        for who in [&c.holder, &c.approver, &c.lead] {
            assert!(matches!(
                app.place_hold(who, old, "诉讼").await.unwrap_err(),
                AppError::Forbidden
            ));
        }
        let e = app.place_hold(&c.supervisor, old, " ").await.unwrap_err();
        assert_eq!(field_of(&e), "reason");
        let hold = app
            .place_hold(&c.supervisor, old, "涉及行政诉讼，暂缓销毁")
            .await
            .unwrap();
        let due = app.disposal_due(&c.approver).await.unwrap();
        assert!(due[0].held_because[0].zh.contains("涉及行政诉讼"));
        let e = app
            .propose_disposal(&c.supervisor, &[old])
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "case_ids");
        assert!(e.to_string().contains("legal hold"), "{e}");
        let e = app.release_hold(&c.supervisor, hold, "").await.unwrap_err();
        assert_eq!(field_of(&e), "note");
        app.release_hold(&c.supervisor, hold, "诉讼已结案")
            .await
            .unwrap();

        assert!(matches!(
            app.propose_disposal(&c.approver, &[old]).await.unwrap_err(),
            AppError::Forbidden
        ));
        let d = app.propose_disposal(&c.supervisor, &[old]).await.unwrap();
        let e = app
            .propose_disposal(&c.supervisor, &[old])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("another disposal"), "{e}");
        assert!(matches!(
            app.decide_disposal(&c.supervisor, d.id, true, "")
                .await
                .unwrap_err(),
            AppError::Forbidden
        ));
        let declined = app
            .decide_disposal(&c.approver, d.id, false, "清单需复核")
            .await
            .unwrap();
        assert_eq!(declined.state, "declined");
        assert!(app.files.exists(&own_sha).await.unwrap());
        let d = app.propose_disposal(&c.supervisor, &[old]).await.unwrap();
        let done = app
            .decide_disposal(&c.approver, d.id, true, "同意销毁")
            .await
            .unwrap();
        assert_eq!(done.state, "carried_out");
        assert!(
            !app.files.exists(&own_sha).await.unwrap(),
            "its own object goes"
        );
        assert!(
            app.files.exists(&shared_sha).await.unwrap(),
            "an object another case refers to stays"
        );
        let record: serde_json::Value = serde_json::from_str(&done.destroyed).unwrap();
        let objects = record[0]["objects"].as_array().unwrap();
        assert!(
            objects
                .iter()
                .any(|o| o["sha256"] == own_sha.as_str() && o["destroyed"] == true)
        );
        assert!(
            objects
                .iter()
                .any(|o| o["sha256"] == shared_sha.as_str() && o["destroyed"] == false)
        );
        assert_eq!(record[0]["holder"], "示例灾备科技有限公司");
        let v = app.archive_of(&c.supervisor, old).await.unwrap();
        assert_eq!(v.record.unwrap().disposed_on.as_deref(), Some("2026-03-02"));
        let e = app
            .decide_disposal(&c.approver, d.id, true, "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "state");
        let admin = super::case_core::user(&app, "admin2", "administrator", None).await;
        assert!(
            app.verify_audit(Some(&admin))
                .await
                .unwrap()
                .first_break
                .is_none()
        );
    }
}
