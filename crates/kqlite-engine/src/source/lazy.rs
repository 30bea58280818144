//! JSON-lines tables read while the query runs, as a DataFusion table
//! provider: only the columns the query uses are built (projection
//! pushdown), files are cut into byte ranges read in parallel, and a
//! lower bound on `TimeGenerated` skips the hour folders of a Log
//! Analytics export tree that cannot hold matching records.
//!
//! Each line is walked once with jiter: keys the query does not use are
//! skipped without building anything; used values are converted straight
//! into Arrow builders by the same rules as the eager reader
//! (`convert.rs`), and anything unusual goes through that reader's own
//! conversion, so both give the same table. A malformed record is an
//! error naming the file and line (or is skipped and counted when asked).

use super::SourceFile;
use super::convert::{self, BATCH_ROWS};
use crate::error::Error;
use crate::schema::{Column, TableSchema};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, DurationNanosecondBuilder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::catalog::{Session as DfSession, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use jiter::{Jiter, NumberAny, NumberInt, Peek};
use kqlite_syntax::ast::ScalarType;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes a JSON-lines range reads from its file at a time.
const CHUNK_BYTES: u64 = 4 << 20;

/// Rows read at most to find the columns a table has beyond its schema.
pub(crate) const SAMPLE_ROWS: usize = 10_000;

/// A record's arrival is assumed to be at most this long before the
/// `TimeGenerated` it carries (clock skew at the source): a folder whose
/// time window ends this long before a query's lower bound is skipped.
const FOLDER_SLACK_NANOS: i64 = 3_600 * 1_000_000_000;

/// What scans of a table read, for `--stats`.
#[derive(Debug, Default)]
pub struct ReadCounters {
    pub rows: AtomicU64,
    pub bytes: AtomicU64,
    pub files_read: AtomicU64,
    pub files_pruned: AtomicU64,
    skipped: Mutex<Skipped>,
}

/// Bad records skipped with `--skip-bad-records`: how many, and the
/// places of the first ones.
#[derive(Debug, Default, Clone)]
pub struct Skipped {
    pub count: u64,
    pub first: Vec<String>,
}

impl ReadCounters {
    pub fn skipped(&self) -> Skipped {
        self.skipped.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn skip(&self, place: String) {
        if let Ok(mut s) = self.skipped.lock() {
            s.count += 1;
            if s.first.len() < 10 {
                s.first.push(place);
            }
        }
    }
}

/// Rows and bytes one range has read, added to the shared counters once,
/// when the range ends (however it ends), instead of per line: the
/// partitions run on different cores and would contend for the counters.
struct Tally<'c> {
    counters: &'c ReadCounters,
    rows: u64,
    bytes: u64,
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.counters.rows.fetch_add(self.rows, Ordering::Relaxed);
        self.counters.bytes.fetch_add(self.bytes, Ordering::Relaxed);
    }
}

/// One file of a lazily read table.
#[derive(Debug, Clone)]
pub struct LazyFile {
    pub path: PathBuf,
    pub gzip: bool,
    pub size: u64,
    /// The time window `[start, end)` (nanoseconds) of the export-tree
    /// folder the file sits in, when its path says.
    pub window: Option<(i64, i64)>,
}

/// A JSON-lines table read while queries run.
#[derive(Debug)]
pub struct LazyJsonTable {
    pub schema: TableSchema,
    arrow: SchemaRef,
    files: Vec<LazyFile>,
    keys: Arc<HashMap<String, usize>>,
    skip_bad: bool,
    pub counters: Arc<ReadCounters>,
}

impl LazyJsonTable {
    pub fn new(schema: TableSchema, files: Vec<LazyFile>, skip_bad: bool) -> LazyJsonTable {
        let arrow = crate::types::arrow_schema(&schema.columns);
        let keys = schema
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        LazyJsonTable {
            schema,
            arrow,
            files,
            keys: Arc::new(keys),
            skip_bad,
            counters: Arc::new(ReadCounters::default()),
        }
    }

    pub fn files(&self) -> &[LazyFile] {
        &self.files
    }

    /// The table's source files, for reports (rows are counted by scans).
    pub fn sources(&self) -> Vec<SourceFile> {
        self.files
            .iter()
            .map(|f| SourceFile {
                path: f.path.clone(),
                format: if f.window.is_some() {
                    super::Format::LaExport
                } else {
                    super::Format::JsonLines
                },
                gzip: f.gzip,
                rows: 0,
            })
            .collect()
    }

    fn time_column(&self) -> Option<&str> {
        self.schema
            .columns
            .iter()
            .find(|c| c.name == "TimeGenerated" && c.ty == ScalarType::DateTime)
            .map(|c| c.name.as_str())
    }
}

#[async_trait::async_trait]
impl TableProvider for LazyJsonTable {
    fn schema(&self) -> SchemaRef {
        self.arrow.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Filters only prune folders; DataFusion still applies each one.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.columns.len()).collect(),
        };
        let out_schema = Arc::new(self.arrow.project(&projection)?);
        let lower = self
            .time_column()
            .and_then(|col| lower_time_bound(filters, col));
        let mut kept = Vec::new();
        for f in &self.files {
            let pruned = match (lower, f.window) {
                (Some(low), Some((_, end))) => end.saturating_add(FOLDER_SLACK_NANOS) <= low,
                _ => false,
            };
            if pruned {
                self.counters.files_pruned.fetch_add(1, Ordering::Relaxed);
            } else {
                kept.push(f.clone());
            }
        }
        let partitions = state.config().target_partitions().max(1);
        let ranges = split_ranges(&kept, partitions);
        let read = Arc::new(ReadSpec {
            table: self.schema.name.clone(),
            columns: self.schema.columns.clone(),
            keys: self.keys.clone(),
            projection,
            skip_bad: self.skip_bad,
            counters: self.counters.clone(),
            limit,
        });
        let cache = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(out_schema.clone()),
            Partitioning::UnknownPartitioning(ranges.len().max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Arc::new(JsonLinesExec {
            schema: out_schema,
            ranges,
            files: kept.len(),
            pruned: self.files.len() - kept.len(),
            read,
            cache,
        }))
    }
}

/// The greatest lower bound the filters put on the time column, in
/// nanoseconds: `T > x`, `T >= x`, `x < T`, `x <= T`, `T between (x .. y)`.
fn lower_time_bound(filters: &[Expr], col: &str) -> Option<i64> {
    fn nanos(e: &Expr) -> Option<i64> {
        match e {
            Expr::Literal(v, _) => match v {
                ScalarValue::TimestampNanosecond(Some(n), _) => Some(*n),
                ScalarValue::TimestampMicrosecond(Some(n), _) => n.checked_mul(1_000),
                ScalarValue::TimestampMillisecond(Some(n), _) => n.checked_mul(1_000_000),
                ScalarValue::TimestampSecond(Some(n), _) => n.checked_mul(1_000_000_000),
                _ => None,
            },
            Expr::Cast(c) => nanos(&c.expr),
            Expr::TryCast(c) => nanos(&c.expr),
            _ => None,
        }
    }
    fn is_col(e: &Expr, col: &str) -> bool {
        matches!(e, Expr::Column(c) if c.name == col)
    }
    fn bound(e: &Expr, col: &str) -> Option<i64> {
        match e {
            Expr::BinaryExpr(b) => match b.op {
                Operator::And => match (bound(&b.left, col), bound(&b.right, col)) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                },
                Operator::Gt | Operator::GtEq if is_col(&b.left, col) => nanos(&b.right),
                Operator::Lt | Operator::LtEq if is_col(&b.right, col) => nanos(&b.left),
                _ => None,
            },
            Expr::Between(b) if !b.negated && is_col(&b.expr, col) => nanos(&b.low),
            _ => None,
        }
    }
    filters.iter().filter_map(|f| bound(f, col)).max()
}

/// A part of one file: lines that start in `[start, end)`.
#[derive(Debug, Clone)]
struct Range {
    file: Arc<Path>,
    gzip: bool,
    start: u64,
    end: u64,
}

/// Cuts the files into about `partitions` groups of byte ranges of similar
/// size (gzip files are read whole).
fn split_ranges(files: &[LazyFile], partitions: usize) -> Vec<Vec<Range>> {
    split_ranges_by(files, partitions, 4 << 20)
}

fn split_ranges_by(files: &[LazyFile], partitions: usize, min_piece: u64) -> Vec<Vec<Range>> {
    let total: u64 = files.iter().map(|f| f.size).sum();
    let share = (total / partitions as u64).max(min_piece);
    let mut groups: Vec<Vec<Range>> = vec![Vec::new()];
    let mut filled = 0u64;
    for f in files {
        let file: Arc<Path> = Arc::from(f.path.as_path());
        if f.gzip {
            push_piece(
                &mut groups,
                &mut filled,
                share,
                partitions,
                Range {
                    file,
                    gzip: true,
                    start: 0,
                    end: u64::MAX,
                },
                f.size,
            );
            continue;
        }
        let mut start = 0u64;
        while start < f.size {
            let room = share.saturating_sub(filled).max(min_piece);
            let end = (start + room).min(f.size);
            let end = if f.size - end < min_piece / 2 {
                f.size
            } else {
                end
            };
            push_piece(
                &mut groups,
                &mut filled,
                share,
                partitions,
                Range {
                    file: file.clone(),
                    gzip: false,
                    start,
                    end,
                },
                end - start,
            );
            start = end;
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

fn push_piece(
    groups: &mut Vec<Vec<Range>>,
    filled: &mut u64,
    share: u64,
    partitions: usize,
    r: Range,
    size: u64,
) {
    if *filled >= share && groups.len() < partitions && groups.last().is_some_and(|g| !g.is_empty())
    {
        groups.push(Vec::new());
        *filled = 0;
    }
    if let Some(g) = groups.last_mut() {
        g.push(r);
    }
    *filled += size;
}

/// What a scan reads: the table's columns and the projected ones.
#[derive(Debug)]
struct ReadSpec {
    table: String,
    columns: Vec<Column>,
    keys: Arc<HashMap<String, usize>>,
    projection: Vec<usize>,
    skip_bad: bool,
    counters: Arc<ReadCounters>,
    limit: Option<usize>,
}

/// The scan of a lazily read JSON-lines table.
#[derive(Debug)]
struct JsonLinesExec {
    schema: SchemaRef,
    ranges: Vec<Vec<Range>>,
    files: usize,
    pruned: usize,
    read: Arc<ReadSpec>,
    cache: Arc<PlanProperties>,
}

impl DisplayAs for JsonLinesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let cols: Vec<&str> = self
            .read
            .projection
            .iter()
            .filter_map(|i| self.read.columns.get(*i).map(|c| c.name.as_str()))
            .collect();
        write!(
            f,
            "KqlJsonLinesScan: table={}, files={}, pruned_files={}, partitions={}, columns={}/{} [{}]",
            self.read.table,
            self.files,
            self.pruned,
            self.ranges.len().max(1),
            cols.len(),
            self.read.columns.len(),
            cols.join(", ")
        )
    }
}

impl ExecutionPlan for JsonLinesExec {
    fn name(&self) -> &'static str {
        "KqlJsonLinesScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.cache
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let ranges = self.ranges.get(partition).cloned().unwrap_or_default();
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let read = self.read.clone();
        let schema = self.schema.clone();
        builder.spawn_blocking(move || {
            let mut rows_left = read.limit.unwrap_or(usize::MAX);
            for r in &ranges {
                if rows_left == 0 {
                    break;
                }
                let sent = read_range(&read, &schema, r, &mut rows_left, &mut |b| {
                    tx.blocking_send(Ok(b)).is_ok()
                });
                match sent {
                    Ok(true) => {}
                    // The query stopped reading.
                    Ok(false) => return Ok(()),
                    Err(e) => return Err(DataFusionError::External(Box::new(e))),
                }
            }
            Ok(())
        });
        Ok(builder.build())
    }
}

/// Reads the lines of a range, sending batches; false when the receiver
/// is gone.
fn read_range(
    read: &ReadSpec,
    schema: &SchemaRef,
    r: &Range,
    rows_left: &mut usize,
    send: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<bool, Error> {
    let open_err = |e: std::io::Error| Error::Data(format!("{}: {e}", r.file.display()));
    let file = std::fs::File::open(&r.file).map_err(open_err)?;
    read.counters.files_read.fetch_add(1, Ordering::Relaxed);
    let mut source: Box<dyn Read> = if r.gzip {
        text_reader(file, true)
    } else {
        let mut file = file;
        // Start one byte early: a range owns the lines that start in it,
        // so a line is skipped up to the first newline at or after
        // `start - 1`.
        file.seek(SeekFrom::Start(r.start.saturating_sub(1)))
            .map_err(open_err)?;
        Box::new(file)
    };
    let mut tally = Tally {
        counters: &read.counters,
        rows: 0,
        bytes: 0,
    };
    let mut rows = Rows::new(read, schema);
    let mut buf: Vec<u8> = Vec::with_capacity(8 << 20);
    // Absolute offset of buf[0] in the (decompressed) file.
    let mut offset = if r.gzip { 0 } else { r.start.saturating_sub(1) };
    let mut skip_first = !r.gzip && r.start > 0;
    // Lines seen in this range (for line numbers in errors).
    let mut line_no = 0usize;
    let mut eof = false;
    let gz_err = |e: std::io::Error| {
        Error::Data(format!(
            "{}: {}",
            r.file.display(),
            if r.gzip {
                format!("not a valid gzip file: {e}")
            } else {
                e.to_string()
            }
        ))
    };
    loop {
        if !eof {
            // Straight into the buffer's free space (no copy through a
            // chunk buffer, no zeroing).
            let n = (&mut source)
                .take(CHUNK_BYTES)
                .read_to_end(&mut buf)
                .map_err(gz_err)?;
            eof = n == 0;
        }
        let mut pos = 0usize;
        loop {
            let nl = memchr::memchr(b'\n', &buf[pos..]);
            let line_end = match nl {
                Some(i) => pos + i,
                None if eof => buf.len(),
                None => break,
            };
            if pos == buf.len() && eof {
                break;
            }
            let line_start_abs = offset + pos as u64;
            if skip_first {
                skip_first = false;
                pos = (line_end + 1).min(buf.len());
                if nl.is_none() {
                    break;
                }
                continue;
            }
            if line_start_abs >= r.end {
                return finish(&mut rows, send);
            }
            line_no += 1;
            // The bytes of the range's own lines (with their newline).
            tally.bytes += ((line_end + 1).min(buf.len()) - pos) as u64;
            let mut line = &buf[pos..line_end];
            if line_start_abs == 0 {
                line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
            }
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                match rows.push(line) {
                    Ok(()) => {
                        tally.rows += 1;
                        *rows_left = rows_left.saturating_sub(1);
                    }
                    Err(problem) => {
                        let place = place_of(r, line_start_abs, line_no);
                        let msg = problem.message(line, &read.columns);
                        let sep = if msg.starts_with(':') { "" } else { ": " };
                        let text = format!("{place}{sep}{msg}");
                        if read.skip_bad && !matches!(problem, RowError::UnknownColumn(_)) {
                            read.counters.skip(text);
                        } else {
                            return Err(Error::Data(text));
                        }
                    }
                }
                if rows.len() == BATCH_ROWS && !send(rows.finish()?) {
                    return Ok(false);
                }
                if *rows_left == 0 {
                    return finish(&mut rows, send);
                }
            }
            pos = (line_end + 1).min(buf.len());
            if nl.is_none() {
                break;
            }
        }
        buf.drain(..pos);
        offset += pos as u64;
        if eof && buf.is_empty() {
            break;
        }
        if eof && pos == 0 {
            break;
        }
    }
    finish(&mut rows, send)
}

fn finish(rows: &mut Rows, send: &mut dyn FnMut(RecordBatch) -> bool) -> Result<bool, Error> {
    if rows.len() == 0 {
        return Ok(true);
    }
    Ok(send(rows.finish()?))
}

/// `file:line` of a line, counting the newlines before the range when it
/// does not start the file (only on errors).
fn place_of(r: &Range, line_start: u64, line_in_range: usize) -> String {
    let before = if r.gzip || r.start == 0 {
        0
    } else {
        count_lines(&r.file, line_start).unwrap_or(0)
    };
    let line = if r.gzip || r.start == 0 {
        line_in_range
    } else {
        before + 1
    };
    format!("{}:{line}", r.file.display())
}

fn count_lines(path: &Path, upto: u64) -> std::io::Result<usize> {
    let mut f = std::fs::File::open(path)?.take(upto);
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            return Ok(n);
        }
        n += buf[..k].iter().filter(|&&c| c == b'\n').count();
    }
}

/// Why a line is not a record.
#[derive(Debug)]
enum RowError {
    /// Not valid JSON (or not UTF-8), or not an object: the eager reader's
    /// message is recomputed from the line.
    Syntax,
    /// A key outside the table's columns.
    UnknownColumn(String),
    /// A value that does not fit its column: (column index, reason).
    Value(usize, String),
}

impl RowError {
    fn message(&self, line: &[u8], columns: &[Column]) -> String {
        match self {
            RowError::Syntax => match std::str::from_utf8(line) {
                Err(e) => format!(
                    "the file is not UTF-8 text (invalid byte at column {})",
                    e.valid_up_to() + 1
                ),
                Ok(text) => match serde_json::from_str::<Value>(text) {
                    // `file:line:column: message`, as the eager reader says it.
                    Err(e) => format!(":{}: {}", e.column(), super::scan::message(&e)),
                    Ok(v) => format!(
                        "expected a JSON object per record, found {}",
                        match v {
                            Value::Null => "null",
                            Value::Bool(_) => "a boolean",
                            Value::Number(_) => "a number",
                            Value::String(_) => "a string",
                            Value::Array(_) => "an array",
                            Value::Object(_) => "an object",
                        }
                    ),
                },
            },
            RowError::UnknownColumn(k) => format!(
                "column `{k}` is not one of the table's columns (its schema and the columns \
                 of its first {SAMPLE_ROWS} records); name it in a schema file for the table"
            ),
            RowError::Value(i, why) => format!(
                "column `{}`: {why}",
                columns.get(*i).map_or("?", |c| c.name.as_str())
            ),
        }
    }
}

impl From<jiter::JiterError> for RowError {
    fn from(_: jiter::JiterError) -> Self {
        RowError::Syntax
    }
}

/// Column builders for the projected columns.
enum Builder {
    Bool(BooleanBuilder),
    Int(Int32Builder),
    Long(Int64Builder),
    Real(Float64Builder),
    Text(StringBuilder),
    Time(TimestampNanosecondBuilder),
    Span(DurationNanosecondBuilder),
}

/// One converted value.
enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Str(std::borrow::Cow<'a, str>),
}

/// A key of the previous record (decoded), at its place in the record.
struct SeenKey {
    key: Box<str>,
    column: usize,
    /// Without quotes and backslashes: its JSON text is its bytes.
    plain: bool,
}

struct Rows<'s> {
    read: &'s ReadSpec,
    schema: SchemaRef,
    /// Slot of each table column in the projection.
    slot_of: Vec<Option<usize>>,
    types: Vec<ScalarType>,
    builders: Vec<Builder>,
    /// Raw value span of each projected column in the current line.
    spans: Vec<Option<(usize, usize)>>,
    /// Per projected column: its value in the current line is a JSON
    /// object or array already known to be in the canonical dynamic form
    /// (checked while scanning, instead of walking it a second time).
    canonical: Vec<bool>,
    /// Key order of the previous record, to find columns without hashing.
    order: Vec<SeenKey>,
    len: usize,
}

impl<'s> Rows<'s> {
    fn new(read: &'s ReadSpec, schema: &SchemaRef) -> Rows<'s> {
        let mut slot_of = vec![None; read.columns.len()];
        for (slot, &i) in read.projection.iter().enumerate() {
            if let Some(s) = slot_of.get_mut(i) {
                *s = Some(slot);
            }
        }
        let types: Vec<ScalarType> = read
            .projection
            .iter()
            .map(|&i| read.columns.get(i).map_or(ScalarType::String, |c| c.ty))
            .collect();
        let mut rows = Rows {
            read,
            schema: schema.clone(),
            slot_of,
            builders: Vec::new(),
            spans: vec![None; types.len()],
            canonical: vec![false; types.len()],
            types,
            order: Vec::new(),
            len: 0,
        };
        rows.builders = rows.new_builders();
        rows
    }

    fn new_builders(&self) -> Vec<Builder> {
        self.types
            .iter()
            .map(|t| match t {
                ScalarType::Bool => Builder::Bool(BooleanBuilder::with_capacity(BATCH_ROWS)),
                ScalarType::Int => Builder::Int(Int32Builder::with_capacity(BATCH_ROWS)),
                ScalarType::Long => Builder::Long(Int64Builder::with_capacity(BATCH_ROWS)),
                ScalarType::Real => Builder::Real(Float64Builder::with_capacity(BATCH_ROWS)),
                ScalarType::DateTime => Builder::Time(
                    TimestampNanosecondBuilder::with_capacity(BATCH_ROWS).with_timezone("UTC"),
                ),
                ScalarType::Timespan => {
                    Builder::Span(DurationNanosecondBuilder::with_capacity(BATCH_ROWS))
                }
                _ => Builder::Text(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 32)),
            })
            .collect()
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The table column of a key: the previous record's order first.
    fn column_of(&mut self, key: &[u8], at: usize) -> Option<usize> {
        if let Some(k) = self.order.get(at)
            && compact::same_key(k.key.as_bytes(), key)
        {
            return Some(k.column);
        }
        let key = std::str::from_utf8(key).ok()?;
        let column = *self.read.keys.get(key)?;
        self.order.truncate(at);
        self.order.push(SeenKey {
            key: key.into(),
            column,
            plain: !key.contains(['"', '\\']),
        });
        Some(column)
    }

    /// Converts one line into a row of the builders.
    fn push(&mut self, line: &[u8]) -> Result<(), RowError> {
        // One UTF-8 check per line: values are then sliced out of it.
        let Ok(text) = std::str::from_utf8(line) else {
            return Err(RowError::Syntax);
        };
        let control = has_control(line);
        for s in self.spans.iter_mut() {
            *s = None;
        }
        self.canonical.fill(false);
        // Compact records (what exports write) go through the byte
        // scanner; anything else, and every error, through jiter.
        let compact = if control {
            None
        } else {
            self.scan_compact(line)
        };
        if compact.is_none() {
            self.walk_jiter(line)?;
        }
        self.convert_row(text)
    }

    /// Finds the projected values of a compact record (no blanks between
    /// tokens, no control bytes) by a validating byte scan that decodes
    /// nothing; None when the line is not such a record (or has any
    /// error: the jiter walk then reports it).
    fn scan_compact(&mut self, line: &[u8]) -> Option<()> {
        let b = line;
        if b.first() != Some(&b'{') {
            return None;
        }
        let mut i = 1;
        if b.get(i) == Some(&b'}') {
            return (b.len() == 2).then_some(());
        }
        let mut at = 0usize;
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            // Records of a file mostly repeat the previous record's keys:
            // a plain key (no quote or backslash) whose bytes are followed
            // by a quote is that key, its string ending there.
            let (col, kend) = match self.order.get(at) {
                Some(k)
                    if k.plain
                        && b.get(i + 1 + k.key.len()) == Some(&b'"')
                        && compact::same_key(&b[i + 1..i + 1 + k.key.len()], k.key.as_bytes()) =>
                {
                    (k.column, i + 2 + k.key.len())
                }
                _ => match compact::key_end(b, i)? {
                    (kend, false) => (self.column_of(&b[i + 1..kend - 1], at)?, kend),
                    (_, true) => return None,
                },
            };
            if b.get(kend) != Some(&b':') {
                return None;
            }
            at += 1;
            let start = kend + 1;
            let slot = self.slot_of.get(col).copied().flatten();
            let dynamic = slot.is_some_and(|slot| self.types[slot] == ScalarType::Dynamic);
            let mut canonical = false;
            let end = match b.get(start) {
                Some(b'"') => compact::string_end(b, start)?,
                // A dynamic object or array is checked for the canonical
                // form as it is scanned: the walk that finds its end also
                // tells whether it can be kept as it is.
                Some(b'{' | b'[') if dynamic => match compact::canonical_end(b, start, 0) {
                    Some(end) => {
                        canonical = true;
                        end
                    }
                    None => compact::value_end(b, start, 0)?,
                },
                _ => compact::value_end(b, start, 0)?,
            };
            if let Some(slot) = slot {
                self.spans[slot] = Some((start, end));
                self.canonical[slot] = canonical;
            }
            match b.get(end) {
                Some(b',') => i = end + 1,
                Some(b'}') if end + 1 == b.len() => return Some(()),
                _ => return None,
            }
        }
    }

    /// Finds the projected values with jiter (any JSON; exact errors).
    fn walk_jiter(&mut self, line: &[u8]) -> Result<(), RowError> {
        for s in self.spans.iter_mut() {
            *s = None;
        }
        self.canonical.fill(false);
        let mut j = Jiter::new(line);
        if j.peek()? != Peek::Object {
            return Err(RowError::Syntax);
        }
        let mut at = 0usize;
        let mut next = j
            .known_object()?
            .map(|k| self.column_of(k.as_bytes(), at).ok_or_else(|| k.to_owned()));
        while let Some(found) = next {
            let col = found.map_err(RowError::UnknownColumn)?;
            at += 1;
            match self.slot_of.get(col).copied().flatten() {
                Some(slot) => {
                    let peek = j.peek()?;
                    let start = j.current_index();
                    j.known_skip(peek)?;
                    self.spans[slot] = Some((start, j.current_index()));
                }
                None => j.next_skip()?,
            }
            next = j
                .next_key()?
                .map(|k| self.column_of(k.as_bytes(), at).ok_or_else(|| k.to_owned()));
        }
        j.finish()?;
        Ok(())
    }

    /// Converts the projected values found in `line` into the builders.
    fn convert_row(&mut self, line: &str) -> Result<(), RowError> {
        // Convert every projected value first, so a bad one leaves no
        // partial row behind.
        let mut cells: Vec<Cell> = Vec::with_capacity(self.types.len());
        for (slot, ty) in self.types.iter().enumerate() {
            // Spans start and end at ASCII tokens, so at char boundaries.
            let raw = match self.spans[slot] {
                Some((s, e)) => Some(trim_text(line.get(s..e).ok_or(RowError::Syntax)?)),
                None => None,
            };
            let col = self.read.projection[slot];
            if self.canonical[slot]
                && let Some(text) = raw
            {
                cells.push(Cell::Str(text.into()));
                continue;
            }
            cells.push(convert_cell(*ty, raw).map_err(|e| RowError::Value(col, e))?);
        }
        for (b, c) in self.builders.iter_mut().zip(cells) {
            append(b, c);
        }
        self.len += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<RecordBatch, Error> {
        let fresh = self.new_builders();
        let builders = std::mem::replace(&mut self.builders, fresh);
        let arrays: Vec<ArrayRef> = builders
            .into_iter()
            .map(|b| -> ArrayRef {
                match b {
                    Builder::Bool(mut b) => Arc::new(b.finish()),
                    Builder::Int(mut b) => Arc::new(b.finish()),
                    Builder::Long(mut b) => Arc::new(b.finish()),
                    Builder::Real(mut b) => Arc::new(b.finish()),
                    Builder::Text(mut b) => Arc::new(b.finish()),
                    Builder::Time(mut b) => Arc::new(b.finish()),
                    Builder::Span(mut b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(self.len));
        self.len = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| Error::Data(format!("{}: {e}", self.read.table)))
    }
}

fn append(b: &mut Builder, c: Cell) {
    match (b, c) {
        (Builder::Bool(b), Cell::Bool(v)) => b.append_value(v),
        (Builder::Bool(b), _) => b.append_null(),
        (Builder::Int(b), Cell::Int(v)) => b.append_value(v as i32),
        (Builder::Int(b), _) => b.append_null(),
        (Builder::Long(b), Cell::Int(v)) => b.append_value(v),
        (Builder::Long(b), _) => b.append_null(),
        (Builder::Time(b), Cell::Int(v)) => b.append_value(v),
        (Builder::Time(b), _) => b.append_null(),
        (Builder::Span(b), Cell::Int(v)) => b.append_value(v),
        (Builder::Span(b), _) => b.append_null(),
        (Builder::Real(b), Cell::Real(v)) => b.append_value(v),
        (Builder::Real(b), _) => b.append_null(),
        (Builder::Text(b), Cell::Str(s)) => b.append_value(s),
        (Builder::Text(b), _) => b.append_null(),
    }
}

/// Whether a line has control bytes (below 0x20: blanks other than the
/// space, or bytes JSON strings may not hold). In blocks the compiler
/// turns into vector instructions.
fn has_control(line: &[u8]) -> bool {
    let mut blocks = line.chunks_exact(32);
    let mut low = false;
    for block in blocks.by_ref() {
        low |= block.iter().fold(false, |l, &b| l | (b < 0x20));
    }
    low | blocks.remainder().iter().any(|&b| b < 0x20)
}

/// A validating scan of compact JSON (no blanks between tokens), shared
/// with the dynamic-value functions: where
/// strings and values end, checking what jiter would check (escapes,
/// number and literal syntax, nesting), without decoding.
pub(crate) mod compact {
    /// The index after the string starting at `b[i] == '"'`.
    pub(crate) fn string_end(b: &[u8], i: usize) -> Option<usize> {
        let mut j = i + 1;
        loop {
            let k = j + quote_or_backslash(b.get(j..)?)?;
            if b[k] == b'"' {
                return Some(k + 1);
            }
            match *b.get(k + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j = k + 2,
                b'u' => {
                    let hex = b.get(k + 2..k + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    // Surrogates must pair up: left to jiter to judge.
                    if matches!(hex[0], b'd' | b'D')
                        && matches!(hex[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
                    {
                        return None;
                    }
                    j = k + 6;
                }
                _ => return None,
            }
        }
    }

    /// The index after the key string at `b[i] == '"'`, and whether it
    /// holds an escape (then its text is not its bytes).
    #[inline]
    pub(crate) fn key_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
        let k = i + 1 + quote_or_backslash(b.get(i + 1..)?)?;
        if b[k] == b'"' {
            return Some((k + 1, false));
        }
        Some((string_end(b, i)?, true))
    }

    /// The index of the first `"` or `\\` in `b`. Strings in records are
    /// short, or (JSON held in a string) full of escapes, so the search
    /// is restarted often: eight bytes at a time in a machine word, which
    /// costs nothing to set up.
    pub(super) fn quote_or_backslash(b: &[u8]) -> Option<usize> {
        let hits = |w: u64| matches(w, b'"') | matches(w, b'\\');
        let n = b.len();
        let mut at = 0;
        while at + 8 <= n {
            let m = hits(word(b, at));
            if m != 0 {
                return Some(at + (m.trailing_zeros() / 8) as usize);
            }
            at += 8;
        }
        if at == n {
            return None;
        }
        if n >= 8 {
            // The last eight bytes, overlapping bytes already searched:
            // those hold no match, so the lowest hit is at or after `at`.
            let m = hits(word(b, n - 8));
            return (m != 0).then(|| n - 8 + (m.trailing_zeros() / 8) as usize);
        }
        b.iter().position(|&c| c == b'"' || c == b'\\')
    }

    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// High bit set in the bytes of `w` equal to `c`; bits above the
    /// lowest such byte may be set spuriously, the lowest is exact.
    #[inline(always)]
    fn matches(w: u64, c: u8) -> u64 {
        let x = w ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x & HIGH
    }

    /// The eight bytes at `b[i..i + 8]` as a little-endian word.
    #[inline(always)]
    fn word(b: &[u8], i: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(w)
    }

    /// Byte equality of two keys, inlined: keys are short, and a call to
    /// the C library's memcmp per key costs more than the comparison.
    /// Eight bytes at a time, the last word overlapping the one before.
    #[inline]
    pub(crate) fn same_key(a: &[u8], b: &[u8]) -> bool {
        let n = a.len();
        if n != b.len() {
            return false;
        }
        if n < 8 {
            return a.iter().zip(b).all(|(x, y)| x == y);
        }
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    }

    fn number_end(b: &[u8], i: usize) -> Option<usize> {
        let mut j = i;
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        let digits = |j: &mut usize| {
            let s = *j;
            while b.get(*j).is_some_and(u8::is_ascii_digit) {
                *j += 1;
            }
            *j > s
        };
        match b.get(j) {
            Some(b'0') => j += 1,
            Some(b'1'..=b'9') => {
                digits(&mut j);
            }
            _ => return None,
        }
        if b.get(j) == Some(&b'.') {
            j += 1;
            if !digits(&mut j) {
                return None;
            }
        }
        if matches!(b.get(j), Some(b'e' | b'E')) {
            j += 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if !digits(&mut j) {
                return None;
            }
        }
        Some(j)
    }

    /// The index after the value starting at `b[i]`.
    pub(crate) fn value_end(b: &[u8], i: usize, depth: usize) -> Option<usize> {
        walk(b, i, depth, false)
    }

    /// Like `value_end`, for the canonical form of dynamic values (what
    /// serde_json writes): None also on escapes it does not write, raw
    /// control bytes in strings, numbers other than i64 integers (and
    /// `-0`), and a key repeated in an object.
    pub(crate) fn canonical_end(b: &[u8], i: usize, depth: usize) -> Option<usize> {
        walk(b, i, depth, true)
    }

    /// The one walk behind `value_end` and `canonical_end`.
    fn walk(b: &[u8], i: usize, depth: usize, canonical: bool) -> Option<usize> {
        if depth > 64 {
            return None;
        }
        let string = |j: usize| {
            if canonical {
                canonical_string_end(b, j)
            } else {
                string_end(b, j)
            }
        };
        match *b.get(i)? {
            b'"' => string(i),
            b'{' => {
                let mut j = i + 1;
                if b.get(j) == Some(&b'}') {
                    return Some(j + 1);
                }
                // Keys seen, for the canonical form (no repeats); nothing is
                // set up for the plain walk.
                let mut seen = canonical.then(KeySet::default);
                loop {
                    if b.get(j) != Some(&b'"') {
                        return None;
                    }
                    let kend = string(j)?;
                    if let Some(seen) = seen.as_mut()
                        && !seen.insert(&b[j..kend])
                    {
                        return None;
                    }
                    if b.get(kend) != Some(&b':') {
                        return None;
                    }
                    j = walk(b, kend + 1, depth + 1, canonical)?;
                    match b.get(j) {
                        Some(b',') => j += 1,
                        Some(b'}') => return Some(j + 1),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                let mut j = i + 1;
                if b.get(j) == Some(&b']') {
                    return Some(j + 1);
                }
                loop {
                    j = walk(b, j, depth + 1, canonical)?;
                    match b.get(j) {
                        Some(b',') => j += 1,
                        Some(b']') => return Some(j + 1),
                        _ => return None,
                    }
                }
            }
            b't' => b[i..].starts_with(b"true").then_some(i + 4),
            b'f' => b[i..].starts_with(b"false").then_some(i + 5),
            b'n' => b[i..].starts_with(b"null").then_some(i + 4),
            _ => {
                let end = number_end(b, i)?;
                if !canonical {
                    return Some(end);
                }
                let t = &b[i..end];
                let integer = !t.iter().any(|c| matches!(c, b'.' | b'e' | b'E'));
                // Up to 18 digits always fit an i64; longer integers take
                // the slow path (serde_json decides how to write them).
                let digits = t.len() - usize::from(t.first() == Some(&b'-'));
                (integer && digits <= 18 && t != b"-0").then_some(end)
            }
        }
    }

    /// The keys of one object, as raw text (with only serde_json's escapes
    /// allowed, equal keys have equal text). Most objects have a few: a
    /// fixed array, then a Vec.
    #[derive(Default)]
    struct KeySet<'b> {
        few: [&'b [u8]; 16],
        n: usize,
        more: Vec<&'b [u8]>,
    }

    impl<'b> KeySet<'b> {
        /// Adds a key; false when it was there already.
        fn insert(&mut self, key: &'b [u8]) -> bool {
            if self.few[..self.n].contains(&key) || self.more.contains(&key) {
                return false;
            }
            if self.n < self.few.len() {
                self.few[self.n] = key;
                self.n += 1;
            } else {
                self.more.push(key);
            }
            true
        }
    }

    /// The index after the string at `b[i] == '"'`, when it is written as
    /// serde_json writes strings.
    fn canonical_string_end(b: &[u8], i: usize) -> Option<usize> {
        let mut j = i + 1;
        loop {
            let k = j + quote_or_backslash(b.get(j..)?)?;
            if b[j..k].iter().any(|&c| c < 0x20) {
                return None;
            }
            if b[k] == b'"' {
                return Some(k + 1);
            }
            match *b.get(k + 1)? {
                b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => j = k + 2,
                _ => return None,
            }
        }
    }
}

/// The value's text without the `:`/`,` and blanks jiter leaves around it.
fn trim_text(raw: &str) -> &str {
    raw.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ':' || c == ',')
        .trim_end_matches(|c: char| c.is_ascii_whitespace())
}

/// The value's bytes without the `:`/`,` and blanks jiter leaves around it.
#[cfg(test)]
fn trim_value(raw: &[u8]) -> &[u8] {
    let start = raw
        .iter()
        .position(|c| !(c.is_ascii_whitespace() || *c == b':' || *c == b','))
        .unwrap_or(raw.len());
    let end = raw
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1)
        .max(start);
    &raw[start..end]
}

/// Converts one raw JSON value (None: the key is absent) for a column of
/// type `ty`, by the rules of `convert.rs`. Common shapes are handled
/// here; anything else is parsed with serde_json and converted by the
/// eager reader's own functions.
fn convert_cell(ty: ScalarType, raw: Option<&str>) -> Result<Cell<'_>, String> {
    let Some(text) = raw else {
        return Ok(match ty {
            ScalarType::String => Cell::Str("".into()),
            _ => Cell::Null,
        });
    };
    let raw = text.as_bytes();
    let first = raw.first().copied().unwrap_or(b'n');
    if first == b'n' {
        // null
        return Ok(match ty {
            ScalarType::String => Cell::Str("".into()),
            _ => Cell::Null,
        });
    }
    if first == b'"' {
        // The line was checked (UTF-8, and a string's syntax by the
        // scanner or jiter): a string without escapes is its bytes.
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
                return string_cell(ty, inner.into());
            }
            if let Some(s) = unescape(inner) {
                return string_cell(ty, s.into());
            }
        }
        let mut j = Jiter::new(raw);
        let s = j.next_str().map_err(|e| e.to_string())?;
        return string_cell(ty, s.to_owned().into());
    }
    match ty {
        ScalarType::Dynamic => {
            if (first == b'{' || first == b'[') && canonical(raw) {
                return Ok(Cell::Str(text.into()));
            }
            if first == b't' || first == b'f' {
                return Ok(Cell::Str(
                    if first == b't' { "true" } else { "false" }.into(),
                ));
            }
            slow(ty, raw)
        }
        ScalarType::Long | ScalarType::Int if first == b'-' || first.is_ascii_digit() => {
            let mut j = Jiter::new(raw);
            match j.next_number().map_err(|e| e.to_string())? {
                NumberAny::Int(NumberInt::Int(n)) => {
                    if ty == ScalarType::Int && i32::try_from(n).is_err() {
                        return Err(format!("`{}` is not a {}", text_of(raw), ty.name()));
                    }
                    Ok(Cell::Int(n))
                }
                _ => slow(ty, raw),
            }
        }
        ScalarType::Real if first == b'-' || first.is_ascii_digit() => {
            let mut j = Jiter::new(raw);
            match j.next_number().map_err(|e| e.to_string())? {
                NumberAny::Int(NumberInt::Int(n)) => Ok(Cell::Real(n as f64)),
                NumberAny::Float(f) => Ok(Cell::Real(f)),
                #[allow(unreachable_patterns)]
                _ => slow(ty, raw),
            }
        }
        ScalarType::Bool if first == b't' || first == b'f' => Ok(Cell::Bool(first == b't')),
        _ => slow(ty, raw),
    }
}

/// The text of a JSON string from the bytes between its quotes, already
/// checked (by the scanner or jiter), when its escapes are the one-letter
/// ones. A byte loop: escapes in records come every few bytes (JSON held in
/// a string), too often for a copy per run to pay. None for a `\\u`
/// escape or anything unexpected: jiter decodes those.
fn unescape(inner: &str) -> Option<String> {
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        out.push(match b.get(i + 1)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            _ => return None,
        });
        i += 2;
    }
    // Only ASCII bytes were put in place of escapes: still UTF-8.
    String::from_utf8(out).ok()
}

fn text_of(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// A JSON string value for a column of type `ty`.
fn string_cell(ty: ScalarType, s: std::borrow::Cow<'_, str>) -> Result<Cell<'_>, String> {
    match ty {
        ScalarType::String => Ok(Cell::Str(s)),
        ScalarType::Guid => Ok(if s.is_empty() {
            Cell::Null
        } else {
            Cell::Str(s)
        }),
        ScalarType::DateTime => {
            if s.is_empty() {
                return Ok(Cell::Null);
            }
            if let Some(n) = fast_datetime(&s) {
                return Ok(Cell::Int(n));
            }
            slow_value(ty, &Value::String(s.into_owned()))
        }
        ScalarType::Dynamic => {
            if (s.starts_with('{') || s.starts_with('[')) && canonical(s.as_bytes()) {
                return Ok(Cell::Str(s));
            }
            let v = Value::String(s.into_owned());
            Ok(convert::to_dynamic(&v).map_or(Cell::Null, |t| Cell::Str(t.into())))
        }
        _ => {
            if s.is_empty() {
                return Ok(Cell::Null);
            }
            slow_value(ty, &Value::String(s.into_owned()))
        }
    }
}

fn slow(ty: ScalarType, raw: &[u8]) -> Result<Cell<'static>, String> {
    let v: Value = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
    slow_value(ty, &v)
}

/// The eager reader's conversion of one value.
fn slow_value(ty: ScalarType, v: &Value) -> Result<Cell<'static>, String> {
    let mut b = convert::TableBuilder::new(vec![Column {
        name: String::new(),
        ty,
    }])?;
    b.push(|_| Some(v)).map_err(|e| {
        // "column ``: reason" -> "reason"
        e.split_once(": ").map_or(e.clone(), |(_, r)| r.to_string())
    })?;
    let (_, batches) = b.finish()?;
    let Some(batch) = batches.first() else {
        return Ok(Cell::Null);
    };
    let a = batch.column(0);
    use datafusion::arrow::array::{
        Array, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array, Int64Array,
        StringArray, TimestampNanosecondArray,
    };
    if a.is_null(0) {
        return Ok(Cell::Null);
    }
    let any = a.as_any();
    let cell = if let Some(x) = any.downcast_ref::<StringArray>() {
        Cell::Str(x.value(0).to_string().into())
    } else if let Some(x) = any.downcast_ref::<Int64Array>() {
        Cell::Int(x.value(0))
    } else if let Some(x) = any.downcast_ref::<Int32Array>() {
        Cell::Int(i64::from(x.value(0)))
    } else if let Some(x) = any.downcast_ref::<Float64Array>() {
        Cell::Real(x.value(0))
    } else if let Some(x) = any.downcast_ref::<BooleanArray>() {
        Cell::Bool(x.value(0))
    } else if let Some(x) = any.downcast_ref::<TimestampNanosecondArray>() {
        Cell::Int(x.value(0))
    } else if let Some(x) = any.downcast_ref::<DurationNanosecondArray>() {
        Cell::Int(x.value(0))
    } else {
        Cell::Null
    };
    Ok(cell)
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z`, the form exports write, without
/// allocating; None for anything else (the general parser decides).
fn fast_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut n = 0u32;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
        }
        Some(n)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = &b[19..b.len() - 1];
    let nanos: i64 = match frac {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 7 => {
            let mut n = 0i64;
            for &c in digits {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n * 10 + i64::from(c - b'0');
            }
            n * 10i64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?;
    let secs = date.and_hms_opt(h, mi, sec)?.and_utc().timestamp();
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Whether `text` is JSON exactly as kqlite stores dynamic values (the
/// compact form serde_json writes, keys in their order): no blanks
/// outside strings, no escapes other than the ones it writes, integers
/// only, no repeated keys. Then the text is kept as it is.
pub(crate) fn canonical(text: &[u8]) -> bool {
    compact::canonical_end(text, 0, 0) == Some(text.len())
}

/// The tables of `-d [NAME=]PATH` as lazily read tables, when every file
/// of the path is JSON lines of a table with a built-in schema (one file,
/// a folder of part files, a Log Analytics export tree); None when any
/// part needs the eager reader (other formats, unknown tables, records
/// spanning lines, content that names its table).
pub fn open_lazy(
    name: Option<&str>,
    path: &Path,
    format: super::Format,
    skip_bad: bool,
) -> crate::error::Result<Option<Vec<LazyJsonTable>>> {
    use super::Format;
    if !matches!(format, Format::Auto | Format::JsonLines | Format::LaExport) {
        return Ok(None);
    }
    let Some(plan) = super::plan_source(name, path, format, Format::JsonLines)? else {
        return Ok(None);
    };
    if plan.is_empty() {
        return Ok(None);
    }
    // Group files by table, in first-seen order.
    let mut groups: Vec<(String, Vec<LazyFile>)> = Vec::new();
    for p in &plan {
        let ext_ok = super::split_extension(
            &p.file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
        .is_some_and(|(_, e)| matches!(e, "ndjson" | "jsonl" | "json"));
        if !ext_ok && format == Format::Auto {
            return Ok(None);
        }
        let Some(gzip) = json_lines_head(&p.file)? else {
            return Ok(None);
        };
        let size = p.file.metadata().map(|m| m.len()).unwrap_or(0);
        let window = p.container.as_ref().and_then(|_| folder_window(&p.file));
        let f = LazyFile {
            path: p.file.clone(),
            gzip,
            size,
            window,
        };
        match groups.iter_mut().find(|g| g.0 == p.default) {
            Some(g) => g.1.push(f),
            None => groups.push((p.default.clone(), vec![f])),
        }
    }
    if name.is_some() && groups.len() > 1 {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (table, files) in groups {
        let table = name.map_or(table, str::to_string);
        let Some(mut schema) = crate::schema::builtin(&table) else {
            return Ok(None);
        };
        schema.name = table.clone();
        let extra = extra_columns(&schema, &files)?;
        schema.columns.extend(extra);
        out.push(LazyJsonTable::new(schema, files, skip_bad));
    }
    Ok(Some(out))
}

/// A file's text, gunzipped as it is read when `gzip`.
fn text_reader(file: std::fs::File, gzip: bool) -> Box<dyn Read> {
    if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else {
        Box::new(file)
    }
}

/// Whether a file starts like JSON lines (its first record is an object
/// that ends on its first line and is a plain record, not a Defender
/// streaming envelope or another shape): Some(gzip) if so.
fn json_lines_head(path: &Path) -> crate::error::Result<Option<bool>> {
    let data_err = |e: std::io::Error| Error::Data(format!("{}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(data_err)?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(data_err)?;
    let gzip = n == 2 && magic == [0x1f, 0x8b];
    file.seek(SeekFrom::Start(0)).map_err(data_err)?;
    let reader = text_reader(file, gzip);
    // The first non-blank line (at most 16 MiB).
    let mut head = Vec::new();
    let mut limited = reader.take(16 << 20);
    let mut buf = [0u8; 64 << 10];
    let line = loop {
        let k = match limited.read(&mut buf) {
            Ok(k) => k,
            Err(_) => return Ok(None),
        };
        head.extend_from_slice(&buf[..k]);
        let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head);
        let mut found = None;
        let mut start = 0;
        for (i, c) in text.iter().enumerate() {
            if *c == b'\n' {
                if !text[start..i].iter().all(u8::is_ascii_whitespace) {
                    found = Some(text[start..i].to_vec());
                    break;
                }
                start = i + 1;
            }
        }
        if let Some(l) = found {
            break l;
        }
        if k == 0 {
            let rest = text[start..].to_vec();
            if rest.iter().all(u8::is_ascii_whitespace) {
                // An empty file: the eager reader reports it.
                return Ok(None);
            }
            break rest;
        }
    };
    let Ok(text) = std::str::from_utf8(&line) else {
        return Ok(None);
    };
    let doc = super::scan::Doc::new(text);
    let start = doc.skip_ws(0);
    if text.as_bytes().get(start) != Some(&b'{') {
        return Ok(None);
    }
    // The whole first record on this line, and the reader would take it
    // as JSON lines.
    if doc.value_end(start).is_err() {
        return Ok(None);
    }
    match super::json::detect(&doc, start) {
        Ok(super::Format::JsonLines) => Ok(Some(gzip)),
        _ => Ok(None),
    }
}

/// The time window of an export-tree file from its folders
/// (`y=2024/m=05/d=01/h=13/...`): the hour, or the day without `h=`.
fn folder_window(path: &Path) -> Option<(i64, i64)> {
    let (mut y, mut mo, mut d, mut h) = (None, None, None, None);
    for part in path.parent()?.components() {
        let part = part.as_os_str().to_string_lossy();
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v: u32 = match v.parse() {
            Ok(v) => v,
            Err(_) => continue,
        };
        match k {
            "y" => y = Some(v),
            // The first `m=` is the month; the one after `h=` the minute.
            "m" if mo.is_none() => mo = Some(v),
            "d" => d = Some(v),
            "h" => h = Some(v),
            _ => {}
        }
    }
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(y?).ok()?, mo?, d?)?;
    let (start, len) = match h {
        Some(h) => (date.and_hms_opt(h, 0, 0)?, 3_600i64),
        None => (date.and_hms_opt(0, 0, 0)?, 86_400),
    };
    let s = start.and_utc().timestamp().checked_mul(1_000_000_000)?;
    Some((s, s.checked_add(len * 1_000_000_000)?))
}

/// The schema's column names, and which of them each place of the
/// previous record held: records of a file repeat their keys in order, so
/// a key is mostly known by one comparison.
struct NamedKeys<'s> {
    names: Vec<&'s [u8]>,
    previous: Vec<Option<usize>>,
}

impl<'s> NamedKeys<'s> {
    fn new(schema: &'s TableSchema) -> NamedKeys<'s> {
        NamedKeys {
            names: schema.columns.iter().map(|c| c.name.as_bytes()).collect(),
            previous: Vec::new(),
        }
    }

    /// Whether the schema names `key`, the record's key at place `at`.
    fn named(&mut self, key: &[u8], at: usize) -> bool {
        if let Some(Some(n)) = self.previous.get(at)
            && self
                .names
                .get(*n)
                .is_some_and(|name| compact::same_key(name, key))
        {
            return true;
        }
        let found = self.names.iter().position(|n| compact::same_key(n, key));
        if self.previous.len() <= at {
            self.previous.resize(at + 1, None);
        }
        self.previous[at] = found;
        found.is_some()
    }
}

/// The members of a compact record (no blanks, no escaped keys) whose keys
/// the schema does not name, usually none; for a repeated key its last
/// value, as the scan and serde_json keep. None when the line is not such
/// a record.
fn unnamed_members<'b>(b: &'b [u8], keys: &mut NamedKeys) -> Option<Vec<(&'b str, &'b [u8])>> {
    if has_control(b) || b.first() != Some(&b'{') {
        return None;
    }
    let mut members: Vec<(&str, &[u8])> = Vec::new();
    let mut i = 1;
    if b.get(i) == Some(&b'}') {
        return (b.len() == 2).then_some(members);
    }
    let mut at = 0;
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let (kend, false) = compact::key_end(b, i)? else {
            return None;
        };
        if b.get(kend) != Some(&b':') {
            return None;
        }
        let raw = &b[i + 1..kend - 1];
        let end = compact::value_end(b, kend + 1, 0)?;
        if !keys.named(raw, at) {
            let key = std::str::from_utf8(raw).ok()?;
            let value = &b[kend + 1..end];
            match members.iter_mut().find(|m| m.0 == key) {
                Some(m) => m.1 = value,
                None => members.push((key, value)),
            }
        }
        at += 1;
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b'}') if end + 1 == b.len() => return Some(members),
            _ => return None,
        }
    }
}

/// Columns beyond the schema that the first records have, typed from
/// them as the eager reader types them (it looks at up to this many
/// values of each).
fn extra_columns(schema: &TableSchema, files: &[LazyFile]) -> crate::error::Result<Vec<Column>> {
    let mut seen = 0usize;
    let mut extra: Vec<(String, Vec<Value>)> = Vec::new();
    for f in files {
        if seen >= SAMPLE_ROWS {
            break;
        }
        let file = std::fs::File::open(&f.path)
            .map_err(|e| Error::Data(format!("{}: {e}", f.path.display())))?;
        let reader = text_reader(file, f.gzip);
        use std::io::BufRead;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, reader);
        let mut buf = Vec::new();
        let mut keys = NamedKeys::new(schema);
        while seen < SAMPLE_ROWS {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            // Compact records: only the values of keys the schema does not
            // name are parsed (usually none).
            let unnamed = |k: &str| !schema.columns.iter().any(|c| c.name == k);
            let fields: Vec<(String, Value)> =
                if let Some(members) = unnamed_members(line, &mut keys) {
                    members
                        .into_iter()
                        .filter_map(|(k, v)| Some((k.to_string(), serde_json::from_slice(v).ok()?)))
                        .collect()
                } else if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(line) {
                    fields.into_iter().filter(|(k, _)| unnamed(k)).collect()
                } else {
                    // Errors are reported with their place by the scan.
                    continue;
                };
            seen += 1;
            for (k, v) in fields {
                match extra.iter_mut().find(|e| e.0 == k) {
                    Some(e) => e.1.push(v),
                    None => extra.push((k, vec![v])),
                }
            }
        }
    }
    Ok(extra
        .into_iter()
        .map(|(name, values)| {
            let refs: Vec<&Value> = values.iter().collect();
            Column {
                name,
                ty: convert::infer(&refs),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical-text check written on jiter (what `canonical` replaced):
    /// the reference the byte walk is tested against.
    fn canonical_by_jiter(text: &[u8]) -> bool {
        let mut in_str = false;
        let mut i = 0;
        while i < text.len() {
            let c = text[i];
            if in_str {
                match c {
                    b'\\' => match text.get(i + 1) {
                        Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i += 1,
                        _ => return false,
                    },
                    b'"' => in_str = false,
                    0..=0x1f => return false,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => in_str = true,
                    b' ' | b'\t' | b'\n' | b'\r' => return false,
                    _ => {}
                }
            }
            i += 1;
        }
        if in_str {
            return false;
        }
        let mut j = Jiter::new(text);
        walk_unique(&mut j, 0).is_some() && j.finish().is_ok()
    }

    /// Walks one value; None when it is invalid, too deep, has a repeated key,
    /// an integer serde_json would write differently, or `-0`.
    fn walk_unique<'t>(j: &mut Jiter<'t>, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        let peek = j.peek().ok()?;
        match peek {
            Peek::Object => {
                // Keys compared as raw text: only the escapes serde_json writes
                // are allowed, so equal keys have equal text.
                let raw_key = |j: &Jiter<'t>, start: usize| {
                    let s = j.slice_to_current(start);
                    let s = s
                        .strip_prefix(b"{")
                        .or_else(|| s.strip_prefix(b","))
                        .unwrap_or(s);
                    s.strip_suffix(b":").unwrap_or(s)
                };
                let mut keys: Vec<&'t [u8]> = Vec::new();
                let mut start = j.current_index();
                let mut more = j.known_object().ok()?.is_some();
                while more {
                    let k = raw_key(j, start);
                    if keys.contains(&k) {
                        return None;
                    }
                    keys.push(k);
                    walk_unique(j, depth + 1)?;
                    start = j.current_index();
                    more = j.next_key().ok()?.is_some();
                }
                Some(())
            }
            Peek::Array => {
                let mut more = j.known_array().ok()?;
                while more.is_some() {
                    walk_unique(j, depth + 1)?;
                    more = j.array_step().ok()?;
                }
                Some(())
            }
            p if p.is_num() => {
                let start = j.current_index();
                let n = j.known_number(p).ok()?;
                let text = j.slice_to_current(start);
                let text = trim_value(text);
                match n {
                    NumberAny::Int(NumberInt::Int(v)) => {
                        (v != 0 || text == b"0").then_some(())?;
                        (text.len() <= 19).then_some(())
                    }
                    _ => None,
                }
            }
            _ => j.known_skip(peek).ok(),
        }
    }

    /// The `base` texts, then `count` copies of them with one or two bytes
    /// removed, inserted (from `alphabet`) or replaced, chosen by a
    /// xorshift generator started at `seed` (the same lines every run).
    fn mutations(base: &[&str], alphabet: &[u8], count: usize, mut seed: u64) -> Vec<Vec<u8>> {
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut lines: Vec<Vec<u8>> = base.iter().map(|l| l.as_bytes().to_vec()).collect();
        for _ in 0..count {
            let mut l = base[(next() % base.len() as u64) as usize]
                .as_bytes()
                .to_vec();
            for _ in 0..1 + next() % 2 {
                let at = (next() % (l.len() as u64 + 1)) as usize;
                match next() % 3 {
                    0 if at < l.len() => {
                        l.remove(at);
                    }
                    1 => l.insert(at, alphabet[(next() % alphabet.len() as u64) as usize]),
                    _ if at < l.len() => {
                        l[at] = alphabet[(next() % alphabet.len() as u64) as usize]
                    }
                    _ => {}
                }
            }
            lines.push(l);
        }
        lines
    }

    #[test]
    fn canonical_text() {
        assert!(canonical(br#"[{"$id":"2","Type":"account","n":-5}]"#));
        assert!(canonical(br#"{"a":{"b":[1,2,true,null,"x\"y"]}}"#));
        assert!(!canonical(br#"{"a": 1}"#));
        assert!(!canonical(br#"{"a":1.5}"#));
        assert!(!canonical(br#"{"a":1,"a":2}"#));
        assert!(!canonical(br#"{"a":"\u00e9"}"#));
        assert!(!canonical(br#"{"a":"\/"}"#));
        assert!(!canonical(br#"{"a":-0}"#));
        assert!(!canonical(br#"{"a":1"#));
        // What canonical text is, is what serde_json writes.
        for t in [
            r#"[{"$id":"2","Type":"account","n":-5}]"#,
            r#"{"a":{"b":[1,2,true,null,"x\"y"]}}"#,
        ] {
            let v: Value = serde_json::from_str(t).unwrap();
            assert_eq!(v.to_string(), t);
        }
    }

    #[test]
    fn canonical_byte_walk_agrees_with_jiter() {
        // Canonical texts, each mutated many ways: the byte walk and the
        // jiter walk must give the same verdict on every one.
        let base = [
            r#"[{"$id":"2","Type":"account","n":-5}]"#,
            r#"{"a":{"b":[1,2,true,null,"x\"y\\z\n"]},"c":"é/"}"#,
            r#"{"k1":922337203685477580,"k2":-92233720368547758,"k3":[]}"#,
            r#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18}"#,
        ];
        let alphabet = b"{}[]\":,\\ 0-19.eE+tfnu/\"abx\t\x01";
        let mut lines = mutations(&base, alphabet, 6000, 0x2545_f491_4f6c_dd1d);
        // Repeated keys, also past the first 16.
        lines.push(br#"{"a":1,"b":{"a":1},"a":2}"#.to_vec());
        lines.push(base[3].replace(r#""r":18"#, r#""q":18"#).into_bytes());
        let mut yes = 0;
        for l in &lines {
            // Both callers hand over valid UTF-8.
            if std::str::from_utf8(l).is_err() {
                continue;
            }
            let verdict = canonical(l);
            assert_eq!(
                verdict,
                canonical_by_jiter(l),
                "{}",
                String::from_utf8_lossy(l)
            );
            yes += usize::from(verdict);
        }
        assert!(yes > 100, "{yes}");
        assert!(!canonical(
            base[3].replace(r#""r":18"#, r#""q":18"#).as_bytes()
        ));
        assert!(canonical(b"-922337203685477580"));
        assert!(!canonical(b"9223372036854775808"));
    }

    #[test]
    fn datetimes_match_the_general_parser() {
        for s in [
            "2024-05-24T16:22:32.3677013Z",
            "2024-05-24T16:22:32Z",
            "2024-05-24T16:22:32.1Z",
            "1999-12-31T23:59:59.999Z",
        ] {
            assert_eq!(fast_datetime(s), crate::datetime::parse_datetime(s), "{s}");
        }
        for s in [
            "2024-02-30T00:00:00Z",
            "2024-05-24T16:22:32.12345678Z",
            "2024-05-24 16:22:32Z",
        ] {
            assert_eq!(fast_datetime(s), None, "{s}");
        }
    }

    #[test]
    fn lower_bounds() {
        use datafusion::prelude::lit;
        // `col()` would fold the name to lower case, as SQL does.
        let col = |n: &str| Expr::Column(datafusion::common::Column::from_name(n));
        let t = |n: i64| {
            lit(ScalarValue::TimestampNanosecond(
                Some(n),
                Some("UTC".into()),
            ))
        };
        let f = vec![
            col("TimeGenerated").gt_eq(t(10)),
            t(20).lt(col("TimeGenerated")),
            col("Other").gt(t(99)),
        ];
        assert_eq!(lower_time_bound(&f, "TimeGenerated"), Some(20));
        assert_eq!(
            lower_time_bound(&[col("TimeGenerated").lt(t(5))], "TimeGenerated"),
            None
        );
    }

    fn columns_named(names: &[&str], ty: ScalarType) -> Vec<Column> {
        names
            .iter()
            .map(|n| Column {
                name: n.to_string(),
                ty,
            })
            .collect()
    }

    fn spec(columns: Vec<Column>, skip_bad: bool) -> ReadSpec {
        let keys = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        ReadSpec {
            table: "T".into(),
            projection: (0..columns.len()).collect(),
            columns,
            keys: Arc::new(keys),
            skip_bad,
            counters: Arc::new(ReadCounters::default()),
            limit: None,
        }
    }

    fn cols() -> Vec<Column> {
        vec![
            Column {
                name: "N".into(),
                ty: ScalarType::Long,
            },
            Column {
                name: "S".into(),
                ty: ScalarType::String,
            },
        ]
    }

    /// Reads a file cut into ranges at every given point: the values of N.
    fn read_cut(path: &Path, cuts: &[u64], spec: &ReadSpec) -> Result<Vec<i64>, Error> {
        use datafusion::arrow::array::{Array, Int64Array};
        let size = path.metadata().map(|m| m.len()).unwrap_or(0);
        let schema = crate::types::arrow_schema(&spec.columns);
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied().filter(|c| *c > 0 && *c < size));
        bounds.push(size);
        let mut out = Vec::new();
        for w in bounds.windows(2) {
            let r = Range {
                file: Arc::from(path),
                gzip: false,
                start: w[0],
                end: w[1],
            };
            let mut left = usize::MAX;
            read_range(spec, &schema, &r, &mut left, &mut |b| {
                let a = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map(|a| (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>());
                out.extend(a.unwrap_or_default());
                true
            })?;
        }
        Ok(out)
    }

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kqlite-lazy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn every_line_is_read_once_wherever_the_file_is_cut() {
        // Lines of different lengths, a blank line, CRLF endings, no
        // newline at the end.
        let mut text = String::new();
        for n in 0..200 {
            text.push_str(&format!("{{\"N\":{n},\"S\":\"{}\"}}", "x".repeat(n % 13)));
            text.push_str(if n % 7 == 0 { "\r\n" } else { "\n" });
            if n == 50 {
                text.push('\n');
            }
        }
        text.push_str("{\"N\":200}");
        let path = temp_file("cuts.ndjson", &text);
        let spec = spec(cols(), false);
        let want: Vec<i64> = (0..=200).collect();
        let size = text.len() as u64;
        for step in [1u64, 7, 64, 333, size] {
            let cuts: Vec<u64> = (1..size).filter(|c| c % step == 0).collect();
            assert_eq!(read_cut(&path, &cuts, &spec).unwrap(), want, "step {step}");
        }
        // The planner's ranges cover each file exactly.
        let file = LazyFile {
            path: path.clone(),
            gzip: false,
            size,
            window: None,
        };
        for parts in 1..5 {
            let ranges = split_ranges_by(std::slice::from_ref(&file), parts, 100);
            let flat: Vec<&Range> = ranges.iter().flatten().collect();
            assert_eq!(flat.first().map(|r| r.start), Some(0));
            assert_eq!(flat.last().map(|r| r.end), Some(size));
            assert!(flat.windows(2).all(|w| w[0].end == w[1].start));
            assert!(ranges.len() <= parts);
        }
    }

    #[test]
    fn errors_name_the_line_in_any_range() {
        let mut text = String::new();
        for n in 0..100 {
            if n == 70 {
                text.push_str("{\"N\":\"seventy\"}\n");
            } else {
                text.push_str(&format!("{{\"N\":{n}}}\n"));
            }
        }
        let path = temp_file("bad.ndjson", &text);
        for cuts in [vec![], vec![500], vec![333, 700]] {
            let e = read_cut(&path, &cuts, &spec(cols(), false))
                .unwrap_err()
                .to_string();
            assert!(
                e.ends_with("bad.ndjson:71: column `N`: `seventy` is not a long"),
                "{e}"
            );
        }
        let skipping = spec(cols(), true);
        let got = read_cut(&path, &[333], &skipping).unwrap();
        assert_eq!(got.len(), 99);
        let skipped = skipping.counters.skipped();
        assert_eq!(skipped.count, 1);
        assert!(
            skipped.first[0].contains("bad.ndjson:71:"),
            "{:?}",
            skipped.first
        );
        // A key outside the columns is an error even when skipping.
        let path = temp_file("extra.ndjson", "{\"N\":1}\n{\"N\":2,\"Z\":3}\n");
        let e = read_cut(&path, &[], &spec(cols(), true))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("extra.ndjson:2: column `Z` is not one of the table's columns"),
            "{e}"
        );
        // Broken JSON: the message the eager reader gives.
        let path = temp_file("broken.ndjson", "{\"N\":1}\n{\"N\":\n");
        let e = read_cut(&path, &[], &spec(cols(), false))
            .unwrap_err()
            .to_string();
        assert!(e.contains("broken.ndjson:2:"), "{e}");
    }

    #[test]
    fn extra_columns_are_sampled_from_compact_and_other_lines() {
        // Keys the schema does not name become columns typed from their
        // values, whether the record is compact or not.
        let text = concat!(
            r#"{"AlertName":"a","Custom_d":1.5,"Tag_s":"x"}"#,
            "\r\n",
            r#"{"AlertName": "b", "Custom_d": 2, "Flag_b": true}"#,
            "\n",
            r#"{"AlertName":"c","Nested":{"k":[1,2]},"Custom_d":null}"#,
            "\n",
            // A repeated key counts with its last value, as serde_json
            // and the scan keep it.
            r#"{"AlertName":"d","Dup":1,"Dup":"x"}"#,
            "\n",
            // A key in the place where the previous record had a column the
            // schema names, starting like that name, is another key.
            r#"{"AlertNameX":"e","AlertName":"f"}"#,
            "\n",
        );
        let path = temp_file("extra.json", text);
        let schema = crate::schema::builtin("SecurityAlert").unwrap();
        let file = LazyFile {
            path,
            gzip: false,
            size: text.len() as u64,
            window: None,
        };
        let got = extra_columns(&schema, &[file]).unwrap();
        let mut expect: Vec<(String, Vec<Value>)> = Vec::new();
        for line in text.lines() {
            let Value::Object(m) = serde_json::from_str::<Value>(line).unwrap() else {
                unreachable!()
            };
            for (k, v) in m {
                if schema.column(&k).is_some() {
                    continue;
                }
                match expect.iter_mut().find(|e| e.0 == k) {
                    Some(e) => e.1.push(v),
                    None => expect.push((k, vec![v])),
                }
            }
        }
        let expect: Vec<(String, ScalarType)> = expect
            .iter()
            .map(|(k, vs)| (k.clone(), convert::infer(&vs.iter().collect::<Vec<_>>())))
            .collect();
        let got: Vec<(String, ScalarType)> = got.into_iter().map(|c| (c.name, c.ty)).collect();
        assert_eq!(got, expect);
        let names: Vec<&str> = got.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            names,
            ["Custom_d", "Tag_s", "Flag_b", "Nested", "Dup", "AlertNameX"]
        );
        assert_eq!(got[4].1, ScalarType::String);
        assert_eq!(got[0].1, ScalarType::Real);
    }

    #[test]
    fn word_search_finds_the_first_quote_or_backslash() {
        // Every position and length around the 8-byte words, with bytes
        // next in value to the ones searched for (0x21, 0x5b, 0x5d, 0xa2,
        // 0xdc: where a carry could mislead a word-wide comparison).
        let filler = [b'a', 0x21, 0x5b, 0x5d, 0xa2, 0xdc, 0x00, 0x7f, 0x80, 0xff];
        for len in 0..40 {
            for at in 0..=len {
                for &f in &filler {
                    for &c in b"\"\\" {
                        let mut v = vec![f; len];
                        if at < len {
                            v[at] = c;
                            // A second match later must not win.
                            if at + 3 < len {
                                v[at + 3] = b'"';
                            }
                        }
                        let naive = v.iter().position(|&x| x == b'"' || x == b'\\');
                        assert_eq!(compact::quote_or_backslash(&v), naive, "{v:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn word_key_comparison_is_byte_equality() {
        // Every length around the 8-byte words, equal and differing at
        // each position (the last word overlaps the one before it).
        for len in 0..40usize {
            let a: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(compact::same_key(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!compact::same_key(&a, &b), "{len} {at}");
            }
            let mut longer = a.clone();
            longer.push(b'x');
            assert!(!compact::same_key(&a, &longer));
        }
    }

    #[test]
    fn one_letter_escapes_decode_as_json_says() {
        // RFC 8259, section 7: the two-character escapes \" \\ \/ \b \f \n
        // \r \t stand for the characters they name; a string's other bytes
        // are themselves. serde_json is the reference.
        let cases = [
            r#"plain"#,
            r#""#,
            r#"[{\"$id\":\"2\",\"Name\":\"a.docx\"}]"#,
            r#"\\\"\/\b\f\n\r\t"#,
            r#"é\n中\t😀"#,
            r#"ends with escape \\"#,
            r#"\"starts"#,
        ];
        for inner in cases {
            let want: String = serde_json::from_str(&format!("\"{inner}\"")).unwrap();
            assert_eq!(unescape(inner).as_deref(), Some(want.as_str()), "{inner}");
        }
        // `\u` escapes are left to jiter.
        assert_eq!(unescape(r#"\u00e9"#), None);
        assert_eq!(unescape(r#"a\ud83d\ude00"#), None);
    }

    #[test]
    fn a_remembered_key_is_matched_by_its_json_text_only() {
        // A column whose name holds a quote is written `x\"y` in JSON: once
        // seen, the bytes `x"y` after a quote must still not pass for it.
        let read = spec(columns_named(&["x\"y", "a"], ScalarType::Long), false);
        let schema = crate::types::arrow_schema(&read.columns);
        let mut rows = Rows::new(&read, &schema);
        assert!(rows.push(br#"{"x\"y":1,"a":2}"#).is_ok());
        assert!(rows.push(br#"{"x"y":1,"a":2}"#).is_err());
        assert!(rows.push(br#"{"x\"y":3,"a":4}"#).is_ok());
        // A key that starts like the remembered one is another key.
        assert!(rows.push(br#"{"x\"y":5,"ab":6}"#).is_err());
        assert!(rows.push(br#"{"x\"y":5,"a":6}"#).is_ok());
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn folder_windows() {
        let p = Path::new("am-x/WorkspaceResourceId=/y=2024/m=05/d=01/h=13/m=05/PT05M.json");
        let start = crate::datetime::parse_datetime("2024-05-01T13:00:00Z").unwrap();
        assert_eq!(folder_window(p), Some((start, start + 3_600_000_000_000)));
        assert_eq!(folder_window(Path::new("x/PT05M.json")), None);
    }

    #[test]
    fn compact_scan_agrees_with_jiter() {
        // Records as exports write them, each byte-mutated many ways: the
        // byte scanner either finds exactly what jiter finds, or leaves the
        // line to jiter; it never accepts a line jiter rejects.
        // Keys of one letter and longer than a word (the remembered-key
        // comparison goes eight bytes at a time).
        let names = ["a", "b", "c", "d", "e", "Entities", "ActivityObjects"];
        let read = spec(columns_named(&names, ScalarType::Dynamic), false);
        let schema = crate::types::arrow_schema(&read.columns);
        let mut rows = Rows::new(&read, &schema);
        let base = [
            r#"{"a":1,"b":"x\"y\\z\u00e9","c":[1,{"d":[]},-2.5e3,true,null],"d":{},"e":false}"#,
            r#"{"e":"[{\"Type\":\"file\"}]","a":0,"c":-0.0}"#,
            r#"{}"#,
            r#"{"a":{"b":{"c":{"d":[[],[{}]]}}}}"#,
            r#"{"ActivityObjects":[{"Type":"file"}],"Entities":"[{\"$id\":\"2\"}]","a":1}"#,
            r#"{"ActivityObjects":[],"Entities":"","a":2}"#,
        ];
        let alphabet = b"{}[]\":,\\ 0-1.eE+tfnu\"x\t";
        let lines = mutations(&base, alphabet, 4000, 0x9e37_79b9_7f4a_7c15);
        let mut fast = 0;
        for l in &lines {
            for s in rows.spans.iter_mut() {
                *s = None;
            }
            // As `push` does: lines with control bytes skip the scanner.
            rows.canonical.fill(false);
            let by_scan = if has_control(l) {
                None
            } else {
                rows.scan_compact(l).map(|()| rows.spans.clone())
            };
            // What the scan marks canonical is what the canonical check
            // says of the value on its own.
            if by_scan.is_some() {
                for (slot, span) in rows.spans.iter().enumerate() {
                    if let Some((a, b)) = span
                        && std::str::from_utf8(l).is_ok()
                    {
                        let v = trim_value(&l[*a..*b]);
                        let whole = matches!(v.first(), Some(b'{' | b'[')) && canonical(v);
                        assert_eq!(
                            rows.canonical[slot],
                            whole,
                            "{}",
                            String::from_utf8_lossy(l)
                        );
                    }
                }
            }
            let by_jiter = rows.walk_jiter(l).ok().map(|()| rows.spans.clone());
            if let Some(scan) = by_scan {
                fast += 1;
                let jit = by_jiter.unwrap_or_else(|| {
                    panic!(
                        "scan accepted what jiter rejects: {}",
                        String::from_utf8_lossy(l)
                    )
                });
                let text = |v: &Vec<Option<(usize, usize)>>| -> Vec<Option<Vec<u8>>> {
                    v.iter()
                        .map(|s| s.map(|(a, b)| trim_value(&l[a..b]).to_vec()))
                        .collect()
                };
                assert_eq!(text(&scan), text(&jit), "{}", String::from_utf8_lossy(l));
            }
        }
        assert!(fast > 100, "{fast}");
    }
}
