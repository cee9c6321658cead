//! Sanctions (处置, guide 六, issue 11): who may propose, confirm, rectify and verify; the
//! certificate's public status and history; the rectification deadline over the holiday
//! calendar; escalation of overdue rectifications; what cannot be sanctioned. On SQLite and
//! (with ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use chrono::NaiveDate;
use zizhi_app::sanctions::Proposal;
use zizhi_app::{Actor, App, AppError};
use zizhi_domain::sanction::SanctionState;
use zizhi_store::certificates::Certificate;

use super::case_core::{field_of, user};
use super::cases::apps;

fn day(s: &str) -> NaiveDate {
    zizhi_domain::calendar::parse_date(s).unwrap()
}

pub(crate) struct Cast {
    pub supervisor: Actor,
    pub approver: Actor,
    pub holder: Actor,
    /// An applicant of another organisation.
    pub stranger: Actor,
    pub lead: Actor,
    pub cert: Certificate,
}

/// A holder with a certificate issued on `today` (valid three years), the other
/// organisation's applicant and the centre's people.
pub(crate) async fn cast(app: &App, today: &str) -> Cast {
    app.clock.set_today(day(today));
    let org = app
        .create_organization(None, "91350100M000100Y43", "示例灾备科技有限公司")
        .await
        .unwrap();
    let other = app
        .create_organization(None, "91110000600037341L", "另一单位")
        .await
        .unwrap();
    let holder = user(app, "holder", "applicant", Some(org.id)).await;
    let db = app.store_for_tests();
    let mut tx = db.begin().await.unwrap();
    let case_id = zizhi_testkit::insert_certified_case(&mut tx, org.id, holder.user_id, 2).await;
    let until = zizhi_domain::certificate::valid_until(day(today), 3).to_string();
    let cert = zizhi_store::certificates::insert(
        &mut tx,
        &zizhi_store::certificates::NewCertificate {
            number: "CNITSEC2026SRV-DR-II-0001",
            case_id,
            organization_id: org.id,
            holder: &org.name,
            uscc: &org.uscc,
            category: "disaster_recovery",
            level: 2,
            issued_on: today,
            valid_until: &until,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Cast {
        supervisor: user(app, "sup", "supervisor", None).await,
        approver: user(app, "appr", "approver", None).await,
        holder,
        stranger: user(app, "stranger", "applicant", Some(other.id)).await,
        lead: user(app, "lead", "project_lead", None).await,
        cert,
    }
}

pub(crate) fn proposal(number: &str, measure: &str) -> Proposal {
    Proposal {
        certificate_number: number.into(),
        measure: measure.into(),
        violation: "超出资质级别承接灾难恢复服务项目".into(),
        evidence: "2026 年监督检查记录第 3 号".into(),
        reasoning: "情节较轻，首次发现".into(),
        rectification_days: None,
    }
}

async fn status_of(app: &App, number: &str) -> (String, Vec<(String, &'static str)>) {
    let v = app.verify_certificate(number).await.unwrap();
    (v.certificate.status, v.history)
}

/// 六: only the supervision department proposes; bad input names its field; a warning takes
/// effect at once and leaves the certificate valid; a rectification's deadline is the
/// centre's period counted over the holiday calendar (30 days from 2026-09-01 is National
/// Day, 2026-10-01, so the last day moves to 2026-10-08; 29 days ends on a working day).
#[tokio::test]
async fn the_supervisor_proposes_and_a_deadline_on_a_holiday_moves_to_the_next_working_day() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let n = c.cert.number.as_str();
        for who in [&c.lead, &c.approver, &c.holder] {
            assert!(matches!(
                app.propose_sanction(who, &proposal(n, "warning"))
                    .await
                    .unwrap_err(),
                AppError::Forbidden
            ));
        }
        let bad = |f: fn(&mut Proposal)| {
            let mut p = proposal(n, "rectification");
            f(&mut p);
            p
        };
        for (p, field) in [
            (bad(|p| p.measure = "fine".into()), "measure"),
            (bad(|p| p.violation = "  ".into()), "violation"),
            (bad(|p| p.evidence = String::new()), "evidence"),
            (bad(|p| p.reasoning = String::new()), "reasoning"),
            (
                bad(|p| p.rectification_days = Some(0)),
                "rectification_days",
            ),
            (
                bad(|p| p.rectification_days = Some(366)),
                "rectification_days",
            ),
            (
                bad(|p| p.certificate_number = "NO-SUCH".into()),
                "certificate_number",
            ),
        ] {
            let e = app.propose_sanction(&c.supervisor, &p).await.unwrap_err();
            assert_eq!(field_of(&e), field, "{e:?}");
        }
        let w = app
            .propose_sanction(&c.supervisor, &proposal(n, "warning"))
            .await
            .unwrap();
        assert_eq!(w.sanction.state, SanctionState::Effective);
        assert_eq!(w.sanction.rectify_by, None);
        assert_eq!(status_of(&app, n).await.0, "valid");
        assert!(super::cases::last_mail_body(&app).await.contains("警告"));

        let r = app
            .propose_sanction(&c.supervisor, &proposal(n, "rectification"))
            .await
            .unwrap();
        assert_eq!(r.sanction.state, SanctionState::AwaitingRectification);
        assert_eq!(r.sanction.rectify_by.as_deref(), Some("2026-10-08"));
        let mut p = proposal(n, "rectification");
        p.rectification_days = Some(29);
        let r29 = app.propose_sanction(&c.supervisor, &p).await.unwrap();
        assert_eq!(r29.sanction.rectify_by.as_deref(), Some("2026-09-30"));
        // The holder sees its own; another organisation does not.
        assert_eq!(app.sanctions(&c.holder).await.unwrap().len(), 3);
        assert!(app.sanctions(&c.stranger).await.unwrap().is_empty());
        assert!(matches!(
            app.sanction(&c.stranger, r.sanction.id).await.unwrap_err(),
            AppError::NotFound(_)
        ));
    }
}

/// 六: warning → rectification overdue (escalated once, the day after its last day) →
/// suspension (only once an approver other than the proposer confirms; it supersedes the
/// overdue demand) → a rejected and then a verified rectification → lifted. The certificate's
/// public status and history follow each step.
#[tokio::test]
async fn a_suspension_waits_for_the_approver_and_a_verified_rectification_lifts_it() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let n = c.cert.number.clone();
        let mut p = proposal(&n, "rectification");
        p.rectification_days = Some(29);
        let r = app.propose_sanction(&c.supervisor, &p).await.unwrap();
        let rid = r.sanction.id;
        // The last day itself is in time; the day after, it is overdue and escalated once.
        app.clock.set_today(day("2026-09-30"));
        assert_eq!(app.escalate_overdue_rectifications().await.unwrap(), 0);
        assert!(!app.sanction(&c.supervisor, rid).await.unwrap().overdue);
        app.clock.set_today(day("2026-10-01"));
        assert_eq!(app.escalate_overdue_rectifications().await.unwrap(), 1);
        assert_eq!(app.escalate_overdue_rectifications().await.unwrap(), 0);
        assert!(app.sanction(&c.supervisor, rid).await.unwrap().overdue);
        assert!(super::cases::last_mail_body(&app).await.contains("届满"));
        let todo = app.sanction_todo(&c.supervisor).await.unwrap();
        assert_eq!(
            todo.first().map(|v| v.sanction.id),
            Some(rid),
            "overdue first"
        );

        // Suspension: proposed, not yet in force.
        let s = app
            .propose_sanction(&c.supervisor, &proposal(&n, "suspension"))
            .await
            .unwrap();
        let sid = s.sanction.id;
        assert_eq!(s.sanction.state, SanctionState::Proposed);
        assert_eq!(status_of(&app, &n).await.0, "valid");
        assert_eq!(
            app.sanction_todo(&c.approver).await.unwrap()[0].sanction.id,
            sid
        );
        // Only an approver confirms; declining needs a reason.
        assert!(matches!(
            app.decide_sanction(&c.supervisor, sid, true, "")
                .await
                .unwrap_err(),
            AppError::Forbidden
        ));
        let e = app
            .decide_sanction(&c.approver, sid, false, " ")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "note");
        app.clock.set_today(day("2026-10-09"));
        let s = app
            .decide_sanction(&c.approver, sid, true, "同意")
            .await
            .unwrap();
        assert_eq!(s.sanction.state, SanctionState::AwaitingRectification);
        assert_eq!(s.sanction.decided_by, Some(c.approver.user_id));
        // The period runs from the confirmation: 30 days from 2026-10-09 is 2026-11-08, a
        // Sunday, so the last day is Monday 2026-11-09.
        assert_eq!(s.sanction.rectify_by.as_deref(), Some("2026-11-09"));
        let (status, history) = status_of(&app, &n).await;
        assert_eq!(status, "suspended");
        assert_eq!(
            history.last().unwrap(),
            &("2026-10-09".to_string(), "suspended")
        );
        assert!(!app.verify_certificate(&n).await.unwrap().in_force);
        assert_eq!(
            app.sanction(&c.supervisor, rid)
                .await
                .unwrap()
                .sanction
                .state,
            SanctionState::Superseded,
            "the overdue demand goes on in the suspension"
        );
        // Confirmed once only.
        let e = app
            .decide_sanction(&c.approver, sid, true, "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "state");

        // The holder rectifies (nobody else may); the supervisor rejects, then accepts.
        assert!(matches!(
            app.submit_rectification(&c.stranger, sid, "x", &[])
                .await
                .unwrap_err(),
            AppError::NotFound(_)
        ));
        let e = app
            .submit_rectification(&c.holder, sid, " ", &[])
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "account");
        let e = app
            .submit_rectification(&c.holder, sid, "已整改", &[999_999])
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "evidence_ids");
        app.submit_rectification(&c.holder, sid, "已停止超范围承接项目", &[])
            .await
            .unwrap();
        let e = app
            .submit_rectification(&c.holder, sid, "again", &[])
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "state", "one waits for its verdict");
        assert!(matches!(
            app.verify_rectification(&c.holder, sid, true, "")
                .await
                .unwrap_err(),
            AppError::Forbidden
        ));
        let e = app
            .verify_rectification(&c.supervisor, sid, false, "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "note");
        let v = app
            .verify_rectification(&c.supervisor, sid, false, "缺少合同清单")
            .await
            .unwrap();
        assert_eq!(v.sanction.state, SanctionState::AwaitingRectification);
        assert_eq!(status_of(&app, &n).await.0, "suspended");
        app.submit_rectification(&c.holder, sid, "补充了合同清单", &[])
            .await
            .unwrap();
        app.clock.set_today(day("2026-10-20"));
        let v = app
            .verify_rectification(&c.supervisor, sid, true, "整改到位")
            .await
            .unwrap();
        assert_eq!(v.sanction.state, SanctionState::Rectified);
        assert_eq!(v.rectifications.len(), 2);
        let (status, history) = status_of(&app, &n).await;
        assert_eq!(status, "valid");
        let tail: Vec<_> = history.iter().rev().take(2).rev().cloned().collect();
        assert_eq!(
            tail,
            [
                ("2026-10-09".to_string(), "suspended"),
                ("2026-10-20".to_string(), "valid")
            ]
        );
        assert!(super::cases::last_mail_body(&app).await.contains("解除"));
    }
}

/// 六: a revocation is final — confirmed by an approver, it revokes the certificate, ends
/// what was open, and nothing more can be done: no new sanction, no rectification. An expired
/// certificate cannot be sanctioned either.
#[tokio::test]
async fn revocation_is_final_and_expired_certificates_are_beyond_sanction() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let n = c.cert.number.clone();
        let r = app
            .propose_sanction(&c.supervisor, &proposal(&n, "rectification"))
            .await
            .unwrap();
        let x = app
            .propose_sanction(&c.supervisor, &proposal(&n, "revocation"))
            .await
            .unwrap();
        let d = app
            .decide_sanction(&c.approver, x.sanction.id, true, "")
            .await
            .unwrap();
        assert_eq!(d.sanction.state, SanctionState::Effective);
        assert_eq!(status_of(&app, &n).await.0, "revoked");
        let e = app
            .submit_rectification(&c.holder, r.sanction.id, "已整改", &[])
            .await
            .unwrap_err();
        match &e {
            AppError::Invalid { field, problem } => {
                assert_eq!(field, "state");
                assert!(problem.zh.contains("撤销"), "{}", problem.zh);
            }
            other => panic!("{other:?}"),
        }
        for m in ["warning", "rectification", "suspension", "revocation"] {
            let e = app
                .propose_sanction(&c.supervisor, &proposal(&n, m))
                .await
                .unwrap_err();
            assert_eq!(field_of(&e), "certificate_number");
        }
    }
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let until = day(&c.cert.valid_until);
        // The last valid day still counts; the day after, the certificate is expired.
        app.clock.set_today(until);
        app.propose_sanction(&c.supervisor, &proposal(&c.cert.number, "warning"))
            .await
            .unwrap();
        app.clock.set_today(until.succ_opt().unwrap());
        let e = app
            .propose_sanction(&c.supervisor, &proposal(&c.cert.number, "warning"))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "certificate_number");
    }
}

/// Issue 11: the scheduled jobs take a lease, so two servers on one database run each job once
/// per period; the runner holding the lease runs again, another waits until it ends.
#[tokio::test]
async fn scheduled_jobs_run_once_under_a_lease() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let mut p = proposal(&c.cert.number, "rectification");
        p.rectification_days = Some(29);
        let r = app.propose_sanction(&c.supervisor, &p).await.unwrap();
        app.clock.set_today(day("2026-10-01"));
        let a = app.run_jobs_once("server-a").await.unwrap();
        assert_eq!(a.len(), zizhi_app::jobs::JOBS.len());
        let esc = a
            .iter()
            .find(|j| j.job == "escalate_rectifications")
            .unwrap();
        assert_eq!(esc.done, Some(1));
        let b = app.run_jobs_once("server-b").await.unwrap();
        assert!(
            b.iter()
                .all(|j| j.done.is_none() && j.held_by.as_deref() == Some("server-a"))
        );
        let again = app.run_jobs_once("server-a").await.unwrap();
        assert_eq!(
            again
                .iter()
                .find(|j| j.job == "escalate_rectifications")
                .unwrap()
                .done,
            Some(0),
            "idempotent"
        );
        // The next day the lease has ended: the other server takes it.
        app.clock.set_today(day("2026-10-02"));
        let b = app.run_jobs_once("server-b").await.unwrap();
        assert!(b.iter().all(|j| j.done.is_some()));
        assert!(
            app.sanction(&c.supervisor, r.sanction.id)
                .await
                .unwrap()
                .sanction
                .overdue_noted
        );
    }
}

/// Issue 14: the scheduler does not read the certificates and cases again while the day, the
/// cases' version and the register's version stand (`jobs::Unchanged`) — its answer would be
/// the last one's. A reminder falling due on a new day is sent at that day's first run; a
/// change the versions do not see (a reminder's record removed by hand) is not acted on until
/// one of them moves, and then it is.
#[tokio::test]
async fn the_scheduler_reads_again_only_when_the_day_or_the_data_has_moved() {
    for app in apps().await {
        cast(&app, "2026-09-01").await;
        let at = |d: &str| app.clock.set_today(day(d));
        // The scheduler's run (as server "a"): how many renewal reminders it sent.
        async fn reminded(app: &App) -> usize {
            let runs = app.run_jobs_once("a").await.unwrap();
            let r = runs.iter().find(|j| j.job == "remind_renewals").unwrap();
            r.done.unwrap()
        }
        at("2028-11-29");
        assert_eq!(reminded(&app).await, 0);
        at("2028-11-30");
        assert_eq!(reminded(&app).await, 1, "nine months before: a new day");
        // Behind the versions' back: the reminder's record goes, so a full read would send it
        // again.
        let forget = "DELETE FROM certificate_reminder";
        super::cases::execute(app.store_for_tests(), forget).await;
        assert_eq!(reminded(&app).await, 0, "nothing has moved: not read again");
        // A certificate's change moves the register's version.
        let bump = "UPDATE register_version SET n = n + 1";
        super::cases::execute(app.store_for_tests(), bump).await;
        assert_eq!(reminded(&app).await, 1, "the register moved: read again");
        assert_eq!(reminded(&app).await, 0);
        // A new day reads again too (the record removed once more is found).
        super::cases::execute(app.store_for_tests(), forget).await;
        at("2028-12-01");
        assert_eq!(reminded(&app).await, 1, "a new day");
        // The command line's run (a new process: nothing kept) reads everything.
        super::cases::execute(app.store_for_tests(), forget).await;
        let fresh = zizhi_app::App::new(
            app.store_for_tests().clone(),
            app.files.clone(),
            (*app.config).clone(),
        );
        fresh.clock.set_today(day("2028-12-01"));
        assert_eq!(reminded(&fresh).await, 1);
    }
}

/// 四: reminders at 9, 7 and 6 months before expiry (the centre's default), each once, from its
/// day exactly; on the day after its last valid day the certificate becomes expired, once, with
/// the change in its history, and can no longer be sanctioned.
#[tokio::test]
async fn renewal_reminders_fall_due_on_their_day_and_certificates_expire_the_day_after() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        assert_eq!(c.cert.valid_until, "2029-08-31");
        let at = |d: &str| app.clock.set_today(day(d));
        at("2028-11-29");
        assert_eq!(app.remind_renewals().await.unwrap(), 0, "a day early");
        at("2028-11-30");
        assert_eq!(
            app.remind_renewals().await.unwrap(),
            1,
            "nine months before"
        );
        assert!(
            super::cases::last_mail_body(&app)
                .await
                .contains("2029-02-28")
        );
        assert_eq!(app.remind_renewals().await.unwrap(), 0, "once");
        at("2029-01-30");
        assert_eq!(app.remind_renewals().await.unwrap(), 0);
        at("2029-01-31");
        assert_eq!(
            app.remind_renewals().await.unwrap(),
            1,
            "seven months before"
        );
        at("2029-02-28");
        assert_eq!(app.remind_renewals().await.unwrap(), 1, "six months before");
        at("2029-08-31");
        assert_eq!(
            app.expire_certificates().await.unwrap(),
            0,
            "the last day counts"
        );
        assert!(
            app.verify_certificate(&c.cert.number)
                .await
                .unwrap()
                .in_force
        );
        at("2029-09-01");
        assert_eq!(app.expire_certificates().await.unwrap(), 1);
        assert_eq!(app.expire_certificates().await.unwrap(), 0, "once");
        let v = app.verify_certificate(&c.cert.number).await.unwrap();
        assert_eq!(v.certificate.status, "expired");
        assert_eq!(
            v.history,
            [
                ("2026-09-01".to_string(), "valid"),
                ("2029-09-01".to_string(), "expired")
            ]
        );
        assert!(super::cases::last_mail_body(&app).await.contains("过期"));
        let e = app
            .propose_sanction(&c.supervisor, &proposal(&c.cert.number, "warning"))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "certificate_number");
    }
}
