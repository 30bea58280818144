//! KQL's text forms of datetime and timespan values, as the command line
//! contract (CLI.md) prints them.

use chrono::DateTime;

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
    use chrono::{Datelike, Timelike};
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    let dt = match DateTime::from_timestamp(secs, 0) {
        Some(dt) if (0..=9999).contains(&dt.year()) => dt,
        _ => {
            out.extend_from_slice(format!("{nanos}ns").as_bytes());
            return;
        }
    };
    let year = dt.year() as u32;
    let two = |v: u32| [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8];
    let (m, d, h, mi, s) = (
        two(dt.month()),
        two(dt.day()),
        two(dt.hour()),
        two(dt.minute()),
        two(dt.second()),
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
                let dt = DateTime::from_timestamp(n.div_euclid(SEC), 0).unwrap();
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
    fn timespans() {
        // CLI.md: "01:30:00", "2.00:00:00".
        assert_eq!(timespan(90 * 60 * SEC), "01:30:00");
        assert_eq!(timespan(2 * 86_400 * SEC), "2.00:00:00");
        assert_eq!(timespan(SEC / 10), "00:00:00.1000000");
        assert_eq!(timespan(-(86_400 + 3661) * SEC), "-1.01:01:01");
        assert_eq!(timespan(0), "00:00:00");
    }
}
