//! The statutory holiday calendar (法定休假日 and 调休上班 days) as data. DESIGN.md §2 "Clocks
//! and deadlines". The shipped file is `data/holidays-cn.toml`; administrators extend it with a
//! file of the same format.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use toml::Spanned;

use crate::lang::Text;
use crate::source::{Located, SourceError};

const SHIPPED: &str = include_str!("../data/holidays-cn.toml");

/// One named holiday of a year's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: Text,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub adjusted_workdays: Vec<NaiveDate>,
}

/// The published arrangement for one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearArrangement {
    pub year: i32,
    pub notice: String,
    pub holidays: Vec<Holiday>,
}

/// Which kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Working,
    /// A working day moved onto a weekend (调休上班).
    AdjustedWorking,
    Weekend,
    StatutoryHoliday,
}

impl DayKind {
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Working | DayKind::AdjustedWorking)
    }
}

/// The calendar: published years, with their rest days and adjusted working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    years: BTreeMap<i32, YearArrangement>,
    rest: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    format: Spanned<u32>,
    #[serde(default)]
    year: Vec<Spanned<RawYear>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i32>,
    notice: String,
    #[serde(default)]
    holiday: Vec<Spanned<RawHoliday>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name_zh: String,
    name_en: String,
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default)]
    adjusted_workdays: Vec<Spanned<String>>,
}

/// Parses exactly `YYYY-MM-DD` into a date that exists.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    // Exactly YYYY-MM-DD: chrono alone would accept e.g. `2026-1-5`.
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    // The digits as numbers (chrono's format parser cost a register page of 50 a tenth of its
    // time; issue 14).
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0'));
    NaiveDate::from_ymd_opt(i32::try_from(n(0..4)).ok()?, n(5..7), n(8..10))
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl HolidayCalendar {
    /// The calendar shipped with zizhi (2024–2026).
    pub fn shipped() -> HolidayCalendar {
        HolidayCalendar::parse("holidays-cn.toml", SHIPPED)
            .expect("the shipped holiday calendar is valid (tested)")
    }

    /// Parses and validates a calendar file.
    pub fn parse(file: &str, src: &str) -> Result<HolidayCalendar, SourceError> {
        let loc = Located { file, src };
        let raw: RawFile = toml::from_str(src).map_err(|e| loc.toml(&e))?;
        if *raw.format.get_ref() != 1 {
            return Err(loc.at(
                Some(raw.format.span()),
                format!("unsupported format {}, expected 1", raw.format.get_ref()),
            ));
        }
        let mut cal = HolidayCalendar::default();
        for y in raw.year {
            let span = y.span();
            let y = y.into_inner();
            let year = *y.year.get_ref();
            if cal.years.contains_key(&year) {
                return Err(loc.at(Some(y.year.span()), format!("year {year} appears twice")));
            }
            let mut holidays = Vec::new();
            for h in y.holiday {
                let h = h.into_inner();
                let date = |s: &Spanned<String>| -> Result<NaiveDate, SourceError> {
                    let d = parse_date(s.get_ref()).ok_or_else(|| {
                        loc.at(
                            Some(s.span()),
                            format!("\"{}\" is not a date YYYY-MM-DD", s.get_ref()),
                        )
                    })?;
                    if d.year() != year && d.year() != year - 1 && d.year() != year + 1 {
                        return Err(
                            loc.at(Some(s.span()), format!("{d} is too far from year {year}"))
                        );
                    }
                    Ok(d)
                };
                let from = date(&h.from)?;
                let to = date(&h.to)?;
                if to < from {
                    return Err(loc.at(
                        Some(h.to.span()),
                        format!("`to` {to} is before `from` {from}"),
                    ));
                }
                let mut adjusted = Vec::new();
                for w in &h.adjusted_workdays {
                    let d = date(w)?;
                    if !is_weekend(d) {
                        return Err(loc.at(
                            Some(w.span()),
                            format!("adjusted working day {d} is not a Saturday or Sunday"),
                        ));
                    }
                    adjusted.push(d);
                }
                holidays.push(Holiday {
                    name: Text::new(h.name_zh, h.name_en),
                    from,
                    to,
                    adjusted_workdays: adjusted,
                });
            }
            let arrangement = YearArrangement {
                year,
                notice: y.notice,
                holidays,
            };
            cal.insert_year(arrangement)
                .map_err(|reason| loc.at(Some(span), reason))?;
        }
        Ok(cal)
    }

    fn insert_year(&mut self, y: YearArrangement) -> Result<(), String> {
        let mut rest = BTreeSet::new();
        let mut work = BTreeSet::new();
        for h in &y.holidays {
            let mut d = h.from;
            while d <= h.to {
                rest.insert(d);
                d = d.succ_opt().ok_or("date out of range")?;
            }
            work.extend(h.adjusted_workdays.iter().copied());
        }
        if let Some(d) = rest.intersection(&work).next() {
            return Err(format!("{d} is both a holiday and an adjusted working day"));
        }
        self.rest.extend(rest);
        self.workdays.extend(work);
        self.years.insert(y.year, y);
        Ok(())
    }

    /// Merges `other` over `self`: each year of `other` replaces the same year of `self`.
    pub fn extended_with(&self, other: &HolidayCalendar) -> HolidayCalendar {
        let mut years = self.years.clone();
        for (y, a) in &other.years {
            years.insert(*y, a.clone());
        }
        let mut out = HolidayCalendar::default();
        for (_, a) in years {
            out.insert_year(a)
                .expect("each year was validated on its own; years do not overlap");
        }
        out
    }

    /// Years with a published arrangement.
    pub fn years(&self) -> impl Iterator<Item = &YearArrangement> {
        self.years.values()
    }

    /// Whether the calendar knows the arrangement of `d`'s year (otherwise weekends alone are
    /// used and results are provisional).
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.years.contains_key(&d.year())
    }

    pub fn day_kind(&self, d: NaiveDate) -> DayKind {
        if self.workdays.contains(&d) {
            DayKind::AdjustedWorking
        } else if self.rest.contains(&d) {
            DayKind::StatutoryHoliday
        } else if is_weekend(d) {
            DayKind::Weekend
        } else {
            DayKind::Working
        }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.day_kind(d).is_working()
    }

    /// The holiday `d` falls in, if any.
    pub fn holiday_on(&self, d: NaiveDate) -> Option<&Holiday> {
        self.years
            .get(&d.year())
            .into_iter()
            .chain(self.years.get(&(d.year() - 1)))
            .flat_map(|y| y.holidays.iter())
            .find(|h| h.from <= d && d <= h.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn shipped_calendar_covers_2024_to_2026() {
        let cal = HolidayCalendar::shipped();
        let years: Vec<i32> = cal.years().map(|y| y.year).collect();
        assert_eq!(years, vec![2024, 2025, 2026]);
    }

    #[test]
    fn spring_festival_2026_and_its_adjusted_working_days() {
        let cal = HolidayCalendar::shipped();
        assert_eq!(cal.day_kind(d("2026-02-14")), DayKind::AdjustedWorking); // Saturday
        for day in 15..=23 {
            let date = NaiveDate::from_ymd_opt(2026, 2, day).unwrap();
            assert_eq!(cal.day_kind(date), DayKind::StatutoryHoliday, "{date}");
        }
        assert_eq!(cal.day_kind(d("2026-02-24")), DayKind::Working);
        assert_eq!(cal.day_kind(d("2026-02-28")), DayKind::AdjustedWorking);
        assert_eq!(cal.day_kind(d("2026-03-01")), DayKind::Weekend);
        assert_eq!(cal.holiday_on(d("2026-02-20")).unwrap().name.zh, "春节");
    }

    #[test]
    fn each_year_matches_the_notice_totals() {
        // Rest days per notice (共 N 天), summed: 2024: 1+8+3+5+1+3+7, 2025: 1+8+3+5+3+8,
        // 2026: 3+9+3+5+3+3+7; adjusted working days: 2024: 8, 2025: 5, 2026: 6.
        let cal = HolidayCalendar::shipped();
        for (year, rest, work) in [(2024, 28, 8), (2025, 28, 5), (2026, 33, 6)] {
            let days = |k: DayKind| {
                let mut n = 0;
                let mut x = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
                while x.year() == year {
                    if cal.day_kind(x) == k {
                        n += 1;
                    }
                    x = x.succ_opt().unwrap();
                }
                n
            };
            assert_eq!(days(DayKind::StatutoryHoliday), rest, "{year}");
            assert_eq!(days(DayKind::AdjustedWorking), work, "{year}");
        }
    }

    #[test]
    fn unknown_years_use_weekends_only() {
        let cal = HolidayCalendar::shipped();
        assert!(!cal.covers(d("2027-10-01")));
        assert_eq!(cal.day_kind(d("2027-10-01")), DayKind::Working); // a Friday
        assert_eq!(cal.day_kind(d("2027-10-02")), DayKind::Weekend);
    }

    #[test]
    fn an_administrator_file_adds_and_replaces_years() {
        let extra = r#"
format = 1
[[year]]
year = 2027
notice = "test"
holiday = [{ name_zh = "国庆节", name_en = "National Day", from = "2027-10-01", to = "2027-10-07", adjusted_workdays = ["2027-09-26"] }]
"#;
        let cal = HolidayCalendar::shipped()
            .extended_with(&HolidayCalendar::parse("extra.toml", extra).unwrap());
        assert!(cal.covers(d("2027-10-01")));
        assert_eq!(cal.day_kind(d("2027-10-01")), DayKind::StatutoryHoliday);
        assert_eq!(cal.day_kind(d("2027-09-26")), DayKind::AdjustedWorking);
        assert_eq!(cal.day_kind(d("2026-02-16")), DayKind::StatutoryHoliday);
    }

    #[test]
    fn invalid_files_are_rejected_with_line_and_reason() {
        let cases = [
            ("format = 2\n", 1, "unsupported format"),
            (
                "format = 1\n[[year]]\nyear = 2027\nnotice = \"x\"\nholiday = [{ name_zh = \"a\", name_en = \"a\", from = \"2027-02-30\", to = \"2027-03-01\" }]\n",
                5,
                "not a date",
            ),
            (
                "format = 1\n[[year]]\nyear = 2027\nnotice = \"x\"\nholiday = [{ name_zh = \"a\", name_en = \"a\", from = \"2027-03-01\", to = \"2027-03-01\", adjusted_workdays = [\"2027-03-03\"] }]\n",
                5,
                "not a Saturday or Sunday",
            ),
            (
                "format = 1\n[[year]]\nyear = 2027\nnotice = \"x\"\n[[year]]\nyear = 2027\nnotice = \"y\"\n",
                6,
                "appears twice",
            ),
            ("format = 1\nfoo = 3\n", 2, "unknown field"),
        ];
        for (src, line, reason) in cases {
            let e = HolidayCalendar::parse("cal.toml", src).unwrap_err();
            assert_eq!(e.line, Some(line), "{e}");
            assert!(e.reason.contains(reason), "{e}");
            assert!(e.to_string().starts_with("cal.toml:"), "{e}");
        }
    }

    #[test]
    fn dates_must_be_exactly_iso() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-29").is_none());
        assert!(parse_date("2026-2-28").is_none());
        assert!(parse_date("2026/02/28").is_none());
        assert!(parse_date("2024-02-29").is_some());
        assert_eq!(
            parse_date("2026-12-31"),
            NaiveDate::from_ymd_opt(2026, 12, 31)
        );
        for bad in [
            "2026-00-10",
            "2026-13-01",
            "2026-04-31",
            "2026-01-00",
            "2026-01-32",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        // Every day of a leap year and its neighbours, and every month/day pair up to 39/39,
        // read as chrono's own parser reads them.
        for y in [1999, 2000, 2024, 2026] {
            for m in 0..40 {
                for d in 0..40 {
                    let s = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(
                        parse_date(&s),
                        NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok(),
                        "{s}"
                    );
                }
            }
        }
    }
}
