//! `count`: one row, one column `Count` (long) with the number of input rows.

use crate::error::{Error, Result};
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::ScalarType;

impl Planner<'_> {
    pub(crate) fn plan_count(&mut self, input: Relation, span: Span) -> Result<Relation> {
        let plan = LogicalPlanBuilder::from(input.plan)
            .aggregate(Vec::<Expr>::new(), vec![count(lit(1)).alias("Count")])
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        Ok(Relation {
            plan,
            columns: vec![Column {
                name: "Count".into(),
                ty: ScalarType::Long,
            }],
        })
    }
}
