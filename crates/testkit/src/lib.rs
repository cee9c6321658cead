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
