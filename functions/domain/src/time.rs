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
    let at = time::OffsetDateTime::from_unix_timestamp(t.0).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
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
