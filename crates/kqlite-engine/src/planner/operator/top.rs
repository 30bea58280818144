//! `top N by Expr [asc|desc] [nulls first|last]`: sort (descending by
//! default, same null rules as `sort`) then take N.

use crate::error::Result;
use crate::planner::{Planner, Relation};
use kqlite_syntax::Span;
use kqlite_syntax::ast;

impl Planner<'_> {
    pub(crate) fn plan_top(
        &mut self,
        params: &[ast::OpParam],
        count: &ast::Expr,
        key: &ast::SortKey,
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        super::only_hints(params, "top")?;
        let sorted = self.plan_sort(&[], std::slice::from_ref(key), input, span)?;
        self.plan_take(&[], count, sorted, span)
    }
}
