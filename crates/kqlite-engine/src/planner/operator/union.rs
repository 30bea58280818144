//! `union [kind=inner|outer] [withsource=Col] T1, T2, ...` and `T | union U`.
//!
//! union page: outer (the default) keeps every column, by name, with nulls
//! where a table lacks it; inner keeps the columns all tables share. A name
//! with different types in different tables becomes one column per type,
//! named `name_type`. `withsource` adds a first column naming each row's
//! table.

use super::columns::wildcard_match;
use crate::error::{Error, Result};
use crate::planner::arith::null_of;
use crate::planner::expr::column;
use crate::planner::{Binding, Planner, Relation};
use crate::schema::Column;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind, ScalarType};

impl Planner<'_> {
    pub(crate) fn plan_union(
        &mut self,
        params: &[ast::OpParam],
        first: Option<(String, Relation)>,
        tables: &[ast::Expr],
        span: Span,
    ) -> Result<Relation> {
        let mut inner = false;
        let mut fuzzy = false;
        let mut skipped: Option<Error> = None;
        let mut source: Option<String> = None;
        for p in params {
            let value = match &p.value.kind {
                ExprKind::Name(i) => i.name.clone(),
                ExprKind::Literal(ast::Literal::Bool(Some(b))) => b.to_string(),
                _ => String::new(),
            };
            match (p.name.name.as_str(), value.as_str()) {
                ("kind", "inner") => inner = true,
                ("kind", "outer") => inner = false,
                ("withsource", v) if !v.is_empty() => source = Some(v.to_string()),
                ("isfuzzy", "false") => {}
                ("isfuzzy", "true") => fuzzy = true,
                (n, _) if n.starts_with("hint.") => {}
                _ => {
                    return Err(Error::unsupported(
                        p.name.span.to(p.value.span),
                        format!("union parameter `{}`", p.name.name),
                    ));
                }
            }
        }
        let mut inputs: Vec<(String, Relation)> = first.into_iter().collect();
        let offset = inputs.len();
        for (i, t) in tables.iter().enumerate() {
            match &t.kind {
                ExprKind::Wildcard(p) => {
                    let mut names: Vec<String> = self
                        .catalog
                        .table_names()
                        .into_iter()
                        .filter(|n| wildcard_match(p, n))
                        .collect();
                    for scope in &self.scopes {
                        for (n, b) in scope {
                            if matches!(b, Binding::Table(_))
                                && wildcard_match(p, n)
                                && !names.contains(n)
                            {
                                names.push(n.clone());
                            }
                        }
                    }
                    names.sort();
                    for n in names {
                        let id = ast::Ident {
                            name: n.clone(),
                            span: t.span,
                            quoted: false,
                        };
                        let rel = self.tabular(&ast::Expr {
                            kind: ExprKind::Name(id),
                            span: t.span,
                        })?;
                        inputs.push((n, rel));
                    }
                }
                _ => {
                    let name = match &t.kind {
                        ExprKind::Name(id) => id.name.clone(),
                        _ => {
                            super::as_name(t).unwrap_or_else(|| format!("union_arg{}", i + offset))
                        }
                    };
                    match self.tabular(t) {
                        Ok(rel) => inputs.push((name, rel)),
                        // union page, isfuzzy=true: "The set of union sources
                        // is reduced to the set of table references that
                        // exist"; none at all is still an error (below).
                        Err(Error::Query(d))
                            if fuzzy
                                && d.code == crate::error::codes::UNKNOWN_TABLE
                                && matches!(t.kind, ExprKind::Name(_)) =>
                        {
                            skipped.get_or_insert(Error::Query(d));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        if inputs.is_empty() {
            if let Some(e) = skipped {
                return Err(e);
            }
            return Err(Error::invalid(span, "`union` matched no tables"));
        }
        // Output columns: by name in order of first appearance; a name seen
        // with several types splits into name_type columns.
        let mut seen: Vec<(String, ScalarType)> = Vec::new();
        for (_, rel) in &inputs {
            for c in &rel.columns {
                if !seen.iter().any(|(n, t)| *n == c.name && *t == c.ty) {
                    seen.push((c.name.clone(), c.ty));
                }
            }
        }
        let split = |name: &str| seen.iter().filter(|(n, _)| n == name).count() > 1;
        let mut out: Vec<(String, ScalarType, String)> = seen
            .iter()
            .map(|(n, t)| {
                let mut out_name = if split(n) {
                    format!("{n}_{}", t.name())
                } else {
                    n.clone()
                };
                // A generated name that an input already uses gets a suffix
                // (union page: "the column names were de-duplicated, producing
                // a new column- `x_long1`").
                if split(n) {
                    let base = out_name.clone();
                    let mut k = 1;
                    while seen.iter().any(|(m, _)| *m == out_name) {
                        out_name = format!("{base}{k}");
                        k += 1;
                    }
                }
                (n.clone(), *t, out_name)
            })
            .collect();
        if inner {
            out.retain(|(n, t, _)| {
                inputs
                    .iter()
                    .all(|(_, r)| r.columns.iter().any(|c| c.name == *n && c.ty == *t))
            });
        }
        let mut columns: Vec<Column> = Vec::new();
        if let Some(s) = &source {
            columns.push(Column {
                name: s.clone(),
                ty: ScalarType::String,
            });
        }
        columns.extend(out.iter().map(|(_, t, o)| Column {
            name: o.clone(),
            ty: *t,
        }));
        let mut builder: Option<LogicalPlanBuilder> = None;
        for (name, rel) in inputs {
            let mut exprs: Vec<Expr> = Vec::new();
            if let Some(s) = &source {
                exprs.push(lit(name.clone()).alias(s.as_str()));
            }
            for (n, t, o) in &out {
                let x = if rel.columns.iter().any(|c| c.name == *n && c.ty == *t) {
                    column(n)
                } else if *t == ScalarType::String {
                    lit("")
                } else {
                    null_of(*t)
                };
                exprs.push(x.alias(o.as_str()));
            }
            let projected = LogicalPlanBuilder::from(rel.plan)
                .project(exprs)
                .and_then(|b| b.build())
                .map_err(|e| Error::plan(span, e))?;
            builder = Some(match builder {
                None => LogicalPlanBuilder::from(projected),
                Some(b) => b.union(projected).map_err(|e| Error::plan(span, e))?,
            });
        }
        let plan = builder
            .ok_or_else(|| Error::invalid(span, "`union` matched no tables"))?
            .build()
            .map_err(|e| Error::plan(span, e))?;
        Ok(Relation { plan, columns })
    }
}
