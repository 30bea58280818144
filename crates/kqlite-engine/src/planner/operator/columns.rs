//! `project-away`, `project-keep`, `project-rename`, `project-reorder`:
//! column selection by name or wildcard (`Col*`).

use crate::error::{Error, Result};
use crate::planner::expr::column;
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind};
use kqlite_syntax::suggest::did_you_mean;

/// Whether `name` matches a KQL wildcard pattern (`*` = any run).
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(k) => rest = &rest[k + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn unknown(rel: &Relation, name: &str, span: Span) -> Error {
    let mut d = kqlite_syntax::Diagnostic::new(
        crate::error::codes::UNKNOWN_COLUMN,
        format!("unknown column `{name}`"),
    )
    .with_label(span, "no column has this name");
    if let Some(s) = did_you_mean(name, rel.columns.iter().map(|c| c.name.as_str())) {
        d = d.with_help(format!("did you mean `{s}`?"));
    }
    Error::Query(d)
}

/// The input columns one selector names, in input order.
fn select<'r>(rel: &'r Relation, e: &ast::Expr) -> Result<Vec<&'r Column>> {
    match &e.kind {
        ExprKind::Name(i) => match rel.column(&i.name) {
            Some(c) => Ok(vec![c]),
            None => Err(unknown(rel, &i.name, i.span)),
        },
        ExprKind::Wildcard(p) => Ok(rel
            .columns
            .iter()
            .filter(|c| wildcard_match(p, &c.name))
            .collect()),
        ExprKind::Star => Ok(rel.columns.iter().collect()),
        _ => Err(Error::invalid(e.span, "expected a column name or wildcard")),
    }
}

impl Planner<'_> {
    fn keep(&self, rel: Relation, names: &[String], span: Span) -> Result<Relation> {
        let cols = names
            .iter()
            .filter_map(|n| rel.column(n).cloned())
            .map(|c| (column(&c.name), c))
            .collect();
        self.project_keeping(rel, cols, span)
    }

    pub(crate) fn plan_project_away(
        &mut self,
        items: &[ast::Expr],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let mut away = Vec::new();
        for e in items {
            away.extend(select(&input, e)?.into_iter().map(|c| c.name.clone()));
        }
        let names: Vec<String> = input
            .columns
            .iter()
            .filter(|c| !away.contains(&c.name))
            .map(|c| c.name.clone())
            .collect();
        self.keep(input, &names, span)
    }

    pub(crate) fn plan_project_keep(
        &mut self,
        items: &[ast::Expr],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let mut kept = Vec::new();
        for e in items {
            kept.extend(select(&input, e)?.into_iter().map(|c| c.name.clone()));
        }
        let names: Vec<String> = input
            .columns
            .iter()
            .filter(|c| kept.contains(&c.name))
            .map(|c| c.name.clone())
            .collect();
        self.keep(input, &names, span)
    }

    pub(crate) fn plan_project_rename(
        &mut self,
        pairs: &[(ast::Ident, ast::Ident)],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let mut cols: Vec<Column> = input.columns.clone();
        for (new, old) in pairs {
            let Some(pos) = cols.iter().position(|c| c.name == old.name) else {
                return Err(unknown(&input, &old.name, old.span));
            };
            if cols
                .iter()
                .enumerate()
                .any(|(i, c)| i != pos && c.name == new.name)
            {
                return Err(Error::invalid(
                    new.span,
                    format!("a column named `{}` already exists", new.name),
                ));
            }
            cols[pos].name = new.name.clone();
        }
        let exprs = input
            .columns
            .iter()
            .zip(cols)
            .map(|(old, new)| (column(&old.name), new))
            .collect();
        self.project_keeping(input, exprs, span)
    }

    pub(crate) fn plan_project_reorder(
        &mut self,
        keys: &[ast::ReorderKey],
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let mut first: Vec<String> = Vec::new();
        for k in keys {
            let mut matched: Vec<String> = select(&input, &k.column)?
                .into_iter()
                .map(|c| c.name.clone())
                .filter(|n| !first.contains(n))
                .collect();
            match k.order.as_deref() {
                None => {}
                Some("asc") => matched.sort(),
                Some("desc") => {
                    matched.sort();
                    matched.reverse();
                }
                Some("granny-asc") => matched.sort_by(|a, b| granny(a, b)),
                Some("granny-desc") => matched.sort_by(|a, b| granny(b, a)),
                Some(other) => {
                    return Err(Error::unsupported(
                        k.column.span,
                        format!("project-reorder order `{other}`"),
                    ));
                }
            }
            first.extend(matched);
        }
        let mut names = first.clone();
        names.extend(
            input
                .columns
                .iter()
                .filter(|c| !first.contains(&c.name))
                .map(|c| c.name.clone()),
        );
        self.keep(input, &names, span)
    }
}

/// "Granny" order: text compared piecewise, runs of digits by their value
/// (project-reorder page: `a20` comes before `a100`).
fn granny(a: &str, b: &str) -> std::cmp::Ordering {
    fn pieces(s: &str) -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let d = c.is_ascii_digit();
            match out.last_mut() {
                Some((pd, p)) if *pd == d => p.push(c),
                _ => out.push((d, c.to_string())),
            }
        }
        out
    }
    let (pa, pb) = (pieces(a), pieces(b));
    for (x, y) in pa.iter().zip(&pb) {
        let ord = match (x, y) {
            ((true, u), (true, v)) => {
                let (u, v) = (u.trim_start_matches('0'), v.trim_start_matches('0'));
                u.len().cmp(&v.len()).then_with(|| u.cmp(v))
            }
            ((_, u), (_, v)) => u.cmp(v),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("Col*", "Column1"));
        assert!(wildcard_match("*1", "Column1"));
        assert!(wildcard_match("C*m*1", "Column1"));
        assert!(!wildcard_match("X*", "Column1"));
        assert!(wildcard_match("a", "a"));
    }
}
