//! 单位注册 (issue 13): an applicant company registers itself, confirms its address through a
//! single-use link, and applies only once an administrator approved it. SQLite and (with
//! ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use crate::without_staff_second_factor;
use zizhi_app::accounts::NewUserInput;
use zizhi_app::registration::Registration;
use zizhi_app::{App, AppError};
use zizhi_store::Db;

async fn apps() -> Vec<App> {
    let mut out = Vec::new();
    for b in zizhi_testkit::backends("zizhi_reg").await {
        let files = zizhi_store::files::FileStore::open(&b.dir.join("evidence"))
            .await
            .unwrap();
        out.push(App::new(b.db, files, without_staff_second_factor()));
    }
    out
}

fn uscc(base17: &str) -> String {
    format!(
        "{base17}{}",
        zizhi_domain::uscc::check_char(base17).unwrap()
    )
}

fn form(uscc: &str, username: &str) -> Registration {
    Registration {
        name: "北京灾备服务有限公司".into(),
        uscc: uscc.into(),
        address: "北京市海淀区上地西路 8 号".into(),
        legal_representative: "王五".into(),
        contact_person: "赵六".into(),
        contact_phone: "010-12345678".into(),
        contact_email: format!("{username}@zaibei.example"),
        username: username.into(),
        password: "a long enough secret".into(),
        again: "a long enough secret".into(),
        pledge: Some("1".into()),
    }
}

/// The token of the newest mail to `to` whose subject contains `subject`, after `marker`.
async fn token_in_mail(app: &App, to: &str, subject: &str, marker: &str) -> Option<String> {
    let mails = zizhi_store::outbox::for_recipient(app.store_for_tests(), to, 20)
        .await
        .unwrap();
    let m = mails.iter().find(|m| m.subject.contains(subject))?;
    let at = m.body.find(marker)? + marker.len();
    Some(
        m.body[at..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect(),
    )
}

/// A member of the centre's staff with this username and role, as the actor.
async fn staff(app: &App, username: &str, role: &str) -> zizhi_app::Actor {
    let (u, _) = app
        .create_user(
            None,
            NewUserInput {
                username: username.into(),
                display_name: "测评中心人员".into(),
                email: format!("{username}@centre.example"),
                role: role.into(),
                organization_id: None,
                password: Some("a long password".into()),
            },
        )
        .await
        .unwrap();
    app.actor_for(&u).unwrap()
}

async fn mails_to(app: &App, to: &str) -> Vec<zizhi_store::outbox::Sent> {
    zizhi_store::outbox::for_recipient(app.store_for_tests(), to, 50)
        .await
        .unwrap()
}

async fn exec(db: &Db, sql: &str, v: i64) {
    match db {
        Db::Sqlite(p, _) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .bind(v)
                .execute(p)
                .await
                .unwrap();
        }
        Db::Pg(p, _) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .bind(v)
                .execute(p)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn every_problem_of_a_registration_is_named_at_once() {
    for app in apps().await {
        let good = uscc("91110108MA0000001");
        let mut bad_check = good.clone();
        let last = bad_check.pop().unwrap();
        bad_check.push(if last == '0' { '1' } else { '0' });
        let f = Registration {
            uscc: bad_check,
            address: "  ".into(),
            contact_email: "not an address".into(),
            username: "x".into(),
            password: "short".into(),
            again: "other".into(),
            pledge: None,
            ..form(&good, "zaibei")
        };
        let problems = app.registration_problems(&f).await.unwrap();
        let mut fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "address",
                "again",
                "contact_email",
                "password",
                "pledge",
                "uscc",
                "username"
            ]
        );
        // In words, never an internal path.
        for (_, t) in &problems {
            assert!(!t.zh.contains("profile.") && !t.zh.is_empty(), "{}", t.zh);
        }
        let uscc_problem = &problems.iter().find(|(f, _)| f == "uscc").unwrap().1;
        assert!(uscc_problem.zh.contains("校验"), "{}", uscc_problem.zh);
        // Nothing was saved.
        assert!(
            app.register_organization(&f).await.is_err(),
            "a bad registration is refused"
        );
        assert!(
            zizhi_store::organizations::by_uscc(app.store_for_tests(), &good)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            app.registration_problems(&form(&good, "zaibei"))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_registered_organisation_confirms_its_address_and_applies_once_approved() {
    for app in apps().await {
        let db = app.store_for_tests().clone();
        let admin = staff(&app, "root", "administrator").await;
        let registrar = staff(&app, "registrar", "registrar").await;

        let code = uscc("91110108MA0000002");
        let (org, user) = app
            .register_organization(&form(&code, "zaibei"))
            .await
            .unwrap();
        assert_eq!(org.registration, "pending");
        assert!(!user.email_confirmed);
        assert_eq!(user.email, "zaibei@zaibei.example");
        assert_eq!(user.display_name, "赵六");
        // The 申请书 facts are the organisation's.
        assert_eq!(org.contact_email, "zaibei@zaibei.example");
        assert_eq!(org.legal_representative, "王五");
        // The USCC and the username are taken now.
        let again = app
            .registration_problems(&form(&code, "zaibei"))
            .await
            .unwrap();
        let fields: Vec<&str> = again.iter().map(|(f, _)| f.as_str()).collect();
        assert!(
            fields.contains(&"uscc") && fields.contains(&"username"),
            "{fields:?}"
        );

        // The link lasts a day; only its hash is stored.
        let first = token_in_mail(&app, &user.email, "确认电子邮箱", "/register/confirm/")
            .await
            .expect("a confirmation mail");
        assert_eq!(first.len(), 64);
        let (created, expires): (i64, i64) = match &db {
            Db::Sqlite(p, _) => sqlx::query_as(
                "SELECT created_us, expires_us FROM email_confirmation WHERE used_us IS NULL",
            )
            .fetch_one(p)
            .await
            .unwrap(),
            Db::Pg(p, _) => sqlx::query_as(
                "SELECT created_us, expires_us FROM email_confirmation WHERE used_us IS NULL",
            )
            .fetch_one(p)
            .await
            .unwrap(),
        };
        assert_eq!(expires - created, 24 * 3_600_000_000);
        assert!(app.confirmation_link_valid(&first).await.unwrap());
        // A confirmation link is no reset link.
        assert!(
            app.reset_password_with_link(&first, "another long password")
                .await
                .is_err()
        );

        // Not confirmed: signing in with the right password sends a fresh link and says so;
        // a wrong password stays the vague answer.
        assert!(matches!(
            app.login("zaibei", "wrong password here", None).await,
            Err(AppError::Unauthenticated)
        ));
        match app.login("zaibei", "a long enough secret", None).await {
            Err(AppError::Invalid { field, problem }) => {
                assert_eq!(field, "username");
                assert!(
                    problem.zh.contains("zaibei@zaibei.example"),
                    "{}",
                    problem.zh
                );
            }
            other => panic!("{other:?}"),
        }
        let second = token_in_mail(&app, &user.email, "确认电子邮箱", "/register/confirm/")
            .await
            .unwrap();
        assert_ne!(first, second);
        assert!(!app.confirmation_link_valid(&first).await.unwrap());

        // Before confirmation the administrator cannot approve.
        assert!(matches!(
            app.decide_registration(&admin, org.id, true, "").await,
            Err(AppError::Invalid { ref field, .. }) if field == "registration"
        ));
        // An expired link does not work (the boundary: expiring now is expired).
        exec(
            &db,
            "UPDATE email_confirmation SET expires_us = $1 WHERE used_us IS NULL",
            zizhi_store::now_us(),
        )
        .await;
        assert!(!app.confirmation_link_valid(&second).await.unwrap());
        assert!(matches!(
            app.confirm_email(&second).await,
            Err(AppError::Invalid { ref field, .. }) if field == "token"
        ));
        assert!(
            app.login("zaibei", "a long enough secret", None)
                .await
                .is_err()
        );
        let third = token_in_mail(&app, &user.email, "确认电子邮箱", "/register/confirm/")
            .await
            .unwrap();
        let confirmed = app.confirm_email(&third).await.unwrap();
        assert!(confirmed.email_confirmed);
        // Once only.
        assert!(app.confirm_email(&third).await.is_err());
        // The administrators hear of it.
        assert!(
            mails_to(&app, "root@centre.example")
                .await
                .iter()
                .any(|m| m.subject.contains("单位注册待审核")
                    && m.body.contains(&format!("/organizations/{}", org.id)))
        );

        // Signed in, but no application before approval.
        let s = app
            .login("zaibei", "a long enough secret", None)
            .await
            .unwrap();
        let applicant = s.actor.clone();
        match app.create_case(&applicant, 2, "initial").await {
            Err(AppError::Invalid { field, problem }) => {
                assert_eq!(field, "organization");
                assert!(problem.zh.contains("等待测评中心审核"), "{}", problem.zh);
            }
            other => panic!("{other:?}"),
        }

        // Only an administrator decides.
        for who in [&registrar, &applicant] {
            assert!(matches!(
                app.decide_registration(who, org.id, true, "").await,
                Err(AppError::Forbidden)
            ));
        }
        // A rejection needs its reason, which reaches the organisation.
        assert!(matches!(
            app.decide_registration(&admin, org.id, false, "  ").await,
            Err(AppError::Invalid { ref field, .. }) if field == "note"
        ));
        let rejected = app
            .decide_registration(&admin, org.id, false, "注册地址与营业执照不一致")
            .await
            .unwrap();
        assert_eq!(rejected.registration, "rejected");
        assert!(
            mails_to(&app, "zaibei@zaibei.example")
                .await
                .iter()
                .any(|m| m.subject.contains("未通过审核")
                    && m.body.contains("注册地址与营业执照不一致"))
        );
        match app.create_case(&applicant, 2, "initial").await {
            Err(AppError::Invalid { problem, .. }) => {
                assert!(
                    problem.zh.contains("注册地址与营业执照不一致"),
                    "{}",
                    problem.zh
                )
            }
            other => panic!("{other:?}"),
        }
        // Not twice.
        assert!(matches!(
            app.decide_registration(&admin, org.id, false, "again")
                .await,
            Err(AppError::WrongStage { .. })
        ));
        // The applicant corrects and asks again; another organisation's applicant cannot.
        assert!(matches!(
            app.resubmit_registration(&registrar).await,
            Err(AppError::Forbidden)
        ));
        let back = app.resubmit_registration(&applicant).await.unwrap();
        assert_eq!(back.registration, "pending");
        assert!(matches!(
            app.resubmit_registration(&applicant).await,
            Err(AppError::WrongStage { .. })
        ));
        let approved = app
            .decide_registration(&admin, org.id, true, "")
            .await
            .unwrap();
        assert_eq!(approved.registration, "approved");
        assert!(
            mails_to(&app, "zaibei@zaibei.example")
                .await
                .iter()
                .any(|m| m.subject.contains("已通过审核"))
        );
        // Now it applies.
        app.create_case(&applicant, 2, "initial").await.unwrap();
        // Approved is final here.
        assert!(matches!(
            app.decide_registration(&admin, org.id, false, "late").await,
            Err(AppError::WrongStage { .. })
        ));

        // Every step is in the audit chain, which still verifies.
        let events = app
            .audit_log(&admin, None, 500)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect::<Vec<_>>();
        for a in [
            "organization.register",
            "user.confirmation_sent",
            "user.email_confirmed",
            "organization.reject",
            "organization.resubmit",
            "organization.approve",
        ] {
            assert!(events.iter().any(|e| e == a), "{a} missing");
        }
        assert!(
            app.verify_audit(Some(&admin))
                .await
                .unwrap()
                .first_break
                .is_none()
        );
    }
}

/// Organisations the centre registers itself are approved, and apply at once.
#[tokio::test]
async fn organisations_the_centre_registers_are_approved() {
    for app in apps().await {
        let o = app
            .create_organization(None, &uscc("91110108MA0000003"), "中心登记的单位")
            .await
            .unwrap();
        assert_eq!(o.registration, "approved");
    }
}

/// A registration whose address was never confirmed lapses when its link expires (24 hours):
/// until then its USCC is taken; from then another registration of the USCC replaces it, the
/// old account going too, and the audit chain records what went. A confirmed one never lapses.
#[tokio::test]
async fn an_unconfirmed_registration_lapses_with_its_link() {
    for app in apps().await {
        let db = app.store_for_tests().clone();
        let code = uscc("91110108MA0000004");
        let (org, user) = app
            .register_organization(&form(&code, "squatter"))
            .await
            .unwrap();
        let age = |hours_ago: i64, minus_us: i64| {
            zizhi_store::now_us() - hours_ago * 3_600_000_000 + minus_us
        };
        let other = Registration {
            contact_email: "owner@zaibei.example".into(),
            ..form(&code, "owner")
        };
        // One minute short of a day: still taken.
        exec(
            &db,
            &format!(
                "UPDATE organization SET created_us = $1 WHERE id = {}",
                org.id
            ),
            age(24, 60_000_000),
        )
        .await;
        let p = app.registration_problems(&other).await.unwrap();
        assert!(p.iter().any(|(f, _)| f == "uscc"), "{p:?}");
        // A day past: it lapsed; the rightful owner registers (and may even take the username).
        exec(
            &db,
            &format!(
                "UPDATE organization SET created_us = $1 WHERE id = {}",
                org.id
            ),
            age(24, -1_000_000),
        )
        .await;
        let owner = Registration {
            username: "squatter".into(),
            ..other.clone()
        };
        assert!(app.registration_problems(&owner).await.unwrap().is_empty());
        let (new_org, new_user) = app.register_organization(&owner).await.unwrap();
        assert_ne!(new_org.id, org.id);
        assert_eq!(new_user.email, "owner@zaibei.example");
        // The old rows stay (nothing the audit chain names is reused), lapsed and disabled.
        let old_user = zizhi_store::users::by_id(&db, user.id)
            .await
            .unwrap()
            .unwrap();
        assert!(old_user.disabled && old_user.username != "squatter");
        let old_org = zizhi_store::organizations::get(&db, org.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(old_org.registration, "lapsed");
        assert_ne!(old_org.uscc, code);
        let admin = staff(&app, "root", "administrator").await;
        let events = app.audit_log(&admin, None, 500).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.action == "organization.registration_lapsed"
                    && e.summary.to_string().contains(&code))
        );
        assert!(
            app.verify_audit(Some(&admin))
                .await
                .unwrap()
                .first_break
                .is_none()
        );
        // Confirmed, a registration does not lapse however old.
        let token = token_in_mail(
            &app,
            "owner@zaibei.example",
            "确认电子邮箱",
            "/register/confirm/",
        )
        .await
        .unwrap();
        app.confirm_email(&token).await.unwrap();
        exec(
            &db,
            &format!(
                "UPDATE organization SET created_us = $1 WHERE id = {}",
                new_org.id
            ),
            age(24 * 30, 0),
        )
        .await;
        let third = Registration {
            contact_email: "third@zaibei.example".into(),
            ..form(&code, "third")
        };
        let p = app.registration_problems(&third).await.unwrap();
        assert!(p.iter().any(|(f, _)| f == "uscc"), "{p:?}");
    }
}
