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

use zizhi_testkit::free_port;

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
        }, "goog:loggingPrefs": {"browser": "ALL"}}}});
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

    /// Clicks like a person. A click on a button or link loads a new page: this waits until
    /// the old document is gone and the new one has loaded, so the next find never meets an
    /// element of the page that is being left (the stale-element race under load). A click on
    /// a checkbox or radio button changes the page in place.
    fn click(&self, css: &str) {
        let e = self.find(css);
        let kind = self
            .js(&format!(
                "const e = document.querySelector({}); return e ? (e.tagName + ':' + (e.type || '')) : '';",
                serde_json::to_string(css).unwrap()
            ))
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let in_place = kind.ends_with(":checkbox") || kind.ends_with(":radio");
        if in_place {
            self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
            return;
        }
        self.js("window.__zizhiLeaving = true;");
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // While the navigation runs the script may fail; that is not an answer yet.
            let v = http(
                self.addr,
                "POST",
                &format!("/session/{}/execute/sync", self.session),
                Some(
                    &json!({"script": "return window.__zizhiLeaving === undefined && document.readyState === 'complete';", "args": []}),
                ),
            );
            if v["value"] == json!(true) {
                return;
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot("failure");
                panic!(
                    "clicking {css} loaded no new page (screenshot {})",
                    shot.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
            if Instant::now() >= deadline {
                let shot = self.screenshot("failure");
                panic!(
                    "{css} never showed \"{expected}\" (screenshot {})",
                    shot.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs a script in the page (for inputs a person fills with a picker, like dates).
    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Chooses the option of a `<select>` whose text is `label` (as a person picks it).
    fn select(&self, css: &str, label: &str) {
        let e = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": label})),
        );
    }

    /// The console's errors since the last call (CSP violations, failed loads, script
    /// errors), read from Chromium's log.
    fn console_errors(&self) -> Vec<String> {
        let v = self.cmd("POST", "/se/log", Some(json!({"type": "browser"})));
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// axe-core's serious and critical accessibility violations on the current page (npm
    /// `axe-core`, installed by `.ci/run` into `crates/web/tests/axe`, injected here).
    fn axe(&self) -> Vec<String> {
        let path = PathBuf::from(
            std::env::var("CARGO_MANIFEST_DIR")
                .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
        )
        .join("tests/axe/node_modules/axe-core/axe.min.js");
        let src = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `npm ci --prefix crates/web/tests/axe`",
                path.display()
            )
        });
        self.js(&format!("{src}\nreturn null;"));
        let v = self.cmd(
            "POST",
            "/execute/async",
            Some(
                json!({"script": "const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ['violations']})
                  .then(r => done(r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' @ '
                      + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
                  .catch(e => done(['axe failed: ' + e]));", "args": []}),
            ),
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Emulates a phone's screen (`width` CSS pixels, touch) or, with `None`, the desktop.
    fn screen(&self, width: Option<u32>) {
        let (cmd, params) = match width {
            Some(w) => (
                "Emulation.setDeviceMetricsOverride",
                json!({"width": w, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
            ),
            None => ("Emulation.clearDeviceMetricsOverride", json!({})),
        };
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        );
    }

    /// How many CSS pixels the page is wider than the screen (0 when it fits).
    fn overflow(&self) -> i64 {
        self.js("return Math.max(0, document.documentElement.scrollWidth - window.innerWidth);")
            .as_i64()
            .unwrap_or(-1)
    }

    /// Signs out (drops the cookies) and signs in as `user` with the demo password.
    fn sign_in(&self, base: &str, user: &str) {
        self.cmd("DELETE", "/cookie", None);
        self.goto(&format!("{base}/login"));
        self.type_into("#username", user);
        self.type_into("#password", zizhi_app::demo::DEMO_PASSWORD);
        self.click("#login-submit");
        // The home page (the only page with #role) after the redirect.
        self.wait_text("#role", "");
    }

    fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.cmd("GET", "/screenshot", None);
        let dir = PathBuf::from(
            std::env::var("CARGO_MANIFEST_DIR")
                .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
        )
        .join("../../target/screenshots");
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
        // The walk covers the case; staff second-factor enrolment has its own web test.
        require_totp_for_staff: false,
        // Every role signs in several times a minute here; the limit has its own web test.
        login_attempts_per_minute: 1000,
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
    // Anyone not signed in lands on the public register (issue 10), and signs in from there.
    d.goto(&format!("{base}/"));
    assert!(
        d.source().contains("信息安全服务资质证书名录"),
        "the register, in Chinese"
    );
    d.screenshot("00-registry-zh");
    d.click("#registry-sign-in");
    d.wait_text("h1", "登录");
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

    // The one-time password is changed before anything else (issue 9).
    d.goto(&format!("{base}/users"));
    assert!(
        !d.source().contains("create-user"),
        "no user list before the change"
    );
    d.goto(&format!("{base}/account"));
    d.type_into("#current_password", &password);
    d.type_into("#new_password", "the administrator's own password");
    d.click("#change-password button");
    d.wait_text("#flash", "");

    d.goto(&format!("{base}/"));
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

fn browser_available() -> bool {
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
    }
    have_driver
}

/// The whole process through the pages, each step by its role, with a screenshot per stage
/// (`target/screenshots/case-*.png`): draft with the form and the completeness check, filing,
/// a supplement request and resubmission, acceptance, the agreement, payment, evaluation
/// (team, plan, activities, judgements), the panel, the certificate desk, public verification.
#[test]
fn a_case_walks_through_the_pages_from_draft_to_a_verifiable_certificate() {
    if !browser_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("zizhi-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = zizhi_web::Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        // The walk covers the case; staff second-factor enrolment has its own web test.
        require_totp_for_staff: false,
        // Every role signs in several times a minute here; the limit has its own web test.
        login_attempts_per_minute: 1000,
        ..Default::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The demo cast (one user per role, demo password), then a real server on the same data.
    rt.block_on(async {
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let db = zizhi_store::Db::connect(&config.database_url())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let files = config.evidence_store().await.unwrap();
        let app = zizhi_app::App::new(db, files, config.app_config());
        app.demo_cast().await.unwrap();
    });
    let server = rt.block_on(zizhi_web::start(config)).unwrap();
    let base = format!("http://{}", server.addr);
    rt.spawn(server.run());
    let d = Driver::start(&dir.join("profile")).expect("chromedriver starts");
    let shot = |name: &str| {
        d.screenshot(&format!("case-{name}"));
    };

    // 1. The applicant opens a draft and fills the form field by field.
    d.sign_in(&base, "demo-applicant1");
    d.goto(&format!("{base}/cases"));
    d.click("#create-case button[type=submit]");
    d.wait_text("#stage", "草稿");
    let case_url = d.cmd("GET", "/url", None).as_str().unwrap().to_string();
    let case_url = case_url.split('#').next().unwrap().to_string();
    // The banner says what the applicant is to do; the stepper stands at 申请 (5.1).
    assert!(
        d.text("#banner-task").contains("您需要：填写申请资料"),
        "{}",
        d.text("#banner")
    );
    assert_eq!(
        d.js("return document.querySelector('#stepper li.current').textContent")
            .as_str(),
        Some("申请")
    );
    assert!(d.text("#completeness").contains("尚不完整"));
    // The registered name and USCC fill the form, read-only (the server takes them from the
    // register).
    assert_eq!(
        d.js("return document.querySelector('[name=\"organization.uscc\"]').readOnly")
            .as_bool(),
        Some(true)
    );
    assert!(
        d.js("return document.querySelector('[name=\"organization.name\"]').value")
            .as_str()
            .unwrap()
            .contains("闽江灾备")
    );
    // An amount that is not one is reported at save, next to its field, with all else kept.
    d.type_into(
        "[name=\"organization.registered_capital_cny\"]",
        "一千五百万",
    );
    d.type_into("[name=\"staff.dr_technical_staff\"]", "50");
    d.click("#save-facts");
    d.wait_text(
        "[id=\"error-organization.registered_capital_cny\"]",
        "不是十进制金额",
    );
    assert_eq!(
        d.js("return document.querySelector('[name=\"staff.dr_technical_staff\"]').value")
            .as_str(),
        Some("50")
    );
    shot("01a-form-error-kept");
    d.js("document.querySelector('[name=\"organization.registered_capital_cny\"]').value = ''; document.querySelector('[name=\"staff.dr_technical_staff\"]').value = ''; return null;");
    for (name, value) in [
        // 万元 and thousands separators are amounts too.
        ("organization.registered_capital_cny", "1500万"),
        ("organization.total_assets_cny", "30,000,000"),
        ("staff.dr_technical_staff", "50"),
        ("staff.full_time_registered_professionals", "8"),
        ("track_record.completed_dr_project_value_cny", "30000000"),
    ] {
        d.type_into(&format!("[name=\"{name}\"]"), value);
    }
    for name in [
        "organization.independent_legal_person",
        "organization.approved_by_authorities",
        "organization.law_abiding",
        "organization.finances_good_last_3_years",
        "track_record.completed_full_dr_service_process",
        "track_record.owns_dr_data_center",
    ] {
        d.select(&format!("[name=\"{name}\"]"), "是");
    }
    d.js("document.querySelector('[name=\"organization.security_service_since\"]').value = '2019-03-01';");
    // The projects as rows: one by its level, one by the seven elements (GB/T 20988).
    d.type_into(
        "[name=\"project.0.name\"]",
        "某城市商业银行同城灾备中心建设项目",
    );
    d.select("[name=\"project.0.level\"]", "第4级");
    d.type_into(
        "[name=\"project.1.name\"]",
        "某证券公司异地灾备系统建设项目",
    );
    d.select("[name=\"project.1.level\"]", "按要素填写");
    d.js("document.querySelector('#project-1 details').open = true; return null;");
    for (k, l) in [
        ("data_backup", "5"),
        ("standby_processing", "4"),
        ("standby_network", "4"),
        ("standby_infrastructure", "4"),
        ("technical_support", "3"),
        ("operations_management", "4"),
        ("dr_plan", "5"),
    ] {
        d.select(&format!("[name=\"project.1.{k}\"]"), l);
    }
    // Level 2 rests on a level-1 certificate (3.1.4): without it the self-assessment says no.
    d.click("#save-facts");
    d.wait_text("#verdict", "尚不符合申请条件");
    assert!(d.text("[id=\"req-3.1.4\"]").contains("不满足"));
    d.type_into("[name=\"cert.0.number\"]", "CNITSEC2024SRV-I-0001");
    d.select("[name=\"cert.0.level\"]", "1级");
    d.js("document.querySelector('[name=\"cert.0.valid_until\"]').value = '2027-08-31'; return null;");
    d.click("#save-facts");
    d.wait_text("#verdict", "符合申请的基本条件");
    let completeness = d.text("#completeness");
    assert!(
        completeness.contains("尚无证据的要求") && !completeness.contains("未填写的必填项"),
        "{completeness}"
    );
    assert!(
        d.text("#verdict").contains("87,000"),
        "the initial fee: {}",
        d.text("#verdict")
    );
    shot("01-draft-form");

    // Evidence: upload one file against 3.1.1, then file it against every other requirement.
    let file = dir.join("营业执照副本.txt");
    std::fs::write(&file, "【演示】营业执照副本").unwrap();
    d.type_into(
        "[id=\"req-3.1.1\"] input[type=file]",
        file.to_str().unwrap(),
    );
    d.click("[id=\"req-3.1.1\"] button");
    d.wait_text("[id=\"req-3.1.1\"]", "营业执照副本.txt");
    // An upload says it succeeded, and where the file went.
    d.wait_text("#flash", "已上传“营业执照副本.txt”，并归入要求 3.1.1");
    // An empty file is refused on the page, in words.
    let empty = dir.join("空白.pdf");
    std::fs::write(&empty, "").unwrap();
    d.type_into(
        "[id=\"req-3.1.2\"] input[type=file]",
        empty.to_str().unwrap(),
    );
    d.click("[id=\"req-3.1.2\"] form[enctype] button");
    d.wait_text("#flash", "文件“空白.pdf”是空文件（0 字节）");
    // Filing an uploaded file: nothing is chosen for the applicant.
    assert_eq!(
        d.js("return document.querySelector('[id=\"req-3.1.2\"] select').value")
            .as_str(),
        Some("")
    );
    let ids: Vec<String> = d
        .js("return Array.from(document.querySelectorAll('#reqs tr[id]')).map(r => r.id.slice(4));")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 17, "{ids:?}");
    for r in ids.iter().filter(|r| *r != "3.1.1") {
        d.select(&format!("[id=\"req-{r}\"] select"), "营业执照副本.txt");
        d.click(&format!(
            "[id=\"req-{r}\"] form[action$=\"/evidence\"] button"
        ));
        d.wait_text(&format!("[id=\"req-{r}\"]"), "营业执照副本.txt");
    }
    d.wait_text("#completeness", "资料齐全");
    shot("02-draft-complete");
    d.click("#do-submit");
    d.wait_text("#stage", "已提交");
    // After submission the applicant is told to post the stamped, bound paper copy (5.2),
    // and where to (十).
    assert!(d.text("#banner-task").contains("纸版申请书"));
    shot("03-submitted");
    d.click("#print-link");
    d.wait_text("#mail-address", "上地西路 8 号院 1 号楼");
    assert!(d.text("#print-facts").contains("91350100M000100Y43"));
    assert_eq!(
        d.js("return document.querySelectorAll('#print form, #print button').length")
            .as_i64(),
        Some(0),
        "the printed application has no forms"
    );
    shot("03b-application-print");

    // 2. The registrar records the paper copy and files the case; the 待办 names the applicant.
    d.sign_in(&base, "demo-registrar");
    d.wait_text("#todo", "【演示】闽江灾备科技有限公司");
    d.goto(&case_url);
    // The paper copy: its day (today by default) and the courier's number, which is asked
    // for next to its field when missing.
    d.click("#record-paper");
    d.wait_text("#error-tracking_no", "请填写快递单号");
    d.type_into("#paper-tracking-no", "SF1234567890");
    d.click("#record-paper");
    d.wait_text("#paper", "已收到");
    assert_eq!(d.text("#paper-tracking"), "SF1234567890");
    // Filing names the project lead.
    d.select("#lead-file", "【演示】项目负责人");
    d.click("#do-file");
    d.wait_text("#stage", "受理审查");
    shot("04-filed");

    // 3. The lead reviews the five areas and asks for a supplement.
    d.sign_in(&base, "demo-lead");
    d.goto(&case_url);
    let areas = [
        "formal_conformity",
        "basic_qualification",
        "basic_capability",
        "process_capability",
        "organisational_management",
    ];
    for a in areas {
        let verdict = if a == "organisational_management" {
            "no"
        } else {
            "yes"
        };
        d.click(&format!(
            "input[name=\"{a}.sufficient\"][value=\"{verdict}\"]"
        ));
        d.type_into(&format!("#opinion-{a}"), "已审查");
    }
    // Saving and deciding is one submit; without the decision's note it is refused next to
    // the note, and all five areas come back as typed (nothing saved yet).
    d.click("#save-and-request_supplement");
    d.wait_text("#error-note", "请填写审查结论说明");
    assert!(d.text("#flash").contains("尚未保存"));
    assert_eq!(
        d.js("return document.querySelector('#opinion-organisational_management').value")
            .as_str(),
        Some("已审查")
    );
    assert!(
        d.js("return document.querySelector('input[name=\"organisational_management.sufficient\"][value=no]').checked")
            .as_bool()
            .unwrap()
    );
    shot("04b-review-error-kept");
    d.type_into("#areas-note", "请补充近一年的内部审核记录");
    d.click("#save-and-request_supplement");
    d.wait_text("#stage", "补充资料中");
    assert!(d.text("#clock").contains("计时暂停中"));
    shot("05-supplementing");

    // 4. The applicant sees the opinion and resubmits. The 待办 shows the deadline.
    d.sign_in(&base, "demo-applicant1");
    d.wait_text("#todo", "按受理审查意见补充资料");
    assert!(d.text("#todo").contains("剩余"), "{}", d.text("#todo"));
    d.goto(&case_url);
    assert!(
        d.text("#areas").contains("证据不充分"),
        "the opinion in the portal"
    );
    // The opinions come first, before the form; the banner counts the days left (5.2: one
    // month); "资料齐全" does not show while a supplement is asked for.
    assert_eq!(
        d.js("return document.querySelector('#supplement-opinions').compareDocumentPosition(document.querySelector('#portal')) & 4")
            .as_i64(),
        Some(4),
        "opinions before the form"
    );
    assert!(d.text("#supplement-note").contains("内部审核记录"));
    assert!(
        d.text("#banner-due").contains("剩余"),
        "{}",
        d.text("#banner")
    );
    assert!(
        d.js("return document.querySelector('#complete') === null")
            .as_bool()
            .unwrap()
    );
    assert!(d.text("#supplement-pending").contains("补充资料"));
    shot("05b-supplement-applicant");
    d.click("#do-resubmit");
    d.wait_text("#stage", "受理审查");

    // 5. The lead accepts and sends the agreement.
    d.sign_in(&base, "demo-lead");
    d.goto(&case_url);
    for a in areas {
        d.click(&format!("input[name=\"{a}.sufficient\"][value=\"yes\"]"));
        d.type_into(&format!("#opinion-{a}"), "证据充分");
    }
    d.type_into("#areas-note", "材料齐全，予以受理");
    d.click("#save-and-accept");
    d.wait_text("#stage", "起草委托协议");
    d.click("#do-send_agreement");
    d.wait_text("#stage", "委托协议已发送");
    // Signing is the applicant's step: in its 待办.
    d.sign_in(&base, "demo-applicant1");
    d.wait_text("#todo", "签署委托协议");
    d.sign_in(&base, "demo-lead");
    d.goto(&case_url);
    assert!(d.text("#fee").contains("87,000"), "{}", d.text("#fee"));
    d.click("#agreement-link");
    d.wait_text("#agreement", "委托协议");
    assert!(d.text("#fee").contains("72,000") && d.text("#fee").contains("15,000"));
    shot("06-agreement");
    d.goto(&case_url);
    d.click("#do-record_signed_agreement");
    d.wait_text("#stage", "委托协议已签署");

    // 6. Contract & finance approve the agreement and confirm payment.
    d.sign_in(&base, "demo-finance");
    d.goto(&case_url);
    d.click("#do-approve_agreement");
    d.wait_text("#stage", "待缴费");
    // Paying is the applicant's step, with the amount.
    d.sign_in(&base, "demo-applicant1");
    d.wait_text("#todo", "支付委托测评费用 87,000.00 元");
    d.sign_in(&base, "demo-finance");
    d.goto(&case_url);
    // A payment short of the fee is recorded and the difference flagged; the rest, typed in
    // 万元, completes it and opens evaluation.
    d.type_into("#pay-amount", "80,000");
    d.type_into("#pay-voucher", "CW-2026-0001");
    d.click("#record-payment");
    d.wait_text("#payment-summary", "尚差 7,000.00 元");
    d.type_into("#pay-amount", "0.7万");
    d.type_into("#pay-voucher", "CW-2026-0002");
    d.click("#record-payment");
    d.wait_text("#stage", "评估");
    shot("07-evaluation-open");

    // 7. The lead names the team and records the audit plan.
    d.sign_in(&base, "demo-lead");
    d.goto(&case_url);
    d.click("#team-form input[name=assessor]");
    for e in ["评审专家一", "评审专家二", "评审专家三"] {
        let id: String = d
            .js(&format!("return Array.from(document.querySelectorAll('#team-form label')).find(l => l.textContent.includes('{e}')).querySelector('input').value;"))
            .as_str()
            .unwrap()
            .to_string();
        d.click(&format!("#team-form input[name=expert][value=\"{id}\"]"));
    }
    d.click("#assign");
    d.wait_text("#team", "专家组组长");
    d.type_into("#act-notes", "文档审查一天、人员访谈半天、实际操作半天");
    d.click("#record-activity");
    d.wait_text("#activities", "审核计划");

    // 8. The assessor records activities and judges every requirement.
    d.sign_in(&base, "demo-assessor");
    d.goto(&case_url);
    d.select("#act-kind", "实际操作");
    d.type_into("#act-notes", "演示备份恢复与切换演练");
    d.click("#record-activity");
    d.wait_text("#activities", "实际操作");
    for r in &ids {
        d.select("#j-req", r);
        d.select("#j-verdict", "符合");
        d.type_into("#j-rationale", "证据与访谈一致");
        d.click("#record-judgement");
        d.wait_text(&format!("[id=\"req-{r}\"]"), "符合");
    }
    shot("08-judged");

    // 9. The lead concludes the audit; the dossier is fixed by its hash.
    d.sign_in(&base, "demo-lead");
    d.goto(&case_url);
    d.type_into("#note-conclude_audit", "符合二级资质要求");
    d.click("#do-conclude_audit");
    d.wait_text("#stage", "专家评审");
    assert_eq!(d.text("#dossier").len(), 64);

    // 10. Every expert votes (nothing pre-selected; each sees only its own vote until all
    // have voted); the chair, voting last, records the conclusion the votes give.
    for e in ["demo-expert2", "demo-expert3", "demo-expert1"] {
        d.sign_in(&base, e);
        d.goto(&case_url);
        d.click("#vote-form input[name=vote][value=pass]");
        d.type_into("#vote-opinion", "同意通过");
        d.click("#cast-vote");
        d.wait_text("#votes", "同意通过");
    }
    d.wait_text("#panel-status", "全部 3 位专家已表决");
    d.type_into("#note-panel_pass", "专家组一致认为证据充分、审核结论合理");
    shot("09-panel");
    d.click("#do-panel_pass");
    d.wait_text("#stage", "发证");

    // 11. The certificate desk: a batch, approved by another person, issued.
    d.sign_in(&base, "demo-officer");
    d.goto(&format!("{base}/batches"));
    d.click("#make-batch");
    d.wait_text("#batches", "待审批");
    d.sign_in(&base, "demo-approver");
    d.wait_text("#batch-todo", "审批证书批次");
    d.goto(&format!("{base}/batches"));
    d.click("#batches button");
    d.wait_text("#batches", "已审批");
    d.sign_in(&base, "demo-officer");
    d.goto(&format!("{base}/batches"));
    d.click("#batches button");
    d.wait_text("#batches", "已发证");
    shot("10-issued");

    // 12. The applicant sees the certificate; anyone can verify it.
    d.sign_in(&base, "demo-applicant1");
    d.goto(&case_url);
    d.wait_text("#stage", "已发证");
    let number = d.text("#certificate-link");
    d.cmd("DELETE", "/cookie", None);
    d.goto(&format!("{base}/verify/{number}"));
    d.wait_text("#certificate", "【演示】闽江灾备科技有限公司");
    shot("11-verified");

    // The staff dashboard lists no open case now.
    d.sign_in(&base, "demo-lead");
    d.goto(&format!("{base}/dashboard"));
    shot("12-dashboard");
    // The case file prints without forms or buttons, with the review and the history.
    d.goto(&format!("{case_url}/print"));
    d.wait_text("#print", "受理审查意见");
    assert!(d.text("#print").contains("流程跟踪") || d.text("#print").contains("予以受理"));
    assert_eq!(
        d.js("return document.querySelectorAll('#print form, #print button').length")
            .as_i64(),
        Some(0)
    );
    shot("12b-case-file-print");
    // The same case in English: every label has its English text.
    d.goto(&case_url);
    d.click("#lang-switch");
    d.wait_text("#stage", "Certified");
    let page = d.source();
    assert!(
        !page.contains("⟦missing text⟧"),
        "a label without its English text"
    );
    assert!(
        page.contains("Requirements, evidence and judgements") && page.contains("Dossier hash")
    );
    shot("13-case-en");
}

/// Issue 11 through the pages, as the supervision department, the approver, the holder and an
/// investigator see them (screenshots `target/screenshots/after-*.png`): the supervisor
/// proposes a suspension, the approver confirms it, the register shows 暂停; the holder finds
/// the demand in its 待办 and appeals against it; the supervisor assigns an investigator
/// (the approver, who confirmed it, is not offered); the investigator overturns it; the
/// holder sees the appeal concluded and the certificate valid again.
#[test]
fn a_sanction_and_an_appeal_walk_through_the_pages() {
    if !browser_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("zizhi-after-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = zizhi_web::Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        require_totp_for_staff: false,
        ..Default::default()
    };
    let number = "CNITSEC2026SRV-DR-II-0042";
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let db = zizhi_store::Db::connect(&config.database_url())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let files = config.evidence_store().await.unwrap();
        let app = zizhi_app::App::new(db.clone(), files, config.app_config());
        app.demo_cast().await.unwrap();
        app.create_user(
            None,
            zizhi_app::accounts::NewUserInput {
                username: "demo-investigator".into(),
                display_name: "调查人员".into(),
                email: "investigator@example.test".into(),
                role: "supervisor".into(),
                organization_id: None,
                password: Some(zizhi_app::demo::DEMO_PASSWORD.into()),
            },
        )
        .await
        .unwrap();
        // The demo applicant's organisation holds a certificate issued today.
        let holder = zizhi_store::users::by_username(&db, "demo-applicant1")
            .await
            .unwrap()
            .unwrap();
        let org_id = holder.organization_id.unwrap();
        let org = zizhi_store::organizations::get(&db, org_id)
            .await
            .unwrap()
            .unwrap();
        let today = app.clock.today();
        let until = zizhi_domain::certificate::valid_until(today, 3).to_string();
        let mut tx = db.begin().await.unwrap();
        let case_id = zizhi_testkit::insert_certified_case(&mut tx, org_id, holder.id, 2).await;
        zizhi_store::certificates::insert(
            &mut tx,
            &zizhi_store::certificates::NewCertificate {
                number,
                case_id,
                organization_id: org_id,
                holder: &org.name,
                uscc: &org.uscc,
                category: "disaster_recovery",
                level: 2,
                issued_on: &today.to_string(),
                valid_until: &until,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    });
    let server = rt.block_on(zizhi_web::start(config)).unwrap();
    let base = format!("http://{}", server.addr);
    rt.spawn(server.run());
    let d = Driver::start(&dir.join("profile")).expect("chromedriver starts");
    let shot = |name: &str| {
        d.screenshot(&format!("after-{name}"));
    };
    let here = || {
        d.cmd("GET", "/url", None)
            .as_str()
            .unwrap()
            .split('#')
            .next()
            .unwrap()
            .to_string()
    };

    // 1. The supervisor proposes a suspension; a missing reasoning is named next to its field.
    d.sign_in(&base, "demo-supervisor");
    d.click("#nav-sanctions");
    d.type_into("#p-certificate_number", number);
    d.select("#p-measure", "暂停证书");
    d.type_into("#p-violation", "超出资质级别承接灾难恢复服务项目");
    d.type_into("#p-evidence", "2026 年监督检查记录第 3 号");
    d.click("#propose-submit");
    d.wait_text("#p-reasoning-error", "不能为空");
    assert_eq!(
        d.js("return document.querySelector('#p-violation').value;"),
        json!("超出资质级别承接灾难恢复服务项目"),
        "the values are kept"
    );
    d.type_into("#p-reasoning", "情节严重，暂停证书并限期整改");
    d.click("#propose-submit");
    d.wait_text("#sanction-state", "待确认");
    let sanction_url = here();
    let sanction_id = sanction_url.rsplit('/').next().unwrap().to_string();
    shot("1-proposed");

    // 2. The approver confirms it; the register shows it suspended at once.
    d.sign_in(&base, "demo-approver");
    d.goto(&sanction_url);
    d.type_into("#d-note", "同意暂停");
    d.click("#confirm");
    d.wait_text("#sanction-state", "待整改");
    d.goto(&format!("{base}/verify/{number}"));
    d.wait_text("#certificate", "暂停");
    shot("2-suspended");

    // 3. The holder sees the demand in its 待办 and appeals against it.
    d.sign_in(&base, "demo-applicant1");
    assert!(d.text("#sanction-todo").contains(number));
    d.goto(&sanction_url);
    d.wait_text("#sanction-state", "待整改");
    assert!(d.source().contains("id=\"rectify\""));
    d.click("#nav-appeals");
    d.select("#a-subject", "处置决定");
    d.type_into("#a-target", &sanction_id);
    d.type_into(
        "#a-grounds",
        "检查所涉项目系客户分包，未超出资质级别，请求撤销暂停决定",
    );
    d.click("#file-appeal-submit");
    d.wait_text("#appeal-state", "待指派调查人");
    let appeal_url = here();
    shot("3-appealed");

    // 4. The supervisor assigns an investigator who took no part (not the approver).
    d.sign_in(&base, "demo-supervisor");
    assert!(d.text("#appeal-todo").contains("处置决定"));
    d.goto(&appeal_url);
    let offered = d.text("#investigator");
    assert!(!offered.contains("审批人"), "{offered}");
    d.js("const s = document.querySelector('#investigator'); for (const o of s.options) { if (o.text.includes('调查人员')) { s.value = o.value; } }");
    d.click("#assign-submit");
    d.wait_text("#appeal-state", "调查中");

    // 5. The investigator overturns it: the sanction is withdrawn, the certificate valid.
    d.sign_in(&base, "demo-investigator");
    assert!(d.text("#appeal-todo").contains("处置决定"));
    d.goto(&appeal_url);
    d.type_into("#f-findings", "经核查，所涉项目为分包，未超出资质级别");
    d.click("#overturn");
    d.wait_text("#appeal-state", "撤销原决定");
    shot("4-overturned");

    // 6. The holder sees the outcome.
    d.sign_in(&base, "demo-applicant1");
    d.goto(&appeal_url);
    d.wait_text("#appeal-findings", "未超出资质级别");
    d.goto(&sanction_url);
    d.wait_text("#sanction-state", "已撤销（申诉）");
    d.goto(&format!("{base}/verify/{number}"));
    d.wait_text("#verdict", "有效");
    let history = d.text("#status-history");
    assert!(history.contains("暂停"), "{history}");
    shot("5-restored");
}

/// Issue 13 on every reader's screen (screenshots `target/screenshots/phone-*.png`): the
/// demo's cases in every stage, seen by each role on a 390 px phone — no page wider than
/// the screen (tables scroll in their box, the header folds into a menu) — and at desktop
/// width with a clean console (no CSP violation, no failed load). A step that ends the case
/// asks for confirmation with its consequence, and the server refuses it unconfirmed.
#[test]
fn every_page_fits_a_phone_and_ending_a_case_is_confirmed() {
    if !browser_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("zizhi-phone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = zizhi_web::Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        require_totp_for_staff: false,
        ..Default::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seeded = rt.block_on(async {
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let db = zizhi_store::Db::connect(&config.database_url())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let files = config.evidence_store().await.unwrap();
        let app = zizhi_app::App::new(db, files, config.app_config());
        app.seed_demo().await.unwrap()
    });
    let case_in = |s: zizhi_domain::case::Stage| {
        seeded
            .cases
            .iter()
            .find(|(_, x)| *x == s)
            .map(|(id, _)| *id)
            .unwrap()
    };
    let database_url = config.database_url();
    let server = rt.block_on(zizhi_web::start(config)).unwrap();
    let base = format!("http://{}", server.addr);
    rt.spawn(server.run());
    let d = Driver::start(&dir.join("profile")).expect("chromedriver starts");
    use zizhi_domain::case::Stage as S;
    let pages: Vec<(&str, Vec<String>)> = vec![
        (
            "demo-applicant1",
            vec![
                format!("{base}/"),
                format!("{base}/cases"),
                format!("{base}/cases/{}", case_in(S::Draft)),
                format!("{base}/cases/{}/print", case_in(S::Draft)),
                format!("{base}/account"),
            ],
        ),
        (
            "demo-lead",
            vec![
                format!("{base}/"),
                format!("{base}/dashboard"),
                format!("{base}/cases/{}", case_in(S::Evaluation)),
                format!("{base}/cases/{}/print", case_in(S::Certified)),
            ],
        ),
        (
            "demo-officer",
            vec![format!("{base}/batches"), format!("{base}/")],
        ),
        (
            "demo-admin",
            vec![
                format!("{base}/audit"),
                format!("{base}/users"),
                format!("{base}/organizations"),
            ],
        ),
    ];
    // The public pages first, signed out.
    d.cmd("DELETE", "/cookie", None);
    d.screen(Some(390));
    for url in [
        format!("{base}/"),
        format!("{base}/login"),
        format!("{base}/register"),
        format!("{base}/announcements"),
    ] {
        d.goto(&url);
        assert_eq!(d.overflow(), 0, "{url} is wider than a 390 px screen");
        let violations = d.axe();
        assert!(violations.is_empty(), "{url}: axe finds {violations:#?}");
    }
    d.screen(None);
    let _ = d.console_errors();
    for (user, urls) in &pages {
        d.screen(None);
        d.sign_in(&base, user);
        for url in urls {
            d.screen(None);
            d.goto(url);
            let errors = d.console_errors();
            assert!(errors.is_empty(), "{user} {url}: console errors {errors:?}");
            let violations = d.axe();
            assert!(
                violations.is_empty(),
                "{user} {url}: axe finds {violations:#?}"
            );
            d.screen(Some(390));
            d.goto(url);
            assert_eq!(
                d.overflow(),
                0,
                "{user}: {url} is wider than a 390 px screen"
            );
        }
    }
    // On the phone the header is a menu: closed, the navigation is hidden; open, it shows.
    d.screen(Some(390));
    d.sign_in(&base, "demo-lead");
    d.goto(&format!("{base}/cases/{}", case_in(S::Evaluation)));
    let nav_shown = || {
        d.js("return getComputedStyle(document.querySelector('header nav')).display !== 'none'")
            .as_bool()
            .unwrap()
    };
    assert!(!nav_shown(), "the menu starts closed");
    d.screenshot("phone-case-evaluation");
    // The label toggles the menu in place (no page load), as a tap does.
    let menu = d.find(".menu-button");
    d.cmd("POST", &format!("/element/{menu}/click"), Some(json!({})));
    assert!(nav_shown(), "the menu opens");
    d.screenshot("phone-menu-open");
    d.screen(None);

    // Withdrawing asks for confirmation with its consequence; unconfirmed (the form sent
    // without the box ticked, as a script could) the server refuses it, in words.
    d.sign_in(&base, "demo-applicant1");
    let draft = format!("{base}/cases/{}", case_in(S::Draft));
    d.goto(&draft);
    assert!(
        d.text("form.destructive")
            .contains("撤回后本申请即告结束，不能恢复"),
        "{}",
        d.text("form.destructive")
    );
    d.js("document.querySelector('form.destructive').submit(); return null;");
    d.wait_text("#flash", "请勾选确认您已知晓此操作的后果");
    assert!(d.text("#stage").contains("草稿"));
    d.click("#confirm-withdraw");
    d.click("#do-withdraw");
    d.wait_text("#stage", "已撤回");
    assert_eq!(
        d.js("return document.querySelector('#stepper li.stopped').textContent")
            .as_str(),
        Some("申请"),
        "the stepper shows where the case stopped"
    );
    d.screenshot("case-withdrawn");

    // A company registers itself (issue 13): every problem next to its field with what was
    // typed kept, then the confirmation link from its mail, then the administrator's approval,
    // and then it applies.
    d.cmd("DELETE", "/cookie", None);
    d.goto(&format!("{base}/login"));
    d.click("#register-link a");
    let base17 = "91440300MA0000005";
    let good = format!(
        "{base17}{}",
        zizhi_domain::uscc::check_char(base17).unwrap()
    );
    let wrong = format!("{base17}{}", if good.ends_with('0') { '1' } else { '0' });
    for (id, v) in [
        ("#r-name", "深圳灾备服务有限公司"),
        ("#r-uscc", wrong.as_str()),
        ("#r-address", "深圳市南山区科技园 1 号"),
        ("#r-legal_representative", "周九"),
        ("#r-contact_person", "吴十"),
        ("#r-contact_phone", "0755-12345678"),
        ("#r-contact_email", "wu@szzaibei.example"),
        ("#r-username", "szzaibei"),
        ("#r-password", zizhi_app::demo::DEMO_PASSWORD),
        ("#r-again", zizhi_app::demo::DEMO_PASSWORD),
    ] {
        d.type_into(id, v);
    }
    d.click("#register-submit");
    d.wait_text("#r-uscc-error", "校验");
    assert!(d.text("#r-pledge-error").contains("真实"));
    assert_eq!(
        d.js("return document.querySelector('#r-name').value")
            .as_str(),
        Some("深圳灾备服务有限公司"),
        "what was typed is kept"
    );
    assert_eq!(
        d.js("return document.querySelector('#r-password').value")
            .as_str(),
        Some(""),
        "the password is typed again"
    );
    assert!(d.axe().is_empty(), "the form with errors is accessible");
    d.screenshot("register-errors");
    d.js("document.querySelector('#r-uscc').value = ''; return null;");
    d.type_into("#r-uscc", &good);
    d.type_into("#r-password", zizhi_app::demo::DEMO_PASSWORD);
    d.type_into("#r-again", zizhi_app::demo::DEMO_PASSWORD);
    d.click("#r-pledge");
    d.click("#register-submit");
    d.wait_text("#register-done", "wu@szzaibei.example");
    d.screenshot("register-done");
    let link = rt.block_on(async {
        let db = zizhi_store::Db::connect(&database_url).await.unwrap();
        let mails = zizhi_store::outbox::for_recipient(&db, "wu@szzaibei.example", 5)
            .await
            .unwrap();
        let body = &mails
            .iter()
            .find(|m| m.subject.contains("确认电子邮箱"))
            .expect("a confirmation mail")
            .body;
        let at = body.find("/register/confirm/").unwrap();
        body[at..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect::<String>()
    });
    d.goto(&format!("{base}{link}"));
    d.click("#confirm-submit");
    d.wait_text("#confirm-done", "已确认");
    d.sign_in(&base, "szzaibei");
    assert!(d.text("#registration-state").contains("待审核"));
    d.sign_in(&base, "demo-admin");
    d.click("#registration-todo a");
    d.click("#pending a");
    assert!(d.text("#registration-confirmed").contains("已确认"));
    assert!(d.axe().is_empty(), "the decision form is accessible");
    d.click("#reject-registration");
    d.wait_text("#registration-reason-error", "理由");
    d.screenshot("registration-decision");
    d.click("#approve-registration");
    d.wait_text("#flash", "已审核通过");
    d.sign_in(&base, "szzaibei");
    d.goto(&format!("{base}/cases"));
    d.click("#create-case button");
    d.wait_text("#stage", "草稿");
}
