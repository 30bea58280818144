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
use serde_json::{Number, Value};
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

/// `-o json`: one JSON array of row objects, keys in column order.
pub fn write_json(result: &QueryResult, w: &mut dyn Write) -> Result<()> {
    write_all(result, Encoding::Json, w)
}

/// `-o ndjson`: one object per line.
pub fn write_ndjson(result: &QueryResult, w: &mut dyn Write) -> Result<()> {
    write_all(result, Encoding::Ndjson, w)
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
    write_all(result, Encoding::Csv, w)
}

fn write_all(result: &QueryResult, encoding: Encoding, w: &mut dyn Write) -> Result<()> {
    let mut writer = BatchWriter::new(encoding, result.columns.clone());
    writer.begin(w)?;
    for b in &result.batches {
        writer.write(b, w)?;
    }
    writer.finish(w)
}

/// The machine-readable result encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Ndjson,
    Csv,
}

/// Writes a result batch by batch, as the query produces it, in one of
/// the [`Encoding`]s: each value is written straight from its Arrow array
/// (dynamic values from their stored JSON text) without building rows.
pub struct BatchWriter {
    encoding: Encoding,
    columns: Vec<crate::schema::Column>,
    /// `"Name":` of each column, JSON-escaped.
    keys: Vec<String>,
    rows: usize,
}

impl BatchWriter {
    pub fn new(encoding: Encoding, columns: Vec<crate::schema::Column>) -> BatchWriter {
        let keys = columns
            .iter()
            .map(|c| {
                let mut k = serde_json::to_string(&c.name).unwrap_or_else(|_| "\"\"".into());
                k.push(':');
                k
            })
            .collect();
        BatchWriter {
            encoding,
            columns,
            keys,
            rows: 0,
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn begin(&mut self, w: &mut dyn Write) -> Result<()> {
        match self.encoding {
            Encoding::Json => w.write_all(b"[").map_err(io),
            Encoding::Ndjson => Ok(()),
            Encoding::Csv => {
                let header: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| csv_quoted(&c.name).into_owned())
                    .collect();
                writeln!(w, "{}", header.join(",")).map_err(io)
            }
        }
    }

    pub fn write(
        &mut self,
        batch: &datafusion::arrow::record_batch::RecordBatch,
        w: &mut dyn Write,
    ) -> Result<()> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| normalised(batch.column(i), c.ty))
            .collect::<Result<_>>()?;
        let mut text = String::new();
        for row in 0..batch.num_rows() {
            match self.encoding {
                Encoding::Json | Encoding::Ndjson => {
                    if self.encoding == Encoding::Json && self.rows > 0 {
                        w.write_all(b",").map_err(io)?;
                    }
                    w.write_all(b"{").map_err(io)?;
                    for (i, (a, c)) in arrays.iter().zip(&self.columns).enumerate() {
                        if i > 0 {
                            w.write_all(b",").map_err(io)?;
                        }
                        w.write_all(self.keys[i].as_bytes()).map_err(io)?;
                        json_cell(a, row, c.ty, &mut text, w)?;
                    }
                    w.write_all(if self.encoding == Encoding::Ndjson {
                        b"}\n"
                    } else {
                        b"}"
                    })
                    .map_err(io)?;
                }
                Encoding::Csv => {
                    for (i, (a, c)) in arrays.iter().zip(&self.columns).enumerate() {
                        if i > 0 {
                            w.write_all(b",").map_err(io)?;
                        }
                        text.clear();
                        csv_cell(a, row, c.ty, &mut text)?;
                        w.write_all(csv_quoted(&text).as_bytes()).map_err(io)?;
                    }
                    w.write_all(b"\n").map_err(io)?;
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    pub fn finish(&mut self, w: &mut dyn Write) -> Result<()> {
        match self.encoding {
            Encoding::Json => w.write_all(b"]\n").map_err(io),
            Encoding::Ndjson | Encoding::Csv => Ok(()),
        }
    }
}

fn csv_quoted(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// The stored text of a dynamic value as JSON to write: as it is when it
/// is already in compact form, else re-encoded (and checked).
fn dynamic_json(text: &str) -> Result<std::borrow::Cow<'_, str>> {
    if crate::source::canonical_json(text.as_bytes()) {
        return Ok(text.into());
    }
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::Execution(format!("invalid dynamic value: {e}")))?;
    Ok(v.to_string().into())
}

/// One value as JSON.
fn json_cell(
    a: &ArrayRef,
    row: usize,
    ty: ScalarType,
    scratch: &mut String,
    w: &mut dyn Write,
) -> Result<()> {
    use std::fmt::Write as _;
    match ty {
        ScalarType::String | ScalarType::Guid if !a.is_null(row) => {
            let s = str_at(a, row).ok_or_else(|| unexpected(a, ty))?;
            serde_json::to_writer(&mut *w, s).map_err(io)
        }
        ScalarType::Dynamic if !a.is_null(row) => {
            let s = str_at(a, row).ok_or_else(|| unexpected(a, ty))?;
            w.write_all(dynamic_json(s)?.as_bytes()).map_err(io)
        }
        ScalarType::Long if !a.is_null(row) => {
            let v = a
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| unexpected(a, ty))?
                .value(row);
            scratch.clear();
            let _ = write!(scratch, "{v}");
            w.write_all(scratch.as_bytes()).map_err(io)
        }
        _ => {
            let v = cell(a, row, ty)?;
            serde_json::to_writer(&mut *w, &v).map_err(io)
        }
    }
}

/// One value as CSV text (before quoting).
fn csv_cell(a: &ArrayRef, row: usize, ty: ScalarType, out: &mut String) -> Result<()> {
    use std::fmt::Write as _;
    if a.is_null(row) {
        return Ok(());
    }
    match ty {
        ScalarType::String | ScalarType::Guid => {
            out.push_str(str_at(a, row).ok_or_else(|| unexpected(a, ty))?);
        }
        ScalarType::Dynamic => {
            let s = str_at(a, row).ok_or_else(|| unexpected(a, ty))?;
            if s.starts_with('"') {
                // A string value: its text, unquoted.
                let v: Value = serde_json::from_str(s)
                    .map_err(|e| Error::Execution(format!("invalid dynamic value: {e}")))?;
                out.push_str(&text(&v));
            } else {
                out.push_str(&dynamic_json(s)?);
            }
        }
        ScalarType::Long => {
            let v = a
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| unexpected(a, ty))?
                .value(row);
            let _ = write!(out, "{v}");
        }
        _ => out.push_str(&text(&cell(a, row, ty)?)),
    }
    Ok(())
}

fn str_at(a: &ArrayRef, row: usize) -> Option<&str> {
    match a.data_type() {
        DataType::Utf8 => Some(a.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(a.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(a.as_string_view().value(row)),
        _ => None,
    }
}

fn unexpected(a: &ArrayRef, ty: ScalarType) -> Error {
    Error::Execution(format!(
        "unexpected {} column for KQL type {}",
        a.data_type(),
        ty.name()
    ))
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::Execution(format!("cannot write the result: {e}"))
}
