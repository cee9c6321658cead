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

    /// Parses an amount as people type it on a form: thousands separators (`87,000.00`,
    /// `87，000`), an optional `元`, or a count of 万元 (`8.7万`, `1500万元`, exact to the fen:
    /// up to six decimals). Separators must group by three.
    pub fn parse_typed(input: &str) -> Result<Cny, CnyError> {
        let s = input.trim();
        let bad = || CnyError::NotANumber(s.to_string());
        let (body, wan) = match s.strip_suffix("万元").or_else(|| s.strip_suffix('万')) {
            Some(b) => (b.trim(), true),
            None => (s.strip_suffix('元').unwrap_or(s).trim(), false),
        };
        let body = body.replace([' ', '\u{a0}'], "");
        if body.starts_with('-') {
            return Err(CnyError::Negative(s.to_string()));
        }
        // Thousands separators: every group after the first has three digits.
        let (int, frac) = body.split_once('.').unwrap_or((&body, ""));
        let groups: Vec<&str> = int.split([',', '，']).collect();
        if groups.len() > 1
            && (groups[0].is_empty()
                || groups[0].len() > 3
                || groups[1..].iter().any(|g| g.len() != 3))
        {
            return Err(bad());
        }
        let plain = format!(
            "{}{}{frac}",
            groups.concat(),
            if body.contains('.') { "." } else { "" }
        );
        if !wan {
            return Cny::parse(&plain).map_err(|e| match e {
                CnyError::NotANumber(_) => bad(),
                other => other,
            });
        }
        // 万元: 1 万元 = 1 000 000 fen, so six decimals are exact.
        let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !digits(int)
            || !digits(frac)
            || (plain.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 6 {
            return Err(CnyError::TooPrecise(s.to_string()));
        }
        let too_large = || CnyError::TooLarge(s.to_string());
        let whole: i64 = int.parse().map_err(|_| too_large())?;
        let part: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<6}").parse().map_err(|_| too_large())?
        };
        whole
            .checked_mul(1_000_000)
            .and_then(|f| f.checked_add(part))
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
    fn typed_amounts_take_separators_and_wan() {
        let p = |x: &str| Cny::parse_typed(x).map(Cny::fen);
        assert_eq!(p("87,000.00"), Ok(8_700_000));
        assert_eq!(p("87，000 元"), Ok(8_700_000));
        assert_eq!(p("87000"), Ok(8_700_000));
        assert_eq!(p("8.7万"), Ok(8_700_000));
        assert_eq!(p("1500万元"), Ok(1_500_000_000));
        assert_eq!(p("1,500 万"), Ok(1_500_000_000));
        // Exact to the fen in 万元: six decimals, no more.
        assert_eq!(p("0.000001万"), Ok(1));
        assert!(matches!(p("0.0000001万"), Err(CnyError::TooPrecise(_))));
        assert!(matches!(p("1.001"), Err(CnyError::TooPrecise(_))));
        // Separators group by three.
        assert!(matches!(p("12,34"), Err(CnyError::NotANumber(_))));
        assert!(matches!(p("1234,567"), Err(CnyError::NotANumber(_))));
        assert!(matches!(p(",123"), Err(CnyError::NotANumber(_))));
        assert!(matches!(p("-5"), Err(CnyError::Negative(_))));
        assert!(matches!(p("五万"), Err(CnyError::NotANumber(_))));
        assert!(matches!(p("万"), Err(CnyError::NotANumber(_))));
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
