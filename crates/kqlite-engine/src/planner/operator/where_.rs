//! `where` / `filter`: keep the rows whose predicate is true (null drops the row).

use super::no_params;
use crate::error::{Error, Result};
use crate::planner::{Planner, Relation};
use datafusion::logical_expr::LogicalPlanBuilder;
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ScalarType};

impl Planner<'_> {
    pub(crate) fn plan_where(
        &mut self,
        params: &[ast::OpParam],
        predicate: &ast::Expr,
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        no_params(params, "where")?;
        let (x, ty) = self.scalar(predicate, &input)?;
        if ty != ScalarType::Bool {
            return Err(Error::type_error(
                predicate.span,
                format!("the `where` predicate must be bool, not {}", ty.name()),
            ));
        }
        let plan = LogicalPlanBuilder::from(input.plan)
            .filter(x)
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        Ok(Relation {
            plan,
            columns: input.columns,
        })
    }
}
