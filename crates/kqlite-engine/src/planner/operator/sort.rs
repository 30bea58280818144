//! `sort` / `order`: descending by default; nulls last when descending and
//! first when ascending, unless `nulls first|last` says otherwise.

use super::no_params;
use crate::error::{Error, Result};
use crate::planner::{Planner, Relation};
use datafusion::functions::math::expr_fn::isnan;
use datafusion::logical_expr::LogicalPlanBuilder;
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, NullsOrder, ScalarType, SortOrder};

impl Planner<'_> {
    pub(crate) fn plan_sort(
        &mut self,
        params: &[ast::OpParam],
        keys: &[ast::SortKey],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        no_params(params, "sort")?;
        let mut sorts = Vec::with_capacity(keys.len());
        for k in keys {
            let (x, ty) = self.scalar(&k.expr, &input)?;
            let asc = k.order == Some(SortOrder::Asc);
            let nulls_first = match k.nulls {
                Some(NullsOrder::First) => true,
                Some(NullsOrder::Last) => false,
                None => asc,
            };
            if ty == ScalarType::Real {
                // "Null and NaN values are always grouped together": NaN sits
                // next to the nulls, not at the top as a float's total order puts it.
                // isnan(null) is null, so this key orders (non-NaN, NaN, null)
                // or its reverse, and the real key orders within non-NaN.
                let nan = isnan(x.clone());
                sorts.push(nan.sort(!nulls_first, nulls_first));
            }
            sorts.push(x.sort(asc, nulls_first));
        }
        let plan = LogicalPlanBuilder::from(input.plan)
            .sort(sorts)
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        Ok(Relation {
            plan,
            columns: input.columns,
        })
    }
}
