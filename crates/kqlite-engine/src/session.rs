//! The session facade: register tables, pin `now`, plan and run queries.

use crate::error::{Error, Result};
use crate::planner::{Catalog, Planner, Relation};
use crate::schema::{Column, TableSchema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A query's result: its KQL columns and the Arrow batches holding the rows.
#[derive(Debug)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Wall time of each stage of a query.
#[derive(Debug, Clone, Copy)]
pub struct StageTimes {
    pub parse: std::time::Duration,
    pub plan: std::time::Duration,
    pub execute: std::time::Duration,
}

struct Table {
    schema: TableSchema,
    provider: Arc<dyn TableProvider>,
}

/// Runs KQL. `now` is pinned per session (nanoseconds since the epoch, UTC);
/// without a pin it is read from the clock once per query.
pub struct Session {
    ctx: SessionContext,
    runtime: tokio::runtime::Runtime,
    tables: BTreeMap<String, Table>,
    now: Option<i64>,
    /// Where `_GetWatchlist` and `externaldata` find their files.
    watchlists: Option<std::path::PathBuf>,
    externaldata: Option<std::path::PathBuf>,
    /// Queries are only bound, never run (`kqlite check`).
    binding_only: bool,
}

impl Session {
    pub fn new() -> Result<Session> {
        Session::build(None)
    }

    /// A session whose queries use at most `bytes` of memory for their
    /// operators' state: sorts, aggregates and joins spill to temporary
    /// files beyond it, and a query that still does not fit fails with a
    /// clear error instead of growing. (Tables already loaded in memory
    /// are not counted.)
    pub fn with_memory_limit(bytes: usize) -> Result<Session> {
        Session::build(Some(bytes))
    }

    fn build(memory_limit: Option<usize>) -> Result<Session> {
        use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
        use datafusion::execution::runtime_env::RuntimeEnvBuilder;
        let partitions = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut config = SessionConfig::new().with_target_partitions(partitions);
        // A `summarize` whose groups are nearly as many as its rows (by a
        // user, a file and a time, say) gains nothing from aggregating in
        // each partition first: look after 10,000 rows instead of 100,000
        // whether to pass rows straight to the final aggregation.
        config
            .options_mut()
            .execution
            .skip_partial_aggregation_probe_rows_threshold = 10_000;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(partitions)
            .build()
            .map_err(|e| Error::Execution(format!("cannot start the runtime: {e}")))?;
        let mut env = RuntimeEnvBuilder::new();
        if let Some(bytes) = memory_limit {
            // Fair shares between the operators that can spill; the five
            // largest consumers are named when memory runs out.
            let five = std::num::NonZeroUsize::new(5).unwrap_or(std::num::NonZeroUsize::MIN);
            env = env.with_memory_pool(Arc::new(TrackConsumersPool::new(
                FairSpillPool::new(bytes),
                five,
            )));
        }
        let env = env
            .build_arc()
            .map_err(|e| Error::Execution(format!("cannot set up the memory pool: {e}")))?;
        let ctx = SessionContext::new_with_config_rt(config, env);
        for udf in crate::functions::all() {
            ctx.register_udf(udf.as_ref().clone());
        }
        Ok(Session {
            ctx,
            runtime,
            tables: BTreeMap::new(),
            now: None,
            watchlists: None,
            externaldata: None,
            binding_only: false,
        })
    }

    /// Pins `now()` for every query of this session.
    pub fn set_now(&mut self, nanos_since_epoch: i64) {
        self.now = Some(nanos_since_epoch);
    }

    /// The folder `_GetWatchlist('name')` reads `name.csv` from (see
    /// `planner/watchlist.rs`).
    pub fn set_watchlists(&mut self, dir: std::path::PathBuf) {
        self.watchlists = Some(dir);
    }

    /// The folder `externaldata` URLs are resolved in (see
    /// `planner/externaldata.rs`); nothing is downloaded.
    pub fn set_externaldata(&mut self, dir: std::path::PathBuf) {
        self.externaldata = Some(dir);
    }

    /// Marks the session as binding queries without running them (`kqlite
    /// check`): `externaldata` then takes its declared columns without
    /// reading any file.
    pub fn set_binding_only(&mut self) {
        self.binding_only = true;
    }

    /// Registers in-memory rows as a table. The batches must match the schema.
    pub fn register_batches(
        &mut self,
        schema: TableSchema,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        let arrow = crate::types::arrow_schema(&schema.columns);
        let provider =
            MemTable::try_new(arrow, vec![batches]).map_err(|e| Error::Data(e.to_string()))?;
        self.tables.insert(
            schema.name.clone(),
            Table {
                schema,
                provider: Arc::new(provider),
            },
        );
        Ok(())
    }

    /// Registers a JSON-lines table that is read while queries run (only
    /// the columns a query uses; see `source::open_lazy`).
    pub fn register_lazy(&mut self, table: Arc<crate::source::LazyJsonTable>) {
        let schema = table.schema.clone();
        self.register_provider(schema, table);
    }

    /// Registers a table served by any DataFusion table provider whose
    /// Arrow schema is `types::arrow_schema` of the table's columns.
    pub fn register_provider(&mut self, schema: TableSchema, provider: Arc<dyn TableProvider>) {
        self.tables
            .insert(schema.name.clone(), Table { schema, provider });
    }

    /// Registers a table read from files.
    pub fn register_loaded(&mut self, table: crate::source::LoadedTable) -> Result<()> {
        self.register_batches(table.schema, table.batches)
    }

    /// Registers every built-in table schema as an empty table (for binding
    /// queries without data, as `kqlite check` does). Tables already
    /// registered keep their data.
    pub fn register_builtin_schemas(&mut self) -> Result<()> {
        self.register_builtin_schemas_as(crate::Flavor::LogAnalytics)
    }

    /// [`Session::register_builtin_schemas`] preferring one flavour of the
    /// tables that have two: Defender XDR advanced hunting names the time
    /// column `Timestamp` where Log Analytics has `TimeGenerated`.
    pub fn register_builtin_schemas_as(&mut self, prefer: crate::Flavor) -> Result<()> {
        for name in crate::schema::builtin_tables() {
            if self.tables.contains_key(name) {
                continue;
            }
            let s = crate::schema::builtin_flavor(name, prefer)
                .or_else(|| crate::schema::builtin(name));
            if let Some(s) = s {
                self.register_batches(s, Vec::new())?;
            }
        }
        Ok(())
    }

    fn now(&self) -> i64 {
        self.now.unwrap_or_else(|| {
            let d = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
        })
    }

    /// Parses and plans a query: its logical plan and KQL output columns.
    pub fn plan(&self, query: &str) -> Result<(LogicalPlan, Vec<Column>)> {
        let script = kqlite_syntax::parse(query)?;
        self.plan_script(&script)
    }

    fn plan_script(
        &self,
        script: &kqlite_syntax::ast::Script,
    ) -> Result<(LogicalPlan, Vec<Column>)> {
        let mut planner = Planner::new(self, self.now());
        let rel = planner.plan_script(script)?;
        Ok((rel.plan, rel.columns))
    }

    /// Cost advice for a query (see [`crate::advice`]): parses it and binds
    /// what it needs against this session's tables.
    pub fn advise(&self, query: &str) -> Result<Vec<crate::advice::Advice>> {
        let script = kqlite_syntax::parse(query)?;
        Ok(crate::advice::advise(&script, self, self.now()))
    }

    /// Runs a query like [`Session::query`], timing its stages.
    pub fn query_timed(&self, query: &str) -> Result<(QueryResult, StageTimes)> {
        let start = std::time::Instant::now();
        let script = kqlite_syntax::parse(query)?;
        let parsed = std::time::Instant::now();
        let (plan, columns) = self.plan_script(&script)?;
        let planned = std::time::Instant::now();
        let result = self.run_plan(plan, columns)?;
        let done = std::time::Instant::now();
        Ok((
            result,
            StageTimes {
                parse: parsed - start,
                plan: planned - parsed,
                execute: done - planned,
            },
        ))
    }

    /// Runs a query and hands each result batch to `each` as soon as it is
    /// made, so a large result is never held in memory whole. Returns the
    /// KQL output columns and the time per stage (execute includes the
    /// time `each` took).
    pub fn query_streamed(
        &self,
        query: &str,
        each: &mut dyn FnMut(&[Column], &RecordBatch) -> Result<()>,
    ) -> Result<(Vec<Column>, StageTimes)> {
        use futures::StreamExt;
        let start = std::time::Instant::now();
        let script = kqlite_syntax::parse(query)?;
        let parsed = std::time::Instant::now();
        let (plan, columns) = self.plan_script(&script)?;
        let planned = std::time::Instant::now();
        let df = DataFrame::new(self.ctx.state(), plan);
        let mut stream = self
            .runtime
            .block_on(df.execute_stream())
            .map_err(execution_error)?;
        while let Some(batch) = self.runtime.block_on(stream.next()) {
            each(&columns, &batch.map_err(execution_error)?)?;
        }
        let done = std::time::Instant::now();
        Ok((
            columns,
            StageTimes {
                parse: parsed - start,
                plan: planned - parsed,
                execute: done - planned,
            },
        ))
    }

    /// The query's logical plan in DataFusion's protobuf form (for a
    /// distributed executor, or to store a compiled rule). Registered tables
    /// are referenced by name; the session that runs the bytes must have
    /// tables of those names.
    pub fn plan_to_bytes(&self, query: &str) -> Result<(Vec<u8>, Vec<Column>)> {
        let (plan, columns) = self.plan(query)?;
        let codec = self.codec();
        let bytes =
            datafusion_proto::bytes::logical_plan_to_bytes_with_extension_codec(&plan, &codec)
                .map_err(|e| Error::Execution(format!("cannot serialise the plan: {e}")))?;
        Ok((bytes.to_vec(), columns))
    }

    /// Runs a plan serialised by [`Session::plan_to_bytes`]; kqlite's
    /// functions are found again by name.
    pub fn run_plan_bytes(&self, bytes: &[u8], columns: Vec<Column>) -> Result<QueryResult> {
        let codec = self.codec();
        let plan = datafusion_proto::bytes::logical_plan_from_bytes_with_extension_codec(
            bytes,
            &self.ctx.task_ctx(),
            &codec,
        )
        .map_err(|e| Error::Execution(format!("cannot read the serialised plan: {e}")))?;
        self.run_plan(plan, columns)
    }

    fn run_plan(&self, plan: LogicalPlan, columns: Vec<Column>) -> Result<QueryResult> {
        let df = DataFrame::new(self.ctx.state(), plan);
        let batches = self
            .runtime
            .block_on(df.collect())
            .map_err(execution_error)?;
        Ok(QueryResult { columns, batches })
    }

    /// The query's plans as text: the KQL stages of the query's pipe, the
    /// logical plan kqlite built with each node marked by the stage that
    /// made it, the plan DataFusion's optimiser made of it, and the
    /// physical plan, every node labelled with the stages it came from (see
    /// [`crate::explain`]). With `analyze` the query runs and each physical
    /// operator shows its rows out, compute time and memory.
    pub fn explain_with(&self, query: &str, analyze: bool) -> Result<String> {
        Ok(self
            .explain_plans(query, crate::explain::ExplainOptions { analyze })?
            .render(false))
    }

    /// [`Session::explain_with`] without running the query.
    pub fn explain(&self, query: &str) -> Result<String> {
        self.explain_with(query, false)
    }

    /// The labelled plans of a query, to render or inspect.
    pub fn explain_plans(
        &self,
        query: &str,
        options: crate::explain::ExplainOptions,
    ) -> Result<crate::explain::Explained> {
        let script = kqlite_syntax::parse(query)?;
        let mut planner = Planner::new(self, self.now());
        let rel = planner.plan_script(&script)?;
        let stages = std::mem::take(&mut planner.stages);
        let statement = script
            .statements
            .iter()
            .rev()
            .find(|s| matches!(s.kind, kqlite_syntax::ast::StatementKind::Query(_)))
            .map(|s| s.span);
        crate::explain::explain(
            crate::explain::Inputs {
                state: self.ctx.state(),
                task: self.ctx.task_ctx(),
                runtime: &self.runtime,
                query,
                statement,
                plan: rel.plan,
                stages,
            },
            options,
        )
    }

    fn codec(&self) -> TablesByName {
        TablesByName {
            tables: self
                .tables
                .iter()
                .map(|(n, t)| (n.clone(), t.provider.clone()))
                .collect(),
        }
    }

    /// Parses, plans and runs a query.
    pub fn query(&self, query: &str) -> Result<QueryResult> {
        let (plan, columns) = self.plan(query)?;
        self.run_plan(plan, columns)
    }
}

/// A failure while running: running out of the memory limit says so.
pub(crate) fn execution_error(e: datafusion::error::DataFusionError) -> Error {
    // A table read while the query runs reports bad data as it finds it.
    if let datafusion::error::DataFusionError::External(inner) = e.find_root()
        && let Some(Error::Data(m)) = inner.downcast_ref::<Error>()
    {
        return Error::Data(m.clone());
    }
    let text = e.to_string();
    if text.contains("Resources exhausted") {
        Error::Execution(format!(
            "the query needs more memory than the memory limit allows, even spilling to disk: {text}"
        ))
    } else {
        Error::Execution(text)
    }
}

impl Catalog for Session {
    fn table(&self, name: &str) -> Option<Relation> {
        let t = self.tables.get(name)?;
        let plan = LogicalPlanBuilder::scan(
            TableReference::bare(name),
            provider_as_source(t.provider.clone()),
            None,
        )
        .and_then(|b| b.build())
        .ok()?;
        Some(Relation {
            plan,
            columns: t.schema.columns.clone(),
        })
    }

    fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    fn run(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        Ok(self.run_plan(plan, Vec::new())?.batches)
    }

    fn watchlists(&self) -> Option<&std::path::Path> {
        self.watchlists.as_deref()
    }

    fn externaldata(&self) -> Option<&std::path::Path> {
        self.externaldata.as_deref()
    }

    fn binding_only(&self) -> bool {
        self.binding_only
    }
}

/// Serialises table scans by table name: the receiving session resolves the
/// name among its own registered tables (so in-memory tables round-trip as
/// references, not data).
#[derive(Debug)]
struct TablesByName {
    tables: BTreeMap<String, Arc<dyn TableProvider>>,
}

impl datafusion_proto::logical_plan::LogicalExtensionCodec for TablesByName {
    fn try_decode(
        &self,
        _buf: &[u8],
        _inputs: &[LogicalPlan],
        _ctx: &datafusion::execution::TaskContext,
    ) -> datafusion::common::Result<datafusion::logical_expr::Extension> {
        Err(datafusion::error::DataFusionError::NotImplemented(
            "kqlite plans have no extension nodes".into(),
        ))
    }

    fn try_encode(
        &self,
        _node: &datafusion::logical_expr::Extension,
        _buf: &mut Vec<u8>,
    ) -> datafusion::common::Result<()> {
        Err(datafusion::error::DataFusionError::NotImplemented(
            "kqlite plans have no extension nodes".into(),
        ))
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        _schema: datafusion::arrow::datatypes::SchemaRef,
        _ctx: &datafusion::execution::TaskContext,
    ) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let name = std::str::from_utf8(buf)
            .map_err(|e| datafusion::error::DataFusionError::Plan(e.to_string()))?;
        self.tables.get(name).cloned().ok_or_else(|| {
            datafusion::error::DataFusionError::Plan(format!(
                "the plan reads table `{name}`, which this session does not have"
            ))
        })
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        _node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> datafusion::common::Result<()> {
        buf.extend_from_slice(table_ref.table().as_bytes());
        Ok(())
    }
}
