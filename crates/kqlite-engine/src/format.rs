//! KQL's text forms of datetime and timespan values, as the command line
//! contract (CLI.md) prints them.

const NANOS_PER_TICK: i64 = 100;
const TICKS_PER_SECOND: i64 = 10_000_000;

/// A datetime (nanoseconds since the Unix epoch, UTC) as ISO 8601 with up to
/// seven fractional digits (KQL's 100 ns ticks): `2024-01-01T00:00:00Z`,
/// `2024-01-01T10:00:00.1234567Z`.
pub fn datetime(nanos: i64) -> String {
    let mut out = Vec::with_capacity(28);
    write_datetime(nanos, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`datetime`] appended to a byte buffer, without allocating.
pub fn write_datetime(nanos: i64, out: &mut Vec<u8>) {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    let (year, month, day) = civil_date(secs.div_euclid(86_400));
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(format!("{nanos}ns").as_bytes());
        return;
    }
    let second_of_day = secs.rem_euclid(86_400) as u32;
    let year = year as u32;
    let two = |v: u32| [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8];
    let (m, d, h, mi, s) = (
        two(month),
        two(day),
        two(second_of_day / 3600),
        two(second_of_day / 60 % 60),
        two(second_of_day % 60),
    );
    out.extend_from_slice(&[
        b'0' + (year / 1000) as u8,
        b'0' + (year / 100 % 10) as u8,
        b'0' + (year / 10 % 10) as u8,
        b'0' + (year % 10) as u8,
        b'-',
        m[0],
        m[1],
        b'-',
        d[0],
        d[1],
        b'T',
        h[0],
        h[1],
        b':',
        mi[0],
        mi[1],
        b':',
        s[0],
        s[1],
    ]);
    let ticks = sub / NANOS_PER_TICK;
    if ticks > 0 {
        let mut frac = [b'0'; 7];
        let mut t = ticks;
        for c in frac.iter_mut().rev() {
            *c = b'0' + (t % 10) as u8;
            t /= 10;
        }
        let keep = frac.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
        out.push(b'.');
        out.extend_from_slice(&frac[..keep]);
    }
    out.push(b'Z');
}

/// The proleptic Gregorian (year, month, day) of a day counted from
/// 1970-01-01, by whole 400-year cycles (146,097 days each) counted from
/// 0000-03-01, so that the leap day ends a year: within a cycle, the year
/// is the day less the leap days before it over 365, and months from March
/// are 153 days per five.
fn civil_date(days: i64) -> (i64, u32, u32) {
    // 0000-03-01 is 719,468 days before 1970-01-01.
    let z = days + 719_468;
    let cycle = z.div_euclid(146_097);
    let day_of_cycle = z.rem_euclid(146_097);
    let year_of_cycle = (day_of_cycle - day_of_cycle / 1_460 + day_of_cycle / 36_524
        - day_of_cycle / 146_096)
        / 365;
    let day_of_year =
        day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_cycle + cycle * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A timespan (nanoseconds) in Kusto's form `[-][d.]hh:mm:ss[.fffffff]`:
/// `01:30:00`, `2.00:00:00`, `00:00:00.1000000`.
pub fn timespan(nanos: i64) -> String {
    let neg = nanos < 0;
    let ticks = (i128::from(nanos) / i128::from(NANOS_PER_TICK)).unsigned_abs();
    let tps = TICKS_PER_SECOND as u128;
    let frac = ticks % tps;
    let total_secs = ticks / tps;
    let (days, rem) = (total_secs / 86_400, total_secs % 86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

/// A real as KQL's `tostring` prints it: integral values without a
/// fraction (`1`, not `1.0`), NaN and infinities by name, else the shortest
/// text that reads back to the same value.
pub fn real(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;

    #[test]
    fn datetimes() {
        // CLI.md: "2024-01-01T00:00:00Z", "2024-01-01T10:00:00.1234567Z".
        assert_eq!(datetime(1_704_067_200 * SEC), "2024-01-01T00:00:00Z");
        assert_eq!(
            datetime(1_704_067_200 * SEC + 10 * 3600 * SEC + 123_456_700),
            "2024-01-01T10:00:00.1234567Z"
        );
        assert_eq!(
            datetime(1_704_067_200 * SEC + 500_000_000),
            "2024-01-01T00:00:00.5Z"
        );
        assert_eq!(datetime(-SEC), "1969-12-31T23:59:59Z");
        // The digit writer agrees with chrono's formatter across the range
        // kqlite holds (1677..2262), fractions included.
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x % (9_000_000_000 * SEC);
            let by_chrono = {
                let dt = chrono::DateTime::from_timestamp(n.div_euclid(SEC), 0).unwrap();
                let ticks = n.rem_euclid(SEC) / 100;
                let base = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
                if ticks == 0 {
                    format!("{base}Z")
                } else {
                    format!("{base}.{}Z", format!("{ticks:07}").trim_end_matches('0'))
                }
            };
            assert_eq!(datetime(n), by_chrono, "{n}");
        }
    }

    #[test]
    fn civil_dates_agree_with_chrono_every_day() {
        // Every day from 0000-01-01 to 9999-12-31 and a little beyond
        // (leap years by the 4/100/400 rule, year 0 a leap year).
        use chrono::{Datelike, NaiveDate};
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in -719_600..2_932_900i64 {
            let want = epoch + chrono::Duration::days(days);
            let got = civil_date(days);
            assert_eq!(
                got,
                (i64::from(want.year()), want.month(), want.day()),
                "{days}"
            );
        }
    }

    #[test]
    fn timespans() {
        // CLI.md: "01:30:00", "2.00:00:00".
        assert_eq!(timespan(90 * 60 * SEC), "01:30:00");
        assert_eq!(timespan(2 * 86_400 * SEC), "2.00:00:00");
        assert_eq!(timespan(SEC / 10), "00:00:00.1000000");
        assert_eq!(timespan(-(86_400 + 3661) * SEC), "-1.01:01:01");
        assert_eq!(timespan(0), "00:00:00");
    }
}
