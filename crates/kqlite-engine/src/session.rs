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
}

impl Session {
    pub fn new() -> Result<Session> {
        let partitions = std::thread::available_parallelism().map_or(1, |n| n.get());
        let config = SessionConfig::new().with_target_partitions(partitions);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(partitions)
            .build()
            .map_err(|e| Error::Execution(format!("cannot start the runtime: {e}")))?;
        let ctx = SessionContext::new_with_config(config);
        for udf in crate::functions::all() {
            ctx.register_udf(udf.as_ref().clone());
        }
        Ok(Session {
            ctx,
            runtime,
            tables: BTreeMap::new(),
            now: None,
        })
    }

    /// Pins `now()` for every query of this session.
    pub fn set_now(&mut self, nanos_since_epoch: i64) {
        self.now = Some(nanos_since_epoch);
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

    /// Registers a table read from files.
    pub fn register_loaded(&mut self, table: crate::source::LoadedTable) -> Result<()> {
        self.register_batches(table.schema, table.batches)
    }

    /// Registers every built-in table schema as an empty table (for binding
    /// queries without data, as `kqlite check` does). Tables already
    /// registered keep their data.
    pub fn register_builtin_schemas(&mut self) -> Result<()> {
        for name in crate::schema::builtin_tables() {
            if self.tables.contains_key(name) {
                continue;
            }
            if let Some(s) = crate::schema::builtin(name) {
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
        let mut planner = Planner::new(self, self.now());
        let rel = planner.plan_script(&script)?;
        Ok((rel.plan, rel.columns))
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
            .map_err(|e| Error::Execution(e.to_string()))?;
        Ok(QueryResult { columns, batches })
    }

    /// The query's plans as text: the logical plan kqlite built, the one
    /// DataFusion's optimiser made of it, and the physical plan.
    pub fn explain(&self, query: &str) -> Result<String> {
        let (plan, _) = self.plan(query)?;
        let state = self.ctx.state();
        let optimized = state
            .optimize(&plan)
            .map_err(|e| Error::Execution(e.to_string()))?;
        let physical = self
            .runtime
            .block_on(state.create_physical_plan(&optimized))
            .map_err(|e| Error::Execution(e.to_string()))?;
        let physical = datafusion::physical_plan::displayable(physical.as_ref()).indent(true);
        Ok(format!(
            "logical plan:\n{}\n\noptimized plan:\n{}\n\nphysical plan:\n{}",
            plan.display_indent(),
            optimized.display_indent(),
            physical
        ))
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
