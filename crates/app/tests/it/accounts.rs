//! Account use cases on SQLite and (with ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use zizhi_app::accounts::NewUserInput;
use zizhi_app::{App, AppConfig, AppError, totp};

async fn apps() -> Vec<App> {
    let mut out = Vec::new();
    for b in zizhi_testkit::backends("zizhi_app").await {
        let files = zizhi_store::files::FileStore::open(&b.dir.join("evidence"))
            .await
            .unwrap();
        out.push(App::new(b.db, files, AppConfig::default()));
    }
    out
}

fn staff(username: &str, role: &str) -> NewUserInput {
    NewUserInput {
        username: username.into(),
        display_name: "测试".into(),
        email: format!("{username}@example.test"),
        role: role.into(),
        organization_id: None,
        password: Some("a long password".into()),
    }
}

#[tokio::test]
async fn the_first_start_creates_one_administrator_with_a_one_time_password() {
    for app in apps().await {
        let (name, password) = app.bootstrap_admin().await.unwrap().expect("created");
        assert_eq!(name, "admin");
        assert!(app.bootstrap_admin().await.unwrap().is_none(), "only once");
        let s = app.login("admin", &password, None).await.unwrap();
        assert_eq!(s.actor.role, zizhi_domain::roles::Role::Administrator);
        assert!(s.actor.must_change_password);
        // Nothing else before the one-time password is changed (issue 9).
        assert!(matches!(
            app.list_users(&s.actor).await,
            Err(AppError::Forbidden)
        ));
        app.change_password(
            &s.actor,
            &password,
            "the administrator's own",
            Some(&s.token),
        )
        .await
        .unwrap();
        let (actor, _, _) = app.session(&s.token).await.unwrap().unwrap();
        assert!(!actor.must_change_password);
        let users = app.list_users(&actor).await.unwrap();
        assert!(!users[0].must_change_password);
        let v = app.verify_audit(None).await.unwrap();
        assert_eq!(v.events, 3, "user.create, user.login, user.change_password");
        assert_eq!(v.first_break, None);
    }
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_against_the_right_one() {
    for app in apps().await {
        app.create_user(None, staff("lead", "project_lead"))
            .await
            .unwrap();
        for _ in 0..4 {
            assert!(matches!(
                app.login("lead", "wrong password", None).await,
                Err(AppError::Unauthenticated)
            ));
        }
        assert!(matches!(
            app.login("lead", "wrong password", None).await,
            Err(AppError::Locked { .. })
        ));
        assert!(matches!(
            app.login("lead", "a long password", None).await,
            Err(AppError::Locked { .. })
        ));
        let log = app.verify_audit(None).await.unwrap();
        assert_eq!(log.events, 6, "create + five failures");
    }
}

#[tokio::test]
async fn unknown_users_and_disabled_accounts_cannot_sign_in() {
    for app in apps().await {
        assert!(matches!(
            app.login("nobody", "whatever123", None).await,
            Err(AppError::Unauthenticated)
        ));
        let (admin, _) = app
            .create_user(None, staff("root", "administrator"))
            .await
            .unwrap();
        let (u, _) = app
            .create_user(None, staff("sup", "supervisor"))
            .await
            .unwrap();
        let s = app.login("root", "a long password", None).await.unwrap();
        app.set_disabled(&s.actor, u.id, true).await.unwrap();
        assert!(matches!(
            app.login("sup", "a long password", None).await,
            Err(AppError::Unauthenticated)
        ));
        assert!(
            app.set_disabled(&s.actor, admin.id, true).await.is_err(),
            "not yourself"
        );
    }
}

#[tokio::test]
async fn a_user_with_totp_needs_the_code_to_sign_in() {
    for app in apps().await {
        app.create_user(None, staff("exp", "expert")).await.unwrap();
        let s = app.login("exp", "a long password", None).await.unwrap();
        let (secret, uri) = app.new_totp_secret(&s.actor);
        assert!(uri.contains(&secret));
        let key = totp::base32_decode(&secret).unwrap();
        let code = totp::code_at(&key, totp::now_unix() / 30);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert!(app.confirm_totp(&s.actor, &secret, wrong).await.is_err());
        app.confirm_totp(&s.actor, &secret, &code).await.unwrap();
        assert!(matches!(
            app.login("exp", "a long password", None).await,
            Err(AppError::TotpRequired)
        ));
        assert!(matches!(
            app.login("exp", "a long password", Some("12345x")).await,
            Err(AppError::Invalid { .. })
        ));
        let code = totp::code_at(&key, totp::now_unix() / 30);
        app.login("exp", "a long password", Some(&code))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn applicants_belong_to_a_registered_organisation_with_a_valid_uscc() {
    for app in apps().await {
        let e = app
            .create_organization(None, "91350100M000100Y44", "坏")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid { ref field, .. } if field == "uscc"));
        let org = app
            .create_organization(None, "９１３５０１００Ｍ０００１００Ｙ４３", "示例灾备")
            .await
            .unwrap();
        assert_eq!(org.uscc, "91350100M000100Y43");
        assert!(matches!(
            app.create_organization(None, "91350100M000100Y43", "again")
                .await
                .unwrap_err(),
            AppError::Conflict { .. }
        ));
        let mut a = staff("app1", "applicant");
        assert!(
            matches!(app.create_user(None, a.clone()).await.unwrap_err(), AppError::Invalid { ref field, .. } if field == "organization_id")
        );
        a.organization_id = Some(org.id);
        let (u, pw) = app
            .create_user(
                None,
                NewUserInput {
                    password: None,
                    ..a
                },
            )
            .await
            .unwrap();
        assert!(u.must_change_password);
        let pw = pw.unwrap();
        let s = app.login("app1", &pw, None).await.unwrap();
        app.change_password(&s.actor, &pw, "the applicant's own", Some(&s.token))
            .await
            .unwrap();
        let (actor, _, _) = app.session(&s.token).await.unwrap().unwrap();
        let s = zizhi_app::accounts::NewSession { actor, ..s };
        assert!(app.organization(&s.actor, org.id).await.is_ok());
        assert!(matches!(
            app.organization(&s.actor, org.id + 1).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.list_users(&s.actor).await,
            Err(AppError::Forbidden)
        ));
    }
}

#[tokio::test]
async fn sessions_end_on_logout_and_on_password_reset() {
    for app in apps().await {
        app.create_user(None, staff("reg", "registrar"))
            .await
            .unwrap();
        let s = app.login("reg", "a long password", None).await.unwrap();
        assert!(app.session(&s.token).await.unwrap().is_some());
        let s2 = app.login("reg", "a long password", None).await.unwrap();
        assert_ne!(s.token, s2.token, "a new session id at every sign-in");
        app.logout(&s.actor, &s.token).await.unwrap();
        assert!(app.session(&s.token).await.unwrap().is_none());
        let pw = app.reset_password(None, "reg").await.unwrap();
        assert!(app.session(&s2.token).await.unwrap().is_none());
        app.login("reg", &pw, None).await.unwrap();
        assert_eq!(app.verify_audit(None).await.unwrap().first_break, None);
    }
}

/// Issue 9: an API token dies with a password change, a reset or disabling (and re-enabling
/// brings none back); signing out with a token ends that token; changing one's own password ends
/// the other sessions but not the one that made the change.
#[tokio::test]
async fn tokens_and_other_sessions_end_with_the_password() {
    for app in apps().await {
        app.create_user(None, staff("adm", "administrator"))
            .await
            .unwrap();
        app.create_user(None, staff("lead", "project_lead"))
            .await
            .unwrap();
        let admin = app
            .login("adm", "a long password", None)
            .await
            .unwrap()
            .actor;
        let here = app.login("lead", "a long password", None).await.unwrap();
        let there = app.login("lead", "a long password", None).await.unwrap();
        let lead = here.actor.clone();
        let token = app.create_api_token(&lead, "ci", 30).await.unwrap();
        assert!(app.api_actor(&token).await.unwrap().is_some());
        // Own password change: the other session and the token end, this session stays.
        app.change_password(
            &lead,
            "a long password",
            "another long password",
            Some(&here.token),
        )
        .await
        .unwrap();
        assert!(app.session(&here.token).await.unwrap().is_some());
        assert!(app.session(&there.token).await.unwrap().is_none());
        assert!(app.api_actor(&token).await.unwrap().is_none());
        // Signing out with a token ends that token.
        let t2 = app.create_api_token(&lead, "ci2", 30).await.unwrap();
        app.logout(&lead, &t2).await.unwrap();
        assert!(app.api_actor(&t2).await.unwrap().is_none());
        // A reset by the administrator ends everything.
        let t3 = app.create_api_token(&lead, "ci3", 30).await.unwrap();
        app.reset_password(Some(&admin), "lead").await.unwrap();
        assert!(app.api_actor(&t3).await.unwrap().is_none());
        assert!(app.session(&here.token).await.unwrap().is_none());
        // Disabling ends tokens too, and enabling again brings none back.
        let pw = app.reset_password(Some(&admin), "lead").await.unwrap();
        let again = app.login("lead", &pw, None).await.unwrap();
        let t4 = app.create_api_token(&again.actor, "ci4", 30).await.unwrap();
        app.set_disabled(&admin, lead.user_id, true).await.unwrap();
        app.set_disabled(&admin, lead.user_id, false).await.unwrap();
        assert!(app.api_actor(&t4).await.unwrap().is_none());
        assert!(app.session(&again.token).await.unwrap().is_none());
    }
}

/// Issue 9: a one-time code is accepted once, and wrong codes count toward the lock-out (the
/// right password alone cannot be used to guess the second factor).
#[tokio::test]
async fn second_factor_codes_are_used_once_and_guessing_locks() {
    for app in apps().await {
        app.create_user(None, staff("exp", "expert")).await.unwrap();
        let s = app.login("exp", "a long password", None).await.unwrap();
        let (secret, _) = app.new_totp_secret(&s.actor);
        let key = totp::base32_decode(&secret).unwrap();
        let now = totp::now_unix() / 30;
        app.confirm_totp(&s.actor, &secret, &totp::code_at(&key, now))
            .await
            .unwrap();
        // The code of the next step (accepted within the window), then the same code again.
        let code = totp::code_at(&key, now + 1);
        app.login("exp", "a long password", Some(&code))
            .await
            .unwrap();
        let again = app
            .login("exp", "a long password", Some(&code))
            .await
            .unwrap_err();
        assert!(
            matches!(again, AppError::Invalid { ref field, .. } if field == "totp"),
            "{again:?}"
        );
        // An earlier step's code is refused too once a later one was used.
        assert!(
            app.login("exp", "a long password", Some(&totp::code_at(&key, now)))
                .await
                .is_err()
        );
        // Wrong codes with the right password lock the account at the threshold (5).
        let wrong = |i: u64| {
            let c = totp::code_at(&key, now + 1000 + i);
            if [now.saturating_sub(1), now, now + 1]
                .iter()
                .any(|s| totp::code_at(&key, *s) == c)
            {
                "000000".to_string()
            } else {
                c
            }
        };
        let mut locked = false;
        for i in 0..5 {
            if let Err(AppError::Locked { .. }) =
                app.login("exp", "a long password", Some(&wrong(i))).await
            {
                locked = true;
            }
        }
        assert!(locked, "guessing the code locks the account");
        assert!(matches!(
            app.login(
                "exp",
                "a long password",
                Some(&totp::code_at(&key, now + 1))
            )
            .await,
            Err(AppError::Locked { .. })
        ));
    }
}

/// Issue 9: a session has an absolute lifetime besides its idle timeout (a centre setting,
/// default 12 hours): past it, however active, it is over.
#[tokio::test]
async fn a_session_ends_after_its_absolute_lifetime() {
    for b in zizhi_testkit::backends("zizhi_abs").await {
        let files = zizhi_store::files::FileStore::open(&b.dir.join("evidence"))
            .await
            .unwrap();
        let app = App::new(
            b.db,
            files,
            AppConfig {
                session_absolute_seconds: 0,
                ..AppConfig::default()
            },
        );
        app.create_user(None, staff("lead", "project_lead"))
            .await
            .unwrap();
        let s = app.login("lead", "a long password", None).await.unwrap();
        assert!(
            app.session(&s.token).await.unwrap().is_none(),
            "a lifetime of 0 ends the session at once"
        );
        assert_eq!(AppConfig::default().session_absolute_seconds, 12 * 3600);
    }
    for app in apps().await {
        app.create_user(None, staff("lead", "project_lead"))
            .await
            .unwrap();
        let s = app.login("lead", "a long password", None).await.unwrap();
        assert!(app.session(&s.token).await.unwrap().is_some());
    }
}

/// Issue 9: names and texts are bounded, the field named (a 900 KB name was accepted).
#[tokio::test]
async fn names_and_texts_have_length_limits() {
    use zizhi_app::limits::NAME;
    for app in apps().await {
        let long = "名".repeat(NAME + 1);
        let e = app
            .create_organization(None, "91350100M000100Y43", &long)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field == "name"),
            "{e:?}"
        );
        let at_limit = "名".repeat(NAME);
        app.create_organization(None, "91350100M000100Y43", &at_limit)
            .await
            .unwrap();
        let mut u = staff("lead", "project_lead");
        u.display_name = "x".repeat(900_000);
        let e = app.create_user(None, u).await.unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field == "display_name"),
            "{e:?}"
        );
        app.create_user(None, staff("lead", "project_lead"))
            .await
            .unwrap();
        let lead = app
            .login("lead", "a long password", None)
            .await
            .unwrap()
            .actor;
        let e = app
            .create_api_token(&lead, &"t".repeat(NAME + 1), 30)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid { ref field, .. } if field == "label"),
            "{e:?}"
        );
    }
}
