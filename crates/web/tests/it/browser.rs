//! Browser test: Debian's headless Chromium, driven through chromedriver's W3C WebDriver HTTP
//! API, signs in to a real `zizhi serve` on loopback, switches language and creates a user.
//! Screenshots go to `target/screenshots/`. Skipped when chromedriver is absent, unless
//! `ZIZHI_REQUIRE_BROWSER=1` (set by .ci/run, which installs it) makes that a failure.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The W3C WebDriver element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A minimal WebDriver client: one HTTP/1.1 request per connection.
struct Driver {
    addr: SocketAddr,
    session: String,
    child: Child,
}

fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut s = TcpStream::connect(addr).expect("chromedriver reachable");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    // Read the head, then exactly Content-Length bytes (chromedriver keeps connections open).
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let head_end = loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "chromedriver closed the connection");
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let length = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length:")
            .map(|v| v.trim().parse::<usize>().unwrap())
    });
    let body = match length {
        Some(len) => {
            while raw.len() < head_end + len {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "short body");
                raw.extend_from_slice(&buf[..n]);
            }
            String::from_utf8_lossy(&raw[head_end..head_end + len]).to_string()
        }
        None => {
            let _ = s.read_to_end(&mut raw);
            dechunk(&String::from_utf8_lossy(&raw[head_end..]))
        }
    };
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("WebDriver answered {head}: {body}"))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn base64_decode(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = A.iter().position(|x| *x == c).expect("base64") as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    fn start(profile: &std::path::Path) -> Option<Driver> {
        let port = free_port();
        let child = Command::new("chromedriver")
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--lang=zh-CN", "--window-size=1200,900", format!("--user-data-dir={}", profile.display())],
            "prefs": {"intl.accept_languages": "zh-CN,zh"}
        }}}});
        let r = http(addr, "POST", "/session", Some(&caps));
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Some(Driver {
            addr,
            session,
            child,
        })
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = http(
            self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        );
        assert!(v["value"].get("error").is_none(), "{method} {path}: {v}");
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("find {css}: {v}"))
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        );
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.cmd("GET", &format!("/element/{e}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits (up to 15 s) until the element's text contains `expected`: after a click that
    /// navigates, the old page may still be there for a moment.
    fn wait_text(&self, css: &str, expected: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = http(
                self.addr,
                "POST",
                &format!("/session/{}/element", self.session),
                Some(&json!({"using": "css selector", "value": css})),
            );
            if let Some(e) = v["value"][ELEMENT].as_str() {
                let t = http(
                    self.addr,
                    "GET",
                    &format!("/session/{}/element/{e}/text", self.session),
                    None,
                );
                let text = t["value"].as_str().unwrap_or_default().to_string();
                if text.contains(expected) {
                    return text;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed \"{expected}\""
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.cmd("GET", "/screenshot", None);
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, base64_decode(b64.as_str().unwrap())).unwrap();
        path
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(
            self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_person_signs_in_switches_language_and_creates_a_user() {
    let have_driver = Command::new("chromedriver")
        .arg("--version")
        .output()
        .is_ok();
    if !have_driver {
        assert!(
            std::env::var("ZIZHI_REQUIRE_BROWSER").is_err(),
            "ZIZHI_REQUIRE_BROWSER is set but chromedriver is missing"
        );
        eprintln!("skipped: chromedriver not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("zizhi-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // A real server on a free loopback port, on its own runtime thread.
    let config = zizhi_web::Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(zizhi_web::start(config)).unwrap();
    let base = format!("http://{}", server.addr);
    let (admin, password) = server
        .bootstrap
        .clone()
        .expect("first start creates the administrator");
    rt.spawn(server.run());

    let d = Driver::start(&dir.join("profile")).expect("chromedriver starts");
    d.goto(&format!("{base}/"));
    assert!(d.source().contains("登录"), "the sign-in page, in Chinese");
    d.screenshot("01-login-zh");

    d.type_into("#username", &admin);
    d.type_into("#password", &password);
    d.click("#login-submit");
    d.wait_text("#role", "系统管理员");
    assert!(
        d.source().contains("请先修改密码"),
        "an initial password must be changed"
    );
    d.screenshot("02-home-zh");

    d.click("#lang-switch");
    d.wait_text("#role", "Administrator");
    d.screenshot("03-home-en");

    d.goto(&format!("{base}/users"));
    d.type_into("#username", "lead.zhang");
    d.type_into("#display_name", "张三");
    d.type_into("#email", "zhang@example.test");
    let role = d.find("#role");
    d.cmd(
        "POST",
        &format!("/element/{role}/value"),
        Some(json!({"text": "Project lead"})),
    );
    d.click("#create-user button[type=submit]");
    d.wait_text("#flash", "Initial password (shown once)");
    assert!(d.text("#users").contains("lead.zhang"));
    assert!(d.text("#users").contains("Project lead"));
    d.screenshot("04-user-created-en");

    d.click("#lang-switch");
    d.wait_text("#users", "项目负责人");
    d.screenshot("05-users-zh");
    d.goto(&format!("{base}/audit"));
    d.click("#verify");
    d.wait_text("#flash", "哈希链完整");
    d.screenshot("06-audit-zh");
}
