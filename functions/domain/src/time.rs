//! Time as a plain value, so rules never read a clock.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnixTime(pub i64);

impl UnixTime {
    pub fn plus_seconds(self, seconds: i64) -> Self {
        UnixTime(self.0 + seconds)
    }

    pub fn seconds(self) -> i64 {
        self.0
    }
}

/// `YYYY-MM-DD HH:MM UTC`, for messages such as "try again after ...".
pub fn format_utc(t: UnixTime) -> String {
    let days = t.0.div_euclid(86_400);
    let secs = t.0.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_utc(UnixTime(0)), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(UnixTime(951_782_400)), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(UnixTime(1_795_906_380)), "2026-11-28 22:53 UTC");
    }
}
