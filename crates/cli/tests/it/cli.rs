//! Runs the real `zizhi` binary on profiles, packs and bad inputs.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR")
            .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
    )
    .join("../..")
}

fn zizhi(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zizhi"))
        .args(args)
        .current_dir(root())
        .env_remove("ZIZHI_LANG")
        .env_remove("ZIZHI_HOLIDAYS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn example() -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("examples/profile.json")).unwrap())
        .unwrap()
}

#[test]
fn the_example_profile_is_assessed_in_chinese_by_default() {
    let o = zizhi(&["assess", "examples/profile.json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("信息安全服务资质自评估报告"));
    assert!(
        text.contains("结论：符合申请的基本条件（满足 5 项，不满足 0 项，待审核 14 项）"),
        "{text}"
    );
    assert!(text.contains("87,000.00 元（审核费用 72,000.00 元 + 三年年金 15,000.00 元）"));
    assert!(text.contains("✔ 3.2.2"));
}

#[test]
fn english_is_available_by_flag_and_environment() {
    let o = zizhi(&["--lang", "en", "assess", "examples/profile.json"], None);
    assert!(
        out(&o).contains("Result: meets the conditions to apply"),
        "{}",
        out(&o)
    );
    let o = Command::new(env!("CARGO_BIN_EXE_zizhi"))
        .args(["assess", "examples/profile.json"])
        .current_dir(root())
        .env("ZIZHI_LANG", "en")
        .output()
        .unwrap();
    assert!(out(&o).contains("CNY 87,000.00"));
}

#[test]
fn json_output_lists_every_requirement_with_a_status() {
    let o = zizhi(
        &["assess", "-", "--format", "json"],
        Some(&example().to_string()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["pack"], "disaster_recovery/2@2026.1");
    assert_eq!(r["eligible"], true);
    assert_eq!(r["application_kind"], "initial");
    assert_eq!(r["renewal_timing"], Value::Null);
    assert_eq!(r["fee_cny"], 87000);
    let reqs = r["requirements"].as_array().unwrap();
    assert_eq!(reqs.len(), 19);
    for q in reqs {
        assert!(["met", "not_met", "needs_review"].contains(&q["status"].as_str().unwrap()));
        assert!(!q["reason"].as_str().unwrap().is_empty());
    }
}

#[test]
fn an_unmet_rule_makes_the_json_ineligible_with_the_numbers_in_the_reason() {
    let mut v = example();
    v["organization"]["registered_capital_cny"] = json!("9999999.99");
    v["kind"] = json!("maintenance");
    v["certificates"] = json!([{"category": "disaster_recovery", "level": 2, "number": "N-2", "valid_until": "2027-01-31", "status": "valid"},
                               {"category": "disaster_recovery", "level": 1, "number": "N-1", "valid_until": "2027-08-31", "status": "valid"}]);
    let o = zizhi(&["assess", "-", "--format", "json"], Some(&v.to_string()));
    let r: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(r["eligible"], false);
    assert_eq!(r["application_kind"], "maintenance");
    assert_eq!(r["renewal_timing"], "late");
    assert_eq!(r["fee_cny"], 63000);
    let cap = r["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "3.2.2")
        .unwrap();
    assert_eq!(cap["status"], "not_met");
    assert!(cap["reason"].as_str().unwrap().contains("9,999,999.99 元"));
}

#[test]
fn bad_input_exits_2_naming_the_field_and_never_panics() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| v["organization"]["uscc"] = json!("91350100M000100Y44")),
            "organization.uscc",
        ),
        (
            Box::new(|v| v["organization"]["uscc"] = json!("91350100S000100Y43")),
            "organization.uscc",
        ),
        (
            Box::new(|v| {
                v["organization"].as_object_mut().unwrap().remove("uscc");
            }),
            "缺少字段 organization.uscc",
        ),
        (
            Box::new(|v| v["organization"]["motto"] = json!("x")),
            "未知字段 organization.motto",
        ),
        (Box::new(|v| v["as_of"] = json!("2026-02-29")), "as_of"),
        (
            Box::new(|v| v["staff"]["full_time_registered_professionals"] = json!(-1)),
            "staff.full_time_registered_professionals",
        ),
        (
            Box::new(|v| v["category"] = json!("security_engineering")),
            "category",
        ),
        (Box::new(|v| v["level"] = json!(5)), "level"),
        (Box::new(|v| v["level"] = json!(0)), "level"),
        (Box::new(|v| v["kind"] = json!("first")), "kind"),
        (
            Box::new(|v| v["certificates"][0]["status"] = json!("ok")),
            "certificates[0].status",
        ),
        (
            Box::new(|v| v["track_record"]["completed_dr_project_value_cny"] = json!("2千万")),
            "track_record.completed_dr_project_value_cny",
        ),
        (
            Box::new(|v| v["staff"]["dr_technical_staff"] = json!(1.5)),
            "staff.dr_technical_staff",
        ),
        (
            Box::new(|v| {
                v["track_record"]["dr_construction_projects"][0]["gbt20988_level"] = json!(9)
            }),
            "track_record.dr_construction_projects[0].gbt20988_level",
        ),
    ];
    for (edit, field) in cases {
        let mut v = example();
        edit(&mut v);
        let o = zizhi(&["assess", "-"], Some(&v.to_string()));
        assert_eq!(o.status.code(), Some(2), "{field}: {}", err(&o));
        assert!(err(&o).contains(field), "{field}: {}", err(&o));
        assert!(err(&o).starts_with("错误："), "{}", err(&o));
        assert!(!err(&o).contains("panicked"));
        assert!(out(&o).is_empty());
    }
    for garbage in ["", "{", "[]", "null", "{\"as_of\": 1}", "\u{feff}{}"] {
        let o = zizhi(&["assess", "-"], Some(garbage));
        assert_eq!(o.status.code(), Some(2), "{garbage:?}: {}", err(&o));
        assert!(!err(&o).contains("panicked"));
    }
    let o = zizhi(&["--lang", "en", "assess", "does-not-exist.json"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("error: cannot read file does-not-exist.json"),
        "{}",
        err(&o)
    );
}

#[test]
fn criteria_list_show_and_validate() {
    let o = zizhi(&["criteria", "list"], None);
    let text = out(&o);
    assert!(text.contains("disaster_recovery/2") && text.contains("[正式]"));
    assert!(text.contains("disaster_recovery/1") && text.contains("[草案，数值待定]"));

    let o = zizhi(&["criteria", "show", "disaster_recovery/2"], None);
    let text = out(&o);
    assert!(
        text.contains("初次申请费用：72,000.00 元 + 15,000.00 元 = 87,000.00 元"),
        "{text}"
    );
    assert!(text.contains("维持申请费用：48,000.00 元 + 15,000.00 元 = 63,000.00 元"));
    assert!(text.contains("3.2.4  [自动]"));
    assert!(
        text.contains("专职注册信息安全专业人员 ≥ max(6, ⌈10% × 从事灾难恢复服务专业技术人员⌉)")
    );
    let o = zizhi(&["criteria", "show", "disaster_recovery/9"], None);
    assert_eq!(o.status.code(), Some(2));

    let o = zizhi(
        &[
            "criteria",
            "validate",
            "crates/domain/criteria/disaster_recovery/level2.toml",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));

    let dir = std::env::temp_dir().join(format!("zizhi-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    let src = std::fs::read_to_string(
        root().join("crates/domain/criteria/disaster_recovery/level2.toml"),
    )
    .unwrap();
    std::fs::write(
        &bad,
        src.replace("total_cny = \"63000\"", "total_cny = \"64000\""),
    )
    .unwrap();
    let o = zizhi(&["criteria", "validate", bad.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    let line = src[..src.find("total_cny = \"63000\"").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert!(
        err(&o).contains(&format!("bad.toml:{line}:")),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("total_cny says 64000.00"), "{}", err(&o));
}

#[test]
fn deadlines_follow_the_civil_code_over_the_holiday_calendar() {
    let o = zizhi(&["deadline", "2026-01-15", "--months", "1"], None);
    let text = out(&o);
    assert!(text.contains("对应日：2026年2月15日"), "{text}");
    assert!(text.contains("对应日为春节"));
    assert!(text.contains("期间最后一日：2026年2月24日"));
    let o = zizhi(&["deadline", "2026-02-30", "--months", "1"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_administrators_calendar_file_extends_the_shipped_one() {
    let o = zizhi(&["deadline", "2027-09-01", "--months", "1"], None);
    assert!(out(&o).contains("期间最后一日：2027年10月1日"));
    assert!(out(&o).contains("暂定"));

    let dir = std::env::temp_dir().join(format!("zizhi-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("2027.toml");
    std::fs::write(
        &file,
        "format = 1\n[[year]]\nyear = 2027\nnotice = \"test\"\nholiday = [{ name_zh = \"国庆节\", name_en = \"National Day\", from = \"2027-10-01\", to = \"2027-10-07\" }]\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let o = zizhi(
        &["--holidays", f, "deadline", "2027-09-01", "--months", "1"],
        None,
    );
    assert!(
        out(&o).contains("期间最后一日：2027年10月8日"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains("暂定"));
    let o = zizhi(&["calendar", "validate", f], None);
    assert_eq!(o.status.code(), Some(0));

    std::fs::write(&file, "format = 1\n[[year]]\nyear = 2027\nnotice = \"x\"\nholiday = [{ name_zh = \"a\", name_en = \"a\", from = \"2027-10-09\", to = \"2027-10-01\" }]\n").unwrap();
    let o = zizhi(&["calendar", "validate", f], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("2027.toml:5:"), "{}", err(&o));
    let o = zizhi(&["--holidays", f, "assess", "examples/profile.json"], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn demo_seeds_every_stage_once_and_says_so_the_second_time() {
    let dir = std::env::temp_dir().join(format!("zizhi-demo-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let o = zizhi(&["demo", "--data-dir", d], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("zizhi-demo-2026") && out.contains("demo-lead"),
        "{out}"
    );
    for stage in [
        "草稿",
        "补充资料中",
        "逾期未补充资料",
        "专家评审",
        "已发证",
        "已撤回",
    ] {
        assert!(out.contains(stage), "{stage} missing: {out}");
    }
    let o = zizhi(
        &[
            "demo",
            "--data-dir",
            d,
            "--bench-cases",
            "20",
            "--bench-certificates",
            "30",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("already there") && out.contains("20 cases, 30 certificates"),
        "{out}"
    );
    let o = zizhi(&["audit", "verify", "--data-dir", d], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The scheduled jobs from the command line (cron): each runs, nothing is due in the demo.
    let o = zizhi(&["jobs", "run-once", "--data-dir", d], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("lapse_supplements: ")
            && out.contains("escalate_rectifications: 0")
            && out.contains("merge_register_index: "),
        "{out}"
    );
    // The notifications the demo and the jobs queued, delivered from the command line: every
    // one, over several of the worker's rounds of twenty, into the outbox folder; then none.
    let o = zizhi(&["jobs", "deliver-mail", "--data-dir", d], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let sent: usize = out
        .split("sent ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(sent > 20, "more than one round: {out}");
    assert!(out.contains("to retry 0, given up 0"), "{out}");
    let files = std::fs::read_dir(dir.join("outbox"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".eml")
        })
        .count();
    assert_eq!(files, sent, "one file per message sent");
    let o = zizhi(&["jobs", "deliver-mail", "--data-dir", d], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("sent 0, to retry 0"),
        "nothing left: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12 (八): `zizhi archive export` writes a certified case's file as a BagIt 1.0 bag
/// (evidence, letters, the certificate, audit events); `zizhi archive verify` accepts it and
/// the Python `bagit` tool validates it (when ZIZHI_PYTHON is set, as `.ci/run` does); a
/// changed payload byte fails both, naming the file; bad input exits 2.
#[test]
fn a_case_file_exports_as_a_bag_that_validates_and_tampering_is_caught() {
    let dir = std::env::temp_dir().join(format!("zizhi-bag-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let o = zizhi(&["demo", "--data-dir", d], None);
    assert!(o.status.success(), "{}", err(&o));
    // The demo's certified case is /cases/12.
    let bag = dir.join("bag");
    let b = bag.to_str().unwrap();
    let o = zizhi(
        &["archive", "export", "12", "--to", b, "--data-dir", d],
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("External-Identifier: ZZ-") && info.contains("Payload-Oxum: "));
    for part in [
        "data/case.json",
        "data/audit.jsonl",
        "data/rounds/round-1.json",
    ] {
        assert!(bag.join(part).is_file(), "{part}");
    }
    let pdfs = std::fs::read_dir(bag.join("data/letters")).unwrap().count();
    assert!(pdfs >= 1, "the case's letters are in the bag");
    let manifest = std::fs::read_to_string(bag.join("manifest-sm3.txt")).unwrap();
    assert!(manifest.contains("data/certificate/"), "{manifest}");
    let o = zizhi(&["archive", "verify", b], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("valid"), "{}", out(&o));
    let python = std::env::var("ZIZHI_PYTHON").ok();
    let bagit = |path: &str| {
        python.as_ref().map(|py| {
            Command::new(py)
                .args(["-m", "bagit", "--validate", path])
                .output()
                .expect("python runs")
        })
    };
    if let Some(v) = bagit(b) {
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    }
    // A changed byte of the payload is found by both.
    let case_json = bag.join("data/case.json");
    let mut bytes = std::fs::read(&case_json).unwrap();
    bytes[2] ^= 0x20;
    std::fs::write(&case_json, bytes).unwrap();
    let o = zizhi(&["archive", "verify", b], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("data/case.json"), "{}", err(&o));
    if let Some(v) = bagit(b) {
        assert!(!v.status.success());
    }
    // Bad input: an existing bag as the target, an unknown case, not a bag.
    let o = zizhi(
        &["archive", "export", "12", "--to", b, "--data-dir", d],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let other = dir.join("other");
    let o = zizhi(
        &[
            "archive",
            "export",
            "ZZ-2026-99999",
            "--to",
            other.to_str().unwrap(),
            "--data-dir",
            d,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let o = zizhi(&["archive", "verify", d], None);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12: `zizhi backup` then `zizhi restore` into a new data directory (checks pass, the
/// signing keys come along); restoring over existing data or backing up to an unusable s3://
/// address is refused (exit 2); a changed byte of the backup's database fails the restore (exit 1).
#[test]
fn backup_and_restore_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("zizhi-backup-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    assert!(zizhi(&["demo", "--data-dir", d], None).status.success());
    let bk = dir.join("backup");
    let b = bk.to_str().unwrap();
    let o = zizhi(&["backup", "--to", b, "--data-dir", d], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("objects"), "{}", out(&o));
    let restored = dir.join("restored");
    let r = restored.to_str().unwrap();
    let o = zizhi(&["restore", "--from", b, "--data-dir", r], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("audit chain intact"), "{}", out(&o));
    assert!(std::fs::read_dir(restored.join("signing")).unwrap().count() >= 2);
    let o = zizhi(&["audit", "verify", "--data-dir", r], None);
    assert!(o.status.success(), "{}", err(&o));
    let o = zizhi(&["restore", "--from", b, "--data-dir", r], None);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let o = zizhi(&["backup", "--to", "s3://bucket/x", "--data-dir", d], None);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let db = bk.join("db/zizhi.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[200] ^= 1;
    std::fs::write(&db, bytes).unwrap();
    let again = dir.join("again");
    let o = zizhi(
        &[
            "restore",
            "--from",
            b,
            "--data-dir",
            again.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("SHA-256"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12: a backup kept in a bucket of a real S3-compatible server (s3s-fs on loopback):
/// `zizhi backup --to s3://…` (the address may come from `ZIZHI_BACKUP_TO`), a second backup
/// copies no object again, and `zizhi restore --from s3://…` into a new data directory passes
/// every check with the signing keys back; a bucket without a backup is refused (exit 2).
#[test]
fn backup_to_and_restore_from_an_object_store() {
    let Some(s3) = zizhi_testkit::s3_server(&["backups", "empty"]) else {
        return;
    };
    let dir = zizhi_testkit::temp_dir("zizhi-backup-s3");
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    assert!(zizhi(&["demo", "--data-dir", d], None).status.success());
    let url = s3.url("backups");
    let o = zizhi(&["backup", "--to", &url, "--data-dir", d], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("s3:backups"), "{}", out(&o));
    assert!(!out(&o).contains("SKSKSKSK"), "the secret is never printed");
    // The address from the environment; nothing new to copy.
    let again = Command::new(env!("CARGO_BIN_EXE_zizhi"))
        .args(["backup", "--data-dir", d])
        .env("ZIZHI_BACKUP_TO", &url)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", err(&again));
    assert!(out(&again).contains("(0 new"), "{}", out(&again));
    // One snapshot's database file remains in the bucket (the older one went).
    fn files_under(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.map(|e| {
                    let p = e.unwrap().path();
                    if p.is_dir() { files_under(&p) } else { 1 }
                })
                .sum()
            })
            .unwrap_or(0)
    }
    assert_eq!(files_under(&s3.root.join("backups/db")), 1);
    let restored = dir.join("restored");
    let r = restored.to_str().unwrap();
    let o = zizhi(&["restore", "--from", &url, "--data-dir", r], None);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("audit chain intact"), "{}", out(&o));
    assert!(std::fs::read_dir(restored.join("signing")).unwrap().count() >= 2);
    assert!(
        !restored.join("restore-staging").exists(),
        "the staging goes"
    );
    let o = zizhi(&["audit", "verify", "--data-dir", r], None);
    assert!(o.status.success(), "{}", err(&o));
    let o = zizhi(
        &[
            "restore",
            "--from",
            &s3.url("empty"),
            "--data-dir",
            dir.join("none").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("manifest.json"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 12: `scripts/crash-test` with a few kills on each backend: a workload against a real
/// server killed with SIGKILL at random moments loses no acknowledged write, and the audit
/// chain and every evidence hash hold afterwards. (More kills: run the script by hand.)
#[test]
fn the_crash_test_loses_no_acknowledged_write() {
    let mut targets: Vec<Option<String>> = vec![None];
    if let Ok(url) = std::env::var("ZIZHI_TEST_POSTGRES_URL") {
        let schema = format!("crash_{}", std::process::id());
        let sep = if url.contains('?') { '&' } else { '?' };
        targets.push(Some(format!("{url}{sep}options=-csearch_path%3D{schema}")));
    }
    for database in targets {
        let mut cmd = Command::new("python3");
        cmd.arg(root().join("scripts/crash-test")).args([
            "--kills",
            "3",
            "--binary",
            env!("CARGO_BIN_EXE_zizhi"),
        ]);
        if let Some(db) = &database {
            cmd.args(["--database", db]);
        }
        let o = cmd.output().expect("python3 runs the crash test");
        assert!(
            o.status.success(),
            "{database:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out(&o).contains("0 lost or broken"), "{}", out(&o));
    }
}
