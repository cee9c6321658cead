//! Certificate documents (issue 10, guide 5.5): each issued certificate becomes a signed PDF,
//! made once at issue and kept (its bytes in the evidence store, its record and SM2 signature in
//! `certificate_seal`); a batch prints as one PDF. Fonts are read per job, not kept: an idle
//! server does not hold them.

use std::sync::Arc;

use serde_json::json;
use sm3::Digest;
use zizhi_docs::{CertificateDoc, Fonts};
use zizhi_domain::lang::{Lang, date_str_text, level_zh};
use zizhi_domain::roles::Role;
use zizhi_store::certificates::{self as store, Certificate, Seal};

use super::blocking;
use crate::policy::Actor;
use crate::signing::{PublicKey, Record, Signer, seal_payload};
use crate::{App, AppError, Result};

/// The category as printed (资质类别).
fn category_text(code: &str) -> &'static str {
    match code {
        "disaster_recovery" => "灾难恢复类",
        _ => "灾难恢复类",
    }
}

fn ymd(s: &str) -> (u16, u8, u8) {
    use chrono::Datelike;
    zizhi_domain::calendar::parse_date(s).map_or((2026, 1, 1), |d| {
        (
            u16::try_from(d.year()).unwrap_or(2026),
            u8::try_from(d.month()).unwrap_or(1),
            u8::try_from(d.day()).unwrap_or(1),
        )
    })
}

/// Checked seals by certificate id: (signature holds, the sealed record).
pub type SealMemo = Arc<std::sync::Mutex<std::collections::HashMap<i64, (bool, Option<Record>)>>>;

/// The centre's postal address as the guide gives it (十、联系方式): 资质评估处.
pub const GUIDE_ADDRESS: &str =
    "中国北京市海淀区上地西路 8 号院 1 号楼，中国信息安全测评中心 资质评估处（邮编：100085）";

/// Where the documents come from: the fonts' directory, the centre's name, the public address
/// the QR code points to, and the signing key.
#[derive(Debug, Clone)]
pub struct DocumentSettings {
    pub font_dir: std::path::PathBuf,
    pub centre_name: String,
    /// Where applicants post the paper application (default: the guide's, 十、联系方式).
    pub centre_address: String,
    /// `https://…` without a trailing slash: the QR code opens `{public_url}/verify/{number}`.
    pub public_url: String,
    pub signer: Arc<Signer>,
    /// Seals already checked, by certificate id (a seal never changes): whether its signature
    /// holds, and its record — so `/verify` does the SM2 arithmetic and reads the seal once per
    /// certificate, not once per request.
    pub checked: SealMemo,
    /// The signer's public key is in the database (registered once per process).
    registered: Arc<std::sync::atomic::AtomicBool>,
}

impl DocumentSettings {
    pub fn new(
        font_dir: std::path::PathBuf,
        centre_name: String,
        public_url: String,
        signer: Signer,
    ) -> DocumentSettings {
        DocumentSettings {
            font_dir,
            centre_name,
            centre_address: GUIDE_ADDRESS.into(),
            public_url,
            signer: Arc::new(signer),
            checked: Default::default(),
            registered: Default::default(),
        }
    }
}

impl Default for DocumentSettings {
    fn default() -> Self {
        DocumentSettings::new(
            Fonts::default_dir(),
            "中国信息安全测评中心".into(),
            "http://127.0.0.1:8080".into(),
            Signer::generate(),
        )
    }
}

fn doc_error(e: zizhi_docs::DocError) -> AppError {
    match e {
        zizhi_docs::DocError::MissingGlyphs(chars) => {
            let list: String = chars
                .iter()
                .map(|c| format!("“{c}”(U+{:04X})", u32::from(*c)))
                .collect::<Vec<_>>()
                .join("、");
            AppError::invalid(
                "holder",
                format!(
                    "证书字体中没有以下字符，不能打印（否则将显示为空白方框）：{list}。请核对单位名称或更换字体后再发证"
                ),
                format!(
                    "the certificate font has no glyph for {list}: it would print as a blank box; check the name or the font before issuing"
                ),
            )
        }
        other => AppError::Internal(format!("documents: {other}")),
    }
}

impl App {
    fn certificate_doc(&self, c: &Certificate) -> CertificateDoc {
        let d = &self.documents;
        CertificateDoc {
            number: c.number.clone(),
            holder: c.holder.clone(),
            uscc: c.uscc.clone(),
            category: category_text(&c.category).into(),
            level: level_zh(u8::try_from(c.level).unwrap_or(0)),
            issued_on: date_str_text(&c.issued_on, Lang::Zh),
            issued_ymd: ymd(&c.issued_on),
            valid_until: date_str_text(&c.valid_until, Lang::Zh),
            centre: d.centre_name.clone(),
            verify_url: format!("{}/verify/{}", d.public_url.trim_end_matches('/'), c.number),
        }
    }

    /// Before issuing: every character the certificates will print has a glyph (guide 5.5; a
    /// blank box on a certificate is not acceptable). Refuses naming the characters.
    pub async fn check_printable(&self, names: &[String]) -> Result<()> {
        let fonts = self.fonts().await?;
        let mut missing = Vec::new();
        for n in names {
            for c in zizhi_docs::missing_glyphs(&fonts, n) {
                if !missing.contains(&c) {
                    missing.push(c);
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(doc_error(zizhi_docs::DocError::MissingGlyphs(missing)))
        }
    }

    /// Makes, signs and keeps the PDF of each certificate that has none yet (safe to repeat).
    pub(crate) async fn seal_certificates(
        &self,
        actor: Option<&Actor>,
        certs: &[Certificate],
    ) -> Result<()> {
        let mut todo = Vec::new();
        for c in certs {
            if store::seal_of(&self.db, c.id).await?.is_none() {
                todo.push(c.clone());
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        self.register_signing_key().await?;
        let signer = self.documents.signer.clone();
        let fonts = self.fonts().await?;
        for c in todo {
            let doc = self.certificate_doc(&c);
            let f = fonts.clone();
            let signer = signer.clone();
            let cert = c.clone();
            let (pdf, record, signature) = blocking(move || {
                let c = cert;
                let blank = zizhi_docs::certificates_pdf(&f, &[doc], true).map_err(doc_error)?;
                let record = Record {
                    number: c.number.clone(),
                    holder: c.holder.clone(),
                    uscc: c.uscc.clone(),
                    category: c.category.clone(),
                    level: i64::from(c.level),
                    issued_on: c.issued_on.clone(),
                    valid_until: c.valid_until.clone(),
                    pdf_sm3: hex::encode(sm3::Sm3::digest(&blank)),
                    key_id: signer.public().id.clone(),
                };
                let signature = signer.sign(record.canonical().as_bytes());
                let sealed = zizhi_docs::seal::seal(&blank, &seal_payload(&record, &signature))
                    .map_err(|e| AppError::Internal(format!("seal: {e}")))?;
                Ok::<_, AppError>((sealed, record, signature))
            })
            .await??;
            let stored = self.keep_document(&pdf).await?;
            let mut tx = self.db.begin().await?;
            store::insert_seal(
                &mut tx,
                &Seal {
                    certificate_id: c.id,
                    pdf_sha256: stored.sha256.clone(),
                    pdf_sm3: record.pdf_sm3.clone(),
                    record: record.canonical(),
                    signature: signature.clone(),
                    key_id: record.key_id.clone(),
                    sealed_us: zizhi_store::now_us(),
                },
            )
            .await?;
            crate::audit::record(
                &mut tx,
                actor,
                "certificate.seal",
                "certificate",
                c.id,
                json!({"number": c.number, "pdf_sha256": stored.sha256, "pdf_sm3": record.pdf_sm3, "key_id": record.key_id}),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Who may download a certificate's PDF: centre staff, and the holder's own users.
    fn may_read_certificate(actor: &Actor, c: &Certificate) -> bool {
        actor.role.is_staff()
            || (actor.role == Role::Applicant && actor.organization_id == Some(c.organization_id))
    }

    /// A certificate's signed PDF, as issued.
    pub async fn certificate_pdf(&self, actor: &Actor, number: &str) -> Result<Vec<u8>> {
        if actor.must_change_password || actor.needs_totp_enrollment {
            return Err(AppError::Forbidden);
        }
        let c = store::by_number(&self.db, number.trim())
            .await?
            .ok_or(AppError::NotFound("certificate"))?;
        if !Self::may_read_certificate(actor, &c) {
            return Err(AppError::NotFound("certificate"));
        }
        let seal = match store::seal_of(&self.db, c.id).await? {
            Some(s) => s,
            None => {
                // Issued before documents existed, or interrupted: make it now.
                self.seal_certificates(Some(actor), std::slice::from_ref(&c))
                    .await?;
                store::seal_of(&self.db, c.id)
                    .await?
                    .ok_or(AppError::NotFound("certificate"))?
            }
        };
        self.kept_document(&seal.pdf_sha256).await
    }

    /// A batch's certificates in one PDF, for printing (certificate officer and approver).
    pub async fn batch_pdf(&self, actor: &Actor, batch_id: i64) -> Result<Vec<u8>> {
        if !matches!(actor.role, Role::CertificateOfficer | Role::Approver)
            || actor.needs_totp_enrollment
            || actor.must_change_password
        {
            return Err(AppError::Forbidden);
        }
        store::batch(&self.db, batch_id)
            .await?
            .ok_or(AppError::NotFound("batch"))?;
        let mut docs = Vec::new();
        for case_id in store::batch_cases(&self.db, batch_id).await? {
            if let Some(c) = store::for_case(&self.db, case_id).await? {
                docs.push(self.certificate_doc(&c));
            }
        }
        if docs.is_empty() {
            return Err(AppError::invalid(
                "batch",
                "该批次尚未发证，没有可打印的证书",
                "the batch has not been issued: there is nothing to print",
            ));
        }
        let fonts = self.fonts().await?;
        blocking(move || zizhi_docs::certificates_pdf(&fonts, &docs, false).map_err(doc_error))
            .await?
    }

    /// Puts the signer's public key in the database, once per process (every server publishes
    /// and checks with every key ever used).
    async fn register_signing_key(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        let d = &self.documents;
        if !d.registered.load(Ordering::Acquire) {
            let p = d.signer.public();
            store::register_key(&self.db, &p.id, &p.pem).await?;
            d.registered.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// The public keys that verify certificates (every key ever used), as PEM.
    pub async fn signing_keys_pem(&self) -> Result<String> {
        self.register_signing_key().await?;
        Ok(store::signing_keys(&self.db)
            .await?
            .into_iter()
            .map(|(id, pem)| {
                format!("# zizhi signing key {id} (SM2, distid 1234567812345678)\n{pem}")
            })
            .collect())
    }

    /// Whether a certificate's kept record is signed by a known key and says what the
    /// certificate says. `None` when the certificate has no document yet. A seal never changes,
    /// so its SM2 check is done once and remembered with its record; the record is compared with
    /// the certificate's row on every request (a changed row shows at once).
    pub(crate) async fn seal_check(&self, c: &Certificate) -> Result<Option<bool>> {
        let known = self
            .documents
            .checked
            .lock()
            .ok()
            .and_then(|m| m.get(&c.id).cloned());
        let (signed, record) = match known {
            Some(k) => k,
            None => {
                let Some(seal) = store::seal_of(&self.db, c.id).await? else {
                    return Ok(None);
                };
                let keys: Vec<PublicKey> = store::signing_keys(&self.db)
                    .await?
                    .into_iter()
                    .filter_map(|(_, pem)| PublicKey::from_pem(&pem).ok())
                    .collect();
                let signed = keys
                    .iter()
                    .find(|k| k.id == seal.key_id)
                    .is_some_and(|k| k.verifies(seal.record.as_bytes(), &seal.signature));
                let record = Record::parse(&seal.record);
                if let Ok(mut m) = self.documents.checked.lock() {
                    if m.len() > 10_000 {
                        m.clear();
                    }
                    m.insert(c.id, (signed, record.clone()));
                }
                (signed, record)
            }
        };
        let matches = record.is_some_and(|r| {
            r.number == c.number
                && r.holder == c.holder
                && r.uscc == c.uscc
                && r.level == i64::from(c.level)
                && r.valid_until == c.valid_until
        });
        Ok(Some(signed && matches))
    }
}
