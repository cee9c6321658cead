//! The certificate (信息安全服务资质证书), guide 5.5: A4 landscape, in the centre's layout —
//! title, holder, USCC, category and level, number, issue date and validity, the centre's name,
//! and a QR code that opens `/verify/{number}`. PDF/A-2b (checked by krilla's validator), fonts
//! embedded and subsetted.

use krilla::Document;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;

use crate::fonts::{Face, Fonts, missing_glyphs};
use crate::{DocError, seal};

/// What a certificate shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateDoc {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    /// 资质类别, e.g. 灾难恢复类.
    pub category: String,
    /// 资质级别, e.g. 二级.
    pub level: String,
    /// Dates as printed (e.g. 2026年11月28日) and as (year, month, day) for the metadata.
    pub issued_on: String,
    pub issued_ymd: (u16, u8, u8),
    pub valid_until: String,
    /// The centre's name (the issuer).
    pub centre: String,
    /// The absolute address of the public check (`…/verify/{number}`).
    pub verify_url: String,
}

impl CertificateDoc {
    /// Specimen `i` (marked 样本): to check the layout and fonts, and to time the rendering.
    pub fn specimen(i: usize) -> CertificateDoc {
        let number = format!("SAMPLE2026SRV-DR-II-{i:04}");
        CertificateDoc {
            verify_url: format!("https://zizhi.example/verify/{number}"),
            number,
            holder: format!("【样本】福建鑫淼灾备技术有限公司（第 {i} 份）"),
            uscc: "91350100M000100Y43".into(),
            category: "灾难恢复类".into(),
            level: "二级".into(),
            issued_on: "2026年11月28日".into(),
            issued_ymd: (2026, 11, 28),
            valid_until: "2029年11月27日".into(),
            centre: "中国信息安全测评中心".into(),
        }
    }
}

/// A4 landscape, in points.
const W: f32 = 841.89;
const H: f32 = 595.28;

const RED: (u8, u8, u8) = (150, 24, 24);
const INK: (u8, u8, u8) = (30, 30, 30);

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn frame(surface: &mut krilla::surface::Surface<'_>, inset: f32, width: f32) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(inset, inset, W - 2.0 * inset, H - 2.0 * inset) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(RED.0, RED.1, RED.2).into(),
            width,
            ..Default::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

fn text(
    surface: &mut krilla::surface::Surface<'_>,
    face: &Face,
    size: f32,
    colour: (u8, u8, u8),
    x: f32,
    y: f32,
    s: &str,
) {
    surface.set_fill(Some(fill(colour)));
    surface.draw_text(
        Point::from_xy(x, y),
        face.font.clone(),
        size,
        s,
        false,
        TextDirection::Auto,
    );
}

fn centred(
    surface: &mut krilla::surface::Surface<'_>,
    face: &Face,
    size: f32,
    colour: (u8, u8, u8),
    y: f32,
    s: &str,
) {
    let x = (W - face.width(s, size)) / 2.0;
    text(surface, face, size, colour, x, y, s);
}

/// The QR code of `url`, drawn as one path of dark modules in a `side`-point square at (x, y).
fn qr(surface: &mut krilla::surface::Surface<'_>, url: &str, x: f32, y: f32, side: f32) {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M) else {
        return;
    };
    let n = code.width();
    let quiet = 2.0;
    let m = side / (n as f32 + 2.0 * quiet);
    let mut pb = PathBuilder::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (cx, cy) = ((i % n) as f32, (i / n) as f32);
            if let Some(r) = Rect::from_xywh(
                x + (cx + quiet) * m,
                y + (cy + quiet) * m,
                m + 0.01,
                m + 0.01,
            ) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(fill((0, 0, 0))));
        surface.draw_path(&path);
    }
}

fn page(document: &mut Document, fonts: &Fonts, c: &CertificateDoc) {
    let Some(settings) = PageSettings::from_wh(W, H) else {
        return;
    };
    let mut page = document.start_page_with(settings);
    let mut s = page.surface();
    frame(&mut s, 22.0, 3.0);
    frame(&mut s, 30.0, 0.8);
    let (r, b) = (&fonts.regular, &fonts.bold);
    centred(&mut s, b, 38.0, RED, 118.0, "信息安全服务资质证书");
    centred(
        &mut s,
        r,
        12.0,
        INK,
        142.0,
        "Certificate of Information Security Service Qualification",
    );
    let label_x = 150.0;
    let value_x = 320.0;
    let mut y = 205.0;
    let rows: [(&str, &str); 5] = [
        ("证书编号", &c.number),
        ("单位名称", &c.holder),
        ("统一社会信用代码", &c.uscc),
        ("资质类别", &c.category),
        ("资质级别", &c.level),
    ];
    // A long name shrinks to fit the line (down to 9 pt) rather than run off the page.
    let room = W - 60.0 - value_x;
    for (label, value) in rows {
        text(&mut s, b, 16.0, INK, label_x, y, label);
        let wide = r.width(value, 16.0);
        let size = if wide > room {
            (16.0 * room / wide).max(9.0)
        } else {
            16.0
        };
        text(&mut s, r, size, INK, value_x, y, value);
        y += 34.0;
    }
    let statement = format!(
        "经审核，该单位具备信息安全服务资质（{}{}），特发此证。",
        c.category, c.level
    );
    text(&mut s, r, 14.0, INK, label_x, y + 6.0, &statement);
    y += 52.0;
    text(&mut s, b, 14.0, INK, label_x, y, "发证日期");
    text(&mut s, r, 14.0, INK, value_x, y, &c.issued_on);
    text(&mut s, b, 14.0, INK, label_x, y + 26.0, "有效期至");
    text(&mut s, r, 14.0, INK, value_x, y + 26.0, &c.valid_until);
    // The issuer, right-aligned, and the QR code of the public check, bottom left.
    let cw = b.width(&c.centre, 18.0);
    text(&mut s, b, 18.0, RED, W - 90.0 - cw, H - 95.0, &c.centre);
    let dw = r.width(&c.issued_on, 13.0);
    text(&mut s, r, 13.0, INK, W - 90.0 - dw, H - 72.0, &c.issued_on);
    qr(&mut s, &c.verify_url, 42.0, H - 150.0, 92.0);
    text(
        &mut s,
        r,
        8.0,
        INK,
        48.0,
        H - 44.0,
        "扫码核验 / Scan to verify",
    );
    s.finish();
    page.finish();
}

/// One PDF with a page per certificate (a single one to hand out, or a batch to print).
/// `sealed`: carry the blank seal slot (for the signed single certificate). Refuses to print a
/// character the fonts cannot draw, naming it.
pub fn certificates_pdf(
    fonts: &Fonts,
    certs: &[CertificateDoc],
    sealed: bool,
) -> Result<Vec<u8>, DocError> {
    let mut missing = Vec::new();
    for c in certs {
        for ch in missing_glyphs(
            fonts,
            &format!(
                "{}{}{}{}{}{}{}",
                c.holder, c.number, c.uscc, c.category, c.level, c.issued_on, c.valid_until
            ),
        ) {
            if !missing.contains(&ch) {
                missing.push(ch);
            }
        }
    }
    if !missing.is_empty() {
        return Err(DocError::MissingGlyphs(missing));
    }
    let config = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| DocError::Pdf(format!("{e:?}")))?;
    let settings = krilla::SerializeSettings {
        configuration: config,
        ..Default::default()
    };
    let mut document = Document::new_with(settings);
    for c in certs {
        page(&mut document, fonts, c);
    }
    let first = certs.first();
    let (y, m, d) = first.map_or((2026, 1, 1), |c| c.issued_ymd);
    let mut meta = Metadata::new()
        .language("zh-CN".into())
        .creator("zizhi".into())
        .creation_date(DateTime::new(y).month(m).day(d))
        .title(match (first, certs.len()) {
            (Some(c), 1) => format!("信息安全服务资质证书 {}", c.number),
            (_, n) => format!("信息安全服务资质证书（{n} 份）"),
        });
    if sealed {
        meta = meta.keywords(vec![seal::blank()]);
    }
    document.set_metadata(meta);
    document
        .finish()
        .map_err(|e| DocError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tool;

    pub(crate) fn sample() -> CertificateDoc {
        CertificateDoc {
            number: "CNITSEC2026SRV-DR-II-0001".into(),
            holder: "福建示例灾备技术有限公司".into(),
            verify_url: "https://zizhi.example/verify/CNITSEC2026SRV-DR-II-0001".into(),
            ..CertificateDoc::specimen(1)
        }
    }

    fn fonts() -> Option<Fonts> {
        match Fonts::load(&Fonts::default_dir()) {
            Ok(f) => Some(f),
            Err(e) => {
                assert!(
                    std::env::var("ZIZHI_REQUIRE_FONTS").as_deref() != Ok("1"),
                    "{e}"
                );
                eprintln!("fonts-noto-cjk not installed: skipped ({e})");
                None
            }
        }
    }

    #[test]
    fn the_certificate_carries_its_text_fonts_and_blank_seal() {
        let Some(fonts) = fonts() else { return };
        let pdf = certificates_pdf(&fonts, &[sample()], true).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(seal::read(&pdf), Err(seal::SealError::Blank));
        let dir = std::env::temp_dir().join(format!("zizhi-docs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let p = path.to_str().unwrap();
        if let Some(text) = tool("pdftotext", &["-layout", p, "-"]) {
            assert!(text.contains("福建示例灾备技术有限公司"), "{text}");
            assert!(text.contains("CNITSEC2026SRV-DR-II-0001"), "{text}");
            assert!(text.contains("信息安全服务资质证书"), "{text}");
        }
        if let Some(f) = tool("pdffonts", &[p]) {
            assert!(f.contains("NotoSerifCJKsc"), "{f}");
            assert!(
                f.lines().skip(2).all(|l| l.contains(" yes ")),
                "every font embedded: {f}"
            );
        }
    }

    #[test]
    fn a_character_without_a_glyph_is_refused_by_name() {
        let Some(fonts) = fonts() else { return };
        let mut c = sample();
        // U+31350 (CJK Extension H, Unicode 15) is not in Noto Serif CJK SC; a private-use character neither.
        c.holder = "福建\u{31350}\u{E000}灾备有限公司".into();
        match certificates_pdf(&fonts, &[c], true) {
            Err(DocError::MissingGlyphs(chars)) => assert_eq!(chars, ['\u{31350}', '\u{E000}']),
            other => panic!("{other:?}"),
        }
        assert!(
            missing_glyphs(&fonts, "鑫淼犇骉𰻞 Ltd. （有限）").is_empty(),
            "rare but present: 𰻞 (biáng)"
        );
    }
}
