//! `mv-expand` (mv-expand-operator page): one row per element of a dynamic
//! array, or per property of a bag (as a one-entry bag, or `[key, value]`
//! with `bagexpansion=array`). A null value gives one row holding null; an
//! empty array or bag gives no row. Several columns expand in parallel, the
//! shorter padded with null. `with_itemindex=I` adds the 0-based index;
//! `to typeof(T)` converts the items; `limit N` caps the rows per input row.

use crate::error::{Error, Result};
use crate::functions;
use crate::planner::expr::column;
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use datafusion::common::{Column as DfColumn, NullHandling, UnnestOptions};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind, ScalarType};

impl Planner<'_> {
    pub(crate) fn plan_mv_expand(
        &mut self,
        params: &[ast::OpParam],
        items: &[ast::ExpandItem],
        limit: Option<&ast::Expr>,
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let mut bag_as_array = false;
        let mut index_name: Option<String> = None;
        for p in params {
            let value = match &p.value.kind {
                ExprKind::Name(i) => i.name.clone(),
                _ => String::new(),
            };
            match (p.name.name.as_str(), value.as_str()) {
                ("bagexpansion" | "kind", "bag") => bag_as_array = false,
                ("bagexpansion" | "kind", "array") => bag_as_array = true,
                ("with_itemindex", v) if !v.is_empty() => index_name = Some(v.to_string()),
                (n, _) if n.starts_with("hint.") => {}
                (n, _) => {
                    return Err(Error::unsupported(
                        p.name.span.to(p.value.span),
                        format!("mv-expand parameter `{n}`"),
                    ));
                }
            }
        }
        let limit = match limit {
            None => -1i64,
            Some(l) => {
                let empty = self.empty_relation()?;
                let (x, _) = self.scalar(l, &empty)?;
                match super::constant_i64(&x) {
                    Some(n) if n >= 0 => n,
                    _ => {
                        return Err(Error::invalid(
                            l.span,
                            "mv-expand's limit must be a non-negative constant",
                        ));
                    }
                }
            }
        };
        // Step 1: the input columns plus one list column per item.
        let mut cols: Vec<(Expr, Column)> = input
            .columns
            .iter()
            .map(|c| (column(&c.name), c.clone()))
            .collect();
        let mut targets: Vec<(String, Option<ScalarType>)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let (x, ty) = self.scalar(&item.expr, &input)?;
            if ty != ScalarType::Dynamic {
                return Err(Error::type_error(
                    item.expr.span,
                    format!("mv-expand expands dynamic values, not {}", ty.name()),
                ));
            }
            let name = match (&item.name, &item.expr.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ExprKind::Name(n)) => n.name.clone(),
                (None, _) => {
                    return Err(Error::unsupported(
                        item.expr.span,
                        "mv-expand of an expression without a name (write Name = expr)",
                    ));
                }
            };
            if targets.iter().any(|(n, _)| *n == name) {
                return Err(Error::invalid(
                    item.span,
                    format!("`{name}` is expanded twice"),
                ));
            }
            let list = functions::call("kql_mv_items", vec![x, lit(bag_as_array), lit(limit)]);
            cols.push((
                list,
                Column {
                    name: format!("__mv{i}"),
                    ty: ScalarType::Dynamic,
                },
            ));
            targets.push((name, item.to_type));
        }
        let mut rel = self.project_keeping(input.clone(), cols, span)?;
        let mut unnest: Vec<DfColumn> = (0..items.len())
            .map(|i| DfColumn::new_unqualified(format!("__mv{i}")))
            .collect();
        if index_name.is_some() {
            let mut with_index: Vec<(Expr, Column)> = rel
                .columns
                .iter()
                .map(|c| (column(&c.name), c.clone()))
                .collect();
            let lists = (0..items.len())
                .map(|i| column(&format!("__mv{i}")))
                .collect();
            with_index.push((
                functions::call("kql_mv_index", lists),
                Column {
                    name: "__mvidx".into(),
                    ty: ScalarType::Long,
                },
            ));
            rel = self.project_keeping(rel, with_index, span)?;
            unnest.push(DfColumn::new_unqualified("__mvidx"));
        }
        let options = UnnestOptions {
            null_handling: NullHandling::Preserve,
            recursions: vec![],
        };
        let plan = LogicalPlanBuilder::from(rel.plan)
            .unnest_columns_with_options(unnest, options)
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        // Step 2: KQL columns; an expanded column keeps its place.
        let mut out: Vec<(Expr, Column)> = Vec::new();
        for c in &input.columns {
            match targets.iter().position(|(n, _)| *n == c.name) {
                Some(i) => out.push(self.expanded(i, targets[i].1, &c.name)?),
                None => out.push((column(&c.name), c.clone())),
            }
        }
        for (i, (name, to)) in targets.iter().enumerate() {
            if input.column(name).is_none() {
                out.push(self.expanded(i, *to, name)?);
            }
        }
        if let Some(ix) = index_name {
            out.push((
                column("__mvidx"),
                Column {
                    name: ix,
                    ty: ScalarType::Long,
                },
            ));
        }
        self.project_keeping(
            Relation {
                plan,
                columns: Vec::new(),
            },
            out,
            span,
        )
    }

    /// The expanded item column, converted by `to typeof(T)`.
    fn expanded(&self, i: usize, to: Option<ScalarType>, name: &str) -> Result<(Expr, Column)> {
        let x = column(&format!("__mv{i}"));
        let ty = to.unwrap_or(ScalarType::Dynamic);
        let x = cast_only(x, ty);
        Ok((
            x,
            Column {
                name: name.to_string(),
                ty,
            },
        ))
    }
}

/// mv-expand page: "The operation of applying type is cast-only and doesn't
/// include parsing or type-conversion. Array elements that don't conform
/// with the declared type become null values." datetimes, timespans and
/// guids are held as JSON strings, so they are read from string items.
pub(crate) fn cast_only(x: Expr, ty: ScalarType) -> Expr {
    let f = |name: &str, x: Expr| functions::call(name, vec![x]);
    match ty {
        ScalarType::Dynamic => x,
        ScalarType::Long => f("kql_dyn_as_long", x),
        ScalarType::Int => Expr::TryCast(datafusion::logical_expr::TryCast::new(
            Box::new(f("kql_dyn_as_long", x)),
            crate::types::arrow_type(ScalarType::Int),
        )),
        ScalarType::Real | ScalarType::Decimal => f("kql_dyn_as_real", x),
        ScalarType::Bool => f("kql_dyn_as_bool", x),
        ScalarType::String => f("kql_dyn_as_string", x),
        ScalarType::DateTime => f("kql_todatetime", f("kql_dyn_as_string", x)),
        ScalarType::Timespan => f("kql_totimespan", f("kql_dyn_as_string", x)),
        ScalarType::Guid => f("kql_toguid", f("kql_dyn_as_string", x)),
    }
}
