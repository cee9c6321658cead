//! Renewal (维持申请) timing: guide §四 "至少需要在证书有效期届满前六个月，提交该类型资质维持原有级别的
//! 申请 … 证书有效期届满六个月后提交维持申请，视作初次申请". DESIGN.md §2 models the window between.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::HolidayCalendar;
use crate::period::{Deadline, PeriodLength, period_end, sub_months};

/// The renewal rule of a criteria pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalRule {
    /// A maintenance application is on time when filed at least this many months before expiry.
    pub due_months_before_expiry: u32,
    /// Filed more than this many months after expiry, it is treated as an initial application.
    pub initial_after_months_past_expiry: u32,
}

/// How a maintenance application stands against the held certificate's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalTiming {
    /// Filed at least six months before expiry (exactly six months counts).
    OnTime,
    /// Filed later, but no more than six months after expiry: still a maintenance application,
    /// flagged late (the certificate may lapse meanwhile).
    Late,
    /// Filed more than six months after expiry, or with no certificate to maintain: an initial
    /// application, with the initial fee and rules.
    TreatedAsInitial,
}

/// The classification with the dates it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalClassification {
    pub timing: RenewalTiming,
    /// The last day an application is on time.
    pub due_by: NaiveDate,
    /// The end of the late window (a period after expiry, Civil Code art. 203 applied).
    pub late_window: Deadline,
}

/// Classifies a maintenance application filed on `filed` for a certificate valid until
/// `valid_until` (its last valid day).
pub fn classify(
    filed: NaiveDate,
    valid_until: NaiveDate,
    rule: RenewalRule,
    cal: &HolidayCalendar,
) -> RenewalClassification {
    let due_by = sub_months(valid_until, rule.due_months_before_expiry);
    let late_window = period_end(
        valid_until,
        PeriodLength::Months(rule.initial_after_months_past_expiry),
        cal,
    );
    let timing = if filed <= due_by {
        RenewalTiming::OnTime
    } else if late_window.is_in_time(filed) {
        RenewalTiming::Late
    } else {
        RenewalTiming::TreatedAsInitial
    };
    RenewalClassification {
        timing,
        due_by,
        late_window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_date;

    const RULE: RenewalRule = RenewalRule {
        due_months_before_expiry: 6,
        initial_after_months_past_expiry: 6,
    };

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn timing(filed: &str, until: &str) -> RenewalTiming {
        classify(d(filed), d(until), RULE, &HolidayCalendar::shipped()).timing
    }

    #[test]
    fn exactly_six_months_before_expiry_is_on_time() {
        assert_eq!(timing("2026-03-15", "2026-09-15"), RenewalTiming::OnTime);
        assert_eq!(timing("2026-03-16", "2026-09-15"), RenewalTiming::Late);
        assert_eq!(timing("2025-01-01", "2026-09-15"), RenewalTiming::OnTime);
    }

    #[test]
    fn the_due_date_clamps_to_month_end() {
        // Valid until 31 Aug: six months before is 28 Feb.
        assert_eq!(timing("2027-02-28", "2027-08-31"), RenewalTiming::OnTime);
        assert_eq!(timing("2027-03-01", "2027-08-31"), RenewalTiming::Late);
    }

    #[test]
    fn up_to_six_months_after_expiry_is_late() {
        assert_eq!(timing("2026-09-15", "2026-09-15"), RenewalTiming::Late);
        assert_eq!(timing("2026-12-01", "2026-09-15"), RenewalTiming::Late);
        // 2026-03-15 + 6 months = 2026-09-15, a Tuesday: the last day of the window.
        assert_eq!(timing("2026-09-15", "2026-03-15"), RenewalTiming::Late);
        assert_eq!(
            timing("2026-09-16", "2026-03-15"),
            RenewalTiming::TreatedAsInitial
        );
    }

    #[test]
    fn the_late_window_extends_over_a_holiday() {
        // Expired 2026-04-01: six months end 2026-10-01, National Day (1–7 Oct); the window
        // ends on Thursday 2026-10-08 (Civil Code art. 203).
        let c = classify(
            d("2026-10-08"),
            d("2026-04-01"),
            RULE,
            &HolidayCalendar::shipped(),
        );
        assert_eq!(c.late_window.nominal_last_day, d("2026-10-01"));
        assert_eq!(c.late_window.last_day, d("2026-10-08"));
        assert_eq!(c.timing, RenewalTiming::Late);
        assert_eq!(
            timing("2026-10-09", "2026-04-01"),
            RenewalTiming::TreatedAsInitial
        );
    }
}
