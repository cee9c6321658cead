//! Issue 10: a certificate PDF is checked offline by `zizhi certificate verify` — exit 0 valid,
//! 1 with the reason (altered, unknown key, not a zizhi certificate), 2 for unusable input — and
//! its signature is the one OpenSSL verifies (SM3 digest, GM/T 0009's default id).

use std::path::Path;
use std::process::{Command, Output};

use zizhi_app::signing::{DISTID, Signer};

fn zizhi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zizhi"))
        .args(args)
        .env_remove("ZIZHI_LANG")
        .env_remove("ZIZHI_DATABASE")
        .env_remove("ZIZHI_DATA_DIR")
        .env("ZIZHI_REQUIRE_TOTP_FOR_STAFF", "false")
        .output()
        .unwrap()
}

/// The demo's issued certificate as its PDF, fetched the way the server does.
fn issued_pdf(data: &Path) -> Vec<u8> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = zizhi_store::Db::connect(&format!("sqlite:{}", data.join("zizhi.db").display()))
            .await
            .unwrap();
        let files = zizhi_store::files::FileStore::open(&data.join("evidence"))
            .await
            .unwrap();
        let app = zizhi_app::App::new(
            db,
            files,
            zizhi_app::AppConfig {
                require_totp_for_staff: false,
                ..Default::default()
            },
        );
        let officer = app
            .login("demo-officer", zizhi_app::demo::DEMO_PASSWORD, None)
            .await
            .unwrap()
            .actor;
        let (_, batches) = app.certificate_desk(&officer).await.unwrap();
        let case_id = batches
            .iter()
            .flat_map(|(_, cases)| cases.iter())
            .next()
            .expect("the demo issued a batch")
            .id;
        let number = zizhi_store::certificates::for_case(app.store_for_tests(), case_id)
            .await
            .unwrap()
            .expect("the demo issued a certificate")
            .number;
        app.certificate_pdf(&officer, &number).await.unwrap()
    })
}

#[test]
fn a_certificate_pdf_is_checked_offline() {
    if zizhi_docs::Fonts::load(&zizhi_docs::Fonts::default_dir()).is_err() {
        assert!(
            std::env::var("ZIZHI_REQUIRE_FONTS").as_deref() != Ok("1"),
            "fonts-noto-cjk is required"
        );
        eprintln!("fonts-noto-cjk not installed: skipped");
        return;
    }
    let dir = zizhi_testkit::temp_dir("zizhi_certpdf");
    let data = dir.join("data");
    let o = zizhi(&["demo", "--data-dir", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pdf = issued_pdf(&data);
    let file = dir.join("cert.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let f = file.to_str().unwrap();
    let d = data.to_str().unwrap();

    // Valid with the data directory's keys, and with the published key file.
    let ok = zizhi(&["certificate", "verify", f, "--data-dir", d]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("有效 / valid"));
    let keys = std::fs::read_dir(data.join("signing"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".pub.pem"))
        .unwrap();
    let ok = zizhi(&["certificate", "verify", f, "--key", keys.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0));

    // One byte changed anywhere outside the seal: altered (exit 1, saying so).
    let slot = pdf
        .windows(zizhi_docs::seal::MARK.len())
        .position(|w| w == zizhi_docs::seal::MARK.as_bytes())
        .unwrap();
    for at in [pdf.len() / 3, pdf.len() - 10] {
        assert!(!(slot..slot + zizhi_docs::seal::LEN).contains(&at));
        let mut bad = pdf.clone();
        bad[at] ^= 0x01;
        let b = dir.join("altered.pdf");
        std::fs::write(&b, &bad).unwrap();
        let o = zizhi(&[
            "certificate",
            "verify",
            b.to_str().unwrap(),
            "--data-dir",
            d,
        ]);
        assert_eq!(o.status.code(), Some(1), "byte {at}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("改动"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    // Another centre's key: unknown key.
    let other = dir.join("other.pem");
    std::fs::write(&other, &Signer::generate().public().pem).unwrap();
    let o = zizhi(&["certificate", "verify", f, "--key", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("密钥"));

    // A PDF that is not a zizhi certificate; not a PDF; no file: 1, 2, 2.
    let plain = dir.join("plain.pdf");
    std::fs::write(&plain, b"%PDF-1.7\n%%EOF\n").unwrap();
    let o = zizhi(&[
        "certificate",
        "verify",
        plain.to_str().unwrap(),
        "--data-dir",
        d,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("不是本系统签发的证书"));
    let text = dir.join("x.txt");
    std::fs::write(&text, b"hello").unwrap();
    assert_eq!(
        zizhi(&[
            "certificate",
            "verify",
            text.to_str().unwrap(),
            "--data-dir",
            d
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        zizhi(&["certificate", "verify", "/nonexistent.pdf"])
            .status
            .code(),
        Some(2)
    );

    // OpenSSL verifies the sealed record's signature with the published key.
    if Command::new("openssl").arg("version").output().is_ok() {
        use base64::Engine;
        let payload = zizhi_docs::seal::read(&pdf).unwrap();
        let field = |name: &str| {
            payload
                .split(';')
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_string()
        };
        let record = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(field("record"))
            .unwrap();
        std::fs::write(dir.join("record"), &record).unwrap();
        std::fs::write(dir.join("sig.der"), hex::decode(field("sig")).unwrap()).unwrap();
        let o = Command::new("openssl")
            .current_dir(&dir)
            .args([
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                keys.to_str().unwrap(),
                "-rawin",
                "-in",
                "record",
                "-sigfile",
                "sig.der",
                "-digest",
                "sm3",
                "-pkeyopt",
            ])
            .arg(format!("distid:{DISTID}"))
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Signature Verified Successfully"),
            "{o:?}"
        );
        let text = String::from_utf8(record).unwrap();
        assert!(text.contains("holder: 【演示】"), "{text}");
    }
}
