//! `count`: one row, one column `Count` (long) with the number of input rows.

use crate::error::Result;
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::ScalarType;

impl Planner<'_> {
    pub(crate) fn plan_count(&mut self, input: Relation, span: Span) -> Result<Relation> {
        let plan = self.aggregate_parts(
            input.plan,
            Vec::<Expr>::new(),
            vec![count(lit(1)).alias("Count")],
            span,
        )?;
        Ok(Relation {
            plan,
            columns: vec![Column {
                name: "Count".into(),
                ty: ScalarType::Long,
            }],
        })
    }
}
