//! The centre's formal documents: the delegation agreement (5.3); letters and certificates come
//! here when they are built.

pub mod agreement;
pub mod certificate;
pub mod letters;

use futures_util::StreamExt;
use zizhi_docs::Fonts;
use zizhi_store::files::Stored;

use crate::{App, AppError, Result};

/// Runs CPU-bound document work (fonts, rendering) off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("documents: {e}")))
}

impl App {
    /// The fonts, read for one job and dropped after it: an idle server does not hold them.
    pub(crate) async fn fonts(&self) -> Result<Fonts> {
        let dir = self.documents.font_dir.clone();
        blocking(move || Fonts::load(&dir))
            .await?
            .map_err(|e| AppError::Internal(format!("documents: {e}")))
    }

    /// Keeps a made document in the evidence store (content-addressed, so a repeat is free).
    pub(crate) async fn keep_document(&self, bytes: &[u8]) -> Result<Stored> {
        let file_error = crate::evidence::file_error;
        let mut up = self.files.begin(u64::MAX).await.map_err(file_error)?;
        up.write(bytes).await.map_err(file_error)?;
        up.finish().await.map_err(file_error)
    }

    /// A kept document's bytes, checked against its hash on the way out.
    pub(crate) async fn kept_document(&self, sha256: &str) -> Result<Vec<u8>> {
        let (mut stream, size) = self
            .files
            .open_verified(sha256)
            .await
            .map_err(crate::evidence::file_error)?;
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(|e| AppError::Internal(e.to_string()))?);
        }
        Ok(out)
    }
}

/// A list as an `.xlsx` workbook (a title row, a bold header, the rows as text): the pages'
/// exports (cases, certificates, batches, audit).
pub fn list_xlsx(
    sheet: &str,
    title: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> crate::Result<Vec<u8>> {
    zizhi_docs::sheet::xlsx(sheet, title, header, rows)
        .map_err(|e| crate::AppError::Internal(format!("xlsx: {e}")))
}
