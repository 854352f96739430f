//! `TIME_ZONE`: the zone naive date-times sent by clients are read in.
//!
//! Zones come from the machine's IANA database (`/usr/share/zoneinfo`), so they follow
//! the operating system's tzdata updates; a machine without one (a slim container) uses
//! the copy bundled in the binary. The bundled copy is plain TZif bytes, read only when a
//! zone is looked up: unlike a zone table compiled to Rust values, it costs no memory in a
//! server that never reads it.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDateTime, TimeDelta, Timelike};
use jiff::tz::AmbiguousOffset;

/// A time zone of the IANA database (`Europe/Madrid`, `America/Bogota`, `UTC`).
///
/// ```
/// use chrono::NaiveDate;
/// use nets_runtime::time_zone::TimeZone;
///
/// let bogota = TimeZone::get("America/Bogota").unwrap();
/// let naive = NaiveDate::from_ymd_opt(2024, 5, 4).unwrap().and_hms_opt(10, 0, 0).unwrap();
/// let local = bogota.from_local_datetime(&naive).single().unwrap();
/// assert_eq!(local.to_rfc3339(), "2024-05-04T10:00:00-05:00");
/// assert!(TimeZone::get("Mars/Olympus").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeZone(jiff::tz::TimeZone);

impl TimeZone {
    /// UTC.
    pub const UTC: TimeZone = TimeZone(jiff::tz::TimeZone::UTC);

    /// The zone named `name` (an IANA name, matched without regard to case), or `None`
    /// when the database has no such zone.
    ///
    /// `UTC`, the default `TIME_ZONE`, needs no database: opening the system's lists
    /// every file under `/usr/share/zoneinfo` (about 900, some 67 KB of names kept for
    /// the life of the process), which a server that only ever reads UTC never needs.
    pub fn get(name: &str) -> Option<TimeZone> {
        if name.eq_ignore_ascii_case("UTC") {
            return Some(TimeZone::UTC);
        }
        jiff::tz::TimeZone::get(name).ok().map(TimeZone)
    }

    /// The zone's IANA name (`UTC` for UTC).
    pub fn name(&self) -> &str {
        self.0.iana_name().unwrap_or("UTC")
    }

    /// `naive` as a local time of this zone: one instant, two (a DST fold: the clock
    /// went back over it) or none (a DST gap, or a year beyond ±9999).
    pub fn from_local_datetime(&self, naive: &NaiveDateTime) -> LocalResult<DateTime<FixedOffset>> {
        let Some(civil) = civil(naive) else { return LocalResult::None };
        let at = |offset: jiff::tz::Offset| {
            let offset = FixedOffset::east_opt(offset.seconds())?;
            let utc = naive.checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))?;
            Some(DateTime::from_naive_utc_and_offset(utc, offset))
        };
        match self.0.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => at(offset).map_or(LocalResult::None, LocalResult::Single),
            AmbiguousOffset::Fold { before, after } => match (at(before), at(after)) {
                (Some(a), Some(b)) => LocalResult::Ambiguous(a, b),
                _ => LocalResult::None,
            },
            AmbiguousOffset::Gap { .. } => LocalResult::None,
        }
    }
}

/// chrono's naive date-time as jiff's; `None` outside jiff's years (±9999). A leap
/// second (chrono's nanoseconds past 10⁹) reads as the last nanosecond of its minute.
fn civil(naive: &NaiveDateTime) -> Option<jiff::civil::DateTime> {
    let narrow = |n: u32| i8::try_from(n).ok();
    jiff::civil::DateTime::new(
        i16::try_from(naive.year()).ok()?,
        narrow(naive.month())?,
        narrow(naive.day())?,
        narrow(naive.hour())?,
        narrow(naive.minute())?,
        narrow(naive.second())?,
        i32::try_from(naive.nanosecond().min(999_999_999)).ok()?,
    )
    .ok()
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::UTC
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, 0)).unwrap()
    }

    #[test]
    fn local_times_get_the_zone_offset_of_their_date() {
        let madrid = TimeZone::get("Europe/Madrid").unwrap();
        let winter = madrid.from_local_datetime(&naive(2024, 1, 15, 12, 0)).single().unwrap();
        let summer = madrid.from_local_datetime(&naive(2024, 7, 15, 12, 0)).single().unwrap();
        assert_eq!(winter.to_rfc3339(), "2024-01-15T12:00:00+01:00");
        assert_eq!(summer.to_rfc3339(), "2024-07-15T12:00:00+02:00");
        assert_eq!(madrid.to_string(), "Europe/Madrid");
    }

    #[test]
    fn gaps_have_no_instant_and_folds_two() {
        let madrid = TimeZone::get("Europe/Madrid").unwrap();
        assert_eq!(madrid.from_local_datetime(&naive(2024, 3, 31, 2, 30)), LocalResult::None);
        let LocalResult::Ambiguous(first, second) = madrid.from_local_datetime(&naive(2024, 10, 27, 2, 30)) else {
            panic!("02:30 on 27 October 2024 happens twice in Madrid");
        };
        assert_eq!((first.offset().local_minus_utc(), second.offset().local_minus_utc()), (7200, 3600));
    }

    #[test]
    fn utc_unknown_names_and_years_out_of_range() {
        assert_eq!(TimeZone::default().name(), "UTC");
        assert_eq!(
            TimeZone::get("UTC")
                .unwrap()
                .from_local_datetime(&naive(2024, 1, 1, 0, 0))
                .single()
                .unwrap()
                .offset()
                .local_minus_utc(),
            0
        );
        assert_eq!(TimeZone::get("utc"), Some(TimeZone::UTC));
        assert_eq!(TimeZone::get("UTC").unwrap().name(), "UTC");
        assert!(TimeZone::get("Mars/Olympus").is_none());
        assert!(TimeZone::get("").is_none());
        assert_eq!(TimeZone::UTC.from_local_datetime(&naive(12_000, 1, 1, 0, 0)), LocalResult::None);
    }
}
