//! Periods of time under the PRC Civil Code, arts. 200–204 (DESIGN.md §2 "Clocks and deadlines").
//!
//! - art. 201: the day on which a period starts (the event day) is not counted; counting
//!   starts on the next day;
//! - art. 202: a period in months or years ends on the corresponding day of the last month;
//!   where that month has no such day, on its last day;
//! - art. 203: when the last day is a rest day (法定休假日 — a weekend or a statutory holiday
//!   that is not an adjusted working day), the period ends on the first working day after it;
//!   the period ends at 24:00 of its last day;
//! - art. 1259: 以上 / 以下 / 不少于 / 不得少于 include the number itself.
//!
//! All dates are calendar days in China Standard Time (UTC+8, no daylight saving).

use chrono::{Datelike, Days, FixedOffset, Months, NaiveDate, NaiveTime, TimeZone};

use crate::calendar::HolidayCalendar;

/// China Standard Time, UTC+8.
pub fn china_standard_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The length of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodLength {
    Days(u32),
    Months(u32),
    Years(u32),
}

/// `d` plus `n` months, clamped to the month's last day (art. 202).
pub fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n))
        .expect("date arithmetic stays within chrono's range for this domain")
}

/// `d` minus `n` months, clamped to the month's last day.
pub fn sub_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n))
        .expect("date arithmetic stays within chrono's range for this domain")
}

/// The nominal last day of a period that starts with an event on `event_day`, before any
/// rest-day extension: the event day is not counted (art. 201), months and years end on the
/// corresponding day or the month's end (art. 202).
pub fn nominal_last_day(event_day: NaiveDate, len: PeriodLength) -> NaiveDate {
    match len {
        PeriodLength::Days(n) => event_day
            .checked_add_days(Days::new(u64::from(n)))
            .expect("date in range"),
        PeriodLength::Months(n) => add_months(event_day, n),
        PeriodLength::Years(n) => add_months(event_day, n * 12),
    }
}

/// The end of a period: its last day after art. 203, and whether that rests on a year the
/// holiday calendar does not cover (then it is computed on weekends alone and is provisional).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The corresponding day before any rest-day extension.
    pub nominal_last_day: NaiveDate,
    /// The last day on which the act is still in time.
    pub last_day: NaiveDate,
    /// True when a year between the nominal and the final last day has no published calendar.
    pub provisional: bool,
}

impl Deadline {
    /// True when the nominal last day was a rest day and the period was extended.
    pub fn extended(&self) -> bool {
        self.last_day != self.nominal_last_day
    }

    /// The instant the period ends: 24:00 China Standard Time of the last day.
    pub fn ends_at(&self) -> chrono::DateTime<FixedOffset> {
        let next = self.last_day.succ_opt().expect("date in range");
        china_standard_time()
            .from_local_datetime(&next.and_time(NaiveTime::MIN))
            .single()
            .expect("a fixed offset has no gaps")
    }

    /// Whether an act on calendar day `d` (China Standard Time) is within the period.
    pub fn is_in_time(&self, d: NaiveDate) -> bool {
        d <= self.last_day
    }
}

/// Moves a last day off rest days (art. 203).
pub fn first_working_day_from(d: NaiveDate, cal: &HolidayCalendar) -> (NaiveDate, bool) {
    let mut day = d;
    let mut provisional = !cal.covers(day);
    while !cal.is_working_day(day) {
        day = day.succ_opt().expect("date in range");
        provisional |= !cal.covers(day);
    }
    (day, provisional)
}

/// The deadline of a period of `len` starting with an event on `event_day`.
pub fn period_end(event_day: NaiveDate, len: PeriodLength, cal: &HolidayCalendar) -> Deadline {
    let nominal = nominal_last_day(event_day, len);
    let (last_day, provisional) = first_working_day_from(nominal, cal);
    Deadline {
        nominal_last_day: nominal,
        last_day,
        provisional,
    }
}

/// Whole years completed from `since` to `as_of`: the n-th year is complete on the n-th
/// anniversary (the corresponding day, or the month's end where there is none: art. 202).
/// Zero when `as_of` is before `since`. Used for "从事信息安全服务行业 3 年以上" (guide 3.2.1).
pub fn years_completed(since: NaiveDate, as_of: NaiveDate) -> u32 {
    if as_of < since {
        return 0;
    }
    let mut years = (as_of.year() - since.year()).max(0) as u32;
    while years > 0 && add_months(since, years * 12) > as_of {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_date;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn the_starting_day_is_not_counted() {
        let cal = HolidayCalendar::shipped();
        // Event on Tuesday 2026-03-10; ten days end on Friday 2026-03-20.
        let dl = period_end(d("2026-03-10"), PeriodLength::Days(10), &cal);
        assert_eq!(dl.last_day, d("2026-03-20"));
        assert!(!dl.extended());
    }

    #[test]
    fn one_month_ends_on_the_corresponding_day() {
        let cal = HolidayCalendar::shipped();
        let dl = period_end(d("2026-03-10"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.last_day, d("2026-04-10")); // a Friday
    }

    #[test]
    fn a_month_without_the_corresponding_day_ends_on_its_last_day() {
        assert_eq!(add_months(d("2026-01-31"), 1), d("2026-02-28"));
        assert_eq!(add_months(d("2024-01-31"), 1), d("2024-02-29"));
        assert_eq!(add_months(d("2026-03-31"), 1), d("2026-04-30"));
        assert_eq!(sub_months(d("2027-08-31"), 6), d("2027-02-28"));
        assert_eq!(
            nominal_last_day(d("2024-02-29"), PeriodLength::Years(1)),
            d("2025-02-28")
        );
    }

    #[test]
    fn a_last_day_on_a_weekend_moves_to_monday() {
        let cal = HolidayCalendar::shipped();
        // 2026-04-11 is a Saturday.
        let dl = period_end(d("2026-03-11"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.nominal_last_day, d("2026-04-11"));
        assert_eq!(dl.last_day, d("2026-04-13"));
        assert!(dl.extended());
    }

    #[test]
    fn supplement_email_just_before_the_spring_festival() {
        // E-mail received Thursday 2026-01-15: one month ends 2026-02-15, the first day of the
        // Spring Festival (15–23 Feb); the period ends on Tuesday 2026-02-24.
        let cal = HolidayCalendar::shipped();
        let dl = period_end(d("2026-01-15"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.nominal_last_day, d("2026-02-15"));
        assert_eq!(dl.last_day, d("2026-02-24"));
        assert!(!dl.provisional);
        assert!(dl.is_in_time(d("2026-02-24")));
        assert!(!dl.is_in_time(d("2026-02-25")));
    }

    #[test]
    fn an_adjusted_working_day_is_not_a_rest_day() {
        // 2026-02-14 (Saturday) and 2026-02-28 (Saturday) are 调休上班 days.
        let cal = HolidayCalendar::shipped();
        let dl = period_end(d("2026-01-14"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.last_day, d("2026-02-14"));
        assert!(!dl.extended());
        let dl = period_end(d("2026-01-28"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.last_day, d("2026-02-28"));
    }

    #[test]
    fn national_day_2025_extends_to_the_ninth() {
        let cal = HolidayCalendar::shipped();
        let dl = period_end(d("2025-09-01"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.last_day, d("2025-10-09"));
    }

    #[test]
    fn years_without_a_calendar_are_provisional() {
        let cal = HolidayCalendar::shipped();
        // 2027-10-01 is a Friday; with no 2027 calendar it is (provisionally) a working day.
        let dl = period_end(d("2027-09-01"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.last_day, d("2027-10-01"));
        assert!(dl.provisional);
        // 2026-12-31 + one month crosses into 2027.
        assert!(period_end(d("2026-12-31"), PeriodLength::Months(1), &cal).provisional);
        assert!(!period_end(d("2026-11-24"), PeriodLength::Months(1), &cal).provisional);
    }

    #[test]
    fn the_period_ends_at_midnight_china_standard_time() {
        let cal = HolidayCalendar::shipped();
        let dl = period_end(d("2026-03-10"), PeriodLength::Months(1), &cal);
        assert_eq!(dl.ends_at().to_rfc3339(), "2026-04-11T00:00:00+08:00");
        assert_eq!(dl.ends_at().naive_utc().to_string(), "2026-04-10 16:00:00");
    }

    #[test]
    fn years_of_service_are_complete_on_the_anniversary() {
        assert_eq!(years_completed(d("2019-03-01"), d("2022-02-28")), 2);
        assert_eq!(years_completed(d("2019-03-01"), d("2022-03-01")), 3);
        assert_eq!(years_completed(d("2019-03-01"), d("2026-11-24")), 7);
        assert_eq!(years_completed(d("2020-02-29"), d("2023-02-27")), 2);
        assert_eq!(years_completed(d("2020-02-29"), d("2023-02-28")), 3);
        assert_eq!(years_completed(d("2026-01-01"), d("2025-01-01")), 0);
        assert_eq!(years_completed(d("2026-01-01"), d("2026-01-01")), 0);
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (2020i32..2030, 1u32..=12, 1u32..=31)
            .prop_filter_map("real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
    }

    proptest! {
        #[test]
        fn adding_months_never_passes_the_month_end(start in any_date(), n in 0u32..120) {
            let end = add_months(start, n);
            let months = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32;
            prop_assert_eq!(months, n as i32);
            prop_assert!(end.day() <= start.day());
            if end.day() < start.day() {
                // clamped: it is the last day of its month
                prop_assert_eq!(end.succ_opt().unwrap().day(), 1);
            }
        }

        #[test]
        fn a_period_never_ends_on_a_rest_day(start in any_date(), n in 0u32..40, unit in 0u8..3) {
            let cal = HolidayCalendar::shipped();
            let len = match unit { 0 => PeriodLength::Days(n), 1 => PeriodLength::Months(n), _ => PeriodLength::Years(n % 4) };
            let dl = period_end(start, len, &cal);
            prop_assert!(cal.is_working_day(dl.last_day));
            prop_assert!(dl.last_day >= dl.nominal_last_day);
            // every day skipped was a rest day
            let mut x = dl.nominal_last_day;
            while x < dl.last_day {
                prop_assert!(!cal.is_working_day(x));
                x = x.succ_opt().unwrap();
            }
        }

        #[test]
        fn years_completed_agrees_with_anniversaries(since in any_date(), as_of in any_date()) {
            let n = years_completed(since, as_of);
            if as_of >= since {
                prop_assert!(add_months(since, n * 12) <= as_of);
                prop_assert!(add_months(since, (n + 1) * 12) > as_of);
            } else {
                prop_assert_eq!(n, 0);
            }
        }
    }
}
