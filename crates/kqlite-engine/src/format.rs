//! KQL's text forms of datetime and timespan values, as the command line
//! contract (CLI.md) prints them.

use chrono::DateTime;

const NANOS_PER_TICK: i64 = 100;
const TICKS_PER_SECOND: i64 = 10_000_000;

/// A datetime (nanoseconds since the Unix epoch, UTC) as ISO 8601 with up to
/// seven fractional digits (KQL's 100 ns ticks): `2024-01-01T00:00:00Z`,
/// `2024-01-01T10:00:00.1234567Z`.
pub fn datetime(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    let Some(dt) = DateTime::from_timestamp(secs, 0) else {
        return format!("{nanos}ns");
    };
    let base = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    let ticks = sub / NANOS_PER_TICK;
    if ticks == 0 {
        return format!("{base}Z");
    }
    let frac = format!("{ticks:07}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
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
