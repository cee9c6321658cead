//! The project clock (项目实施周期, guide 九.3): "原则上为三个月，最长不超过六个月。周期时间不包含申请单位
//! 补充资料、协议审批生效及支付费用等时间。" Measured from filing to issuance in calendar days;
//! every pause moves both due dates by its length. Warnings start 15 days before a due date;
//! a date passed is overdue.

use chrono::NaiveDate;
use serde::Serialize;

use crate::period::add_months;

/// Months to the target (原则上三个月) and to the limit (最长不超过六个月).
pub const TARGET_MONTHS: u32 = 3;
pub const LIMIT_MONTHS: u32 = 6;
/// Days before a due date from which it is flagged.
pub const WARN_DAYS: i64 = 15;

/// A pause of the clock: [start, end) in calendar days; `end` None while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// How a due date stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "days")]
pub enum Due {
    /// More than 15 days left.
    Ok(i64),
    /// 15 days or fewer left (0 = today is the last day).
    Warning(i64),
    /// Passed by this many days.
    Overdue(i64),
    /// The case closed before it.
    Met,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub running_days: i64,
    pub paused_days: i64,
    pub paused_now: bool,
    pub target_due: NaiveDate,
    pub limit_due: NaiveDate,
    pub target: Due,
    pub limit: Due,
}

fn due(date: NaiveDate, today: NaiveDate, closed: bool) -> Due {
    let left = (date - today).num_days();
    if closed && left >= 0 {
        Due::Met
    } else if left < 0 {
        Due::Overdue(-left)
    } else if left <= WARN_DAYS {
        Due::Warning(left)
    } else {
        Due::Ok(left)
    }
}

/// The clock of a case filed on `filed`, looked at on `today` (or its closing day).
pub fn compute(
    filed: NaiveDate,
    pauses: &[Pause],
    today: NaiveDate,
    closed_on: Option<NaiveDate>,
) -> Clock {
    let end = closed_on.unwrap_or(today);
    let mut paused_days = 0;
    let mut paused_now = false;
    for p in pauses {
        let stop = match p.end {
            Some(e) => e.min(end),
            None => {
                paused_now = closed_on.is_none();
                end
            }
        };
        if stop > p.start {
            paused_days += (stop - p.start).num_days();
        }
    }
    let elapsed = (end - filed).num_days().max(0);
    let shift = chrono::Days::new(paused_days.max(0) as u64);
    let target_due = add_months(filed, TARGET_MONTHS) + shift;
    let limit_due = add_months(filed, LIMIT_MONTHS) + shift;
    let closed = closed_on.is_some();
    let look = closed_on.unwrap_or(today);
    Clock {
        running_days: elapsed - paused_days,
        paused_days,
        paused_now,
        target_due,
        limit_due,
        target: due(target_due, look, closed),
        limit: due(limit_due, look, closed),
    }
}

/// Where an open, filed case's clock stands, in a form that does not change from day to day,
/// so that it can be kept with the case and its lists ordered and counted from an index
/// (issue 14: the dashboard and the deadline filters read every open case's pauses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The clock runs: its three-month target is this day (fixed until the next pause).
    Running { target_due: NaiveDate },
    /// A pause lasts: the target moves a day each day, so the days left to it stay these.
    Paused { days_left: i64 },
}

/// The [`Standing`] of a case filed on `filed` with these pauses, as [`compute`] sees it on
/// any day from the last pause's start on. At most one pause is open at a time (the process
/// ends the open pause before it opens another); if several were, the earliest counts.
pub fn standing(filed: NaiveDate, pauses: &[Pause]) -> Standing {
    let closed: i64 = pauses
        .iter()
        .filter_map(|p| p.end.map(|e| (e - p.start).num_days().max(0)))
        .sum();
    let target = add_months(filed, TARGET_MONTHS) + chrono::Days::new(closed.max(0) as u64);
    match pauses
        .iter()
        .filter(|p| p.end.is_none())
        .map(|p| p.start)
        .min()
    {
        // compute(): target_due = target + (today - start), so target_due - today is fixed.
        Some(start) => Standing::Paused {
            days_left: (target - start).num_days(),
        },
        None => Standing::Running { target_due: target },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::parse_date;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn three_and_six_months_from_filing_without_pauses() {
        let c = compute(d("2026-01-31"), &[], d("2026-03-01"), None);
        assert_eq!(c.target_due, d("2026-04-30"));
        assert_eq!(c.limit_due, d("2026-07-31"));
        assert_eq!((c.running_days, c.paused_days), (29, 0));
        assert_eq!(c.target, Due::Ok(60));
    }

    #[test]
    fn pauses_move_both_due_dates_by_their_length() {
        // Supplement 10 Feb – 2 Mar (20 days), agreement sent 1 Apr, paid 11 Apr (10 days).
        let pauses = [
            Pause {
                start: d("2026-02-10"),
                end: Some(d("2026-03-02")),
            },
            Pause {
                start: d("2026-04-01"),
                end: Some(d("2026-04-11")),
            },
        ];
        let c = compute(d("2026-01-15"), &pauses, d("2026-04-20"), None);
        assert_eq!(c.paused_days, 30);
        assert_eq!(c.running_days, 95 - 30);
        assert_eq!(c.target_due, d("2026-05-15"));
        assert_eq!(c.limit_due, d("2026-08-14"));
        assert!(!c.paused_now);
    }

    #[test]
    fn an_open_pause_counts_up_to_today_and_shows_as_paused() {
        let c = compute(
            d("2026-01-15"),
            &[Pause {
                start: d("2026-02-01"),
                end: None,
            }],
            d("2026-02-11"),
            None,
        );
        assert!(c.paused_now);
        assert_eq!((c.running_days, c.paused_days), (17, 10));
        assert_eq!(c.target_due, d("2026-04-25"));
    }

    #[test]
    fn warnings_start_fifteen_days_before_and_overdue_after() {
        let filed = d("2026-01-01"); // target 2026-04-01, limit 2026-07-01
        assert_eq!(
            compute(filed, &[], d("2026-03-16"), None).target,
            Due::Ok(16)
        );
        assert_eq!(
            compute(filed, &[], d("2026-03-17"), None).target,
            Due::Warning(15)
        );
        assert_eq!(
            compute(filed, &[], d("2026-04-01"), None).target,
            Due::Warning(0)
        );
        assert_eq!(
            compute(filed, &[], d("2026-04-02"), None).target,
            Due::Overdue(1)
        );
        assert_eq!(
            compute(filed, &[], d("2026-07-02"), None).limit,
            Due::Overdue(1)
        );
    }

    #[test]
    fn a_case_closed_in_time_has_met_its_dates() {
        let c = compute(d("2026-01-01"), &[], d("2026-12-31"), Some(d("2026-03-20")));
        assert_eq!((c.target, c.limit), (Due::Met, Due::Met));
        assert_eq!(c.running_days, 78);
        let late = compute(d("2026-01-01"), &[], d("2026-12-31"), Some(d("2026-05-01")));
        assert_eq!(late.target, Due::Overdue(30));
        assert_eq!(late.limit, Due::Met);
    }

    /// The kept standing is what the clock shows on every later day: a running clock's
    /// target day, a paused clock's days left (九.3: the pause does not count).
    #[test]
    fn the_kept_standing_agrees_with_the_clock_on_every_later_day() {
        let filed = d("2026-01-31");
        let closed = Pause {
            start: d("2026-02-10"),
            end: Some(d("2026-03-02")),
        };
        let open = Pause {
            start: d("2026-04-01"),
            end: None,
        };
        // Running after one pause of 20 days: 2026-04-30 + 20.
        let running = standing(filed, &[closed]);
        assert_eq!(
            running,
            Standing::Running {
                target_due: d("2026-05-20")
            }
        );
        // Paused since 2026-04-01: 49 days were left then, and stay left.
        let paused = standing(filed, &[closed, open]);
        assert_eq!(paused, Standing::Paused { days_left: 49 });
        let mut today = d("2026-04-01");
        while today < d("2026-09-01") {
            let c = compute(filed, &[closed], today, None);
            assert_eq!(
                Standing::Running {
                    target_due: c.target_due
                },
                running
            );
            let c = compute(filed, &[closed, open], today, None);
            assert!(c.paused_now);
            assert_eq!((c.target_due - today).num_days(), 49, "{today}");
            today = today.succ_opt().unwrap();
        }
        // Without pauses: three months from filing (the month's end kept).
        assert_eq!(
            standing(filed, &[]),
            Standing::Running {
                target_due: d("2026-04-30")
            }
        );
        // A pause opened on the filing day: the whole three months are left.
        let at_once = Pause {
            start: filed,
            end: None,
        };
        assert_eq!(
            standing(filed, &[at_once]),
            Standing::Paused { days_left: 89 }
        );
    }
}
