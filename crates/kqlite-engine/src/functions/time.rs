//! datetime and timespan kernels. Values are nanoseconds (UTC datetimes since
//! the Unix epoch); KQL's resolution is the 100 ns tick.

use super::kernels::*;
use super::{DUR, F64, I32, I64, Register, UTF8, ts};
use crate::datetime::parse_datetime;
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::common::Result as DfResult;

pub(crate) const NANOS_PER_DAY: i64 = 86_400_000_000_000;
const NANOS_PER_TICK: i64 = 100;
/// Nanoseconds from 0001-01-01 (where KQL counts ticks from) to 1970-01-01.
const TICK_EPOCH_OFFSET: i128 = 62_135_596_800 * 1_000_000_000;

pub(crate) fn register(r: &mut Register<'_>) {
    r("kql_bin_datetime", vec![vec![ts(), DUR]], ts(), |a| {
        let (t, s) = (times(&a[0])?, spans(&a[1])?);
        Ok(time_array(
            (0..t.len())
                .map(|i| bin_datetime(get_ts(t, i)?, get_dur(s, i)?))
                .collect(),
        ))
    });
    for (name, unit, end) in [
        ("kql_startofday", Unit::Day, false),
        ("kql_startofweek", Unit::Week, false),
        ("kql_startofmonth", Unit::Month, false),
        ("kql_startofyear", Unit::Year, false),
        ("kql_endofday", Unit::Day, true),
        ("kql_endofweek", Unit::Week, true),
        ("kql_endofmonth", Unit::Month, true),
        ("kql_endofyear", Unit::Year, true),
    ] {
        let kernel: super::Kernel = match (unit, end) {
            (Unit::Day, false) => |a| start_of(a, Unit::Day, false),
            (Unit::Week, false) => |a| start_of(a, Unit::Week, false),
            (Unit::Month, false) => |a| start_of(a, Unit::Month, false),
            (Unit::Year, false) => |a| start_of(a, Unit::Year, false),
            (Unit::Day, true) => |a| start_of(a, Unit::Day, true),
            (Unit::Week, true) => |a| start_of(a, Unit::Week, true),
            (Unit::Month, true) => |a| start_of(a, Unit::Month, true),
            (Unit::Year, true) => |a| start_of(a, Unit::Year, true),
        };
        r(name, vec![vec![ts(), I64]], ts(), kernel);
    }
    r("kql_datetime_add", vec![vec![UTF8, I64, ts()]], ts(), |a| {
        let (p, n, t) = (strs(&a[0])?, longs(&a[1])?, times(&a[2])?);
        Ok(time_array(
            (0..t.len())
                .map(|i| datetime_add(get(p, i)?, get_i64(n, i)?, get_ts(t, i)?))
                .collect(),
        ))
    });
    r(
        "kql_datetime_diff",
        vec![vec![UTF8, ts(), ts()]],
        I64,
        |a| {
            let (p, x, y) = (strs(&a[0])?, times(&a[1])?, times(&a[2])?);
            Ok(long_array(
                (0..x.len())
                    .map(|i| datetime_diff(get(p, i)?, get_ts(x, i)?, get_ts(y, i)?))
                    .collect(),
            ))
        },
    );
    r("kql_datetime_part", vec![vec![UTF8, ts()]], I32, |a| {
        let (p, t) = (strs(&a[0])?, times(&a[1])?);
        Ok(int_array(
            (0..t.len())
                .map(|i| datetime_part(get(p, i)?, get_ts(t, i)?))
                .collect(),
        ))
    });
    r("kql_dayofweek", vec![vec![ts()]], DUR, |a| {
        let t = times(&a[0])?;
        Ok(span_array(
            (0..t.len())
                .map(|i| {
                    let days = get_ts(t, i)?.div_euclid(NANOS_PER_DAY);
                    Some((days + 4).rem_euclid(7) * NANOS_PER_DAY)
                })
                .collect(),
        ))
    });
    r("kql_format_datetime", vec![vec![ts(), UTF8]], UTF8, |a| {
        let (t, f) = (times(&a[0])?, strs(&a[1])?);
        Ok(string_array(
            (0..t.len())
                .map(|i| {
                    Some(
                        get_ts(t, i)
                            .and_then(|n| format_datetime(n, get(f, i).unwrap_or_default()))
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        ))
    });
    r("kql_format_timespan", vec![vec![DUR, UTF8]], UTF8, |a| {
        let (t, f) = (spans(&a[0])?, strs(&a[1])?);
        Ok(string_array(
            (0..t.len())
                .map(|i| {
                    Some(
                        get_dur(t, i)
                            .map(|n| format_timespan(n, get(f, i).unwrap_or_default()))
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        ))
    });
    r("kql_datetime_tostring", vec![vec![ts()]], UTF8, |a| {
        let t = times(&a[0])?;
        Ok(string_array(
            (0..t.len())
                .map(|i| {
                    Some(
                        get_ts(t, i)
                            .map(crate::format::datetime)
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        ))
    });
    r("kql_timespan_tostring", vec![vec![DUR]], UTF8, |a| {
        let t = spans(&a[0])?;
        Ok(string_array(
            (0..t.len())
                .map(|i| {
                    Some(
                        get_dur(t, i)
                            .map(crate::format::timespan)
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        ))
    });
    r("kql_todatetime", vec![vec![UTF8]], ts(), |a| {
        let s = strs(&a[0])?;
        let mut out = Vec::with_capacity(s.len());
        for i in 0..s.len() {
            out.push(match get(s, i) {
                None => None,
                Some(t) => match parse_datetime(t) {
                    Some(n) => Some(n),
                    // A real datetime kqlite cannot hold: an error, not a
                    // silent null.
                    None if crate::datetime::out_of_range(t) => {
                        return Err(datafusion::error::DataFusionError::Execution(format!(
                            "datetime `{t}` is outside the years kqlite can hold (1677-2262)"
                        )));
                    }
                    None => None,
                },
            });
        }
        Ok(time_array(out))
    });
    r("kql_totimespan", vec![vec![UTF8]], DUR, |a| {
        let s = strs(&a[0])?;
        Ok(span_array(
            (0..s.len()).map(|i| parse_timespan(get(s, i)?)).collect(),
        ))
    });
    r("kql_unixtime_seconds", vec![vec![F64]], ts(), |a| {
        let x = reals(&a[0])?;
        Ok(time_array(
            (0..x.len())
                .map(|i| {
                    let ticks = get_f64(x, i)? * 1e7;
                    (ticks.is_finite() && ticks.abs() < 9.2e16)
                        .then(|| ticks.round() as i64 * NANOS_PER_TICK)
                })
                .collect(),
        ))
    });
}

fn bin_datetime(t: i64, size: i64) -> Option<i64> {
    if size <= 0 {
        return None;
    }
    let from_origin = i128::from(t) + TICK_EPOCH_OFFSET;
    let size = i128::from(size);
    let floored = from_origin.div_euclid(size) * size - TICK_EPOCH_OFFSET;
    i64::try_from(floored).ok()
}

#[derive(Clone, Copy)]
enum Unit {
    Day,
    Week,
    Month,
    Year,
}

fn naive(nanos: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(nanos).naive_utc()
}

fn nanos_of(d: NaiveDateTime) -> Option<i64> {
    d.and_utc().timestamp_nanos_opt()
}

/// Start of the unit containing `t`, moved by `offset` units; with `end`,
/// the last tick of that unit instead.
fn start_of_one(t: i64, unit: Unit, offset: i64, end: bool) -> Option<i64> {
    let offset = if end { offset.checked_add(1)? } else { offset };
    let start = match unit {
        Unit::Day => {
            let day = t.div_euclid(NANOS_PER_DAY).checked_add(offset)?;
            day.checked_mul(NANOS_PER_DAY)?
        }
        Unit::Week => {
            // 1970-01-01 was a Thursday; KQL weeks start on Sunday.
            let day = t.div_euclid(NANOS_PER_DAY);
            let sunday = day - (day + 4).rem_euclid(7);
            sunday
                .checked_add(offset.checked_mul(7)?)?
                .checked_mul(NANOS_PER_DAY)?
        }
        Unit::Month | Unit::Year => {
            let d = naive(t).date();
            let first = if matches!(unit, Unit::Month) {
                NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?
            } else {
                NaiveDate::from_ymd_opt(d.year(), 1, 1)?
            };
            let months = if matches!(unit, Unit::Month) {
                offset
            } else {
                offset.checked_mul(12)?
            };
            let moved = if months >= 0 {
                first.checked_add_months(Months::new(u32::try_from(months).ok()?))?
            } else {
                first.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
            };
            nanos_of(moved.and_hms_opt(0, 0, 0)?)?
        }
    };
    if end {
        start.checked_sub(NANOS_PER_TICK)
    } else {
        Some(start)
    }
}

fn start_of(a: &[ArrayRef], unit: Unit, end: bool) -> DfResult<ArrayRef> {
    let (t, off) = (times(&a[0])?, longs(&a[1])?);
    Ok(time_array(
        (0..t.len())
            .map(|i| start_of_one(get_ts(t, i)?, unit, get_i64(off, i)?, end))
            .collect(),
    ))
}

fn datetime_add(part: &str, n: i64, t: i64) -> Option<i64> {
    let fixed = |unit: i64| t.checked_add(n.checked_mul(unit)?);
    match part.to_ascii_lowercase().as_str() {
        "year" => add_months(t, n.checked_mul(12)?),
        "quarter" => add_months(t, n.checked_mul(3)?),
        "month" => add_months(t, n),
        "week" => fixed(7 * NANOS_PER_DAY),
        "day" => fixed(NANOS_PER_DAY),
        "hour" => fixed(3_600_000_000_000),
        "minute" => fixed(60_000_000_000),
        "second" => fixed(1_000_000_000),
        "millisecond" => fixed(1_000_000),
        "microsecond" => fixed(1_000),
        "nanosecond" => fixed(1),
        _ => None,
    }
}

/// Calendar months added; the day is clamped to the month's end (Jan 31 +
/// 1 month = Feb 28/29).
fn add_months(t: i64, months: i64) -> Option<i64> {
    let d = naive(t);
    let moved = if months >= 0 {
        d.checked_add_months(Months::new(u32::try_from(months).ok()?))?
    } else {
        d.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
    };
    nanos_of(moved)
}

/// datetime_diff: the number of unit boundaries between `b` and `a` (a - b),
/// as the reference's examples count them (calendar units by their fields,
/// weeks from Sunday, smaller units by truncation).
fn datetime_diff(part: &str, a: i64, b: i64) -> Option<i64> {
    let (da, db) = (naive(a), naive(b));
    let trunc = |unit: i64| a.div_euclid(unit).checked_sub(b.div_euclid(unit));
    match part.to_ascii_lowercase().as_str() {
        "year" => Some(i64::from(da.year() - db.year())),
        "quarter" => {
            let q = |d: &NaiveDateTime| i64::from(d.year()) * 4 + i64::from(d.month0() / 3);
            Some(q(&da) - q(&db))
        }
        "month" => {
            let m = |d: &NaiveDateTime| i64::from(d.year()) * 12 + i64::from(d.month0());
            Some(m(&da) - m(&db))
        }
        "week" => {
            let week = |t: i64| start_of_one(t, Unit::Week, 0, false);
            Some(week(a)?.checked_sub(week(b)?)? / (7 * NANOS_PER_DAY))
        }
        "day" => trunc(NANOS_PER_DAY),
        "hour" => trunc(3_600_000_000_000),
        "minute" => trunc(60_000_000_000),
        "second" => trunc(1_000_000_000),
        "millisecond" => trunc(1_000_000),
        "microsecond" => trunc(1_000),
        "nanosecond" => a.checked_sub(b),
        _ => None,
    }
}

fn datetime_part(part: &str, t: i64) -> Option<i32> {
    let d = naive(t);
    let sub = t.rem_euclid(1_000_000_000);
    Some(match part.to_ascii_lowercase().as_str() {
        "year" => d.year(),
        "quarter" => (d.month0() / 3 + 1) as i32,
        "month" => d.month() as i32,
        "week_of_year" | "weekofyear" => d.iso_week().week() as i32,
        "day" => d.day() as i32,
        "dayofyear" => d.ordinal() as i32,
        "hour" => d.hour() as i32,
        "minute" => d.minute() as i32,
        "second" => d.second() as i32,
        "millisecond" => (sub / 1_000_000) as i32,
        "microsecond" => (sub / 1_000) as i32,
        "nanosecond" => sub as i32,
        _ => return None,
    })
}

/// Splits a .NET-style format string into runs of one format letter and
/// literal text.
fn format_runs(fmt: &str, letters: &str) -> Vec<(char, usize)> {
    let mut out: Vec<(char, usize)> = Vec::new();
    for c in fmt.chars() {
        match out.last_mut() {
            Some((p, n)) if *p == c && letters.contains(c) => *n += 1,
            _ => out.push((c, 1)),
        }
    }
    out
}

fn fraction(sub_nanos: i64, n: usize, trim: bool) -> String {
    let ticks = format!("{:07}", sub_nanos / NANOS_PER_TICK);
    let digits = &ticks[..n.min(7)];
    if trim {
        digits.trim_end_matches('0').to_string()
    } else {
        digits.to_string()
    }
}

/// format_datetime with the specifiers the reference lists: d dd, f..fffffff,
/// F..FFFFFFF, h hh, H HH, m mm, M MM, s ss, y yy yyyy, tt; other characters
/// are copied. Unknown letter runs make the result null.
fn format_datetime(nanos: i64, fmt: &str) -> Option<String> {
    let d = naive(nanos);
    let sub = nanos.rem_euclid(1_000_000_000);
    let mut out = String::new();
    for (c, n) in format_runs(fmt, "dfFhHmMsyt") {
        let piece = match (c, n) {
            ('d', 1) => d.day().to_string(),
            ('d', 2) => format!("{:02}", d.day()),
            ('f', 1..=7) => fraction(sub, n, false),
            ('F', 1..=7) => fraction(sub, n, true),
            ('h', 1) => (((d.hour() + 11) % 12) + 1).to_string(),
            ('h', 2) => format!("{:02}", ((d.hour() + 11) % 12) + 1),
            ('H', 1) => d.hour().to_string(),
            ('H', 2) => format!("{:02}", d.hour()),
            ('m', 1) => d.minute().to_string(),
            ('m', 2) => format!("{:02}", d.minute()),
            ('M', 1) => d.month().to_string(),
            ('M', 2) => format!("{:02}", d.month()),
            ('s', 1) => d.second().to_string(),
            ('s', 2) => format!("{:02}", d.second()),
            ('y', 1) => (d.year() % 100).to_string(),
            ('y', 2) => format!("{:02}", d.year() % 100),
            ('y', 4) => format!("{:04}", d.year()),
            ('t', 2) => if d.hour() < 12 { "AM" } else { "PM" }.to_string(),
            (c, 1) if !"dfFhHmMsyt".contains(c) => c.to_string(),
            _ => return None,
        };
        out.push_str(&piece);
    }
    Some(out)
}

/// format_timespan with d..dddddddd, h hh, H HH, m mm, s ss, f.., F..;
/// other characters are copied.
fn format_timespan(nanos: i64, fmt: &str) -> String {
    let neg = nanos < 0;
    let abs = i128::from(nanos).unsigned_abs();
    let secs = (abs / 1_000_000_000) as u64;
    let sub = (abs % 1_000_000_000) as i64;
    let (days, h, m, s) = (
        secs / 86_400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
    );
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    for (c, n) in format_runs(fmt, "dfFhHms") {
        let piece = match c {
            'd' => format!("{days:0n$}"),
            'h' | 'H' => format!("{h:0n$}"),
            'm' => format!("{m:0n$}"),
            's' => format!("{s:0n$}"),
            'f' => fraction(sub, n, false),
            'F' => fraction(sub, n, true),
            other => other.to_string().repeat(n),
        };
        out.push_str(&piece);
    }
    out
}

/// `[-][d.]hh:mm[:ss[.fffffff]]`, KQL's timespan text form.
pub(crate) fn parse_timespan(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (days, clock) = match t.split_once(':') {
        Some((head, _)) if head.contains('.') => {
            let (d, rest) = t.split_once('.')?;
            (d.parse::<i64>().ok()?, rest)
        }
        Some(_) => (0, t),
        None => (t.parse::<i64>().ok()?, "00:00"),
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    let parts: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse::<i64>().ok())
        .collect::<Option<_>>()?;
    let (h, m, s) = match parts.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&s) {
        return None;
    }
    let frac_nanos = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 7 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<i64>().ok()? * 10i64.pow(9 - f.len() as u32)
        }
        Some(_) => return None,
    };
    let total = days
        .checked_mul(NANOS_PER_DAY)?
        .checked_add((h * 3600 + m * 60 + s) * 1_000_000_000 + frac_nanos)?;
    Some(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        parse_datetime(s).expect("test datetime")
    }

    // datetime-diff-function page examples.
    #[test]
    fn diffs() {
        assert_eq!(
            datetime_diff("year", at("2017-01-01"), at("2000-12-31")),
            Some(17)
        );
        assert_eq!(
            datetime_diff("quarter", at("2017-07-01"), at("2017-03-30")),
            Some(2)
        );
        assert_eq!(
            datetime_diff("month", at("2017-01-01"), at("2015-12-30")),
            Some(13)
        );
        assert_eq!(
            datetime_diff("week", at("2017-10-29 00:00"), at("2017-09-30 23:59")),
            Some(5)
        );
        assert_eq!(
            datetime_diff("day", at("2017-10-29 00:00"), at("2017-09-30 23:59")),
            Some(29)
        );
        assert_eq!(
            datetime_diff("hour", at("2017-10-31 01:00"), at("2017-10-30 23:59")),
            Some(2)
        );
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("01:30:00"), Some(5_400_000_000_000));
        assert_eq!(parse_timespan("2.00:00:00"), Some(2 * NANOS_PER_DAY));
        assert_eq!(parse_timespan("nope"), None);
    }

    #[test]
    fn week_starts_sunday() {
        // 2017-10-29 was a Sunday.
        let s = start_of_one(at("2017-11-01 10:00"), Unit::Week, 0, false);
        assert_eq!(s, Some(at("2017-10-29")));
    }
}
