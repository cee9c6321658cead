//! Complaints (投诉, guide 七, issue 11) and the maintenance application's start (维持, 四): the
//! organisation's own register and who may keep it, the supervision department's inspections
//! with their reasons, the public form and its hourly limit, the supervisor's closing; a
//! maintenance application prefilled from the held certificate and the application that
//! earned it, and not complete without the last three years' materials. On SQLite and (with
//! ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use zizhi_app::AppError;
use zizhi_app::complaints::{Lodged, NewRecord};

use super::case_core::field_of;
use super::cases::{PROFILE, apps, last_mail_body, link_in_db};
use super::sanctions::cast;

fn entry(day: &str) -> NewRecord {
    NewRecord {
        received_on: day.into(),
        source: "某市商业银行（客户）".into(),
        content: "灾备切换演练未按合同约定时间完成".into(),
    }
}

fn lodged(number: &str) -> Lodged {
    Lodged {
        certificate_number: number.into(),
        complainant: "张三".into(),
        email: "zhangsan@example.test".into(),
        phone: String::new(),
        content: "持证单位在灾备演练中未按约定恢复业务系统".into(),
    }
}

/// 七: the register is the organisation's own: its members record, handle and close; no one
/// else reads or writes it; the received day cannot be after today (today itself is fine);
/// closing needs the handling and the measures; a closed entry never changes.
#[tokio::test]
async fn an_organisation_keeps_its_own_complaint_register() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let org = c.holder.organization_id.unwrap();
        for who in [&c.stranger, &c.supervisor, &c.approver, &c.lead] {
            assert!(matches!(
                app.complaint_register(who, org).await.unwrap_err(),
                AppError::Forbidden
            ));
        }
        assert!(matches!(
            app.record_complaint(&c.supervisor, &entry("2026-08-30"))
                .await
                .unwrap_err(),
            AppError::Forbidden
        ));
        let e = app
            .record_complaint(&c.holder, &entry("2026-09-02"))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "received_on");
        let mut blank = entry("2026-09-01");
        blank.source = "  ".into();
        assert_eq!(
            field_of(&app.record_complaint(&c.holder, &blank).await.unwrap_err()),
            "source"
        );
        let r = app
            .record_complaint(&c.holder, &entry("2026-09-01"))
            .await
            .unwrap();
        assert_eq!(r.received_on, "2026-09-01");
        assert!(r.closed_on.is_none());
        // Another organisation cannot touch it (not even learn that it exists).
        assert!(matches!(
            app.update_complaint(&c.stranger, r.id, "x", "y", false)
                .await
                .unwrap_err(),
            AppError::NotFound(_)
        ));
        let e = app
            .update_complaint(&c.holder, r.id, "已重新演练并恢复", "", true)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "prevention");
        let saved = app
            .update_complaint(&c.holder, r.id, "已重新演练并恢复", "", false)
            .await
            .unwrap();
        assert!(saved.closed_on.is_none());
        let closed = app
            .update_complaint(
                &c.holder,
                r.id,
                "已重新演练并恢复",
                "修订演练计划，增加预演",
                true,
            )
            .await
            .unwrap();
        assert_eq!(closed.closed_on.as_deref(), Some("2026-09-01"));
        let e = app
            .update_complaint(&c.holder, r.id, "改写", "改写", false)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "closed_on");
        let g = app.complaint_register(&c.holder, org).await.unwrap();
        assert_eq!(g.records.len(), 1);
        assert_eq!(g.records[0].handling, "已重新演练并恢复");
        assert!(g.inspections.is_empty());
    }
}

/// 七: the supervision department inspects "when necessary": only a supervisor, only with a
/// reason; the inspection is recorded with it (and audited) and the organisation sees it.
#[tokio::test]
async fn an_inspection_needs_a_reason_and_the_organisation_sees_it() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let org = c.holder.organization_id.unwrap();
        app.record_complaint(&c.holder, &entry("2026-08-31"))
            .await
            .unwrap();
        for who in [&c.approver, &c.lead, &c.holder, &c.stranger] {
            assert!(matches!(
                app.inspect_complaint_register(who, org, "年度监督检查")
                    .await
                    .unwrap_err(),
                AppError::Forbidden
            ));
        }
        let e = app
            .inspect_complaint_register(&c.supervisor, org, " ")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "reason");
        assert!(matches!(
            app.inspect_complaint_register(&c.supervisor, 999_999, "x")
                .await
                .unwrap_err(),
            AppError::NotFound(_)
        ));
        let g = app
            .inspect_complaint_register(&c.supervisor, org, "收到第三方投诉，核查处理情况")
            .await
            .unwrap();
        assert_eq!(g.records.len(), 1);
        let seen = app.complaint_register(&c.holder, org).await.unwrap();
        assert_eq!(seen.inspections.len(), 1);
        assert_eq!(seen.inspections[0].reason, "收到第三方投诉，核查处理情况");
        assert_eq!(seen.inspections[0].inspector, "sup");
        assert_eq!(seen.inspections[0].inspected_on, "2026-09-01");
        let log = app
            .audit_log(&user_admin(&app).await, None, 50)
            .await
            .unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "complaint_register.inspect"
                    && e.object_id == org.to_string())
        );
    }
}

async fn user_admin(app: &zizhi_app::App) -> zizhi_app::Actor {
    super::case_core::user(app, "auditor", "administrator", None).await
}

/// 七: anyone may lodge a complaint about a holder without an account; the holder is named by
/// its certificate number from the register; the complainant is told it arrived; one address
/// may lodge `complaints_per_hour` (here the default, 5) an hour — the fifth is taken, the
/// sixth refused, another address is not affected; a supervisor sees it in the 待办 and closes
/// it with a finding, which is mailed; a closed complaint is not closed twice; only a
/// supervisor closes; approvers read.
#[tokio::test]
async fn the_public_form_is_limited_per_address_and_reaches_the_supervisor() {
    for app in apps().await {
        let c = cast(&app, "2026-09-01").await;
        let n = c.cert.number.as_str();
        let e = app
            .lodge_complaint("198.51.100.7", &lodged("CNITSEC-NOPE"))
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "certificate_number");
        let mut bad = lodged(n);
        bad.email = "not an address".into();
        assert_eq!(
            field_of(&app.lodge_complaint("198.51.100.7", &bad).await.unwrap_err()),
            "email"
        );
        let mut bad = lodged(n);
        bad.content = String::new();
        assert_eq!(
            field_of(&app.lodge_complaint("198.51.100.7", &bad).await.unwrap_err()),
            "content"
        );
        assert_eq!(
            zizhi_app::complaints::DEFAULT_COMPLAINTS_PER_HOUR,
            app.config.complaints_per_hour
        );
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(
                app.lodge_complaint("198.51.100.7", &lodged(n))
                    .await
                    .unwrap(),
            );
        }
        assert!(last_mail_body(&app).await.contains(&ids[4].to_string()));
        assert!(matches!(
            app.lodge_complaint("198.51.100.7", &lodged(n))
                .await
                .unwrap_err(),
            AppError::TooFrequent(_)
        ));
        app.lodge_complaint("203.0.113.5", &lodged(n))
            .await
            .unwrap();
        assert_eq!(app.complaint_todo(&c.supervisor).await.unwrap(), 6);
        assert_eq!(app.complaint_todo(&c.holder).await.unwrap(), 0);
        assert!(matches!(
            app.public_complaints(&c.holder).await.unwrap_err(),
            AppError::Forbidden
        ));
        assert_eq!(app.public_complaints(&c.approver).await.unwrap().len(), 6);
        // The certificate's case is on legal hold while a complaint about it is open.
        assert!(app.on_legal_hold(c.cert.case_id).await.unwrap());
        assert!(matches!(
            app.close_public_complaint(&c.approver, ids[0], true, "属实")
                .await
                .unwrap_err(),
            AppError::Forbidden
        ));
        let e = app
            .close_public_complaint(&c.supervisor, ids[0], true, "")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "finding");
        let x = app
            .close_public_complaint(&c.supervisor, ids[0], true, "经核查属实，已责令整改")
            .await
            .unwrap();
        assert_eq!(x.closed_on.as_deref(), Some("2026-09-01"));
        assert_eq!(x.founded, Some(true));
        assert!(last_mail_body(&app).await.contains("经核查属实"));
        let e = app
            .close_public_complaint(&c.supervisor, ids[0], false, "再次")
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "state");
        assert_eq!(app.complaint_todo(&c.supervisor).await.unwrap(), 5);
        let list = app.public_complaints(&c.supervisor).await.unwrap();
        assert_eq!(list.last().unwrap().id, ids[0], "open ones come first");
    }
}

/// 四: a maintenance application starts from the held certificate (read from the register)
/// and the facts of the application that earned it; its three yearly slots of materials are
/// required before it is complete (维持申请需要提交近三年的资料信息); an initial one has none.
/// With no certificate in the register it starts empty.
#[tokio::test]
async fn maintenance_is_prefilled_and_asks_for_three_years_of_materials() {
    for app in apps().await {
        let c = cast(&app, "2023-12-01").await;
        let org = c.holder.organization_id.unwrap();
        // The application that earned the certificate carried these facts.
        let db = app.store_for_tests();
        let mut row = zizhi_store::cases::get(db, c.cert.case_id)
            .await
            .unwrap()
            .unwrap();
        row.profile = PROFILE.to_string();
        let mut tx = db.begin().await.unwrap();
        zizhi_store::cases::update(&mut tx, &row).await.unwrap();
        tx.commit().await.unwrap();

        app.clock
            .set_today(zizhi_domain::calendar::parse_date("2026-05-20").unwrap());
        let m = app.create_case(&c.holder, 2, "maintenance").await.unwrap();
        let facts: serde_json::Value = serde_json::from_str(&m.profile).unwrap();
        assert_eq!(facts["kind"], "maintenance");
        assert_eq!(facts["as_of"], "2026-05-20");
        assert_eq!(facts["staff"]["dr_technical_staff"], 50);
        let held = facts["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["number"] == c.cert.number.as_str())
            .expect("the held certificate is in the facts");
        assert_eq!(held["registered"], true);
        assert_eq!(held["level"], 2);
        assert_eq!(held["valid_until"], c.cert.valid_until.as_str());

        let done = app.completeness(&c.holder, m.id).await.unwrap();
        for slot in ["maint-1", "maint-2", "maint-3"] {
            assert!(done.without_evidence.iter().any(|x| x == slot), "{slot}");
        }
        let slots = zizhi_app::cases::submission::maintenance_slots(
            zizhi_domain::fees::ApplicationKind::Maintenance,
            zizhi_domain::calendar::parse_date("2026-05-20").unwrap(),
        );
        assert_eq!(slots[0].from.to_string(), "2023-05-21");
        assert_eq!(slots[2].to.to_string(), "2026-05-20");
        assert_eq!(slots[1].to.to_string(), "2025-05-20");
        assert_eq!(slots[2].from.to_string(), "2025-05-21");

        let mut up = app.begin_evidence(&c.holder, org).await.unwrap();
        app.write_evidence(&mut up, b"2024 annual").await.unwrap();
        let ev = app
            .finish_evidence(&c.holder, org, up, "2024.pdf", None)
            .await
            .unwrap();
        app.link_case_evidence(&c.holder, m.id, "maint-2", ev.id)
            .await
            .unwrap();
        let done = app.completeness(&c.holder, m.id).await.unwrap();
        assert!(!done.without_evidence.iter().any(|x| x == "maint-2"));
        assert!(done.without_evidence.iter().any(|x| x == "maint-1"));

        // An initial application has no such slots.
        let i = app.create_case(&c.holder, 2, "initial").await.unwrap();
        assert_eq!(i.profile, "{}");
        let e = app
            .link_case_evidence(&c.holder, i.id, "maint-1", ev.id)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), "requirement_id");
        link_in_db(&app, i.id, "3.1.1", ev.id, &c.holder).await;
        let done = app.completeness(&c.holder, i.id).await.unwrap();
        assert!(
            !done
                .without_evidence
                .iter()
                .any(|x| x.starts_with("maint-"))
        );

        // Another organisation holds nothing: its maintenance application starts empty.
        let other = app
            .create_case(&c.stranger, 2, "maintenance")
            .await
            .unwrap();
        assert_eq!(other.profile, "{}");
    }
}
