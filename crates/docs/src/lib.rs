//! zizhi's documents (issue 10): the certificate as a PDF/A-2b page in the centre's layout, in
//! Chinese, with the CJK fonts embedded (subsetted) and a QR code that opens the public check,
//! and the seal — a fixed-length slot in the PDF's metadata that carries the certificate's
//! signed record, so that the file alone can be checked offline.
//!
//! Fixed-position drawing with krilla (82 crates, no layout engine): a certificate is a fixed
//! layout, so typst's layout (380 crates, ~4 min more of CI's cold build) buys nothing here.

pub mod certificate;
pub mod fonts;
pub mod letter;
pub mod seal;
pub mod sheet;

pub use certificate::{CertificateDoc, certificates_pdf};
pub use fonts::{Fonts, missing_glyphs};

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The fonts are not where the configuration says (Debian: `fonts-noto-cjk`).
    #[error("font {path}: {problem}")]
    Font { path: String, problem: String },
    /// Characters the fonts cannot draw: printing them would leave blank boxes.
    #[error("no glyph for {0:?}")]
    MissingGlyphs(Vec<char>),
    #[error("pdf: {0}")]
    Pdf(String),
}

/// What the tests of this crate share.
#[cfg(test)]
pub(crate) mod testing {
    /// A poppler tool's output; required where the fonts are (CI installs both).
    pub(crate) fn tool(name: &str, args: &[&str]) -> Option<String> {
        match std::process::Command::new(name).args(args).output() {
            Ok(out) => Some(String::from_utf8_lossy(&out.stdout).to_string()),
            Err(e) => {
                assert!(
                    std::env::var("ZIZHI_REQUIRE_FONTS").as_deref() != Ok("1"),
                    "{name}: {e} (poppler-utils)"
                );
                None
            }
        }
    }
}
