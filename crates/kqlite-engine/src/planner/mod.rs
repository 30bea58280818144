//! The binder/planner: KQL AST to a DataFusion logical plan.
//!
//! One [`Planner`] walks a script; tabular operators live one per file in
//! `operator/`, scalar expressions in `expr.rs`. Every relation carries its
//! KQL schema beside the plan ([`Relation::columns`]), which is the source of
//! truth for KQL types. A construct that parses but is not implemented is
//! rejected by name with its span: it never runs with other semantics.

mod aggregate;
mod arith;
pub(crate) mod call;
mod dynamic;
mod expr;
mod externaldata;
mod kql_names;
mod operator;
mod strings;
mod watchlist;

use crate::error::{Error, Result, codes};
use crate::schema::Column;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{Expr, LogicalPlan};
use kqlite_syntax::ast::{self, ExprKind, LetValue, ScalarType, StatementKind};
use kqlite_syntax::suggest::did_you_mean;
use kqlite_syntax::{Diagnostic, Span};
use std::collections::HashMap;
use std::sync::Arc;

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
    /// Runs a plan while planning, for the operators whose output columns
    /// depend on the data (`evaluate bag_unpack` without an output schema).
    fn run(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
    ) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>> {
        let _ = plan;
        Err(Error::Execution(
            "this catalog cannot run queries while planning".into(),
        ))
    }
    /// The folder `_GetWatchlist('name')` reads `name.csv` from
    /// (`--watchlists`), if one was given.
    fn watchlists(&self) -> Option<&std::path::Path> {
        None
    }
    /// The folder `externaldata` URLs are resolved in (`--externaldata`),
    /// if one was given.
    fn externaldata(&self) -> Option<&std::path::Path> {
        None
    }
    /// Whether plans are only bound, never run: `externaldata` then needs
    /// no files (its columns are declared in the query).
    fn binding_only(&self) -> bool {
        false
    }
}

#[derive(Clone)]
enum Binding {
    Table(Relation),
    Scalar(Expr, ScalarType),
    Function(ast::FunctionDef),
}

/// Plans one script. `now` (nanoseconds since the epoch, UTC) is fixed for
/// the whole query, so every `now()` and `ago()` agrees.
pub struct Planner<'a> {
    catalog: &'a dyn Catalog,
    now: i64,
    scopes: Vec<HashMap<String, Binding>>,
    /// The name of the pipe's input so far (a table name or the last `as`),
    /// for `union withsource`.
    pipe_name: Option<String>,
    /// Nested user-function calls, to stop recursion (which KQL forbids).
    /// User functions being expanded, innermost last (KQL forbids
    /// recursion; this also bounds nesting).
    calling: Vec<String>,
    /// Inside an mv-apply subquery: the hidden column numbering the input
    /// rows, so each operator works per sub-table (see operator/mv_apply.rs).
    pub(crate) partition: Option<Partition>,
    /// The columns of the current `extend`'s input: `pack_all()` packs
    /// those, not the columns the same extend adds before it.
    pub(crate) row_columns: Option<Vec<Column>>,
    /// The plan after each stage of the query statement's outermost pipe
    /// (source, then each `| operator`), for `explain`.
    pub stages: Vec<(Span, LogicalPlan)>,
    /// Whether the pipe being planned is the query statement's outermost.
    record_stages: bool,
}

/// The sub-tables of an mv-apply: rows with equal `column` form one
/// sub-table; `rows` lists every input row's number (a sub-table may be
/// empty and still give a row to `summarize` without `by`).
#[derive(Clone)]
pub(crate) struct Partition {
    pub(crate) column: String,
    pub(crate) rows: datafusion::logical_expr::LogicalPlan,
}

/// Deepest nesting of user-function calls.
const MAX_CALL_DEPTH: usize = 16;

impl<'a> Planner<'a> {
    pub fn new(catalog: &'a dyn Catalog, now: i64) -> Self {
        Planner {
            catalog,
            now,
            scopes: vec![HashMap::new()],
            pipe_name: None,
            calling: Vec::new(),
            partition: None,
            row_columns: None,
            stages: Vec::new(),
            record_stages: false,
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
                    self.record_stages = true;
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

    pub(crate) fn plan_let(&mut self, l: &ast::LetStatement, _span: Span) -> Result<()> {
        let binding = match &l.value {
            LetValue::Function(def) => Binding::Function(def.clone()),
            LetValue::Expr(e) if self.is_tabular(e) => Binding::Table(self.tabular(e)?),
            LetValue::Expr(e) => {
                let empty = self.empty_relation()?;
                let (x, ty) = self.scalar(e, &empty)?;
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

    /// Names of the user functions in scope (for suggestions).
    fn function_names(&self) -> Vec<String> {
        self.scopes
            .iter()
            .flat_map(|s| s.iter())
            .filter(|(_, b)| matches!(b, Binding::Function(_)))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Whether a user function returns a table: its result expression is
    /// tabular once its parameters and local lets are in scope.
    fn function_is_tabular(&self, def: &ast::FunctionDef) -> bool {
        let Some((result, lets)) = def.body.split_last() else {
            return false;
        };
        if self.calling.len() >= MAX_CALL_DEPTH {
            // A recursive function: the call reports it when planned.
            return false;
        }
        let placeholder = || {
            Binding::Table(Relation {
                plan: LogicalPlan::EmptyRelation(datafusion::logical_expr::EmptyRelation {
                    produce_one_row: false,
                    schema: Arc::new(DFSchema::empty()),
                }),
                columns: Vec::new(),
            })
        };
        let scalar = || Binding::Scalar(Expr::Literal(ScalarValue::Null, None), ScalarType::Long);
        let mut scope = HashMap::new();
        for p in &def.params {
            let b = match p.ty {
                ast::ParamType::Tabular { .. } => placeholder(),
                ast::ParamType::Scalar(_) => scalar(),
            };
            scope.insert(p.name.name.clone(), b);
        }
        let mut inner = Planner {
            catalog: self.catalog,
            now: self.now,
            scopes: self.scopes.clone(),
            pipe_name: None,
            calling: {
                let mut c = self.calling.clone();
                c.push(String::new());
                c
            },
            partition: None,
            row_columns: None,
            stages: Vec::new(),
            record_stages: false,
        };
        inner.scopes.push(scope);
        for stmt in lets {
            if let StatementKind::Let(l) = &stmt.kind {
                let b = match &l.value {
                    LetValue::Function(d) => Binding::Function(d.clone()),
                    LetValue::Expr(e) if inner.is_tabular(e) => placeholder(),
                    LetValue::Expr(_) => scalar(),
                };
                if let Some(s) = inner.scopes.last_mut() {
                    s.insert(l.name.name.clone(), b);
                }
            }
        }
        match &result.kind {
            StatementKind::Query(e) => inner.is_tabular(e),
            _ => false,
        }
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
                Some(Binding::Function(def)) => {
                    def.params.is_empty() && self.function_is_tabular(def)
                }
                None => self.catalog.table(&i.name).is_some(),
            },
            ExprKind::Call { callee, .. } => match &callee.kind {
                ExprKind::Name(f) if f.name == "materialize" => true,
                ExprKind::Name(f) => match self.lookup(&f.name) {
                    Some(Binding::Function(def)) => self.function_is_tabular(def),
                    _ => f.name == "_GetWatchlist",
                },
                _ => false,
            },
            _ => false,
        }
    }

    /// Plans a tabular expression.
    pub(crate) fn tabular(&mut self, e: &ast::Expr) -> Result<Relation> {
        // A table inside an mv-apply subquery (toscalar, in, a let) is not
        // one of its sub-tables.
        let outer = (self.partition.take(), self.row_columns.take());
        let result = self.tabular_inner(e);
        self.record_stages = false;
        (self.partition, self.row_columns) = outer;
        result
    }

    fn tabular_inner(&mut self, e: &ast::Expr) -> Result<Relation> {
        if !matches!(e.kind, ExprKind::Pipe { .. } | ExprKind::Paren(_)) {
            // The query is not a pipe (a union, a function call): a pipe
            // inside it is not the query's, its stages are not recorded.
            self.record_stages = false;
        }
        match &e.kind {
            ExprKind::Name(i) => self.table_ref(i),
            ExprKind::Paren(x) => self.tabular(x),
            ExprKind::Pipe { input, ops } => {
                let record = std::mem::take(&mut self.record_stages);
                let mut rel = self.tabular(input)?;
                if record {
                    self.stages.push((input.span, rel.plan.clone()));
                }
                let mut name = operator::as_name(input);
                for op in ops {
                    if let ast::OperatorKind::As { name: n, .. } = &op.kind {
                        name = Some(n.name.clone());
                    }
                    self.pipe_name = name.clone();
                    rel = self.operator(op, rel)?;
                    if record {
                        self.stages.push((op.span, rel.plan.clone()));
                    }
                }
                Ok(rel)
            }
            ExprKind::Source(s) => self.source(s),
            ExprKind::Call { callee, args } => self.tabular_call(callee, args, e),
            _ => Err(Error::Query(
                Diagnostic::new(codes::INVALID, "expected a table here")
                    .with_label(e.span, "this is not a tabular expression"),
            )),
        }
    }

    /// `materialize(T)`, `_GetWatchlist('alias')` and calls of `let`
    /// functions that return tables.
    fn tabular_call(
        &mut self,
        callee: &ast::Expr,
        args: &[ast::Arg],
        e: &ast::Expr,
    ) -> Result<Relation> {
        let ExprKind::Name(f) = &callee.kind else {
            return Err(Error::unsupported(e.span, "calling this expression"));
        };
        if f.name == "materialize" {
            return match args {
                [a] if a.name.is_none() => self.tabular(&a.value),
                _ => Err(Error::invalid(e.span, "`materialize` takes one table")),
            };
        }
        let binding = self.lookup(&f.name).cloned();
        if f.name == "_GetWatchlist" && !matches!(binding, Some(Binding::Function(_))) {
            return self.plan_watchlist(args, e);
        }
        let Some(Binding::Function(def)) = binding else {
            return Err(Error::invalid(
                e.span,
                format!("`{}` is not a tabular function", f.name),
            ));
        };
        self.call_user_tabular(&f.name, &def, args, e)
    }

    fn call_user_tabular(
        &mut self,
        name: &str,
        def: &ast::FunctionDef,
        args: &[ast::Arg],
        e: &ast::Expr,
    ) -> Result<Relation> {
        let empty = self.empty_relation()?;
        self.bind_params(name, def, args, e, &empty)?;
        let result = self.function_body(def, |p, body| p.tabular(body));
        self.scopes.pop();
        self.calling.pop();
        result
    }

    fn table_ref(&mut self, i: &ast::Ident) -> Result<Relation> {
        if let Some(b) = self.lookup(&i.name).cloned() {
            return match b {
                Binding::Table(r) => Ok(r),
                Binding::Scalar(..) => Err(Error::invalid(
                    i.span,
                    format!("`{}` is a scalar, not a table", i.name),
                )),
                Binding::Function(def) => self.call_user_tabular(
                    &i.name,
                    &def,
                    &[],
                    &ast::Expr {
                        kind: ExprKind::Name(i.clone()),
                        span: i.span,
                    },
                ),
            };
        }
        if let Some(r) = self.catalog.table(&i.name) {
            return Ok(r);
        }
        let mut names = self.catalog.table_names();
        for scope in &self.scopes {
            names.extend(
                scope
                    .iter()
                    .filter(|(_, b)| matches!(b, Binding::Table(_)))
                    .map(|(n, _)| n.clone()),
            );
        }
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
