//! `extend`: add computed columns after the existing ones.

use crate::error::Result;
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
        let outer = self.row_columns.replace(input.columns.clone());
        let result = self.extend_items(items, input, span);
        self.row_columns = outer;
        result
    }

    fn extend_items(
        &mut self,
        items: &[ast::NamedExpr],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let mut rel = input;
        for item in items {
            let mut new = self.named_items(std::slice::from_ref(item), &rel)?;
            let Some((x, col)) = new.pop() else { continue };
            let mut cols: Vec<_> = rel
                .columns
                .iter()
                .map(|c| (column(&c.name), c.clone()))
                .collect();
            // An existing column is replaced where it stands: the documented
            // output of the detect_anomalous_spike_fl example keeps
            // `userName` and `countEvents` in place after re-extending them,
            // as Microsoft's parser models it (ProjectionBuilder.Declare with
            // replace). The extend page's "removed and appended" disagrees
            // with both; see docs/semantics.md.
            match cols.iter().position(|(_, c)| c.name == col.name) {
                Some(i) => cols[i] = (x, col),
                None => cols.push((x, col)),
            }
            rel = self.project_keeping(rel, cols, span)?;
        }
        Ok(rel)
    }
}
