//! Tables from exported files, in every shape FORMATS.md lists: JSON lines
//! (and Log Analytics data-export trees of them), JSON arrays, Defender
//! streaming envelopes, `az monitor log-analytics query` output, Log
//! Analytics Query API / Kusto REST v1 and v2 / Defender advanced-hunting
//! API responses, CSV (plain and the portal's export) and Parquet, each
//! possibly gzip-compressed. Tables are typed by the built-in schema of the
//! table when there is one, and by the types a response declares.
//!
//! JSON and CSV are read by kqlite itself rather than DataFusion's readers:
//! a `dynamic` column holds nested objects, arrays or numbers in one column,
//! which Arrow's JSON reader rejects for a text column, and every error must
//! name the file and line. Parquet is read with the Arrow Parquet reader.
//!
//! Reading goes in three steps: each file becomes one or more [`Chunk`]s
//! (rows of one table, with the table name the content gives, if any);
//! chunks are grouped by table name; each group is typed and converted to
//! Arrow batches in one place (`build_table`, through `convert.rs`).

mod convert;
mod csv;
mod input;
mod json;
mod lazy;
mod parquet_lazy;
mod reference;
mod response;
mod scan;
mod user_schema;

use crate::builtin_schemas::Flavor;
use crate::error::{Error, Result};
use crate::schema::{self, Column, TableSchema};
use convert::TableBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use kqlite_syntax::ast::ScalarType;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use lazy::compact;
pub use lazy::{LazyFile, LazyJsonTable, ReadCounters, Skipped, open_lazy};
pub use parquet_lazy::{LazyParquet, ParquetSink, open_parquet};
pub use reference::{RefFormat, read_csv_with_header, read_external};
pub use user_schema::{find_user_schema, read_schema_file};

/// Whether JSON text is in the compact form kqlite stores dynamic values
/// in (what serde_json writes), so it can be written out as it is.
pub fn canonical_json(text: &[u8]) -> bool {
    lazy::canonical(text)
}

/// The shape of an input file. [`Format::Auto`] recognises it from the
/// content (first non-blank byte, keys of the first object, the CSV
/// header) and the layout (file extension, `am-<Table>` export folders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Recognise the format from content and layout.
    Auto,
    /// One JSON object per line (NDJSON); also several JSON objects one
    /// after another.
    JsonLines,
    /// One JSON array of objects.
    JsonArray,
    /// A Log Analytics workspace data export (`am-<Table>/.../PT05M.json`):
    /// JSON lines in a folder tree whose container names the table.
    LaExport,
    /// Defender XDR streaming to Storage / Event Hubs:
    /// `{"records":[{"category":"AdvancedHunting-<Table>","properties":{row}}]}`
    /// or one such record per line.
    DefenderStreaming,
    /// `az monitor log-analytics query` output: one JSON array of objects
    /// whose values are all strings, with a `TableName` key.
    AzCli,
    /// Log Analytics Query API response: `{"tables":[{"name","columns","rows"}]}`.
    LaQueryApi,
    /// Kusto REST v1 response: `{"Tables":[{"TableName","Columns","Rows"}]}`.
    KustoV1,
    /// Kusto REST v2 response: an array of frames.
    KustoV2,
    /// Defender advanced hunting API / Graph runHuntingQuery response:
    /// `{"Schema":[{"Name","Type"}],"Results":[{...}]}` (Graph: lower case).
    DefenderApi,
    /// CSV (RFC 4180), including the Log Analytics portal's export (BOM,
    /// CRLF, ` [UTC]` datetime headers, `4/28/2021, 3:05:26.000 PM` values).
    Csv,
    /// Parquet.
    Parquet,
}

impl Format {
    /// Every format, `Auto` first.
    pub const ALL: [Format; 12] = [
        Format::Auto,
        Format::JsonLines,
        Format::JsonArray,
        Format::LaExport,
        Format::DefenderStreaming,
        Format::AzCli,
        Format::LaQueryApi,
        Format::KustoV1,
        Format::KustoV2,
        Format::DefenderApi,
        Format::Csv,
        Format::Parquet,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::JsonLines => "jsonl",
            Format::JsonArray => "json-array",
            Format::LaExport => "la-export",
            Format::DefenderStreaming => "defender-streaming",
            Format::AzCli => "az-cli",
            Format::LaQueryApi => "la-query-api",
            Format::KustoV1 => "kusto-v1",
            Format::KustoV2 => "kusto-v2",
            Format::DefenderApi => "defender-api",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The format a name stands for ([`Format::name`], case-insensitive;
    /// `ndjson` is `jsonl`).
    pub fn from_name(name: &str) -> Option<Format> {
        let n = name.trim().to_ascii_lowercase();
        if n == "ndjson" {
            return Some(Format::JsonLines);
        }
        Format::ALL.into_iter().find(|f| f.name() == n)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One file a table was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    /// The format the file was read as (detected, or the one asked for).
    pub format: Format,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
    /// Rows this file gave to the table.
    pub rows: usize,
}

/// A table read from files.
#[derive(Debug)]
pub struct LoadedTable {
    pub schema: TableSchema,
    pub batches: Vec<RecordBatch>,
    /// Whether the types were inferred from the data (no built-in schema
    /// and no types declared by the file).
    pub inferred: bool,
    /// The columns whose types were inferred from the data: no schema
    /// (built-in or schema file) names them and no file declares them.
    pub inferred_columns: Vec<String>,
    /// The user schema file that typed the table, if one was found beside
    /// the data (see [`LoadOptions`]).
    pub schema_file: Option<PathBuf>,
    /// The files the rows came from, in reading order.
    pub sources: Vec<SourceFile>,
    /// Records left out with [`LoadOptions::skip_bad_records`], in reading
    /// order (empty otherwise: a bad record is an error).
    pub skipped: Vec<BadRecord>,
}

/// A malformed record: where it is and what is wrong with it. Without
/// [`LoadOptions::skip_bad_records`] it is the load's error; with it, the
/// record is left out and listed in [`LoadedTable::skipped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub file: PathBuf,
    /// 1-based line the record starts on.
    pub line: usize,
    /// 1-based column of the problem, when known.
    pub column: Option<usize>,
    /// ("record" or "row", 1-based position) inside the file's array, when
    /// several records can share a line.
    pub item: Option<(&'static str, usize)>,
    pub reason: String,
}

impl BadRecord {
    pub(crate) fn at(file: &Path, line: usize, reason: impl Into<String>) -> BadRecord {
        BadRecord {
            file: file.to_path_buf(),
            line,
            column: None,
            item: None,
            reason: reason.into(),
        }
    }

    pub(crate) fn column(mut self, column: usize) -> BadRecord {
        self.column = Some(column);
        self
    }

    pub(crate) fn item(mut self, item: Option<(&'static str, usize)>) -> BadRecord {
        self.item = item;
        self
    }

    /// `file:line` (with `:column` when known): where to look.
    pub fn place(&self) -> String {
        match self.column {
            Some(c) => format!("{}:{}:{c}", self.file.display(), self.line),
            None => format!("{}:{}", self.file.display(), self.line),
        }
    }
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.place())?;
        if let Some((what, n)) = self.item {
            write!(f, "{what} {n}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// Where the readers send bad records: the error of the load, or, when
/// skipping, a list.
pub(crate) struct Bad {
    skip: bool,
    pub(crate) list: Vec<BadRecord>,
}

impl Bad {
    pub(crate) fn new(skip: bool) -> Bad {
        Bad {
            skip,
            list: Vec::new(),
        }
    }

    /// A bad record: noted when skipping (Ok, the reader goes on with the
    /// next record), else the error.
    pub(crate) fn found(&mut self, record: BadRecord) -> Result<()> {
        if self.skip {
            self.list.push(record);
            Ok(())
        } else {
            Err(Error::Data(record.to_string()))
        }
    }
}

/// How `-d` sources are read ([`load_with`]).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The format of the files; [`Format::Auto`] recognises it.
    pub format: Format,
    /// Leave out malformed records (an unparseable JSON line, a value that
    /// does not fit its column's type, a CSV row with the wrong number of
    /// fields, ...) instead of failing; they are listed in
    /// [`LoadedTable::skipped`]. Damage that breaks a file's structure (an
    /// unclosed CSV quote, a JSON document cut short) is still an error:
    /// there is no next record to go on with.
    pub skip_bad_records: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            format: Format::Auto,
            skip_bad_records: false,
        }
    }
}

impl LoadedTable {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The format of the table's files when they all share one.
    pub fn format(&self) -> Option<Format> {
        let first = self.sources.first()?.format;
        self.sources
            .iter()
            .all(|s| s.format == first)
            .then_some(first)
    }
}

const EXTENSIONS: &[&str] = &["ndjson", "jsonl", "json", "csv", "parquet"];

/// The data extension of a file name (`ndjson`, `csv`, ...), looking
/// through a `.gz` suffix, and the name without it.
fn split_extension(name: &str) -> Option<(&str, &'static str)> {
    let lower = name.to_ascii_lowercase();
    let (lower, name) = match lower.strip_suffix(".gz") {
        Some(l) => (l.to_string(), &name[..name.len() - 3]),
        None => (lower.clone(), name),
    };
    let ext = EXTENSIONS
        .iter()
        .find(|e| lower.ends_with(&format!(".{e}")))?;
    Some((&name[..name.len() - ext.len() - 1], ext))
}

/// The table name a file stands for: its name without the format extension
/// (and without `.gz`).
pub fn table_name_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    split_extension(&name).map(|(stem, _)| stem.to_string())
}

/// The file name up to its first dot: the table name of a file read with an
/// explicit format whatever its extension.
fn plain_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match table_name_of(path) {
        Some(t) => t,
        None => name.split('.').next().unwrap_or_default().to_string(),
    }
}

fn data_error(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("{}: {msg}", path.display()))
}

/// Loads `-d PATH` or `-d NAME=PATH`, recognising the format of each file
/// ([`load_with`] with the default options).
pub fn load(name: Option<&str>, path: &Path) -> Result<Vec<LoadedTable>> {
    load_with(name, path, &LoadOptions::default())
}

/// Loads `-d PATH` or `-d NAME=PATH` with the files read as `format`
/// ([`load_with`]).
pub fn load_as(name: Option<&str>, path: &Path, format: Format) -> Result<Vec<LoadedTable>> {
    load_with(
        name,
        path,
        &LoadOptions {
            format,
            ..LoadOptions::default()
        },
    )
}

/// Loads `-d PATH` or `-d NAME=PATH` with the files read as
/// `options.format`:
///
/// - a file is its tables: one, or several when the content names them
///   (Defender `category`, `TableName`, a response's table names);
/// - a folder `am-<Table>` is a Log Analytics data-export tree: every JSON
///   file below it is one table, named by the container;
/// - a folder holding `am-*` folders gives one table per container (and
///   the tables of its own files);
/// - a folder named after a known table (or given with `NAME=`, or holding
///   a schema file named after the folder) is one table of all its part
///   files; a folder holding only partition folders
///   (`tenantId=...`, `y=2024`) is read recursively; any other folder gives
///   the tables of each of its files.
///
/// Tables of the same name from several files are one table. With `NAME=`
/// the path must hold exactly one table. A user schema file found for a
/// table (see `user_schema.rs`: `<Table>.schema.json`, `<Table>.kql`,
/// `<Table>.schema.kql` beside the data or inside its folder) types it
/// instead of its built-in schema.
pub fn load_with(
    name: Option<&str>,
    path: &Path,
    options: &LoadOptions,
) -> Result<Vec<LoadedTable>> {
    let format = options.format;
    let mut plan: Vec<Planned> = Vec::new();
    if path.is_dir() {
        plan_dir(name, path, format, &mut plan)?;
    } else if path.exists() {
        if user_schema::is_schema_file(path) {
            return Err(data_error(
                path,
                "is a schema file, not data: give the data file with -d and keep the schema file beside it",
            ));
        }
        let default = match name {
            Some(n) => n.to_string(),
            None if format != Format::Auto => plain_stem(path),
            None => table_name_of(path).ok_or_else(|| {
                data_error(
                    path,
                    "unknown file type (expected .ndjson, .jsonl, .json, .csv or .parquet, \
                     optionally .gz, or give the format explicitly)",
                )
            })?,
        };
        let format = if format == Format::LaExport {
            Format::JsonLines
        } else {
            format
        };
        plan.push(Planned {
            file: path.to_path_buf(),
            default,
            format,
            report: None,
            container: None,
        });
    } else {
        return Err(data_error(path, "no such file or directory"));
    }

    // Read every file; group the chunks by table name in first-seen order.
    let mut groups: Vec<(String, Vec<Chunk>, Option<String>)> = Vec::new();
    for p in plan {
        let read = input::read_file(&p.file, p.format, options.skip_bad_records)?;
        let mut unnamed = 0usize;
        for mut chunk in read {
            if let Some(r) = p.report {
                chunk.source.format = r;
            }
            let key = match &chunk.name {
                Some(n) => n.clone(),
                None => {
                    // Several unnamed result tables in one file stay apart.
                    unnamed += 1;
                    if unnamed == 1 {
                        p.default.clone()
                    } else {
                        format!("{}_{unnamed}", p.default)
                    }
                }
            };
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.1.push(chunk),
                None => groups.push((key, vec![chunk], p.container.clone())),
            }
        }
    }
    if let Some(n) = name {
        match groups.len() {
            0 => {}
            1 => groups[0].0 = n.to_string(),
            _ => {
                let names: Vec<&str> = groups.iter().map(|g| g.0.as_str()).collect();
                return Err(data_error(
                    path,
                    format!(
                        "holds {} tables ({}); `{n}=` can name only one (leave the name out to load them all)",
                        names.len(),
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    let root = path.is_dir().then_some(path);
    groups
        .into_iter()
        .map(|(table, chunks, container)| {
            let table = match container {
                Some(suffix) if name.is_none() => export_table_name(&table, &suffix, &chunks),
                _ => table,
            };
            let files: Vec<&Path> = chunks.iter().map(|c| c.source.path.as_path()).collect();
            let user = find_user_schema(&table, &files, root)?;
            build_table(&table, chunks, options, user)
        })
        .collect()
}

/// One file to read, with the table name its rows get when the content
/// names none.
struct Planned {
    file: PathBuf,
    default: String,
    format: Format,
    /// The format to report instead of the detected one (export trees).
    report: Option<Format>,
    /// The `am-` container suffix of an export tree.
    container: Option<String>,
}

/// The files of `-d [NAME=]PATH` for a reader that takes them while the
/// query runs: a folder as `plan_dir` lays it out (with `format`), a file
/// read as `file_format`; None for a file whose name gives no table.
fn plan_source(
    name: Option<&str>,
    path: &Path,
    format: Format,
    file_format: Format,
) -> Result<Option<Vec<Planned>>> {
    let mut plan: Vec<Planned> = Vec::new();
    if path.is_dir() {
        plan_dir(name, path, format, &mut plan)?;
        return Ok(Some(plan));
    }
    let Some(default) = name.map(str::to_string).or_else(|| table_name_of(path)) else {
        return Ok(None);
    };
    plan.push(Planned {
        file: path.to_path_buf(),
        default,
        format: file_format,
        report: None,
        container: None,
    });
    Ok(Some(plan))
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

fn is_data_file(p: &Path) -> bool {
    p.is_file() && !is_hidden(p) && !user_schema::is_schema_file(p) && table_name_of(p).is_some()
}

/// Whether a user schema file may type a table of `-d [NAME=]PATH`: one
/// named for the file's table beside it, or any schema file in or below
/// the folder. (Tables read while the query runs take only built-in
/// schemas; the CLI reads such sources eagerly instead.)
pub fn has_user_schema(name: Option<&str>, path: &Path) -> bool {
    fn below(dir: &Path, depth: usize) -> bool {
        let Ok(list) = std::fs::read_dir(dir) else {
            return false;
        };
        list.filter_map(|e| e.ok().map(|e| e.path())).any(|p| {
            if p.is_dir() {
                depth < 16 && below(&p, depth + 1)
            } else {
                user_schema::is_schema_file(&p)
            }
        })
    }
    if path.is_dir() {
        return below(path, 0);
    }
    let table = name.map(str::to_string).unwrap_or_else(|| plain_stem(path));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    user_schema::candidates(&table)
        .iter()
        .any(|n| dir.join(n).is_file())
}

/// Entries of a folder, sorted in natural order (`PT05M_2` before
/// `PT05M_10`), hidden ones left out.
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| data_error(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !is_hidden(p))
        .collect();
    out.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    Ok(out)
}

/// Compares names with runs of digits taken as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, run)) if *d == digit => run.push(c),
                _ => out.push((digit, c.to_string())),
            }
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = if x.0 && y.0 {
            let (tx, ty) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
            tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
        } else {
            x.1.cmp(&y.1)
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

/// Every data file below a folder, recursively, in natural order.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for p in entries(dir)? {
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_data_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// The `am-` suffix of an export container folder.
fn container_suffix(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let lower = name.to_ascii_lowercase();
    lower
        .starts_with("am-")
        .then(|| name[3..].to_string())
        .filter(|s| !s.is_empty())
}

/// The table an export container stands for: storage container names are
/// lower case (`am-securityevent`), so the suffix is matched to a known
/// table ignoring case.
fn container_table(suffix: &str) -> String {
    schema::builtin_tables()
        .find(|t| t.eq_ignore_ascii_case(suffix))
        .map_or_else(|| suffix.to_string(), str::to_string)
}

/// For an export container that names no known table: the records' `Type`
/// column (every Log Analytics record carries its table name there) when
/// it matches the container ignoring case, else the container's name.
fn export_table_name(table: &str, suffix: &str, chunks: &[Chunk]) -> String {
    if table != suffix {
        return table.to_string();
    }
    let typed = chunks.iter().find_map(|c| match &c.data {
        Data::Records { records, .. } => records
            .first()
            .and_then(|r| r.fields.get("Type"))
            .and_then(Value::as_str)
            .map(str::to_string),
        Data::Parquet(_) => None,
    });
    match typed {
        Some(t) if t.eq_ignore_ascii_case(suffix) => t,
        _ => table.to_string(),
    }
}

fn plan_tree(name: Option<&str>, dir: &Path, plan: &mut Vec<Planned>) -> Result<()> {
    let suffix = container_suffix(dir).unwrap_or_else(|| {
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let default = name.map_or_else(|| container_table(&suffix), str::to_string);
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    for file in files {
        plan.push(Planned {
            file,
            default: default.clone(),
            format: Format::JsonLines,
            report: Some(Format::LaExport),
            container: Some(suffix.clone()),
        });
    }
    Ok(())
}

fn plan_dir(name: Option<&str>, dir: &Path, format: Format, plan: &mut Vec<Planned>) -> Result<()> {
    if format == Format::LaExport || (format == Format::Auto && container_suffix(dir).is_some()) {
        return plan_tree(name, dir, plan);
    }
    let all = entries(dir)?;
    let containers: Vec<&PathBuf> = all
        .iter()
        .filter(|p| p.is_dir() && container_suffix(p).is_some())
        .collect();
    if format == Format::Auto {
        for c in &containers {
            plan_tree(None, c, plan)?;
        }
    }
    let mut files: Vec<PathBuf> = all
        .iter()
        .filter(|p| {
            if format == Format::Auto {
                is_data_file(p)
            } else {
                p.is_file() && !user_schema::is_schema_file(p)
            }
        })
        .cloned()
        .collect();
    let partitions = all.iter().any(|p| {
        p.is_dir()
            && p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains('='))
    });
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A folder named after a known table, or holding a schema file named
    // after itself, is that table's part files.
    let typed_here = user_schema::candidates(&dir_name)
        .iter()
        .any(|n| dir.join(n).is_file());
    let known = (schema::builtin(&dir_name).is_some() || typed_here).then(|| dir_name.clone());
    let mut default = name.map(str::to_string).or(known);
    if files.is_empty() && containers.is_empty() && partitions {
        // A partitioned blob tree (`tenantId=<guid>/y=2024/.../PT1H.json`):
        // every file below, named by its content or else by the folder.
        walk(dir, &mut files)?;
        default = default.or(Some(dir_name));
    }
    for file in files {
        let d = default.clone().unwrap_or_else(|| plain_stem(&file));
        plan.push(Planned {
            file,
            default: d,
            format,
            report: None,
            container: None,
        });
    }
    Ok(())
}

/// Where a record came from: file, line, and its place in an array when
/// several records can share a line.
pub(crate) struct Record {
    pub file: Arc<Path>,
    pub line: usize,
    /// ("record" or "row", 1-based position) inside the file's array.
    pub item: Option<(&'static str, usize)>,
    pub fields: Map<String, Value>,
    pub kind: Kind,
}

impl Record {
    fn place(&self) -> String {
        match self.item {
            Some((what, n)) => format!("{}:{}: {what} {n}", self.file.display(), self.line),
            None => format!("{}:{}", self.file.display(), self.line),
        }
    }
}

/// How a record's values are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Typed JSON values.
    Json,
    /// Text without types (CSV).
    Text,
    /// Text from `az monitor log-analytics query`: Python's `str()` of each
    /// value, so `"None"` is null in every column except strings.
    AzCli,
}

/// Rows of one table from one file.
pub(crate) struct Chunk {
    /// The table name the content gives (Defender category, TableName,
    /// a response's table name), if any.
    pub name: Option<String>,
    /// Whether the rows are Defender XDR advanced-hunting rows (the Defender
    /// flavour of a built-in schema fits them).
    pub defender: bool,
    pub source: SourceFile,
    pub data: Data,
    /// Bad records of the file left out (when skipping).
    pub skipped: Vec<BadRecord>,
}

pub(crate) enum Data {
    /// Keyed records, with the column types the file declares (API
    /// responses, ` [UTC]` CSV headers).
    Records {
        records: Vec<Record>,
        declared: Vec<Column>,
    },
    Parquet(Vec<RecordBatch>),
}

impl Chunk {
    pub(crate) fn records(
        name: Option<String>,
        source: SourceFile,
        records: Vec<Record>,
        declared: Vec<Column>,
    ) -> Chunk {
        let mut source = source;
        source.rows = records.len();
        Chunk {
            name,
            defender: false,
            source,
            data: Data::Records { records, declared },
            skipped: Vec::new(),
        }
    }
}

/// The built-in schema for a table, in the Defender flavour first for
/// Defender rows.
fn schema_for(table: &str, defender: bool) -> Option<TableSchema> {
    if defender {
        schema::builtin_flavor(table, Flavor::DefenderXdr).or_else(|| schema::builtin(table))
    } else {
        schema::builtin(table)
    }
}

/// Types and converts the chunks of one table: by the user schema file
/// found for it, else its built-in schema, else the types its files
/// declare, else the data.
fn build_table(
    table: &str,
    chunks: Vec<Chunk>,
    options: &LoadOptions,
    user: Option<(PathBuf, TableSchema)>,
) -> Result<LoadedTable> {
    let defender = chunks.iter().any(|c| c.defender);
    let (schema_file, known) = match user {
        Some((file, schema)) => (Some(file), Some(schema)),
        None => (None, schema_for(table, defender)),
    };
    let sources: Vec<SourceFile> = chunks.iter().map(|c| c.source.clone()).collect();
    let mut skipped: Vec<BadRecord> = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    let mut parquet: Vec<(PathBuf, Vec<RecordBatch>)> = Vec::new();
    // Declared column types, with the file that declared each.
    let mut declared: Vec<(Column, PathBuf)> = Vec::new();
    for c in chunks {
        skipped.extend(c.skipped);
        match c.data {
            Data::Parquet(b) => parquet.push((c.source.path, b)),
            Data::Records {
                records: r,
                declared: d,
            } => {
                for col in d {
                    match declared.iter().find(|(x, _)| x.name == col.name) {
                        Some((x, file)) if x.ty != col.ty => {
                            return Err(Error::Data(format!(
                                "table `{table}`: column `{}` is {} in {} but {} in {}",
                                col.name,
                                x.ty.name(),
                                file.display(),
                                col.ty.name(),
                                c.source.path.display()
                            )));
                        }
                        Some(_) => {}
                        None => declared.push((col, c.source.path.clone())),
                    }
                }
                records.extend(r);
            }
        }
    }
    if !parquet.is_empty() && !records.is_empty() {
        return Err(Error::Data(format!(
            "table `{table}` mixes Parquet with JSON/CSV part files"
        )));
    }
    if !parquet.is_empty() {
        let mut t = parquet_table(table, known, parquet)?;
        t.sources = sources;
        t.skipped = skipped;
        t.schema_file = schema_file;
        return Ok(t);
    }
    let all_declared = !declared.is_empty()
        && records.iter().all(|r| {
            r.fields
                .keys()
                .all(|k| declared.iter().any(|(c, _)| c.name == *k))
        });
    let inferred = known.is_none() && !all_declared;
    // The schema's columns, then any others the data has (never dropped).
    // A type the file declares wins over the built-in schema's: it is what
    // the service said the values are. A user's schema file wins over both.
    let mut columns: Vec<Column> = known.map(|s| s.columns).unwrap_or_default();
    for (d, _) in &declared {
        match columns.iter_mut().find(|c| c.name == d.name) {
            Some(_) if schema_file.is_some() => {}
            Some(c) => c.ty = d.ty,
            None => columns.push(d.clone()),
        }
    }
    let mut extra: Vec<String> = Vec::new();
    for r in &records {
        for k in r.fields.keys() {
            if !columns.iter().any(|c| c.name == *k) && !extra.contains(k) {
                extra.push(k.clone());
            }
        }
    }
    let inferred_columns = extra.clone();
    for k in extra {
        let with_key = || records.iter().filter(|r| r.fields.contains_key(&k));
        let text = with_key().any(|r| r.kind != Kind::Json);
        const NULL: Value = Value::Null;
        let sample: Vec<&Value> = with_key()
            .filter_map(|r| {
                let v = r.fields.get(&k)?;
                Some(if r.kind == Kind::AzCli && v.as_str() == Some("None") {
                    &NULL
                } else {
                    v
                })
            })
            .take(10_000)
            .collect();
        let ty = if text {
            // Text carries no types: strings unless a schema says otherwise
            // or every value is an ISO datetime.
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
    let types: Vec<ScalarType> = columns.iter().map(|c| c.ty).collect();
    const NULL: Value = Value::Null;
    let mut bad = Bad::new(options.skip_bad_records);
    for r in &records {
        let pushed = builder.push(|i| {
            let v = r.fields.get(&names[i]);
            // Python's None, printed by `az`, is null (a string column
            // keeps the text: Kusto strings are never null).
            if r.kind == Kind::AzCli
                && types[i] != ScalarType::String
                && v.and_then(Value::as_str) == Some("None")
            {
                return Some(&NULL);
            }
            v
        });
        if let Err(e) = pushed {
            bad.found(BadRecord::at(&r.file, r.line, e).item(r.item))?;
        }
    }
    skipped.extend(bad.list);
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
        inferred_columns,
        schema_file,
        sources,
        skipped,
    })
}

/// Writes a loaded table as one Parquet file (zstd). Column types are kept:
/// dynamic columns are JSON text tagged `arrow.json`, so reading the file
/// back gives the same KQL types even without a schema.
pub fn write_parquet(table: &LoadedTable, path: &Path) -> Result<()> {
    let mut sink = ParquetSink::create(&table.schema.columns, path)?;
    for b in &table.batches {
        sink.write(b)?;
    }
    sink.close()?;
    Ok(())
}

pub(crate) fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>> {
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
                // Dynamic text in kqlite's one compact form (types.rs).
                let a = if c.ty == ScalarType::Dynamic {
                    compact_json_column(&a)
                        .map_err(|e| data_error(&path, format!("column `{}`: {e}", c.name)))?
                } else {
                    a
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
        inferred_columns: Vec::new(),
        schema_file: None,
        sources: Vec::new(),
        skipped: Vec::new(),
    })
}

/// A column of JSON text re-encoded where it is not already in the
/// compact form dynamic values are kept in; text that is not JSON is an
/// error.
fn compact_json_column(
    a: &datafusion::arrow::array::ArrayRef,
) -> std::result::Result<datafusion::arrow::array::ArrayRef, String> {
    use datafusion::arrow::array::{Array, StringArray};
    let s = a
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("a dynamic column must hold text")?;
    if s.iter().flatten().all(|t| canonical_json(t.as_bytes())) {
        return Ok(a.clone());
    }
    let mut out = Vec::with_capacity(s.len());
    for (row, t) in s.iter().enumerate() {
        out.push(match t {
            None => None,
            Some(t) if canonical_json(t.as_bytes()) => Some(t.to_string()),
            Some(t) => {
                let v: Value = serde_json::from_str(t)
                    .map_err(|e| format!("row {}: not JSON text: {e}", row + 1))?;
                (!v.is_null()).then(|| v.to_string())
            }
        });
    }
    Ok(std::sync::Arc::new(StringArray::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_extensions() {
        assert_eq!(
            table_name_of(Path::new("a/SecurityAlert.ndjson.gz")).as_deref(),
            Some("SecurityAlert")
        );
        assert_eq!(
            table_name_of(Path::new("x/PT05M.JSON")).as_deref(),
            Some("PT05M")
        );
        assert_eq!(table_name_of(Path::new("notes.txt")), None);
        assert_eq!(Format::from_name("NDJSON"), Some(Format::JsonLines));
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(container_table("securityalert"), "SecurityAlert");
        assert_eq!(container_table("mytable-cl"), "mytable-cl");
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["m=05/PT05M_10.json", "m=05/PT05M_2.json", "m=05/PT05M.json"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            vec!["m=05/PT05M.json", "m=05/PT05M_2.json", "m=05/PT05M_10.json"]
        );
    }
}
