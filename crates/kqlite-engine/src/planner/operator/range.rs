//! `range X from A to B step S`: one column of values from A up to B
//! inclusive (range-operator page), for longs and for datetimes or timespans
//! with a timespan step.

use crate::error::{Error, Result};
use crate::planner::arith::cast;
use crate::planner::expr::column;
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use crate::types::arrow_type;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column as DfColumn;
use datafusion::logical_expr::LogicalPlanBuilder;
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ScalarType};

/// More rows than this is almost certainly a mistake in the query.
const MAX_ROWS: i128 = 100_000_000;

impl Planner<'_> {
    pub(crate) fn plan_range(
        &mut self,
        name: &ast::Ident,
        from: &ast::Expr,
        to: &ast::Expr,
        step: &ast::Expr,
        span: Span,
    ) -> Result<Relation> {
        let empty = self.empty_relation()?;
        let (a, at) = self.scalar(from, &empty)?;
        let (b, bt) = self.scalar(to, &empty)?;
        let (s, st) = self.scalar(step, &empty)?;
        use ScalarType::*;
        let ty = match (at, bt, st) {
            (Int | Long, Int | Long, Int | Long) => Long,
            (DateTime, DateTime, Timespan) => DateTime,
            (Timespan, Timespan, Timespan) => Timespan,
            _ => {
                return Err(Error::unsupported(
                    span,
                    format!(
                        "`range` from {} to {} step {}",
                        at.name(),
                        bt.name(),
                        st.name()
                    ),
                ));
            }
        };
        let to_i64 = |x: datafusion::logical_expr::Expr| cast(x, DataType::Int64);
        // With constant bounds the row count is checked before running.
        if let (Some(lo), Some(hi), Some(st_v)) = (
            super::constant_i64(&a),
            super::constant_i64(&b),
            super::constant_i64(&s),
        ) {
            if st_v == 0 {
                return Err(Error::invalid(step.span, "the `range` step is zero"));
            }
            let rows = (i128::from(hi) - i128::from(lo)) / i128::from(st_v) + 1;
            if rows > MAX_ROWS {
                return Err(Error::invalid(
                    span,
                    format!("`range` would make {rows} rows (at most {MAX_ROWS})"),
                ));
            }
        }
        let series =
            datafusion::functions_nested::range::gen_series(to_i64(a), to_i64(b), to_i64(s));
        let col = name.name.clone();
        let plan = LogicalPlanBuilder::empty(true)
            .project(vec![series.alias(col.as_str())])
            .and_then(|b| b.unnest_column(DfColumn::new_unqualified(col.as_str())))
            .and_then(|b| {
                let x = cast(column(&col), DataType::Int64);
                let x = if ty == Long {
                    x
                } else {
                    cast(x, arrow_type(ty))
                };
                b.project(vec![x.alias(col.as_str())])
            })
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        Ok(Relation {
            plan,
            columns: vec![Column { name: col, ty }],
        })
    }
}
