//! Evidence: files an applicant (or case staff) attaches to an organisation's file. Uploads
//! are two-phase so that the HTTP layer can stream: [`App::begin_evidence`] authorises and
//! opens a temporary file; the caller writes chunks; [`App::finish_evidence`] moves the bytes
//! to their content address and records the upload with its audit event in one transaction.

use serde_json::json;
use zizhi_store::evidence::{self as repo, Evidence};
use zizhi_store::files::{ByteStream, FileError, Upload};
use zizhi_store::organizations;

use crate::policy::{Action, Actor};
use crate::{App, AppError, Result};

pub(crate) fn file_error(e: FileError) -> AppError {
    match e {
        FileError::TooLarge(n) => AppError::invalid(
            "file",
            format!("文件超过 {n} 字节的上限"),
            format!("the file exceeds the {n}-byte limit"),
        ),
        other => AppError::Internal(format!("evidence store: {other}")),
    }
}

/// Keeps only the last path component, without control characters; at most 255 characters.
pub fn clean_file_name(name: &str) -> Result<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(255)
        .collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(AppError::invalid(
            "file_name",
            "文件名不能为空",
            "the file name must not be empty",
        ));
    }
    Ok(cleaned)
}

/// `type/subtype` (parameters dropped), or `application/octet-stream` when absent.
pub fn clean_media_type(mt: Option<&str>) -> Result<String> {
    let Some(mt) = mt
        .map(|m| {
            m.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|m| !m.is_empty())
    else {
        return Ok("application/octet-stream".into());
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match mt.split_once('/') {
        Some((t, s)) if token(t) && token(s) => Ok(mt),
        _ => Err(AppError::invalid(
            "media_type",
            format!("媒体类型“{mt}”无效"),
            format!("invalid media type \"{mt}\""),
        )),
    }
}

impl App {
    /// Authorises an upload for `organization_id` and opens its temporary file.
    pub async fn begin_evidence(&self, actor: &Actor, organization_id: i64) -> Result<Upload> {
        self.authorize(actor, &Action::UploadEvidence { organization_id })?;
        if organizations::get(&self.db, organization_id)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound("organization"));
        }
        self.files
            .begin(self.config.max_evidence_bytes)
            .await
            .map_err(file_error)
    }

    pub async fn write_evidence(&self, upload: &mut Upload, chunk: &[u8]) -> Result<()> {
        upload.write(chunk).await.map_err(file_error)
    }

    /// [`App::write_evidence`] for a request body's own buffer, passed on without a copy.
    pub async fn write_evidence_bytes(
        &self,
        upload: &mut Upload,
        chunk: bytes::Bytes,
    ) -> Result<()> {
        upload.write_bytes(chunk).await.map_err(file_error)
    }

    /// Completes an upload: content-addressed object, then record + audit event together.
    pub async fn finish_evidence(
        &self,
        actor: &Actor,
        organization_id: i64,
        upload: Upload,
        file_name: &str,
        media_type: Option<&str>,
    ) -> Result<Evidence> {
        self.authorize(actor, &Action::UploadEvidence { organization_id })?;
        let name = clean_file_name(file_name)?;
        let media_type = clean_media_type(media_type)?;
        let stored = upload.finish().await.map_err(file_error)?;
        let size =
            i64::try_from(stored.size).map_err(|_| AppError::Internal("size overflow".into()))?;
        // An empty file proves nothing; refused before anything is recorded (its object, if
        // new, is left for the orphan clean-up like an interrupted upload's).
        if size == 0 {
            return Err(AppError::invalid(
                "file",
                format!("文件“{name}”是空文件（0 字节），请选择有内容的文件"),
                format!("the file \"{name}\" is empty (0 bytes); choose a file with content"),
            ));
        }
        let mut tx = self.db.begin().await?;
        let ev = repo::insert(
            &mut tx,
            organization_id,
            &stored.sha256,
            &stored.sm3,
            size,
            &media_type,
            &name,
            actor.user_id,
        )
        .await?;
        // Identical bytes stored earlier may have been removed (disposal, orphan clean-up)
        // between storing and this insert; the insert waited for that removal's lock, so
        // checking now is enough.
        if !stored.new_object
            && !self
                .files
                .exists(&stored.sha256)
                .await
                .map_err(file_error)?
        {
            return Err(AppError::invalid(
                "file",
                "文件保存时恰逢同内容文件被清理，请重新上传",
                "identical stored bytes were removed while this upload was saved; upload it again",
            ));
        }
        crate::audit::record(
            &mut tx,
            actor,
            "evidence.upload",
            "evidence",
            ev.id,
            json!({"after": {"organization_id": organization_id, "name": name, "size": size, "media_type": media_type, "sha256": stored.sha256, "sm3": stored.sm3, "deduplicated": !stored.new_object}}),
        )
        .await?;
        tx.commit().await?;
        Ok(ev)
    }

    /// Removes stored objects no row refers to, older than `min_age` (bytes written by an
    /// upload whose row never committed, e.g. a crash in between). Younger ones may belong to
    /// an upload of another server that is about to insert its row, and are left. Each
    /// removal re-checks under the objects lock. Returns how many went.
    pub async fn remove_orphan_objects(&self, min_age: std::time::Duration) -> Result<usize> {
        let referenced: std::collections::HashSet<String> = zizhi_store::backup::objects(&self.db)
            .await?
            .into_iter()
            .collect();
        let now = std::time::SystemTime::now();
        let mut n = 0;
        for (sha, at) in self.files.list_objects().await.map_err(file_error)? {
            let old = now.duration_since(at).unwrap_or_default() >= min_age;
            if !old || referenced.contains(&sha) {
                continue;
            }
            let mut tx = self.db.begin().await?;
            zizhi_store::archive::lock_objects(&mut tx).await?;
            if zizhi_store::archive::object_references(&mut tx, &sha)
                .await?
                .is_empty()
            {
                self.files.delete(&sha).await.map_err(file_error)?;
                crate::audit::record(
                    &mut tx,
                    None,
                    "evidence.remove_orphan",
                    "object",
                    &sha,
                    json!({"stored_us": at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)}),
                )
                .await?;
                n += 1;
            }
            tx.commit().await?;
        }
        Ok(n)
    }

    pub async fn list_evidence(
        &self,
        actor: &Actor,
        organization_id: i64,
    ) -> Result<Vec<Evidence>> {
        self.authorize(actor, &Action::ViewEvidence { organization_id })?;
        Ok(repo::for_organization(&self.db, organization_id).await?)
    }

    /// The record and its bytes, after re-checking the content hash.
    pub async fn open_evidence(&self, actor: &Actor, id: i64) -> Result<(Evidence, ByteStream)> {
        let ev = repo::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("evidence"))?;
        self.authorize(
            actor,
            &Action::ViewEvidence {
                organization_id: ev.organization_id,
            },
        )?;
        let (file, size) = match self.files.open_verified(&ev.sha256).await {
            Ok(x) => x,
            Err(zizhi_store::files::FileError::Missing(_))
                if zizhi_store::archive::evidence_disposed(&self.db, id).await? =>
            {
                return Err(AppError::Disposed);
            }
            Err(e) => return Err(AppError::Internal(format!("evidence {id}: {e}"))),
        };
        if size != ev.size as u64 {
            return Err(AppError::Internal(format!(
                "evidence {id}: size {size} differs from the record's {}",
                ev.size
            )));
        }
        Ok((ev, file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths_and_control_characters() {
        assert_eq!(
            clean_file_name("C:\\Users\\x\\审计报告 2025.pdf").unwrap(),
            "审计报告 2025.pdf"
        );
        assert_eq!(clean_file_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_file_name("a\u{0}b\nc.txt").unwrap(), "abc.txt");
        assert!(clean_file_name("dir/").is_err());
        assert!(clean_file_name("..").is_err());
    }

    #[test]
    fn media_types_are_checked() {
        assert_eq!(
            clean_media_type(Some("application/PDF; charset=x")).unwrap(),
            "application/pdf"
        );
        assert_eq!(clean_media_type(None).unwrap(), "application/octet-stream");
        assert!(clean_media_type(Some("pdf")).is_err());
        assert!(clean_media_type(Some("a/b c")).is_err());
    }
}
