//! Exact money: CNY held as integer fen (分). DESIGN.md §5.

use std::fmt;

use crate::lang::{Lang, Text};

/// An amount of Chinese yuan, exact to the fen. Never negative in zizhi's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cny {
    fen: i64,
}

/// Why a text or number is not an amount of CNY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CnyError {
    Negative(String),
    TooPrecise(String),
    NotANumber(String),
    TooLarge(String),
}

impl CnyError {
    pub fn text(&self) -> Text {
        match self {
            CnyError::Negative(s) => Text::new(
                format!("金额不能为负数：{s}"),
                format!("amount must not be negative: {s}"),
            ),
            CnyError::TooPrecise(s) => Text::new(
                format!("金额最多精确到分（两位小数）：{s}"),
                format!("amount has more than two decimal places (fen): {s}"),
            ),
            CnyError::NotANumber(s) => Text::new(
                format!("不是十进制金额：“{s}”（例：15000000 或 \"15000000.00\"）"),
                format!("not a decimal amount: \"{s}\" (e.g. 15000000 or \"15000000.00\")"),
            ),
            CnyError::TooLarge(s) => {
                Text::new(format!("金额过大：{s}"), format!("amount too large: {s}"))
            }
        }
    }
}

impl fmt::Display for CnyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().en)
    }
}

impl std::error::Error for CnyError {}

impl Cny {
    pub const fn from_fen(fen: i64) -> Cny {
        Cny { fen }
    }

    pub const fn from_yuan(yuan: i64) -> Cny {
        Cny { fen: yuan * 100 }
    }

    pub const fn fen(self) -> i64 {
        self.fen
    }

    /// Parses a plain decimal: digits, optionally `.` and one or two digits. No sign, no
    /// exponent, no separators: an amount on an official form is written out.
    pub fn parse(input: &str) -> Result<Cny, CnyError> {
        let s = input.trim();
        if s.starts_with('-') {
            return Err(CnyError::Negative(s.to_string()));
        }
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || (s.contains('.') && frac.is_empty()) {
            return Err(CnyError::NotANumber(s.to_string()));
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 {
            return Err(CnyError::TooPrecise(s.to_string()));
        }
        let too_large = || CnyError::TooLarge(s.to_string());
        let yuan: i64 = int.parse().map_err(|_| too_large())?;
        let fen_part: i64 = format!("{frac:0<2}").parse().map_err(|_| too_large())?;
        yuan.checked_mul(100)
            .and_then(|f| f.checked_add(fen_part))
            .map(Cny::from_fen)
            .ok_or_else(too_large)
    }

    /// From a JSON-style floating-point number, through its shortest decimal representation
    /// (so `15000000.5` is exactly 1 500 000 050 fen).
    pub fn from_f64(x: f64) -> Result<Cny, CnyError> {
        if !x.is_finite() {
            return Err(CnyError::NotANumber(x.to_string()));
        }
        Cny::parse(&format!("{x}"))
    }

    pub fn checked_add(self, other: Cny) -> Option<Cny> {
        self.fen.checked_add(other.fen).map(Cny::from_fen)
    }

    /// Whole yuan when the amount has no fen, for JSON output as a number.
    pub fn whole_yuan(self) -> Option<i64> {
        (self.fen % 100 == 0).then_some(self.fen / 100)
    }

    /// `87,000.00 元` in Chinese, `CNY 87,000.00` in English.
    pub fn display(self, lang: Lang) -> String {
        let n = self.plain_grouped();
        match lang {
            Lang::Zh => format!("{n} 元"),
            Lang::En => format!("CNY {n}"),
        }
    }

    fn plain_grouped(self) -> String {
        let sign = if self.fen < 0 { "-" } else { "" };
        let abs = self.fen.unsigned_abs();
        let (yuan, fen) = (abs / 100, abs % 100);
        let digits = yuan.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{sign}{grouped}.{fen:02}")
    }
}

impl fmt::Display for Cny {
    /// The plain decimal, e.g. `87000.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.fen < 0 { "-" } else { "" };
        let abs = self.fen.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_integers_and_decimals_exactly() {
        assert_eq!(Cny::parse("15000000").unwrap().fen(), 1_500_000_000);
        assert_eq!(Cny::parse("15000000.5").unwrap().fen(), 1_500_000_050);
        assert_eq!(Cny::parse("15000000.05").unwrap().fen(), 1_500_000_005);
        assert_eq!(Cny::parse("0.10").unwrap().fen(), 10);
        assert_eq!(Cny::parse("1.500").unwrap().fen(), 150);
        assert_eq!(Cny::from_f64(15000000.5).unwrap().fen(), 1_500_000_050);
        assert_eq!(Cny::from_f64(0.1).unwrap().fen(), 10);
    }

    #[test]
    fn rejects_bad_amounts() {
        assert!(matches!(Cny::parse("-1"), Err(CnyError::Negative(_))));
        assert!(matches!(Cny::parse("1.005"), Err(CnyError::TooPrecise(_))));
        for bad in ["", "abc", "1e7", "1,000", "1.", ".5", "+1", "1 000"] {
            assert!(
                matches!(Cny::parse(bad), Err(CnyError::NotANumber(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Cny::parse("99999999999999999999"),
            Err(CnyError::TooLarge(_))
        ));
        assert!(Cny::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn displays_with_thousands_separators() {
        assert_eq!(Cny::from_yuan(87_000).display(Lang::Zh), "87,000.00 元");
        assert_eq!(Cny::from_yuan(63_000).display(Lang::En), "CNY 63,000.00");
        assert_eq!(
            Cny::from_fen(123_456_789).display(Lang::Zh),
            "1,234,567.89 元"
        );
        assert_eq!(Cny::from_fen(5).display(Lang::Zh), "0.05 元");
        assert_eq!(Cny::from_yuan(100).display(Lang::Zh), "100.00 元");
        assert_eq!(Cny::from_fen(8_700_050).to_string(), "87000.50");
    }
}
