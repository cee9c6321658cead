//! Bilingual text. Chinese (Simplified) is the default language of every user-facing message.

use serde::{Deserialize, Serialize};

/// A language a user can read zizhi in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    En,
}

impl Lang {
    /// One of two texts written side by side.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// Parses `zh`, `zh-CN`, `en`, `en-US`… (case-insensitive); `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s == "zh" || s.starts_with("zh-") || s.starts_with("zh_") {
            Some(Lang::Zh)
        } else if s == "en" || s.starts_with("en-") || s.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// Joins several texts with a separator per language.
    pub fn join(parts: &[Text], sep_zh: &str, sep_en: &str) -> Text {
        Text {
            zh: parts
                .iter()
                .map(|t| t.zh.as_str())
                .collect::<Vec<_>>()
                .join(sep_zh),
            en: parts
                .iter()
                .map(|t| t.en.as_str())
                .collect::<Vec<_>>()
                .join(sep_en),
        }
    }
}

/// A qualification level in Chinese numerals, as certificates write it: 1 → 一级.
pub fn level_zh(level: u8) -> String {
    const DIGITS: [&str; 6] = ["零", "一", "二", "三", "四", "五"];
    match DIGITS.get(usize::from(level)) {
        Some(d) => format!("{d}级"),
        None => format!("{level}级"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_language_tags() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("en_GB"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(level_zh(2), "二级");
        assert_eq!(level_zh(9), "9级");
    }
}
