//! `print`: one row of computed values; unnamed ones are `print_0`, `print_1`...

use super::project_columns;
use crate::error::Result;
use crate::planner::{Planner, Relation};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind};

impl Planner<'_> {
    pub(crate) fn plan_print(&mut self, items: &[ast::NamedExpr], span: Span) -> Result<Relation> {
        let one_row = self.empty_relation()?;
        let mut cols = self.named_items(items, &one_row)?;
        for (i, ((_, col), item)) in cols.iter_mut().zip(items).enumerate() {
            if item.names.is_empty() && !matches!(item.expr.kind, ExprKind::Name(_)) {
                col.name = format!("print_{i}");
            }
        }
        project_columns(one_row, cols, span)
    }
}
