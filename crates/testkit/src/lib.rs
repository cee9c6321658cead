//! The one test harness every crate's tests use: a fresh, migrated database on each backend this
//! run has (SQLite always; PostgreSQL when `ZIZHI_TEST_POSTGRES_URL` is set, in a new schema), a
//! unique temporary directory, and a free loopback port.

use std::path::PathBuf;

use zizhi_store::Db;

/// A name no other test of this run (or of another run) will take: `prefix_<12 hex>`.
pub fn unique(prefix: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("the system's random source");
    format!("{prefix}_{}", hex::encode(b))
}

/// A new empty directory under the system's temporary directory.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// One backend of a test run.
pub struct Backend {
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    pub db: Db,
    /// A directory of this backend's own (evidence, outbox…).
    pub dir: PathBuf,
}

/// Every backend available to this run, freshly migrated, each with its own directory.
pub async fn backends(prefix: &str) -> Vec<Backend> {
    let name = unique(prefix);
    let root = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&root).expect("a temporary directory");
    let mut out = Vec::new();
    let db = Db::connect(&format!("sqlite:{}", root.join("z.db").display()))
        .await
        .expect("an SQLite database");
    db.migrate().await.expect("migrations on SQLite");
    let dir = root.join("sqlite");
    std::fs::create_dir_all(&dir).expect("a directory");
    out.push(Backend {
        name: "sqlite",
        db,
        dir,
    });
    if let Ok(url) = std::env::var("ZIZHI_TEST_POSTGRES_URL") {
        let db = Db::connect_pg_schema(&url, &name)
            .await
            .expect("a PostgreSQL schema");
        db.migrate().await.expect("migrations on PostgreSQL");
        let dir = root.join("postgres");
        std::fs::create_dir_all(&dir).expect("a directory");
        out.push(Backend {
            name: "postgres",
            db,
            dir,
        });
    }
    out
}

/// A loopback port free at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

/// A real S3-compatible server (`s3s-fs`) on loopback, stopped when dropped.
pub struct S3Server {
    child: std::process::Child,
    pub port: u16,
    /// The directory it serves: one subdirectory per bucket.
    pub root: PathBuf,
}

impl S3Server {
    /// The `s3://` address of one of its buckets, as zizhi's settings take it.
    pub fn url(&self, bucket: &str) -> String {
        format!(
            "s3://AK:SKSKSKSK@127.0.0.1:{}/{bucket}?tls=false",
            self.port
        )
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `s3s-fs` with these buckets when it is installed; `None` otherwise — a failure when
/// `ZIZHI_REQUIRE_S3` is set (CI installs it).
pub fn s3_server(buckets: &[&str]) -> Option<S3Server> {
    use std::process::{Command, Stdio};
    let installed = Command::new("s3s-fs")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !installed {
        assert!(
            std::env::var("ZIZHI_REQUIRE_S3").is_err(),
            "ZIZHI_REQUIRE_S3 is set but s3s-fs is not installed"
        );
        return None;
    }
    let root = temp_dir("zizhi-s3");
    for b in buckets {
        std::fs::create_dir_all(root.join(b)).expect("a bucket directory");
    }
    let port = free_port();
    let child = Command::new("s3s-fs")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            "AK",
            "--secret-key",
            "SKSKSKSK",
            root.to_str().expect("a UTF-8 path"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("s3s-fs starts");
    let server = S3Server { child, port, root };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "s3s-fs did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(server)
}

/// Inserts a case of `organization_id` at level `level` already certified (initial application,
/// empty profile, opened by `created_by`), for tests that need a certificate's case without
/// walking the process; returns its id.
pub async fn insert_certified_case(
    tx: &mut zizhi_store::Tx,
    organization_id: i64,
    created_by: i64,
    level: i32,
) -> i64 {
    zizhi_store::cases::insert(
        tx,
        &zizhi_store::cases::NewCase {
            organization_id,
            category: "disaster_recovery",
            level,
            kind: "initial",
            stage: "certified",
            profile: "{}",
            created_by,
        },
    )
    .await
    .expect("a certified case")
    .id
}
