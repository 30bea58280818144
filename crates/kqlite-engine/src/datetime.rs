//! Reading datetime text: the forms KQL's `datetime(...)` literal and
//! `todatetime()` accept, and the forms exports write.

use chrono::{NaiveDate, NaiveDateTime};

/// Nanoseconds since the Unix epoch (UTC) of an ISO 8601-style datetime:
/// `2024-01-01`, `2024-01-01 10:00`, `2024-01-01T10:00:00Z`,
/// `2024-01-01T10:00:00.1234567Z`, `2024-01-01T10:00:00+02:00`.
/// A value without a zone is UTC. Fractions beyond 100 ns ticks are cut.
pub fn parse_datetime(text: &str) -> Option<i64> {
    parse_datetime_wide(text).and_then(|n| i64::try_from(n).ok())
}

/// Whether the text is a datetime that kqlite cannot store (before 1677 or
/// after 2262: nanoseconds since 1970 in 64 bits).
pub fn out_of_range(text: &str) -> bool {
    parse_datetime_wide(text).is_some_and(|n| i64::try_from(n).is_err())
}

/// [`parse_datetime`] without the 64-bit limit. Also reads the RFC 822 /
/// RFC 850 forms and a ` GMT`/` UTC` suffix that the datetime page lists
/// (`Sat, 8 Nov 14 15:05:02 GMT`, `Saturday, 08-Nov-14 15:05:02 GMT`,
/// `2014-11-08 15:05:25 GMT`).
pub fn parse_datetime_wide(text: &str) -> Option<i128> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let wide = |d: chrono::DateTime<chrono::FixedOffset>| {
        i128::from(d.timestamp()) * 1_000_000_000 + i128::from(d.timestamp_subsec_nanos())
    };
    if t.contains(',')
        && let Ok(d) = chrono::DateTime::parse_from_rfc2822(t)
    {
        return Some(wide(d));
    }
    let t = t
        .strip_suffix(" GMT")
        .or_else(|| t.strip_suffix(" UTC"))
        .unwrap_or(t);
    if t.contains(',') {
        return NaiveDateTime::parse_from_str(t, "%A, %d-%b-%y %H:%M:%S")
            .ok()
            .map(|d| wide(d.and_utc().fixed_offset()));
    }
    // Split off a zone designator: `Z` or `±hh:mm` / `±hhmm` after the time.
    let (body, offset_secs) = split_zone(t)?;
    let body = body.replace('T', " ");
    let (date_part, time_part) = match body.split_once(' ') {
        Some((d, tm)) => (d.trim(), Some(tm.trim())),
        None => (body.as_str(), None),
    };
    // ISO dates, and the US month-first forms .NET's invariant culture reads
    // (datetime page's example `datetime('12-02-2022')`).
    let date = ["%Y-%m-%d", "%m-%d-%Y", "%m/%d/%Y", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(date_part, f).ok())?;
    let (time, nanos) = match time_part {
        None | Some("") => (date.and_hms_opt(0, 0, 0)?, 0i64),
        Some(tm) => {
            let (hms, frac) = match tm.split_once('.') {
                Some((a, f)) => (a, Some(f)),
                None => (tm, None),
            };
            let parts: Vec<&str> = hms.split(':').collect();
            let num = |s: &str| s.parse::<u32>().ok();
            let (h, m, s) = match parts.as_slice() {
                [h, m] => (num(h)?, num(m)?, 0),
                [h, m, s] => (num(h)?, num(m)?, num(s)?),
                _ => return None,
            };
            let nanos = match frac {
                None => 0,
                Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                    let digits: String = f.chars().take(7).collect();
                    let scale = 10i64.pow(9 - digits.len() as u32);
                    digits.parse::<i64>().ok()? * scale
                }
                Some(_) => return None,
            };
            (date.and_hms_opt(h, m, s)?, nanos)
        }
    };
    let secs = NaiveDateTime::and_utc(&time).timestamp() - offset_secs;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

/// (text without zone, zone offset in seconds east of UTC).
fn split_zone(t: &str) -> Option<(&str, i64)> {
    if let Some(body) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return Some((body, 0));
    }
    // An offset can only follow a time (after a `T` or space), never the date's dashes.
    let Some(time_start) = t.find(['T', ' ']).map(|i| i + 1) else {
        return Some((t, 0));
    };
    let time = &t[time_start..];
    match time.rfind(['+', '-']) {
        Some(i) => {
            let zone = &time[i + 1..];
            let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
            let digits: String = zone.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            Some((&t[..time_start + i], sign * (h * 3600 + m * 60)))
        }
        None => Some((t, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;
    const JAN1_2024: i64 = 1_704_067_200 * SEC;

    #[test]
    fn forms_from_the_datetime_reference() {
        // datetime page: datetime(2015-12-31 23:59:59.9), datetime(2015-12-31).
        assert_eq!(parse_datetime("2024-01-01"), Some(JAN1_2024));
        assert_eq!(
            parse_datetime("2024-01-01 10:00"),
            Some(JAN1_2024 + 36_000 * SEC)
        );
        assert_eq!(
            parse_datetime("2024-01-01T10:00:00Z"),
            Some(JAN1_2024 + 36_000 * SEC)
        );
        assert_eq!(
            parse_datetime("2024-01-01T10:00:00.1234567Z"),
            Some(JAN1_2024 + 36_000 * SEC + 123_456_700)
        );
        assert_eq!(parse_datetime("2024-01-01T02:00:00+02:00"), Some(JAN1_2024));
        assert_eq!(parse_datetime("2023-12-31T22:00:00-02:00"), Some(JAN1_2024));
        assert_eq!(
            parse_datetime("2015-12-31 23:59:59.9"),
            Some(1_451_606_399 * SEC + 900_000_000)
        );
    }

    #[test]
    fn rfc_forms_from_the_datetime_reference() {
        // datetime page: "Sat, 8 Nov 14 15:05:02 GMT" (RFC 822), "Saturday, 08-Nov-14 15:05:02
        // GMT" (RFC 850), "2014-11-08 15:05:25 GMT" (sortable).
        let want = parse_datetime("2014-11-08T15:05:02Z");
        assert!(want.is_some());
        assert_eq!(parse_datetime("Sat, 8 Nov 14 15:05:02 GMT"), want);
        assert_eq!(parse_datetime("Saturday, 08-Nov-14 15:05:02 GMT"), want);
        assert_eq!(
            parse_datetime("2014-11-08 15:05:25 GMT"),
            parse_datetime("2014-11-08T15:05:25Z")
        );
        assert!(out_of_range("0001-01-01T00:00:00Z"));
        assert!(!out_of_range("2024-01-01"));
    }

    #[test]
    fn bad_text_is_none() {
        for t in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-01-01 25:00",
            "2024-01-01T10:00:00.x",
        ] {
            assert_eq!(parse_datetime(t), None, "{t}");
        }
    }
}
