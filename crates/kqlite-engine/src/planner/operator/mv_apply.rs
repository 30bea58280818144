//! `mv-apply` (mv-apply-operator page): "Applies a subquery to each record,
//! and returns the union of the results of all subqueries." Each input row
//! is expanded as mv-expand does into a sub-table; the subquery runs on it;
//! the source columns that were not expanded are added to the subquery's
//! result ("Adds zero or more columns to the resulting subtable. These
//! columns contain the values of the source columns that aren't expanded").
//!
//! One plan does all rows at once: the input rows are numbered in a hidden
//! column, and every operator of the subquery works per number. Row-wise
//! operators keep the column; `take`/`top` number rows per sub-table;
//! `summarize`/`count`/`distinct` group by it first. `summarize` without
//! `by` gives one row even for an empty sub-table, as it does for any empty
//! table. Operators that would mix sub-tables (join, union, ...) are
//! rejected by name.

use crate::error::{Error, Result};
use crate::planner::expr::column;
use crate::planner::{Partition, Planner, Relation};
use crate::schema::Column;
use datafusion::common::{Column as DfColumn, JoinType};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, SortExpr, lit, when,
};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, OperatorKind};

/// The hidden column numbering mv-apply's input rows.
const ROW: &str = "__kqlite_row";

impl Planner<'_> {
    pub(crate) fn plan_mv_apply(
        &mut self,
        params: &[ast::OpParam],
        items: &[ast::ExpandItem],
        limit: Option<&ast::Expr>,
        body: &[ast::Operator],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        if self.partition.is_some() {
            return Err(Error::unsupported(span, "mv-apply inside mv-apply"));
        }
        let err = |e| Error::plan(span, e);
        let numbered = LogicalPlanBuilder::from(input.plan.clone())
            .window(vec![row_number().alias(ROW)])
            .and_then(|b| b.build())
            .map_err(err)?;
        let rows = LogicalPlanBuilder::from(numbered.clone())
            .project(vec![column(ROW)])
            .and_then(|b| b.build())
            .map_err(err)?;
        let source = Relation {
            plan: numbered,
            columns: input.columns.clone(),
        };
        self.partition = Some(Partition {
            column: ROW.into(),
            rows,
        });
        let result = self.mv_apply_body(params, items, limit, body, source.clone(), span);
        self.partition = None;
        let applied = result?;
        // The source columns that were not expanded and that the subquery's
        // result does not already hold come first, as the page's examples
        // show (`xMod2, SumOfTop2`).
        let expanded: Vec<&str> = items
            .iter()
            .filter_map(|i| match (&i.name, &i.expr.kind) {
                (Some(n), _) => Some(n.name.as_str()),
                (None, ast::ExprKind::Name(n)) => Some(n.name.as_str()),
                _ => None,
            })
            .collect();
        let added: Vec<Column> = input
            .columns
            .iter()
            .filter(|c| !expanded.contains(&c.name.as_str()) && applied.column(&c.name).is_none())
            .cloned()
            .collect();
        // The rows come out in input order ("order is preserved").
        let in_order = |plan: LogicalPlan| {
            LogicalPlanBuilder::from(plan)
                .sort(vec![column(ROW).sort(true, false)])
                .and_then(|b| b.build())
                .map_err(err)
        };
        if added.is_empty() {
            let cols = applied
                .columns
                .iter()
                .map(|c| (column(&c.name), c.clone()))
                .collect();
            let plan = in_order(applied.plan)?;
            return super::project_columns(
                Relation {
                    plan,
                    columns: Vec::new(),
                },
                cols,
                span,
            );
        }
        // Join the added columns back by row number.
        let other = "__kqlite_row_src";
        let mut left: Vec<Expr> = added.iter().map(|c| column(&c.name)).collect();
        left.push(column(ROW).alias(other));
        let left = LogicalPlanBuilder::from(source.plan)
            .project(left)
            .and_then(|b| b.build())
            .map_err(err)?;
        let plan = LogicalPlanBuilder::from(left)
            .join(
                applied.plan,
                JoinType::Inner,
                (
                    vec![DfColumn::new_unqualified(other)],
                    vec![DfColumn::new_unqualified(ROW)],
                ),
                None,
            )
            .and_then(|b| b.build())
            .map_err(err)?;
        let plan = in_order(plan)?;
        let cols = added
            .into_iter()
            .chain(applied.columns)
            .map(|c| (column(&c.name), c))
            .collect();
        super::project_columns(
            Relation {
                plan,
                columns: Vec::new(),
            },
            cols,
            span,
        )
    }

    fn mv_apply_body(
        &mut self,
        params: &[ast::OpParam],
        items: &[ast::ExpandItem],
        limit: Option<&ast::Expr>,
        body: &[ast::Operator],
        source: Relation,
        span: Span,
    ) -> Result<Relation> {
        for p in params {
            if p.name.name != "with_itemindex" && !p.name.name.starts_with("hint.") {
                return Err(Error::unsupported(
                    p.name.span.to(p.value.span),
                    format!("mv-apply parameter `{}`", p.name.name),
                ));
            }
        }
        let mut rel = self.plan_mv_expand(params, items, limit, source, span)?;
        for op in body {
            match &op.kind {
                OperatorKind::Where { .. }
                | OperatorKind::Project(_)
                | OperatorKind::Extend(_)
                | OperatorKind::Take { .. }
                | OperatorKind::Count
                | OperatorKind::Sort { .. }
                | OperatorKind::ProjectAway(_)
                | OperatorKind::ProjectKeep(_)
                | OperatorKind::ProjectRename(_)
                | OperatorKind::ProjectReorder(_)
                | OperatorKind::Summarize { .. }
                | OperatorKind::Distinct { .. }
                | OperatorKind::Top { .. }
                | OperatorKind::MvExpand { .. } => {}
                other => {
                    return Err(Error::unsupported(
                        op.span,
                        format!("operator '{}' inside mv-apply", other.name()),
                    ));
                }
            }
            rel = self.operator(op, rel)?;
            if !rel.plan.schema().has_column_with_unqualified_name(ROW) {
                return Err(Error::unsupported(
                    op.span,
                    format!("operator '{}' inside mv-apply", op.kind.name()),
                ));
            }
        }
        Ok(rel)
    }

    /// `take n` per sub-table inside mv-apply: the first n rows of each,
    /// in the order of a `sort` just before (as `top` plans it).
    pub(crate) fn take_per_part(&self, input: Relation, n: usize, span: Span) -> Result<Relation> {
        let Some(p) = &self.partition else {
            return Ok(input);
        };
        let err = |e| Error::plan(span, e);
        // Any order will do without a sort (the window needs one).
        let order: Vec<SortExpr> = match &input.plan {
            LogicalPlan::Sort(s) => s.expr.clone(),
            _ => vec![column(&p.column).sort(true, false)],
        };
        let rn = "__kqlite_rn";
        let number = row_number()
            .partition_by(vec![column(&p.column)])
            .order_by(order)
            .build()
            .map_err(err)?
            .alias(rn);
        let plan = LogicalPlanBuilder::from(input.plan)
            .window(vec![number])
            .and_then(|b| b.filter(column(rn).lt_eq(lit(n as u64))))
            .and_then(|b| b.build())
            .map_err(err)?;
        let cols = input
            .columns
            .iter()
            .map(|c| (column(&c.name), c.clone()))
            .collect();
        self.project_keeping(
            Relation {
                plan,
                columns: Vec::new(),
            },
            cols,
            span,
        )
    }

    /// Aggregates `aggs` by `groups`. Inside mv-apply the sub-table's row
    /// number leads the groups, and without other groups every sub-table
    /// gets its row even when empty, holding what the aggregates give over
    /// no rows (count 0, ...), exactly as `summarize` gives one row for an
    /// empty table.
    pub(crate) fn aggregate_parts(
        &self,
        input: LogicalPlan,
        mut groups: Vec<Expr>,
        aggs: Vec<Expr>,
        span: Span,
    ) -> Result<LogicalPlan> {
        let err = |e| Error::plan(span, e);
        let Some(p) = &self.partition else {
            return LogicalPlanBuilder::from(input)
                .aggregate(groups, aggs)
                .and_then(|b| b.build())
                .map_err(err);
        };
        let whole = groups.is_empty();
        groups.insert(0, column(&p.column));
        let grouped = LogicalPlanBuilder::from(input.clone())
            .aggregate(groups, aggs.clone())
            .and_then(|b| b.build())
            .map_err(err)?;
        if !whole {
            return Ok(grouped);
        }
        let names: Vec<String> = grouped
            .schema()
            .fields()
            .iter()
            .skip(1)
            .map(|f| f.name().clone())
            .collect();
        let empty_name = |i: usize| format!("__kqlite_empty{i}");
        let empty = LogicalPlanBuilder::from(input)
            .limit(0, Some(0))
            .and_then(|b| b.aggregate(Vec::<Expr>::new(), aggs))
            .and_then(|b| {
                b.project(
                    names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| column(n).alias(empty_name(i))),
                )
            })
            .and_then(|b| b.build())
            .map_err(err)?;
        let all = "__kqlite_row_all";
        let rows = LogicalPlanBuilder::from(p.rows.clone())
            .project(vec![column(&p.column).alias(all)])
            .and_then(|b| b.build())
            .map_err(err)?;
        let mut out = vec![column(all).alias(p.column.as_str())];
        for (i, n) in names.iter().enumerate() {
            let x = when(column(&p.column).is_null(), column(&empty_name(i)))
                .otherwise(column(n))
                .map_err(err)?;
            out.push(x.alias(n.as_str()));
        }
        LogicalPlanBuilder::from(rows)
            .join(
                grouped,
                JoinType::Left,
                (
                    vec![DfColumn::new_unqualified(all)],
                    vec![DfColumn::new_unqualified(p.column.as_str())],
                ),
                None,
            )
            .and_then(|b| b.cross_join(empty))
            .and_then(|b| b.project(out))
            .and_then(|b| b.build())
            .map_err(err)
    }

    /// The hidden row column inside mv-apply, for operators that add it to
    /// their own groups.
    pub(crate) fn part_column(&self) -> Option<Expr> {
        self.partition.as_ref().map(|p| column(&p.column))
    }
}
