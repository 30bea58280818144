//! Tabular operators, one file each. `Planner::operator` dispatches; an
//! operator that is not implemented is rejected by name with its span.

mod count;
mod datatable;
mod extend;
mod print;
mod project;
mod sort;
mod take;
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
            SourceKind::Externaldata { .. } => {
                Err(Error::unsupported(s.span, "operator 'externaldata'"))
            }
            SourceKind::Range { .. } => Err(Error::unsupported(s.span, "operator 'range'")),
            SourceKind::Union { .. } => Err(Error::unsupported(s.span, "operator 'union'")),
            SourceKind::Find { .. } => Err(Error::unsupported(s.span, "operator 'find'")),
            SourceKind::Search { .. } => Err(Error::unsupported(s.span, "operator 'search'")),
            SourceKind::Evaluate { .. } => Err(Error::unsupported(s.span, "operator 'evaluate'")),
        }
    }

    /// Binds `[Name =] expr` items: (expression, output name, KQL type). An
    /// unnamed item takes the column's name if it is a bare column, else
    /// `Column1`, `Column2`, ... (numbered among the unnamed computed ones).
    pub(crate) fn named_items(
        &self,
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
