//! Parquet files written by `kqlite convert`, read while the query runs
//! through DataFusion's Parquet scan: only the columns a query uses are
//! decoded, and filters (on TimeGenerated above all) skip row groups by
//! their statistics.
//!
//! The writer records each column's KQL type in the file's key-value
//! metadata (`kqlite.columns`), so a file read back has exactly the types
//! it was written with (guid and dynamic are text in Arrow). Parquet from
//! other tools goes through the eager reader, which casts to the schema.

use crate::error::{Error, Result};
use crate::schema::{Column, TableSchema};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::WriterProperties;
use kqlite_syntax::ast::ScalarType;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The key of the column list in a file's key-value metadata.
const COLUMNS_KEY: &str = "kqlite.columns";

/// Rows per row group: small enough that a time filter can skip groups of
/// time-ordered exports, large enough to compress well.
const ROW_GROUP_ROWS: usize = 128 * 1024;

fn data_error(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("{}: {msg}", path.display()))
}

/// `Name:type,Name:type` (names are identifiers or bracketed names; a
/// name holding `,` or `:` is escaped as JSON).
fn encode_columns(columns: &[Column]) -> String {
    serde_json::to_string(
        &columns
            .iter()
            .map(|c| [c.name.as_str(), c.ty.name()])
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

fn decode_columns(text: &str) -> Option<Vec<Column>> {
    let pairs: Vec<[String; 2]> = serde_json::from_str(text).ok()?;
    pairs
        .into_iter()
        .map(|[name, ty]| {
            Some(Column {
                name,
                ty: ScalarType::from_name(&ty)?,
            })
        })
        .collect()
}

/// A Parquet file being written batch by batch (zstd, column types kept).
pub struct ParquetSink {
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<std::fs::File>,
    rows: usize,
}

impl ParquetSink {
    pub fn create(columns: &[Column], path: &Path) -> Result<ParquetSink> {
        let schema = crate::types::arrow_schema(columns);
        let level = ZstdLevel::try_new(3).map_err(|e| data_error(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                COLUMNS_KEY.to_string(),
                encode_columns(columns),
            )]))
            .build();
        let file = std::fs::File::create(path).map_err(|e| data_error(path, e))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .map_err(|e| data_error(path, e))?;
        Ok(ParquetSink {
            path: path.to_path_buf(),
            schema,
            writer,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let b = batch
            .clone()
            .with_schema(self.schema.clone())
            .map_err(|e| data_error(&self.path, e))?;
        self.rows += b.num_rows();
        self.writer.write(&b).map_err(|e| data_error(&self.path, e))
    }

    /// Finishes the file; the rows written.
    pub fn close(self) -> Result<usize> {
        self.writer.close().map_err(|e| data_error(&self.path, e))?;
        Ok(self.rows)
    }
}

/// A table of Parquet files written by kqlite.
#[derive(Debug)]
pub struct LazyParquet {
    pub schema: TableSchema,
    pub files: Vec<PathBuf>,
    /// Rows in the files (from their footers).
    pub rows: u64,
    pub bytes: u64,
    pub provider: Arc<dyn TableProvider>,
}

/// The columns a kqlite-written Parquet file declares, and its row count;
/// None for other Parquet files (or when the Arrow types do not match the
/// declared KQL types).
fn kqlite_columns(path: &Path) -> Result<Option<(Vec<Column>, u64)>> {
    let file = std::fs::File::open(path).map_err(|e| data_error(path, e))?;
    let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(file) else {
        // Not readable as Parquet: the eager reader reports why.
        return Ok(None);
    };
    let meta = builder.metadata().file_metadata();
    let declared = meta
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == COLUMNS_KEY))
        .and_then(|k| k.value.as_deref())
        .and_then(decode_columns);
    let Some(columns) = declared else {
        return Ok(None);
    };
    let rows = u64::try_from(meta.num_rows()).unwrap_or(0);
    let want = crate::types::arrow_schema(&columns);
    let have = builder.schema();
    let same = want.fields().len() == have.fields().len()
        && want
            .fields()
            .iter()
            .zip(have.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    Ok(same.then_some((columns, rows)))
}

/// The tables of `-d [NAME=]PATH` when every file is Parquet written by
/// kqlite (a file, or a folder of `<Table>.parquet` files or of one
/// table's part files); None otherwise.
pub fn open_parquet(name: Option<&str>, path: &Path) -> Result<Option<Vec<LazyParquet>>> {
    let Some(plan) = super::plan_source(name, path, super::Format::Auto, super::Format::Parquet)?
    else {
        return Ok(None);
    };
    if plan.is_empty() {
        return Ok(None);
    }
    // (table, columns, files, rows, bytes)
    type Group = (String, Vec<Column>, Vec<PathBuf>, u64, u64);
    let mut groups: Vec<Group> = Vec::new();
    for p in &plan {
        let is_parquet = p
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if !is_parquet {
            return Ok(None);
        }
        let Some((columns, rows)) = kqlite_columns(&p.file)? else {
            return Ok(None);
        };
        let bytes = p.file.metadata().map(|m| m.len()).unwrap_or(0);
        match groups.iter_mut().find(|g| g.0 == p.default) {
            // Part files of one table must agree on the columns.
            Some(g) if g.1 != columns => return Ok(None),
            Some(g) => {
                g.2.push(p.file.clone());
                g.3 += rows;
                g.4 += bytes;
            }
            None => groups.push((
                p.default.clone(),
                columns,
                vec![p.file.clone()],
                rows,
                bytes,
            )),
        }
    }
    if name.is_some() && groups.len() > 1 {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (table, columns, files, rows, bytes) in groups {
        let table = name.map_or(table, str::to_string);
        let schema = TableSchema {
            name: table,
            columns,
        };
        let provider = listing_table(&schema, &files)?;
        out.push(LazyParquet {
            schema,
            files,
            rows,
            bytes,
            provider,
        });
    }
    Ok(Some(out))
}

fn listing_table(schema: &TableSchema, files: &[PathBuf]) -> Result<Arc<dyn TableProvider>> {
    let urls = files
        .iter()
        .map(|f| {
            let abs = std::path::absolute(f).map_err(|e| data_error(f, e))?;
            ListingTableUrl::parse(abs.to_string_lossy()).map_err(|e| data_error(f, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(crate::types::arrow_schema(&schema.columns));
    let table = ListingTable::try_new(config)
        .map_err(|e| Error::Data(format!("table `{}`: {e}", schema.name)))?;
    Ok(Arc::new(table))
}
