//! The CJK fonts: Noto Serif CJK SC (Debian `fonts-noto-cjk`), regular and bold, read from a
//! configurable directory on first use — not at start, so an idle server does not hold 50 MB of
//! font files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::text::Font;
use skrifa::MetadataProvider;

use crate::DocError;

/// In the `.ttc` collections of Noto CJK, face 2 is Simplified Chinese (0 JP, 1 KR, 3 TC, 4 HK).
const SC_FACE: u32 = 2;
pub const REGULAR_FILE: &str = "NotoSerifCJK-Regular.ttc";
pub const BOLD_FILE: &str = "NotoSerifCJK-Bold.ttc";
/// Where Debian's `fonts-noto-cjk` puts them.
pub const DEFAULT_DIR: &str = "/usr/share/fonts/opentype/noto";

/// One face: krilla's handle and the bytes (for glyph coverage and widths).
#[derive(Clone)]
pub struct Face {
    pub(crate) font: Font,
    data: Arc<Vec<u8>>,
}

impl Face {
    fn load(path: &Path) -> Result<Face, DocError> {
        let err = |problem: String| DocError::Font {
            path: path.display().to_string(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| {
            err(format!(
                "{e} (install Debian's fonts-noto-cjk or set font_dir)"
            ))
        })?;
        let data = Arc::new(bytes);
        let font = Font::new(data.clone().into(), SC_FACE)
            .ok_or_else(|| err("not a font collection with a Simplified Chinese face".into()))?;
        Ok(Face { font, data })
    }

    fn font_ref(&self) -> Option<skrifa::FontRef<'_>> {
        skrifa::FontRef::from_index(&self.data, SC_FACE).ok()
    }

    /// Whether the face has a glyph for `c` (whitespace needs none).
    pub fn has_glyph(&self, c: char) -> bool {
        c.is_whitespace()
            || self
                .font_ref()
                .and_then(|f| f.charmap().map(c))
                .is_some_and(|g| g.to_u32() != 0)
    }

    /// The advance width of `text` at `size` points (for centring and right alignment).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let Some(f) = self.font_ref() else { return 0.0 };
        let metrics = f.glyph_metrics(
            skrifa::instance::Size::new(size),
            skrifa::instance::LocationRef::default(),
        );
        let charmap = f.charmap();
        text.chars()
            .map(|c| {
                charmap
                    .map(c)
                    .and_then(|g| metrics.advance_width(g))
                    .unwrap_or(size)
            })
            .sum()
    }
}

/// The regular and bold faces.
#[derive(Clone)]
pub struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

impl Fonts {
    /// Reads both faces from `dir`.
    pub fn load(dir: &Path) -> Result<Fonts, DocError> {
        Ok(Fonts {
            regular: Face::load(&dir.join(REGULAR_FILE))?,
            bold: Face::load(&dir.join(BOLD_FILE))?,
        })
    }

    /// The default directory, for tools and tests.
    pub fn default_dir() -> PathBuf {
        PathBuf::from(DEFAULT_DIR)
    }
}

/// The characters of `text` that either face cannot draw, each once, in order.
pub fn missing_glyphs(fonts: &Fonts, text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        let printable = fonts.regular.has_glyph(c) && fonts.bold.has_glyph(c);
        if !printable && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}
