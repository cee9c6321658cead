//! Lists as `.xlsx` (rust_xlsxwriter): a title row, a bold header, the rows as text (numbers,
//! USCCs and dates stay exactly as written), columns fitted.

use rust_xlsxwriter::{Format, Workbook};

use crate::DocError;

/// One sheet named `sheet` with `title` above a bold `header` and the `rows`.
pub fn xlsx(
    sheet: &str,
    title: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, DocError> {
    let err = |e: rust_xlsxwriter::XlsxError| DocError::Pdf(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(err)?;
    let bold = Format::new().set_bold();
    ws.write_string_with_format(0, 0, title, &bold)
        .map_err(err)?;
    for (c, h) in header.iter().enumerate() {
        let col = u16::try_from(c).map_err(|_| DocError::Pdf("too many columns".into()))?;
        ws.write_string_with_format(2, col, *h, &bold)
            .map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let line = u32::try_from(r + 3).map_err(|_| DocError::Pdf("too many rows".into()))?;
        for (c, v) in row.iter().enumerate() {
            let col = u16::try_from(c).map_err(|_| DocError::Pdf("too many columns".into()))?;
            ws.write_string(line, col, v).map_err(err)?;
        }
    }
    ws.autofit();
    wb.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Reader, Xlsx};

    #[test]
    fn the_sheet_reads_back() {
        let bytes = xlsx(
            "证书清单",
            "信息安全服务资质认定公告（第 1 号）",
            &["证书编号", "单位名称"],
            &[vec![
                "CNITSEC2026SRV-DR-II-0001".into(),
                "福建示例灾备技术有限公司".into(),
            ]],
        )
        .unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("证书清单").unwrap();
        assert_eq!(
            range.get_value((0, 0)).unwrap().to_string(),
            "信息安全服务资质认定公告（第 1 号）"
        );
        assert_eq!(range.get_value((2, 1)).unwrap().to_string(), "单位名称");
        assert_eq!(
            range.get_value((3, 0)).unwrap().to_string(),
            "CNITSEC2026SRV-DR-II-0001"
        );
        assert_eq!(
            range.get_value((3, 1)).unwrap().to_string(),
            "福建示例灾备技术有限公司"
        );
    }
}
