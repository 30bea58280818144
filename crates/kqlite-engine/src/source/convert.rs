//! Typed column building from exported values (JSON values or CSV text), by
//! the table schema: the one place where exported data enters the engine.
//!
//! FORMATS.md rules: strings are never null (absent or null -> ""); datetimes
//! are ISO 8601 with 0..7 fractional digits (zone optional, UTC assumed);
//! numbers never silently become datetimes; booleans are true/false in any
//! case or 1/0; dynamic columns take nested JSON or JSON text alike, and ""
//! stays an empty string value. A value that does not fit its column is an
//! error naming the place, never a silent null.

use crate::datetime::parse_datetime;
use crate::functions::time::parse_timespan;
use crate::schema::Column;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array, Int64Array,
    StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::record_batch::RecordBatch;
use kqlite_syntax::ast::ScalarType;
use serde_json::Value;
use std::sync::Arc;

/// Rows per Arrow batch.
pub(crate) const BATCH_ROWS: usize = 8192;

enum Values {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i32>>),
    Long(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    Time(Vec<Option<i64>>),
    Span(Vec<Option<i64>>),
}

/// Collects rows for a list of columns and emits record batches.
pub(crate) struct TableBuilder {
    pub columns: Vec<Column>,
    values: Vec<Values>,
    rows: usize,
    pub batches: Vec<RecordBatch>,
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_blank(v: &Value) -> bool {
    matches!(v, Value::Null) || matches!(v, Value::String(s) if s.is_empty())
}

/// A value for a column of type `ty`, or why it does not fit.
fn check<T>(v: Option<T>, ty: ScalarType, raw: &Value) -> Result<Option<T>, String> {
    match v {
        Some(x) => Ok(Some(x)),
        None => Err(format!(
            "`{}` is not a {}",
            truncate(&json_text(raw)),
            ty.name()
        )),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

fn to_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn to_real(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim() {
            "NaN" => Some(f64::NAN),
            "Infinity" | "+Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            t => t.parse().ok(),
        },
        _ => None,
    }
}

fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => {
            let t = s.trim();
            if t.eq_ignore_ascii_case("true") || t == "1" {
                Some(true)
            } else if t.eq_ignore_ascii_case("false") || t == "0" {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Dynamic: nested JSON as is; a string holding a JSON object or array is
/// that value; any other string is a string value.
pub(crate) fn to_dynamic(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => {
            let t = s.trim_start();
            if (t.starts_with('{') || t.starts_with('['))
                && let Ok(parsed) = serde_json::from_str::<Value>(s)
            {
                return Some(parsed.to_string());
            }
            Some(v.to_string())
        }
        other => Some(other.to_string()),
    }
}

impl Values {
    fn truncate(&mut self, len: usize) {
        match self {
            Values::Bool(v) => v.truncate(len),
            Values::Int(v) => v.truncate(len),
            Values::Long(v) | Values::Time(v) | Values::Span(v) => v.truncate(len),
            Values::Real(v) => v.truncate(len),
            Values::Text(v) => v.truncate(len),
        }
    }
}

impl TableBuilder {
    pub fn new(columns: Vec<Column>) -> Result<TableBuilder, String> {
        let values = columns
            .iter()
            .map(|c| {
                Ok(match c.ty {
                    ScalarType::Bool => Values::Bool(Vec::new()),
                    ScalarType::Int => Values::Int(Vec::new()),
                    ScalarType::Long => Values::Long(Vec::new()),
                    ScalarType::Real => Values::Real(Vec::new()),
                    ScalarType::String | ScalarType::Guid | ScalarType::Dynamic => {
                        Values::Text(Vec::new())
                    }
                    ScalarType::DateTime => Values::Time(Vec::new()),
                    ScalarType::Timespan => Values::Span(Vec::new()),
                    ScalarType::Decimal => {
                        return Err(format!(
                            "column `{}`: decimal columns are not supported yet",
                            c.name
                        ));
                    }
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(TableBuilder {
            columns,
            values,
            rows: 0,
            batches: Vec::new(),
        })
    }

    /// Adds one row; `get(i)` is column i's value (None when absent). The
    /// error names the column; a row that fails is not added.
    pub fn push<'v>(&mut self, get: impl Fn(usize) -> Option<&'v Value>) -> Result<(), String> {
        const NULL: Value = Value::Null;
        let mut failed = None;
        for (i, (col, vals)) in self.columns.iter().zip(self.values.iter_mut()).enumerate() {
            let raw = get(i).unwrap_or(&NULL);
            let ty = col.ty;
            let r: Result<(), String> = (|| {
                match vals {
                    Values::Text(v) => v.push(match ty {
                        ScalarType::Dynamic => to_dynamic(raw),
                        ScalarType::Guid if is_blank(raw) => None,
                        _ if matches!(raw, Value::Null) => Some(String::new()),
                        _ => Some(json_text(raw)),
                    }),
                    _ if is_blank(raw) => match vals {
                        Values::Bool(v) => v.push(None),
                        Values::Int(v) => v.push(None),
                        Values::Long(v) | Values::Time(v) | Values::Span(v) => v.push(None),
                        Values::Real(v) => v.push(None),
                        Values::Text(_) => {}
                    },
                    Values::Bool(v) => v.push(check(to_bool(raw), ty, raw)?),
                    Values::Int(v) => v.push(check(
                        to_long(raw).and_then(|x| i32::try_from(x).ok()),
                        ty,
                        raw,
                    )?),
                    Values::Long(v) => v.push(check(to_long(raw), ty, raw)?),
                    Values::Real(v) => v.push(check(to_real(raw), ty, raw)?),
                    Values::Time(v) => {
                        let t = match raw {
                            Value::String(s) => {
                                parse_datetime(s).or_else(|| parse_portal_datetime(s))
                            }
                            _ => None,
                        };
                        if let (None, Value::String(s)) = (t, raw)
                            && crate::datetime::out_of_range(s)
                        {
                            return Err(format!(
                                "`{}` is outside the datetimes kqlite can hold (years 1677-2262)",
                                truncate(s)
                            ));
                        }
                        v.push(check(t, ty, raw)?)
                    }
                    Values::Span(v) => {
                        let t = match raw {
                            Value::String(s) => parse_timespan(s),
                            _ => None,
                        };
                        v.push(check(t, ty, raw)?)
                    }
                }
                Ok(())
            })();
            if let Err(e) = r {
                failed = Some(format!("column `{}`: {e}", col.name));
                break;
            }
        }
        if let Some(e) = failed {
            // Leave the columns as they were before this row.
            let rows = self.rows;
            for v in self.values.iter_mut() {
                v.truncate(rows);
            }
            return Err(e);
        }
        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .values
            .iter_mut()
            .map(|v| -> ArrayRef {
                match v {
                    Values::Bool(x) => Arc::new(BooleanArray::from(std::mem::take(x))),
                    Values::Int(x) => Arc::new(Int32Array::from(std::mem::take(x))),
                    Values::Long(x) => Arc::new(Int64Array::from(std::mem::take(x))),
                    Values::Real(x) => Arc::new(Float64Array::from(std::mem::take(x))),
                    Values::Text(x) => Arc::new(StringArray::from(std::mem::take(x))),
                    Values::Time(x) => Arc::new(
                        TimestampNanosecondArray::from(std::mem::take(x)).with_timezone("UTC"),
                    ),
                    Values::Span(x) => Arc::new(DurationNanosecondArray::from(std::mem::take(x))),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.arrow_schema(), arrays).map_err(|e| e.to_string())?;
        self.batches.push(batch);
        self.rows = 0;
        Ok(())
    }

    pub fn arrow_schema(&self) -> Arc<datafusion::arrow::datatypes::Schema> {
        crate::types::arrow_schema(&self.columns)
    }

    pub fn finish(mut self) -> Result<(Vec<Column>, Vec<RecordBatch>), String> {
        self.flush()?;
        Ok((self.columns, self.batches))
    }
}

/// The Log Analytics portal's CSV datetime form, `M/D/YYYY, h:mm:ss.fff AM`
/// (12-hour clock, no leading zeros needed, 0..7 fractional digits, UTC as
/// the ` [UTC]` header says): nanoseconds since the epoch.
pub(crate) fn parse_portal_datetime(text: &str) -> Option<i64> {
    let (date, time) = text.trim().split_once(", ")?;
    let mut d = date.split('/');
    let (month, day, year) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || year.len() != 4 {
        return None;
    }
    let num = |s: &str| -> Option<u32> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let year: i32 = year.parse().ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, num(month)?, num(day)?)?;
    let (clock, half) = time.trim().rsplit_once(' ')?;
    let pm = if half.eq_ignore_ascii_case("PM") {
        true
    } else if half.eq_ignore_ascii_case("AM") {
        false
    } else {
        return None;
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) => (a, f),
        None => (clock, ""),
    };
    let mut parts = hms.split(':');
    let (h, m, s) = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&h) {
        return None;
    }
    let hour = match (h, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, false) => h,
        (h, true) => h + 12,
    };
    let nanos: i64 = if frac.is_empty() {
        0
    } else {
        if frac.len() > 7 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        frac.parse::<i64>().ok()? * 10i64.pow(9 - frac.len() as u32)
    };
    let t = date.and_hms_opt(hour, m, s)?.and_utc();
    t.timestamp().checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// The KQL type a column's sample values suggest, for tables without a
/// schema: bool, long, real, datetime (ISO text only), dynamic (objects and
/// arrays), else string.
pub(crate) fn infer(values: &[&Value]) -> ScalarType {
    let present: Vec<&&Value> = values.iter().filter(|v| !is_blank(v)).collect();
    if present.is_empty() {
        return ScalarType::String;
    }
    let all = |f: &dyn Fn(&Value) -> bool| present.iter().all(|v| f(v));
    if all(&|v| v.is_boolean()) {
        ScalarType::Bool
    } else if all(&|v| v.is_i64()) {
        ScalarType::Long
    } else if all(&|v| v.is_number()) {
        ScalarType::Real
    } else if all(&|v| v.is_object() || v.is_array()) {
        ScalarType::Dynamic
    } else if all(
        &|v| matches!(v, Value::String(s) if s.len() >= 10 && s.as_bytes()[4] == b'-' && parse_datetime(s).is_some()),
    ) {
        ScalarType::DateTime
    } else {
        ScalarType::String
    }
}

#[cfg(test)]
mod tests {
    use super::parse_portal_datetime;

    #[test]
    fn portal_datetimes() {
        // 2021-04-28T15:05:26Z is 1619622326 s after the epoch.
        assert_eq!(
            parse_portal_datetime("4/28/2021, 3:05:26.000 PM"),
            Some(1_619_622_326_000_000_000)
        );
        // 12 AM is midnight, 12 PM is noon.
        assert_eq!(
            parse_portal_datetime("1/1/2024, 12:00:00.500 AM"),
            Some(1_704_067_200_500_000_000)
        );
        assert_eq!(
            parse_portal_datetime("1/1/2024, 12:00:00 PM"),
            Some(1_704_067_200_000_000_000 + 12 * 3_600_000_000_000)
        );
        assert_eq!(parse_portal_datetime("13/1/2024, 1:00:00 PM"), None);
        assert_eq!(parse_portal_datetime("1/1/2024, 13:00:00 PM"), None);
        assert_eq!(parse_portal_datetime("1/1/2024 1:00:00 PM"), None);
    }
}
