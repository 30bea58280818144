//! `distinct Col, ...` / `distinct *`: one row per distinct combination.

use crate::error::{Error, Result};
use crate::planner::expr::column;
use crate::planner::{Planner, Relation};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind};

impl Planner<'_> {
    pub(crate) fn plan_distinct(
        &mut self,
        params: &[ast::OpParam],
        columns: &[ast::NamedExpr],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        super::only_hints(params, "distinct")?;
        let rel = if let [only] = columns
            && matches!(only.expr.kind, ExprKind::Star)
        {
            input
        } else {
            self.plan_project(columns, input, span)?
        };
        let mut groups: Vec<Expr> = self.part_column().into_iter().collect();
        groups.extend(rel.columns.iter().map(|c| column(&c.name)));
        let plan = LogicalPlanBuilder::from(rel.plan)
            .aggregate(groups, Vec::<Expr>::new())
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        Ok(Relation {
            plan,
            columns: rel.columns,
        })
    }
}
