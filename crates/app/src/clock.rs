//! The centre's clock: today and now in China Standard Time (the guide's deadlines are Beijing
//! dates). Injectable: tests and `zizhi demo` set the date, so a story told "weeks ago" is
//! recorded with the dates it would have had.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use zizhi_domain::period::china_standard_time;

/// The system clock, or a fixed instant when one is set. Cheap to clone; clones share the
/// setting.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Microseconds since the epoch when fixed; `i64::MIN` when following the system clock.
    fixed_us: Arc<AtomicI64>,
}

const SYSTEM: i64 = i64::MIN;

impl Clock {
    pub fn system() -> Clock {
        Clock {
            fixed_us: Arc::new(AtomicI64::new(SYSTEM)),
        }
    }

    /// Now, as microseconds since the epoch.
    pub fn now_us(&self) -> i64 {
        match self.fixed_us.load(Ordering::Relaxed) {
            SYSTEM => Utc::now().timestamp_micros(),
            us => us,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.now_us()).unwrap_or_else(Utc::now)
    }

    /// Today in China Standard Time.
    pub fn today(&self) -> NaiveDate {
        self.now()
            .with_timezone(&china_standard_time())
            .date_naive()
    }

    /// Fixes the clock at noon (China time) of `day`.
    pub fn set_today(&self, day: NaiveDate) {
        let noon = day
            .and_hms_opt(12, 0, 0)
            .expect("noon exists")
            .and_local_timezone(china_standard_time())
            .single()
            .expect("fixed offset");
        self.fixed_us.store(
            noon.with_timezone(&Utc).timestamp_micros(),
            Ordering::Relaxed,
        );
    }

    /// Follows the system clock again.
    pub fn reset(&self) {
        self.fixed_us.store(SYSTEM, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_day_is_today_in_china_time_and_clones_share_it() {
        let c = Clock::system();
        let d = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        let other = c.clone();
        c.set_today(d);
        assert_eq!(other.today(), d);
        c.reset();
        assert_ne!(other.now_us(), 0);
    }
}
