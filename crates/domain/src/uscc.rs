//! The unified social credit code (统一社会信用代码, GB 32100-2015) that identifies an applicant
//! organisation. STANDARDS.md §4.

use std::fmt;

use crate::lang::Text;

/// The 31 symbols of GB 32100: digits and upper-case letters without I, O, S, V, Z.
/// A symbol's value is its index.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1..=17: 3^(i-1) mod 31.
pub const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A validated unified social credit code: 18 symbols of [`ALPHABET`] whose last is the check
/// character of the first 17. Stored normalised (half-width, upper-case, no separators).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

/// Why a text is not a unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsccError {
    Empty,
    Length(usize),
    /// A symbol outside the alphabet, with its 1-based position.
    ForbiddenChar {
        position: usize,
        ch: char,
    },
    CheckChar {
        expected: char,
        found: char,
    },
}

impl UsccError {
    pub fn text(&self) -> Text {
        match self {
            UsccError::Empty => Text::new("不能为空", "must not be empty"),
            UsccError::Length(n) => Text::new(
                format!("应为 18 位，实为 {n} 位"),
                format!("must have 18 characters, found {n}"),
            ),
            UsccError::ForbiddenChar { position, ch } => Text::new(
                format!(
                    "第 {position} 位字符“{ch}”不允许（只允许数字和除 I、O、S、V、Z 以外的大写字母）"
                ),
                format!(
                    "character '{ch}' at position {position} is not allowed (digits and upper-case letters except I, O, S, V, Z)"
                ),
            ),
            UsccError::CheckChar { expected, found } => Text::new(
                format!("校验码错误：应为 {expected}，实为 {found}"),
                format!("check character mismatch: expected {expected}, found {found}"),
            ),
        }
    }
}

impl fmt::Display for UsccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().en)
    }
}

impl std::error::Error for UsccError {}

fn value_of(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// Normalises user input: full-width forms to half-width, drops spaces (including the
/// ideographic space), hyphens and tabs, upper-cases.
pub fn normalise(input: &str) -> String {
    input
        .chars()
        .map(|c| match c {
            // Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The check character for the first 17 symbols, or the first forbidden symbol.
pub fn check_char(first17: &str) -> Result<char, UsccError> {
    let mut sum = 0u32;
    for (i, (c, w)) in first17.chars().zip(WEIGHTS).enumerate() {
        let v = value_of(c).ok_or(UsccError::ForbiddenChar {
            position: i + 1,
            ch: c,
        })?;
        sum += v * w;
    }
    let idx = (31 - sum % 31) % 31;
    Ok(ALPHABET.as_bytes()[idx as usize] as char)
}

impl Uscc {
    /// Parses and validates; see [`normalise`] for what is accepted around the code.
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let s = normalise(input);
        if s.is_empty() {
            return Err(UsccError::Empty);
        }
        let n = s.chars().count();
        if n != 18 {
            return Err(UsccError::Length(n));
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| value_of(*c).is_none()) {
            return Err(UsccError::ForbiddenChar {
                position: i + 1,
                ch: c,
            });
        }
        let expected = check_char(&s[..17])?;
        let found = s.chars().nth(17).unwrap_or(' ');
        if expected != found {
            return Err(UsccError::CheckChar { expected, found });
        }
        Ok(Uscc(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Position 1: the registration authority (登记管理部门代码); `9` is market regulation.
    pub fn registration_authority(&self) -> char {
        self.0.as_bytes()[0] as char
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        for (i, w) in WEIGHTS.iter().enumerate() {
            assert_eq!(*w, 3u32.pow(i as u32) % 31);
        }
        assert_eq!(ALPHABET.len(), 31);
        for forbidden in ['I', 'O', 'S', 'V', 'Z'] {
            assert!(!ALPHABET.contains(forbidden));
        }
    }

    #[test]
    fn accepts_known_valid_codes() {
        // STANDARDS.md §4.4: the GB 32100 worked example and python-stdnum's test codes.
        for code in [
            "91350100M000100Y43",
            "91110000600037341L",
            "121200004013590816",
            "9144030071526726XG",
            "91310115MA1K3BTP2B",
            "92340602MA2PBMEM24",
            "91000000000000000K",
        ] {
            assert_eq!(Uscc::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn rejects_wrong_check_characters() {
        assert_eq!(
            Uscc::parse("91350100M000100Y44"),
            Err(UsccError::CheckChar {
                expected: '3',
                found: '4'
            })
        );
        assert_eq!(
            Uscc::parse("91110000600037341N"),
            Err(UsccError::CheckChar {
                expected: 'L',
                found: 'N'
            })
        );
    }

    #[test]
    fn normalises_full_width_spaces_hyphens_and_case() {
        let u = Uscc::parse(" ９１３５０１００ｍ０００１００ｙ４３ ").unwrap();
        assert_eq!(u.as_str(), "91350100M000100Y43");
        assert_eq!(
            Uscc::parse("9135-0100-m000-100y43").unwrap().as_str(),
            "91350100M000100Y43"
        );
        assert_eq!(
            Uscc::parse("91350100M000\u{3000}100Y43").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn rejects_forbidden_letters_and_bad_lengths() {
        for (bad, pos, ch) in [
            ("91350100I000100Y43", 9, 'I'),
            ("91350100O000100Y43", 9, 'O'),
            ("91350100S000100Y43", 9, 'S'),
            ("91350100V000100Y43", 9, 'V'),
            ("91350100Z000100Y43", 9, 'Z'),
            ("9135010*M000100Y43", 8, '*'),
        ] {
            assert_eq!(
                Uscc::parse(bad),
                Err(UsccError::ForbiddenChar { position: pos, ch })
            );
        }
        assert_eq!(Uscc::parse(""), Err(UsccError::Empty));
        assert_eq!(Uscc::parse("9135"), Err(UsccError::Length(4)));
        assert_eq!(
            Uscc::parse("91350100M000100Y433"),
            Err(UsccError::Length(19))
        );
    }

    fn body() -> impl Strategy<Value = String> {
        proptest::collection::vec(0usize..31, 17).prop_map(|v| {
            v.into_iter()
                .map(|i| ALPHABET.as_bytes()[i] as char)
                .collect()
        })
    }

    proptest! {
        #[test]
        fn computed_check_character_always_validates(b in body()) {
            let c = check_char(&b).unwrap();
            let code = format!("{b}{c}");
            prop_assert_eq!(Uscc::parse(&code).unwrap().to_string(), code.clone());
            prop_assert_eq!(Uscc::parse(&code.to_lowercase()).unwrap().to_string(), code);
        }

        #[test]
        fn any_single_substitution_is_detected(b in body(), pos in 0usize..18, delta in 1usize..31) {
            // 31 is prime and every weight is non-zero mod 31, so changing one symbol always
            // changes the check sum.
            let c = check_char(&b).unwrap();
            let mut chars: Vec<char> = format!("{b}{c}").chars().collect();
            let old = ALPHABET.find(chars[pos]).unwrap();
            chars[pos] = ALPHABET.as_bytes()[(old + delta) % 31] as char;
            let corrupted: String = chars.into_iter().collect();
            prop_assert!(Uscc::parse(&corrupted).is_err());
        }
    }
}
