//! KQL text to AST: pest does the recognising, this module builds typed nodes.
//!
//! One `build_<rule>` method per grammar rule. Binary operator precedence is
//! applied here by precedence climbing over the flat operand/operator sequence
//! the grammar produces, following the official parser's levels (see
//! [`level`]); three levels are non-associative, as in Kusto.

use crate::ast::*;
use crate::diagnostic::{Diagnostic, codes};
use crate::span::Span;
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "kql.pest"]
pub(crate) struct KqlGrammar;

type Result<T> = std::result::Result<T, Diagnostic>;

/// Deepest bracket nesting accepted: deeper input is rejected before parsing,
/// so hostile input cannot overflow the stack.
pub const MAX_NESTING: usize = 64;

/// Most operator applications (binary, unary, member, index, call) in one
/// query; bounds the depth of the tree the printer and the planner recurse over.
pub const MAX_OPERATORS: usize = 5_000;

/// Parses a whole query text: statements separated by `;`.
pub fn parse(src: &str) -> Result<Script> {
    check_nesting(src)?;
    let mut pairs =
        KqlGrammar::parse(Rule::script, src).map_err(|e| syntax_error(src, Rule::script, e))?;
    let mut b = Builder { operators: 0 };
    let script = next(&mut pairs, "script")?;
    b.script(script)
}

/// Parses a single (scalar or tabular) expression.
pub fn parse_expression(src: &str) -> Result<Expr> {
    check_nesting(src)?;
    let mut pairs = KqlGrammar::parse(Rule::expression_only, src)
        .map_err(|e| syntax_error(src, Rule::expression_only, e))?;
    let mut b = Builder { operators: 0 };
    let top = next(&mut pairs, "expression")?;
    let mut inner = top.into_inner();
    b.pipe_expr(next(&mut inner, "expression")?)
}

/// Turns a pest failure into a diagnostic. The literal tokens expected at the
/// failure point (`)`, `,`...) are only recorded in pest's detailed mode, which
/// slows every parse; so the failing text is parsed once more with it on.
fn syntax_error(src: &str, rule: Rule, e: pest::error::Error<Rule>) -> Diagnostic {
    pest::set_error_detail(true);
    let detailed = KqlGrammar::parse(rule, src).err();
    pest::set_error_detail(false);
    let tokens: Vec<String> = detailed
        .and_then(|d| d.parse_attempts())
        .map(|a| a.expected_tokens().iter().map(|t| t.to_string()).collect())
        .unwrap_or_default();
    crate::errors::from_pest(src, e, &tokens)
}

/// Rejects bracket nesting deeper than [`MAX_NESTING`], skipping strings and comments.
fn check_nesting(src: &str) -> Result<()> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'`' if b[i..].starts_with(b"```") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"```") {
                    i += 1;
                }
                i += 2;
            }
            q @ (b'"' | b'\'') => {
                let verbatim = i > 0 && b[i - 1] == b'@';
                i += 1;
                while i < b.len() && b[i] != b'\n' {
                    if b[i] == q {
                        if verbatim && b.get(i + 1) == Some(&q) {
                            i += 1;
                        } else {
                            break;
                        }
                    } else if b[i] == b'\\' && !verbatim {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::new(
                        codes::TOO_DEEP,
                        format!("brackets are nested more than {MAX_NESTING} levels deep"),
                    )
                    .with_label(Span::new(i, i + 1), "too deep here")
                    .with_help("split the query with `let` statements"));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn span(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

/// The next child pair; its absence is a grammar/builder mismatch, reported
/// as an error rather than a panic.
fn next<'a>(it: &mut Pairs<'a, Rule>, what: &str) -> Result<Pair<'a, Rule>> {
    it.next().ok_or_else(|| internal(Span::default(), what))
}

fn internal(at: Span, what: &str) -> Diagnostic {
    Diagnostic::syntax(at, format!("internal parser error: missing {what}"))
        .with_help("this is a bug in kqlite; please report the query")
}

fn unexpected(p: &Pair<'_, Rule>) -> Diagnostic {
    Diagnostic::syntax(
        span(p),
        format!("internal parser error: unexpected {:?}", p.as_rule()),
    )
    .with_help("this is a bug in kqlite; please report the query")
}

fn literal_error(at: Span, msg: impl Into<String>) -> Diagnostic {
    let msg = msg.into();
    Diagnostic::new(codes::LITERAL, msg.clone()).with_label(at, msg)
}

/// Binary operator levels, loosest (1) to tightest (7), per the official parser.
fn level(op: Op) -> u8 {
    match op {
        Op::Bin(BinaryOp::Or) => 1,
        Op::Bin(BinaryOp::And) => 2,
        Op::Bin(BinaryOp::Eq | BinaryOp::NotEq) | Op::List | Op::Between => 3,
        Op::Bin(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge) => 4,
        Op::Bin(BinaryOp::Add | BinaryOp::Sub) => 5,
        Op::Bin(BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod) => 6,
        Op::Bin(_) => 7,
    }
}

fn non_associative(level: u8) -> bool {
    matches!(level, 3 | 4 | 7)
}

/// An operator in the flat sequence, with what it needs to build its node.
#[derive(Clone, Copy)]
enum Op {
    Bin(BinaryOp),
    List,
    Between,
}

enum Tail {
    Bin(BinaryOp, Span, Expr),
    List(ListOp, Span, Vec<Expr>),
    Between(bool, Span, Expr, Expr),
}

impl Tail {
    fn op(&self) -> Op {
        match self {
            Tail::Bin(op, ..) => Op::Bin(*op),
            Tail::List(..) => Op::List,
            Tail::Between(..) => Op::Between,
        }
    }
    fn op_span(&self) -> Span {
        match self {
            Tail::Bin(_, s, _) | Tail::List(_, s, _) | Tail::Between(_, s, ..) => *s,
        }
    }
}

struct Builder {
    operators: usize,
}

impl Builder {
    fn count_operator(&mut self, at: Span) -> Result<()> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(Diagnostic::new(
                codes::TOO_DEEP,
                format!("the query has more than {MAX_OPERATORS} operators"),
            )
            .with_label(at, "limit reached here"));
        }
        Ok(())
    }

    // ───────────── statements ─────────────

    fn script(&mut self, p: Pair<'_, Rule>) -> Result<Script> {
        let sp = span(&p);
        let mut statements = Vec::new();
        for s in p.into_inner() {
            match s.as_rule() {
                Rule::statement => statements.push(self.statement(s)?),
                Rule::EOI => {}
                _ => return Err(unexpected(&s)),
            }
        }
        Ok(Script {
            statements,
            span: sp,
        })
    }

    fn statement(&mut self, p: Pair<'_, Rule>) -> Result<Statement> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let s = next(&mut it, "statement")?;
        let kind = match s.as_rule() {
            Rule::let_stmt => {
                let mut it = s.into_inner();
                next(&mut it, "let")?;
                let name = self.any_ident(next(&mut it, "let name")?)?;
                let v = next(&mut it, "let value")?;
                let value = match v.as_rule() {
                    Rule::function_def => LetValue::Function(self.function_def(v)?),
                    _ => LetValue::Expr(self.pipe_expr(v)?),
                };
                StatementKind::Let(LetStatement { name, value })
            }
            Rule::set_stmt => {
                let mut it = s.into_inner();
                next(&mut it, "set")?;
                let name = next(&mut it, "option name")?.as_str().to_string();
                let value = it.next().map(|v| self.expr(v)).transpose()?;
                StatementKind::Set(SetStatement { name, value })
            }
            Rule::declare_params_stmt => {
                let params = s
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::param)
                    .map(|p| self.param(p))
                    .collect::<Result<_>>()?;
                StatementKind::DeclareQueryParameters(params)
            }
            Rule::declare_pattern_stmt => {
                let mut name = None;
                let mut raw = String::new();
                for c in s.into_inner() {
                    match c.as_rule() {
                        Rule::any_ident => name = Some(self.any_ident(c)?),
                        Rule::pattern_body => raw = c.as_str().to_string(),
                        _ => {}
                    }
                }
                let name = name.ok_or_else(|| internal(sp, "pattern name"))?;
                StatementKind::DeclarePattern { name, raw }
            }
            Rule::alias_stmt => {
                let mut it = s
                    .into_inner()
                    .filter(|c| !matches!(c.as_rule(), Rule::kw_alias | Rule::kw_database));
                let name = self.any_ident(it.next().ok_or_else(|| internal(sp, "alias name"))?)?;
                let value = self.expr(it.next().ok_or_else(|| internal(sp, "alias value"))?)?;
                StatementKind::AliasDatabase { name, value }
            }
            Rule::query_stmt => {
                let mut it = s.into_inner();
                StatementKind::Query(self.pipe_expr(next(&mut it, "query")?)?)
            }
            _ => return Err(unexpected(&s)),
        };
        Ok(Statement { kind, span: sp })
    }

    fn function_def(&mut self, p: Pair<'_, Rule>) -> Result<FunctionDef> {
        let sp = span(&p);
        let mut view = false;
        let mut params = Vec::new();
        let mut body = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::kw_view => view = true,
                Rule::param => params.push(self.param(c)?),
                Rule::function_body => {
                    for s in c.into_inner() {
                        body.push(self.statement(s)?);
                    }
                }
                _ => return Err(unexpected(&c)),
            }
        }
        Ok(FunctionDef {
            view,
            params,
            body,
            span: sp,
        })
    }

    fn param(&mut self, p: Pair<'_, Rule>) -> Result<Param> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let name = self.any_ident(next(&mut it, "parameter name")?)?;
        let ty_pair = next(&mut it, "parameter type")?;
        let ty = {
            let mut inner = ty_pair.into_inner();
            let t = next(&mut inner, "type")?;
            match t.as_rule() {
                Rule::type_name => ParamType::Scalar(type_name(&t)?),
                Rule::tabular_schema => {
                    let wildcard = t.as_str().contains('*');
                    let columns = t
                        .into_inner()
                        .map(|c| self.column_decl(c))
                        .collect::<Result<_>>()?;
                    ParamType::Tabular { columns, wildcard }
                }
                _ => return Err(unexpected(&t)),
            }
        };
        let mut default = None;
        for c in it {
            if c.as_rule() == Rule::expr {
                default = Some(self.expr(c)?);
            }
        }
        Ok(Param {
            name,
            ty,
            default,
            span: sp,
        })
    }

    fn column_decl(&mut self, p: Pair<'_, Rule>) -> Result<ColumnDecl> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let name = self.any_ident(next(&mut it, "column name")?)?;
        let ty = type_name(&next(&mut it, "column type")?)?;
        Ok(ColumnDecl { name, ty, span: sp })
    }

    fn column_decls<'a>(
        &mut self,
        it: impl Iterator<Item = Pair<'a, Rule>>,
    ) -> Result<Vec<ColumnDecl>> {
        it.filter(|c| c.as_rule() == Rule::column_decl)
            .map(|c| self.column_decl(c))
            .collect()
    }

    // ───────────── names ─────────────

    fn any_ident(&mut self, p: Pair<'_, Rule>) -> Result<Ident> {
        let sp = span(&p);
        match p.as_rule() {
            Rule::raw_ident | Rule::param_name => Ok(Ident::new(p.as_str(), sp)),
            Rule::ident | Rule::any_ident => {
                let mut it = p.into_inner();
                self.any_ident(next(&mut it, "name")?)
            }
            Rule::bracket_name => {
                let mut it = p.into_inner();
                let s = string_value(next(&mut it, "quoted name")?)?;
                Ok(Ident {
                    name: s.value,
                    quoted: true,
                    span: sp,
                })
            }
            _ => Err(unexpected(&p)),
        }
    }

    // ───────────── expressions ─────────────

    fn pipe_expr(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let head = next(&mut it, "pipe input")?;
        let input = match head.as_rule() {
            Rule::source_op => self.source(head)?,
            Rule::expr => self.expr(head)?,
            _ => return Err(unexpected(&head)),
        };
        let ops = it.map(|o| self.operator(o)).collect::<Result<Vec<_>>>()?;
        if ops.is_empty() {
            return Ok(input);
        }
        Ok(Expr::new(
            ExprKind::Pipe {
                input: Box::new(input),
                ops,
            },
            sp,
        ))
    }

    fn expr(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        if p.as_rule() == Rule::pipe_expr {
            return self.pipe_expr(p);
        }
        if p.as_rule() != Rule::expr {
            return Err(unexpected(&p));
        }
        let mut it = p.into_inner();
        let first = self.operand(next(&mut it, "operand")?)?;
        let mut tails = Vec::new();
        while let Some(t) = it.next() {
            let tail = match t.as_rule() {
                Rule::binary_op => {
                    let op = BinaryOp::from_text(t.as_str()).ok_or_else(|| {
                        Diagnostic::syntax(span(&t), format!("unknown operator `{}`", t.as_str()))
                    })?;
                    let rhs = self.operand(next(&mut it, "right operand")?)?;
                    Tail::Bin(op, span(&t), rhs)
                }
                Rule::list_tail => {
                    let mut inner = t.into_inner();
                    let op_pair = next(&mut inner, "list operator")?;
                    let op =
                        ListOp::from_text(op_pair.as_str()).ok_or_else(|| unexpected(&op_pair))?;
                    let list = inner.map(|e| self.pipe_expr(e)).collect::<Result<_>>()?;
                    Tail::List(op, span(&op_pair), list)
                }
                Rule::between_tail => {
                    let mut inner = t.into_inner();
                    let op_pair = next(&mut inner, "between")?;
                    let negated = op_pair.as_str().starts_with('!');
                    let low = self.expr(next(&mut inner, "low bound")?)?;
                    let high = self.expr(next(&mut inner, "high bound")?)?;
                    Tail::Between(negated, span(&op_pair), low, high)
                }
                Rule::misplaced_assign => {
                    return Err(Diagnostic::syntax(span(&t), "`=` is not a comparison here")
                        .with_help("to compare, write `==` (or `=~` for case-insensitive)"));
                }
                _ => return Err(unexpected(&t)),
            };
            self.count_operator(tail.op_span())?;
            tails.push(tail);
        }
        let mut tails = tails.into_iter().peekable();
        climb(first, &mut tails, 1)
    }

    fn operand(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let first = next(&mut it, "operand")?;
        if first.as_rule() == Rule::unary_op {
            let op = if first.as_str() == "-" {
                UnaryOp::Neg
            } else {
                UnaryOp::Plus
            };
            self.count_operator(span(&first))?;
            let e = self.postfix_expr(next(&mut it, "unary operand")?)?;
            return Ok(Expr::new(
                ExprKind::Unary {
                    op,
                    expr: Box::new(e),
                },
                sp,
            ));
        }
        self.postfix_expr(first)
    }

    fn postfix_expr(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let mut it = p.into_inner();
        let mut e = self.primary(next(&mut it, "primary")?)?;
        for post in it {
            let ps = span(&post);
            self.count_operator(ps)?;
            let sp = e.span.to(ps);
            let kind = match post.as_rule() {
                Rule::member => {
                    let mut inner = post.into_inner();
                    let m = next(&mut inner, "member name")?;
                    if m.as_rule() == Rule::expr {
                        // `x.[expr]` is the same as `x[expr]`.
                        ExprKind::Index {
                            expr: Box::new(e),
                            index: Box::new(self.expr(m)?),
                        }
                    } else {
                        ExprKind::Member {
                            expr: Box::new(e),
                            name: self.any_ident(m)?,
                        }
                    }
                }
                Rule::index => {
                    let mut inner = post.into_inner();
                    let index = self.expr(next(&mut inner, "index")?)?;
                    ExprKind::Index {
                        expr: Box::new(e),
                        index: Box::new(index),
                    }
                }
                Rule::call_args => {
                    let args = post
                        .into_inner()
                        .map(|a| self.arg(a))
                        .collect::<Result<_>>()?;
                    ExprKind::Call {
                        callee: Box::new(e),
                        args,
                    }
                }
                _ => return Err(unexpected(&post)),
            };
            e = Expr::new(kind, sp);
        }
        Ok(e)
    }

    fn arg(&mut self, p: Pair<'_, Rule>) -> Result<Arg> {
        let mut name = None;
        let mut value = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::any_ident => name = Some(self.any_ident(c)?),
                Rule::assign => {}
                Rule::star => value = Some(Expr::new(ExprKind::Star, span(&c))),
                Rule::pipe_expr => value = Some(self.pipe_expr(c)?),
                _ => return Err(unexpected(&c)),
            }
        }
        let value = value.ok_or_else(|| internal(Span::default(), "argument"))?;
        Ok(Arg { name, value })
    }

    fn primary(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let c = next(&mut it, "primary")?;
        let kind = match c.as_rule() {
            Rule::literal => ExprKind::Literal(literal(c)?),
            Rule::typeof_expr => {
                let mut inner = c.into_inner();
                next(&mut inner, "typeof")?;
                let t = next(&mut inner, "type")?;
                match t.as_rule() {
                    Rule::type_name => ExprKind::TypeOf(type_name(&t)?),
                    _ => {
                        return Err(Diagnostic::syntax(
                            span(&t),
                            "only `typeof(<scalar type>)` is supported",
                        ));
                    }
                }
            }
            Rule::datatable => {
                let mut columns = Vec::new();
                let mut values = Vec::new();
                for x in c.into_inner() {
                    match x.as_rule() {
                        Rule::kw_datatable => {}
                        Rule::column_decl => columns.push(self.column_decl(x)?),
                        Rule::expr => values.push(self.expr(x)?),
                        _ => return Err(unexpected(&x)),
                    }
                }
                ExprKind::Source(Box::new(Source {
                    kind: SourceKind::Datatable { columns, values },
                    span: sp,
                }))
            }
            Rule::externaldata => {
                let mut columns = Vec::new();
                let mut uris = Vec::new();
                let mut properties = Vec::new();
                for x in c.into_inner() {
                    match x.as_rule() {
                        Rule::kw_externaldata | Rule::kw_with => {}
                        Rule::column_decl => columns.push(self.column_decl(x)?),
                        Rule::expr => uris.push(self.expr(x)?),
                        Rule::property => properties.push(self.property(x)?),
                        _ => return Err(unexpected(&x)),
                    }
                }
                ExprKind::Source(Box::new(Source {
                    kind: SourceKind::Externaldata {
                        columns,
                        uris,
                        properties,
                    },
                    span: sp,
                }))
            }
            Rule::paren => {
                let mut inner = c.into_inner();
                ExprKind::Paren(Box::new(self.pipe_expr(next(&mut inner, "expression")?)?))
            }
            Rule::star => ExprKind::Star,
            Rule::ident => ExprKind::Name(self.any_ident(c)?),
            _ => return Err(unexpected(&c)),
        };
        Ok(Expr::new(kind, sp))
    }

    fn named_expr(&mut self, p: Pair<'_, Rule>) -> Result<NamedExpr> {
        let sp = span(&p);
        let mut names = Vec::new();
        let mut expr = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::assign_names => {
                    for n in c.into_inner() {
                        names.push(self.any_ident(n)?);
                    }
                }
                Rule::assign => {}
                Rule::expr => expr = Some(self.expr(c)?),
                _ => return Err(unexpected(&c)),
            }
        }
        let expr = expr.ok_or_else(|| internal(sp, "expression"))?;
        Ok(NamedExpr {
            names,
            expr,
            span: sp,
        })
    }

    fn named_exprs<'a>(
        &mut self,
        it: impl Iterator<Item = Pair<'a, Rule>>,
    ) -> Result<Vec<NamedExpr>> {
        it.filter(|c| c.as_rule() == Rule::named_expr)
            .map(|c| self.named_expr(c))
            .collect()
    }

    fn property(&mut self, p: Pair<'_, Rule>) -> Result<Property> {
        let mut it = p.into_inner();
        let name = self.any_ident(next(&mut it, "property name")?)?;
        let values = it.map(|v| self.expr(v)).collect::<Result<_>>()?;
        Ok(Property { name, values })
    }

    fn op_param(&mut self, p: Pair<'_, Rule>) -> Result<OpParam> {
        let mut it = p.into_inner();
        let name = self.any_ident(next(&mut it, "parameter name")?)?;
        next(&mut it, "=")?;
        let v = next(&mut it, "parameter value")?;
        let vs = span(&v);
        let mut inner = v.into_inner();
        let x = next(&mut inner, "parameter value")?;
        let kind = match x.as_rule() {
            Rule::bool_lit | Rule::signed_number | Rule::string_lit => {
                ExprKind::Literal(literal_of(x)?)
            }
            _ => ExprKind::Name(self.any_ident(x)?),
        };
        Ok(OpParam {
            name,
            value: Expr::new(kind, vs),
        })
    }

    fn wildcard(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let w = next(&mut it, "wildcard")?;
        Ok(Expr::new(ExprKind::Wildcard(w.as_str().to_string()), sp))
    }

    /// A table or column reference in a list: a wildcard, `*` or an expression.
    fn table_ref(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        match p.as_rule() {
            Rule::wildcard_table | Rule::wildcard_col => self.wildcard(p),
            Rule::star => Ok(Expr::new(ExprKind::Star, span(&p))),
            Rule::ident => {
                let sp = span(&p);
                Ok(Expr::new(ExprKind::Name(self.any_ident(p)?), sp))
            }
            Rule::expr => self.expr(p),
            _ => Err(unexpected(&p)),
        }
    }

    fn in_tables(&mut self, p: Pair<'_, Rule>) -> Result<Vec<Expr>> {
        p.into_inner()
            .filter(|c| c.as_rule() != Rule::kw_in)
            .map(|c| self.table_ref(c))
            .collect()
    }

    fn sort_key(&mut self, p: Pair<'_, Rule>) -> Result<SortKey> {
        let mut expr = None;
        let mut order = None;
        let mut nulls = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::expr => expr = Some(self.expr(c)?),
                Rule::sort_order => order = Some(sort_order(&c)?),
                Rule::nulls_order => {
                    nulls = Some(if c.as_str().trim_end().ends_with("first") {
                        NullsOrder::First
                    } else {
                        NullsOrder::Last
                    })
                }
                _ => return Err(unexpected(&c)),
            }
        }
        let expr = expr.ok_or_else(|| internal(Span::default(), "sort key"))?;
        Ok(SortKey { expr, order, nulls })
    }

    fn expand_item(&mut self, p: Pair<'_, Rule>) -> Result<ExpandItem> {
        let sp = span(&p);
        let mut name = None;
        let mut expr = None;
        let mut to_type = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::any_ident => name = Some(self.any_ident(c)?),
                Rule::expr => expr = Some(self.expr(c)?),
                Rule::type_name => to_type = Some(type_name(&c)?),
                Rule::assign | Rule::kw_to | Rule::kw_typeof => {}
                _ => return Err(unexpected(&c)),
            }
        }
        let expr = expr.ok_or_else(|| internal(sp, "expand expression"))?;
        Ok(ExpandItem {
            name,
            expr,
            to_type,
            span: sp,
        })
    }

    fn sub_ops(&mut self, p: Pair<'_, Rule>) -> Result<Vec<Operator>> {
        p.into_inner().map(|o| self.operator(o)).collect()
    }

    fn parse_pattern(&mut self, p: Pair<'_, Rule>) -> Result<Vec<ParsePart>> {
        let mut parts = Vec::new();
        for part in p.into_inner() {
            let mut inner = part.into_inner();
            let x = next(&mut inner, "parse pattern element")?;
            parts.push(match x.as_rule() {
                Rule::star => ParsePart::Star,
                Rule::string_lit => {
                    let sp = span(&x);
                    ParsePart::Text(Expr::new(
                        ExprKind::Literal(Literal::String(string_value(x)?)),
                        sp,
                    ))
                }
                Rule::parse_column => {
                    let mut c = x.into_inner();
                    let name = self.any_ident(next(&mut c, "column")?)?;
                    let ty = c.next().map(|t| type_name(&t)).transpose()?;
                    ParsePart::Column { name, ty }
                }
                _ => return Err(unexpected(&x)),
            });
        }
        Ok(parts)
    }

    // ───────────── sources ─────────────

    fn source(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let s = next(&mut it, "source")?;
        let mut params = Vec::new();
        let kind = match s.as_rule() {
            Rule::print_src => SourceKind::Print(self.named_exprs(s.into_inner())?),
            Rule::range_src => {
                let mut it = s.into_inner().filter(|c| {
                    !matches!(
                        c.as_rule(),
                        Rule::kw_range | Rule::kw_from | Rule::kw_to | Rule::kw_step
                    )
                });
                let name =
                    self.any_ident(it.next().ok_or_else(|| internal(sp, "range column"))?)?;
                let from = self.expr(it.next().ok_or_else(|| internal(sp, "range start"))?)?;
                let to = self.expr(it.next().ok_or_else(|| internal(sp, "range end"))?)?;
                let step = self.expr(it.next().ok_or_else(|| internal(sp, "range step"))?)?;
                SourceKind::Range {
                    name,
                    from,
                    to,
                    step,
                }
            }
            Rule::union_src => {
                let mut tables = Vec::new();
                for c in s.into_inner() {
                    match c.as_rule() {
                        Rule::kw_union => {}
                        Rule::op_param => params.push(self.op_param(c)?),
                        Rule::union_tables => {
                            for t in c.into_inner() {
                                tables.push(self.table_ref(t)?);
                            }
                        }
                        _ => return Err(unexpected(&c)),
                    }
                }
                SourceKind::Union { params, tables }
            }
            Rule::find_src => {
                let mut tables = None;
                let mut predicate = None;
                let mut project = None;
                for c in s.into_inner() {
                    match c.as_rule() {
                        Rule::kw_find | Rule::kw_where => {}
                        Rule::op_param => params.push(self.op_param(c)?),
                        Rule::in_tables => tables = Some(self.in_tables(c)?),
                        Rule::expr => predicate = Some(self.expr(c)?),
                        Rule::find_project => {
                            let mut cols = Vec::new();
                            let mut smart = false;
                            for x in c.into_inner() {
                                match x.as_rule() {
                                    Rule::kw_project_smart => smart = true,
                                    Rule::kw_project => {}
                                    Rule::find_column => cols.push(self.find_column(x)?),
                                    _ => return Err(unexpected(&x)),
                                }
                            }
                            project = Some(if smart {
                                FindProject::Smart
                            } else {
                                FindProject::Columns(cols)
                            });
                        }
                        _ => return Err(unexpected(&c)),
                    }
                }
                let predicate = predicate.ok_or_else(|| internal(sp, "find predicate"))?;
                SourceKind::Find {
                    params,
                    tables,
                    predicate,
                    project,
                }
            }
            Rule::search_src => {
                let mut tables = None;
                let mut predicate = None;
                for c in s.into_inner() {
                    match c.as_rule() {
                        Rule::kw_search => {}
                        Rule::op_param => params.push(self.op_param(c)?),
                        Rule::in_tables => tables = Some(self.in_tables(c)?),
                        Rule::expr => predicate = Some(self.expr(c)?),
                        _ => return Err(unexpected(&c)),
                    }
                }
                let predicate = predicate.ok_or_else(|| internal(sp, "search predicate"))?;
                SourceKind::Search {
                    params,
                    tables,
                    predicate,
                }
            }
            Rule::evaluate_src => {
                let mut call = None;
                for c in s.into_inner() {
                    match c.as_rule() {
                        Rule::kw_evaluate => {}
                        Rule::op_param => params.push(self.op_param(c)?),
                        Rule::postfix_expr => call = Some(self.postfix_expr(c)?),
                        Rule::evaluate_schema => {
                            return Err(Diagnostic::syntax(
                                span(&c),
                                "an output schema after `evaluate` is not supported",
                            ));
                        }
                        _ => return Err(unexpected(&c)),
                    }
                }
                let call = call.ok_or_else(|| internal(sp, "plugin call"))?;
                SourceKind::Evaluate { params, call }
            }
            _ => return Err(unexpected(&s)),
        };
        Ok(Expr::new(
            ExprKind::Source(Box::new(Source { kind, span: sp })),
            sp,
        ))
    }

    fn find_column(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let c = next(&mut it, "column")?;
        match c.as_rule() {
            Rule::any_ident => {
                let name = self.any_ident(c)?;
                if let Some(t) = it.next() {
                    // `Col:type` is kept as a typed projection: Name typed by TypeOf.
                    let ty = type_name(&t)?;
                    return Ok(Expr::new(
                        ExprKind::Binary {
                            op: BinaryOp::SearchHas,
                            left: Box::new(Expr::new(ExprKind::Name(name), sp)),
                            right: Box::new(Expr::new(ExprKind::TypeOf(ty), sp)),
                        },
                        sp,
                    ));
                }
                Ok(Expr::new(ExprKind::Name(name), sp))
            }
            _ => self.postfix_expr(c),
        }
    }

    // ───────────── operators ─────────────

    fn operator(&mut self, p: Pair<'_, Rule>) -> Result<Operator> {
        let sp = span(&p);
        let mut it = p.into_inner();
        let o = next(&mut it, "operator")?;
        let rule = o.as_rule();
        let mut params = Vec::new();
        let mut exprs: Vec<Pair<'_, Rule>> = Vec::new();
        let mut rest: Vec<Pair<'_, Rule>> = Vec::new();
        for c in o.clone().into_inner() {
            match c.as_rule() {
                Rule::op_param => params.push(self.op_param(c)?),
                Rule::expr => exprs.push(c),
                r if is_keyword(r) => {}
                _ => rest.push(c),
            }
        }
        let mut exprs = exprs.into_iter();
        let mut one_expr = |b: &mut Builder, what: &str| -> Result<Expr> {
            let e = exprs.next().ok_or_else(|| internal(sp, what))?;
            b.expr(e)
        };
        let kind = match rule {
            Rule::where_op => OperatorKind::Where {
                params,
                predicate: one_expr(self, "predicate")?,
            },
            Rule::extend_op => OperatorKind::Extend(self.named_exprs(rest.into_iter())?),
            Rule::project_op => OperatorKind::Project(self.named_exprs(rest.into_iter())?),
            Rule::project_away_op | Rule::project_keep_op => {
                let mut cols = Vec::new();
                for c in rest {
                    cols.push(self.table_ref(c)?);
                }
                if rule == Rule::project_away_op {
                    OperatorKind::ProjectAway(cols)
                } else {
                    OperatorKind::ProjectKeep(cols)
                }
            }
            Rule::project_rename_op => {
                let mut pairs = Vec::new();
                for r in rest {
                    let mut inner = r.into_inner();
                    let new = self.any_ident(next(&mut inner, "new name")?)?;
                    let old = self.expr(next(&mut inner, "old name")?)?;
                    let ExprKind::Name(old) = old.kind else {
                        return Err(Diagnostic::syntax(
                            old.span,
                            "`project-rename` takes an existing column name after `=`",
                        )
                        .with_help("to compute a new column, use `extend` or `project`"));
                    };
                    pairs.push((new, old));
                }
                OperatorKind::ProjectRename(pairs)
            }
            Rule::project_reorder_op => {
                let mut keys = Vec::new();
                for r in rest {
                    let mut inner = r.into_inner();
                    let column = self.table_ref(next(&mut inner, "column")?)?;
                    let order = inner.next().map(|o| o.as_str().to_string());
                    keys.push(ReorderKey { column, order });
                }
                OperatorKind::ProjectReorder(keys)
            }
            Rule::project_smart_op => OperatorKind::ProjectSmart,
            Rule::summarize_op => {
                let mut aggregates = Vec::new();
                let mut by = Vec::new();
                for r in rest {
                    match r.as_rule() {
                        Rule::summarize_aggs => aggregates = self.named_exprs(r.into_inner())?,
                        Rule::summarize_by => by = self.named_exprs(r.into_inner())?,
                        _ => return Err(unexpected(&r)),
                    }
                }
                OperatorKind::Summarize {
                    params,
                    aggregates,
                    by,
                }
            }
            Rule::sort_op => {
                let keys = rest
                    .into_iter()
                    .map(|k| self.sort_key(k))
                    .collect::<Result<_>>()?;
                OperatorKind::Sort { params, keys }
            }
            Rule::top_op => {
                let count = one_expr(self, "row count")?;
                let key = rest
                    .into_iter()
                    .next()
                    .ok_or_else(|| internal(sp, "sort key"))?;
                OperatorKind::Top {
                    params,
                    count,
                    key: self.sort_key(key)?,
                }
            }
            Rule::top_nested_op => {
                let mut levels = Vec::new();
                for l in rest {
                    levels.push(self.top_nested_level(l)?);
                }
                OperatorKind::TopNested(levels)
            }
            Rule::top_hitters_op => {
                let count = one_expr(self, "count")?;
                let of = one_expr(self, "value")?;
                let by = exprs.next().map(|e| self.expr(e)).transpose()?;
                OperatorKind::TopHitters { count, of, by }
            }
            Rule::take_op => OperatorKind::Take {
                params,
                count: one_expr(self, "row count")?,
            },
            Rule::distinct_op => {
                let mut columns = Vec::new();
                for r in rest {
                    if r.as_rule() == Rule::star {
                        let sp = span(&r);
                        columns.push(NamedExpr {
                            names: Vec::new(),
                            expr: Expr::new(ExprKind::Star, sp),
                            span: sp,
                        });
                    } else {
                        columns.push(self.named_expr(r)?);
                    }
                }
                OperatorKind::Distinct { params, columns }
            }
            Rule::count_op => OperatorKind::Count,
            Rule::join_op | Rule::lookup_op => {
                let right = one_expr(self, "right side")?;
                let cond = rest
                    .into_iter()
                    .next()
                    .ok_or_else(|| internal(sp, "join condition"))?;
                let on = cond
                    .into_inner()
                    .filter(|c| c.as_rule() == Rule::expr)
                    .map(|c| self.expr(c))
                    .collect::<Result<_>>()?;
                if rule == Rule::join_op {
                    OperatorKind::Join { params, right, on }
                } else {
                    OperatorKind::Lookup { params, right, on }
                }
            }
            Rule::union_op => {
                let mut tables = Vec::new();
                for r in rest {
                    for t in r.into_inner() {
                        tables.push(self.table_ref(t)?);
                    }
                }
                OperatorKind::Union { params, tables }
            }
            Rule::mv_expand_op | Rule::mv_apply_op => {
                let mut items = Vec::new();
                let mut limit = None;
                let mut body = Vec::new();
                for r in rest {
                    match r.as_rule() {
                        Rule::expand_item => items.push(self.expand_item(r)?),
                        Rule::expand_limit => {
                            let mut inner = r.into_inner();
                            next(&mut inner, "limit")?;
                            limit = Some(self.expr(next(&mut inner, "limit")?)?);
                        }
                        Rule::sub_ops => body = self.sub_ops(r)?,
                        _ => return Err(unexpected(&r)),
                    }
                }
                if rule == Rule::mv_expand_op {
                    OperatorKind::MvExpand {
                        params,
                        items,
                        limit,
                    }
                } else {
                    OperatorKind::MvApply {
                        params,
                        items,
                        limit,
                        body,
                    }
                }
            }
            Rule::parse_op | Rule::parse_where_op => {
                let expr = one_expr(self, "parsed expression")?;
                let pat = rest
                    .into_iter()
                    .next()
                    .ok_or_else(|| internal(sp, "pattern"))?;
                let pattern = self.parse_pattern(pat)?;
                if rule == Rule::parse_op {
                    OperatorKind::Parse {
                        params,
                        expr,
                        pattern,
                    }
                } else {
                    OperatorKind::ParseWhere {
                        params,
                        expr,
                        pattern,
                    }
                }
            }
            Rule::parse_kv_op => {
                let expr = one_expr(self, "parsed expression")?;
                let mut columns = Vec::new();
                let mut properties = Vec::new();
                for r in rest {
                    match r.as_rule() {
                        Rule::column_decl => columns.push(self.column_decl(r)?),
                        Rule::property => properties.push(self.property(r)?),
                        _ => return Err(unexpected(&r)),
                    }
                }
                OperatorKind::ParseKv {
                    expr,
                    columns,
                    properties,
                }
            }
            Rule::make_series_op => {
                let on = one_expr(self, "axis")?;
                let mut aggregates = Vec::new();
                let mut range = None;
                let mut by = Vec::new();
                for r in rest {
                    match r.as_rule() {
                        Rule::series_agg => {
                            let mut inner = r.into_inner();
                            let agg = self.named_expr(next(&mut inner, "aggregate")?)?;
                            let default = inner
                                .find(|c| c.as_rule() == Rule::expr)
                                .map(|e| self.expr(e))
                                .transpose()?;
                            aggregates.push(SeriesAggregate { agg, default });
                        }
                        Rule::series_range => range = Some(self.series_range(r)?),
                        Rule::named_expr => by.push(self.named_expr(r)?),
                        _ => return Err(unexpected(&r)),
                    }
                }
                let range = range.ok_or_else(|| internal(sp, "series range"))?;
                OperatorKind::MakeSeries {
                    params,
                    aggregates,
                    on,
                    range,
                    by,
                }
            }
            Rule::evaluate_op => {
                let mut call = None;
                let mut schema = None;
                for r in rest {
                    match r.as_rule() {
                        Rule::postfix_expr => call = Some(self.postfix_expr(r)?),
                        Rule::evaluate_schema => {
                            let inner: Vec<_> = r.into_inner().collect();
                            let star = inner.iter().any(|c| c.as_rule() == Rule::schema_star);
                            let columns = self.column_decls(inner.into_iter())?;
                            schema = Some(OutputSchema { star, columns });
                        }
                        _ => return Err(unexpected(&r)),
                    }
                }
                let call = call.ok_or_else(|| internal(sp, "plugin call"))?;
                OperatorKind::Evaluate {
                    params,
                    call,
                    schema,
                }
            }
            Rule::render_op => {
                let mut chart = None;
                let mut properties = Vec::new();
                for r in rest {
                    match r.as_rule() {
                        Rule::any_ident => chart = Some(self.any_ident(r)?),
                        Rule::property => properties.push(self.property(r)?),
                        Rule::render_legacy => {
                            for b in r.into_inner() {
                                properties.push(self.property(b)?);
                            }
                        }
                        _ => return Err(unexpected(&r)),
                    }
                }
                let chart = chart.ok_or_else(|| internal(sp, "chart type"))?;
                OperatorKind::Render { chart, properties }
            }
            Rule::as_op => {
                let name = rest
                    .into_iter()
                    .next()
                    .ok_or_else(|| internal(sp, "name"))?;
                OperatorKind::As {
                    params,
                    name: self.any_ident(name)?,
                }
            }
            Rule::serialize_op => OperatorKind::Serialize(self.named_exprs(rest.into_iter())?),
            Rule::search_op => {
                let mut tables = None;
                for r in rest {
                    if r.as_rule() == Rule::in_tables {
                        tables = Some(self.in_tables(r)?);
                    }
                }
                if tables.is_some() {
                    return Err(Diagnostic::syntax(
                        sp,
                        "`search in (...)` after `|` is not valid: the input is the piped table",
                    ));
                }
                OperatorKind::Search {
                    params,
                    predicate: one_expr(self, "predicate")?,
                }
            }
            Rule::invoke_op => {
                let call = rest
                    .into_iter()
                    .next()
                    .ok_or_else(|| internal(sp, "function call"))?;
                OperatorKind::Invoke(self.postfix_expr(call)?)
            }
            Rule::getschema_op => OperatorKind::GetSchema,
            Rule::sample_op => OperatorKind::Sample(one_expr(self, "row count")?),
            Rule::sample_distinct_op => OperatorKind::SampleDistinct {
                count: one_expr(self, "count")?,
                of: one_expr(self, "column")?,
            },
            Rule::consume_op => OperatorKind::Consume(params),
            Rule::facet_op => {
                let mut columns = Vec::new();
                let mut with = None;
                for r in rest {
                    match r.as_rule() {
                        Rule::sub_ops => with = Some(self.sub_ops(r)?),
                        _ => columns.push(self.table_ref(r)?),
                    }
                }
                OperatorKind::Facet { columns, with }
            }
            Rule::fork_op => {
                let mut branches = Vec::new();
                for r in rest {
                    let mut name = None;
                    let mut ops = Vec::new();
                    for c in r.into_inner() {
                        match c.as_rule() {
                            Rule::any_ident => name = Some(self.any_ident(c)?),
                            Rule::sub_ops => ops = self.sub_ops(c)?,
                            _ => return Err(unexpected(&c)),
                        }
                    }
                    branches.push(ForkBranch { name, ops });
                }
                OperatorKind::Fork(branches)
            }
            Rule::partition_op => {
                let mut rest = rest.into_iter();
                let key = rest.next().ok_or_else(|| internal(sp, "partition key"))?;
                let key_span = span(&key);
                let mut inner = key.into_inner();
                let by = Expr::new(
                    ExprKind::Name(self.any_ident(next(&mut inner, "partition key")?)?),
                    key_span,
                );
                let body_pair = rest.next().ok_or_else(|| internal(sp, "partition body"))?;
                let body = match body_pair.as_rule() {
                    Rule::sub_ops => PartitionBody::Ops(self.sub_ops(body_pair)?),
                    _ => PartitionBody::Query(self.pipe_expr(body_pair)?),
                };
                OperatorKind::Partition { params, by, body }
            }
            Rule::scan_op => {
                let mut declare = Vec::new();
                let mut steps = Vec::new();
                for r in rest {
                    match r.as_rule() {
                        Rule::scan_declare => {
                            for p in r.into_inner() {
                                if p.as_rule() == Rule::param {
                                    declare.push(self.param(p)?);
                                }
                            }
                        }
                        Rule::scan_step => steps.push(self.scan_step(r)?),
                        _ => return Err(unexpected(&r)),
                    }
                }
                OperatorKind::Scan {
                    params,
                    declare,
                    steps,
                }
            }
            Rule::reduce_op => {
                let by = one_expr(self, "reduce key")?;
                let properties = rest
                    .into_iter()
                    .filter(|r| r.as_rule() == Rule::property)
                    .map(|r| self.property(r))
                    .collect::<Result<_>>()?;
                OperatorKind::Reduce {
                    params,
                    by,
                    properties,
                }
            }
            Rule::assert_schema_op => {
                return Err(Diagnostic::syntax(sp, "`assert-schema` is not supported"));
            }
            _ => return Err(unexpected(&o)),
        };
        Ok(Operator { kind, span: sp })
    }

    fn top_nested_level(&mut self, p: Pair<'_, Rule>) -> Result<TopNestedLevel> {
        let sp = span(&p);
        let mut count = None;
        let mut named = Vec::new();
        let mut others = None;
        let mut order = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::expr => count = Some(self.expr(c)?),
                Rule::named_expr => named.push(self.named_expr(c)?),
                Rule::top_nested_others => {
                    let ne = c
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::named_expr)
                        .ok_or_else(|| internal(sp, "others value"))?;
                    others = Some(self.named_expr(ne)?);
                }
                Rule::sort_order => order = Some(sort_order(&c)?),
                r if is_keyword(r) => {}
                _ => return Err(unexpected(&c)),
            }
        }
        let mut named = named.into_iter();
        let of = named.next().ok_or_else(|| internal(sp, "top-nested of"))?;
        let by = named.next().ok_or_else(|| internal(sp, "top-nested by"))?;
        Ok(TopNestedLevel {
            count,
            of,
            others,
            by,
            order,
        })
    }

    fn series_range(&mut self, p: Pair<'_, Rule>) -> Result<SeriesRange> {
        let sp = span(&p);
        let mut from = None;
        let mut to = None;
        let mut step = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::postfix_expr => return Ok(SeriesRange::InRange(self.postfix_expr(c)?)),
                Rule::series_from | Rule::series_to => {
                    let is_from = c.as_rule() == Rule::series_from;
                    let e = c
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::expr)
                        .ok_or_else(|| internal(sp, "range bound"))?;
                    let e = self.expr(e)?;
                    if is_from {
                        from = Some(e);
                    } else {
                        to = Some(e);
                    }
                }
                Rule::expr => step = Some(self.expr(c)?),
                r if is_keyword(r) => {}
                _ => return Err(unexpected(&c)),
            }
        }
        let step = step.ok_or_else(|| internal(sp, "step"))?;
        Ok(SeriesRange::FromTo { from, to, step })
    }

    fn scan_step(&mut self, p: Pair<'_, Rule>) -> Result<ScanStep> {
        let sp = span(&p);
        let mut idents = Vec::new();
        let mut predicate = None;
        let mut assignments = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::any_ident => idents.push(self.any_ident(c)?),
                Rule::expr => predicate = Some(self.expr(c)?),
                Rule::named_expr => assignments.push(self.named_expr(c)?),
                r if is_keyword(r) => {}
                _ => return Err(unexpected(&c)),
            }
        }
        let mut idents = idents.into_iter();
        let name = idents.next().ok_or_else(|| internal(sp, "step name"))?;
        let output = idents.next();
        let predicate = predicate.ok_or_else(|| internal(sp, "step condition"))?;
        Ok(ScanStep {
            name,
            output,
            predicate,
            assignments,
        })
    }
}

/// Precedence climbing over `first (op operand)*`, honouring non-associative levels.
fn climb(
    mut lhs: Expr,
    tails: &mut std::iter::Peekable<std::vec::IntoIter<Tail>>,
    min_level: u8,
) -> Result<Expr> {
    while let Some(t) = tails.peek() {
        let lvl = level(t.op());
        if lvl < min_level {
            break;
        }
        let Some(tail) = tails.next() else { break };
        let op_span = tail.op_span();
        lhs = match tail {
            Tail::Bin(op, _, rhs) => {
                let rhs = climb(rhs, tails, lvl + 1)?;
                let sp = lhs.span.to(rhs.span);
                Expr::new(
                    ExprKind::Binary {
                        op,
                        left: Box::new(lhs),
                        right: Box::new(rhs),
                    },
                    sp,
                )
            }
            Tail::List(op, _, list) => {
                let end = list.last().map(|e| e.span).unwrap_or(op_span);
                let sp = lhs.span.to(end);
                Expr::new(
                    ExprKind::InList {
                        op,
                        expr: Box::new(lhs),
                        list,
                    },
                    sp,
                )
            }
            Tail::Between(negated, _, low, high) => {
                let sp = lhs.span.to(high.span);
                Expr::new(
                    ExprKind::Between {
                        negated,
                        expr: Box::new(lhs),
                        low: Box::new(low),
                        high: Box::new(high),
                    },
                    sp,
                )
            }
        };
        if non_associative(lvl)
            && let Some(next) = tails.peek()
            && level(next.op()) == lvl
        {
            let ns = next.op_span();
            return Err(Diagnostic::syntax(ns, "a second operator of this kind needs parentheses")
                .with_label(op_span, "the first one")
                .with_help(
                    "KQL allows one comparison (or one string operator) per level: write `(a == b) == c`",
                ));
        }
    }
    Ok(lhs)
}

fn is_keyword(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_and
            | Rule::kw_or
            | Rule::kw_by
            | Rule::kw_on
            | Rule::kw_with
            | Rule::kw_of
            | Rule::kw_to
            | Rule::kw_from
            | Rule::kw_step
            | Rule::kw_in
            | Rule::kw_typeof
            | Rule::kw_limit
            | Rule::kw_default
            | Rule::kw_others
            | Rule::kw_as
            | Rule::kw_where
            | Rule::kw_project
            | Rule::kw_output
            | Rule::kw_declare
            | Rule::kw_extend
            | Rule::kw_project_away
            | Rule::kw_project_keep
            | Rule::kw_project_rename
            | Rule::kw_project_reorder
            | Rule::kw_project_smart
            | Rule::kw_summarize
            | Rule::kw_sort
            | Rule::kw_top
            | Rule::kw_top_nested
            | Rule::kw_top_hitters
            | Rule::kw_take
            | Rule::kw_distinct
            | Rule::kw_count
            | Rule::kw_join
            | Rule::kw_lookup
            | Rule::kw_union
            | Rule::kw_mv_expand
            | Rule::kw_mv_apply
            | Rule::kw_parse
            | Rule::kw_parse_where
            | Rule::kw_parse_kv
            | Rule::kw_make_series
            | Rule::kw_evaluate
            | Rule::kw_render
            | Rule::kw_serialize
            | Rule::kw_search
            | Rule::kw_invoke
            | Rule::kw_getschema
            | Rule::kw_sample
            | Rule::kw_sample_distinct
            | Rule::kw_consume
            | Rule::kw_facet
            | Rule::kw_fork
            | Rule::kw_partition
            | Rule::kw_scan
            | Rule::kw_reduce
            | Rule::kw_assert_schema
            | Rule::assign
    )
}

fn sort_order(p: &Pair<'_, Rule>) -> Result<SortOrder> {
    match p.as_str() {
        "asc" => Ok(SortOrder::Asc),
        "desc" => Ok(SortOrder::Desc),
        other => Err(Diagnostic::syntax(
            span(p),
            format!("sort order `{other}` is only valid in `project-reorder`"),
        )),
    }
}

fn type_name(p: &Pair<'_, Rule>) -> Result<ScalarType> {
    ScalarType::from_name(p.as_str())
        .ok_or_else(|| Diagnostic::syntax(span(p), format!("unknown type `{}`", p.as_str())))
}

// ───────────── literals ─────────────

fn literal(p: Pair<'_, Rule>) -> Result<Literal> {
    let mut it = p.into_inner();
    literal_of(next(&mut it, "literal")?)
}

fn literal_of(p: Pair<'_, Rule>) -> Result<Literal> {
    let sp = span(&p);
    let text = p.as_str();
    match p.as_rule() {
        Rule::bool_lit => Ok(Literal::Bool(Some(text.eq_ignore_ascii_case("true")))),
        Rule::long_lit => text
            .parse::<i64>()
            .map(|v| Literal::Long(Some(v)))
            .map_err(|_| literal_error(sp, format!("the number {text} does not fit in a long"))),
        Rule::hex_lit => u64::from_str_radix(&text[2..], 16)
            .map(|v| Literal::Long(Some(v as i64)))
            .map_err(|_| literal_error(sp, format!("the number {text} does not fit in a long"))),
        Rule::real_lit => parse_real(text, sp).map(|v| Literal::Real(Some(Real(v)))),
        Rule::timespan_lit => parse_timespan_text(text, sp).map(|t| Literal::Timespan(Some(t))),
        Rule::signed_number => {
            let mut it = p.into_inner();
            let n = next(&mut it, "number")?;
            let lit = literal_of(n)?;
            if text.starts_with('-') {
                negate(lit, sp)
            } else {
                Ok(lit)
            }
        }
        Rule::string_lit => Ok(Literal::String(string_value(p)?)),
        Rule::goo_lit => goo_literal(p),
        Rule::dynamic_lit => {
            let mut it = p.into_inner();
            next(&mut it, "dynamic")?;
            Ok(Literal::Dynamic(dynamic_value(next(
                &mut it,
                "dynamic value",
            )?)?))
        }
        _ => Err(unexpected(&p)),
    }
}

fn negate(lit: Literal, sp: Span) -> Result<Literal> {
    Ok(match lit {
        Literal::Long(Some(v)) => Literal::Long(Some(
            v.checked_neg()
                .ok_or_else(|| literal_error(sp, "number out of range"))?,
        )),
        Literal::Real(Some(Real(v))) => Literal::Real(Some(Real(-v))),
        Literal::Timespan(Some(v)) => Literal::Timespan(Some(-v)),
        other => other,
    })
}

fn parse_real(text: &str, sp: Span) -> Result<f64> {
    let t = text.trim();
    match t {
        "nan" | "NaN" => return Ok(f64::NAN),
        "+inf" | "inf" => return Ok(f64::INFINITY),
        "-inf" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    let v: f64 = t
        .parse()
        .map_err(|_| literal_error(sp, format!("`{text}` is not a real number")))?;
    if v.is_infinite() {
        return Err(literal_error(
            sp,
            format!("the number {text} is out of range for real"),
        ));
    }
    Ok(v)
}

const TICKS_PER_DAY: i128 = 864_000_000_000;

/// Nanoseconds per unit for each timespan suffix.
fn suffix_nanos(suffix: &str) -> Option<i128> {
    Some(match suffix {
        "d" | "day" | "days" => 86_400_000_000_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000_000_000,
        "m" | "min" | "minute" | "minutes" => 60_000_000_000,
        "s" | "sec" | "second" | "seconds" => 1_000_000_000,
        "ms" | "milli" | "millis" | "millisec" | "millisecond" | "milliseconds" => 1_000_000,
        "micro" | "micros" | "microsec" | "microsecond" | "microseconds" => 1_000,
        "nano" | "nanos" | "nanosec" | "nanosecond" | "nanoseconds" => 1,
        "tick" | "ticks" => 100,
        _ => return None,
    })
}

/// `12`, `1.5` and a suffix -> ticks (100 ns), truncating below a tick.
fn number_with_unit(number: &str, unit_nanos: i128, sp: Span) -> Result<i64> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let bad = || literal_error(sp, format!("`{number}` is not a valid timespan amount"));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let int: i128 = int.parse().map_err(|_| bad())?;
    let mut nanos = int.checked_mul(unit_nanos).ok_or_else(bad)?;
    if !frac.is_empty() {
        let digits = &frac[..frac.len().min(18)];
        let f: i128 = digits.parse().map_err(|_| bad())?;
        let scale = 10i128.pow(digits.len() as u32);
        nanos += f * unit_nanos / scale;
    }
    let ticks = nanos / 100;
    i64::try_from(ticks).map_err(|_| literal_error(sp, "timespan out of range"))
}

fn parse_timespan_text(text: &str, sp: Span) -> Result<i64> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (num, suffix) = text.split_at(split);
    let unit = suffix_nanos(suffix.trim())
        .ok_or_else(|| literal_error(sp, format!("unknown timespan unit `{suffix}`")))?;
    number_with_unit(num, unit, sp)
}

/// Content of `time(...)` / `timespan(...)`: `1.02:03:04.5`, `00:01:00`,
/// `15 seconds`, `1d`, `2` (days), optionally negative.
fn parse_timespan_goo(body: &str, sp: Span) -> Result<i64> {
    let t = body.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    let bad = || literal_error(sp, format!("`{body}` is not a valid timespan"));
    let ticks: i64 = if t.contains(':') {
        let (days, clock) = match t.split_once(':') {
            Some((head, _)) if head.contains('.') => {
                let (d, _) = head.split_once('.').ok_or_else(bad)?;
                (d.parse::<i128>().map_err(|_| bad())?, &t[d.len() + 1..])
            }
            _ => (0, t),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(bad());
        }
        let h: i128 = parts[0].parse().map_err(|_| bad())?;
        let m: i128 = parts[1].parse().map_err(|_| bad())?;
        let mut ticks = days * TICKS_PER_DAY + h * 36_000_000_000 + m * 600_000_000;
        if let Some(sec) = parts.get(2) {
            ticks += i128::from(number_with_unit(sec, 1_000_000_000, sp)?);
        }
        i64::try_from(ticks).map_err(|_| bad())?
    } else {
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, suffix) = t.split_at(split);
        let suffix = suffix.trim();
        let unit = if suffix.is_empty() {
            86_400_000_000_000
        } else {
            suffix_nanos(suffix).ok_or_else(bad)?
        };
        number_with_unit(num, unit, sp)?
    };
    Ok(if neg { -ticks } else { ticks })
}

fn goo_literal(p: Pair<'_, Rule>) -> Result<Literal> {
    let sp = span(&p);
    let mut it = p.into_inner();
    let kind = next(&mut it, "literal type")?.as_str().to_string();
    let body = next(&mut it, "literal content")?
        .as_str()
        .trim()
        .to_string();
    let is_null = body == "null";
    let bad = |what: &str| literal_error(sp, format!("`{body}` is not a valid {what}"));
    Ok(match kind.as_str() {
        "datetime" | "date" => Literal::DateTime((!is_null).then_some(body.clone())),
        "guid" | "uuid" | "uniqueid" => Literal::Guid((!is_null).then_some(body.clone())),
        "decimal" => Literal::Decimal((!is_null).then_some(body.clone())),
        "bool" => Literal::Bool(match body.to_ascii_lowercase().as_str() {
            "null" => None,
            "true" => Some(true),
            "false" => Some(false),
            _ => return Err(bad("bool")),
        }),
        "long" | "int64" => Literal::Long(if is_null {
            None
        } else {
            Some(parse_integer(&body).ok_or_else(|| bad("long"))?)
        }),
        "int" | "int32" => Literal::Int(if is_null {
            None
        } else {
            let v = parse_integer(&body).ok_or_else(|| bad("int"))?;
            let hex = body
                .trim_start_matches(['-', '+'])
                .trim_start()
                .starts_with("0x");
            match i32::try_from(v) {
                Ok(v) => Some(v),
                // A hex literal states a bit pattern: `int(0xffffffff)` is -1.
                Err(_) if hex => Some(u32::try_from(v).map_err(|_| bad("int"))? as i32),
                Err(_) => return Err(bad("int")),
            }
        }),
        "real" | "double" => Literal::Real(if is_null {
            None
        } else {
            Some(Real(parse_real(&body, sp)?))
        }),
        "time" | "timespan" => Literal::Timespan(if is_null {
            None
        } else {
            Some(parse_timespan_goo(&body, sp)?)
        }),
        _ => return Err(unexpected_text(sp, &kind)),
    })
}

fn unexpected_text(sp: Span, text: &str) -> Diagnostic {
    Diagnostic::syntax(sp, format!("unexpected `{text}`"))
}

fn parse_integer(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v: i128 = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from(u64::from_str_radix(hex, 16).ok()? as i64)
    } else {
        digits.parse().ok()?
    };
    i64::try_from(if neg { -v } else { v }).ok()
}

fn dynamic_value(p: Pair<'_, Rule>) -> Result<Dynamic> {
    Ok(match p.as_rule() {
        Rule::json_null => Dynamic::Null,
        Rule::json_array => {
            Dynamic::Array(p.into_inner().map(dynamic_value).collect::<Result<_>>()?)
        }
        Rule::json_object => {
            let mut members = Vec::new();
            for m in p.into_inner() {
                let mut it = m.into_inner();
                let key = string_value(next(&mut it, "key")?)?.value;
                let value = dynamic_value(next(&mut it, "value")?)?;
                members.push((key, value));
            }
            Dynamic::Object(members)
        }
        _ => Dynamic::Scalar(Box::new(literal_of(p)?)),
    })
}

/// The value of a `string_lit` (one or more adjacent string parts).
fn string_value(p: Pair<'_, Rule>) -> Result<StringLit> {
    let mut value = String::new();
    let mut obfuscated = false;
    for part in p.into_inner() {
        let sp = span(&part);
        let text = part.as_str();
        match part.as_rule() {
            Rule::obfuscated => {
                obfuscated = true;
                decode_part(&text[1..], sp, &mut value)?;
            }
            _ => decode_part(text, sp, &mut value)?,
        }
    }
    Ok(StringLit { value, obfuscated })
}

fn decode_part(text: &str, sp: Span, out: &mut String) -> Result<()> {
    if let Some(rest) = text.strip_prefix('@') {
        if let Some(body) = rest.strip_prefix("```") {
            out.push_str(body.strip_suffix("```").unwrap_or(body));
            return Ok(());
        }
        let q = rest.chars().next().unwrap_or('"');
        let body = &rest[1..rest.len().saturating_sub(1).max(1)];
        let doubled: String = [q, q].iter().collect();
        out.push_str(&body.replace(&doubled, &q.to_string()));
        return Ok(());
    }
    for fence in ["```", "~~~"] {
        if let Some(body) = text.strip_prefix(fence) {
            out.push_str(body.strip_suffix(fence).unwrap_or(body));
            return Ok(());
        }
    }
    if text.len() < 2 {
        return Err(
            Diagnostic::new(codes::STRING, "unterminated string literal").with_label(sp, "here"),
        );
    }
    decode_escapes(&text[1..text.len() - 1], sp, out)
}

fn decode_escapes(body: &str, sp: Span, out: &mut String) -> Result<()> {
    let bad = |what: &str| {
        Diagnostic::new(codes::STRING, format!("invalid escape sequence: {what}"))
            .with_label(sp, "in this string")
    };
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err(bad("`\\` at the end"));
        };
        let ch = match e {
            '\\' => '\\',
            '\'' => '\'',
            '"' => '"',
            'a' => '\u{07}',
            'b' => '\u{08}',
            'f' => '\u{0C}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\u{0B}',
            'u' | 'U' | 'x' => {
                let n = match e {
                    'u' => 4,
                    'U' => 8,
                    _ => 2,
                };
                let hex: String = chars.by_ref().take(n).collect();
                let code =
                    u32::from_str_radix(&hex, 16).map_err(|_| bad(&format!("`\\{e}{hex}`")))?;
                char::from_u32(code)
                    .ok_or_else(|| bad(&format!("`\\{e}{hex}` is not a character")))?
            }
            '0'..='7' => {
                let mut code = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) if code * 8 + d <= 255 => {
                            code = code * 8 + d;
                            chars.next();
                        }
                        _ => break,
                    }
                }
                char::from_u32(code).ok_or_else(|| bad("octal escape"))?
            }
            other => return Err(bad(&format!("`\\{other}`"))),
        };
        out.push(ch);
    }
    Ok(())
}
