//! Civil dates and RFC 3339 timestamps, just enough for TLS-RPT date ranges: days since the Unix
//! epoch ↔ year-month-day (proleptic Gregorian, H. Hinnant's algorithms), and timestamps read
//! with or without a time zone. No clock: "today" is always passed in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seconds in a day.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// A UTC calendar day, counted in days since 1970-01-01. Its wire form (in saved observations)
/// is `YYYY-MM-DD`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub struct Day(pub i64);

impl From<Day> for String {
    fn from(day: Day) -> Self {
        day.to_string()
    }
}

impl TryFrom<String> for Day {
    type Error = DateError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl Day {
    /// The day of `year-month-day`, if that date exists (years 1 to 9999).
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Self> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self(days_from_civil(year, month, day)))
    }

    /// The day a Unix time (seconds) falls on, in UTC.
    pub fn of_unix(seconds: i64) -> Self {
        Self(seconds.div_euclid(SECONDS_PER_DAY))
    }

    /// Year, month (1-12) and day of month (1-31).
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    /// The day `days` later (earlier if negative), saturating.
    pub fn plus(self, days: i64) -> Self {
        Self(self.0.saturating_add(days))
    }

    /// Reads `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(DateError(format!(
                "{text:?} is not a date of the form YYYY-MM-DD"
            )));
        }
        let year = digits(&bytes[0..4]);
        let month = digits(&bytes[5..7]);
        let day = digits(&bytes[8..10]);
        match (year, month, day) {
            (Some(year), Some(month), Some(day)) => Self::from_ymd(i64::from(year), month, day)
                .ok_or_else(|| DateError(format!("{text:?} is not a date that exists"))),
            _ => Err(DateError(format!(
                "{text:?} is not a date of the form YYYY-MM-DD"
            ))),
        }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

/// A date or timestamp that could not be read; the message is a sentence fragment naming the
/// text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateError(pub String);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A point in time read from a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Unix seconds (UTC).
    pub unix: i64,
    /// The text carried no time zone and was read as UTC (Microsoft 2023 to early 2024).
    pub zone_missing: bool,
    /// Only a date was given (`2024-02-22`), read as its midnight UTC.
    pub date_only: bool,
}

impl Timestamp {
    /// The day this time falls on, in UTC.
    pub fn day(self) -> Day {
        Day::of_unix(self.unix)
    }

    /// Reads an RFC 3339 `date-time` (`2024-02-22T00:00:00Z`, `…T00:00:00.123+02:00`), and the
    /// forms real senders write instead: no zone (read as UTC), a space or lower-case `t` between
    /// date and time, lower-case `z`, and a bare date.
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let bad = || DateError(format!("{text:?} is not an RFC 3339 date-time"));
        let trimmed = text.trim();
        if trimmed.len() < 10 || !trimmed.is_char_boundary(10) {
            return Err(bad());
        }
        let day = Day::parse(&trimmed[..10]).map_err(|_| bad())?;
        let rest = &trimmed[10..];
        if rest.is_empty() {
            return Ok(Self {
                unix: day.0 * SECONDS_PER_DAY,
                zone_missing: true,
                date_only: true,
            });
        }
        let rest = rest
            .strip_prefix(['T', 't', ' '])
            .ok_or_else(bad)?
            .as_bytes();
        if rest.len() < 8 || rest[2] != b':' || rest[5] != b':' {
            return Err(bad());
        }
        let (Some(hour), Some(minute), Some(second)) = (
            digits(&rest[0..2]),
            digits(&rest[3..5]),
            digits(&rest[6..8]),
        ) else {
            return Err(bad());
        };
        // A leap second (60) is read as the last second of its minute.
        if hour > 23 || minute > 59 || second > 60 {
            return Err(bad());
        }
        let mut rest = &rest[8..];
        if let Some(fraction) = rest.strip_prefix(b".") {
            let len = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
            if len == 0 {
                return Err(bad());
            }
            rest = &fraction[len..];
        }
        let (offset, zone_missing) = match rest {
            [] => (0, true),
            [b'Z' | b'z'] => (0, false),
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (Some(hours), Some(minutes)) = (digits(&[*h1, *h2]), digits(&[*m1, *m2]))
                else {
                    return Err(bad());
                };
                if hours > 23 || minutes > 59 {
                    return Err(bad());
                }
                let offset = i64::from(hours * 3600 + minutes * 60);
                (if *sign == b'-' { -offset } else { offset }, false)
            }
            _ => return Err(bad()),
        };
        let seconds = i64::from(hour * 3600 + minute * 60 + second.min(59));
        Ok(Self {
            unix: day.0 * SECONDS_PER_DAY + seconds - offset,
            zone_missing,
            date_only: false,
        })
    }
}

/// The value of 1 to 4 ASCII digits.
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 4 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0, |value, digit| value * 10 + u32::from(digit - b'0')),
    )
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant, `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count (Hinnant, `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_civil_dates() {
        assert_eq!(Day::from_ymd(1970, 1, 1), Some(Day(0)));
        assert_eq!(Day::from_ymd(2000, 3, 1), Some(Day(11_017)));
        assert_eq!(
            Day::from_ymd(2024, 2, 29).map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(Day::from_ymd(2023, 2, 29), None);
        assert_eq!(Day::from_ymd(2100, 2, 29), None);
        for days in (-800_000..3_000_000).step_by(97) {
            let (y, m, d) = Day(days).ymd();
            if (1..=9999).contains(&y) {
                assert_eq!(Day::from_ymd(y, m, d), Some(Day(days)), "{days}");
            }
        }
    }

    #[test]
    fn parses_dates() {
        assert_eq!(
            Day::parse("2024-02-22").map(|d| d.to_string()).as_deref(),
            Ok("2024-02-22")
        );
        for bad in ["2024-2-22", "2024-02-30", "20240222", "2024-02-2x", ""] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_rfc3339_and_what_senders_write_instead() {
        let midnight = Day::parse("2024-02-22").unwrap().0 * SECONDS_PER_DAY;
        let cases = [
            ("2024-02-22T00:00:00Z", midnight, false),
            ("2024-02-22t00:00:00z", midnight, false),
            ("2024-02-22 00:00:00Z", midnight, false),
            ("2024-02-22T00:00:00.000Z", midnight, false),
            ("2024-02-22T02:00:00+02:00", midnight, false),
            ("2024-02-21T19:00:00-05:00", midnight, false),
            ("2024-02-22T00:00:00", midnight, true),
            (
                "2024-02-22T23:59:60Z",
                midnight + SECONDS_PER_DAY - 1,
                false,
            ),
        ];
        for (text, unix, zone_missing) in cases {
            let parsed = Timestamp::parse(text).unwrap();
            assert_eq!(
                (parsed.unix, parsed.zone_missing),
                (unix, zone_missing),
                "{text}"
            );
        }
        assert!(Timestamp::parse("2024-02-22").unwrap().date_only);
        for bad in [
            "2024-02-22T24:00:00Z",
            "2024-02-22T00:00Z",
            "2024-02-22T00:00:00+2:00",
            "2024-02-22T00:00:00.Z",
            "yesterday",
            "2024-02-22Té0:00:00Z",
            "2024-02-22T00:00:00ZZ",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }
}
