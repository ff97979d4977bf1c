//! The workspace's one vocabulary for days and instants, over the `time` crate.
//!
//! * [`Date`]: a calendar day, written and read as `YYYY-MM-DD` (exception expiry, `--today`,
//!   certificate validity). Parsing validates the day: `2027-99-99` is an error.
//! * [`Timestamp`]: an instant in UTC, written as RFC 3339 with seconds
//!   ([`Timestamp::rfc3339`], `2026-11-29T10:00:00Z`) or milliseconds
//!   ([`Timestamp::rfc3339_ms`], `2026-11-29T10:00:00.123Z`), read from any RFC 3339 form.
//! * [`Clock`]: where "now" comes from. Pure crates never read the clock: they take a
//!   [`Timestamp`] or [`Date`] as a parameter. Edge crates (the binary, the servers, the
//!   agent, the database writer) read it through [`SystemClock`], the workspace's only call of
//!   the system clock.

use std::fmt;
use std::str::FromStr;

use ::time::format_description::BorrowedFormatItem;
use ::time::format_description::well_known::Rfc3339;
use ::time::macros::format_description;
use ::time::{OffsetDateTime, UtcOffset};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar day (proleptic Gregorian, the `time` crate's years -9999 to 9999), written
/// `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(::time::Date);

/// Why a text is not a [`Date`] or a [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not a `YYYY-MM-DD` calendar day.
    #[error("invalid date {text:?} (expected YYYY-MM-DD, a day of the calendar): {reason}")]
    Date {
        /// The text as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not an RFC 3339 timestamp.
    #[error("invalid timestamp {text:?} (expected RFC 3339): {reason}")]
    Timestamp {
        /// The text as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
}

const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
const SECONDS_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const MILLIS_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

impl Date {
    /// Parses `YYYY-MM-DD` (exactly four, two and two digits), rejecting days that do not
    /// exist (`2027-02-30`, `2027-99-99`).
    pub fn parse(text: &str) -> Result<Date, TimeError> {
        ::time::Date::parse(text, DATE_FORMAT)
            .map(Date)
            .map_err(|e| TimeError::Date {
                text: text.to_string(),
                reason: e.to_string(),
            })
    }

    /// The day as `(year, month 1–12, day 1–31)`.
    pub fn ymd(self) -> (i32, u8, u8) {
        (self.0.year(), u8::from(self.0.month()), self.0.day())
    }

    /// The first instant of the day (00:00:00 UTC).
    pub fn midnight_utc(self) -> Timestamp {
        Timestamp(self.0.midnight().assume_utc())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(DATE_FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl FromStr for Date {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<Date, TimeError> {
        Date::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An instant, in UTC, with nanosecond precision (years -9999 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Milliseconds since the Unix epoch (signed or not), saturating at the ends of the
    /// supported range.
    pub fn from_unix_ms(ms: impl Into<i128>) -> Timestamp {
        let nanos = ms.into().saturating_mul(1_000_000);
        Timestamp(
            OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(if nanos < 0 {
                OffsetDateTime::new_utc(::time::Date::MIN, ::time::Time::MIDNIGHT)
            } else {
                OffsetDateTime::new_utc(::time::Date::MAX, ::time::Time::MAX)
            }),
        )
    }

    /// Seconds since the Unix epoch, saturating at the ends of the supported range.
    pub fn from_unix_secs(secs: i64) -> Timestamp {
        Timestamp::from_unix_ms(i128::from(secs) * 1000)
    }

    /// Parses any RFC 3339 timestamp (`2024-01-02T03:04:05.123456789Z`, `…+01:00`, a space
    /// or `t` as the separator; surrounding whitespace is ignored), normalised to UTC.
    pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeError> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(|t| Timestamp(t.to_offset(UtcOffset::UTC)))
            .map_err(|e| TimeError::Timestamp {
                text: text.to_string(),
                reason: e.to_string(),
            })
    }

    /// Whole seconds since the Unix epoch (rounded towards the past).
    pub fn unix_secs(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Whole milliseconds since the Unix epoch (rounded towards the past).
    pub fn unix_ms(self) -> i64 {
        // Years -9999 to 9999 are well within i64 milliseconds.
        i64::try_from(self.0.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX)
    }

    /// Whole milliseconds since the Unix epoch, or `None` before it.
    pub fn unix_ms_unsigned(self) -> Option<u64> {
        u64::try_from(self.unix_ms()).ok()
    }

    /// The UTC day of this instant.
    pub fn date(self) -> Date {
        Date(self.0.date())
    }

    /// RFC 3339 in UTC with whole seconds: `2026-11-29T10:00:00Z`.
    pub fn rfc3339(self) -> String {
        self.format(SECONDS_FORMAT)
    }

    /// RFC 3339 in UTC with milliseconds: `2026-11-29T10:00:00.123Z`.
    pub fn rfc3339_ms(self) -> String {
        self.format(MILLIS_FORMAT)
    }

    /// The `time` crate's value, for libraries that take it (certificate validity).
    pub fn to_time(self) -> OffsetDateTime {
        self.0
    }

    fn format(self, items: &[BorrowedFormatItem<'_>]) -> String {
        // The components of a valid UTC instant always format with these descriptions.
        self.0.format(items).unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 with whole seconds, as [`Timestamp::rfc3339`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    /// RFC 3339 with milliseconds (`2026-12-06T10:24:47.123Z`), as [`Timestamp::rfc3339_ms`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339_ms())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// Any RFC 3339 timestamp ([`Timestamp::parse_rfc3339`]).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// Where "now" comes from. Pure code takes a [`Timestamp`] instead; code that must ask (a
/// server refreshing its policy at midnight) takes a `&dyn Clock` so tests can pass a fixed one.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;

    /// The current UTC day.
    fn today(&self) -> Date {
        self.now().date()
    }
}

/// The system's wall clock: the one place the workspace reads it. For edge crates only.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(OffsetDateTime::now_utc())
    }
}

/// A clock that always answers the same instant (tests, `--today`).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_validated_and_written_as_iso() {
        for (text, days) in [
            ("1970-01-01", 0),
            ("2000-02-29", 11_016),
            ("2026-11-29", 20_786),
            ("1969-12-31", -1),
        ] {
            let d = Date::parse(text).unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(Timestamp::from_unix_secs(days * 86_400).date(), d);
        }
        assert_eq!(Date::parse("2000-02-29").unwrap().ymd(), (2000, 2, 29));
        for bad in [
            "2027-99-99",
            "2027-02-30",
            "2026-13-01",
            "2027-3-31",
            "29.11.2026",
            "next week",
            "2027-03-31 ",
            "",
        ] {
            let e = Date::parse(bad).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("invalid date {bad:?}")),
                "{e}"
            );
        }
        assert!(Date::parse("2027-01-01").unwrap() > Date::parse("2026-12-31").unwrap());
    }

    #[test]
    fn dates_are_serde_strings() {
        let d: Date = serde_json::from_str("\"2027-03-31\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2027-03-31\"");
        let e = serde_json::from_str::<Date>("\"2027-99-99\"").unwrap_err();
        assert!(e.to_string().contains("invalid date \"2027-99-99\""), "{e}");
    }

    #[test]
    fn known_instants_in_both_precisions() {
        let t = |ms: i64| Timestamp::from_unix_ms(ms);
        assert_eq!(t(0).rfc3339_ms(), "1970-01-01T00:00:00.000Z");
        assert_eq!(t(951_827_696_789).rfc3339_ms(), "2000-02-29T12:34:56.789Z");
        assert_eq!(
            t(1_795_946_400_000).rfc3339_ms(),
            "2026-11-29T10:00:00.000Z"
        );
        assert_eq!(t(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix_secs(951_782_400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix_secs(1_700_000_000).to_string(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(t(951_827_696_789).unix_secs(), 951_827_696);
        assert_eq!(t(951_827_696_789).date().to_string(), "2000-02-29");
        assert_eq!(
            Date::parse("2026-11-29").unwrap().midnight_utc().unix_ms(),
            1_795_910_400_000
        );
        // Out of range saturates instead of wrapping.
        assert_eq!(t(i64::MAX).date().to_string(), "9999-12-31");
    }

    #[test]
    fn rfc3339_parses_round_trip_and_offsets() {
        for ms in [0u64, 951_827_696_789, 1_795_946_400_000, 4_102_444_800_000] {
            let ts = Timestamp::from_unix_ms(ms);
            assert_eq!(Timestamp::parse_rfc3339(&ts.rfc3339_ms()).unwrap(), ts);
            assert_eq!(ts.unix_ms_unsigned(), Some(ms));
        }
        assert_eq!(Timestamp::from_unix_ms(-1).unix_ms_unsigned(), None);
        let secs = |s: &str| Timestamp::parse_rfc3339(s).map(Timestamp::unix_secs).ok();
        assert_eq!(secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(secs("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            secs("2024-01-15T10:30:00.123456789+01:00"),
            Some(1_705_311_000)
        );
        assert_eq!(secs("2026-11-29T10:00:00+00:00"), Some(1_795_946_400));
        assert_eq!(secs("2026-11-29 10:00:00z"), Some(1_795_946_400));
        for bad in [
            "not a date",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-29T10:00:00.Z",
            "2026-11-29",
        ] {
            assert_eq!(secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn clocks() {
        let fixed = FixedClock(Timestamp::from_unix_ms(951_827_696_789_i64));
        assert_eq!(fixed.today().to_string(), "2000-02-29");
        assert!(SystemClock.today() > Date::parse("2025-01-01").unwrap());
    }

    #[test]
    fn timestamps_travel_as_rfc3339_with_milliseconds() {
        let t = Timestamp::from_unix_ms(951_827_696_789_i64);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2000-02-29T12:34:56.789Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        let offset: Timestamp = serde_json::from_str("\"2000-02-29T13:34:56.789+01:00\"").unwrap();
        assert_eq!(offset, t);
        let err = serde_json::from_str::<Timestamp>("\"2000-02-30T00:00:00Z\"").unwrap_err();
        assert!(err.to_string().contains("2000-02-30"), "{err}");
    }
}

/// JSON Schemas: both types travel as strings (RFC 3339 instants, `YYYY-MM-DD` days).
#[cfg(feature = "schema")]
mod schema {
    use std::borrow::Cow;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    impl JsonSchema for super::Timestamp {
        fn schema_name() -> Cow<'static, str> {
            "Timestamp".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "format": "date-time",
                "description": "RFC 3339 instant; written in UTC with milliseconds",
            })
        }
    }

    impl JsonSchema for super::Date {
        fn schema_name() -> Cow<'static, str> {
            "Date".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({"type": "string", "format": "date", "description": "YYYY-MM-DD"})
        }
    }
}
