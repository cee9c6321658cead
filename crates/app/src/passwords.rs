//! The rule for a password a person chooses (issue 9): at least [`MIN_LEN`] characters, not the
//! person's username or e-mail address (nor those with digits or signs added), not a common
//! password (nor one with digits or signs added), and not one repeated character or a run like
//! `123456789012`. Each refusal says why in words.
//!
//! The common passwords are the 30 000 of zxcvbn 4.4.2's list (`data/common-passwords.txt`,
//! provenance in `data/README.md`), compared case-insensitively.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::{AppError, Result};

/// The smallest acceptable password length, in characters (以上: 12 itself is accepted).
pub const MIN_LEN: usize = 12;

/// The longest accepted (argon2 takes any length; a bound keeps hashing cheap).
pub const MAX_LEN: usize = 256;

fn common() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// The password lower-cased, and lower-cased without the digits and signs at its end (the
/// usual way of "strengthening" a weak password: `password2026!`).
fn stems(password: &str) -> [String; 2] {
    let lower = password.to_lowercase();
    let stem = lower
        .trim_end_matches(|c: char| !c.is_alphabetic())
        .to_string();
    [lower, stem]
}

/// Whether every character steps by the same amount from the one before (±0 or ±1): `aaaa…`,
/// `123456789012`, `abcdefghijkl`, `987654321098`.
fn is_run(password: &str) -> bool {
    let cs: Vec<u32> = password.chars().map(u32::from).collect();
    if cs.len() < 2 {
        return true;
    }
    let step = |a: u32, b: u32| i64::from(b) - i64::from(a);
    let first = step(cs[0], cs[1]);
    // A digit run wraps around (…7890123).
    let digit_step = |a: u32, b: u32| {
        let (a, b) = (char::from_u32(a), char::from_u32(b));
        match (
            a.and_then(|c| c.to_digit(10)),
            b.and_then(|c| c.to_digit(10)),
        ) {
            (Some(x), Some(y)) => Some((i64::from(y) - i64::from(x)).rem_euclid(10)),
            _ => None,
        }
    };
    let same = cs.windows(2).all(|w| step(w[0], w[1]) == first) && first.abs() <= 1;
    let digits = cs.windows(2).all(|w| digit_step(w[0], w[1]) == Some(1))
        || cs.windows(2).all(|w| digit_step(w[0], w[1]) == Some(9));
    same || digits
}

/// Checks a password the person chose; `personal` are the person's username and e-mail
/// address. The error names `field` and gives the reason in words.
pub fn check(field: &str, password: &str, personal: &[&str]) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(AppError::invalid(
            field,
            format!("密码至少 {MIN_LEN} 个字符（现为 {n} 个）"),
            format!("the password needs at least {MIN_LEN} characters (it has {n})"),
        ));
    }
    if n > MAX_LEN {
        return Err(AppError::invalid(
            field,
            format!("密码最多 {MAX_LEN} 个字符"),
            format!("the password has at most {MAX_LEN} characters"),
        ));
    }
    if password.trim().is_empty() || is_run(password) {
        return Err(AppError::invalid(
            field,
            "密码不能只是空格、同一字符的重复或连续的字符（如 123456789012）",
            "the password cannot be only spaces, one character repeated or a run such as 123456789012",
        ));
    }
    let [lower, stem] = stems(password);
    for p in personal.iter().map(|p| p.trim().to_lowercase()) {
        if p.is_empty() {
            continue;
        }
        let local = p.split('@').next().unwrap_or_default().to_string();
        if [&p, &local]
            .iter()
            .any(|x| !x.is_empty() && (lower == **x || stem == **x))
        {
            return Err(AppError::invalid(
                field,
                "密码不能是用户名或电子邮箱（加上数字或符号也不行）",
                "the password cannot be the username or e-mail address (with digits or signs added either)",
            ));
        }
    }
    let list = common();
    if list.contains(lower.as_str()) || (stem.chars().count() >= 4 && list.contains(stem.as_str()))
    {
        return Err(AppError::invalid(
            field,
            "该密码是常见密码（或常见密码加上数字、符号），容易被猜中，请换一个",
            "this is a common password (or a common password with digits or signs added), easy to guess; choose another",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(p: &str) -> bool {
        check("password", p, &["zhangsan", "zhang.san@example.cn"]).is_err()
    }

    #[test]
    fn length_twelve_is_enough_eleven_is_not() {
        assert!(!refused("tq7#vLm2pzX9"), "12 characters (以上 includes 12)");
        assert!(refused("tq7#vLm2pzX"), "11 characters");
        assert!(
            !refused("绿色的长城在晨雾里慢慢醒来了"),
            "characters, not bytes"
        );
        assert!(refused(&"x7".repeat(200)), "longer than the maximum");
    }

    #[test]
    fn runs_and_blanks_are_refused() {
        for p in [
            "            ",
            "aaaaaaaaaaaa",
            "123456789012",
            "1234567890123",
            "987654321098",
            "abcdefghijkl",
            "890123456789",
        ] {
            assert!(refused(p), "{p:?}");
        }
        assert!(!refused("1357924680ab"));
    }

    #[test]
    fn personal_names_are_refused_even_with_digits_added() {
        for p in [
            "zhangsan2026!!",
            "ZHANGSAN12345",
            "zhang.san@example.cn",
            "zhang.san2026!",
        ] {
            assert!(refused(p), "{p:?}");
        }
        assert!(!refused("zhangsan-likes-tea"), "containing it is fine");
    }

    #[test]
    fn common_passwords_are_refused_even_with_digits_added() {
        assert!(common().len() > 29_000, "the whole list is shipped");
        for p in [
            "qwertyuiop123",
            "1qaz2wsx3edc",
            "Password2026!",
            "iloveyou12345",
            "LeaveMeAlone",
            "football12345678",
        ] {
            assert!(refused(p), "{p:?}");
        }
        let e = check("new_password", "Password2026!", &[]).unwrap_err();
        match e {
            AppError::Invalid { field, problem } => {
                assert_eq!(field, "new_password");
                assert!(problem.zh.contains("常见密码"), "{}", problem.zh);
            }
            other => panic!("{other:?}"),
        }
        assert!(!refused("correct horse battery staple"));
    }
}
