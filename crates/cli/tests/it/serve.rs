//! The real `zizhi serve` process: a server killed in the middle of an upload leaves no
//! half-recorded evidence, and the audit chain stays valid across the restart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zizhi_testkit::free_port;

/// `zizhi serve` on SQLite in `data`, listening on `port`.
fn serve_command(data: &Path, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zizhi"));
    cmd.args([
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .env_remove("ZIZHI_DATABASE");
    cmd
}

/// Starts the server; returns it and the bootstrap password (first start only).
fn serve(data: &Path, port: u16) -> (Child, Option<String>) {
    let mut child = serve_command(data, port)
        // Scripted staff sign-ins without an authenticator app (on by default; the web tests
        // cover enrolment).
        .env("ZIZHI_REQUIRE_TOTP_FOR_STAFF", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut password = None;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("one-time password ").nth(1) {
            password = rest.split_whitespace().next().map(str::to_string);
        }
        if line.contains("listening on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, password)
}

pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        out.split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default(),
    )
}

pub(crate) fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(request(port, "GET", "/health", &[], b"").0, 200);
}

pub(crate) fn json_field(body: &str, key: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    v[key]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v[key].to_string())
}

#[test]
fn a_server_killed_mid_upload_leaves_no_half_recorded_evidence() {
    let data = std::env::temp_dir().join(format!("zizhi-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let (mut server, password) = serve(&data, port);
    wait_healthy(port);
    let password = password.expect("first start prints the administrator's password");

    // An administrator registers an applicant organisation and a registrar who uploads.
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/session",
        &[("Content-Type", "application/json".into())],
        format!("{{\"username\":\"admin\",\"password\":\"{password}\"}}").as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    let admin = json_field(&body, "token");
    let auth = |t: &str| ("Authorization", format!("Bearer {t}"));
    // The one-time password is changed before anything else.
    let (status, body) = request(port, "GET", "/api/v1/organizations", &[auth(&admin)], b"");
    assert_eq!(status, 403, "{body}");
    let (status, body) = request(
        port,
        "PUT",
        "/api/v1/me/password",
        &[auth(&admin), ("Content-Type", "application/json".into())],
        format!(
            "{{\"current_password\":\"{password}\",\"new_password\":\"the administrator's own\"}}"
        )
        .as_bytes(),
    );
    assert_eq!(status, 204, "{body}");
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/organizations",
        &[auth(&admin), ("Content-Type", "application/json".into())],
        "{\"uscc\":\"91350100M000100Y43\",\"name\":\"示例灾备\"}".as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    let org = json_field(&body, "id");
    let (status, body) = request(port, "POST", "/api/v1/users", &[auth(&admin), ("Content-Type", "application/json".into())], b"{\"username\":\"reg1\",\"display_name\":\"R\",\"email\":\"r@example.test\",\"role\":\"registrar\",\"password\":\"a long password\"}");
    assert_eq!(status, 201, "{body}");
    let (_, body) = request(
        port,
        "POST",
        "/api/v1/session",
        &[("Content-Type", "application/json".into())],
        b"{\"username\":\"reg1\",\"password\":\"a long password\"}",
    );
    let reg = json_field(&body, "token");

    // Start a 64 MiB upload, send 8 MiB, then kill the server without warning.
    let mut s = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    let head = format!(
        "POST /api/v1/organizations/{org}/evidence HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {reg}\r\nContent-Type: application/pdf\r\nX-File-Name: big.pdf\r\nContent-Length: {}\r\n\r\n",
        64 << 20
    );
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..8 {
        s.write_all(&chunk).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let tmp = data.join("evidence/tmp");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        1,
        "the upload is in progress in a temporary file"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    drop(s);

    // Restart: no record, no object, no temporary file; the chain verifies.
    let (mut server, again) = serve(&data, port);
    assert!(again.is_none(), "the administrator exists already");
    wait_healthy(port);
    let (status, body) = request(
        port,
        "GET",
        &format!("/api/v1/organizations/{org}/evidence"),
        &[auth(&reg)],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"evidence\":[]"), "{body}");
    // Only the new server's own (empty) upload directory is left: the killed one's is swept.
    let files: usize = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                std::fs::read_dir(&p).unwrap().count()
            } else {
                1
            }
        })
        .sum();
    assert_eq!(files, 0, "leftovers swept at start-up");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        1,
        "the new server's own"
    );
    assert_eq!(
        std::fs::read_dir(data.join("evidence/objects"))
            .unwrap()
            .count(),
        0
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zizhi"))
        .args(["audit", "verify", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit chain intact"));
}

/// Issue 14: `zizhi serve` gives freed memory back to the system at once, not after
/// mimalloc's default second (idle after 20 sign-ins 71 MB, against 29), and SQLite's glibc
/// allocations use four arenas — it starts itself once more with `MIMALLOC_PURGE_DELAY=0`
/// and `MALLOC_ARENA_MAX=4`, as the same process — unless the operator set a variable.
#[test]
fn the_server_sets_its_allocators_unless_told_otherwise() {
    type Given<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Given, [&str; 2]); 3] = [
        (&[], ["MIMALLOC_PURGE_DELAY=0", "MALLOC_ARENA_MAX=4"]),
        (
            &[("MIMALLOC_PURGE_DELAY", "250")],
            ["MIMALLOC_PURGE_DELAY=250", "MALLOC_ARENA_MAX=4"],
        ),
        (
            &[("MIMALLOC_PURGE_DELAY", "20"), ("MALLOC_ARENA_MAX", "8")],
            ["MIMALLOC_PURGE_DELAY=20", "MALLOC_ARENA_MAX=8"],
        ),
    ];
    for (given, expect) in cases {
        let data = std::env::temp_dir().join(zizhi_testkit::unique("zizhi-alloc"));
        let port = free_port();
        let mut cmd = serve_command(&data, port);
        cmd.env_remove("MIMALLOC_PURGE_DELAY")
            .env_remove("MALLOC_ARENA_MAX")
            .envs(given.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        wait_healthy(port);
        // The process we started is the one serving, with the variables in its environment.
        let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
        let vars: Vec<&[u8]> = environ.split(|b| *b == 0).collect();
        for want in expect {
            assert!(
                vars.contains(&want.as_bytes()),
                "{want} in the server's environment (given {given:?})"
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = std::fs::remove_dir_all(&data);
    }
}

/// Issue 14: the binary allocates with mimalloc (glibc's locked arenas made the two worker
/// threads wait for each other); with `MIMALLOC_VERBOSE=1` mimalloc says so when it starts.
#[test]
fn the_binary_allocates_with_mimalloc() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zizhi"))
        .arg("--version")
        .env("MIMALLOC_VERBOSE", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mimalloc: process init"), "{err}");
}
