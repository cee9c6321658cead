//! The archival package (档案, guide 八; issue 12): a case's file as a BagIt 1.0 bag (RFC
//! 8493) — `bagit.txt`, the payload under `data/`, `manifest-sha256.txt` and
//! `manifest-sm3.txt`, `bag-info.txt` naming the centre, the case and the retention date, and
//! tag manifests in both algorithms. Inside: the case record and each submitted round, the
//! evidence filed, its letters and certificate PDF where they exist, and its audit events as
//! JSON lines with the hashes that tie them to the chain. [`verify_bag`] checks a bag without
//! the database: every manifest line, no file unlisted, the Payload-Oxum, each audit event's
//! hash.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use sm3::Sm3;
use tokio::io::AsyncWriteExt;

use crate::{App, AppError, Result};

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagSummary {
    pub dir: PathBuf,
    /// Payload files and their total size.
    pub files: usize,
    pub bytes: u64,
}

/// Payload and tag files written so far: relative path → (sha256, sm3, size).
type Written = BTreeMap<String, (String, String, u64)>;

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("archival package: {e}"))
}

/// A file name safe inside the bag: no separators, no control characters, no leading dot.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() || c == '%' {
                '_'
            } else {
                c
            }
        })
        .collect();
    let s = s.trim_start_matches('.').trim().to_string();
    if s.is_empty() { "file".into() } else { s }
}

async fn put(root: &Path, rel: &str, bytes: &[u8], written: &mut Written) -> Result<()> {
    let path = root.join(rel);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
    }
    tokio::fs::write(&path, bytes).await.map_err(io)?;
    written.insert(
        rel.to_string(),
        (
            hex::encode(Sha256::digest(bytes)),
            hex::encode(Sm3::digest(bytes)),
            bytes.len() as u64,
        ),
    );
    Ok(())
}

fn manifest(written: &Written, pick: impl Fn(&(String, String, u64)) -> &str) -> String {
    written
        .iter()
        .map(|(path, h)| format!("{}  {path}\n", pick(h)))
        .collect()
}

impl App {
    /// Writes the case's archival package into `dir` (which must not exist or be empty).
    /// The command line acts as the system; the pages check the person first.
    pub async fn export_case_bag(&self, case_id: i64, dir: &Path) -> Result<BagSummary> {
        let c = zizhi_store::cases::get(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        if dir.exists()
            && std::fs::read_dir(dir)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(AppError::invalid(
                "to",
                format!("目标目录 {} 已存在且不为空", dir.display()),
                format!("{} exists and is not empty", dir.display()),
            ));
        }
        tokio::fs::create_dir_all(dir.join("data"))
            .await
            .map_err(io)?;
        let number = crate::cases::case_number(&c);
        let org = zizhi_store::organizations::get(&self.db, c.organization_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        let record = zizhi_store::archive::get(&self.db, case_id).await?;
        let cert = zizhi_store::certificates::for_case(&self.db, case_id).await?;
        let mut data = Written::new();

        let case_json = json!({
            "number": number, "id": c.id, "organization": {"id": org.id, "name": org.name, "uscc": org.uscc},
            "category": c.category, "level": c.level, "kind": c.kind.as_str(), "stage": c.stage.as_str(),
            "filed_on": c.filed_on, "closed_on": c.closed_on, "agreement_no": c.agreement_no,
            "fee_fen": c.fee_fen, "audit_conclusion": c.audit_conclusion, "dossier_hash": c.dossier_hash,
            "review_round": c.review_round,
            "facts": serde_json::from_str::<serde_json::Value>(&c.profile).unwrap_or_default(),
            "certificate": cert.as_ref().map(|t| json!({"number": t.number, "issued_on": t.issued_on,
                "valid_until": t.valid_until, "status": t.status})),
            "archive": record.as_ref().map(|r| json!({"archived_on": r.archived_on,
                "retain_until": r.retain_until, "disposed_on": r.disposed_on})),
        });
        put(
            dir,
            "data/case.json",
            serde_json::to_string_pretty(&case_json)
                .expect("json")
                .as_bytes(),
            &mut data,
        )
        .await?;
        for r in zizhi_store::cases::rounds(&self.db, case_id).await? {
            let round = json!({
                "round": r.round, "submitted_by": r.submitted_by, "submitted_us": r.submitted_us,
                "facts": serde_json::from_str::<serde_json::Value>(&r.profile).unwrap_or_default(),
                "self_assessment": serde_json::from_str::<serde_json::Value>(&r.assessment).unwrap_or_default(),
            });
            put(
                dir,
                &format!("data/rounds/round-{}.json", r.round),
                serde_json::to_string_pretty(&round)
                    .expect("json")
                    .as_bytes(),
                &mut data,
            )
            .await?;
        }
        // The stored objects: evidence (once per file), letters, the certificate.
        let linked = zizhi_store::review::linked(&self.db, case_id).await?;
        let mut seen = std::collections::HashSet::new();
        let mut filed = Vec::new();
        for l in &linked {
            filed.push(json!({"requirement_id": l.requirement_id, "evidence_id": l.evidence_id}));
            if !seen.insert(l.evidence_id) {
                continue;
            }
            let Some(ev) = zizhi_store::evidence::get(&self.db, l.evidence_id).await? else {
                continue;
            };
            let rel = format!("data/evidence/{}-{}", ev.id, safe_name(&ev.original_name));
            self.copy_object(dir, &rel, &ev.sha256, &mut data).await?;
        }
        put(
            dir,
            "data/evidence/filed.json",
            serde_json::to_string_pretty(&filed)
                .expect("json")
                .as_bytes(),
            &mut data,
        )
        .await?;
        for l in zizhi_store::letters::of_case(&self.db, case_id).await? {
            let rel = format!("data/letters/{}-{}.pdf", l.id, safe_name(&l.kind));
            self.copy_object(dir, &rel, &l.pdf_sha256, &mut data)
                .await?;
        }
        if let Some(t) = &cert
            && let Some(seal) = zizhi_store::certificates::seal_of(&self.db, t.id).await?
        {
            let rel = format!("data/certificate/{}.pdf", safe_name(&t.number));
            self.copy_object(dir, &rel, &seal.pdf_sha256, &mut data)
                .await?;
            put(
                dir,
                &format!("data/certificate/{}.sig.json", safe_name(&t.number)),
                serde_json::to_string_pretty(&json!({"record": seal.record, "signature": seal.signature, "key_id": seal.key_id}))
                    .expect("json")
                    .as_bytes(),
                &mut data,
            )
            .await?;
        }
        // The audit events of the case (and of its certificate), each with its chain hashes.
        let mut events =
            zizhi_store::audit::for_object(&self.db, "case", &case_id.to_string()).await?;
        if let Some(t) = &cert {
            events
                .extend(zizhi_store::audit::for_object(&self.db, "certificate", &t.number).await?);
        }
        events.sort_by_key(|e| e.seq);
        let lines: String = events
            .iter()
            .map(|e| {
                json!({"seq": e.seq, "at_us": e.at_us, "actor_id": e.actor_id, "actor": e.actor,
                       "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
                       "summary": e.summary, "prev_hash": e.prev_hash, "hash": e.hash})
                .to_string()
                    + "\n"
            })
            .collect();
        put(dir, "data/audit.jsonl", lines.as_bytes(), &mut data).await?;

        // Manifests and tag files.
        let bytes: u64 = data.values().map(|h| h.2).sum();
        let files = data.len();
        let mut tags = Written::new();
        put(
            dir,
            "bagit.txt",
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
            &mut tags,
        )
        .await?;
        put(
            dir,
            "manifest-sha256.txt",
            manifest(&data, |h| &h.0).as_bytes(),
            &mut tags,
        )
        .await?;
        put(
            dir,
            "manifest-sm3.txt",
            manifest(&data, |h| &h.1).as_bytes(),
            &mut tags,
        )
        .await?;
        let mut info = vec![
            ("Source-Organization", self.documents.centre_name.clone()),
            ("External-Identifier", number.clone()),
            (
                "External-Description",
                "信息安全服务资质认定（灾难恢复类）项目档案 / project file of a qualification case"
                    .into(),
            ),
            ("Bagging-Date", self.clock.today().to_string()),
            ("Payload-Oxum", format!("{bytes}.{files}")),
            (
                "Bag-Software-Agent",
                format!("zizhi {}", env!("CARGO_PKG_VERSION")),
            ),
            ("Holder", org.name.clone()),
            ("Holder-USCC", org.uscc.clone()),
        ];
        if let Some(r) = &record {
            info.push(("Archived-On", r.archived_on.clone()));
            info.push(("Retain-Until", r.retain_until.clone()));
        }
        let info: String = info
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", v.replace(['\n', '\r'], " ")))
            .collect();
        put(dir, "bag-info.txt", info.as_bytes(), &mut tags).await?;
        let mut tm = Written::new();
        put(
            dir,
            "tagmanifest-sha256.txt",
            manifest(&tags, |h| &h.0).as_bytes(),
            &mut tm,
        )
        .await?;
        put(
            dir,
            "tagmanifest-sm3.txt",
            manifest(&tags, |h| &h.1).as_bytes(),
            &mut tm,
        )
        .await?;
        Ok(BagSummary {
            dir: dir.to_path_buf(),
            files,
            bytes,
        })
    }

    /// Streams a stored object into the bag, hashing as it goes; its SHA-256 must be its name.
    async fn copy_object(
        &self,
        root: &Path,
        rel: &str,
        sha256: &str,
        data: &mut Written,
    ) -> Result<()> {
        let (mut stream, _) = self
            .files
            .open_verified(sha256)
            .await
            .map_err(|e| AppError::Internal(format!("object {sha256}: {e}")))?;
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let mut f = tokio::fs::File::create(&path).await.map_err(io)?;
        let (mut a, mut b, mut n) = (Sha256::new(), Sm3::new(), 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(io)?;
            a.update(&chunk);
            b.update(&chunk);
            n += chunk.len() as u64;
            f.write_all(&chunk).await.map_err(io)?;
        }
        f.sync_all().await.map_err(io)?;
        let got = hex::encode(a.finalize());
        if got != sha256 {
            return Err(AppError::Internal(format!(
                "object {sha256} read back as {got}"
            )));
        }
        data.insert(rel.to_string(), (got, hex::encode(b.finalize()), n));
        Ok(())
    }
}

impl App {
    /// The case's archival package as one zip file (the bag under a folder named by the case
    /// number), for staff to download. Written to a temporary file the caller streams and
    /// removes; objects are stored, not recompressed.
    pub async fn case_bag_zip(
        &self,
        actor: &crate::policy::Actor,
        case_id: i64,
    ) -> Result<(String, PathBuf)> {
        if actor.needs_totp_enrollment || actor.must_change_password || !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        let c = zizhi_store::cases::get(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let number = crate::cases::case_number(&c);
        let work = std::env::temp_dir().join(format!(
            "zizhi-bag-{}-{}-{}",
            std::process::id(),
            case_id,
            zizhi_store::now_us()
        ));
        let bag = work.join(&number);
        let result = async {
            self.export_case_bag(case_id, &bag).await?;
            let zip_path = work.with_extension("zip");
            let (b, z, top) = (bag.clone(), zip_path.clone(), number.clone());
            tokio::task::spawn_blocking(move || zip_dir(&b, &z, &top))
                .await
                .map_err(|e| AppError::Internal(format!("zip: {e}")))?
                .map_err(|e| AppError::Internal(format!("zip: {e}")))?;
            Ok::<PathBuf, AppError>(zip_path)
        }
        .await;
        let _ = tokio::fs::remove_dir_all(&work).await;
        Ok((format!("{number}.bag.zip"), result?))
    }
}

fn zip_dir(dir: &Path, to: &Path, top: &str) -> std::result::Result<(), String> {
    let file = std::fs::File::create(to).map_err(|e| e.to_string())?;
    let mut z = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut files = Vec::new();
    walk(dir, dir, &mut files).map_err(|e| e.to_string())?;
    files.sort();
    for rel in files {
        z.start_file(format!("{top}/{rel}"), opts)
            .map_err(|e| e.to_string())?;
        let mut f = std::fs::File::open(dir.join(&rel)).map_err(|e| e.to_string())?;
        std::io::copy(&mut f, &mut z).map_err(|e| e.to_string())?;
    }
    z.finish().map_err(|e| e.to_string())?;
    Ok(())
}

/// What `verify_bag` found: files checked, and every problem (empty: the bag is valid).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BagCheck {
    pub files: usize,
    pub events: usize,
    pub problems: Vec<String>,
}

fn hash_file(path: &Path) -> std::io::Result<(String, String, u64)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let (mut a, mut b, mut n) = (Sha256::new(), Sm3::new(), 0u64);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        a.update(&buf[..k]);
        b.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(a.finalize()), hex::encode(b.finalize()), n))
}

fn read_manifest(path: &Path) -> std::result::Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let Some((hash, rel)) = line.split_once(char::is_whitespace) else {
            return Err(format!(
                "{} line {}: not \"hash  path\"",
                path.display(),
                i + 1
            ));
        };
        out.insert(rel.trim_start().to_string(), hash.to_ascii_lowercase());
    }
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk(root, &p, out)?;
        } else {
            let rel = p.strip_prefix(root).expect("under root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// Checks a bag: `bagit.txt`, both payload manifests against every file under `data/` (none
/// missing, none unlisted), both tag manifests, the Payload-Oxum, and each audit event's
/// hash. An unreadable bag is an `Err`; a readable one with problems lists them.
pub fn verify_bag(dir: &Path) -> std::result::Result<BagCheck, String> {
    let bagit = std::fs::read_to_string(dir.join("bagit.txt"))
        .map_err(|e| format!("{}: not a bag ({e})", dir.display()))?;
    let mut check = BagCheck::default();
    if !bagit.starts_with("BagIt-Version: 1.0") {
        check.problems.push("bagit.txt: not BagIt 1.0".into());
    }
    let mut present = Vec::new();
    walk(dir, &dir.join("data"), &mut present).map_err(|e| format!("data/: {e}"))?;
    present.sort();
    let mut hashes = BTreeMap::new();
    for rel in &present {
        let h = hash_file(&dir.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
        hashes.insert(rel.clone(), h);
    }
    for (name, pick) in [("sha256", 0usize), ("sm3", 1)] {
        let m = read_manifest(&dir.join(format!("manifest-{name}.txt")))?;
        for (rel, want) in &m {
            match hashes.get(rel) {
                None => check
                    .problems
                    .push(format!("{rel}: listed in manifest-{name}.txt but missing")),
                Some(h) => {
                    let got = if pick == 0 { &h.0 } else { &h.1 };
                    if got != want {
                        check.problems.push(format!(
                            "{rel}: {name} {got} differs from the manifest's {want}"
                        ));
                    }
                }
            }
        }
        for rel in &present {
            if !m.contains_key(rel) {
                check
                    .problems
                    .push(format!("{rel}: not in manifest-{name}.txt"));
            }
        }
        let tm = read_manifest(&dir.join(format!("tagmanifest-{name}.txt")))?;
        for (rel, want) in &tm {
            let h = hash_file(&dir.join(rel)).map_err(|e| format!("{rel}: {e}"))?;
            let got = if pick == 0 { h.0 } else { h.1 };
            if &got != want {
                check
                    .problems
                    .push(format!("{rel}: {name} differs from tagmanifest-{name}.txt"));
            }
        }
    }
    let info = std::fs::read_to_string(dir.join("bag-info.txt")).unwrap_or_default();
    if let Some(oxum) = info
        .lines()
        .find_map(|l| l.strip_prefix("Payload-Oxum:"))
        .map(str::trim)
    {
        let bytes: u64 = hashes.values().map(|h| h.2).sum();
        let want = format!("{bytes}.{}", present.len());
        if oxum != want {
            check.problems.push(format!(
                "Payload-Oxum {oxum} differs from the payload ({want})"
            ));
        }
    }
    // Each audit event hashes to what it says, over the previous hash it names.
    if let Ok(text) = std::fs::read_to_string(dir.join("data/audit.jsonl")) {
        for (i, line) in text.lines().enumerate() {
            let parsed: std::result::Result<zizhi_store::audit::Event, String> =
                serde_json::from_str::<serde_json::Value>(line)
                    .map_err(|e| e.to_string())
                    .and_then(|v| {
                        Ok(zizhi_store::audit::Event {
                            seq: v["seq"].as_i64().ok_or("seq")?,
                            at_us: v["at_us"].as_i64().ok_or("at_us")?,
                            actor_id: v["actor_id"].as_i64(),
                            actor: v["actor"].as_str().ok_or("actor")?.into(),
                            action: v["action"].as_str().ok_or("action")?.into(),
                            object_type: v["object_type"].as_str().ok_or("object_type")?.into(),
                            object_id: v["object_id"].as_str().ok_or("object_id")?.into(),
                            summary: v["summary"].as_str().ok_or("summary")?.into(),
                            prev_hash: v["prev_hash"].as_str().ok_or("prev_hash")?.into(),
                            hash: v["hash"].as_str().ok_or("hash")?.into(),
                        })
                    });
            match parsed {
                Err(e) => check
                    .problems
                    .push(format!("data/audit.jsonl line {}: {e}", i + 1)),
                Ok(e) => {
                    if zizhi_store::audit::event_hash(&e) != e.hash {
                        check.problems.push(format!(
                            "data/audit.jsonl line {}: event {} does not hash to its recorded hash",
                            i + 1,
                            e.seq
                        ));
                    }
                    check.events += 1;
                }
            }
        }
    }
    check.files = present.len();
    Ok(check)
}
