//! `explain`: a query's plans with every node labelled by the KQL pipe stage
//! it came from, and (with `analyze`) each physical operator's rows, compute
//! time and memory.
//!
//! kqlite's own logical plan is labelled by construction: the planner records
//! the plan after each stage of the outermost pipe. DataFusion's optimiser and
//! physical planner then merge projections, push filters down, split
//! aggregates in two and add operators of their own, so the labels of the
//! optimised and physical plans are traced, not inherited:
//!
//! 1. Each stage's *work* is found by planning every stage prefix (stage 1,
//!    stages 1-2, ...) physically without the optimiser (only expression
//!    simplification, the normal form DataFusion puts every expression in).
//!    The work of an operator is what it evaluates: filter conjuncts,
//!    computed columns, join keys, group keys, aggregate calls, sort keys,
//!    limits, unnested columns, scanned tables. Every column an expression
//!    reads is resolved down to what made it (a table column, an unnest, an
//!    aggregate), so an expression has the same fingerprint wherever the
//!    optimiser moves it and however it renames the columns in between.
//!    What prefix k has that prefix k-1 has not is stage k's work.
//! 2. Each operator of the real plan is fingerprinted the same way and
//!    labelled with the stages whose work it does. An expression that
//!    inlines another stage's computed column (the optimiser merges
//!    projections into filters) names both stages.
//! 3. Operators that do no work of their own (repartitioning, batch
//!    coalescing, column-only projections) are labelled with the operator
//!    they serve; the second phase of an aggregate and a sort's merge with
//!    the operator they complete.
//!
//! Work that matches no stage (an expression the optimiser derived) is shown
//! as untraced rather than guessed.

use crate::error::{Error, Result};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_expr::expressions::{Column, DynamicFilterPhysicalExpr, Literal};
use datafusion::physical_expr::{PhysicalExpr, split_conjunction};
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::utils::{JoinFilter, build_join_schema};
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, SortMergeJoinExec,
};
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::unnest::UnnestExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::{ExecutionPlan, WindowExpr};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

type PExpr = Arc<dyn PhysicalExpr>;
type Plan = Arc<dyn ExecutionPlan>;

/// How `explain` shows a query.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExplainOptions {
    /// Run the query and show each physical operator's metrics.
    pub analyze: bool,
}

/// A query's plans, each node labelled with its KQL stages.
#[derive(Debug, Clone)]
pub struct Explained {
    /// The text of each stage of the query's pipe, on one line; stage `k`
    /// is `stages[k - 1]`.
    pub stages: Vec<String>,
    /// kqlite's logical plan, as the planner made it.
    pub logical: Vec<PlanLine>,
    /// The plan after DataFusion's optimiser.
    pub optimized: Vec<PlanLine>,
    /// The physical plan that runs (with metrics after a run).
    pub physical: Vec<PlanLine>,
    /// With `analyze`: what the run gave.
    pub run: Option<RunSummary>,
}

/// One node of a plan, in depth-first order.
#[derive(Debug, Clone)]
pub struct PlanLine {
    /// Nesting depth; the root is 0.
    pub depth: usize,
    /// The node's kind (`FilterExec`, `Projection`, ...).
    pub name: String,
    /// The node as DataFusion shows it, on one line.
    pub text: String,
    /// A shorter form: a projection lists only the columns it computes.
    pub summary: String,
    /// Where the node came from.
    pub label: Label,
    /// Physical operators of an analysed plan: what the run measured.
    pub metrics: Option<OperatorMetrics>,
}

/// Where a plan node came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// The node evaluates what these stages wrote (shown `[2,3]`).
    Stages(BTreeSet<usize>),
    /// The node does no work of its own (added by DataFusion, or only
    /// moving or renaming columns); it serves nodes of these stages
    /// (shown `(3)`; `(-)` when there is nothing to serve).
    Serves(BTreeSet<usize>),
    /// The node evaluates what these stages wrote, and more that could not
    /// be traced to a stage (shown `[2,?]`).
    Partly(BTreeSet<usize>),
    /// The node does work that could not be traced to a stage (shown `[?]`).
    Untraced,
}

impl Label {
    /// The stages named, whichever way.
    pub fn stages(&self) -> Vec<usize> {
        match self {
            Label::Stages(s) | Label::Serves(s) | Label::Partly(s) => s.iter().copied().collect(),
            Label::Untraced => Vec::new(),
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |s: &BTreeSet<usize>| {
            s.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Label::Stages(s) => write!(f, "[{}]", list(s)),
            Label::Partly(s) => write!(f, "[{},?]", list(s)),
            Label::Serves(s) if s.is_empty() => write!(f, "(-)"),
            Label::Serves(s) => write!(f, "({})", list(s)),
            Label::Untraced => write!(f, "[?]"),
        }
    }
}

/// What one physical operator reported while the query ran, summed over
/// its partitions.
#[derive(Debug, Clone, Default)]
pub struct OperatorMetrics {
    /// Rows out.
    pub rows: Option<usize>,
    /// The operator reports no row count of its own and `rows` is that of
    /// the operator above, which passes every row on unchanged.
    pub rows_from_parent: bool,
    /// CPU time spent in the operator, summed over partitions.
    pub compute: Option<Duration>,
    /// Peak memory the operator reported (hash tables, aggregation
    /// state), summed over partitions.
    pub memory: Option<usize>,
    /// Times the operator spilled to disk, and the bytes it spilled.
    pub spills: usize,
    pub spilled_bytes: usize,
    /// DataFusion's own list of the operator's metrics.
    pub raw: String,
}

/// The outcome of an analysed run.
#[derive(Debug, Clone, Copy)]
pub struct RunSummary {
    pub rows: usize,
    pub elapsed: Duration,
}

/// Longest operator text shown without `verbose`.
const SHORT: usize = 200;

impl Explained {
    /// The plans as text. `verbose` shows every node's full text and, after
    /// a run, DataFusion's raw metrics of each operator.
    pub fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        if !self.stages.is_empty() {
            out.push_str("KQL stages:\n");
            for (i, s) in self.stages.iter().enumerate() {
                let s = if verbose { s.clone() } else { shorten(s, 100) };
                out.push_str(&format!("  [{}] {s}\n", i + 1));
            }
            out.push('\n');
        }
        out.push_str("logical plan (each node marked with the KQL stage that made it):\n");
        render_tree(&self.logical, verbose, &mut out);
        out.push_str("\noptimized plan:\n");
        render_tree(&self.optimized, verbose, &mut out);
        out.push('\n');
        match &self.run {
            Some(run) => {
                out.push_str(&format!(
                    "physical plan, run: {} rows out in {}\n",
                    run.rows,
                    duration(run.elapsed)
                ));
                let labels: Vec<String> =
                    self.physical.iter().map(|l| l.label.to_string()).collect();
                let width = labels.iter().map(String::len).max().unwrap_or(5).max(5);
                out.push_str(&format!(
                    "  {:<width$}  {:>10}  {:>10}  {:>10}  operator\n",
                    "stage", "rows", "compute", "memory"
                ));
                for (line, label) in self.physical.iter().zip(&labels) {
                    let m = line.metrics.clone().unwrap_or_default();
                    let rows = match m.rows {
                        Some(r) if m.rows_from_parent => format!("{r}^"),
                        Some(r) => r.to_string(),
                        None => "-".into(),
                    };
                    let compute = m.compute.map_or("-".into(), duration);
                    let mut memory = m.memory.map_or("-".into(), bytes);
                    let text = if verbose {
                        line.text.clone()
                    } else {
                        shorten(&line.summary, SHORT)
                    };
                    let mut spill = String::new();
                    if m.spills > 0 {
                        spill =
                            format!(" (spilled {} times, {})", m.spills, bytes(m.spilled_bytes));
                    }
                    if memory.is_empty() {
                        memory = "-".into();
                    }
                    out.push_str(&format!(
                        "  {label:<width$}  {rows:>10}  {compute:>10}  {memory:>10}  {}{text}{spill}\n",
                        "  ".repeat(line.depth)
                    ));
                    if verbose && !m.raw.is_empty() {
                        out.push_str(&format!(
                            "  {:<width$}  {:>10}  {:>10}  {:>10}  {}  metrics=[{}]\n",
                            "",
                            "",
                            "",
                            "",
                            "  ".repeat(line.depth),
                            m.raw
                        ));
                    }
                }
                out.push_str(
                    "\n  rows: rows out (^ counted by the operator above, which passes rows on unchanged);\n  \
                     compute: CPU time in the operator, summed over partitions; memory: peak, where the\n  \
                     operator reports it (hash tables, aggregation state).\n",
                );
            }
            None => {
                out.push_str("physical plan:\n");
                render_tree(&self.physical, verbose, &mut out);
                out.push('\n');
            }
        }
        out.push_str(
            "  [k]: evaluates what KQL stage k wrote; (k): does no work of its own (added by\n  \
             DataFusion, or only moves columns) and serves stage k's operators; [?]: does work\n  \
             that could not be traced to a stage.\n",
        );
        out
    }
}

fn render_tree(lines: &[PlanLine], verbose: bool, out: &mut String) {
    for line in lines {
        let text = if verbose {
            line.text.clone()
        } else {
            shorten(&line.summary, SHORT)
        };
        out.push_str(&format!(
            "{}{} {text}\n",
            "  ".repeat(line.depth + 1),
            line.label
        ));
    }
}

/// `text` cut to `max` characters, marked with ` ...` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut} ...")
}

fn duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        format!("{nanos} ns")
    } else if nanos < 1_000_000 {
        format!("{:.1} µs", nanos as f64 / 1e3)
    } else if nanos < 1_000_000_000 {
        format!("{:.2} ms", nanos as f64 / 1e6)
    } else {
        format!("{:.2} s", nanos as f64 / 1e9)
    }
}

fn bytes(n: usize) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", n / (1024.0 * 1024.0 * 1024.0))
    }
}

/// What `explain` needs of a session.
pub(crate) struct Inputs<'a> {
    pub state: SessionState,
    pub task: Arc<datafusion::execution::TaskContext>,
    pub runtime: &'a tokio::runtime::Runtime,
    pub query: &'a str,
    /// The span of the query statement (after the `let`s).
    pub statement: Option<kqlite_syntax::Span>,
    /// kqlite's plan of the query.
    pub plan: LogicalPlan,
    /// The span and plan after each stage of the outermost pipe.
    pub stages: Vec<(kqlite_syntax::Span, LogicalPlan)>,
}

pub(crate) fn explain(inputs: Inputs<'_>, options: ExplainOptions) -> Result<Explained> {
    let Inputs {
        state,
        task,
        runtime,
        query,
        statement,
        plan,
        mut stages,
    } = inputs;
    if stages.is_empty() {
        // A query that is not a pipe is one stage.
        let span = statement.unwrap_or(kqlite_syntax::Span {
            start: 0,
            end: query.len(),
        });
        stages.push((span, plan.clone()));
    }
    let stage_text = stages
        .iter()
        .map(|(span, _)| {
            let text = query.get(span.start..span.end).unwrap_or_default();
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect();
    let mut logical = Vec::new();
    label_kqlite_plan(&plan, &stages, stages.len(), 0, &mut logical);

    let optimized = state
        .optimize(&plan)
        .map_err(|e| Error::Execution(e.to_string()))?;
    let physical = runtime
        .block_on(state.create_physical_plan(&optimized))
        .map_err(|e| Error::Execution(e.to_string()))?;

    // The stages' work, from the unoptimised plans of the stage prefixes
    // (only the rewrites the physical planner needs: expressions in normal
    // form, DISTINCT ON as an aggregate), and as a second opinion from
    // their optimised plans (constants the optimiser folded across stages).
    let trace_state = SessionStateBuilder::new_from_existing(state.clone())
        .with_optimizer_rules(vec![
            Arc::new(datafusion::optimizer::simplify_expressions::SimplifyExpressions::new()),
            Arc::new(
                datafusion::optimizer::replace_distinct_aggregate::ReplaceDistinctWithAggregate::new(),
            ),
        ])
        .with_physical_optimizer_rules(vec![])
        .build();
    let mut tracer = Tracer::default();
    let prefixes: Vec<&LogicalPlan> = stages.iter().map(|(_, p)| p).collect();
    let index = StageIndex {
        map: stage_work(&prefixes, &[&trace_state, &state], runtime, &mut tracer),
        optimized: stage_work(&prefixes, &[&state], runtime, &mut tracer),
    };

    let optimized_lines = label_optimized(&optimized, &trace_state, runtime, &mut tracer, &index);

    let run = if options.analyze {
        use futures::StreamExt;
        // The result is counted as it comes, not held.
        let started = std::time::Instant::now();
        // Operators start their tasks when the stream is made.
        let _inside = runtime.enter();
        let mut stream = datafusion::physical_plan::execute_stream(physical.clone(), task)
            .map_err(crate::session::execution_error)?;
        let mut rows = 0;
        while let Some(batch) = runtime.block_on(stream.next()) {
            rows += batch.map_err(crate::session::execution_error)?.num_rows();
        }
        Some(RunSummary {
            rows,
            elapsed: started.elapsed(),
        })
    } else {
        None
    };
    let physical_lines = label_physical(&physical, &mut tracer, &index, options.analyze);
    Ok(Explained {
        stages: stage_text,
        logical,
        optimized: optimized_lines,
        physical: physical_lines,
        run,
    })
}

/// What each stage adds to the physical plan of the stages before it:
/// fingerprint to stages. Each prefix is planned with the first state that
/// can plan it; a prefix none can plan has its work credited to it and the
/// next stage together.
fn stage_work(
    prefixes: &[&LogicalPlan],
    states: &[&SessionState],
    runtime: &tokio::runtime::Runtime,
    tracer: &mut Tracer,
) -> HashMap<Fp, BTreeSet<usize>> {
    let mut map: HashMap<Fp, BTreeSet<usize>> = HashMap::new();
    let mut before: HashMap<Fp, usize> = HashMap::new();
    let mut pending: Vec<usize> = Vec::new();
    for (k, prefix) in prefixes.iter().enumerate() {
        pending.push(k + 1);
        let Some(p) = states
            .iter()
            .find_map(|s| runtime.block_on(s.create_physical_plan(prefix)).ok())
        else {
            continue;
        };
        let now = tracer.plan_counts(&p);
        for (fp, n) in &now {
            if *n > before.get(fp).copied().unwrap_or(0) {
                map.entry(*fp).or_default().extend(&pending);
            }
        }
        pending.clear();
        before = now;
    }
    map
}

/// kqlite's plan: each node marked with the stage whose plan it tops, or
/// else the stage of the nearest marked ancestor.
fn label_kqlite_plan(
    node: &LogicalPlan,
    stages: &[(kqlite_syntax::Span, LogicalPlan)],
    inherited: usize,
    depth: usize,
    out: &mut Vec<PlanLine>,
) {
    let stage = stages
        .iter()
        .rposition(|(_, p)| p == node)
        .map_or(inherited, |i| i + 1);
    let label = if stage == 0 {
        Label::Serves(BTreeSet::new())
    } else {
        Label::Stages(BTreeSet::from([stage]))
    };
    out.push(PlanLine {
        depth,
        name: logical_name(node),
        text: node.display().to_string(),
        summary: logical_summary(node),
        label,
        metrics: None,
    });
    for child in node.inputs() {
        label_kqlite_plan(child, stages, stage, depth + 1, out);
    }
}

/// A logical node's kind: its text up to the first colon.
fn logical_name(node: &LogicalPlan) -> String {
    let text = node.display().to_string();
    text.split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A logical node on one line; a projection lists only what it computes.
fn logical_summary(node: &LogicalPlan) -> String {
    let LogicalPlan::Projection(p) = node else {
        return node.display().to_string();
    };
    let computed: Vec<String> = p
        .expr
        .iter()
        .filter_map(|e| match e {
            Expr::Column(_) => None,
            Expr::Alias(a) if matches!(*a.expr, Expr::Column(_)) => None,
            Expr::Alias(a) => Some(format!(
                "{} := {}",
                a.name,
                shorten(&a.expr.to_string(), 80)
            )),
            other => Some(shorten(&other.to_string(), 80)),
        })
        .collect();
    projection_summary("Projection", p.expr.len(), &computed)
}

fn projection_summary(name: &str, columns: usize, computed: &[String]) -> String {
    let s = if columns == 1 { "" } else { "s" };
    if computed.is_empty() {
        format!("{name}: {columns} column{s}, moved or renamed only")
    } else {
        format!(
            "{name}: {columns} column{s}; computes {}",
            computed.join(", ")
        )
    }
}

/// The optimised plan: each node's work is what its physical plan does
/// beyond its inputs' physical plans.
fn label_optimized(
    plan: &LogicalPlan,
    trace_state: &SessionState,
    runtime: &tokio::runtime::Runtime,
    tracer: &mut Tracer,
    index: &StageIndex,
) -> Vec<PlanLine> {
    // Depth-first: (node, depth, parent position).
    let mut nodes: Vec<(&LogicalPlan, usize, Option<usize>)> = Vec::new();
    let mut stack = vec![(plan, 0usize, None)];
    while let Some((n, d, parent)) = stack.pop() {
        let me = nodes.len();
        nodes.push((n, d, parent));
        for c in n.inputs().into_iter().rev() {
            stack.push((c, d + 1, Some(me)));
        }
    }
    let mut counts: Vec<Option<HashMap<Fp, usize>>> = vec![None; nodes.len()];
    for (i, (n, _, _)) in nodes.iter().enumerate() {
        counts[i] = runtime
            .block_on(trace_state.create_physical_plan(n))
            .ok()
            .map(|p| tracer.plan_counts(&p));
    }
    let mut own: Vec<Option<Vec<Fp>>> = Vec::with_capacity(nodes.len());
    for (i, _) in nodes.iter().enumerate() {
        let Some(mine) = &counts[i] else {
            own.push(None);
            continue;
        };
        let mut below: HashMap<Fp, usize> = HashMap::new();
        let mut known = true;
        for (j, (_, _, parent)) in nodes.iter().enumerate() {
            if *parent == Some(i) {
                match &counts[j] {
                    Some(c) => {
                        for (fp, n) in c {
                            *below.entry(*fp).or_default() += n;
                        }
                    }
                    None => known = false,
                }
            }
        }
        if !known {
            own.push(None);
            continue;
        }
        let fps = mine
            .iter()
            .filter(|(fp, n)| **n > below.get(fp).copied().unwrap_or(0))
            .map(|(fp, _)| *fp)
            .collect();
        own.push(Some(fps));
    }
    let roles: Vec<Own> = own
        .iter()
        .map(|o| match o {
            None => Own::Untraced,
            Some(fps) => index.lookup(fps),
        })
        .collect();
    let parents: Vec<Option<usize>> = nodes.iter().map(|(_, _, p)| *p).collect();
    let completes = vec![false; nodes.len()];
    let labels = settle(&roles, &parents, &completes);
    nodes
        .iter()
        .zip(labels)
        .map(|((n, d, _), label)| PlanLine {
            depth: *d,
            name: logical_name(n),
            text: n.display().to_string(),
            summary: logical_summary(n),
            label,
            metrics: None,
        })
        .collect()
}

/// The physical plan, labelled, with metrics when it ran.
fn label_physical(
    plan: &Plan,
    tracer: &mut Tracer,
    index: &StageIndex,
    analyzed: bool,
) -> Vec<PlanLine> {
    let mut nodes: Vec<(Plan, usize, Option<usize>)> = Vec::new();
    let mut stack = vec![(plan.clone(), 0usize, None)];
    while let Some((n, d, parent)) = stack.pop() {
        let me = nodes.len();
        for c in n.children().into_iter().rev() {
            stack.push((c.clone(), d + 1, Some(me)));
        }
        nodes.push((n, d, parent));
    }
    let mut roles = Vec::with_capacity(nodes.len());
    let mut completes = Vec::with_capacity(nodes.len());
    for (n, _, _) in &nodes {
        let t = tracer.operator(n);
        completes.push(t.role == Role::Completes);
        roles.push(if t.fps.is_empty() {
            Own::Nothing
        } else {
            index.lookup(&t.fps)
        });
    }
    let parents: Vec<Option<usize>> = nodes.iter().map(|(_, _, p)| *p).collect();
    let labels = settle(&roles, &parents, &completes);
    let mut lines: Vec<PlanLine> = nodes
        .iter()
        .zip(labels)
        .map(|((n, d, _), label)| PlanLine {
            depth: *d,
            name: n.name().to_string(),
            text: DisplayableExecutionPlan::new(n.as_ref())
                .one_line()
                .to_string()
                .trim_end()
                .to_string(),
            summary: physical_summary(n),
            label,
            metrics: analyzed.then(|| metrics_of(n)),
        })
        .collect();
    if analyzed {
        // A scan that counts nothing under an operator that passes every
        // row on (repartitioning, batch coalescing) read what that
        // operator counted.
        for i in 0..lines.len() {
            let Some(p) = parents[i] else { continue };
            let only_child = parents.iter().filter(|x| **x == Some(p)).count() == 1;
            let passes = matches!(
                nodes[p].0.name(),
                "RepartitionExec" | "CoalesceBatchesExec" | "CooperativeExec"
            );
            let parent_rows = lines[p].metrics.as_ref().and_then(|m| m.rows);
            if let Some(m) = lines[i].metrics.as_mut()
                && m.rows.is_none()
                && only_child
                && passes
                && parent_rows.is_some()
            {
                m.rows = parent_rows;
                m.rows_from_parent = true;
            }
        }
    }
    lines
}

fn physical_summary(plan: &Plan) -> String {
    if let Some(p) = plan.downcast_ref::<ProjectionExec>() {
        let computed: Vec<String> = p
            .expr()
            .iter()
            .filter(|e| !e.expr.is::<Column>())
            .map(|e| format!("{} := {}", e.alias, shorten(&e.expr.to_string(), 80)))
            .collect();
        return projection_summary("ProjectionExec", p.expr().len(), &computed);
    }
    DisplayableExecutionPlan::new(plan.as_ref())
        .one_line()
        .to_string()
        .trim_end()
        .to_string()
}

fn metrics_of(plan: &Plan) -> OperatorMetrics {
    let Some(set) = plan.metrics() else {
        return OperatorMetrics::default();
    };
    let set = set.aggregate_by_name();
    let mut memory: Option<usize> = None;
    for m in set.iter() {
        match m.value() {
            MetricValue::PeakMemoryUsage { gauge, .. } => {
                *memory.get_or_insert(0) += gauge.value();
            }
            MetricValue::CurrentMemoryUsage(g) => {
                *memory.get_or_insert(0) += g.value();
            }
            _ => {}
        }
    }
    let raw = set
        .clone()
        .sorted_for_display()
        .timestamps_removed()
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    OperatorMetrics {
        rows: set.output_rows(),
        rows_from_parent: false,
        compute: set
            .elapsed_compute()
            .map(|n| Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))),
        memory,
        spills: set.spill_count().unwrap_or(0),
        spilled_bytes: set.spilled_bytes().unwrap_or(0),
        raw,
    }
}

/// What a node's own work matched.
#[derive(Debug, Clone)]
enum Own {
    /// No work of its own.
    Nothing,
    /// Work done for these stages (and, if true, work traced to none).
    Stages(BTreeSet<usize>, bool),
    /// Work that matched no stage.
    Untraced,
}

/// Labels from each node's own work; nodes without work take the label
/// of the node they serve: the nearest ancestor with work (or, at the
/// top, the nearest descendant), or for a node that completes its input's
/// work (the final phase of an aggregate, a sort's merge) that input's.
fn settle(own: &[Own], parents: &[Option<usize>], completes: &[bool]) -> Vec<Label> {
    let first_child = |i: usize| parents.iter().position(|p| *p == Some(i));
    // The stages a node works for: its own, and for a node that completes
    // its input's work, those of the first working node below it.
    let worked = |i: usize| -> Option<BTreeSet<usize>> {
        let mut acc = BTreeSet::new();
        match &own[i] {
            Own::Stages(s, _) => acc.extend(s),
            Own::Untraced => return None,
            Own::Nothing => {}
        }
        if completes[i] {
            let mut at = first_child(i);
            while let Some(c) = at {
                match &own[c] {
                    Own::Stages(s, _) => {
                        acc.extend(s);
                        break;
                    }
                    Own::Untraced => return None,
                    Own::Nothing => at = first_child(c),
                }
            }
        }
        (!acc.is_empty()).then_some(acc)
    };
    let mut labels = Vec::with_capacity(own.len());
    for i in 0..own.len() {
        match &own[i] {
            Own::Untraced => {
                labels.push(Label::Untraced);
                continue;
            }
            Own::Stages(_, partly) => {
                let s = worked(i).unwrap_or_default();
                labels.push(if *partly {
                    Label::Partly(s)
                } else {
                    Label::Stages(s)
                });
                continue;
            }
            Own::Nothing if completes[i] => {
                if let Some(s) = worked(i) {
                    labels.push(Label::Stages(s));
                    continue;
                }
            }
            Own::Nothing => {}
        }
        // Serves the nearest ancestor that works for stages.
        let mut served = None;
        let mut blocked = false;
        let mut at = parents[i];
        while let Some(a) = at {
            match &own[a] {
                Own::Untraced => {
                    blocked = true;
                    break;
                }
                Own::Stages(..) => {
                    served = worked(a);
                    break;
                }
                Own::Nothing if completes[a] => {
                    if let Some(s) = worked(a) {
                        served = Some(s);
                        break;
                    }
                }
                Own::Nothing => {}
            }
            at = parents[a];
        }
        if served.is_none() && !blocked {
            // At the top: the operator whose output it hands on.
            let mut at = first_child(i);
            while let Some(c) = at {
                match &own[c] {
                    Own::Untraced => break,
                    Own::Stages(..) => {
                        served = worked(c);
                        break;
                    }
                    Own::Nothing => {
                        if completes[c]
                            && let Some(s) = worked(c)
                        {
                            served = Some(s);
                            break;
                        }
                        at = first_child(c);
                    }
                }
            }
        }
        labels.push(Label::Serves(served.unwrap_or_default()));
    }
    labels
}

/// A fingerprint of a piece of work.
type Fp = (Kind, u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    /// A table read.
    Table,
    /// A filter conjunct (of a filter or a join).
    Predicate,
    /// A computed column of a projection.
    Computed,
    /// The key pairs of a join.
    Join,
    /// A group key.
    Group,
    /// An aggregate call.
    Aggregate,
    /// A sort key.
    Sort,
    /// A row limit.
    Limit,
    /// An unnested column.
    Unnest,
    /// A window function.
    Window,
    /// An operator otherwise unknown, by name.
    Operator,
    /// A sub-expression of an evaluated expression (not a fingerprint of
    /// work by itself: matched against computed columns, so an expression
    /// that inlines another stage's column names that stage too).
    Part,
}

/// Which stages did each piece of work.
#[derive(Default)]
struct StageIndex {
    /// From the unoptimised plans of the stage prefixes.
    map: HashMap<Fp, BTreeSet<usize>>,
    /// From their optimised plans, for work found only there.
    optimized: HashMap<Fp, BTreeSet<usize>>,
}

impl StageIndex {
    fn lookup(&self, fps: &[Fp]) -> Own {
        let mut found: BTreeSet<usize> = BTreeSet::new();
        let mut primary = 0;
        let mut unmatched = 0;
        for fp in fps.iter().filter(|f| f.0 != Kind::Part) {
            primary += 1;
            // The work itself, or else a piece of an expression a stage
            // wrote (the optimiser took out a common sub-expression).
            let part = (Kind::Part, fp.1);
            let stages = self
                .map
                .get(fp)
                .or_else(|| self.map.get(&part))
                .or_else(|| self.optimized.get(fp))
                .or_else(|| self.optimized.get(&part));
            match stages {
                Some(s) => found.extend(s),
                None => unmatched += 1,
            }
        }
        // Columns of earlier stages the optimiser inlined into this work.
        let mut nested: BTreeSet<usize> = BTreeSet::new();
        for (_, h) in fps.iter().filter(|f| f.0 == Kind::Part) {
            if let Some(s) = self.map.get(&(Kind::Computed, *h)) {
                nested.extend(s);
            }
        }
        if let Some(last) = found.last().copied() {
            nested.retain(|s| *s <= last);
        }
        found.extend(nested);
        if !found.is_empty() {
            Own::Stages(found, unmatched > 0)
        } else if primary > 0 {
            Own::Untraced
        } else {
            Own::Nothing
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Does work (its fingerprints say which).
    Work,
    /// Only serves its neighbours (repartitioning, coalescing, moving
    /// columns); its fingerprints, if any, are limits it applies.
    Serves,
    /// Finishes its input's work (final aggregation, sort merge).
    Completes,
}

struct OperatorTrace {
    role: Role,
    fps: Vec<Fp>,
}

/// Fingerprints physical plans. Every column is resolved to an expression
/// over *base* columns (table columns and the outputs of unnests,
/// aggregates, windows, unions), named by a hash of what made them.
#[derive(Default)]
struct Tracer {
    /// Resolved output columns of each plan node seen, by address; the
    /// nodes are kept alive so that addresses are not reused.
    outputs: HashMap<usize, (Plan, Rc<Vec<PExpr>>)>,
    /// Structural hash of each expression seen, by address (kept alive).
    hashes: HashMap<usize, (PExpr, u64)>,
}

fn addr_plan(p: &Plan) -> usize {
    Arc::as_ptr(p) as *const () as usize
}

fn addr_expr(e: &PExpr) -> usize {
    Arc::as_ptr(e) as *const () as usize
}

fn hash_of<T: Hash + ?Sized>(parts: &T) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

fn base(name: String) -> PExpr {
    Arc::new(Column::new(&name, 0))
}

impl Tracer {
    /// How many times each fingerprint occurs in a plan.
    fn plan_counts(&mut self, plan: &Plan) -> HashMap<Fp, usize> {
        let mut counts = HashMap::new();
        let mut stack = vec![plan.clone()];
        while let Some(p) = stack.pop() {
            for fp in self.operator(&p).fps {
                *counts.entry(fp).or_default() += 1;
            }
            stack.extend(p.children().into_iter().cloned());
        }
        counts
    }

    /// A structural hash of an expression: equal for equal expressions
    /// over the same base columns. Memoised by address, so shared
    /// sub-expressions are hashed once.
    fn hash(&mut self, e: &PExpr) -> u64 {
        let key = addr_expr(e);
        if let Some((_, h)) = self.hashes.get(&key) {
            return *h;
        }
        let children: Vec<PExpr> = e.children().into_iter().cloned().collect();
        let own = if e.is::<datafusion::physical_expr::scalar_subquery::ScalarSubqueryExpr>() {
            // Shown with its result once it has run, so not by its text
            // (the scalar subqueries of a query are not told apart).
            "scalar_subquery".to_string()
        } else if children.is_empty() {
            e.to_string()
        } else {
            // The node itself, its children replaced by placeholders.
            let holes: Vec<PExpr> = (0..children.len()).map(|i| base(format!("#{i}"))).collect();
            match e.clone().with_new_children(holes) {
                Ok(x) => x.to_string(),
                Err(_) => e.to_string(),
            }
        };
        let mut parts = vec![hash_of(&own)];
        for c in &children {
            parts.push(self.hash(c));
        }
        let h = hash_of(&parts);
        self.hashes.insert(key, (e.clone(), h));
        h
    }

    /// `e` with every column replaced by what it resolves to in `inputs`.
    fn resolve(&self, e: &PExpr, inputs: &[PExpr]) -> PExpr {
        e.clone()
            .transform_up(|n| {
                if let Some(c) = n.downcast_ref::<Column>() {
                    let r = inputs
                        .get(c.index())
                        .cloned()
                        .unwrap_or_else(|| base(format!("?{}", c.name())));
                    Ok(Transformed::yes(r))
                } else {
                    Ok(Transformed::no(n))
                }
            })
            .map(|t| t.data)
            .unwrap_or_else(|_| e.clone())
    }

    /// The resolved hash of an evaluated expression, and the hashes of the
    /// sub-expressions it evaluates itself (not those of the columns it
    /// reads, which other operators computed).
    fn evaluated(&mut self, kind: Kind, e: &PExpr, inputs: &[PExpr], fps: &mut Vec<Fp>) {
        let r = self.resolve(e, inputs);
        fps.push((kind, self.hash(&r)));
        let mut stack: Vec<PExpr> = e.children().into_iter().cloned().collect();
        while let Some(sub) = stack.pop() {
            if sub.is::<Column>() || sub.is::<Literal>() {
                continue;
            }
            let r = self.resolve(&sub, inputs);
            fps.push((Kind::Part, self.hash(&r)));
            stack.extend(sub.children().into_iter().cloned());
        }
    }

    /// The resolved expression of each output column of a node.
    fn outputs(&mut self, plan: &Plan) -> Rc<Vec<PExpr>> {
        let key = addr_plan(plan);
        if let Some((_, o)) = self.outputs.get(&key) {
            return o.clone();
        }
        let o = Rc::new(self.compute_outputs(plan));
        self.outputs.insert(key, (plan.clone(), o.clone()));
        o
    }

    fn child_outputs(&mut self, plan: &Plan, i: usize) -> Rc<Vec<PExpr>> {
        match plan.children().get(i) {
            Some(c) => {
                let c = (*c).clone();
                self.outputs(&c)
            }
            None => Rc::new(Vec::new()),
        }
    }

    fn opaque(plan: &Plan) -> Vec<PExpr> {
        let name = plan.name().to_string();
        plan.schema()
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| base(format!("{name}#{i}:{}", f.name())))
            .collect()
    }

    fn compute_outputs(&mut self, plan: &Plan) -> Vec<PExpr> {
        if plan.children().is_empty() {
            let id = format!("{:x}", hash_of(&table_identity(plan)));
            let columns = |s: &datafusion::arrow::datatypes::Schema| -> Vec<PExpr> {
                s.fields()
                    .iter()
                    .map(|f| base(format!("{id}.{}", f.name())))
                    .collect()
            };
            // A file scan may compute expressions the optimiser pushed
            // into it, over the table's columns.
            if let Some(f) = file_scan(plan)
                && let Some(p) = f.file_source().projection()
            {
                let table = columns(f.file_source().table_schema().table_schema());
                return p.iter().map(|e| self.resolve(&e.expr, &table)).collect();
            }
            return columns(&plan.schema());
        }
        if let Some(p) = plan.downcast_ref::<ProjectionExec>() {
            let input = self.child_outputs(plan, 0);
            return p
                .expr()
                .iter()
                .map(|e| self.resolve(&e.expr, &input))
                .collect();
        }
        if let Some(f) = plan.downcast_ref::<FilterExec>() {
            let input = self.child_outputs(plan, 0);
            return match f.projection() {
                Some(cols) => cols
                    .iter()
                    .map(|i| input.get(*i).cloned().unwrap_or_else(|| base("?".into())))
                    .collect(),
                None => input.to_vec(),
            };
        }
        if let Some(j) = plan.downcast_ref::<HashJoinExec>() {
            let joined = self.joined(plan, j.join_type());
            return project(joined, j.projection.as_deref());
        }
        if let Some(j) = plan.downcast_ref::<NestedLoopJoinExec>() {
            let joined = self.joined(plan, j.join_type());
            return project(joined, j.projection().as_deref());
        }
        if let Some(j) = plan.downcast_ref::<SortMergeJoinExec>() {
            return self.joined(plan, &j.join_type());
        }
        if plan.is::<CrossJoinExec>() {
            let mut out = self.child_outputs(plan, 0).to_vec();
            out.extend(self.child_outputs(plan, 1).iter().cloned());
            return out;
        }
        if let Some(a) = plan.downcast_ref::<AggregateExec>() {
            return self.aggregate_outputs(plan, a);
        }
        if let Some(u) = plan.downcast_ref::<UnnestExec>() {
            let input = self.child_outputs(plan, 0);
            let lists = u.list_column_indices();
            let distinct: BTreeSet<usize> = lists.iter().map(|l| l.index_in_input_schema).collect();
            if !u.struct_column_indices().is_empty()
                || distinct.len() != lists.len()
                || plan.schema().fields().len() != input.len()
            {
                return Self::opaque(plan);
            }
            let mut out = input.to_vec();
            for l in lists {
                if let Some(slot) = out.get_mut(l.index_in_input_schema) {
                    let h = self.hash(slot);
                    *slot = base(format!("unnest#{:x}", hash_of(&(h, l.depth))));
                }
            }
            return out;
        }
        if let Some(w) = plan.downcast_ref::<WindowAggExec>() {
            let exprs = w.window_expr().to_vec();
            return self.window_outputs(plan, &exprs);
        }
        if let Some(w) = plan.downcast_ref::<BoundedWindowAggExec>() {
            let exprs = w.window_expr().to_vec();
            return self.window_outputs(plan, &exprs);
        }
        if matches!(plan.name(), "UnionExec" | "InterleaveExec") {
            let inputs: Vec<Rc<Vec<PExpr>>> = (0..plan.children().len())
                .map(|i| self.child_outputs(plan, i))
                .collect();
            let width = plan.schema().fields().len();
            return (0..width)
                .map(|c| {
                    let hs: Vec<u64> = inputs
                        .iter()
                        .map(|inp| match inp.get(c) {
                            Some(e) => {
                                let e = e.clone();
                                self.hash(&e)
                            }
                            None => 0,
                        })
                        .collect();
                    base(format!("union#{:x}", hash_of(&hs)))
                })
                .collect();
        }
        // Operators that pass their (first) input's columns on unchanged:
        // repartitioning, coalescing, sorts, limits, and any other whose
        // output is its input's schema.
        let first = self.child_outputs(plan, 0);
        let same = plan.children().first().is_some_and(|c| {
            let a = plan.schema();
            let b = c.schema();
            a.fields().len() == b.fields().len()
                && a.fields()
                    .iter()
                    .zip(b.fields())
                    .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
        });
        if same {
            first.to_vec()
        } else {
            Self::opaque(plan)
        }
    }

    /// The columns of a join's output before its projection.
    fn joined(&mut self, plan: &Plan, join_type: &datafusion::common::JoinType) -> Vec<PExpr> {
        let children = plan.children();
        let (Some(l), Some(r)) = (children.first(), children.get(1)) else {
            return Self::opaque(plan);
        };
        let (_, indices) = build_join_schema(&l.schema(), &r.schema(), join_type);
        let left = self.child_outputs(plan, 0);
        let right = self.child_outputs(plan, 1);
        indices
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let side = match c.side {
                    datafusion::common::JoinSide::Left => left.get(c.index),
                    datafusion::common::JoinSide::Right => right.get(c.index),
                    datafusion::common::JoinSide::None => None,
                };
                side.cloned()
                    .unwrap_or_else(|| base(format!("join-mark#{:x}#{i}", addr_plan(plan))))
            })
            .collect()
    }

    fn aggregate_outputs(&mut self, plan: &Plan, a: &AggregateExec) -> Vec<PExpr> {
        use datafusion::physical_plan::aggregates::AggregateInputMode;
        let group = a.group_expr();
        if group.has_grouping_set() {
            return Self::opaque(plan);
        }
        let width = plan.schema().fields().len();
        let input = self.child_outputs(plan, 0);
        let groups: Vec<PExpr> = group
            .expr()
            .iter()
            .map(|(e, _)| self.resolve(e, &input))
            .collect();
        // The aggregate calls are over the raw input: the partial phase's
        // input when this is a final phase.
        let (raw_agg, raw_input) = if a.mode().input_mode() == AggregateInputMode::Raw {
            (Some(plan.clone()), input.clone())
        } else {
            match raw_aggregate(plan) {
                Some(p) => {
                    let inp = self.child_outputs(&p, 0);
                    (Some(p), inp)
                }
                None => (None, Rc::new(Vec::new())),
            }
        };
        let group_hashes: Vec<u64> = match &raw_agg {
            Some(p) => match p.downcast_ref::<AggregateExec>() {
                Some(ra) => {
                    let gs: Vec<PExpr> = ra
                        .group_expr()
                        .expr()
                        .iter()
                        .map(|(e, _)| self.resolve(e, &raw_input))
                        .collect();
                    gs.iter().map(|g| self.hash(g)).collect()
                }
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let mut out = groups;
        let n_groups = out.len();
        let calls = match raw_agg
            .as_ref()
            .and_then(|p| p.downcast_ref::<AggregateExec>())
        {
            Some(ra) => ra.aggr_expr().to_vec(),
            None => Vec::new(),
        };
        let produces_final = a.mode().output_mode()
            == datafusion::physical_plan::aggregates::AggregateOutputMode::Final;
        for i in n_groups..width {
            let call = calls.get(i - n_groups);
            let slot = match (call, produces_final) {
                (Some(call), true) => {
                    let h = self.aggregate_hash(call, &raw_input);
                    base(format!("agg#{:x}", hash_of(&(h, &group_hashes))))
                }
                _ => base(format!("agg-state#{:x}#{i}", addr_plan(plan))),
            };
            out.push(slot);
        }
        out
    }

    fn aggregate_hash(
        &mut self,
        call: &datafusion::physical_expr::aggregate::AggregateFunctionExpr,
        input: &[PExpr],
    ) -> u64 {
        let mut parts = vec![hash_of(call.fun().name()), u64::from(call.is_distinct())];
        for arg in call.expressions() {
            let r = self.resolve(&arg, input);
            parts.push(self.hash(&r));
        }
        for o in call.order_bys() {
            let r = self.resolve(&o.expr, input);
            parts.push(self.hash(&r));
            parts.push(hash_of(&o.options.to_string()));
        }
        hash_of(&parts)
    }

    fn window_outputs(&mut self, plan: &Plan, exprs: &[Arc<dyn WindowExpr>]) -> Vec<PExpr> {
        let input = self.child_outputs(plan, 0);
        let mut out = input.to_vec();
        for w in exprs {
            let h = self.window_hash(w, &input);
            out.push(base(format!("window#{h:x}")));
        }
        out
    }

    fn window_hash(&mut self, w: &Arc<dyn WindowExpr>, input: &[PExpr]) -> u64 {
        let mut parts = vec![hash_of(w.name())];
        for e in w.expressions() {
            let r = self.resolve(&e, input);
            parts.push(self.hash(&r));
        }
        for e in w.partition_by() {
            let r = self.resolve(e, input);
            parts.push(self.hash(&r));
        }
        for o in w.order_by() {
            let r = self.resolve(&o.expr, input);
            parts.push(self.hash(&r));
        }
        hash_of(&parts)
    }

    /// One operator's role and the fingerprints of its work.
    fn operator(&mut self, plan: &Plan) -> OperatorTrace {
        let mut fps = Vec::new();
        let mut role = Role::Work;
        let name = plan.name();
        if plan.children().is_empty() {
            fps.push((Kind::Table, hash_of(&table_identity(plan))));
            if let Some(f) = file_scan(plan) {
                let id = format!("{:x}", hash_of(&table_identity(plan)));
                let table: Vec<PExpr> = f
                    .file_source()
                    .table_schema()
                    .table_schema()
                    .fields()
                    .iter()
                    .map(|c| base(format!("{id}.{}", c.name())))
                    .collect();
                if let Some(p) = f.file_source().projection() {
                    for e in p.iter() {
                        if !e.expr.is::<Column>() {
                            self.evaluated(Kind::Computed, &e.expr, &table, &mut fps);
                        }
                    }
                }
                // Filters the scan prunes by (row groups, pages): the
                // stage's filter. Filters made at run time from a join's
                // build side are not written anywhere.
                if let Some(filter) = f.file_source().filter() {
                    for c in split_conjunction(&filter) {
                        if !c.is::<DynamicFilterPhysicalExpr>() {
                            self.evaluated(Kind::Predicate, c, &table, &mut fps);
                        }
                    }
                }
            }
        } else if let Some(p) = plan.downcast_ref::<ProjectionExec>() {
            let input = self.child_outputs(plan, 0);
            for e in p.expr() {
                if !e.expr.is::<Column>() {
                    self.evaluated(Kind::Computed, &e.expr, &input, &mut fps);
                }
            }
            if fps.is_empty() {
                role = Role::Serves;
            }
        } else if let Some(f) = plan.downcast_ref::<FilterExec>() {
            let input = self.child_outputs(plan, 0);
            for c in split_conjunction(f.predicate()) {
                // A filter made at run time from a join's build side is
                // the engine's, not written anywhere.
                if !c.is::<DynamicFilterPhysicalExpr>() {
                    self.evaluated(Kind::Predicate, c, &input, &mut fps);
                }
            }
        } else if let Some(j) = plan.downcast_ref::<HashJoinExec>() {
            self.join_work(plan, j.on(), j.filter(), &mut fps);
        } else if let Some(j) = plan.downcast_ref::<SortMergeJoinExec>() {
            self.join_work(plan, j.on(), j.filter().as_ref(), &mut fps);
        } else if let Some(j) = plan.downcast_ref::<NestedLoopJoinExec>() {
            self.join_work(plan, &[], j.filter(), &mut fps);
        } else if plan.is::<CrossJoinExec>() {
            self.join_work(plan, &[], None, &mut fps);
        } else if let Some(a) = plan.downcast_ref::<AggregateExec>() {
            use datafusion::physical_plan::aggregates::AggregateInputMode;
            if a.mode().input_mode() == AggregateInputMode::Raw {
                let input = self.child_outputs(plan, 0);
                for (e, _) in a.group_expr().expr() {
                    self.evaluated(Kind::Group, e, &input, &mut fps);
                }
                let group_hashes: Vec<u64> = fps
                    .iter()
                    .filter(|f| f.0 == Kind::Group)
                    .map(|f| f.1)
                    .collect();
                for (i, call) in a.aggr_expr().iter().enumerate() {
                    let mut h = self.aggregate_hash(call, &input);
                    if let Some(Some(filter)) = a.filter_expr().get(i) {
                        let r = self.resolve(filter, &input);
                        h = hash_of(&(h, self.hash(&r)));
                    }
                    fps.push((Kind::Aggregate, hash_of(&(h, &group_hashes))));
                    for arg in call.expressions() {
                        if !arg.is::<Column>() && !arg.is::<Literal>() {
                            let mut parts = Vec::new();
                            self.evaluated(Kind::Part, &arg, &input, &mut parts);
                            fps.extend(parts);
                        }
                    }
                }
                if fps.is_empty() {
                    fps.push((Kind::Operator, hash_of("AggregateExec")));
                }
            } else {
                role = Role::Completes;
            }
        } else if let Some(s) = plan.downcast_ref::<SortExec>() {
            let input = self.child_outputs(plan, 0);
            for k in s.expr().iter() {
                let r = self.resolve(&k.expr, &input);
                let h = self.hash(&r);
                fps.push((Kind::Sort, hash_of(&(h, k.options.to_string()))));
            }
        } else if let Some(u) = plan.downcast_ref::<UnnestExec>() {
            let input = self.child_outputs(plan, 0);
            for l in u.list_column_indices() {
                let h = match input.get(l.index_in_input_schema) {
                    Some(e) => {
                        let e = e.clone();
                        self.hash(&e)
                    }
                    None => 0,
                };
                fps.push((Kind::Unnest, hash_of(&(h, l.depth))));
            }
            for s in u.struct_column_indices() {
                let h = match input.get(*s) {
                    Some(e) => {
                        let e = e.clone();
                        self.hash(&e)
                    }
                    None => 0,
                };
                fps.push((Kind::Unnest, hash_of(&(h, "struct"))));
            }
        } else if let Some(w) = plan.downcast_ref::<WindowAggExec>() {
            let input = self.child_outputs(plan, 0);
            for e in w.window_expr() {
                fps.push((Kind::Window, self.window_hash(e, &input)));
            }
        } else if let Some(w) = plan.downcast_ref::<BoundedWindowAggExec>() {
            let input = self.child_outputs(plan, 0);
            for e in w.window_expr() {
                fps.push((Kind::Window, self.window_hash(e, &input)));
            }
        } else if matches!(
            name,
            "RepartitionExec"
                | "CoalesceBatchesExec"
                | "CoalescePartitionsExec"
                | "CooperativeExec"
                | "OutputRequirementExec"
                | "GlobalLimitExec"
                | "LocalLimitExec"
        ) {
            // Limits are work through their fetch, below.
            role = if name.ends_with("LimitExec") {
                Role::Work
            } else {
                Role::Serves
            };
        } else if name == "SortPreservingMergeExec" {
            role = Role::Completes;
        } else {
            let name = if name == "InterleaveExec" {
                "UnionExec"
            } else {
                name
            };
            fps.push((Kind::Operator, hash_of(name)));
        }
        // Row limits, wherever the optimiser moved them.
        let fetch = plan
            .fetch()
            .map(|f| match plan.downcast_ref::<GlobalLimitExec>() {
                Some(g) => f.saturating_add(g.skip()),
                None => f,
            });
        if let Some(f) = fetch {
            fps.push((Kind::Limit, hash_of(&f)));
        }
        OperatorTrace { role, fps }
    }

    fn join_work(
        &mut self,
        plan: &Plan,
        on: &[(PExpr, PExpr)],
        filter: Option<&JoinFilter>,
        fps: &mut Vec<Fp>,
    ) {
        let left = self.child_outputs(plan, 0);
        let right = self.child_outputs(plan, 1);
        // Key pairs in an order that does not depend on which side the
        // optimiser builds from.
        let mut pairs: Vec<(u64, u64)> = Vec::new();
        for (l, r) in on {
            let a = self.resolve(l, &left);
            let b = self.resolve(r, &right);
            let (a, b) = (self.hash(&a), self.hash(&b));
            pairs.push((a.min(b), a.max(b)));
        }
        pairs.sort_unstable();
        fps.push((Kind::Join, hash_of(&pairs)));
        if let Some(f) = filter {
            let inputs: Vec<PExpr> = f
                .column_indices()
                .iter()
                .map(|c| {
                    let side = match c.side {
                        datafusion::common::JoinSide::Left => left.get(c.index),
                        datafusion::common::JoinSide::Right => right.get(c.index),
                        datafusion::common::JoinSide::None => None,
                    };
                    side.cloned().unwrap_or_else(|| base("?join".into()))
                })
                .collect();
            for c in split_conjunction(f.expression()) {
                self.evaluated(Kind::Predicate, c, &inputs, fps);
            }
        }
    }
}

fn project(cols: Vec<PExpr>, projection: Option<&[usize]>) -> Vec<PExpr> {
    match projection {
        Some(p) => p
            .iter()
            .map(|i| cols.get(*i).cloned().unwrap_or_else(|| base("?".into())))
            .collect(),
        None => cols,
    }
}

/// The aggregate over raw rows below a final phase (through the
/// repartitioning and coalescing in between).
fn raw_aggregate(plan: &Plan) -> Option<Plan> {
    use datafusion::physical_plan::aggregates::AggregateInputMode;
    let mut at = plan.children().first().map(|c| (*c).clone());
    while let Some(p) = at {
        if let Some(a) = p.downcast_ref::<AggregateExec>()
            && a.mode().input_mode() == AggregateInputMode::Raw
        {
            return Some(p.clone());
        }
        if p.children().len() != 1 {
            return None;
        }
        at = p.children().first().map(|c| (*c).clone());
    }
    None
}

/// The file scan configuration of a leaf that reads files.
fn file_scan(plan: &Plan) -> Option<&datafusion::datasource::physical_plan::FileScanConfig> {
    plan.downcast_ref::<datafusion::datasource::source::DataSourceExec>()?
        .data_source()
        .downcast_ref::<datafusion::datasource::physical_plan::FileScanConfig>()
}

/// What a leaf reads, the same however its columns are projected: the
/// table name of kqlite's JSON-lines scans, the full schema (and row count)
/// of in-memory tables and the file schema of file scans.
fn table_identity(plan: &Plan) -> String {
    use datafusion::datasource::physical_plan::FileScanConfig;
    use datafusion::datasource::source::DataSourceExec;
    let fields = |s: &datafusion::arrow::datatypes::Schema| {
        s.fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect::<Vec<_>>()
            .join(",")
    };
    let name = plan.name();
    if name == "KqlJsonLinesScan" {
        let text = DisplayableExecutionPlan::new(plan.as_ref())
            .one_line()
            .to_string();
        if let Some(rest) = text.split("table=").nth(1) {
            let table = rest.split(',').next().unwrap_or_default();
            return format!("json:{table}");
        }
    }
    if let Some(d) = plan.downcast_ref::<DataSourceExec>() {
        let source = d.data_source();
        if let Some(m) = source.downcast_ref::<datafusion::datasource::memory::MemorySourceConfig>()
        {
            let rows: usize = m
                .partitions()
                .iter()
                .flat_map(|p| p.iter().map(|b| b.num_rows()))
                .sum();
            // Two tables of one schema and size (two datatables) are told
            // apart by their first rows.
            let mut first = Vec::new();
            if let Some(batch) = m.partitions().iter().flatten().next() {
                for column in batch.columns() {
                    for row in 0..batch.num_rows().min(64) {
                        first.push(
                            datafusion::arrow::util::display::array_value_to_string(column, row)
                                .unwrap_or_default(),
                        );
                    }
                }
            }
            return format!(
                "memory:{}:{rows}:{:x}",
                fields(&m.original_schema()),
                hash_of(&first)
            );
        }
        if let Some(f) = source.downcast_ref::<FileScanConfig>() {
            return format!("files:{}", fields(f.file_schema()));
        }
    }
    if matches!(name, "EmptyExec" | "PlaceholderRowExec") {
        // No rows, or one row of no columns: whatever columns the
        // optimiser leaves them.
        return name.to_string();
    }
    format!("{name}:{}", fields(&plan.schema()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(s: &[usize]) -> BTreeSet<usize> {
        s.iter().copied().collect()
    }

    #[test]
    fn operators_without_work_serve_the_nearest_working_ancestor() {
        // 0 Projection (columns only)        root: serves what it hands on
        // 1   Aggregate final (completes)
        // 2     Repartition
        // 3       Aggregate partial: stage 3
        // 4         Repartition              serves the partial aggregate
        // 5           Scan: stage 1
        let own = vec![
            Own::Nothing,
            Own::Nothing,
            Own::Nothing,
            Own::Stages(stages(&[3]), false),
            Own::Nothing,
            Own::Stages(stages(&[1]), false),
        ];
        let parents = vec![None, Some(0), Some(1), Some(2), Some(3), Some(4)];
        let completes = vec![false, true, false, false, false, false];
        let labels = settle(&own, &parents, &completes);
        assert_eq!(
            labels,
            vec![
                Label::Serves(stages(&[3])),
                Label::Stages(stages(&[3])),
                Label::Serves(stages(&[3])),
                Label::Stages(stages(&[3])),
                Label::Serves(stages(&[3])),
                Label::Stages(stages(&[1])),
            ]
        );
    }

    #[test]
    fn untraced_work_is_said_and_not_served() {
        let own = vec![Own::Untraced, Own::Nothing, Own::Stages(stages(&[2]), true)];
        let parents = vec![None, Some(0), Some(1)];
        let labels = settle(&own, &parents, &[false, false, false]);
        assert_eq!(
            labels,
            vec![
                Label::Untraced,
                Label::Serves(BTreeSet::new()),
                Label::Partly(stages(&[2]))
            ]
        );
        assert_eq!(labels[0].to_string(), "[?]");
        assert_eq!(labels[1].to_string(), "(-)");
        assert_eq!(labels[2].to_string(), "[2,?]");
    }

    #[test]
    fn lookup_names_inlined_columns_of_earlier_stages_only() {
        let mut index = StageIndex::default();
        index.map.insert((Kind::Predicate, 10), stages(&[6]));
        index.map.insert((Kind::Computed, 20), stages(&[5]));
        index.map.insert((Kind::Computed, 30), stages(&[8]));
        index.optimized.insert((Kind::Computed, 40), stages(&[2]));
        // A filter of stage 6 evaluating stage 5's column, and a piece that
        // a later stage also computes (not inlined into an earlier stage).
        let own = index.lookup(&[(Kind::Predicate, 10), (Kind::Part, 20), (Kind::Part, 30)]);
        assert!(matches!(own, Own::Stages(ref s, false) if *s == stages(&[5, 6])));
        // Work found only in the optimised prefixes.
        let own = index.lookup(&[(Kind::Computed, 40)]);
        assert!(matches!(own, Own::Stages(ref s, false) if *s == stages(&[2])));
        // Work found nowhere.
        assert!(matches!(index.lookup(&[(Kind::Sort, 1)]), Own::Untraced));
        let own = index.lookup(&[(Kind::Predicate, 10), (Kind::Sort, 1)]);
        assert!(matches!(own, Own::Stages(ref s, true) if *s == stages(&[6])));
        assert!(matches!(index.lookup(&[]), Own::Nothing));
    }
}
