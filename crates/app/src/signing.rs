//! The centre's SM2 signature on certificates (issue 10): GM/T 0009's default distinguishing id,
//! over a canonical record of the certificate that includes the SM3 of its PDF (taken with the
//! seal slot blank, see `zizhi_docs::seal`). The record and the signature travel inside the PDF,
//! so the file alone can be checked offline (`zizhi certificate verify`), and they are kept with
//! the certificate so `/verify/{number}` checks them too.
//!
//! The private key is 32 random bytes, hex, in a file: `<data_dir>/signing/<key id>.key` created
//! at first start (or `signing_key_file`), never logged. Its public key is kept beside it as
//! `<key id>.pub.pem` and in the database, so an old key keeps verifying after a rotation. A key
//! id is the first 16 hex digits of the SM3 of the public key's SEC1 bytes.

use std::path::{Path, PathBuf};

use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sm3::Digest;

use crate::{AppError, Result};

/// GM/T 0009-2012's default user id (`1234567812345678`).
pub const DISTID: &str = "1234567812345678";

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("signing: {e}"))
}

/// A public key with its id.
#[derive(Clone, Debug)]
pub struct PublicKey {
    pub id: String,
    pub pem: String,
    key: VerifyingKey,
}

impl PublicKey {
    pub fn from_pem(pem: &str) -> Result<PublicKey> {
        let pk = sm2::PublicKey::from_public_key_pem(pem.trim()).map_err(internal)?;
        let key = VerifyingKey::new(DISTID, pk).map_err(internal)?;
        Ok(PublicKey {
            id: key_id(&key),
            pem: pem.trim().to_string() + "\n",
            key,
        })
    }

    /// Every key in a PEM file (one or several `PUBLIC KEY` blocks).
    pub fn all_from_pem(text: &str) -> Vec<PublicKey> {
        text.split("-----END PUBLIC KEY-----")
            .filter_map(|block| {
                let start = block.find("-----BEGIN PUBLIC KEY-----")?;
                PublicKey::from_pem(&format!("{}-----END PUBLIC KEY-----", &block[start..])).ok()
            })
            .collect()
    }

    /// Whether `signature_hex` (DER) is this key's signature over `message`.
    pub fn verifies(&self, message: &[u8], signature_hex: &str) -> bool {
        let Ok(der) = hex::decode(signature_hex) else {
            return false;
        };
        let Ok(sig) = Signature::from_der(&der) else {
            return false;
        };
        self.key.verify(message, &sig).is_ok()
    }
}

fn key_id(key: &VerifyingKey) -> String {
    hex::encode(sm3::Sm3::digest(key.to_sec1_bytes()))[..16].to_string()
}

/// The signing key in use.
pub struct Signer {
    key: SigningKey,
    public: PublicKey,
}

/// Without the key.
impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.public.id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    fn from_secret(bytes: &[u8]) -> Result<Signer> {
        let key = SigningKey::from_slice(DISTID, bytes).map_err(internal)?;
        let pem = sm2::PublicKey::from_affine(*key.verifying_key().as_affine())
            .map_err(internal)?
            .to_public_key_pem(LineEnding::LF)
            .map_err(internal)?;
        let public = PublicKey::from_pem(&pem)?;
        Ok(Signer { key, public })
    }

    /// A new random key (kept in memory only: tests, or before it is written).
    pub fn generate() -> Signer {
        loop {
            // A scalar of 0 or ≥ n is refused; the chance is ~2⁻²²⁴, so this loops once.
            if let Ok(s) = Signer::from_secret(&crate::secrets::random_bytes(32)) {
                return s;
            }
        }
    }

    /// Reads the key file (hex of the 32-byte secret).
    pub fn read(path: &Path) -> Result<Signer> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| internal(format!("{}: {e}", path.display())))?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| internal(format!("{} is not a hex key", path.display())))?;
        Signer::from_secret(&bytes)
    }

    /// The key of a data directory: `key_file` when given, else the newest `signing/*.key`, else
    /// a new one written there (owner-only) with its public key beside it.
    pub fn open(data_dir: &Path, key_file: Option<&Path>) -> Result<Signer> {
        if let Some(f) = key_file {
            return Signer::read(f);
        }
        let dir = data_dir.join("signing");
        if let Some(newest) = newest_key(&dir)? {
            return Signer::read(&newest);
        }
        Signer::create_in(&dir)
    }

    /// Writes a new key into `dir` (a rotation: older keys stay for verification).
    pub fn create_in(dir: &Path) -> Result<Signer> {
        std::fs::create_dir_all(dir).map_err(internal)?;
        let bytes = crate::secrets::random_bytes(32);
        let signer = match Signer::from_secret(&bytes) {
            Ok(s) => s,
            Err(_) => return Signer::create_in(dir),
        };
        let path = dir.join(format!("{}.key", signer.public.id));
        write_private(&path, &hex::encode(&bytes))?;
        std::fs::write(
            dir.join(format!("{}.pub.pem", signer.public.id)),
            &signer.public.pem,
        )
        .map_err(internal)?;
        Ok(signer)
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The signature (DER, hex) over `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        let sig: Signature = self.key.sign(message);
        hex::encode(sig.to_der().as_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(internal)?;
    f.write_all(text.as_bytes()).map_err(internal)
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(internal)
}

/// The newest `*.key` in `dir` (by modification time, then name).
fn newest_key(dir: &Path) -> Result<Option<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut keys: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    keys.sort();
    Ok(keys.pop().map(|(_, p)| p))
}

/// The public keys kept in a data directory (`signing/*.pub.pem`).
pub fn public_keys_in(data_dir: &Path) -> Vec<PublicKey> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("signing")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".pub.pem"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| PublicKey::all_from_pem(&t))
        .collect()
}

/// The signed facts of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    pub category: String,
    pub level: i64,
    pub issued_on: String,
    pub valid_until: String,
    /// SM3 of the PDF with its seal slot blank.
    pub pdf_sm3: String,
    pub key_id: String,
}

impl Record {
    /// The canonical text that is signed: fixed order, one `name: value` per line, UTF-8.
    pub fn canonical(&self) -> String {
        format!(
            "zizhi-certificate-v1\nnumber: {}\nholder: {}\nuscc: {}\ncategory: {}\nlevel: {}\nissued_on: {}\nvalid_until: {}\npdf_sm3: {}\nkey: {}\n",
            self.number,
            self.holder,
            self.uscc,
            self.category,
            self.level,
            self.issued_on,
            self.valid_until,
            self.pdf_sm3,
            self.key_id
        )
    }

    pub fn parse(text: &str) -> Option<Record> {
        let mut lines = text.lines();
        if lines.next()? != "zizhi-certificate-v1" {
            return None;
        }
        let mut get = |name: &str| -> Option<String> {
            let l = lines.next()?;
            l.strip_prefix(&format!("{name}: ")).map(str::to_string)
        };
        let r = Record {
            number: get("number")?,
            holder: get("holder")?,
            uscc: get("uscc")?,
            category: get("category")?,
            level: get("level")?.parse().ok()?,
            issued_on: get("issued_on")?,
            valid_until: get("valid_until")?,
            pdf_sm3: get("pdf_sm3")?,
            key_id: get("key")?,
        };
        (r.canonical() == text).then_some(r)
    }
}

/// The seal payload: key id, signature and record (base64url) — the safe ASCII a slot takes.
pub fn seal_payload(record: &Record, signature_hex: &str) -> String {
    use base64::Engine;
    format!(
        "key={};sig={};record={}",
        record.key_id,
        signature_hex,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(record.canonical())
    )
}

/// Why a PDF does not check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfCheck {
    /// Valid: the record, signed by this key.
    Valid {
        record: Record,
        key_id: String,
    },
    NotZizhi(String),
    /// The bytes are not the ones signed.
    Altered,
    UnknownKey(String),
    BadSignature,
}

/// Checks a certificate PDF against its seal and the given public keys.
pub fn check_pdf(pdf: &[u8], keys: &[PublicKey]) -> PdfCheck {
    use base64::Engine;
    let payload = match zizhi_docs::seal::read(pdf) {
        Ok(p) => p,
        Err(e) => return PdfCheck::NotZizhi(e.to_string()),
    };
    let mut key_id = None;
    let mut sig = None;
    let mut record = None;
    for part in payload.split(';') {
        match part.split_once('=') {
            Some(("key", v)) => key_id = Some(v.to_string()),
            Some(("sig", v)) => sig = Some(v.to_string()),
            Some(("record", v)) => {
                record = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(v)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
            }
            _ => {}
        }
    }
    let (Some(key_id), Some(sig), Some(text)) = (key_id, sig, record) else {
        return PdfCheck::NotZizhi("the seal is not a zizhi record".into());
    };
    let Some(rec) = Record::parse(&text) else {
        return PdfCheck::NotZizhi("the sealed record cannot be read".into());
    };
    let Some(key) = keys.iter().find(|k| k.id == key_id) else {
        return PdfCheck::UnknownKey(key_id);
    };
    if !key.verifies(text.as_bytes(), &sig) || rec.key_id != key_id {
        return PdfCheck::BadSignature;
    }
    let actual = hex::encode(sm3::Sm3::digest(zizhi_docs::seal::unsealed(pdf)));
    if actual != rec.pdf_sm3 {
        return PdfCheck::Altered;
    }
    PdfCheck::Valid {
        record: rec,
        key_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str) -> Record {
        Record {
            number: "CNITSEC2026SRV-DR-II-0001".into(),
            holder: "福建示例灾备技术有限公司".into(),
            uscc: "91350100M000100Y43".into(),
            category: "disaster_recovery".into(),
            level: 2,
            issued_on: "2026-11-28".into(),
            valid_until: "2029-11-27".into(),
            pdf_sm3: "00".repeat(32),
            key_id: key.into(),
        }
    }

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        let s = Signer::generate();
        let other = Signer::generate();
        let r = record(&s.public().id);
        let sig = s.sign(r.canonical().as_bytes());
        assert!(s.public().verifies(r.canonical().as_bytes(), &sig));
        assert!(!other.public().verifies(r.canonical().as_bytes(), &sig));
        let mut changed = r.clone();
        changed.holder.push('X');
        assert!(!s.public().verifies(changed.canonical().as_bytes(), &sig));
        assert_eq!(Record::parse(&r.canonical()), Some(r));
        assert_eq!(s.public().id.len(), 16);
    }

    #[test]
    fn keys_are_created_once_and_stay_after_a_rotation() {
        let dir = std::env::temp_dir().join(format!(
            "zizhi-sign-{}",
            hex::encode(crate::secrets::random_bytes(6))
        ));
        let a = Signer::open(&dir, None).unwrap();
        let again = Signer::open(&dir, None).unwrap();
        assert_eq!(
            a.public().id,
            again.public().id,
            "the same key at the next start"
        );
        let b = Signer::create_in(&dir.join("signing")).unwrap();
        let keys = public_keys_in(&dir);
        assert!(
            keys.iter().any(|k| k.id == a.public().id),
            "the old key stays"
        );
        assert!(keys.iter().any(|k| k.id == b.public().id));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                std::fs::metadata(dir.join("signing").join(format!("{}.key", a.public().id)))
                    .unwrap()
                    .permissions()
                    .mode();
            assert_eq!(mode & 0o077, 0, "the private key is the owner's only");
        }
        assert!(!format!("{a:?}").contains(&hex::encode(a.key.to_bytes())));
    }

    /// STACK.md §8: the signature is the one OpenSSL checks (`pkeyutl -verify … -digest sm3` with
    /// the default distinguishing id).
    #[test]
    fn openssl_verifies_the_signature() {
        if std::process::Command::new("openssl")
            .arg("version")
            .output()
            .is_err()
        {
            eprintln!("openssl not found: skipped");
            return;
        }
        let s = Signer::generate();
        let r = record(&s.public().id);
        let msg = r.canonical();
        let sig = hex::decode(s.sign(msg.as_bytes())).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "zizhi-ossl-{}",
            hex::encode(crate::secrets::random_bytes(6))
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pub.pem"), &s.public().pem).unwrap();
        std::fs::write(dir.join("msg"), &msg).unwrap();
        std::fs::write(dir.join("sig.der"), &sig).unwrap();
        let run = |msg_file: &str| {
            std::process::Command::new("openssl")
                .current_dir(&dir)
                .args([
                    "pkeyutl",
                    "-verify",
                    "-pubin",
                    "-inkey",
                    "pub.pem",
                    "-rawin",
                    "-in",
                    msg_file,
                    "-sigfile",
                    "sig.der",
                    "-digest",
                    "sm3",
                    "-pkeyopt",
                    &format!("distid:{DISTID}"),
                ])
                .output()
                .unwrap()
        };
        let ok = run("msg");
        assert!(
            String::from_utf8_lossy(&ok.stdout).contains("Signature Verified Successfully"),
            "{ok:?}"
        );
        std::fs::write(dir.join("msg2"), msg.replace("福建", "浙江")).unwrap();
        assert!(!run("msg2").status.success(), "a changed record fails");
    }
}
