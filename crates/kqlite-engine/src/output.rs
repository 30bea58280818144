//! Result encodings of the command-line contract (CLI.md): JSON, NDJSON, CSV
//! and a text table, with KQL's value forms (datetimes with up to 7
//! fractional digits, timespans as `[d.]hh:mm:ss[.fffffff]`, dynamic as the
//! JSON value itself, strings never null).

use crate::error::{Error, Result};
use crate::format;
use crate::session::QueryResult;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array,
    Int64Array, TimestampNanosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use kqlite_syntax::ast::ScalarType;
use serde_json::{Map, Number, Value};
use std::io::Write;

/// One cell as KQL shows it.
fn cell(array: &ArrayRef, row: usize, ty: ScalarType) -> Result<Value> {
    if array.is_null(row) {
        return Ok(match ty {
            ScalarType::String => Value::String(String::new()),
            _ => Value::Null,
        });
    }
    let bad = || {
        Error::Execution(format!(
            "unexpected {} column for KQL type {}",
            array.data_type(),
            ty.name()
        ))
    };
    Ok(match ty {
        ScalarType::Bool => Value::Bool(
            array
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(bad)?
                .value(row),
        ),
        ScalarType::Int => Value::from(
            array
                .as_any()
                .downcast_ref::<Int32Array>()
                .ok_or_else(bad)?
                .value(row),
        ),
        ScalarType::Long => Value::from(
            array
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(bad)?
                .value(row),
        ),
        ScalarType::Real => {
            let v = array
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(bad)?
                .value(row);
            match Number::from_f64(v) {
                Some(n) => Value::Number(n),
                None if v.is_nan() => Value::String("NaN".into()),
                None if v > 0.0 => Value::String("Infinity".into()),
                None => Value::String("-Infinity".into()),
            }
        }
        ScalarType::DateTime => {
            let a = array
                .as_any()
                .downcast_ref::<TimestampNanosecondArray>()
                .ok_or_else(bad)?;
            Value::String(format::datetime(a.value(row)))
        }
        ScalarType::Timespan => {
            let a = array
                .as_any()
                .downcast_ref::<DurationNanosecondArray>()
                .ok_or_else(bad)?;
            Value::String(format::timespan(a.value(row)))
        }
        ScalarType::String | ScalarType::Guid => {
            Value::String(string_value(array, row).ok_or_else(bad)?)
        }
        ScalarType::Dynamic => {
            let text = string_value(array, row).ok_or_else(bad)?;
            serde_json::from_str(&text)
                .map_err(|e| Error::Execution(format!("invalid dynamic value: {e}")))?
        }
        ScalarType::Decimal => {
            let text = cast(&array.slice(row, 1), &DataType::Utf8)
                .map_err(|e| Error::Execution(e.to_string()))?;
            Value::String(text.as_string::<i32>().value(0).to_string())
        }
    })
}

fn string_value(array: &ArrayRef, row: usize) -> Option<String> {
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Some(array.as_string_view().value(row).to_string()),
        _ => None,
    }
}

/// Arrays as the engine expects them for each KQL type (e.g. a timestamp
/// with another unit is normalised to nanoseconds).
fn normalised(array: &ArrayRef, ty: ScalarType) -> Result<ArrayRef> {
    let want = match ty {
        ScalarType::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        ScalarType::Timespan => DataType::Duration(TimeUnit::Nanosecond),
        _ => return Ok(array.clone()),
    };
    if array.data_type() == &want {
        return Ok(array.clone());
    }
    cast(array, &want).map_err(|e| Error::Execution(e.to_string()))
}

/// Every row as (column name, value) pairs, in column order.
pub fn rows(result: &QueryResult) -> Result<Vec<Vec<(String, Value)>>> {
    let mut out = Vec::with_capacity(result.row_count());
    for batch in &result.batches {
        let arrays: Vec<ArrayRef> = result
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| normalised(batch.column(i), c.ty))
            .collect::<Result<_>>()?;
        for row in 0..batch.num_rows() {
            let mut r = Vec::with_capacity(arrays.len());
            for (a, c) in arrays.iter().zip(&result.columns) {
                r.push((c.name.clone(), cell(a, row, c.ty)?));
            }
            out.push(r);
        }
    }
    Ok(out)
}

fn object(row: Vec<(String, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in row {
        m.insert(k, v);
    }
    Value::Object(m)
}

/// `-o json`: one JSON array of row objects, keys in column order.
pub fn write_json(result: &QueryResult, w: &mut dyn Write) -> Result<()> {
    let rows: Vec<Value> = rows(result)?.into_iter().map(object).collect();
    serde_json::to_writer(&mut *w, &Value::Array(rows)).map_err(io)?;
    writeln!(w).map_err(io)
}

/// `-o ndjson`: one object per line.
pub fn write_ndjson(result: &QueryResult, w: &mut dyn Write) -> Result<()> {
    for row in rows(result)? {
        serde_json::to_writer(&mut *w, &object(row)).map_err(io)?;
        writeln!(w).map_err(io)?;
    }
    Ok(())
}

/// A cell as CSV/table text: strings as-is, dynamic as compact JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `-o csv`: a header row, then values (RFC 4180 quoting).
pub fn write_csv(result: &QueryResult, w: &mut dyn Write) -> Result<()> {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let header: Vec<String> = result.columns.iter().map(|c| quote(&c.name)).collect();
    writeln!(w, "{}", header.join(",")).map_err(io)?;
    for row in rows(result)? {
        let cells: Vec<String> = row.iter().map(|(_, v)| quote(&text(v))).collect();
        writeln!(w, "{}", cells.join(",")).map_err(io)?;
    }
    Ok(())
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::Execution(format!("cannot write the result: {e}"))
}
