//! Certificates (资质证书, guide 5.5): validity and numbering.
//!
//! Validity: three years (the fee schedule's 三年年金, 九), ending the day before the third
//! anniversary of issue — the convention of a confirmed CNITSEC certificate
//! (2022-04-26 → 2025-04-25, STANDARDS.md §3.5). The number format of service-qualification
//! certificates is not confirmed (STANDARDS.md §3.4), so it is a template the administrator
//! configures; the default follows the pattern recalled from announcements.

use chrono::NaiveDate;

use crate::period::add_months;

/// A batch of certificates (5.5: 按批次制作证书): made by the certificate officer, approved by
/// another person, then issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStatus {
    Open,
    Approved,
    Issued,
}

impl TryFrom<String> for BatchStatus {
    type Error = String;

    fn try_from(s: String) -> Result<BatchStatus, String> {
        BatchStatus::parse(&s).ok_or_else(|| format!("unknown batch status \"{s}\""))
    }
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Open => "open",
            BatchStatus::Approved => "approved",
            BatchStatus::Issued => "issued",
        }
    }

    pub fn parse(s: &str) -> Option<BatchStatus> {
        [
            BatchStatus::Open,
            BatchStatus::Approved,
            BatchStatus::Issued,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }

    pub fn name(self) -> crate::lang::Text {
        use crate::lang::Text;
        match self {
            BatchStatus::Open => Text::new("待审批", "awaiting approval"),
            BatchStatus::Approved => Text::new("已审批，待发证", "approved, to issue"),
            BatchStatus::Issued => Text::new("已发证", "issued"),
        }
    }
}

/// The default number template: `CNITSEC2026SRV-DR-II-0001` — the year, the category's code
/// (DR, 灾难恢复类), the level and a serial counted per year, category and level.
pub const DEFAULT_TEMPLATE: &str = "CNITSEC{year}SRV-{category}-{roman}-{serial}";

/// Whether a certificate is in force on `day`: valid status (neither suspended nor revoked, 六)
/// and not past its last valid day (guide 3.1.4 "资质证书在有效期内"). The one rule for the
/// register's certificates and the applicant's declared ones.
pub fn in_force(
    status: crate::profile::CertificateStatus,
    valid_until: NaiveDate,
    day: NaiveDate,
) -> bool {
    status == crate::profile::CertificateStatus::Valid && valid_until >= day
}

/// The last valid day of a certificate issued on `issued` for `years`.
pub fn valid_until(issued: NaiveDate, years: u32) -> NaiveDate {
    add_months(issued, years * 12)
        .pred_opt()
        .expect("date in range")
}

fn roman(level: u8) -> &'static str {
    match level {
        1 => "I",
        2 => "II",
        3 => "III",
        4 => "IV",
        5 => "V",
        _ => "?",
    }
}

/// Checks a template: known placeholders only, and everything a serial is counted by present
/// — `{serial}`, `{year}`, `{category}` and `{level}` or `{roman}` — so that two certificates
/// can never get the same number.
pub fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        let end = rest[i..].find('}').ok_or("an opening { has no closing }")? + i;
        let name = &rest[i + 1..end];
        if !matches!(name, "year" | "level" | "roman" | "serial" | "category") {
            return Err(format!(
                "unknown placeholder {{{name}}} (year, level, roman, serial, category)"
            ));
        }
        rest = &rest[end + 1..];
    }
    for (needed, what) in [
        ("{serial}", "{serial}"),
        ("{year}", "{year} (serials restart each year)"),
        (
            "{category}",
            "{category} (serials are counted per category)",
        ),
    ] {
        if !t.contains(needed) {
            return Err(format!("the template needs {what}"));
        }
    }
    if !t.contains("{level}") && !t.contains("{roman}") {
        return Err("the template needs {level} or {roman} (serials are counted per level)".into());
    }
    Ok(())
}

/// Renders a certificate number; `{serial}` is zero-padded to four digits.
pub fn number(template: &str, year: i32, category_code: &str, level: u8, serial: i64) -> String {
    template
        .replace("{year}", &year.to_string())
        .replace("{level}", &level.to_string())
        .replace("{roman}", roman(level))
        .replace("{category}", category_code)
        .replace("{serial}", &format!("{serial:04}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_date;

    #[test]
    fn three_years_end_the_day_before_the_third_anniversary() {
        assert_eq!(
            valid_until(parse_date("2022-04-26").unwrap(), 3),
            parse_date("2025-04-25").unwrap()
        );
        assert_eq!(
            valid_until(parse_date("2026-11-24").unwrap(), 3),
            parse_date("2029-11-23").unwrap()
        );
        // Issued on 29 February: the anniversary clamps to 28 February, the day before is the 27th.
        assert_eq!(
            valid_until(parse_date("2024-02-29").unwrap(), 3),
            parse_date("2027-02-27").unwrap()
        );
        assert_eq!(
            valid_until(parse_date("2026-03-01").unwrap(), 3),
            parse_date("2029-02-28").unwrap()
        );
    }

    #[test]
    fn a_certificate_is_in_force_through_its_last_day_unless_suspended_or_revoked() {
        use crate::profile::CertificateStatus as S;
        let last = parse_date("2027-08-31").unwrap();
        assert!(in_force(S::Valid, last, last), "the last day counts");
        assert!(!in_force(S::Valid, last, last.succ_opt().unwrap()));
        assert!(!in_force(S::Suspended, last, last));
        assert!(!in_force(S::Revoked, last, last));
        assert!(!in_force(S::Expired, last, last));
    }

    #[test]
    fn numbers_follow_the_template() {
        assert_eq!(
            number(DEFAULT_TEMPLATE, 2026, "DR", 2, 7),
            "CNITSEC2026SRV-DR-II-0007"
        );
        assert_eq!(
            number("ZZ-{category}{level}-{year}-{serial}", 2026, "DR", 3, 12345),
            "ZZ-DR3-2026-12345"
        );
        assert!(check_template(DEFAULT_TEMPLATE).is_ok());
        assert!(check_template("X-{year}").is_err());
        assert!(check_template("X-{serial}-{month}").is_err());
        // Serials restart per year, category and level: a template without one of them
        // would give two certificates the same number.
        assert!(check_template("CNITSEC{year}SRV-{roman}-{serial}").is_err());
        assert!(check_template("{category}-{roman}-{serial}").is_err());
        assert!(check_template("{year}-{category}-{serial}").is_err());
        assert!(check_template("{year}-{category}-{level}-{serial}").is_ok());
        assert!(check_template("X-{serial").is_err());
    }
}
