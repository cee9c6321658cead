//! The seal slot: a fixed-length ASCII string in the PDF's metadata (the Info dictionary's
//! `Keywords` and the XMP `pdf:Keywords`, which PDF/A keeps equal). A fresh PDF carries the blank
//! slot; the signed record and signature are written into the slot afterwards, byte for byte in
//! place, so no offset in the file moves. The file's SM3 is taken with every slot blank — the
//! record holds that hash — so a checker blanks the slots, hashes, and compares (the way a PDF
//! signature's byte range leaves out the signature itself).

/// How a slot begins.
pub const MARK: &str = "ZIZHISEAL1:";
/// The whole slot's length in bytes, mark included.
pub const LEN: usize = 3072;

/// Why a file's seal cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("no zizhi seal in the file")]
    Missing,
    #[error("the seal slots differ or are cut short")]
    Damaged,
    #[error("the seal is blank (the certificate was never signed)")]
    Blank,
    #[error("the payload does not fit the slot")]
    TooLong,
}

/// The blank slot a fresh document carries.
pub fn blank() -> String {
    format!("{MARK}{}", "0".repeat(LEN - MARK.len()))
}

fn offsets(pdf: &[u8]) -> Vec<usize> {
    let mark = MARK.as_bytes();
    pdf.windows(mark.len())
        .enumerate()
        .filter(|(_, w)| *w == mark)
        .map(|(i, _)| i)
        .collect()
}

/// The payload written into the file's slots (all of them identical).
pub fn read(pdf: &[u8]) -> Result<String, SealError> {
    let at = offsets(pdf);
    if at.is_empty() {
        return Err(SealError::Missing);
    }
    let slot = |i: usize| pdf.get(i..i + LEN).ok_or(SealError::Damaged);
    let first = slot(at[0])?;
    for &i in &at[1..] {
        if slot(i)? != first {
            return Err(SealError::Damaged);
        }
    }
    let body = std::str::from_utf8(&first[MARK.len()..]).map_err(|_| SealError::Damaged)?;
    if body.bytes().all(|b| b == b'0') {
        return Err(SealError::Blank);
    }
    Ok(body.trim_end_matches('.').to_string())
}

/// The file as it was before sealing: every slot blank again (what the record's hash covers).
pub fn unsealed(pdf: &[u8]) -> Vec<u8> {
    let mut out = pdf.to_vec();
    let blank = blank();
    for i in offsets(pdf) {
        if i + LEN <= out.len() {
            out[i..i + LEN].copy_from_slice(blank.as_bytes());
        }
    }
    out
}

/// Writes `payload` (ASCII letters, digits and `=;_-.`) into every slot, padded with `.`.
pub fn seal(pdf: &[u8], payload: &str) -> Result<Vec<u8>, SealError> {
    if MARK.len() + payload.len() > LEN
        || !payload
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=;_-.".contains(&b))
    {
        return Err(SealError::TooLong);
    }
    let at = offsets(pdf);
    if at.is_empty() {
        return Err(SealError::Missing);
    }
    let filled = format!(
        "{MARK}{payload}{}",
        ".".repeat(LEN - MARK.len() - payload.len())
    );
    let mut out = pdf.to_vec();
    for i in at {
        let slot = out.get_mut(i..i + LEN).ok_or(SealError::Damaged)?;
        slot.copy_from_slice(filled.as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_round_trips_and_unseals_to_the_original() {
        let pdf = format!("%PDF-1.7 (x{}) <k>{}</k> %%EOF", blank(), blank()).into_bytes();
        assert_eq!(read(&pdf), Err(SealError::Blank));
        let sealed = seal(&pdf, "key=ab;sig=0102;record=eHl6").unwrap();
        assert_eq!(sealed.len(), pdf.len(), "nothing moves");
        assert_eq!(read(&sealed).unwrap(), "key=ab;sig=0102;record=eHl6");
        assert_eq!(unsealed(&sealed), pdf);
        // One slot changed: damaged.
        let mut bad = sealed.clone();
        let i = offsets(&bad)[1] + MARK.len() + 2;
        bad[i] = b'X';
        assert_eq!(read(&bad), Err(SealError::Damaged));
        assert_eq!(read(b"%PDF-1.7 nothing"), Err(SealError::Missing));
        assert_eq!(
            seal(&pdf, "a(b)"),
            Err(SealError::TooLong),
            "only safe bytes"
        );
    }
}
