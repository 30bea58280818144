//! `kqlite-bench --format ndjson|parquet --data DIR -f QUERY.sql [-o OUT.csv] [--explain]`
//!
//! Runs one hand-written SQL query on DataFusion (the engine kqlite plans onto,
//! without kqlite's KQL layer or readers) over the benchmark's tables and
//! writes the result as CSV with a header row (to /dev/null unless `-o`).
//! Prints `rows=N plan_ms=P total_ms=T` to stderr.
//!
//! Tables: `DIR/SecurityAlert.*`, `DIR/CloudAppEvents.*`, `DIR/PurviewAuditLogs.*`
//! (`.ndjson` from kqlite-gen, `.parquet` from `kqlite convert`), whichever exist.
//! JSON lines are read by DataFusion's own reader with explicit Arrow schemas:
//! nested JSON is typed (`ActivityObjects` a list of structs, `RawEventData` a
//! struct), so SQL can `unnest` it and read fields. `Entities` is a string that
//! holds JSON text, and in the Parquet files every dynamic column is JSON text;
//! DataFusion has no JSON functions, so this program registers four, built on
//! Arrow's JSON decoder and encoder (the same kind of function DuckDB has built
//! in as `from_json` / `to_json`):
//!
//! - `json_entities(text)`: `List<Struct<$id, Type, Name, UPNSuffix, Directory, Address>>`
//! - `json_activity_objects(text)`: `List<Struct<Type, Name, UPNSuffix>>`
//! - `json_raw_event_data(text)`: `Struct<SourceFileName, Workload, UserId>`
//! - `to_json(value)`: the value as compact JSON text (fields in schema order,
//!   null fields left out)

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, TimeUnit};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::arrow::json::writer::{EncoderOptions, make_encoder};
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{JsonReadOptions, ParquetReadOptions, SessionContext};
use futures::StreamExt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

const TABLES: [&str; 3] = ["SecurityAlert", "CloudAppEvents", "PurviewAuditLogs"];

struct Args {
    parquet: bool,
    data: PathBuf,
    query: PathBuf,
    out: PathBuf,
    explain: bool,
    string_view: bool,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: kqlite-bench --format ndjson|parquet --data DIR -f QUERY.sql [-o OUT.csv] [--explain] [--string-view]"
    );
    ExitCode::from(2)
}

fn parse_args() -> Option<Args> {
    let mut parquet = None;
    let mut data = None;
    let mut query = None;
    let mut out = PathBuf::from("/dev/null");
    let mut explain = false;
    let mut string_view = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--format" => match it.next()?.as_str() {
                "ndjson" => parquet = Some(false),
                "parquet" => parquet = Some(true),
                _ => return None,
            },
            "--data" => data = Some(PathBuf::from(it.next()?)),
            "-f" => query = Some(PathBuf::from(it.next()?)),
            "-o" => out = PathBuf::from(it.next()?),
            "--explain" => explain = true,
            "--string-view" => string_view = true,
            _ => return None,
        }
    }
    Some(Args {
        parquet: parquet?,
        data: data?,
        query: query?,
        out,
        explain,
        string_view,
    })
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        return usage();
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn ts(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        true,
    )
}

fn struct_of(names: &[&str]) -> DataType {
    DataType::Struct(Fields::from(
        names.iter().map(|n| utf8(n)).collect::<Vec<_>>(),
    ))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

fn entities_type() -> DataType {
    list_of(struct_of(&[
        "$id",
        "Type",
        "Name",
        "UPNSuffix",
        "Directory",
        "Address",
    ]))
}

fn activity_objects_type() -> DataType {
    list_of(struct_of(&["Type", "Name", "UPNSuffix"]))
}

fn raw_event_data_type() -> DataType {
    struct_of(&["SourceFileName", "Workload", "UserId"])
}

/// The columns kqlite-gen writes, typed as the built-in schemas type them
/// (datetime -> timestamp, dynamic -> nested Arrow types).
fn ndjson_schema(table: &str, string_view: bool) -> Schema {
    let s = |name: &str| {
        if string_view {
            Field::new(name, DataType::Utf8View, true)
        } else {
            utf8(name)
        }
    };
    let fields = match table {
        "SecurityAlert" => vec![
            ts("TimeGenerated"),
            s("SystemAlertId"),
            s("AlertName"),
            s("AlertSeverity"),
            s("ProviderName"),
            s("CompromisedEntity"),
            s("Entities"),
            s("Type"),
        ],
        "CloudAppEvents" => vec![
            ts("TimeGenerated"),
            s("ReportId"),
            s("ActionType"),
            s("Application"),
            s("AccountDisplayName"),
            s("AccountObjectId"),
            s("IPAddress"),
            Field::new("ActivityObjects", activity_objects_type(), true),
            Field::new("RawEventData", raw_event_data_type(), true),
            s("Type"),
        ],
        _ => vec![
            ts("TimeGenerated"),
            ts("Timestamp"),
            s("EventAction"),
            s("SensitivityLabel"),
            s("UserPrincipalName"),
            s("DataAsset"),
            s("ViolationType"),
            s("ClientIP"),
            s("Workload"),
            s("PolicyName"),
            s("Type"),
        ],
    };
    Schema::new(fields)
}

async fn run(args: &Args) -> Result<()> {
    let start = Instant::now();
    let ctx = SessionContext::new();
    ctx.register_udf(ScalarUDF::from(FromJson::new(
        "json_entities",
        entities_type(),
    )));
    ctx.register_udf(ScalarUDF::from(FromJson::new(
        "json_activity_objects",
        activity_objects_type(),
    )));
    ctx.register_udf(ScalarUDF::from(FromJson::new(
        "json_raw_event_data",
        raw_event_data_type(),
    )));
    ctx.register_udf(ScalarUDF::from(ToJson::new()));
    for table in TABLES {
        if args.parquet {
            let path = args.data.join(format!("{table}.parquet"));
            if path.exists() {
                ctx.register_parquet(
                    TableReference::bare(table),
                    path_str(&path)?,
                    ParquetReadOptions::default(),
                )
                .await?;
            }
        } else {
            let path = args.data.join(format!("{table}.ndjson"));
            if path.exists() {
                let schema = ndjson_schema(table, args.string_view);
                let options = JsonReadOptions {
                    schema: Some(&schema),
                    file_extension: ".ndjson",
                    ..Default::default()
                };
                ctx.register_json(TableReference::bare(table), path_str(&path)?, options)
                    .await?;
            }
        }
    }
    let sql = std::fs::read_to_string(&args.query)
        .map_err(|e| DataFusionError::Execution(format!("{}: {e}", args.query.display())))?;
    if args.explain {
        let df = ctx.sql(&format!("EXPLAIN ANALYZE {sql}")).await?;
        let batches = df.collect().await?;
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)?;
        println!("{text}");
        return Ok(());
    }
    let df = ctx.sql(&sql).await?;
    let plan_ms = start.elapsed().as_secs_f64() * 1000.0;
    let file = std::fs::File::create(&args.out)
        .map_err(|e| DataFusionError::Execution(format!("{}: {e}", args.out.display())))?;
    let mut writer = WriterBuilder::new()
        .with_header(true)
        .build(BufWriter::with_capacity(1 << 20, file));
    let mut stream = df.execute_stream().await?;
    let mut rows = 0usize;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows();
        writer.write(&batch)?;
    }
    writer.into_inner().flush()?;
    let total_ms = start.elapsed().as_secs_f64() * 1000.0;
    eprintln!("rows={rows} plan_ms={plan_ms:.1} total_ms={total_ms:.1}");
    Ok(())
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| DataFusionError::Execution(format!("path is not UTF-8: {}", p.display())))
}

/// The strings of a text column (Utf8, LargeUtf8 or Utf8View), by row.
fn strings(array: &ArrayRef) -> Result<Vec<Option<&str>>> {
    Ok(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        other => {
            return Err(DataFusionError::Execution(format!(
                "expected JSON text, got {other}"
            )));
        }
    })
}

/// `name(text)`: JSON text decoded into a fixed Arrow type by Arrow's JSON
/// decoder; fields the type does not name are skipped, missing ones are null.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromJson {
    name: &'static str,
    item: FieldRef,
    signature: Signature,
}

impl FromJson {
    fn new(name: &'static str, data_type: DataType) -> FromJson {
        FromJson {
            name,
            item: Arc::new(Field::new("v", data_type, true)),
            signature: Signature::uniform(
                1,
                vec![DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for FromJson {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.item.data_type().clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(input) = arrays.first() else {
            return Err(DataFusionError::Execution(format!(
                "{} takes one argument",
                self.name
            )));
        };
        let texts = strings(input)?;
        let mut buf = Vec::with_capacity(texts.iter().map(|t| t.map_or(5, str::len) + 1).sum());
        for t in &texts {
            match t {
                Some(t) if !t.trim().is_empty() => buf.extend_from_slice(t.as_bytes()),
                _ => buf.extend_from_slice(b"null"),
            }
            buf.push(b'\n');
        }
        let mut decoder = ReaderBuilder::new_with_field(self.item.clone())
            .with_batch_size(texts.len().max(1))
            .build_decoder()?;
        let mut pos = 0;
        while pos < buf.len() {
            let n = decoder.decode(&buf[pos..])?;
            if n == 0 {
                break;
            }
            pos += n;
        }
        let batch = decoder.flush()?;
        let out = match batch {
            Some(b) if b.num_rows() == texts.len() => b.column(0).clone(),
            None if texts.is_empty() => {
                datafusion::arrow::array::new_empty_array(self.item.data_type())
            }
            _ => {
                return Err(DataFusionError::Execution(format!(
                    "{}: decoded row count differs from the input's",
                    self.name
                )));
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// `to_json(value)`: compact JSON text of any value, by Arrow's JSON encoder.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToJson {
    signature: Signature,
}

impl ToJson {
    fn new() -> ToJson {
        ToJson {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ToJson {
    fn name(&self) -> &str {
        "to_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (Some(input), Some(field)) = (arrays.first(), args.arg_fields.first()) else {
            return Err(DataFusionError::Execution(
                "to_json takes one argument".into(),
            ));
        };
        let options = EncoderOptions::default();
        let mut encoder = make_encoder(field, input.as_ref(), &options)?;
        let mut out = StringBuilder::with_capacity(input.len(), input.len() * 64);
        let mut buf = Vec::with_capacity(256);
        for i in 0..input.len() {
            if input.is_null(i) {
                out.append_null();
                continue;
            }
            buf.clear();
            encoder.encode(i, &mut buf);
            let text = std::str::from_utf8(&buf)
                .map_err(|e| DataFusionError::Execution(format!("to_json: {e}")))?;
            out.append_value(text);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
