//! Times as people read them. Every time shown comes from a document a
//! peer wrote, so any `i64` must render: one no calendar holds (a year
//! past 9999, say) shows as [`INVALID_DATE`] instead of failing.

use jiff::Timestamp;

/// What an out-of-range time shows as.
pub const INVALID_DATE: &str = "invalid date";

fn format(ms: i64, pattern: &str) -> String {
    Timestamp::from_millisecond(ms).map_or_else(
        |_| INVALID_DATE.to_string(),
        |t| t.strftime(pattern).to_string(),
    )
}

/// `YYYY-MM-DD HH:MM` (UTC) of a time in milliseconds since the epoch.
pub fn display_time(ms: i64) -> String {
    format(ms, "%Y-%m-%d %H:%M")
}

/// `YYYY-MM-DD` (UTC) of a time in milliseconds since the epoch.
pub fn display_date(ms: i64) -> String {
    format(ms, "%Y-%m-%d")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_renders() {
        assert_eq!(display_time(0), "1970-01-01 00:00");
        assert_eq!(display_time(1_772_064_000_000), "2026-02-26 00:00");
        assert_eq!(display_date(-86_400_000), "1969-12-31");
        // Year 20000, and the extremes.
        for ms in [568_000_000_000_000, i64::MAX, i64::MIN] {
            assert_eq!(display_time(ms), INVALID_DATE);
            assert_eq!(display_date(ms), INVALID_DATE);
        }
    }
}
