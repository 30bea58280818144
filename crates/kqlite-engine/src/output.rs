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
                let mut buf = Vec::new();
                for (i, c) in self.columns.iter().enumerate() {
                    if i > 0 {
                        buf.push(b',');
                    }
                    csv_field(&c.name, &mut buf);
                }
                buf.push(b'\n');
                w.write_all(&buf).map_err(io)
            }
        }
    }

    pub fn write(
        &mut self,
        batch: &datafusion::arrow::record_batch::RecordBatch,
        w: &mut dyn Write,
    ) -> Result<()> {
        let mut buf = Vec::with_capacity(1 << 16);
        self.encode(batch, &mut buf)?;
        w.write_all(&buf).map_err(io)
    }

    /// Encodes a batch's rows onto `buf`.
    pub fn encode(
        &mut self,
        batch: &datafusion::arrow::record_batch::RecordBatch,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| normalised(batch.column(i), c.ty))
            .collect::<Result<_>>()?;
        let cols: Vec<Typed> = arrays
            .iter()
            .zip(&self.columns)
            .map(|(a, c)| Typed::of(a, c.ty))
            .collect();
        // CSV writes null and "" alike, as an empty field: a column of
        // only those (common in wide Sentinel tables) is not looked at
        // per row.
        let empty: Vec<bool> = cols
            .iter()
            .zip(&arrays)
            .map(|(c, a)| {
                self.encoding == Encoding::Csv
                    && (a.null_count() == a.len()
                        || matches!(c, Typed::Text(t, _) if t.value_data().is_empty()))
            })
            .collect();
        for row in 0..batch.num_rows() {
            match self.encoding {
                Encoding::Json | Encoding::Ndjson => {
                    if self.encoding == Encoding::Json && self.rows > 0 {
                        buf.push(b',');
                    }
                    buf.push(b'{');
                    for (i, c) in cols.iter().enumerate() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        buf.extend_from_slice(self.keys[i].as_bytes());
                        c.json(row, buf)?;
                    }
                    buf.push(b'}');
                    if self.encoding == Encoding::Ndjson {
                        buf.push(b'\n');
                    }
                }
                Encoding::Csv => {
                    for (i, c) in cols.iter().enumerate() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        if !empty[i] {
                            c.csv(row, buf)?;
                        }
                    }
                    buf.push(b'\n');
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

/// A result column, downcast once per batch.
enum Typed<'a> {
    /// string, guid or dynamic JSON text (the KQL type says which).
    Text(&'a datafusion::arrow::array::StringArray, ScalarType),
    Long(&'a Int64Array),
    Int(&'a Int32Array),
    Real(&'a Float64Array),
    Bool(&'a BooleanArray),
    Time(&'a TimestampNanosecondArray),
    /// Anything else, through the general cell conversion.
    Other(&'a ArrayRef, ScalarType),
}

impl<'a> Typed<'a> {
    fn of(a: &'a ArrayRef, ty: ScalarType) -> Typed<'a> {
        let any = a.as_any();
        let typed = match ty {
            ScalarType::String | ScalarType::Guid | ScalarType::Dynamic => any
                .downcast_ref::<datafusion::arrow::array::StringArray>()
                .map(|x| Typed::Text(x, ty)),
            ScalarType::Long => any.downcast_ref::<Int64Array>().map(Typed::Long),
            ScalarType::Int => any.downcast_ref::<Int32Array>().map(Typed::Int),
            ScalarType::Real => any.downcast_ref::<Float64Array>().map(Typed::Real),
            ScalarType::Bool => any.downcast_ref::<BooleanArray>().map(Typed::Bool),
            ScalarType::DateTime => any
                .downcast_ref::<TimestampNanosecondArray>()
                .map(Typed::Time),
            _ => None,
        };
        typed.unwrap_or(Typed::Other(a, ty))
    }

    fn is_null(&self, row: usize) -> bool {
        match self {
            Typed::Text(a, _) => a.is_null(row),
            Typed::Long(a) => a.is_null(row),
            Typed::Int(a) => a.is_null(row),
            Typed::Real(a) => a.is_null(row),
            Typed::Bool(a) => a.is_null(row),
            Typed::Time(a) => a.is_null(row),
            Typed::Other(a, _) => a.is_null(row),
        }
    }

    /// One value as JSON. Dynamic values are stored as compact JSON text
    /// (types.rs), so they are written as they are.
    fn json(&self, row: usize, buf: &mut Vec<u8>) -> Result<()> {
        if self.is_null(row) {
            let none: &[u8] = match self {
                // KQL strings are never null; a null guid is null.
                Typed::Text(_, ScalarType::String) => b"\"\"",
                _ => b"null",
            };
            buf.extend_from_slice(none);
            return Ok(());
        }
        match self {
            Typed::Text(a, ScalarType::Dynamic) => buf.extend_from_slice(a.value(row).as_bytes()),
            Typed::Text(a, _) => serde_json::to_writer(&mut *buf, a.value(row)).map_err(io)?,
            Typed::Long(a) => write_integer(a.value(row), buf),
            Typed::Int(a) => write_integer(a.value(row), buf),
            Typed::Bool(a) => buf.extend_from_slice(if a.value(row) { b"true" } else { b"false" }),
            Typed::Time(a) => {
                buf.push(b'"');
                format::write_datetime(a.value(row), buf);
                buf.push(b'"');
            }
            Typed::Real(a) => real_json(a.value(row), buf)?,
            Typed::Other(a, ty) => {
                serde_json::to_writer(&mut *buf, &cell(a, row, *ty)?).map_err(io)?
            }
        }
        Ok(())
    }

    /// One value as a CSV field (quoted when it must be).
    fn csv(&self, row: usize, buf: &mut Vec<u8>) -> Result<()> {
        if self.is_null(row) {
            return Ok(());
        }
        match self {
            Typed::Text(a, ScalarType::Dynamic) => {
                let s = a.value(row);
                if s.starts_with('"') {
                    // A string value: its text, unquoted.
                    let v: String = serde_json::from_str(s)
                        .map_err(|e| Error::Execution(format!("invalid dynamic value: {e}")))?;
                    csv_field(&v, buf);
                } else {
                    csv_field(s, buf);
                }
            }
            Typed::Text(a, _) => csv_field(a.value(row), buf),
            Typed::Long(a) => write_integer(a.value(row), buf),
            Typed::Int(a) => write_integer(a.value(row), buf),
            Typed::Bool(a) => buf.extend_from_slice(if a.value(row) { b"true" } else { b"false" }),
            Typed::Time(a) => format::write_datetime(a.value(row), buf),
            Typed::Real(a) => {
                let v = a.value(row);
                if v.is_finite() {
                    real_json(v, buf)?;
                } else {
                    csv_field(&text(&cell_real(v)), buf);
                }
            }
            Typed::Other(a, ty) => csv_field(&text(&cell(a, row, *ty)?), buf),
        }
        Ok(())
    }
}

/// A real as JSON: a number, or "NaN" / "Infinity" / "-Infinity".
fn real_json(v: f64, buf: &mut Vec<u8>) -> Result<()> {
    serde_json::to_writer(&mut *buf, &cell_real(v)).map_err(io)
}

fn cell_real(v: f64) -> Value {
    match Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None if v.is_nan() => Value::String("NaN".into()),
        None if v > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

/// An integer's decimal digits (the same in JSON and CSV).
fn write_integer(v: impl itoa::Integer, buf: &mut Vec<u8>) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// RFC 4180: a field holding `,`, `"` or a line break is quoted, with
/// `"` doubled.
fn csv_field(s: &str, buf: &mut Vec<u8>) {
    let b = s.as_bytes();
    if !b.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        buf.extend_from_slice(b);
        return;
    }
    // Copied in runs between quotes (dynamic values are JSON text, full of
    // them), each quote doubled.
    buf.push(b'"');
    let mut from = 0;
    for q in memchr::memchr_iter(b'"', b) {
        buf.extend_from_slice(&b[from..=q]);
        buf.push(b'"');
        from = q + 1;
    }
    buf.extend_from_slice(&b[from..]);
    buf.push(b'"');
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::Execution(format!("cannot write the result: {e}"))
}
