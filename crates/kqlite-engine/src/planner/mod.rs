//! The binder/planner: KQL AST to a DataFusion logical plan.
//!
//! One [`Planner`] walks a script; tabular operators live one per file in
//! `operator/`, scalar expressions in `expr.rs`. Every relation carries its
//! KQL schema beside the plan ([`Relation::columns`]), which is the source of
//! truth for KQL types. A construct that parses but is not implemented is
//! rejected by name with its span: it never runs with other semantics.

mod expr;
mod operator;

use crate::error::{Error, Result, codes};
use crate::schema::Column;
use datafusion::logical_expr::{Expr, LogicalPlan};
use kqlite_syntax::ast::{self, ExprKind, LetValue, ScalarType, StatementKind};
use kqlite_syntax::suggest::did_you_mean;
use kqlite_syntax::{Diagnostic, Span};
use std::collections::HashMap;

/// A table-valued intermediate result: a plan and the KQL type of each column.
#[derive(Debug, Clone)]
pub struct Relation {
    pub plan: LogicalPlan,
    pub columns: Vec<Column>,
}

impl Relation {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Where the planner finds tables.
pub trait Catalog {
    /// A scan of the table, with its KQL schema.
    fn table(&self, name: &str) -> Option<Relation>;
    /// Every table name, for suggestions.
    fn table_names(&self) -> Vec<String>;
}

#[derive(Clone)]
enum Binding {
    Table(Relation),
    Scalar(Expr, ScalarType),
}

/// Plans one script. `now` (nanoseconds since the epoch, UTC) is fixed for
/// the whole query, so every `now()` and `ago()` agrees.
pub struct Planner<'a> {
    catalog: &'a dyn Catalog,
    now: i64,
    scopes: Vec<HashMap<String, Binding>>,
}

impl<'a> Planner<'a> {
    pub fn new(catalog: &'a dyn Catalog, now: i64) -> Self {
        Planner {
            catalog,
            now,
            scopes: vec![HashMap::new()],
        }
    }

    /// Plans a script: its `let` statements, then its (last) query.
    pub fn plan_script(&mut self, script: &ast::Script) -> Result<Relation> {
        let mut result = None;
        for stmt in &script.statements {
            match &stmt.kind {
                StatementKind::Let(l) => self.plan_let(l, stmt.span)?,
                StatementKind::Query(e) => {
                    if result.is_some() {
                        return Err(Error::unsupported(
                            stmt.span,
                            "more than one query statement",
                        ));
                    }
                    result = Some(self.tabular(e)?);
                }
                StatementKind::Set(_) => return Err(Error::unsupported(stmt.span, "`set`")),
                StatementKind::DeclareQueryParameters(_) => {
                    return Err(Error::unsupported(stmt.span, "`declare query_parameters`"));
                }
                StatementKind::AliasDatabase { .. } => {
                    return Err(Error::unsupported(stmt.span, "`alias database`"));
                }
                StatementKind::DeclarePattern { .. } => {
                    return Err(Error::unsupported(stmt.span, "`declare pattern`"));
                }
            }
        }
        result.ok_or_else(|| {
            Error::invalid(
                script.span,
                "the script has no query after its `let` statements",
            )
        })
    }

    fn plan_let(&mut self, l: &ast::LetStatement, span: Span) -> Result<()> {
        let binding = match &l.value {
            LetValue::Function(_) => {
                return Err(Error::unsupported(span, "user-defined functions"));
            }
            LetValue::Expr(e) if self.is_tabular(e) => Binding::Table(self.tabular(e)?),
            LetValue::Expr(e) => {
                let (x, ty) = self.scalar(e, &self.empty_relation()?)?;
                Binding::Scalar(x, ty)
            }
        };
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(l.name.name.clone(), binding);
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// Whether an expression denotes a table (decided syntactically plus
    /// name resolution, as Kusto does).
    fn is_tabular(&self, e: &ast::Expr) -> bool {
        match &e.kind {
            ExprKind::Pipe { .. } | ExprKind::Source(_) => true,
            ExprKind::Paren(x) => self.is_tabular(x),
            ExprKind::Name(i) => match self.lookup(&i.name) {
                Some(Binding::Table(_)) => true,
                Some(Binding::Scalar(..)) => false,
                None => self.catalog.table(&i.name).is_some(),
            },
            _ => false,
        }
    }

    /// Plans a tabular expression.
    pub(crate) fn tabular(&mut self, e: &ast::Expr) -> Result<Relation> {
        match &e.kind {
            ExprKind::Name(i) => self.table_ref(i),
            ExprKind::Paren(x) => self.tabular(x),
            ExprKind::Pipe { input, ops } => {
                let mut rel = self.tabular(input)?;
                for op in ops {
                    rel = self.operator(op, rel)?;
                }
                Ok(rel)
            }
            ExprKind::Source(s) => self.source(s),
            _ => Err(Error::Query(
                Diagnostic::new(codes::INVALID, "expected a table here")
                    .with_label(e.span, "this is not a tabular expression"),
            )),
        }
    }

    fn table_ref(&self, i: &ast::Ident) -> Result<Relation> {
        if let Some(b) = self.lookup(&i.name) {
            return match b {
                Binding::Table(r) => Ok(r.clone()),
                Binding::Scalar(..) => Err(Error::invalid(
                    i.span,
                    format!("`{}` is a scalar, not a table", i.name),
                )),
            };
        }
        if let Some(r) = self.catalog.table(&i.name) {
            return Ok(r);
        }
        let names = self.catalog.table_names();
        let mut d = Diagnostic::new(codes::UNKNOWN_TABLE, format!("unknown table `{}`", i.name))
            .with_label(i.span, "no table or let has this name");
        if let Some(s) = did_you_mean(&i.name, names.iter().map(String::as_str)) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        Err(Error::Query(d))
    }

    /// A relation with no columns and one row, for scalar contexts.
    fn empty_relation(&self) -> Result<Relation> {
        let plan = datafusion::logical_expr::LogicalPlanBuilder::empty(true)
            .build()
            .map_err(|e| Error::Execution(e.to_string()))?;
        Ok(Relation {
            plan,
            columns: Vec::new(),
        })
    }
}
