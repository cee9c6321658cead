//! Store tests, run on SQLite always and on PostgreSQL when `ZIZHI_TEST_POSTGRES_URL` is set
//! (each run in a fresh schema).

use serde_json::json;
use zizhi_store::audit::{self, NewEvent};
use zizhi_store::{Db, StoreError, organizations, users};

/// Every backend available to this test run, freshly migrated.
async fn backends() -> Vec<Db> {
    zizhi_testkit::backends("zizhi_store")
        .await
        .into_iter()
        .map(|b| b.db)
        .collect()
}

fn event(n: i64) -> NewEvent {
    NewEvent {
        actor_id: None,
        actor: "system".into(),
        action: "test.event".into(),
        object_type: "test".into(),
        object_id: n.to_string(),
        summary: json!({"n": n, "名称": "测试"}),
    }
}

#[test]
fn both_backends_have_the_same_migration_versions() {
    let (sqlite, pg) = zizhi_store::migration_versions();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, pg);
}

#[tokio::test]
async fn the_audit_chain_links_every_event_and_verifies() {
    for db in backends().await {
        let v = audit::verify(&db).await.unwrap();
        assert_eq!((v.events, v.head, v.first_break), (0, None, None));
        let mut last = String::new();
        for n in 1..=5 {
            let mut tx = db.begin().await.unwrap();
            let e = audit::append(&mut tx, event(n)).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(e.seq, n);
            if n == 1 {
                assert_eq!(e.prev_hash, audit::GENESIS);
            } else {
                assert_eq!(e.prev_hash, last);
            }
            last = e.hash;
        }
        let v = audit::verify(&db).await.unwrap();
        assert_eq!(v.events, 5, "{}", db.backend());
        assert_eq!(v.head.as_deref(), Some(last.as_str()));
        assert_eq!(v.first_break, None);
        let page = audit::list(&db, None, 2).await.unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5, 4]);
    }
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_audit_events() {
    for db in backends().await {
        let mut tx = db.begin().await.unwrap();
        audit::append(&mut tx, event(1)).await.unwrap();
        tx.commit().await.unwrap();
        let upd = zizhi_store::on_pool!(&db, p => sqlx::query("UPDATE audit_event SET actor = 'mallory'").execute(p).await.map(|_| ()));
        assert!(
            upd.unwrap_err().to_string().contains("append-only"),
            "{}",
            db.backend()
        );
        let del = zizhi_store::on_pool!(&db, p => sqlx::query("DELETE FROM audit_event").execute(p).await.map(|_| ()));
        assert!(
            del.unwrap_err().to_string().contains("append-only"),
            "{}",
            db.backend()
        );
    }
}

#[tokio::test]
async fn verification_reports_the_first_tampered_event() {
    for db in backends().await {
        for n in 1..=4 {
            let mut tx = db.begin().await.unwrap();
            audit::append(&mut tx, event(n)).await.unwrap();
            tx.commit().await.unwrap();
        }
        // A DBA bypasses the trigger and rewrites event 3.
        match &db {
            Db::Sqlite(p) => {
                sqlx::query("DROP TRIGGER audit_event_no_update")
                    .execute(p)
                    .await
                    .unwrap();
                sqlx::query("UPDATE audit_event SET summary = '{\"n\":33}' WHERE seq = 3")
                    .execute(p)
                    .await
                    .unwrap();
            }
            Db::Pg(p) => {
                sqlx::query("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update")
                    .execute(p)
                    .await
                    .unwrap();
                sqlx::query("UPDATE audit_event SET summary = '{\"n\":33}' WHERE seq = 3")
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
        let v = audit::verify(&db).await.unwrap();
        let (seq, why) = v.first_break.expect("tampering is detected");
        assert_eq!(seq, 3, "{}", db.backend());
        assert!(why.contains("does not match its hash"), "{why}");
        assert_eq!(v.events, 2);
    }
}

#[tokio::test]
async fn a_rolled_back_change_leaves_neither_the_change_nor_its_event() {
    for db in backends().await {
        let mut tx = db.begin().await.unwrap();
        organizations::insert(&mut tx, "91350100M000100Y43", "示例")
            .await
            .unwrap();
        audit::append(&mut tx, event(1)).await.unwrap();
        drop(tx); // rolled back
        assert!(organizations::list(&db).await.unwrap().is_empty());
        assert_eq!(audit::verify(&db).await.unwrap().events, 0);
    }
}

#[tokio::test]
async fn concurrent_appends_keep_one_unbroken_chain() {
    for db in backends().await {
        let mut tasks = Vec::new();
        for n in 0..16 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = db.begin().await.unwrap();
                audit::append(&mut tx, event(n)).await.unwrap();
                tx.commit().await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let v = audit::verify(&db).await.unwrap();
        assert_eq!(v.events, 16, "{}", db.backend());
        assert_eq!(v.first_break, None);
    }
}

#[tokio::test]
async fn duplicates_are_reported_as_conflicts_naming_the_field() {
    for db in backends().await {
        let mut tx = db.begin().await.unwrap();
        let org = organizations::insert(&mut tx, "91350100M000100Y43", "示例")
            .await
            .unwrap();
        let e = organizations::insert(&mut tx, "91350100M000100Y43", "again")
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Conflict(ref f) if f == "organization.uscc"),
            "{e}"
        );
        drop(tx);
        let mut tx = db.begin().await.unwrap();
        let org2 = organizations::insert(&mut tx, "91350100M000100Y43", "示例")
            .await
            .unwrap();
        assert!(org2.id >= org.id);
        let nu = users::NewUser {
            username: "alice",
            display_name: "爱丽丝",
            email: "alice@example.test",
            role: "applicant",
            organization_id: Some(org2.id),
            password_hash: "x",
            must_change_password: false,
            sign_in: "password",
        };
        let u = users::insert(&mut tx, &nu).await.unwrap();
        assert!(!u.must_change_password && !u.disabled);
        assert!(matches!(
            users::insert(&mut tx, &nu).await.unwrap_err(),
            StoreError::Conflict(_)
        ));
        drop(tx);
    }
}
