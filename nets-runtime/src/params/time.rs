//! Dates and datetimes. Naive datetimes are read in the configured `TIME_ZONE`;
//! a local time that does not exist (DST gap) or is ambiguous (DST fold) is an error,
//! not a silent guess.

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Utc};

use super::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw};

const NAIVE_FORMATS: [&str; 4] = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];

fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    NAIVE_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
}

/// Reads an aware datetime; naive input is placed in `cx.time_zone`.
fn parse_datetime(raw: &Raw, cx: &CoerceCx, expected: &'static str) -> Result<DateTime<FixedOffset>, CoerceError> {
    let text = raw.as_str().map(str::trim).ok_or_else(|| CoerceError::expected(expected, raw))?;
    if let Ok(aware) = DateTime::parse_from_rfc3339(text) {
        return Ok(aware);
    }
    let naive = parse_naive(text).ok_or_else(|| CoerceError::expected(expected, raw))?;
    if !(-9999..=9999).contains(&naive.year()) {
        return Err(CoerceError::Invalid(format!("{text} is out of range (years -9999 to 9999)")));
    }
    match cx.time_zone.from_local_datetime(&naive) {
        LocalResult::Single(local) => Ok(local),
        LocalResult::Ambiguous(..) => Err(CoerceError::Invalid(format!(
            "{text} is ambiguous in time zone {} (DST change); send an explicit UTC offset",
            cx.time_zone
        ))),
        LocalResult::None => {
            Err(CoerceError::Invalid(format!("{text} does not exist in time zone {} (DST gap)", cx.time_zone)))
        }
    }
}

impl FromParam for NaiveDate {
    const TYPE_NAME: &'static str = "a date (YYYY-MM-DD)";

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        let text = raw.as_str().map(str::trim).ok_or_else(|| CoerceError::expected(Self::TYPE_NAME, &raw))?;
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(date);
        }
        // An ISO datetime: the calendar date as written, without shifting zones.
        if let Ok(aware) = DateTime::parse_from_rfc3339(text) {
            return Ok(aware.date_naive());
        }
        parse_naive(text).map(|n| n.date()).ok_or_else(|| CoerceError::expected(Self::TYPE_NAME, &raw))
    }

    fn schema() -> ParamSchema {
        ParamSchema::string().with_format("date")
    }
}

impl FromParam for DateTime<FixedOffset> {
    const TYPE_NAME: &'static str = "a datetime (RFC 3339, e.g. 2024-05-04T10:00:00Z)";

    fn from_param(raw: Raw, cx: &CoerceCx) -> Result<Self, CoerceError> {
        parse_datetime(&raw, cx, Self::TYPE_NAME)
    }

    fn schema() -> ParamSchema {
        ParamSchema::string().with_format("date-time")
    }
}

impl FromParam for DateTime<Utc> {
    const TYPE_NAME: &'static str = "a datetime (RFC 3339, e.g. 2024-05-04T10:00:00Z)";

    fn from_param(raw: Raw, cx: &CoerceCx) -> Result<Self, CoerceError> {
        parse_datetime(&raw, cx, Self::TYPE_NAME).map(|dt| dt.with_timezone(&Utc))
    }

    fn schema() -> ParamSchema {
        ParamSchema::string().with_format("date-time")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(tz: &str) -> CoerceCx {
        CoerceCx { time_zone: crate::time_zone::TimeZone::get(tz).unwrap() }
    }

    #[test]
    fn naive_datetimes_are_read_in_the_configured_zone() {
        let dt = DateTime::<Utc>::from_param(Raw::Text("2024-05-04T10:00:00".into()), &cx("America/Bogota")).unwrap();
        assert_eq!(dt.to_rfc3339(), "2024-05-04T15:00:00+00:00");
        let dt = DateTime::<Utc>::from_param(Raw::Text("2024-05-04T10:00:00+02:00".into()), &cx("UTC")).unwrap();
        assert_eq!(dt.to_rfc3339(), "2024-05-04T08:00:00+00:00");
    }

    #[test]
    fn dst_gaps_and_folds_are_errors() {
        let gap = DateTime::<Utc>::from_param(Raw::Text("2024-03-31T02:30:00".into()), &cx("Europe/Madrid"));
        assert!(gap.unwrap_err().to_string().contains("does not exist"));
        let fold = DateTime::<Utc>::from_param(Raw::Text("2024-10-27T02:30:00".into()), &cx("Europe/Madrid"));
        assert!(fold.unwrap_err().to_string().contains("ambiguous"));
    }

    #[test]
    fn dates() {
        let c = CoerceCx::default();
        assert_eq!(NaiveDate::from_param(Raw::Text("2024-05-04".into()), &c).unwrap().to_string(), "2024-05-04");
        assert_eq!(
            NaiveDate::from_param(Raw::Text("2024-05-04T23:00:00-05:00".into()), &c).unwrap().to_string(),
            "2024-05-04"
        );
        assert!(NaiveDate::from_param(Raw::Text("04/05/2024".into()), &c).is_err());
        assert!(NaiveDate::from_param(Raw::Text("2024-13-01".into()), &c).is_err());
    }
}
