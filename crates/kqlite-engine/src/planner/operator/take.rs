//! `take` / `limit`: at most N rows, in no promised order.

use super::no_params;
use crate::error::{Error, Result};
use crate::planner::{Planner, Relation};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kqlite_syntax::Span;
use kqlite_syntax::ast;

impl Planner<'_> {
    pub(crate) fn plan_take(
        &mut self,
        params: &[ast::OpParam],
        count: &ast::Expr,
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        no_params(params, "take")?;
        let empty = self.empty_relation()?;
        let (x, _) = self.scalar(count, &empty)?;
        let n = match x {
            Expr::Literal(ScalarValue::Int64(Some(n)), _) if n >= 0 => n as usize,
            Expr::Literal(ScalarValue::Int32(Some(n)), _) if n >= 0 => n as usize,
            _ => {
                return Err(Error::invalid(
                    count.span,
                    "`take` needs a non-negative whole number known before the query runs",
                ));
            }
        };
        if self.partition.is_some() {
            return self.take_per_part(input, n, span);
        }
        let plan = LogicalPlanBuilder::from(input.plan)
            .limit(0, Some(n))
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        Ok(Relation {
            plan,
            columns: input.columns,
        })
    }
}
