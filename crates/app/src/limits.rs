//! Length limits on what people type: every text field is bounded at the edge of the use case,
//! and a text that is too long is refused naming its field (a 900 KB "name" was accepted).

use crate::{AppError, Result};

/// Names: people, organisations, token labels.
pub const NAME: usize = 200;
/// Notes, opinions, rationales, reasons.
pub const TEXT: usize = 10_000;
/// The application facts as a whole (JSON).
pub const FACTS_BYTES: usize = 256 * 1024;

/// Refuses `value` when it has more than `max` characters.
pub(crate) fn bounded(field: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n > max {
        return Err(AppError::invalid(
            field,
            format!("不能超过 {max} 个字符（现有 {n} 个）"),
            format!("at most {max} characters (this has {n})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_itself_is_allowed_and_one_more_is_not() {
        assert!(bounded("name", &"字".repeat(NAME), NAME).is_ok());
        let e = bounded("name", &"字".repeat(NAME + 1), NAME).unwrap_err();
        assert!(matches!(e, AppError::Invalid { ref field, .. } if field == "name"));
    }
}
