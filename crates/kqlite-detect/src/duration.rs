//! Durations as rule files write them.
//!
//! The Azure-Sentinel repository's template validation
//! (`.script/tests/detectionTemplateSchemaValidation/Models/ScheduledTemplateTimeSpanConverter.cs`)
//! reads `queryFrequency` / `queryPeriod` first as a .NET `TimeSpan`
//! (`hh:mm:ss`, `d.hh:mm:ss`), and otherwise as a whole number followed by
//! `m`, `h` or `d` (`5m`, `1h`, `14d`). ARM templates and the REST API write
//! the same fields as ISO 8601 durations (`PT5M`, `PT1H`, `P1D`: "The frequency
//! (in ISO 8601 duration format) for this alert rule to run", ScheduledAlertRule
//! .QueryFrequency). All three forms are read here.

use std::fmt;

/// A non-negative length of time, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    seconds: i64,
}

impl Duration {
    pub const fn from_seconds(seconds: i64) -> Duration {
        Duration { seconds }
    }

    pub const fn from_minutes(minutes: i64) -> Duration {
        Duration {
            seconds: minutes * 60,
        }
    }

    pub const fn from_hours(hours: i64) -> Duration {
        Duration {
            seconds: hours * 3600,
        }
    }

    pub const fn from_days(days: i64) -> Duration {
        Duration {
            seconds: days * 86_400,
        }
    }

    pub const fn seconds(self) -> i64 {
        self.seconds
    }

    /// Parses `5m`, `1h`, `14d`, `PT1H`, `P1DT2H`, `P2W`, `01:00:00`,
    /// `1.00:00:00`. `None` when the text is none of these.
    pub fn parse(text: &str) -> Option<Duration> {
        let text = text.trim();
        short_form(text)
            .or_else(|| iso_8601(text))
            .or_else(|| time_span(text))
    }
}

/// `<whole number><m|h|d>`, as the repository's converter reads it.
fn short_form(text: &str) -> Option<Duration> {
    let unit = text.chars().last()?;
    let number = &text[..text.len() - unit.len_utf8()];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = number.parse().ok()?;
    let seconds = match unit {
        'm' => n.checked_mul(60)?,
        'h' => n.checked_mul(3600)?,
        'd' => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_seconds(seconds))
}

/// ISO 8601 durations with whole numbers: `P[nW][nD][T[nH][nM][nS]]`.
/// Years and months have no fixed length and are refused.
fn iso_8601(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix(['P', 'p'])?;
    if rest.is_empty() {
        return None;
    }
    let mut seconds: i64 = 0;
    let mut in_time = false;
    let mut number = String::new();
    let mut any = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' | 't' if number.is_empty() && !in_time => in_time = true,
            _ => {
                if number.is_empty() {
                    return None;
                }
                let n: i64 = number.parse().ok()?;
                number.clear();
                let unit = match (in_time, c.to_ascii_uppercase()) {
                    (false, 'W') => 7 * 86_400,
                    (false, 'D') => 86_400,
                    (true, 'H') => 3600,
                    (true, 'M') => 60,
                    (true, 'S') => 1,
                    _ => return None,
                };
                seconds = seconds.checked_add(n.checked_mul(unit)?)?;
                any = true;
            }
        }
    }
    (any && number.is_empty()).then_some(Duration::from_seconds(seconds))
}

/// .NET `TimeSpan` text: `[d.]hh:mm[:ss]`.
fn time_span(text: &str) -> Option<Duration> {
    let (days, clock) = match text.split_once('.') {
        Some((d, clock)) if clock.contains(':') => (d.parse::<i64>().ok()?, clock),
        Some(_) => return None,
        None => (0, text),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut values = [0i64; 3];
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        values[i] = part.parse().ok()?;
    }
    let [h, m, s] = values;
    if h > 23 || m > 59 || s > 59 || days < 0 {
        return None;
    }
    Some(Duration::from_seconds(
        days * 86_400 + h * 3600 + m * 60 + s,
    ))
}

impl fmt::Display for Duration {
    /// The shortest of the rule-file forms that says it exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s != 0 && s % 86_400 == 0 {
            write!(f, "{}d", s / 86_400)
        } else if s != 0 && s % 3600 == 0 {
            write!(f, "{}h", s / 3600)
        } else if s % 60 == 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(Duration::parse("5m"), Some(Duration::from_minutes(5)));
        assert_eq!(Duration::parse("1h"), Some(Duration::from_hours(1)));
        assert_eq!(Duration::parse("24h"), Some(Duration::from_days(1)));
        assert_eq!(Duration::parse("14d"), Some(Duration::from_days(14)));
        assert_eq!(Duration::parse("5x"), None);
        assert_eq!(Duration::parse("m"), None);
        assert_eq!(Duration::parse("-5m"), None);
        assert_eq!(Duration::parse("1.5h"), None);
    }

    #[test]
    fn iso_forms() {
        assert_eq!(Duration::parse("PT1H"), Some(Duration::from_hours(1)));
        assert_eq!(Duration::parse("PT5M"), Some(Duration::from_minutes(5)));
        assert_eq!(Duration::parse("P1D"), Some(Duration::from_days(1)));
        assert_eq!(Duration::parse("P1DT2H"), Some(Duration::from_hours(26)));
        assert_eq!(Duration::parse("P2W"), Some(Duration::from_days(14)));
        assert_eq!(Duration::parse("P1M"), None, "months have no fixed length");
        assert_eq!(Duration::parse("PT"), None);
        assert_eq!(Duration::parse("P"), None);
        assert_eq!(Duration::parse("PT1"), None);
    }

    #[test]
    fn time_span_forms() {
        assert_eq!(Duration::parse("00:05:00"), Some(Duration::from_minutes(5)));
        assert_eq!(
            Duration::parse("14.00:00:00"),
            Some(Duration::from_days(14))
        );
        assert_eq!(Duration::parse("01:30"), Some(Duration::from_minutes(90)));
        assert_eq!(Duration::parse("25:00:00"), None);
    }

    #[test]
    fn display() {
        assert_eq!(Duration::from_minutes(90).to_string(), "90m");
        assert_eq!(Duration::from_days(14).to_string(), "14d");
        assert_eq!(Duration::from_hours(5).to_string(), "5h");
        assert_eq!(Duration::from_seconds(0).to_string(), "0m");
    }
}
