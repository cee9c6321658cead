//! Formal letters (受理通知书, 补充资料通知书, 不予受理决定书, 审核结论报告, 专家评审意见,
//! 证书颁发通知): A4 portrait on the centre's letterhead, with the case number, the addressee,
//! the text, an optional table, the date and whoever signed it. PDF/A-2b, fonts embedded.
//!
//! Chinese text breaks between any two characters, except that closing punctuation never starts
//! a line (避头点); pages follow as the text needs.

use krilla::Document;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;

use crate::DocError;
use crate::fonts::{Face, Fonts, missing_glyphs};

/// A letter's content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LetterDoc {
    pub centre: String,
    /// 受理通知书 …
    pub title: String,
    /// 案件编号 line, e.g. `ZZ-2026-00003`.
    pub reference: String,
    /// The addressee, e.g. the applicant's name.
    pub addressee: String,
    pub paragraphs: Vec<String>,
    /// A table: header and rows (e.g. the judgement per requirement).
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
    /// 经办人 / 签发人 name.
    pub signer: String,
    pub date: String,
    pub ymd: (u16, u8, u8),
}

const W: f32 = 595.28;
const H: f32 = 841.89;
const LEFT: f32 = 72.0;
const RIGHT: f32 = W - 72.0;
const BOTTOM: f32 = H - 72.0;
const RED: (u8, u8, u8) = (161, 28, 34);
const INK: (u8, u8, u8) = (25, 25, 25);

/// Characters that may not begin a line.
fn no_line_start(c: char) -> bool {
    "，。、；：？！）》」』】〕,.;:?!)".contains(c)
}

/// Breaks `text` into lines no wider than `width` at `size` points.
pub fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for c in para.chars() {
            let mut candidate = line.clone();
            candidate.push(c);
            if face.width(&candidate, size) > width && !line.is_empty() {
                if no_line_start(c) {
                    // Carry the last character down with the punctuation.
                    let last = line.pop();
                    lines.push(std::mem::take(&mut line));
                    if let Some(l) = last {
                        line.push(l);
                    }
                } else {
                    lines.push(std::mem::take(&mut line));
                }
            }
            line.push(c);
        }
        lines.push(line);
    }
    lines
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// Lays out pages: draws text and rules, starts a new page when the bottom is reached.
struct Writer<'a> {
    doc: Document,
    fonts: &'a Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
}

enum Op {
    Text {
        face_bold: bool,
        size: f32,
        colour: (u8, u8, u8),
        x: f32,
        y: f32,
        s: String,
    },
    Rule {
        y: f32,
        width: f32,
        colour: (u8, u8, u8),
    },
}

impl<'a> Writer<'a> {
    fn new(fonts: &'a Fonts) -> Result<Writer<'a>, DocError> {
        let config = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A2_B)
            .finish()
            .map_err(|e| DocError::Pdf(format!("{e:?}")))?;
        Ok(Writer {
            doc: Document::new_with(krilla::SerializeSettings {
                configuration: config,
                ..Default::default()
            }),
            fonts,
            pages: vec![Vec::new()],
            y: 72.0,
        })
    }

    fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.pages.push(Vec::new());
            self.y = 72.0;
        }
    }

    fn text(&mut self, bold: bool, size: f32, colour: (u8, u8, u8), x: f32, s: &str) {
        let y = self.y;
        self.pages.last_mut().expect("a page").push(Op::Text {
            face_bold: bold,
            size,
            colour,
            x,
            y,
            s: s.to_string(),
        });
    }

    fn face(&self, bold: bool) -> &Face {
        if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    fn centred(&mut self, bold: bool, size: f32, colour: (u8, u8, u8), s: &str) {
        let x = (W - self.face(bold).width(s, size)) / 2.0;
        self.text(bold, size, colour, x, s);
    }

    fn paragraph(&mut self, s: &str, indent: bool) {
        let size = 12.0;
        let lead = if indent { "　　" } else { "" };
        let lines = wrap(
            &self.fonts.regular,
            &format!("{lead}{s}"),
            size,
            RIGHT - LEFT,
        );
        for l in lines {
            self.need(20.0);
            self.y += 20.0;
            self.text(false, size, INK, LEFT, &l);
        }
        self.y += 6.0;
    }

    fn rule(&mut self, width: f32, colour: (u8, u8, u8)) {
        let y = self.y;
        self.pages
            .last_mut()
            .expect("a page")
            .push(Op::Rule { y, width, colour });
    }

    fn table(&mut self, header: &[String], rows: &[Vec<String>]) {
        let n = header.len().max(1);
        // The last column takes what the others leave (the text of a judgement).
        let narrow = ((RIGHT - LEFT) * 0.18).min(90.0);
        let widths: Vec<f32> = (0..n)
            .map(|i| {
                if i + 1 == n {
                    (RIGHT - LEFT) - narrow * (n as f32 - 1.0)
                } else {
                    narrow
                }
            })
            .collect();
        let size = 10.5;
        let draw_row = |w: &mut Writer<'_>, cells: &[String], bold: bool| {
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(&widths)
                .map(|(c, cw)| wrap(w.face(bold), c, size, cw - 6.0))
                .collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
            w.need(16.0 * lines as f32 + 6.0);
            let top = w.y;
            let mut x = LEFT;
            for (cell, cw) in wrapped.iter().zip(&widths) {
                for (k, l) in cell.iter().enumerate() {
                    w.y = top + 15.0 * (k as f32 + 1.0);
                    w.text(bold, size, INK, x + 3.0, l);
                }
                x += cw;
            }
            w.y = top + 15.0 * lines as f32 + 5.0;
            w.rule(0.4, (150, 150, 150));
        };
        self.rule(0.8, INK);
        draw_row(self, header, true);
        for r in rows {
            draw_row(self, r, false);
        }
        self.y += 8.0;
    }

    fn finish(mut self, meta: Metadata) -> Result<Vec<u8>, DocError> {
        let total = self.pages.len();
        for (i, ops) in self.pages.iter().enumerate() {
            let Some(settings) = PageSettings::from_wh(W, H) else {
                continue;
            };
            let mut page = self.doc.start_page_with(settings);
            let mut s = page.surface();
            for op in ops {
                match op {
                    Op::Text {
                        face_bold,
                        size,
                        colour,
                        x,
                        y,
                        s: t,
                    } => {
                        let face = if *face_bold {
                            &self.fonts.bold
                        } else {
                            &self.fonts.regular
                        };
                        s.set_fill(Some(fill(*colour)));
                        s.draw_text(
                            Point::from_xy(*x, *y),
                            face.font.clone(),
                            *size,
                            t,
                            false,
                            TextDirection::Auto,
                        );
                    }
                    Op::Rule { y, width, colour } => {
                        let mut pb = PathBuilder::new();
                        pb.move_to(LEFT, *y);
                        pb.line_to(RIGHT, *y);
                        if let Some(path) = pb.finish() {
                            s.set_fill(None);
                            s.set_stroke(Some(Stroke {
                                paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
                                width: *width,
                                ..Default::default()
                            }));
                            s.draw_path(&path);
                            s.set_stroke(None);
                        }
                    }
                }
            }
            if total > 1 {
                let label = format!("第 {} 页 共 {total} 页", i + 1);
                let x = (W - self.fonts.regular.width(&label, 9.0)) / 2.0;
                s.set_fill(Some(fill(INK)));
                s.draw_text(
                    Point::from_xy(x, H - 40.0),
                    self.fonts.regular.font.clone(),
                    9.0,
                    &label,
                    false,
                    TextDirection::Auto,
                );
            }
            s.finish();
            page.finish();
        }
        self.doc.set_metadata(meta);
        self.doc
            .finish()
            .map_err(|e| DocError::Pdf(format!("{e:?}")))
    }
}

/// The letter as a PDF. Refuses characters the fonts cannot draw, naming them.
pub fn letter_pdf(fonts: &Fonts, l: &LetterDoc) -> Result<Vec<u8>, DocError> {
    let mut all = format!(
        "{}{}{}{}{}{}",
        l.centre, l.title, l.reference, l.addressee, l.signer, l.date
    );
    for p in &l.paragraphs {
        all.push_str(p);
    }
    if let Some((h, rows)) = &l.table {
        for c in h.iter().chain(rows.iter().flatten()) {
            all.push_str(c);
        }
    }
    let missing = missing_glyphs(fonts, &all);
    if !missing.is_empty() {
        return Err(DocError::MissingGlyphs(missing));
    }
    let mut w = Writer::new(fonts)?;
    // Letterhead: the centre's name in red over a red double rule.
    w.y = 70.0;
    w.centred(true, 22.0, RED, &l.centre);
    w.y += 12.0;
    w.rule(2.0, RED);
    w.y += 3.0;
    w.rule(0.6, RED);
    w.y += 40.0;
    w.centred(true, 20.0, INK, &l.title);
    w.y += 24.0;
    let refw = w.fonts.regular.width(&l.reference, 11.0);
    w.text(false, 11.0, INK, RIGHT - refw, &l.reference);
    w.y += 14.0;
    if !l.addressee.is_empty() {
        w.paragraph(&format!("{}：", l.addressee), false);
    }
    for p in &l.paragraphs {
        w.paragraph(p, true);
    }
    if let Some((h, rows)) = &l.table {
        w.y += 6.0;
        w.table(h, rows);
    }
    w.need(80.0);
    w.y += 36.0;
    let sw = w.fonts.regular.width(&l.centre, 12.0);
    w.text(false, 12.0, INK, RIGHT - sw, &l.centre);
    w.y += 20.0;
    let signer = format!("签发人：{}", l.signer);
    let gw = w.fonts.regular.width(&signer, 12.0);
    w.text(false, 12.0, INK, RIGHT - gw, &signer);
    w.y += 20.0;
    let dw = w.fonts.regular.width(&l.date, 12.0);
    w.text(false, 12.0, INK, RIGHT - dw, &l.date);
    let (y, m, d) = l.ymd;
    let meta = Metadata::new()
        .language("zh-CN".into())
        .creator("zizhi".into())
        .title(format!("{} {}", l.title, l.reference))
        .creation_date(DateTime::new(y).month(m).day(d));
    w.finish(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_letter_breaks_lines_and_pages_and_reads_back() {
        let Ok(fonts) = Fonts::load(&Fonts::default_dir()) else {
            assert!(std::env::var("ZIZHI_REQUIRE_FONTS").as_deref() != Ok("1"));
            return;
        };
        let rows: Vec<Vec<String>> = (1..=40)
            .map(|i| {
                vec![
                    format!("3.{i}"),
                    "符合".into(),
                    "证据充分：灾难恢复预案、演练记录与备份中心的巡检记录齐全，与申请材料一致。"
                        .into(),
                ]
            })
            .collect();
        let l = LetterDoc {
            centre: "中国信息安全测评中心".into(),
            title: "审核结论报告".into(),
            reference: "案件编号：ZZ-2026-00003".into(),
            addressee: "福建示例灾备技术有限公司".into(),
            paragraphs: vec!["经对贵单位提交的申请资料进行文件审查、现场访谈与实际操作演示，现将审核结论报告如下。".repeat(3)],
            table: Some((vec!["要求".into(), "判定".into(), "理由".into()], rows)),
            signer: "张三".into(),
            date: "2026年11月28日".into(),
            ymd: (2026, 11, 28),
        };
        let pdf = letter_pdf(&fonts, &l).unwrap();
        let dir = std::env::temp_dir().join(format!("zizhi-letter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("l.pdf");
        std::fs::write(&path, &pdf).unwrap();
        if let Some(text) = crate::testing::tool("pdftotext", &[path.to_str().unwrap(), "-"]) {
            assert!(
                text.contains("审核结论报告") && text.contains("ZZ-2026-00003"),
                "{text}"
            );
            assert!(text.contains("签发人：张三"), "{text}");
            assert!(
                text.replace(' ', "").contains("第2页共3页"),
                "40 rows take more than a page: {text}"
            );
        }
        // No line starts with closing punctuation.
        for line in wrap(&fonts.regular, &"测试，句号。".repeat(30), 12.0, 100.0) {
            assert!(!line.starts_with(['，', '。']), "{line}");
        }
    }
}
