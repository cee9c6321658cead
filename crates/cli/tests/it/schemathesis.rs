//! Issue 9: generated requests against a running server answer no server error. schemathesis
//! (PyPI) reads the server's own OpenAPI document (with its request schemas) and sends a few
//! thousand generated requests per backend, signed in as the demo administrator, over demo data
//! (so that some ids exist). Bounded by `-n` and a fixed seed, so a run is repeatable.
//!
//! The `st` command comes from `ZIZHI_SCHEMATHESIS` or `PATH`; without it the test says so and
//! passes, unless `ZIZHI_REQUIRE_SCHEMATHESIS=1` (CI sets it, after installing schemathesis).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use zizhi_testkit::{free_port, temp_dir, unique};

use crate::serve::{json_field, request, wait_healthy};

/// Generated cases per API operation (46 operations: about 2 700 cases per backend).
const EXAMPLES_PER_OPERATION: &str = "30";

fn st_command() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("ZIZHI_SCHEMATHESIS") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("st"))
        .find(|p| p.is_file())
}

/// `zizhi <args>` with the database in effect.
fn zizhi(args: &[&str], database: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zizhi"));
    c.args(args)
        .env("ZIZHI_DATABASE", database)
        // Scripted staff sign-in (the second factor is on by default).
        .env("ZIZHI_REQUIRE_TOTP_FOR_STAFF", "false")
        .env("ZIZHI_LOGIN_ATTEMPTS_PER_MINUTE", "100000");
    c
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fuzz(st: &Path, database: &str, backend: &str) {
    let dir = temp_dir(&format!("zizhi_st_{backend}"));
    let data = dir.join("data");
    let out = zizhi(&["demo", "--data-dir", data.to_str().unwrap()], database)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let server = Server(
        zizhi(
            &[
                "serve",
                "--data-dir",
                data.to_str().unwrap(),
                "--listen",
                &format!("127.0.0.1:{port}"),
            ],
            database,
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    wait_healthy(port);
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/session",
        &[("Content-Type", "application/json".into())],
        format!(
            "{{\"username\":\"demo-admin\",\"password\":\"{}\"}}",
            zizhi_app::demo::DEMO_PASSWORD
        )
        .as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    let token = json_field(&body, "token");
    let run = Command::new(st)
        .current_dir(&dir)
        .args([
            "run",
            &format!("http://127.0.0.1:{port}/api/v1/openapi.json"),
            "--header",
            &format!("Authorization: Bearer {token}"),
            "--checks",
            "not_a_server_error",
            "--max-examples",
            EXAMPLES_PER_OPERATION,
            "--seed",
            "20261128",
            "--phases",
            "examples,coverage,fuzzing",
            // Signing out, or resetting the password of the run's own user, would end the run's
            // session and leave the rest of the run answering 401.
            "--exclude-path",
            "/api/v1/session",
            "--exclude-path",
            "/api/v1/users/{id}/reset-password",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .output()
        .unwrap();
    drop(server);
    let report = String::from_utf8_lossy(&run.stdout);
    eprintln!(
        "schemathesis on {backend}:\n{}",
        report
            .lines()
            .rev()
            .take(14)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        run.status.success(),
        "schemathesis found failures on {backend}:\n{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(report.contains("generated"), "{report}");
}

#[test]
fn generated_requests_get_no_server_error_on_either_backend() {
    let Some(st) = st_command() else {
        assert!(
            std::env::var("ZIZHI_REQUIRE_SCHEMATHESIS").as_deref() != Ok("1"),
            "ZIZHI_REQUIRE_SCHEMATHESIS=1 but no `st` command (pip install schemathesis)"
        );
        eprintln!("schemathesis (`st`) not found: skipped");
        return;
    };
    let sqlite_dir = temp_dir("zizhi_st_db");
    fuzz(
        &st,
        &format!("sqlite:{}", sqlite_dir.join("z.db").display()),
        "sqlite",
    );
    if let Ok(url) = std::env::var("ZIZHI_TEST_POSTGRES_URL") {
        let schema = unique("zizhi_st");
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            zizhi_store::Db::connect_pg_schema(&url, &schema)
                .await
                .expect("a PostgreSQL schema")
                .close()
                .await
        });
        let sep = if url.contains('?') { '&' } else { '?' };
        fuzz(
            &st,
            &format!("{url}{sep}options=-c%20search_path%3D{schema}"),
            "postgres",
        );
    }
}
