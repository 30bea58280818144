//! Tables from exported files: JSON lines / JSON arrays, CSV and Parquet,
//! typed by the built-in schema of the table when there is one.
//!
//! JSON and CSV are read by kqlite itself rather than DataFusion's readers:
//! a `dynamic` column holds nested objects, arrays or numbers in one column,
//! which Arrow's JSON reader rejects for a text column, and every error must
//! name the file and line. Parquet is read with the Arrow Parquet reader.

mod convert;
mod csv;

use crate::error::{Error, Result};
use crate::schema::{self, Column, TableSchema};
use convert::TableBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use kqlite_syntax::ast::ScalarType;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// A table read from files.
#[derive(Debug)]
pub struct LoadedTable {
    pub schema: TableSchema,
    pub batches: Vec<RecordBatch>,
    /// Whether the types were inferred from the data (no schema known).
    pub inferred: bool,
}

impl LoadedTable {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

const EXTENSIONS: &[&str] = &["ndjson", "jsonl", "json", "csv", "parquet"];

/// The table name a file stands for: its name without the format extension.
pub fn table_name_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let ext = EXTENSIONS
        .iter()
        .find(|e| name.to_ascii_lowercase().ends_with(&format!(".{e}")))?;
    Some(name[..name.len() - ext.len() - 1].to_string())
}

fn data_error(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("{}: {msg}", path.display()))
}

/// Loads `-d PATH` or `-d NAME=PATH`: a file is one table; a directory is
/// one table (named by `NAME=` or by the directory when that is a known
/// table) of all its part files, or else one table per file.
pub fn load(name: Option<&str>, path: &Path) -> Result<Vec<LoadedTable>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| data_error(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && table_name_of(p).is_some())
            .collect();
        files.sort();
        let dir_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = name
            .map(str::to_string)
            .or_else(|| schema::builtin(&dir_name).map(|_| dir_name.clone()));
        return match table {
            Some(t) => Ok(vec![load_files(&t, &files)?]),
            None => files
                .iter()
                .map(|f| {
                    let t = table_name_of(f).unwrap_or_default();
                    load_files(&t, std::slice::from_ref(f))
                })
                .collect(),
        };
    }
    if !path.exists() {
        return Err(data_error(path, "no such file or directory"));
    }
    let lower = path.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".gz") {
        return Err(data_error(path, "gzip files are not supported yet"));
    }
    let table = match name {
        Some(n) => n.to_string(),
        None => table_name_of(path).ok_or_else(|| {
            data_error(
                path,
                "unknown file type (expected .ndjson, .jsonl, .json, .csv or .parquet)",
            )
        })?,
    };
    Ok(vec![load_files(&table, &[path.to_path_buf()])?])
}

/// Reads part files of one table.
fn load_files(table: &str, files: &[PathBuf]) -> Result<LoadedTable> {
    let known = schema::builtin(table);
    let mut records: Vec<Record> = Vec::new();
    let mut parquet: Vec<(PathBuf, Vec<RecordBatch>)> = Vec::new();
    for f in files {
        let lower = f.to_string_lossy().to_ascii_lowercase();
        if lower.ends_with(".parquet") {
            parquet.push((f.clone(), read_parquet(f)?));
        } else if lower.ends_with(".csv") {
            records.extend(csv::read(f)?);
        } else {
            records.extend(read_json(f)?);
        }
    }
    if !parquet.is_empty() && !records.is_empty() {
        return Err(Error::Data(format!(
            "table `{table}` mixes Parquet with JSON/CSV part files"
        )));
    }
    if !parquet.is_empty() {
        return parquet_table(table, known, parquet);
    }
    let inferred = known.is_none();
    // The schema's columns, then any others the data has (never dropped).
    let mut columns: Vec<Column> = known.map(|s| s.columns).unwrap_or_default();
    let mut extra: Vec<String> = Vec::new();
    for r in &records {
        for k in r.fields.keys() {
            if !columns.iter().any(|c| c.name == *k) && !extra.contains(k) {
                extra.push(k.clone());
            }
        }
    }
    for k in extra {
        let sample: Vec<&Value> = records
            .iter()
            .filter_map(|r| r.fields.get(&k))
            .take(10_000)
            .collect();
        let ty = if records.iter().any(|r| r.from_csv) {
            // CSV text carries no types: strings unless a schema says otherwise.
            if convert::infer(&sample) == ScalarType::DateTime {
                ScalarType::DateTime
            } else {
                ScalarType::String
            }
        } else {
            convert::infer(&sample)
        };
        columns.push(Column { name: k, ty });
    }
    let mut builder =
        TableBuilder::new(columns.clone()).map_err(|e| Error::Data(format!("{table}: {e}")))?;
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    for r in &records {
        builder
            .push(|i| r.fields.get(&names[i]))
            .map_err(|e| Error::Data(format!("{}:{}: {e}", r.file.display(), r.line)))?;
    }
    let (columns, batches) = builder
        .finish()
        .map_err(|e| Error::Data(format!("{table}: {e}")))?;
    Ok(LoadedTable {
        schema: TableSchema {
            name: table.to_string(),
            columns,
        },
        batches,
        inferred,
    })
}

/// Writes a loaded table as one Parquet file (zstd). Column types are kept:
/// dynamic columns are JSON text tagged `arrow.json`, so reading the file
/// back gives the same KQL types even without a schema.
pub fn write_parquet(table: &LoadedTable, path: &Path) -> Result<()> {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::basic::{Compression, ZstdLevel};
    use datafusion::parquet::file::properties::WriterProperties;
    let schema = crate::types::arrow_schema(&table.schema.columns);
    let level = ZstdLevel::try_new(3).map_err(|e| data_error(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .build();
    let file = std::fs::File::create(path).map_err(|e| data_error(path, e))?;
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| data_error(path, e))?;
    for b in &table.batches {
        let b = b
            .clone()
            .with_schema(schema.clone())
            .map_err(|e| data_error(path, e))?;
        writer.write(&b).map_err(|e| data_error(path, e))?;
    }
    writer.close().map_err(|e| data_error(path, e))?;
    Ok(())
}

/// One exported record and where it came from.
pub(crate) struct Record {
    pub file: PathBuf,
    pub line: usize,
    pub fields: Map<String, Value>,
    pub from_csv: bool,
}

/// serde_json's message without its own "at line L column C" (the caller
/// names the place in the file).
fn json_message(e: &serde_json::Error) -> String {
    let m = e.to_string();
    match m.rfind(" at line ") {
        Some(k) => m[..k].to_string(),
        None => m,
    }
}

fn read_json(path: &Path) -> Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| data_error(path, e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let record = |line: usize, v: Value| -> Result<Record> {
        match v {
            Value::Object(fields) => {
                if fields.contains_key("records")
                    || fields.contains_key("tables")
                    || fields.contains_key("Tables")
                {
                    return Err(Error::Data(format!(
                        "{}:{line}: API/streaming envelopes (records/tables) are not supported yet; export rows as JSON lines",
                        path.display()
                    )));
                }
                Ok(Record {
                    file: path.to_path_buf(),
                    line,
                    fields,
                    from_csv: false,
                })
            }
            other => Err(Error::Data(format!(
                "{}:{line}: expected a JSON object per record, found {}",
                path.display(),
                match other {
                    Value::Array(_) => "an array",
                    Value::String(_) => "a string",
                    Value::Number(_) => "a number",
                    Value::Bool(_) => "a boolean",
                    _ => "null",
                }
            ))),
        }
    };
    if text.trim_start().starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(text).map_err(|e| {
            Error::Data(format!(
                "{}:{}:{}: {}",
                path.display(),
                e.line(),
                e.column(),
                json_message(&e)
            ))
        })?;
        // One JSON array of objects: the record number stands for the line.
        return items
            .into_iter()
            .enumerate()
            .map(|(i, v)| record(i + 1, v))
            .collect();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            Error::Data(format!(
                "{}:{}:{}: {}",
                path.display(),
                i + 1,
                e.column(),
                json_message(&e)
            ))
        })?;
        out.push(record(i + 1, v)?);
    }
    Ok(out)
}

fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).map_err(|e| data_error(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(convert::BATCH_ROWS).build())
        .map_err(|e| data_error(path, e))?;
    reader.map(|b| b.map_err(|e| data_error(path, e))).collect()
}

/// Parquet batches cast to the schema's types (by column name); strings
/// that are null become "".
fn parquet_table(
    table: &str,
    known: Option<TableSchema>,
    parts: Vec<(PathBuf, Vec<RecordBatch>)>,
) -> Result<LoadedTable> {
    use datafusion::arrow::array::{Array, StringArray, new_null_array};
    use datafusion::arrow::compute::cast;
    let inferred = known.is_none();
    let mut columns: Vec<Column> = known.map(|s| s.columns).unwrap_or_default();
    for (path, batches) in &parts {
        if let Some(b) = batches.first() {
            for f in b.schema().fields() {
                if !columns.iter().any(|c| c.name == *f.name()) {
                    let tagged_json = f
                        .metadata()
                        .get("ARROW:extension:name")
                        .is_some_and(|v| v == crate::types::JSON_EXTENSION);
                    let ty = if tagged_json {
                        Some(ScalarType::Dynamic)
                    } else {
                        crate::types::kql_type_of(f.data_type())
                    };
                    let ty = ty.ok_or_else(|| {
                        data_error(
                            path,
                            format!(
                                "column `{}` has unsupported type {}",
                                f.name(),
                                f.data_type()
                            ),
                        )
                    })?;
                    columns.push(Column {
                        name: f.name().clone(),
                        ty,
                    });
                }
            }
        }
    }
    let arrow = crate::types::arrow_schema(&columns);
    let mut out = Vec::new();
    for (path, batches) in parts {
        for b in batches {
            let mut arrays = Vec::with_capacity(columns.len());
            for c in &columns {
                let want = crate::types::arrow_type(c.ty);
                let a = match b.column_by_name(&c.name) {
                    Some(a) => cast(a, &want)
                        .map_err(|e| data_error(&path, format!("column `{}`: {e}", c.name)))?,
                    None => new_null_array(&want, b.num_rows()),
                };
                let a = if c.ty == ScalarType::String && a.null_count() > 0 {
                    let s = a
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .ok_or_else(|| data_error(&path, "string column did not cast to text"))?;
                    std::sync::Arc::new(
                        s.iter()
                            .map(|v| Some(v.unwrap_or("")))
                            .collect::<StringArray>(),
                    ) as datafusion::arrow::array::ArrayRef
                } else {
                    a
                };
                arrays.push(a);
            }
            out.push(
                RecordBatch::try_new(arrow.clone(), arrays).map_err(|e| data_error(&path, e))?,
            );
        }
    }
    Ok(LoadedTable {
        schema: TableSchema {
            name: table.to_string(),
            columns,
        },
        batches: out,
        inferred,
    })
}
