//! `zizhi certificate`: check a certificate PDF offline, rotate the signing key, print timed
//! specimens (issue 10).

use clap::Subcommand;

use crate::{Failure, fail, fail_runtime};

/// Runs one `zizhi certificate` command.
pub fn run(command: &CertificateCommand) -> Result<String, Failure> {
    match command {
        CertificateCommand::Verify {
            file,
            key,
            data_dir,
        } => verify_certificate_file(file, key.as_deref(), data_dir.as_deref()),
        CertificateCommand::RotateKey { data_dir } => rotate_key(data_dir.as_deref()),
        CertificateCommand::Sample {
            out,
            count,
            font_dir,
        } => sample_certificates(out, *count, font_dir.as_deref()),
    }
}

#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Check a certificate PDF against its SM2 signature and the centre's public key: exit 0
    /// valid, 1 not (altered, unknown key, not a zizhi certificate), 2 unusable input.
    Verify {
        /// The certificate PDF.
        file: String,
        /// The public key(s), PEM (e.g. saved from /.well-known/zizhi-signing-keys.pem);
        /// default: the keys in the data directory's `signing/`.
        #[arg(long)]
        key: Option<String>,
        /// The data directory whose keys to use without --key (default ./zizhi-data). Also
        /// ZIZHI_DATA_DIR.
        #[arg(long, env = "ZIZHI_DATA_DIR")]
        data_dir: Option<std::path::PathBuf>,
    },
    /// A new signing key in the data directory's `signing/` (used from the next start); the
    /// old keys stay there and in the published key file, so old certificates keep verifying.
    RotateKey {
        #[arg(long, env = "ZIZHI_DATA_DIR")]
        data_dir: Option<std::path::PathBuf>,
    },
    /// Print specimen certificates (marked 样本, unsigned) to check the layout and fonts, and
    /// time it: one certificate at a time, then all in one PDF.
    Sample {
        /// Where to write the PDF of all specimens.
        #[arg(long)]
        out: String,
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// The fonts' directory (default: Debian's fonts-noto-cjk). Also ZIZHI_FONT_DIR.
        #[arg(long, env = "ZIZHI_FONT_DIR")]
        font_dir: Option<std::path::PathBuf>,
    },
}

fn rotate_key(data_dir: Option<&std::path::Path>) -> Result<String, Failure> {
    let dir = data_dir.map_or_else(
        || std::path::PathBuf::from("zizhi-data"),
        |d| d.to_path_buf(),
    );
    let s = zizhi_app::signing::Signer::create_in(&dir.join("signing")).map_err(|e| {
        fail_runtime(
            format!("无法生成签名密钥：{e}"),
            format!("cannot make a signing key: {e}"),
        )
    })?;
    Ok(format!(
        "新签名密钥 / new signing key {} in {}; 重启服务后启用 / used from the next start; 旧密钥保留用于核验 / old keys stay for verification\n",
        s.public().id,
        dir.join("signing").display()
    ))
}

fn sample_certificates(
    out: &str,
    count: usize,
    font_dir: Option<&std::path::Path>,
) -> Result<String, Failure> {
    use std::time::Instant;
    if !(1..=10_000).contains(&count) {
        return Err(fail(
            "--count 应为 1 至 10000",
            "--count must be 1 to 10000",
        ));
    }
    let dir = font_dir.map_or_else(zizhi_docs::Fonts::default_dir, |d| d.to_path_buf());
    let t0 = Instant::now();
    let fonts = zizhi_docs::Fonts::load(&dir)
        .map_err(|e| fail_runtime(format!("字体无法读取：{e}"), format!("fonts: {e}")))?;
    let fonts_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let docs: Vec<zizhi_docs::CertificateDoc> = (1..=count)
        .map(zizhi_docs::CertificateDoc::specimen)
        .collect();
    let render = |d: &[zizhi_docs::CertificateDoc], sealed: bool| {
        zizhi_docs::certificates_pdf(&fonts, d, sealed)
            .map_err(|e| fail_runtime(format!("无法生成 PDF：{e}"), format!("pdf: {e}")))
    };
    let mut each = Vec::new();
    for d in docs.iter().take(20) {
        let t = Instant::now();
        render(std::slice::from_ref(d), true)?;
        each.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    each.sort_by(f64::total_cmp);
    let t = Instant::now();
    let pdf = render(&docs, false)?;
    let batch_ms = t.elapsed().as_secs_f64() * 1000.0;
    std::fs::write(out, &pdf).map_err(|e| {
        fail_runtime(
            format!("无法写入 {out}：{e}"),
            format!("cannot write {out}: {e}"),
        )
    })?;
    Ok(format!(
        "fonts read in {fonts_ms:.0} ms; one certificate: median {:.1} ms, max {:.1} ms ({} runs); {count} certificates in one PDF: {batch_ms:.0} ms, {} bytes → {out}\n",
        each[each.len() / 2],
        each[each.len() - 1],
        each.len(),
        pdf.len()
    ))
}

/// `zizhi certificate verify`.
fn verify_certificate_file(
    file: &str,
    key: Option<&str>,
    data_dir: Option<&std::path::Path>,
) -> Result<String, Failure> {
    use zizhi_app::signing::{PdfCheck, PublicKey, check_pdf, public_keys_in};
    let pdf = std::fs::read(file).map_err(|e| {
        fail(
            format!("无法读取文件 {file}：{e}"),
            format!("cannot read file {file}: {e}"),
        )
    })?;
    if !pdf.starts_with(b"%PDF-") {
        return Err(fail(
            format!("{file} 不是 PDF 文件"),
            format!("{file} is not a PDF file"),
        ));
    }
    let keys = match key {
        Some(k) => {
            let text = std::fs::read_to_string(k).map_err(|e| {
                fail(
                    format!("无法读取公钥文件 {k}：{e}"),
                    format!("cannot read key file {k}: {e}"),
                )
            })?;
            let keys = PublicKey::all_from_pem(&text);
            if keys.is_empty() {
                return Err(fail(
                    format!("{k} 中没有 SM2 公钥（PEM）"),
                    format!("{k} holds no SM2 public key (PEM)"),
                ));
            }
            keys
        }
        None => {
            let dir = data_dir.map_or_else(
                || std::path::PathBuf::from("zizhi-data"),
                |d| d.to_path_buf(),
            );
            let keys = public_keys_in(&dir);
            if keys.is_empty() {
                return Err(fail(
                    format!(
                        "数据目录 {} 中没有签名公钥；请用 --key 指定（可从 /.well-known/zizhi-signing-keys.pem 下载）",
                        dir.display()
                    ),
                    format!(
                        "no signing keys in {}; give --key (e.g. saved from /.well-known/zizhi-signing-keys.pem)",
                        dir.display()
                    ),
                ));
            }
            keys
        }
    };
    match check_pdf(&pdf, &keys) {
        PdfCheck::Valid { record, key_id } => Ok(format!(
            "有效 / valid: {} — {}（{}）, {} – {}, key {key_id}\n",
            record.number, record.holder, record.uscc, record.issued_on, record.valid_until
        )),
        PdfCheck::Altered => Err(fail_runtime(
            "无效：文件已被改动（与签名时的内容不一致）",
            "invalid: the file was altered (it is not the content that was signed)",
        )),
        PdfCheck::UnknownKey(id) => Err(fail_runtime(
            format!("无效：签名所用的密钥 {id} 不在给定的公钥中"),
            format!("invalid: the signing key {id} is not among the given public keys"),
        )),
        PdfCheck::BadSignature => Err(fail_runtime(
            "无效：签名与证书记录不符",
            "invalid: the signature does not match the certificate's record",
        )),
        PdfCheck::NotZizhi(why) => Err(fail_runtime(
            format!("无效：不是本系统签发的证书（{why}）"),
            format!("invalid: not a zizhi certificate ({why})"),
        )),
    }
}
