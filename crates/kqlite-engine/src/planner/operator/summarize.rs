//! `summarize Aggs [by Groups]`: the group columns first, then the
//! aggregates in written order. Without `by` there is exactly one row, even
//! for empty input; with `by`, empty input gives no rows.

use crate::error::{Error, Result};
use crate::planner::aggregate::AggPlan;
use crate::planner::expr::column;
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind};

impl Planner<'_> {
    pub(crate) fn plan_summarize(
        &mut self,
        params: &[ast::OpParam],
        aggregates: &[ast::NamedExpr],
        by: &[ast::NamedExpr],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        super::only_hints(params, "summarize")?;
        let mut groups = Vec::new();
        let mut group_cols: Vec<Column> = Vec::new();
        let mut unnamed = 0;
        for item in by {
            if item.names.len() > 1 {
                return Err(Error::unsupported(
                    item.span,
                    "assigning several names here",
                ));
            }
            let (x, ty) = self.scalar(&item.expr, &input)?;
            let name = match (item.names.first(), &item.expr.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ExprKind::Name(i)) => i.name.clone(),
                // summarize page: "by bin(TimeGenerated, 1h)" keeps the
                // column's name (so does floor, bin's alias).
                (None, ExprKind::Call { callee, args })
                    if matches!(&callee.kind, ExprKind::Name(f) if f.name == "bin" || f.name == "floor")
                        && matches!(
                            args.first().map(|a| &a.value.kind),
                            Some(ExprKind::Name(_))
                        ) =>
                {
                    match args.first().map(|a| &a.value.kind) {
                        Some(ExprKind::Name(i)) => i.name.clone(),
                        _ => unreachable_name(),
                    }
                }
                (None, _) => {
                    unnamed += 1;
                    format!("Column{unnamed}")
                }
            };
            if group_cols.iter().any(|c| c.name == name) {
                return Err(Error::invalid(
                    item.span,
                    format!("`{name}` is grouped by twice"),
                ));
            }
            groups.push(x.alias(name.as_str()));
            group_cols.push(Column { name, ty });
        }
        let by_names: Vec<String> = group_cols.iter().map(|c| c.name.clone()).collect();
        let mut plan = AggPlan::default();
        for item in aggregates {
            self.aggregate_item(item, &input, &by_names, &mut plan)?;
        }
        // Clashing names get a numeric suffix (summarize page:
        // `make_set(y), make_set(y)` -> set_y, set_y1).
        let mut taken: Vec<String> = by_names.clone();
        let mut outputs = Vec::new();
        for (x, mut c) in plan.outputs {
            if taken.contains(&c.name) {
                let base = c.name.clone();
                let mut k = 1;
                while taken.contains(&format!("{base}{k}")) {
                    k += 1;
                }
                c.name = format!("{base}{k}");
            }
            taken.push(c.name.clone());
            outputs.push((x, c));
        }
        let mut exprs: Vec<Expr> = self.part_column().into_iter().collect();
        exprs.extend(group_cols.iter().map(|c| column(&c.name)));
        exprs.extend(
            outputs
                .iter()
                .map(|(x, c)| x.clone().alias(c.name.as_str())),
        );
        let grouped = self.aggregate_parts(input.plan, groups, plan.aggs, span)?;
        let built = LogicalPlanBuilder::from(grouped)
            .project(exprs)
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        let mut columns = group_cols;
        columns.extend(outputs.into_iter().map(|(_, c)| c));
        Ok(Relation {
            plan: built,
            columns,
        })
    }
}

fn unreachable_name() -> String {
    "Column1".to_string()
}
