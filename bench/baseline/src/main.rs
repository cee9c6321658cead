//! A bare axum + rusqlite server, the baseline of `scripts/bench` (issue 14): `GET /health`
//! and `GET /row/{number}`, a primary-key lookup over a table of certificates, answered inline
//! on the runtime's worker thread from that thread's own read-only connection and its cached
//! prepared statement — no pool, no hand-off to another thread.
//!
//!   zizhi-bench-baseline --db FILE [--rows N] [--listen ADDR]
//!
//! The database is made with N rows (default 100 000) when the file does not exist.
//!
//!   zizhi-bench-baseline --sm3 FILE
//!
//! prints one core's SM3 speed with the `sm3` crate zizhi uses (the file read into memory
//! first, hashed in 64 KiB pieces as an upload arrives): what `scripts/bench-platform` holds
//! the upload's speed against.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

static DB: OnceLock<PathBuf> = OnceLock::new();

thread_local! {
    static CONN: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// The certificate number of row `i`, as the baseline stores it.
fn number(i: u64) -> String {
    format!("CNITSEC2026SRV-DR-II-{i:06}")
}

fn make(path: &PathBuf, rows: u64) -> rusqlite::Result<()> {
    let mut c = Connection::open(path)?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE certificate (number TEXT PRIMARY KEY, holder TEXT NOT NULL,
           uscc TEXT NOT NULL, level INTEGER NOT NULL, issued_on TEXT NOT NULL,
           valid_until TEXT NOT NULL, status TEXT NOT NULL) WITHOUT ROWID;",
    )?;
    let tx = c.transaction()?;
    {
        let mut st = tx.prepare("INSERT INTO certificate VALUES (?1, ?2, ?3, 2, '2026-01-05', '2029-01-04', 'valid')")?;
        for i in 1..=rows {
            st.execute((
                number(i),
                format!("基准测试灾备服务有限公司{i}"),
                format!("91350100M{i:08}X"),
            ))?;
        }
    }
    tx.commit()
}

async fn health() -> &'static str {
    "ok"
}

async fn row(Path(n): Path<String>) -> Response {
    let found = CONN.with(|cell| -> rusqlite::Result<Option<serde_json::Value>> {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let c = Connection::open_with_flags(
                DB.get().expect("set at start"),
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            *slot = Some(c);
        }
        let c = slot.as_ref().expect("opened");
        let mut st = c.prepare_cached(
            "SELECT number, holder, uscc, level, issued_on, valid_until, status FROM certificate WHERE number = ?1",
        )?;
        st.query_row([&n], |r| {
            Ok(serde_json::json!({
                "number": r.get::<_, String>(0)?,
                "holder": r.get::<_, String>(1)?,
                "uscc": r.get::<_, String>(2)?,
                "level": r.get::<_, i64>(3)?,
                "issued_on": r.get::<_, String>(4)?,
                "valid_until": r.get::<_, String>(5)?,
                "status": r.get::<_, String>(6)?,
            }))
        })
        .optional()
    });
    match found {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// One core's SM3 over a file's bytes in memory, in MB/s (best of three).
fn sm3_speed(path: &str) {
    use sm3::Digest;
    let bytes = std::fs::read(path).expect("the file to hash");
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let mut h = sm3::Sm3::new();
        for piece in bytes.chunks(64 * 1024) {
            h.update(piece);
        }
        std::hint::black_box(h.finalize());
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{:.0}", bytes.len() as f64 / (1024.0 * 1024.0) / best);
}

#[tokio::main]
async fn main() {
    if let [_, flag, file] = std::env::args().collect::<Vec<_>>().as_slice()
        && flag == "--sm3"
    {
        return sm3_speed(file);
    }
    let mut args = std::env::args().skip(1);
    let (mut db, mut rows, mut listen) = (None, 100_000u64, "127.0.0.1:18100".to_string());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = args.next().map(PathBuf::from),
            "--rows" => rows = args.next().and_then(|v| v.parse().ok()).expect("--rows N"),
            "--listen" => listen = args.next().expect("--listen ADDR"),
            other => panic!("unknown argument {other}"),
        }
    }
    let db = db.expect("--db FILE");
    if !db.exists() {
        make(&db, rows).expect("the baseline database");
    }
    DB.set(db).expect("once");
    let app = Router::new()
        .route("/health", get(health))
        .route("/row/{number}", get(row));
    let listener = tokio::net::TcpListener::bind(&listen).await.expect("listen");
    println!("baseline on {listen}");
    axum::serve(listener, app).await.expect("serve");
}
