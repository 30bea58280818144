//! `serialize`, `as` and `getschema`.

use crate::error::Result;
use crate::planner::{Binding, Planner, Relation};
use crate::schema::Column;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ScalarType};

/// getschema's `DataType` column: the .NET type name Kusto reports.
fn dotnet_type(t: ScalarType) -> &'static str {
    match t {
        ScalarType::Bool => "System.Boolean",
        ScalarType::Int => "System.Int32",
        ScalarType::Long => "System.Int64",
        ScalarType::Real => "System.Double",
        ScalarType::Decimal => "System.Data.SqlTypes.SqlDecimal",
        ScalarType::String => "System.String",
        ScalarType::DateTime => "System.DateTime",
        ScalarType::Timespan => "System.TimeSpan",
        ScalarType::Guid => "System.Guid",
        ScalarType::Dynamic => "System.Object",
    }
}

impl Planner<'_> {
    /// `serialize` marks the input order as kept; kqlite plans keep the
    /// order of a sorted input already. Its columns are computed as by
    /// `extend` (window functions such as row_number() are not implemented
    /// and fail as unknown functions).
    pub(crate) fn plan_serialize(
        &mut self,
        items: &[ast::NamedExpr],
        input: Relation,
    ) -> Result<Relation> {
        if items.is_empty() {
            return Ok(input);
        }
        let span = items[0].span;
        self.plan_extend(items, input, span)
    }

    /// `T | as Name`: binds Name to the result for the rest of the query.
    pub(crate) fn plan_as(
        &mut self,
        params: &[ast::OpParam],
        name: &ast::Ident,
        input: Relation,
    ) -> Result<Relation> {
        super::only_hints(params, "as")?;
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.name.clone(), Binding::Table(input.clone()));
        }
        Ok(input)
    }

    /// `getschema`: ColumnName, ColumnOrdinal, DataType, ColumnType.
    pub(crate) fn plan_getschema(&mut self, input: Relation, span: Span) -> Result<Relation> {
        let rows: Vec<Vec<Expr>> = input
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    lit(c.name.clone()),
                    lit(ScalarValue::Int32(Some(i as i32))),
                    lit(dotnet_type(c.ty)),
                    lit(c.ty.name()),
                ]
            })
            .collect();
        let columns = vec![
            Column {
                name: "ColumnName".into(),
                ty: ScalarType::String,
            },
            Column {
                name: "ColumnOrdinal".into(),
                ty: ScalarType::Int,
            },
            Column {
                name: "DataType".into(),
                ty: ScalarType::String,
            },
            Column {
                name: "ColumnType".into(),
                ty: ScalarType::String,
            },
        ];
        if rows.is_empty() {
            return super::empty_table(columns, span);
        }
        super::datatable::values_relation(rows, columns, span)
    }
}
