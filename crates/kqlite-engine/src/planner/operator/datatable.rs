//! `datatable(a:type, ...) [ values ]`: an inline table, values row by row.

use crate::error::{Error, Result};
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use crate::types::arrow_field;
use datafusion::arrow::datatypes::Schema;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ScalarType};
use std::sync::Arc;

impl Planner<'_> {
    pub(crate) fn plan_datatable(
        &mut self,
        columns: &[ast::ColumnDecl],
        values: &[ast::Expr],
        span: Span,
    ) -> Result<Relation> {
        if columns.is_empty() {
            return Err(Error::invalid(
                span,
                "a datatable needs at least one column",
            ));
        }
        if !values.len().is_multiple_of(columns.len()) {
            return Err(Error::invalid(
                span,
                format!(
                    "{} values do not fill rows of {} columns",
                    values.len(),
                    columns.len()
                ),
            ));
        }
        let declared: Vec<Column> = columns
            .iter()
            .map(|c| Column {
                name: c.name.name.clone(),
                ty: c.ty,
            })
            .collect();
        if values.is_empty() {
            return super::empty_table(declared, span);
        }
        let empty = self.empty_relation()?;
        let mut rows = Vec::new();
        for chunk in values.chunks(columns.len()) {
            let mut row = Vec::with_capacity(columns.len());
            for (v, decl) in chunk.iter().zip(columns) {
                let (x, ty) = self.scalar(v, &empty)?;
                let x = coerce(x, ty, decl.ty).ok_or_else(|| {
                    Error::type_error(
                        v.span,
                        format!(
                            "column `{}` is {}, this value is {}",
                            decl.name.name,
                            decl.ty.name(),
                            ty.name()
                        ),
                    )
                })?;
                row.push(x);
            }
            rows.push(row);
        }
        values_relation(rows, declared, span)
    }
}

/// Rows of constants as a relation with the given KQL columns.
pub(crate) fn values_relation(
    rows: Vec<Vec<Expr>>,
    columns: Vec<Column>,
    span: Span,
) -> Result<Relation> {
    let fields: Vec<_> = columns.iter().map(|c| arrow_field(&c.name, c.ty)).collect();
    let schema = DFSchema::try_from(Schema::new(fields)).map_err(|e| Error::plan(span, e))?;
    let values = LogicalPlanBuilder::values_with_schema(rows, &Arc::new(schema))
        .and_then(|b| b.build())
        .map_err(|e| Error::plan(span, e))?;
    // VALUES names its columns itself; name them as declared, by position.
    let renamed: Vec<Expr> = values
        .schema()
        .columns()
        .into_iter()
        .zip(&columns)
        .map(|(c, decl)| Expr::Column(c).alias(decl.name.as_str()))
        .collect();
    let plan = LogicalPlanBuilder::from(values)
        .project(renamed)
        .and_then(|b| b.build())
        .map_err(|e| Error::plan(span, e))?;
    Ok(Relation { plan, columns })
}

/// A literal of type `from` as a value of column type `to`: numbers widen
/// (int -> long -> real); anything else must match exactly.
fn coerce(x: Expr, from: ScalarType, to: ScalarType) -> Option<Expr> {
    use ScalarType::*;
    if from == to {
        return Some(x);
    }
    let widening = matches!((from, to), (Int, Long) | (Int, Real) | (Long, Real));
    // A whole-number literal fits an int column when its value does (`datatable(a:int)[5]`).
    let fits_int = match (&x, to) {
        (Expr::Literal(ScalarValue::Int64(v), _), Int) => {
            v.is_none_or(|v| i32::try_from(v).is_ok())
        }
        (Expr::Negative(inner), Int) => matches!(
            inner.as_ref(),
            Expr::Literal(ScalarValue::Int64(Some(v)), _) if i32::try_from(-*v).is_ok()
        ),
        _ => false,
    };
    (widening || fits_int).then(|| x.cast_to_type(to))
}

trait CastTo {
    fn cast_to_type(self, to: ScalarType) -> Expr;
}

impl CastTo for Expr {
    fn cast_to_type(self, to: ScalarType) -> Expr {
        Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(self),
            crate::types::arrow_type(to),
        ))
    }
}
