//! `extend`: add computed columns after the existing ones.

use super::project_columns;
use crate::error::{Error, Result};
use crate::planner::expr::column;
use crate::planner::{Planner, Relation};
use kqlite_syntax::Span;
use kqlite_syntax::ast;

impl Planner<'_> {
    pub(crate) fn plan_extend(
        &mut self,
        items: &[ast::NamedExpr],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        // Each item sees the columns the earlier ones added.
        let mut rel = input;
        for item in items {
            let mut new = self.named_items(std::slice::from_ref(item), &rel)?;
            let Some((x, col)) = new.pop() else { continue };
            if rel.column(&col.name).is_some() {
                // Kusto replaces an existing column; where the replaced column
                // ends up is not settled by the reference yet, so this is
                // rejected rather than guessed.
                return Err(Error::unsupported(
                    item.span,
                    format!("`extend` replacing the existing column `{}`", col.name),
                ));
            }
            let mut cols: Vec<_> = rel
                .columns
                .iter()
                .map(|c| (column(&c.name), c.clone()))
                .collect();
            cols.push((x, col));
            rel = project_columns(rel, cols, span)?;
        }
        Ok(rel)
    }
}
