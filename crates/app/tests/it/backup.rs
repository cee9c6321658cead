//! Backup and restore (issue 12): a backup taken while a workload writes restores into an
//! empty database and evidence store with the same rows per table, the same audit head, an
//! intact chain and every object hashing to its name; a second backup copies only new
//! objects; a changed database file or object is caught. On SQLite and (with
//! ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use zizhi_app::App;
use zizhi_app::backup::{Place, fetch_backup, read_backup, restore_database, restore_pg_into};
use zizhi_store::Db;
use zizhi_store::files::FileStore;

use super::cases::{PROFILE, people};

/// A valid USCC from its first 17 characters.
fn uscc(first17: &str) -> String {
    format!(
        "{first17}{}",
        zizhi_domain::uscc::check_char(first17).unwrap()
    )
}

/// Restores the backup at `from` into a fresh database and evidence store beside `base`.
async fn restore(backend: &str, from: &std::path::Path, base: &std::path::Path) -> App {
    let m = read_backup(from).await.unwrap();
    let dir = base.join(format!("restored-{}", zizhi_testkit::unique("r")));
    let db = if backend == "sqlite" {
        restore_database(
            from,
            &m,
            &format!("sqlite:{}", dir.join("zizhi.db").display()),
        )
        .await
        .unwrap()
    } else {
        let url = std::env::var("ZIZHI_TEST_POSTGRES_URL").unwrap();
        let db = Db::connect_pg_schema(&url, &zizhi_testkit::unique("restored"))
            .await
            .unwrap();
        restore_pg_into(&db, from, &m).await.unwrap();
        db
    };
    let files = FileStore::open(&dir.join("evidence")).await.unwrap();
    App::new(db, files, super::without_staff_second_factor())
}

#[tokio::test]
async fn a_backup_taken_under_writes_restores_identically_and_tampering_is_caught() {
    for b in zizhi_testkit::backends("zizhi_backup").await {
        let files = FileStore::open(&b.dir.join("evidence")).await.unwrap();
        let app = App::new(b.db.clone(), files, super::without_staff_second_factor());
        let p = people(&app).await;
        let c = app.create_case(&p.applicant, 2, "initial").await.unwrap();
        app.save_case_profile(&p.applicant, c.id, serde_json::from_str(PROFILE).unwrap())
            .await
            .unwrap();
        let org = p.applicant.organization_id.unwrap();
        for (i, bytes) in [&b"first file"[..], b"second file"].iter().enumerate() {
            let mut up = app.begin_evidence(&p.applicant, org).await.unwrap();
            app.write_evidence(&mut up, bytes).await.unwrap();
            let ev = app
                .finish_evidence(&p.applicant, org, up, &format!("{i}.pdf"), None)
                .await
                .unwrap();
            app.link_case_evidence(&p.applicant, c.id, "3.1.1", ev.id)
                .await
                .unwrap();
        }

        // A workload writes (organisations, each with its audit event) during the backup.
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let app = app.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let u = uscc(&format!("91350100M{n:08}"));
                    let _ = app
                        .create_organization(None, &u, &format!("写入中 {n}"))
                        .await;
                    n += 1;
                }
                n
            })
        };
        let dir = b.dir.join("backup");
        let report = app.backup_to(&dir).await.unwrap();
        stop.store(true, Ordering::Relaxed);
        let written = writer.await.unwrap();
        assert!(written > 0, "the workload ran");
        assert_eq!(report.new_objects, 2);
        assert_eq!(report.manifest.backend, b.name);
        let snapshot_orgs = report.manifest.rows["organization"];
        assert!(snapshot_orgs >= 2);

        let restored = restore(b.name, &dir, &b.dir).await;
        let check = restored
            .restore_objects_and_check(&dir, &report.manifest)
            .await
            .unwrap();
        assert!(
            check.problems.is_empty(),
            "{}: {:?}",
            b.name,
            check.problems
        );
        assert_eq!(check.objects, 2);
        assert_eq!(
            Some(check.audit_events),
            report.manifest.audit_head.as_ref().map(|h| h.0),
            "the restored chain ends where the snapshot did"
        );
        let rows = zizhi_store::backup::row_counts(restored.store_for_tests())
            .await
            .unwrap();
        for (t, n) in &report.manifest.rows {
            assert_eq!(rows.get(t), Some(n), "{}: table {t}", b.name);
        }
        // The restored database takes new writes (identity sequences moved past the rows).
        restored
            .create_organization(None, "91110000600037341L", "恢复后新建")
            .await
            .unwrap_err(); // already there: the other organisation of `people`
        let fresh = uscc("91440300M99999999");
        restored
            .create_organization(None, &fresh, "恢复后新建")
            .await
            .unwrap();

        // Incremental: a second backup copies only what is new.
        let mut up = app.begin_evidence(&p.applicant, org).await.unwrap();
        app.write_evidence(&mut up, b"third file").await.unwrap();
        let ev = app
            .finish_evidence(&p.applicant, org, up, "2.pdf", None)
            .await
            .unwrap();
        let again = app.backup_to(&dir).await.unwrap();
        assert_eq!(again.new_objects, 1);

        // A changed object in the backup is caught at restore; a changed database file
        // before anything is restored.
        let obj = dir
            .join("objects")
            .join(&ev.sha256[..2])
            .join(&ev.sha256[2..4])
            .join(&ev.sha256);
        std::fs::write(&obj, b"not the third file").unwrap();
        let restored = restore(b.name, &dir, &b.dir).await;
        let check = restored
            .restore_objects_and_check(&dir, &again.manifest)
            .await
            .unwrap();
        assert!(
            check.problems.iter().any(|p| p.contains(&ev.sha256)),
            "{:?}",
            check.problems
        );
        let db_file = dir.join("db").join(&again.manifest.db_files[0].name);
        let mut bytes = std::fs::read(&db_file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&db_file, bytes).unwrap();
        let e = read_backup(&dir).await.unwrap_err();
        assert!(e.to_string().contains("SHA-256"), "{e}");
    }
}

/// 5.5, issue 14: a certificate restored from a backup still checks as signed — whether its
/// signed document is kept is on its own row (`sealed`, migration 0040), which the backup
/// carries and the restore's inserts of the seals keep (their triggers).
#[tokio::test]
async fn a_restored_certificate_still_checks_as_signed() {
    for b in zizhi_testkit::backends("zizhi_backup").await {
        let files = FileStore::open(&b.dir.join("evidence")).await.unwrap();
        let app = App::new(b.db.clone(), files, super::without_staff_second_factor());
        let cert = super::cases::demo_certificate(&app).await;
        let signed = |a: App, n: String| async move {
            a.verify_certificate(&n).await.unwrap().signature_valid
        };
        assert_eq!(signed(app.clone(), cert.number.clone()).await, Some(true));
        let dir = b.dir.join("backup");
        app.backup_to(&dir).await.unwrap();
        let restored = restore(b.name, &dir, &b.dir).await;
        assert_eq!(
            signed(restored, cert.number.clone()).await,
            Some(true),
            "{}: the restored certificate",
            b.name
        );
    }
}

/// A backup made by an earlier zizhi restores into this one, its migrations running forward.
/// The fixtures were made at schema 24 (`zizhi backup` of a data directory with one
/// organisation and its user); keep them when a migration is added — they are the previous
/// release's backups.
#[tokio::test]
async fn a_backup_of_the_previous_schema_restores_and_migrates_forward() {
    let fixtures = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("tests/fixtures");
    let base = zizhi_testkit::temp_dir("zizhi_fixture");
    let mut backends = vec!["sqlite"];
    if std::env::var("ZIZHI_TEST_POSTGRES_URL").is_ok() {
        backends.push("postgres");
    }
    for backend in backends {
        let from = fixtures.join(format!("backup-schema24-{backend}"));
        let m = read_backup(&from).await.unwrap();
        assert_eq!(m.schema_version, 24);
        let restored = restore(backend, &from, &base).await;
        let check = restored.restore_objects_and_check(&from, &m).await.unwrap();
        assert!(check.problems.is_empty(), "{backend}: {:?}", check.problems);
        let u = zizhi_store::users::by_username(restored.store_for_tests(), "fixture-holder")
            .await
            .unwrap()
            .expect("the fixture's user");
        assert_eq!(u.display_name, "夹具用户");
        // Migrated to this release's schema, and it works.
        restored.store_for_tests().migrate().await.unwrap();
        restored
            .login("fixture-holder", "a-long-password-2026", None)
            .await
            .unwrap();
    }
}

/// Issue 12: bytes stored without a row (a crash between storing and inserting) are removed
/// once old enough; young ones (another server's upload in flight) and referenced ones stay.
#[tokio::test]
async fn orphaned_objects_are_removed_and_nothing_referenced_is() {
    for app in super::cases::apps().await {
        let p = people(&app).await;
        let org = p.applicant.organization_id.unwrap();
        let mut up = app.begin_evidence(&p.applicant, org).await.unwrap();
        app.write_evidence(&mut up, b"kept").await.unwrap();
        let kept = app
            .finish_evidence(&p.applicant, org, up, "kept.pdf", None)
            .await
            .unwrap();
        // An upload whose row never came.
        let mut orphan = app.files.begin(1 << 20).await.unwrap();
        orphan.write(b"no row for me").await.unwrap();
        let orphan = orphan.finish().await.unwrap();
        assert!(app.files.exists(&orphan.sha256).await.unwrap());
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(
            app.remove_orphan_objects(hour).await.unwrap(),
            0,
            "too young"
        );
        assert!(app.files.exists(&orphan.sha256).await.unwrap());
        assert_eq!(
            app.remove_orphan_objects(std::time::Duration::ZERO)
                .await
                .unwrap(),
            1
        );
        assert!(!app.files.exists(&orphan.sha256).await.unwrap());
        assert!(app.files.exists(&kept.sha256).await.unwrap());
    }
}

/// A backup kept in a bucket of a real S3-compatible server (s3s-fs): a second backup copies
/// no object again and leaves one snapshot's database files; fetched and restored on each
/// backend, every check passes with the objects coming straight from the bucket.
#[tokio::test]
async fn a_backup_in_a_bucket_restores_identically() {
    let Some(s3) = zizhi_testkit::s3_server(&["sqlite", "postgres"]) else {
        return;
    };
    for b in zizhi_testkit::backends("zizhi_backup_s3").await {
        let files = FileStore::open(&b.dir.join("evidence")).await.unwrap();
        let app = App::new(b.db.clone(), files, super::without_staff_second_factor());
        let p = people(&app).await;
        let org = p.applicant.organization_id.unwrap();
        for bytes in [&b"first file"[..], b"second file"] {
            let mut up = app.begin_evidence(&p.applicant, org).await.unwrap();
            app.write_evidence(&mut up, bytes).await.unwrap();
            app.finish_evidence(&p.applicant, org, up, "x.pdf", None)
                .await
                .unwrap();
        }
        let bucket =
            FileStore::s3(&zizhi_store::files::S3Config::parse(&s3.url(b.name)).unwrap()).unwrap();
        let place = Place::Bucket(bucket.clone());
        let staging = b.dir.join("staging");
        let first = app.backup_into(&place, &staging).await.unwrap();
        assert_eq!(first.new_objects, 2, "{}", b.name);
        let second = app.backup_into(&place, &staging).await.unwrap();
        assert_eq!(second.new_objects, 0, "{}", b.name);
        let kept = bucket.list_named("db").await.unwrap();
        assert_eq!(kept.len(), second.manifest.db_files.len(), "{kept:?}");
        assert!(
            kept.iter()
                .all(|k| k.starts_with(&format!("{}/", second.manifest.db_dir)))
        );
        let fetched = b.dir.join("fetched");
        fetch_backup(&bucket, &fetched).await.unwrap();
        let m = read_backup(&fetched).await.unwrap();
        assert_eq!(m, second.manifest);
        let restored = restore(b.name, &fetched, &b.dir).await;
        let check = restored.restore_objects_from(&place, &m).await.unwrap();
        assert!(
            check.problems.is_empty(),
            "{}: {:?}",
            b.name,
            check.problems
        );
        assert_eq!(check.objects, 2);
        assert!(check.audit_events > 0);
    }
}
