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
use datafusion::logical_expr::{LogicalPlanBuilder, lit};
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
        // Constant bounds, evaluated now, so the row count can be checked.
        let consts: Vec<i64> = [(&a, from), (&b, to), (&s, step)]
            .into_iter()
            .map(|(x, e)| {
                super::constant_i64(x).ok_or_else(|| {
                    Error::unsupported(e.span, "a `range` bound computed from other values")
                })
            })
            .collect::<Result<_>>()?;
        let (lo, hi, st_v) = (consts[0], consts[1], consts[2]);
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
        let series = if rows <= 0 {
            // Step pointing away from the end: no rows.
            None
        } else {
            Some(datafusion::functions_nested::range::gen_series(
                lit(lo),
                lit(hi),
                lit(st_v),
            ))
        };
        let col = name.name.clone();
        let plan = match series {
            None => {
                return super::empty_table(vec![Column { name: col, ty }], span);
            }
            Some(series) => LogicalPlanBuilder::empty(true)
                .project(vec![series.alias(col.as_str())])
                .and_then(|b| b.unnest_column(col.as_str()))
                .and_then(|b| {
                    let x = cast(column(&col), DataType::Int64);
                    let x = if ty == Long { x } else { cast(x, arrow_type(ty)) };
                    b.project(vec![x.alias(col.as_str())])
                })
                .and_then(|b| b.build())
                .map_err(|e| Error::plan(span, e))?,
        };
        Ok(Relation {
            plan,
            columns: vec![Column { name: col, ty }],
        })
    }
}
