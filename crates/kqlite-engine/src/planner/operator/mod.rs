//! Tabular operators, one file each. `Planner::operator` dispatches; an
//! operator that is not implemented is rejected by name with its span.

pub(crate) mod columns;
mod count;
pub(crate) mod datatable;
mod distinct;
mod evaluate;
mod extend;
mod join;
mod misc;
mod mv_apply;
mod mv_expand;
mod print;
mod project;
mod range;
mod sort;
mod summarize;
mod take;
mod top;
mod union;
mod where_;

use super::{Planner, Relation};
use crate::error::{Error, Result};
use crate::schema::Column;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind, OperatorKind, SourceKind};

impl Planner<'_> {
    pub(crate) fn operator(&mut self, op: &ast::Operator, input: Relation) -> Result<Relation> {
        match &op.kind {
            OperatorKind::Where { params, predicate } => {
                self.plan_where(params, predicate, input, op.span)
            }
            OperatorKind::Project(items) => self.plan_project(items, input, op.span),
            OperatorKind::Extend(items) => self.plan_extend(items, input, op.span),
            OperatorKind::Take { params, count } => self.plan_take(params, count, input, op.span),
            OperatorKind::Count => self.plan_count(input, op.span),
            OperatorKind::Sort { params, keys } => self.plan_sort(params, keys, input, op.span),
            OperatorKind::ProjectAway(items) => self.plan_project_away(items, input, op.span),
            OperatorKind::ProjectKeep(items) => self.plan_project_keep(items, input, op.span),
            OperatorKind::ProjectRename(pairs) => self.plan_project_rename(pairs, input, op.span),
            OperatorKind::ProjectReorder(keys) => self.plan_project_reorder(keys, input, op.span),
            OperatorKind::Summarize {
                params,
                aggregates,
                by,
            } => self.plan_summarize(params, aggregates, by, input, op.span),
            OperatorKind::Distinct { params, columns } => {
                self.plan_distinct(params, columns, input, op.span)
            }
            OperatorKind::Top { params, count, key } => {
                self.plan_top(params, count, key, input, op.span)
            }
            OperatorKind::Union { params, tables } => {
                let name = self
                    .pipe_name
                    .clone()
                    .unwrap_or_else(|| "union_arg0".into());
                self.plan_union(params, Some((name, input)), tables, op.span)
            }
            OperatorKind::Join { params, right, on } => {
                self.plan_join(params, right, on, input, op.span, false)
            }
            OperatorKind::Lookup { params, right, on } => {
                self.plan_join(params, right, on, input, op.span, true)
            }
            OperatorKind::MvExpand {
                params,
                items,
                limit,
            } => self.plan_mv_expand(params, items, limit.as_ref(), input, op.span),
            OperatorKind::MvApply {
                params,
                items,
                limit,
                body,
            } => self.plan_mv_apply(params, items, limit.as_ref(), body, input, op.span),
            OperatorKind::Serialize(items) => self.plan_serialize(items, input),
            OperatorKind::As { params, name } => self.plan_as(params, name, input),
            OperatorKind::GetSchema => self.plan_getschema(input, op.span),
            OperatorKind::Evaluate {
                params,
                call,
                schema,
            } => self.plan_evaluate(params, call, schema.as_ref(), input, op.span),
            other => Err(Error::unsupported(
                op.span,
                format!("operator '{}'", other.name()),
            )),
        }
    }

    pub(crate) fn source(&mut self, s: &ast::Source) -> Result<Relation> {
        match &s.kind {
            SourceKind::Print(items) => self.plan_print(items, s.span),
            SourceKind::Datatable { columns, values } => {
                self.plan_datatable(columns, values, s.span)
            }
            SourceKind::Externaldata {
                columns,
                uris,
                properties,
            } => self.plan_externaldata(columns, uris, properties, s.span),
            SourceKind::Range {
                name,
                from,
                to,
                step,
            } => self.plan_range(name, from, to, step, s.span),
            SourceKind::Union { params, tables } => self.plan_union(params, None, tables, s.span),
            SourceKind::Find { .. } => Err(Error::unsupported(s.span, "operator 'find'")),
            SourceKind::Search { .. } => Err(Error::unsupported(s.span, "operator 'search'")),
            SourceKind::Evaluate { .. } => Err(Error::unsupported(s.span, "operator 'evaluate'")),
        }
    }

    /// Binds `[Name =] expr` items: (expression, output name, KQL type). An
    /// unnamed item takes the column's name if it is a bare column, else
    /// `Column1`, `Column2`, ... (numbered among the unnamed computed ones).
    pub(crate) fn named_items(
        &mut self,
        items: &[ast::NamedExpr],
        rel: &Relation,
    ) -> Result<Vec<(Expr, Column)>> {
        let mut out = Vec::with_capacity(items.len());
        let mut unnamed = 0;
        for item in items {
            if item.names.len() > 1 {
                return Err(Error::unsupported(
                    item.span,
                    "assigning to several names at once",
                ));
            }
            let (x, ty) = self.scalar(&item.expr, rel)?;
            let name = match (item.names.first(), &item.expr.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ExprKind::Name(i)) => i.name.clone(),
                (None, _) => {
                    unnamed += 1;
                    format!("Column{unnamed}")
                }
            };
            out.push((x, Column { name, ty }));
        }
        Ok(out)
    }
}

impl Planner<'_> {
    /// [`project_columns`] for operators that keep rows apart: inside an
    /// mv-apply subquery the hidden row-number column is kept too.
    pub(crate) fn project_keeping(
        &self,
        input: Relation,
        mut cols: Vec<(Expr, Column)>,
        span: Span,
    ) -> Result<Relation> {
        let Some(p) = &self.partition else {
            return project_columns(input, cols, span);
        };
        let n = cols.len();
        cols.push((
            crate::planner::expr::column(&p.column),
            Column {
                name: p.column.clone(),
                ty: ast::ScalarType::Long,
            },
        ));
        let mut rel = project_columns(input, cols, span)?;
        rel.columns.truncate(n);
        Ok(rel)
    }
}

/// Builds a projection of `(expr, column)` pairs, aliasing each to its name.
pub(crate) fn project_columns(
    input: Relation,
    cols: Vec<(Expr, Column)>,
    span: Span,
) -> Result<Relation> {
    let exprs: Vec<Expr> = cols
        .iter()
        .map(|(x, c)| x.clone().alias(c.name.as_str()))
        .collect();
    let plan = LogicalPlanBuilder::from(input.plan)
        .project(exprs)
        .and_then(|b| b.build())
        .map_err(|e| Error::plan(span, e))?;
    Ok(Relation {
        plan,
        columns: cols.into_iter().map(|(_, c)| c).collect(),
    })
}

/// The name a tabular expression gives itself: a table name, or the last
/// `| as Name` of a pipe.
pub(crate) fn as_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Name(i) => Some(i.name.clone()),
        ExprKind::Paren(x) => as_name(x),
        ExprKind::Pipe { input, ops } => ops
            .iter()
            .rev()
            .find_map(|op| match &op.kind {
                OperatorKind::As { name, .. } => Some(name.name.clone()),
                _ => None,
            })
            .or_else(|| if ops.is_empty() { as_name(input) } else { None }),
        _ => None,
    }
}

/// A relation with the given columns and no rows.
pub(crate) fn empty_table(columns: Vec<Column>, span: Span) -> Result<Relation> {
    let exprs: Vec<Expr> = columns
        .iter()
        .map(|c| crate::planner::arith::null_of(c.ty).alias(c.name.as_str()))
        .collect();
    let plan = LogicalPlanBuilder::empty(false)
        .project(exprs)
        .and_then(|b| b.build())
        .map_err(|e| Error::plan(span, e))?;
    Ok(Relation { plan, columns })
}

/// The value of an integer-like constant (long, int, datetime, timespan).
pub(crate) fn constant_i64(x: &Expr) -> Option<i64> {
    use datafusion::common::ScalarValue as S;
    match x {
        Expr::Literal(S::Int64(v), _) | Expr::Literal(S::DurationNanosecond(v), _) => *v,
        Expr::Literal(S::Int32(v), _) => v.map(i64::from),
        Expr::Literal(S::TimestampNanosecond(v, _), _) => *v,
        Expr::Negative(inner) => constant_i64(inner).map(|v| -v),
        Expr::Cast(c) => constant_i64(&c.expr),
        _ => None,
    }
}

/// Accepts only `hint.*` parameters, which never change results.
pub(crate) fn only_hints(params: &[ast::OpParam], op: &str) -> Result<()> {
    match params.iter().find(|p| !p.name.name.starts_with("hint.")) {
        Some(p) => Err(Error::unsupported(
            p.value.span.to(p.name.span),
            format!("parameter `{}` of '{op}'", p.name.name),
        )),
        None => Ok(()),
    }
}

/// Rejects operator parameters (`kind=`, `hint.*`) an operator does not implement.
pub(crate) fn no_params(params: &[ast::OpParam], op: &str) -> Result<()> {
    match params.first() {
        Some(p) => Err(Error::unsupported(
            p.value.span.to(p.name.span),
            format!("parameter `{}` of '{op}'", p.name.name),
        )),
        None => Ok(()),
    }
}
