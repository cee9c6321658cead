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

/// The qualification as certificates name it: 灾难恢复类二级 / disaster recovery, level 2.
pub fn qualification_text(level: u8) -> Text {
    Text::new(
        format!("灾难恢复类{}", level_zh(level)),
        format!("disaster recovery, level {level}"),
    )
}

/// A date as the centre writes it: `2026年1月5日` in Chinese, ISO `2026-01-05` in English.
pub fn date_text(d: chrono::NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Zh => d.format("%Y年%-m月%-d日").to_string(),
        Lang::En => d.to_string(),
    }
}

/// A stored ISO date as [`date_text`]; anything unparsable is shown as it is.
pub fn date_str_text(s: &str, lang: Lang) -> String {
    crate::calendar::parse_date(s).map_or(s.to_string(), |d| date_text(d, lang))
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
    fn dates_are_written_the_chinese_way_without_leading_zeros() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert_eq!(date_text(d, Lang::Zh), "2026年1月5日");
        assert_eq!(date_text(d, Lang::En), "2026-01-05");
        assert_eq!(date_str_text("bad", Lang::Zh), "bad");
    }

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
