//! Configuration: defaults, file, environment, and the errors that name the key.

use std::net::IpAddr;

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn cookies_are_secure_unless_the_server_listens_on_loopback_only() {
    assert!(
        !Config::default().cookies_secure(),
        "127.0.0.1: development"
    );
    let mut c = Config {
        listen: "0.0.0.0:8080".parse().unwrap(),
        ..Config::default()
    };
    assert!(c.cookies_secure());
    c.secure_cookies = Some(false);
    assert!(!c.cookies_secure(), "an explicit setting wins");
    c.listen = "127.0.0.1:8080".parse().unwrap();
    c.secure_cookies = Some(true);
    assert!(c.cookies_secure());
}

#[test]
fn trusted_proxies_are_addresses_or_blocks() {
    let env =
        |k: &str| (k == "ZIZHI_TRUSTED_PROXIES").then(|| "10.0.0.0/8, 192.168.1.7,::1".to_string());
    let c = Config::load(None, &env).unwrap();
    assert_eq!(c.trusted_proxies.len(), 3);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(c.trusted_proxies[0].contains(ip("10.255.0.1")));
    assert!(
        c.trusted_proxies[0].contains(ip("::ffff:10.1.2.3")),
        "mapped"
    );
    assert!(!c.trusted_proxies[0].contains(ip("11.0.0.1")));
    assert!(c.trusted_proxies[1].contains(ip("192.168.1.7")));
    assert!(!c.trusted_proxies[1].contains(ip("192.168.1.8")));
    assert!(c.trusted_proxies[2].contains(ip("::1")));
    assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    for bad in ["10.0.0.0/33", "example.com", "10.0.0.0/x"] {
        let env = |k: &str| (k == "ZIZHI_TRUSTED_PROXIES").then(|| bad.to_string());
        assert_eq!(
            Config::load(None, &env).unwrap_err().key,
            "trusted_proxies",
            "{bad}"
        );
    }
    assert!(
        Config::default().trusted_proxies.is_empty(),
        "none by default"
    );
    assert!(
        Config::default().require_totp_for_staff,
        "staff 2FA on by default"
    );
}

#[test]
fn single_sign_on_needs_its_settings_together() {
    assert_eq!(Config::default().oidc().unwrap(), None, "off by default");
    let env = |k: &str| (k == "ZIZHI_OIDC_ISSUER").then(|| "https://idp.example".to_string());
    assert_eq!(Config::load(None, &env).unwrap_err().key, "oidc_client_id");
    let env = |k: &str| match k {
        "ZIZHI_OIDC_ISSUER" => Some("https://idp.example".to_string()),
        "ZIZHI_OIDC_CLIENT_ID" => Some("zizhi".to_string()),
        "ZIZHI_OIDC_REDIRECT_URL" => Some("https://zizhi.example/elsewhere".to_string()),
        _ => None,
    };
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "oidc_redirect_url"
    );
    let env = |k: &str| match k {
        "ZIZHI_OIDC_ISSUER" => Some("https://idp.example".to_string()),
        "ZIZHI_OIDC_CLIENT_ID" => Some("zizhi".to_string()),
        "ZIZHI_OIDC_CLIENT_SECRET" => Some("s3cr3t-oidc".to_string()),
        "ZIZHI_OIDC_REDIRECT_URL" => Some("https://zizhi.example/login/oidc/callback".to_string()),
        _ => None,
    };
    let c = Config::load(None, &env).unwrap();
    let o = c.oidc().unwrap().unwrap();
    assert_eq!(o.role_claim, "zizhi_role");
    assert_eq!(o.scopes, ["openid", "profile", "email"]);
    assert!(!format!("{c:?}").contains("s3cr3t-oidc"));
}

#[test]
fn secrets_are_not_debug_printed() {
    let c = Config {
        smtp_url: Some("smtps://user:hunter2@mail.example:465".into()),
        evidence_url: Some("s3://AK:s3cr3t@127.0.0.1:9000/bucket".into()),
        ..Config::default()
    };
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("s3cr3t"),
        "{shown}"
    );
    let s3 = zizhi_store::files::S3Config::parse("s3://AK:s3cr3t@127.0.0.1:9000/bucket").unwrap();
    assert!(!format!("{s3:?}").contains("s3cr3t"));
    let t = zizhi_app::notify::parse_smtp_url("smtps://user:hunter2@mail.example:465").unwrap();
    assert!(!format!("{t:?}").contains("hunter2"));
}

#[test]
fn defaults_serve_on_loopback_8080_with_sqlite_in_the_data_dir() {
    let c = Config::load(None, &no_env).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url(), "sqlite:zizhi-data/zizhi.db");
}

#[test]
fn the_file_then_the_environment_override_defaults() {
    let dir = std::env::temp_dir().join(format!("zizhi-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("zizhi.toml");
    std::fs::write(&f, "listen = \"127.0.0.1:9000\"\nlockout_threshold = 3\n").unwrap();
    let env = |k: &str| (k == "ZIZHI_LOCKOUT_THRESHOLD").then(|| "7".to_string());
    let c = Config::load(Some(&f), &env).unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert_eq!(c.lockout_threshold, 7);
}

#[test]
fn invalid_configuration_names_the_key() {
    let dir = std::env::temp_dir().join(format!("zizhi-cfg-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("zizhi.toml");
    std::fs::write(&f, "lisen = \"x\"\n").unwrap();
    assert_eq!(Config::load(Some(&f), &no_env).unwrap_err().key, "lisen");
    std::fs::write(&f, "listen = \"nowhere\"\n").unwrap();
    assert_eq!(Config::load(Some(&f), &no_env).unwrap_err().key, "listen");
    let env = |k: &str| (k == "ZIZHI_SECURE_COOKIES").then(|| "maybe".to_string());
    assert_eq!(Config::load(None, &env).unwrap_err().key, "secure_cookies");
    let env = |k: &str| (k == "ZIZHI_DATABASE").then(|| "mysql://x".to_string());
    assert_eq!(Config::load(None, &env).unwrap_err().key, "database");
    let env = |k: &str| (k == "ZIZHI_CERTIFICATE_NUMBER_TEMPLATE").then(|| "ZZ-{year}".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "certificate_number_template"
    );
    let env = |k: &str| (k == "ZIZHI_PANEL_MIN_EXPERTS").then(|| "0".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "panel_min_experts"
    );
    let env = |k: &str| (k == "ZIZHI_RENEWAL_REMINDER_MONTHS").then(|| "9,x".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "renewal_reminder_months"
    );
    let env = |k: &str| (k == "ZIZHI_RENEWAL_REMINDER_MONTHS").then(|| "12, 3".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap().renewal_reminder_months,
        [12, 3]
    );
    let env = |k: &str| (k == "ZIZHI_RETENTION_YEARS").then(|| "5".to_string());
    assert_eq!(Config::load(None, &env).unwrap_err().key, "retention_years");
    let env = |k: &str| (k == "ZIZHI_RETENTION_YEARS").then(|| "6".to_string());
    assert_eq!(Config::load(None, &env).unwrap().retention_years, 6);
    let env = |k: &str| (k == "ZIZHI_COMPLAINTS_PER_HOUR").then(|| "0".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "complaints_per_hour"
    );
    let env = |k: &str| (k == "ZIZHI_COMPLAINTS_PER_HOUR").then(|| "1".to_string());
    assert_eq!(Config::load(None, &env).unwrap().complaints_per_hour, 1);
    let env = |k: &str| (k == "ZIZHI_APPEAL_WINDOW_DAYS").then(|| "0".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "appeal_window_days"
    );
    let env = |k: &str| (k == "ZIZHI_RECTIFICATION_DAYS").then(|| "0".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "rectification_days"
    );
    let env = |k: &str| (k == "ZIZHI_EVIDENCE_URL").then(|| "s3://bucket".to_string());
    assert_eq!(Config::load(None, &env).unwrap_err().key, "evidence_url");
    let env = |k: &str| (k == "ZIZHI_SMTP_URL").then(|| "smtp://".to_string());
    assert_eq!(Config::load(None, &env).unwrap_err().key, "smtp_url");
    let env = |k: &str| (k == "ZIZHI_MAIL_FROM").then(|| "not a mailbox".to_string());
    assert_eq!(Config::load(None, &env).unwrap_err().key, "mail_from");
    let env = |k: &str| (k == "ZIZHI_SESSION_IDLE_MINUTES").then(|| "1".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap_err().key,
        "session_idle_minutes"
    );
}

#[test]
fn the_centre_address_defaults_to_the_guides_and_may_not_be_empty() {
    // 十、联系方式: 北京市海淀区上地西路 8 号院 1 号楼（邮编：100085）.
    let c = Config::load(None, &no_env).unwrap();
    assert!(
        c.centre_address.contains("上地西路 8 号院 1 号楼"),
        "{}",
        c.centre_address
    );
    assert!(c.centre_address.contains("100085"));
    let env = |k: &str| (k == "ZIZHI_CENTRE_ADDRESS").then(|| "上海市某路 1 号".to_string());
    assert_eq!(
        Config::load(None, &env).unwrap().centre_address,
        "上海市某路 1 号"
    );
    let env = |k: &str| (k == "ZIZHI_CENTRE_ADDRESS").then(|| "  ".to_string());
    let e = Config::load(None, &env).unwrap_err();
    assert_eq!(e.key, "centre_address", "{e:?}");
}

/// `pg_reads_at_once` (issue 14): unset by default (the store decides from where the server
/// is), 1 to 64 from the file or the environment, anything else refused with the key named.
#[test]
fn pg_reads_at_once_is_unset_or_one_to_sixty_four() {
    assert_eq!(
        Config::load(None, &no_env).unwrap().pg_reads_at_once(),
        None
    );
    let dir = std::env::temp_dir().join(format!("zizhi-cfg-reads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("zizhi.toml");
    std::fs::write(&f, "pg_reads_at_once = 4\n").unwrap();
    assert_eq!(
        Config::load(Some(&f), &no_env).unwrap().pg_reads_at_once(),
        Some(4)
    );
    let with =
        |v: &'static str| move |k: &str| (k == "ZIZHI_PG_READS_AT_ONCE").then(|| v.to_string());
    assert_eq!(
        Config::load(Some(&f), &with("8"))
            .unwrap()
            .pg_reads_at_once(),
        Some(8),
        "the environment over the file"
    );
    for ok in [("1", 1), ("64", 64)] {
        assert_eq!(
            Config::load(None, &with(ok.0)).unwrap().pg_reads_at_once(),
            Some(ok.1)
        );
    }
    for bad in ["0", "65", "-1", "four"] {
        let e = Config::load(None, &with(bad)).unwrap_err();
        assert_eq!(e.key, "pg_reads_at_once", "{bad}");
    }
    std::fs::write(&f, "pg_reads_at_once = 0\n").unwrap();
    let e = Config::load(Some(&f), &no_env).unwrap_err();
    assert_eq!(e.key, "pg_reads_at_once");
    assert_eq!(e.problem, "must be 1 to 64");
}
