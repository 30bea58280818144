//! Cost advice for `kqlite check`: query shapes that make KQL slow in
//! Sentinel, each with its place and the rewrite to use. Advice never
//! changes what a query means; it is printed as warnings.
//!
//! - a Sentinel/Defender table read without a time filter;
//! - `contains "term"` where `has "term"` would use the term index;
//! - `join` without `kind=` (the default, innerunique, deduplicates the left side);
//! - `mv-expand` without `limit`;
//! - a `where` right after a `join` that reads only one side's columns;
//! - `parse_json(x)` (or `todynamic`) of the same expression more than once.

use crate::planner::{Catalog, Planner};
use crate::schema;
use kqlite_syntax::Span;
use kqlite_syntax::ast::{
    BinaryOp, Expr, ExprKind, LetValue, Literal, Operator, OperatorKind, Script, StatementKind,
};
use std::collections::{BTreeMap, HashSet};

/// One piece of advice: where, what is slow, and the rewrite.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    pub span: Span,
    pub message: String,
}

/// The advice for a parsed script. `catalog` binds the two sides of joins
/// (to tell which side a filter reads); binding failures only mean less
/// advice.
pub fn advise(script: &Script, catalog: &dyn Catalog, now: i64) -> Vec<Advice> {
    let mut w = Walker {
        out: Vec::new(),
        lets: HashSet::new(),
        parsed: BTreeMap::new(),
        planner: Planner::new(catalog, now),
    };
    for stmt in &script.statements {
        match &stmt.kind {
            StatementKind::Let(l) => {
                w.lets.insert(l.name.name.clone());
                match &l.value {
                    LetValue::Expr(e) => w.tabular_or_scalar(e),
                    LetValue::Function(f) => {
                        for s in &f.body {
                            if let StatementKind::Query(e) = &s.kind {
                                w.tabular_or_scalar(e);
                            }
                        }
                    }
                }
                // Later statements may use the let: bind it (quietly).
                let _ = w.planner.plan_let(l, stmt.span);
            }
            StatementKind::Query(e) => w.tabular_or_scalar(e),
            _ => {}
        }
    }
    for spans in w.parsed.values() {
        for s in spans.iter().skip(1) {
            w.out.push(Advice {
                span: s.1,
                message: format!(
                    "`{}` is computed {} times in this query: compute it once (`extend d = {}`) and reuse the column",
                    s.0,
                    spans.len(),
                    s.0
                ),
            });
        }
    }
    w.out.sort_by_key(|a| (a.span.start, a.span.end));
    w.out.dedup();
    w.out
}

struct Walker<'c> {
    out: Vec<Advice>,
    lets: HashSet<String>,
    /// parse_json calls by their argument's text: (call text, span).
    parsed: BTreeMap<String, Vec<(String, Span)>>,
    planner: Planner<'c>,
}

impl Walker<'_> {
    /// An expression that may be a table: pipes, table names, sources.
    fn tabular_or_scalar(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Pipe { input, ops } => self.pipe(input, ops),
            ExprKind::Name(_) => self.table_use(e, &[]),
            ExprKind::Paren(x) => self.tabular_or_scalar(x),
            _ => self.scalar(e),
        }
    }

    /// A table read at the head of `ops`: a known Sentinel/Defender table
    /// with a time column wants a filter on it.
    fn table_use(&mut self, e: &Expr, ops: &[Operator]) {
        let ExprKind::Name(t) = &e.kind else { return };
        if self.lets.contains(&t.name) {
            return;
        }
        let Some(s) = schema::builtin(&t.name) else {
            return;
        };
        // Defender tables in Sentinel have both time columns; either filters.
        let times: Vec<&str> = ["TimeGenerated", "Timestamp"]
            .into_iter()
            .filter(|c| s.columns.iter().any(|k| k.name == *c))
            .collect();
        let Some(time) = times.first().copied() else {
            return;
        };
        let filtered = ops.iter().any(|op| match &op.kind {
            OperatorKind::Where { predicate, .. } => times.iter().any(|t| mentions(predicate, t)),
            _ => false,
        });
        if !filtered {
            self.out.push(Advice {
                span: t.span,
                message: format!(
                    "`{}` is read without a time filter: add `| where {time} > ago(1d)` (or the period you need) right after it; without one the query scans the table's whole retention",
                    t.name
                ),
            });
        }
    }

    fn pipe(&mut self, input: &Expr, ops: &[Operator]) {
        match &input.kind {
            ExprKind::Name(_) => self.table_use(input, ops),
            _ => self.tabular_or_scalar(input),
        }
        for (k, op) in ops.iter().enumerate() {
            self.operator(op);
            if let OperatorKind::Join { params, right, .. } = &op.kind {
                if !params.iter().any(|p| p.name.name == "kind") {
                    self.out.push(Advice {
                        span: op.span,
                        message: "`join` without `kind=` is `innerunique`: the left side keeps one row per key. Write `kind=inner` for every match (or `kind=innerunique` to keep the default on purpose)".into(),
                    });
                }
                if let Some(next) = ops.get(k + 1) {
                    self.filter_after_join(input, &ops[..k], right, next);
                }
            }
        }
    }

    /// `... | join (R) on K | where P`: when P reads only one side's
    /// columns, it can run before the join.
    fn filter_after_join(
        &mut self,
        input: &Expr,
        before: &[Operator],
        right: &Expr,
        next: &Operator,
    ) {
        let OperatorKind::Where { predicate, .. } = &next.kind else {
            return;
        };
        let left = Expr {
            kind: ExprKind::Pipe {
                input: Box::new(input.clone()),
                ops: before.to_vec(),
            },
            span: input.span,
        };
        let (Ok(l), Ok(r)) = (self.planner.tabular(&left), self.planner.tabular(right)) else {
            return;
        };
        let mut names = Vec::new();
        names_in(predicate, &mut names);
        if names.is_empty() {
            return;
        }
        let in_left = |n: &String| l.column(n).is_some();
        let in_right = |n: &String| r.column(n).is_some();
        let side = if names.iter().all(|n| in_left(n) && !in_right(n)) {
            "left side: move it before the `join`"
        } else if names.iter().all(|n| in_right(n) && !in_left(n)) {
            "right side: move it into the join's right-hand query"
        } else {
            return;
        };
        self.out.push(Advice {
            span: next.span,
            message: format!(
                "this filter after the `join` reads only columns of the join's {side}, so fewer rows are joined"
            ),
        });
    }

    fn operator(&mut self, op: &Operator) {
        match &op.kind {
            OperatorKind::Where { predicate, .. } => self.scalar(predicate),
            OperatorKind::Extend(items)
            | OperatorKind::Project(items)
            | OperatorKind::Serialize(items) => {
                for i in items {
                    self.scalar(&i.expr);
                }
            }
            OperatorKind::Summarize { aggregates, by, .. } => {
                for i in aggregates.iter().chain(by) {
                    self.scalar(&i.expr);
                }
            }
            OperatorKind::Distinct { columns, .. } => {
                for i in columns {
                    self.scalar(&i.expr);
                }
            }
            OperatorKind::Sort { keys, .. } => {
                for k in keys {
                    self.scalar(&k.expr);
                }
            }
            OperatorKind::Top { key, .. } => self.scalar(&key.expr),
            OperatorKind::Join { right, on, .. } | OperatorKind::Lookup { right, on, .. } => {
                self.tabular_or_scalar(right);
                for e in on {
                    self.scalar(e);
                }
            }
            OperatorKind::Union { tables, .. } => {
                for t in tables {
                    self.tabular_or_scalar(t);
                }
            }
            OperatorKind::MvExpand { items, limit, .. } => {
                for i in items {
                    self.scalar(&i.expr);
                }
                if limit.is_none() {
                    self.out.push(Advice {
                        span: op.span,
                        message: "`mv-expand` without `limit` makes a row for every element, however long the arrays: add `limit N` when they can be large".into(),
                    });
                }
            }
            OperatorKind::MvApply { items, body, .. } => {
                for i in items {
                    self.scalar(&i.expr);
                }
                for o in body {
                    self.operator(o);
                }
            }
            _ => {}
        }
    }

    fn scalar(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Binary { op, left, right } => {
                if matches!(
                    op,
                    BinaryOp::Contains
                        | BinaryOp::NotContains
                        | BinaryOp::ContainsCs
                        | BinaryOp::NotContainsCs
                ) && let ExprKind::Literal(Literal::String(s)) = &right.kind
                    && s.value.len() >= 3
                    && s.value.chars().all(char::is_alphanumeric)
                {
                    let has = op.as_str().replace("contains", "has");
                    self.out.push(Advice {
                        span: e.span,
                        message: format!(
                            "`{}` scans every value for a substring; if you mean the whole term \"{}\", `{has}` uses the term index and is much faster (it matches whole terms only)",
                            op.as_str(),
                            s.value
                        ),
                    });
                }
                self.scalar(left);
                self.scalar(right);
            }
            ExprKind::Call { callee, args } => {
                if let ExprKind::Name(f) = &callee.kind
                    && matches!(f.name.as_str(), "parse_json" | "todynamic" | "parsejson")
                    && let [a] = args.as_slice()
                {
                    self.parsed
                        .entry(a.value.to_string())
                        .or_default()
                        .push((e.to_string(), e.span));
                }
                self.scalar(callee);
                for a in args {
                    self.scalar(&a.value);
                }
            }
            ExprKind::Paren(x) | ExprKind::Unary { expr: x, .. } => self.scalar(x),
            ExprKind::Member { expr, .. } => self.scalar(expr),
            ExprKind::Index { expr, index } => {
                self.scalar(expr);
                self.scalar(index);
            }
            ExprKind::InList { expr, list, .. } => {
                self.scalar(expr);
                for x in list {
                    self.tabular_or_scalar(x);
                }
            }
            ExprKind::Between {
                expr, low, high, ..
            } => {
                self.scalar(expr);
                self.scalar(low);
                self.scalar(high);
            }
            ExprKind::Pipe { input, ops } => self.pipe(input, ops),
            _ => {}
        }
    }
}

/// Whether an expression mentions the column `name`.
fn mentions(e: &Expr, name: &str) -> bool {
    let mut names = Vec::new();
    names_in(e, &mut names);
    names.iter().any(|n| n == name)
}

/// The bare names an expression reads (not function names).
fn names_in(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Name(i) => out.push(i.name.clone()),
        ExprKind::Paren(x) | ExprKind::Unary { expr: x, .. } => names_in(x, out),
        ExprKind::Binary { left, right, .. } => {
            names_in(left, out);
            names_in(right, out);
        }
        ExprKind::Member { expr, .. } => names_in(expr, out),
        ExprKind::Index { expr, index } => {
            names_in(expr, out);
            names_in(index, out);
        }
        ExprKind::Call { args, .. } => {
            for a in args {
                names_in(&a.value, out);
            }
        }
        ExprKind::InList { expr, list, .. } => {
            names_in(expr, out);
            for x in list {
                names_in(x, out);
            }
        }
        ExprKind::Between {
            expr, low, high, ..
        } => {
            names_in(expr, out);
            names_in(low, out);
            names_in(high, out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::Session;

    fn advice(q: &str) -> Vec<String> {
        let mut s = Session::new().expect("session");
        s.register_builtin_schemas().expect("schemas");
        s.advise(q)
            .expect("parses")
            .into_iter()
            .map(|a| format!("{}..{}: {}", a.span.start, a.span.end, a.message))
            .collect()
    }

    fn has(list: &[String], part: &str) -> bool {
        list.iter().any(|a| a.contains(part))
    }

    #[test]
    fn time_filter() {
        let a = advice("SigninLogs | where UserPrincipalName has 'x'");
        assert!(
            has(&a, "0..10: `SigninLogs` is read without a time filter"),
            "{a:?}"
        );
        assert!(advice("SigninLogs | where TimeGenerated > ago(1h) | count").is_empty());
        // Defender tables in Sentinel have TimeGenerated and Timestamp.
        let a = advice("DeviceEvents | take 1");
        assert!(
            has(&a, "`DeviceEvents` is read without a time filter"),
            "{a:?}"
        );
        assert!(advice("DeviceEvents | where Timestamp > ago(1h)").is_empty());
        // A let over a table is checked where the table is read.
        let a = advice("let T = SecurityAlert | where TimeGenerated > ago(1d); T | count");
        assert!(a.is_empty(), "{a:?}");
    }

    #[test]
    fn contains_join_mv_expand() {
        let q = "SecurityAlert | where TimeGenerated > ago(1d) and AlertName contains 'mimikatz' and Description contains '-x'";
        let a = advice(q);
        assert_eq!(a.len(), 1, "{a:?}");
        assert!(has(&a, "`has` uses the term index"), "{a:?}");
        let q = "SecurityAlert | where TimeGenerated > ago(1d) | join (SecurityAlert | where TimeGenerated > ago(1d)) on SystemAlertId";
        assert!(has(&advice(q), "`join` without `kind=` is `innerunique`"));
        let q = "SecurityAlert | where TimeGenerated > ago(1d) | join kind=inner (SecurityAlert | where TimeGenerated > ago(1d)) on SystemAlertId";
        assert!(advice(q).is_empty());
        let q =
            "SecurityAlert | where TimeGenerated > ago(1d) | mv-expand e = parse_json(Entities)";
        assert!(has(&advice(q), "`mv-expand` without `limit`"));
        let q = "SecurityAlert | where TimeGenerated > ago(1d) | mv-expand e = parse_json(Entities) limit 100";
        assert!(advice(q).is_empty());
    }

    #[test]
    fn filter_after_join_and_repeated_parse() {
        let q = "SecurityAlert | where TimeGenerated > ago(1d) | join kind=inner (CloudAppEvents | where TimeGenerated > ago(1d) | project ReportId, Application) on $left.SystemAlertId == $right.ReportId | where AlertSeverity == 'High'";
        let a = advice(q);
        assert!(
            has(&a, "reads only columns of the join's left side"),
            "{a:?}"
        );
        let q = "SecurityAlert | where TimeGenerated > ago(1d) | join kind=inner (CloudAppEvents | where TimeGenerated > ago(1d) | project ReportId, Application) on $left.SystemAlertId == $right.ReportId | where Application == 'x'";
        assert!(has(&advice(q), "join's right side"));
        // A filter over both sides stays where it is.
        let q = "SecurityAlert | where TimeGenerated > ago(1d) | join kind=inner (CloudAppEvents | where TimeGenerated > ago(1d) | project ReportId, Application) on $left.SystemAlertId == $right.ReportId | where Application == AlertName";
        assert!(advice(q).is_empty());
        let q = "SecurityAlert | where TimeGenerated > ago(1d) | extend a = parse_json(Entities)[0], b = parse_json(Entities)[1]";
        let a = advice(q);
        assert_eq!(a.len(), 1, "{a:?}");
        assert!(
            has(&a, "`parse_json(Entities)` is computed 2 times"),
            "{a:?}"
        );
    }
}
