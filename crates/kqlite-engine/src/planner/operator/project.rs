//! `project`: choose, rename and compute columns, in the order written.

use crate::error::{Error, Result};
use crate::planner::{Planner, Relation};
use kqlite_syntax::Span;
use kqlite_syntax::ast;

impl Planner<'_> {
    pub(crate) fn plan_project(
        &mut self,
        items: &[ast::NamedExpr],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let cols = self.named_items(items, &input)?;
        for (i, (_, c)) in cols.iter().enumerate() {
            if cols[..i].iter().any(|(_, p)| p.name == c.name) {
                return Err(Error::invalid(
                    items[i].span,
                    format!("column `{}` is projected twice", c.name),
                ));
            }
        }
        self.project_keeping(input, cols, span)
    }
}
