//! Canonical KQL text from the AST.
//!
//! Every AST node prints as KQL that the grammar (`kql.pest`) parses back to
//! an equal tree (spans aside): `parse(&script.to_string()) == script`.
//!
//! Layout: statements are joined by `;\n`, each tabular operator of a pipe
//! starts a new line with `| `, nested pipes and bodies are indented by four
//! spaces. Expressions print exactly as the tree says; parentheses are added
//! only where a hand-built tree would otherwise re-parse differently (a parsed
//! tree carries its own [`ExprKind::Paren`] nodes and prints without extras).

use crate::ast::*;
use std::fmt::{self, Formatter};

type R = fmt::Result;

// ───────────────────────────── precedence ─────────────────────────────
//
// Official KQL levels, lowest to highest:
//   1 or, 2 and, 3 equality (== != in !in in~ !in~ has_any has_all between),
//   4 relational (< <= > >=), 5 + -, 6 * / %, 7 string operators (=~ has ...
//   matches regex, :), 8 unary - +, 9 postfix / primary.
// Levels 3, 4 and 7 take at most one operator (non-associative); 1, 2, 5 and
// 6 are left-associative. Level 0 is a pipe or a source operator, which only
// stands where the grammar wants a `pipe_expr`.

/// Where a `pipe_expr` is allowed (parentheses, call arguments, `let`...).
const PIPE: u8 = 0;
/// Where the grammar's `expr` rule is used.
const EXPR: u8 = 1;
const EQUALITY: u8 = 3;
/// Where the grammar wants a `postfix_expr` (unary operand, call callee...).
const POSTFIX: u8 = 9;

fn binary_level(op: BinaryOp) -> u8 {
    use BinaryOp::*;
    match op {
        Or => 1,
        And => 2,
        Eq | NotEq => 3,
        Lt | Le | Gt | Ge => 4,
        Add | Sub => 5,
        Mul | Div | Mod => 6,
        _ => 7,
    }
}

fn non_associative(level: u8) -> bool {
    matches!(level, 3 | 4 | 7)
}

fn expr_level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => binary_level(*op),
        ExprKind::InList { .. } | ExprKind::Between { .. } => EQUALITY,
        ExprKind::Unary { .. } => 8,
        ExprKind::Pipe { .. } => PIPE,
        ExprKind::Source(s) => match s.kind {
            // `datatable` and `externaldata` are primary expressions.
            SourceKind::Datatable { .. } | SourceKind::Externaldata { .. } => POSTFIX,
            _ => PIPE,
        },
        _ => POSTFIX,
    }
}

// ───────────────────────────── lexical helpers ─────────────────────────────

/// The grammar's `reserved` words: never a bare name in expression position.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "by",
    "where",
    "between",
    "in",
    "has_any",
    "has_all",
    "has",
    "hasprefix",
    "hassuffix",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "notcontains",
    "containscs",
    "notcontainscs",
];

const BOOL_WORDS: &[&str] = &["true", "True", "TRUE", "false", "False", "FALSE"];

/// Words that, written immediately before `(`, form a `T(raw)` literal.
const GOO_KINDS: &[&str] = &[
    "datetime", "date", "timespan", "time", "long", "int64", "int32", "int", "real", "double",
    "decimal", "bool", "guid", "uuid", "uniqueid",
];

/// The grammar's `param_name` words (operator parameters `name=value`).
const PARAM_WORDS: &[&str] = &[
    "kind",
    "withsource",
    "with_source",
    "isfuzzy",
    "__isFuzzy",
    "best_effort",
    "bagexpansion",
    "with_itemindex",
    "with_match_id",
    "decodeblocks",
    "flags",
];

/// The grammar's `timespan_suffix` alternatives, in their (PEG) order.
const TIMESPAN_SUFFIXES: &[&str] = &[
    "days",
    "day",
    "d",
    "hours",
    "hour",
    "hrs",
    "hr",
    "h",
    "milliseconds",
    "millisecond",
    "millisec",
    "millis",
    "milli",
    "microseconds",
    "microsecond",
    "microsec",
    "micros",
    "micro",
    "minutes",
    "minute",
    "min",
    "ms",
    "m",
    "nanoseconds",
    "nanosecond",
    "nanosec",
    "nanos",
    "nano",
    "seconds",
    "second",
    "sec",
    "s",
    "ticks",
    "tick",
];

fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The whole text is one `raw_ident` token:
/// `[A-Za-z_$][A-Za-z0-9_]*` or `[0-9]+[A-Za-z_][A-Za-z0-9_]*`.
fn is_raw_ident(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b'$' => {
            b[1..].iter().all(|c| is_id_char(*c))
        }
        Some(c) if c.is_ascii_digit() => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            match b.get(digits) {
                Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                    b[digits + 1..].iter().all(|c| is_id_char(*c))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// A raw identifier that the grammar would read as a literal instead
/// (`true`, `1d`, `1e5`, `0x1F`).
fn lexes_as_literal(s: &str) -> bool {
    if BOOL_WORDS.contains(&s) {
        return true;
    }
    let b = s.as_bytes();
    // hex_lit
    if b.len() > 2
        && b[0] == b'0'
        && (b[1] == b'x' || b[1] == b'X')
        && b[2..].iter().all(u8::is_ascii_hexdigit)
    {
        return true;
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let rest = &s[digits..];
    // timespan_lit: the first suffix alternative that matches must end the word.
    if let Some(suffix) = TIMESPAN_SUFFIXES.iter().find(|x| rest.starts_with(**x))
        && suffix.len() == rest.len()
    {
        return true;
    }
    // real_lit `digits exponent` (a raw identifier holds no `.`, `+` or `-`).
    let rb = rest.as_bytes();
    rb.len() > 1 && (rb[0] == b'e' || rb[0] == b'E') && rb[1..].iter().all(u8::is_ascii_digit)
}

/// A name that may stand bare where an expression starts (the `ident` rule).
fn is_bare_expr_name(s: &str) -> bool {
    is_raw_ident(s) && !RESERVED.contains(&s) && !lexes_as_literal(s)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum NameMode {
    /// The `ident` rule: an expression operand.
    Expr,
    /// The `any_ident` rule: declarations, after `.`, parameter values.
    Any,
    /// A `column_ref` (project-away, project-keep, project-reorder, facet):
    /// the `ident` rule outside expressions, where `1d` or `true` is a name.
    Column,
}

/// Where a literal stands: an expression, a `dynamic(...)` value, or an
/// operator parameter value (these two take signed numbers).
#[derive(Clone, Copy, PartialEq, Eq)]
enum LitCtx {
    Expr,
    Json,
    Param,
}

/// Timespan literal text for a non-negative tick count, in the largest unit
/// that divides it evenly.
fn timespan_text(ticks: u64) -> String {
    const UNITS: &[(u64, &str)] = &[
        (864_000_000_000, "d"),
        (36_000_000_000, "h"),
        (600_000_000, "m"),
        (10_000_000, "s"),
        (10_000, "ms"),
        (10, "microsecond"),
    ];
    if ticks == 0 {
        return "0s".to_string();
    }
    for (size, unit) in UNITS {
        if ticks.is_multiple_of(*size) {
            return format!("{}{unit}", ticks / size);
        }
    }
    format!("{ticks}tick")
}

/// Real literal text for a finite, non-negative value: always holds `.` or an
/// exponent so it reads back as `real`, and round-trips exactly.
fn real_text(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

// ───────────────────────────── the printer ─────────────────────────────

/// What the printer writes right after the leftmost operand of a pipe
/// expression, as far as a source keyword there cares (see [`source_clash`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// Nothing an expression could start with.
    Safe,
    /// `(x)`: a call with one unnamed argument.
    OneArgCall,
    /// `["x"]`: an index by a string literal (reads as a bracketed name).
    StringIndex,
    /// ` + x` / ` - x` with an operand that is not itself signed.
    Sign,
    /// ` * x`: `*` reads as a star operand.
    Star,
    /// A word operator that is not reserved (`has_cs`, `contains_cs`...).
    Word,
}

/// A bare `print`, `union`, `find`, `search` or `evaluate` where a pipe
/// expression starts is read as that source operator when what follows fits
/// its shape; such a name must be bracketed there. (A parsed tree never has
/// such a bare name in such a place, so this never changes a parsed tree.)
fn source_clash(name: &str, follow: Follow) -> bool {
    match name {
        // `print` takes zero or more expressions: it always wins.
        "print" => true,
        "union" | "find" | "search" => follow != Follow::Safe,
        "evaluate" => !matches!(follow, Follow::Safe | Follow::Sign),
        _ => false,
    }
}

fn binary_follow(op: BinaryOp, right: &Expr) -> Follow {
    match op {
        BinaryOp::Add | BinaryOp::Sub if !matches!(right.kind, ExprKind::Unary { .. }) => {
            Follow::Sign
        }
        BinaryOp::Mul => Follow::Star,
        op if is_raw_ident(op.as_str()) && !RESERVED.contains(&op.as_str()) => Follow::Word,
        _ => Follow::Safe,
    }
}

struct Printer<'a, 'b> {
    f: &'a mut Formatter<'b>,
    indent: usize,
    /// Nothing was written since a pipe expression started.
    head: bool,
    /// What follows the leftmost operand being printed (valid while `head`).
    follow: Follow,
}

fn print_with(f: &mut Formatter<'_>, body: impl FnOnce(&mut Printer<'_, '_>) -> R) -> R {
    let mut p = Printer {
        f,
        indent: 0,
        head: false,
        follow: Follow::Safe,
    };
    body(&mut p)
}

impl Printer<'_, '_> {
    fn s(&mut self, s: &str) -> R {
        self.head = false;
        self.f.write_str(s)
    }

    /// A line break followed by the current indentation.
    fn nl(&mut self) -> R {
        self.s("\n")?;
        for _ in 0..self.indent {
            self.s("    ")?;
        }
        Ok(())
    }

    fn nested(&mut self, body: impl FnOnce(&mut Self) -> R) -> R {
        self.indent += 1;
        let r = body(self);
        self.indent -= 1;
        r
    }

    /// Prints `items` separated by `, `.
    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T) -> R) -> R {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.s(", ")?;
            }
            each(self, item)?;
        }
        Ok(())
    }

    // ── names and literals ──

    fn ident(&mut self, id: &Ident, mode: NameMode) -> R {
        let bare = !id.quoted
            && match mode {
                NameMode::Expr => is_bare_expr_name(&id.name),
                NameMode::Any => is_raw_ident(&id.name),
                NameMode::Column => is_raw_ident(&id.name) && !RESERVED.contains(&id.name.as_str()),
            };
        if bare {
            self.s(&id.name)
        } else {
            self.bracketed(&id.name)
        }
    }

    fn bracketed(&mut self, name: &str) -> R {
        self.s("['")?;
        self.escaped(name, '\'')?;
        self.s("']")
    }

    fn escaped(&mut self, text: &str, quote: char) -> R {
        for c in text.chars() {
            match c {
                '\\' => self.s("\\\\")?,
                '\n' => self.s("\\n")?,
                '\r' => self.s("\\r")?,
                '\t' => self.s("\\t")?,
                c if c == quote => {
                    self.s("\\")?;
                    self.f.write_fmt(format_args!("{c}"))?;
                }
                c if c.is_control() => self.f.write_fmt(format_args!("\\u{:04X}", c as u32))?,
                c => self.f.write_fmt(format_args!("{c}"))?,
            }
        }
        Ok(())
    }

    fn string(&mut self, value: &str, obfuscated: bool) -> R {
        self.s(if obfuscated { "h\"" } else { "\"" })?;
        self.escaped(value, '"')?;
        self.s("\"")
    }

    fn goo(&mut self, kind: &str, content: Option<&str>) -> R {
        self.s(kind)?;
        self.s("(")?;
        self.s(content.unwrap_or("null"))?;
        self.s(")")
    }

    fn literal(&mut self, lit: &Literal, ctx: LitCtx) -> R {
        let signed = ctx != LitCtx::Expr;
        match lit {
            Literal::Bool(Some(true)) => self.s("true"),
            Literal::Bool(Some(false)) => self.s("false"),
            Literal::Bool(None) => self.s("bool(null)"),
            Literal::Int(v) => self.goo("int", v.map(|n| n.to_string()).as_deref()),
            Literal::Long(Some(n)) if *n >= 0 || signed => self.s(&n.to_string()),
            Literal::Long(v) => self.goo("long", v.map(|n| n.to_string()).as_deref()),
            Literal::Real(None) => self.s("real(null)"),
            Literal::Real(Some(Real(x))) => {
                let x = *x;
                if x.is_nan() {
                    self.s("real(nan)")
                } else if x.is_infinite() {
                    self.s(if x > 0.0 { "real(+inf)" } else { "real(-inf)" })
                } else if !x.is_sign_negative() {
                    self.s(&real_text(x))
                } else if signed {
                    self.s("-")?;
                    self.s(&real_text(x.abs()))
                } else {
                    self.s("real(-")?;
                    self.s(&real_text(x.abs()))?;
                    self.s(")")
                }
            }
            Literal::Decimal(v) => self.goo("decimal", v.as_deref()),
            Literal::String(s) => self.string(&s.value, s.obfuscated),
            Literal::DateTime(v) => self.goo("datetime", v.as_deref()),
            Literal::Timespan(None) => self.s("timespan(null)"),
            Literal::Timespan(Some(t)) => {
                let text = timespan_text(t.unsigned_abs());
                if *t >= 0 {
                    self.s(&text)
                } else if signed {
                    self.s("-")?;
                    self.s(&text)
                } else {
                    self.s("timespan(-")?;
                    self.s(&text)?;
                    self.s(")")
                }
            }
            Literal::Guid(v) => self.goo("guid", v.as_deref()),
            Literal::Dynamic(d) => {
                self.s("dynamic(")?;
                self.dynamic(d)?;
                self.s(")")
            }
        }
    }

    fn dynamic(&mut self, d: &Dynamic) -> R {
        match d {
            Dynamic::Null => self.s("null"),
            Dynamic::Array(items) => {
                self.s("[")?;
                self.list(items, |p, v| p.dynamic(v))?;
                self.s("]")
            }
            Dynamic::Object(members) => {
                self.s("{")?;
                self.list(members, |p, (k, v)| {
                    p.string(k, false)?;
                    p.s(": ")?;
                    p.dynamic(v)
                })?;
                self.s("}")
            }
            Dynamic::Scalar(lit) => self.literal(lit, LitCtx::Json),
        }
    }

    fn scalar_type(&mut self, ty: ScalarType) -> R {
        self.s(ty.name())
    }

    // ── expressions ──

    /// Prints `e` where the grammar wants level `min` or tighter; `strict`
    /// also parenthesizes an expression of exactly level `min`.
    fn expr_at(&mut self, e: &Expr, min: u8, strict: bool) -> R {
        let level = expr_level(e);
        if level < min || (strict && level == min) {
            self.s("(")?;
            self.nested(|p| p.pipe(e))?;
            self.s(")")
        } else {
            self.expr(e)
        }
    }

    /// An `expr` (no bare pipe).
    fn ex(&mut self, e: &Expr) -> R {
        self.expr_at(e, EXPR, false)
    }

    /// A `pipe_expr`.
    fn pipe(&mut self, e: &Expr) -> R {
        self.head = true;
        self.follow = Follow::Safe;
        self.expr_at(e, PIPE, false)
    }

    /// A `postfix_expr`.
    fn postfix(&mut self, e: &Expr) -> R {
        self.expr_at(e, POSTFIX, false)
    }

    /// Prints `e` itself, without parentheses around it.
    fn expr(&mut self, e: &Expr) -> R {
        match &e.kind {
            ExprKind::Literal(lit) => self.literal(lit, LitCtx::Expr),
            ExprKind::Name(id) => {
                if self.head && !id.quoted && source_clash(&id.name, self.follow) {
                    self.bracketed(&id.name)
                } else {
                    self.ident(id, NameMode::Expr)
                }
            }
            ExprKind::Wildcard(w) => self.s(w),
            ExprKind::Star => self.s("*"),
            ExprKind::Paren(inner) => {
                self.s("(")?;
                self.nested(|p| p.pipe(inner))?;
                self.s(")")
            }
            ExprKind::Unary { op, expr } => {
                self.s(match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                })?;
                self.postfix(expr)
            }
            ExprKind::Binary { .. } => self.binary_chain(e),
            ExprKind::InList { op, expr, list } => {
                self.follow = Follow::Safe;
                self.expr_at(expr, EQUALITY, true)?;
                self.s(" ")?;
                self.s(op.as_str())?;
                self.s(" (")?;
                self.nested(|p| p.list(list, |p, e| p.pipe(e)))?;
                self.s(")")
            }
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                self.follow = Follow::Safe;
                self.expr_at(expr, EQUALITY, true)?;
                self.s(if *negated {
                    " !between ("
                } else {
                    " between ("
                })?;
                self.ex(low)?;
                self.s(" .. ")?;
                self.ex(high)?;
                self.s(")")
            }
            ExprKind::Member { .. } | ExprKind::Index { .. } | ExprKind::Call { .. } => {
                self.postfix_chain(e)
            }
            ExprKind::TypeOf(ty) => {
                self.s("typeof(")?;
                self.scalar_type(*ty)?;
                self.s(")")
            }
            ExprKind::Pipe { input, ops } => {
                self.follow = Follow::Safe;
                match input.kind {
                    ExprKind::Source(_) => self.expr(input)?,
                    _ => self.ex(input)?,
                }
                for op in ops {
                    self.nl()?;
                    self.s("| ")?;
                    self.operator(op)?;
                }
                Ok(())
            }
            ExprKind::Source(src) => self.source(src),
        }
    }

    /// A binary expression. A left-leaning chain at one left-associative
    /// level (`a + b + c ...`, `x and y and ...`) prints in a loop, so long
    /// chains do not deepen the recursion.
    fn binary_chain(&mut self, e: &Expr) -> R {
        let ExprKind::Binary { op, .. } = &e.kind else {
            return self.expr(e);
        };
        let level = binary_level(*op);
        // Walk down the left spine while it stays at this level without
        // needing parentheses.
        let mut tail: Vec<(BinaryOp, &Expr)> = Vec::new();
        let mut node = e;
        while let ExprKind::Binary { op, left, right } = &node.kind {
            if binary_level(*op) != level || (!tail.is_empty() && non_associative(level)) {
                break;
            }
            tail.push((*op, right));
            node = left;
        }
        if let Some((op, right)) = tail.last() {
            self.follow = binary_follow(*op, right);
        }
        self.expr_at(node, level, non_associative(level))?;
        for (op, right) in tail.iter().rev() {
            self.s(" ")?;
            self.s(op.as_str())?;
            self.s(" ")?;
            self.expr_at(right, level, true)?;
        }
        Ok(())
    }

    /// A member, index or call chain (`a.b[0].f(x)`), printed in a loop from
    /// its innermost base outward.
    fn postfix_chain(&mut self, e: &Expr) -> R {
        let mut chain: Vec<&Expr> = Vec::new();
        let mut node = e;
        loop {
            match &node.kind {
                ExprKind::Member { expr, .. } | ExprKind::Index { expr, .. } => {
                    chain.push(node);
                    node = expr;
                }
                ExprKind::Call { callee, .. } => {
                    chain.push(node);
                    node = callee;
                }
                _ => break,
            }
        }
        // What directly follows the base decides whether a bare source
        // keyword there must be bracketed.
        self.follow = match chain.last().map(|n| &n.kind) {
            Some(ExprKind::Index { index, .. })
                if matches!(index.kind, ExprKind::Literal(Literal::String(_))) =>
            {
                Follow::StringIndex
            }
            Some(ExprKind::Call { args, .. })
                if matches!(args.as_slice(), [Arg { name: None, .. }]) =>
            {
                Follow::OneArgCall
            }
            _ => Follow::Safe,
        };
        self.postfix(node)?;
        let mut base = node;
        for link in chain.iter().rev() {
            match &link.kind {
                ExprKind::Member { name, .. } => {
                    // `5.e5` would read as a real: keep a long apart from the dot.
                    if matches!(base.kind, ExprKind::Literal(Literal::Long(Some(n))) if n >= 0) {
                        self.s(" ")?;
                    }
                    self.s(".")?;
                    self.ident(name, NameMode::Any)?;
                }
                ExprKind::Index { index, .. } => {
                    self.s("[")?;
                    self.nested(|p| p.ex(index))?;
                    self.s("]")?;
                }
                ExprKind::Call { args, .. } => {
                    // `datetime(x)` would be a literal; `datetime (x)` is a call.
                    if let ExprKind::Name(id) = &base.kind
                        && !id.quoted
                        && GOO_KINDS.contains(&id.name.as_str())
                    {
                        self.s(" ")?;
                    }
                    self.s("(")?;
                    self.nested(|p| p.list(args, |p, a| p.arg(a)))?;
                    self.s(")")?;
                }
                _ => {}
            }
            base = link;
        }
        Ok(())
    }

    fn arg(&mut self, a: &Arg) -> R {
        if let Some(name) = &a.name {
            self.ident(name, NameMode::Any)?;
            self.s("=")?;
        }
        self.pipe(&a.value)
    }

    /// `expr`, `Name = expr` or `(A, B) = expr`. `guard` brackets a lone
    /// name that would read as an operator parameter (`kind = ...`).
    fn named(&mut self, n: &NamedExpr, guard: bool) -> R {
        match n.names.as_slice() {
            [] => {}
            [name] => {
                if guard && !name.quoted && PARAM_WORDS.contains(&name.name.as_str()) {
                    self.bracketed(&name.name)?;
                } else {
                    self.ident(name, NameMode::Any)?;
                }
                self.s(" = ")?;
            }
            names => {
                self.s("(")?;
                self.list(names, |p, id| p.ident(id, NameMode::Any))?;
                self.s(") = ")?;
            }
        }
        self.ex(&n.expr)
    }

    /// A comma list of named expressions; `guard` applies to the first one,
    /// which directly follows operator parameters.
    fn named_list(&mut self, items: &[NamedExpr], guard: bool) -> R {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.s(", ")?;
            }
            self.named(item, guard && i == 0)?;
        }
        Ok(())
    }

    fn column_decl(&mut self, c: &ColumnDecl) -> R {
        self.ident(&c.name, NameMode::Any)?;
        self.s(":")?;
        self.scalar_type(c.ty)
    }

    fn column_decls(&mut self, cols: &[ColumnDecl]) -> R {
        self.list(cols, |p, c| p.column_decl(c))
    }

    fn param(&mut self, prm: &Param) -> R {
        self.ident(&prm.name, NameMode::Any)?;
        self.s(":")?;
        match &prm.ty {
            ParamType::Scalar(ty) => self.scalar_type(*ty)?,
            ParamType::Tabular { columns, wildcard } => {
                self.s("(")?;
                self.column_decls(columns)?;
                if *wildcard {
                    self.s(if columns.is_empty() { "*" } else { ", *" })?;
                }
                self.s(")")?;
            }
        }
        if let Some(default) = &prm.default {
            self.s(" = ")?;
            self.ex(default)?;
        }
        Ok(())
    }

    fn params(&mut self, ps: &[Param]) -> R {
        self.list(ps, |p, prm| p.param(prm))
    }

    /// ` name=value` for each operator parameter.
    fn op_params(&mut self, ps: &[OpParam]) -> R {
        for prm in ps {
            self.s(" ")?;
            // `param_name` is a fixed word set: no quoting exists for it.
            self.s(&prm.name.name)?;
            self.s("=")?;
            self.param_value(&prm.value)?;
        }
        Ok(())
    }

    /// `param_value`: a bool, a signed number, a string or any word.
    fn param_value(&mut self, e: &Expr) -> R {
        match &e.kind {
            // `true` or `1d` here would read as a literal.
            ExprKind::Name(id) if !id.quoted && lexes_as_literal(&id.name) => {
                self.bracketed(&id.name)
            }
            ExprKind::Name(id) => self.ident(id, NameMode::Any),
            ExprKind::Literal(lit) => self.literal(lit, LitCtx::Param),
            _ => self.ex(e),
        }
    }

    fn property(&mut self, prop: &Property) -> R {
        self.ident(&prop.name, NameMode::Any)?;
        self.s("=")?;
        self.list(&prop.values, |p, v| p.ex(v))
    }

    fn properties(&mut self, props: &[Property]) -> R {
        self.list(props, |p, prop| p.property(prop))
    }

    /// ` with (props)` when there are any.
    fn with_properties(&mut self, props: &[Property]) -> R {
        if props.is_empty() {
            return Ok(());
        }
        self.s(" with (")?;
        self.properties(props)?;
        self.s(")")
    }

    /// `column_ref`: a name, a wildcard or `*`.
    fn column_ref(&mut self, e: &Expr) -> R {
        match &e.kind {
            ExprKind::Name(id) => self.ident(id, NameMode::Column),
            _ => self.ex(e),
        }
    }

    /// `union_table`: a wildcard name or an expression.
    fn table(&mut self, e: &Expr) -> R {
        self.ex(e)
    }

    fn sort_order(&mut self, order: SortOrder) -> R {
        self.s(match order {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        })
    }

    fn sort_key(&mut self, k: &SortKey) -> R {
        self.ex(&k.expr)?;
        if let Some(order) = k.order {
            self.s(" ")?;
            self.sort_order(order)?;
        }
        match k.nulls {
            Some(NullsOrder::First) => self.s(" nulls first"),
            Some(NullsOrder::Last) => self.s(" nulls last"),
            None => Ok(()),
        }
    }

    fn expand_item(&mut self, item: &ExpandItem, guard: bool) -> R {
        if let Some(name) = &item.name {
            if guard && !name.quoted && PARAM_WORDS.contains(&name.name.as_str()) {
                self.bracketed(&name.name)?;
            } else {
                self.ident(name, NameMode::Any)?;
            }
            self.s(" = ")?;
        }
        self.ex(&item.expr)?;
        if let Some(ty) = item.to_type {
            self.s(" to typeof(")?;
            self.scalar_type(ty)?;
            self.s(")")?;
        }
        Ok(())
    }

    fn expand_items(&mut self, items: &[ExpandItem], limit: &Option<Expr>) -> R {
        for (i, item) in items.iter().enumerate() {
            self.s(if i == 0 { " " } else { ", " })?;
            self.expand_item(item, i == 0)?;
        }
        if let Some(limit) = limit {
            self.s(" limit ")?;
            self.ex(limit)?;
        }
        Ok(())
    }

    fn parse_pattern(&mut self, parts: &[ParsePart]) -> R {
        for (i, part) in parts.iter().enumerate() {
            // Adjacent string literals would merge into one: split them with `,`.
            let both_text = i > 0
                && matches!(part, ParsePart::Text(_))
                && matches!(parts[i - 1], ParsePart::Text(_));
            self.s(if both_text { ", " } else { " " })?;
            match part {
                ParsePart::Text(e) => self.ex(e)?,
                ParsePart::Star => self.s("*")?,
                ParsePart::Column { name, ty } => {
                    self.ident(name, NameMode::Any)?;
                    if let Some(ty) = ty {
                        self.s(":")?;
                        self.scalar_type(*ty)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `(op | op ...)`: operators without a source.
    fn sub_ops(&mut self, ops: &[Operator]) -> R {
        self.s("(")?;
        self.nested(|p| {
            for (i, op) in ops.iter().enumerate() {
                if i > 0 {
                    p.nl()?;
                    p.s("| ")?;
                }
                p.operator(op)?;
            }
            Ok(())
        })?;
        self.s(")")
    }

    // ── tabular operators ──

    fn operator(&mut self, op: &Operator) -> R {
        let kind = &op.kind;
        self.s(kind.name())?;
        match kind {
            OperatorKind::Where { params, predicate } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.ex(predicate)
            }
            OperatorKind::Extend(items)
            | OperatorKind::Project(items)
            | OperatorKind::Serialize(items) => {
                if !items.is_empty() {
                    self.s(" ")?;
                    self.named_list(items, false)?;
                }
                Ok(())
            }
            OperatorKind::ProjectAway(cols) | OperatorKind::ProjectKeep(cols) => {
                self.s(" ")?;
                self.list(cols, |p, c| p.column_ref(c))
            }
            OperatorKind::ProjectRename(pairs) => {
                self.s(" ")?;
                self.list(pairs, |p, (new, old)| {
                    p.ident(new, NameMode::Any)?;
                    p.s(" = ")?;
                    // The old name is read as an expression.
                    p.ident(old, NameMode::Expr)
                })
            }
            OperatorKind::ProjectReorder(keys) => {
                self.s(" ")?;
                self.list(keys, |p, k| {
                    p.column_ref(&k.column)?;
                    if let Some(order) = &k.order {
                        p.s(" ")?;
                        p.s(order)?;
                    }
                    Ok(())
                })
            }
            OperatorKind::Summarize {
                params,
                aggregates,
                by,
            } => {
                self.op_params(params)?;
                if !aggregates.is_empty() {
                    self.s(" ")?;
                    self.named_list(aggregates, true)?;
                }
                if !by.is_empty() {
                    self.s(" by ")?;
                    self.named_list(by, false)?;
                }
                Ok(())
            }
            OperatorKind::Sort { params, keys } => {
                self.op_params(params)?;
                self.s(" by ")?;
                self.list(keys, |p, k| p.sort_key(k))
            }
            OperatorKind::Top { params, count, key } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.ex(count)?;
                self.s(" by ")?;
                self.sort_key(key)
            }
            OperatorKind::TopNested(levels) => {
                for (i, level) in levels.iter().enumerate() {
                    if i > 0 {
                        self.s(", top-nested")?;
                    }
                    if let Some(count) = &level.count {
                        self.s(" ")?;
                        self.ex(count)?;
                    }
                    self.s(" of ")?;
                    self.named(&level.of, false)?;
                    if let Some(others) = &level.others {
                        self.s(" with others = ")?;
                        self.named(others, false)?;
                    }
                    self.s(" by ")?;
                    self.named(&level.by, false)?;
                    if let Some(order) = level.order {
                        self.s(" ")?;
                        self.sort_order(order)?;
                    }
                }
                Ok(())
            }
            OperatorKind::TopHitters { count, of, by } => {
                self.s(" ")?;
                self.ex(count)?;
                self.s(" of ")?;
                self.ex(of)?;
                if let Some(by) = by {
                    self.s(" by ")?;
                    self.ex(by)?;
                }
                Ok(())
            }
            OperatorKind::Take { params, count } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.ex(count)
            }
            OperatorKind::Distinct { params, columns } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.named_list(columns, true)
            }
            OperatorKind::Count | OperatorKind::GetSchema | OperatorKind::ProjectSmart => Ok(()),
            OperatorKind::Join { params, right, on }
            | OperatorKind::Lookup { params, right, on } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.ex(right)?;
                if !on.is_empty() {
                    self.s(" on ")?;
                    self.list(on, |p, e| p.ex(e))?;
                }
                Ok(())
            }
            OperatorKind::Union { params, tables } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.list(tables, |p, t| p.table(t))
            }
            OperatorKind::MvExpand {
                params,
                items,
                limit,
            } => {
                self.op_params(params)?;
                self.expand_items(items, limit)
            }
            OperatorKind::MvApply {
                params,
                items,
                limit,
                body,
            } => {
                self.op_params(params)?;
                self.expand_items(items, limit)?;
                self.s(" on ")?;
                self.sub_ops(body)
            }
            OperatorKind::Parse {
                params,
                expr,
                pattern,
            }
            | OperatorKind::ParseWhere {
                params,
                expr,
                pattern,
            } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.ex(expr)?;
                self.s(" with")?;
                self.parse_pattern(pattern)
            }
            OperatorKind::ParseKv {
                expr,
                columns,
                properties,
            } => {
                self.s(" ")?;
                self.ex(expr)?;
                self.s(" as (")?;
                self.column_decls(columns)?;
                self.s(")")?;
                self.with_properties(properties)
            }
            OperatorKind::MakeSeries {
                params,
                aggregates,
                on,
                range,
                by,
            } => {
                self.op_params(params)?;
                for (i, agg) in aggregates.iter().enumerate() {
                    self.s(if i == 0 { " " } else { ", " })?;
                    self.named(&agg.agg, i == 0)?;
                    if let Some(default) = &agg.default {
                        self.s(" default = ")?;
                        self.ex(default)?;
                    }
                }
                self.s(" on ")?;
                self.ex(on)?;
                match range {
                    SeriesRange::FromTo { from, to, step } => {
                        if let Some(from) = from {
                            self.s(" from ")?;
                            self.ex(from)?;
                        }
                        if let Some(to) = to {
                            self.s(" to ")?;
                            self.ex(to)?;
                        }
                        self.s(" step ")?;
                        self.ex(step)?;
                    }
                    SeriesRange::InRange(e) => {
                        self.s(" in ")?;
                        self.postfix(e)?;
                    }
                }
                if !by.is_empty() {
                    self.s(" by ")?;
                    self.named_list(by, false)?;
                }
                Ok(())
            }
            OperatorKind::Evaluate {
                params,
                call,
                schema,
            } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.postfix(call)?;
                if let Some(schema) = schema {
                    self.s(" : (")?;
                    if schema.star {
                        self.s("*")?;
                        if !schema.columns.is_empty() {
                            self.s(", ")?;
                        }
                    }
                    self.column_decls(&schema.columns)?;
                    self.s(")")?;
                }
                Ok(())
            }
            OperatorKind::Render { chart, properties } => {
                self.s(" ")?;
                self.ident(chart, NameMode::Any)?;
                self.with_properties(properties)
            }
            OperatorKind::As { params, name } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.ident(name, NameMode::Any)
            }
            OperatorKind::Search { params, predicate } => {
                self.op_params(params)?;
                self.s(" ")?;
                self.ex(predicate)
            }
            OperatorKind::Invoke(call) => {
                self.s(" ")?;
                self.postfix(call)
            }
            OperatorKind::Sample(count) => {
                self.s(" ")?;
                self.ex(count)
            }
            OperatorKind::SampleDistinct { count, of } => {
                self.s(" ")?;
                self.ex(count)?;
                self.s(" of ")?;
                self.ex(of)
            }
            OperatorKind::Consume(params) => self.op_params(params),
            OperatorKind::Facet { columns, with } => {
                self.s(" by ")?;
                self.list(columns, |p, c| p.column_ref(c))?;
                if let Some(ops) = with {
                    self.s(" with ")?;
                    self.sub_ops(ops)?;
                }
                Ok(())
            }
            OperatorKind::Fork(branches) => {
                for branch in branches {
                    self.s(" ")?;
                    if let Some(name) = &branch.name {
                        self.ident(name, NameMode::Any)?;
                        self.s("=")?;
                    }
                    self.sub_ops(&branch.ops)?;
                }
                Ok(())
            }
            OperatorKind::Partition { params, by, body } => {
                self.op_params(params)?;
                self.s(" by ")?;
                self.ex(by)?;
                self.s(" ")?;
                match body {
                    PartitionBody::Ops(ops) => self.sub_ops(ops),
                    PartitionBody::Query(q) => {
                        self.s("{")?;
                        self.nested(|p| {
                            p.nl()?;
                            p.pipe(q)
                        })?;
                        self.nl()?;
                        self.s("}")
                    }
                }
            }
            OperatorKind::Scan {
                params,
                declare,
                steps,
            } => {
                self.op_params(params)?;
                if !declare.is_empty() {
                    self.s(" declare (")?;
                    self.params(declare)?;
                    self.s(")")?;
                }
                self.s(" with (")?;
                self.nested(|p| {
                    for step in steps {
                        p.nl()?;
                        p.scan_step(step)?;
                    }
                    Ok(())
                })?;
                self.nl()?;
                self.s(")")
            }
            OperatorKind::Reduce {
                params,
                by,
                properties,
            } => {
                self.op_params(params)?;
                self.s(" by ")?;
                self.ex(by)?;
                if !properties.is_empty() {
                    self.s(" with ")?;
                    self.properties(properties)?;
                }
                Ok(())
            }
            OperatorKind::Assert(args) => {
                // The grammar takes column declarations; an argument
                // `name = typeof(T)` prints as `name:T`.
                self.s(" (")?;
                self.list(args, |p, a| match (&a.name, &a.value.kind) {
                    (Some(name), ExprKind::TypeOf(ty)) => {
                        p.ident(name, NameMode::Any)?;
                        p.s(":")?;
                        p.scalar_type(*ty)
                    }
                    _ => p.arg(a),
                })?;
                self.s(")")
            }
        }
    }

    fn scan_step(&mut self, step: &ScanStep) -> R {
        self.s("step ")?;
        self.ident(&step.name, NameMode::Any)?;
        if let Some(output) = &step.output {
            self.s(" output=")?;
            self.ident(output, NameMode::Any)?;
        }
        self.s(": ")?;
        self.ex(&step.predicate)?;
        if !step.assignments.is_empty() {
            self.s(" => ")?;
            self.named_list(&step.assignments, false)?;
        }
        self.s(";")
    }

    // ── source operators ──

    fn in_tables(&mut self, tables: &Option<Vec<Expr>>) -> R {
        match tables {
            Some(tables) if !tables.is_empty() => {
                self.s(" in (")?;
                self.list(tables, |p, t| p.table(t))?;
                self.s(")")
            }
            _ => Ok(()),
        }
    }

    fn source(&mut self, src: &Source) -> R {
        match &src.kind {
            SourceKind::Datatable { columns, values } => {
                self.s("datatable(")?;
                self.column_decls(columns)?;
                self.s(") [")?;
                let width = columns.len();
                if width > 0 && values.len() > width {
                    // One row per line.
                    self.nested(|p| {
                        for (i, row) in values.chunks(width).enumerate() {
                            if i > 0 {
                                p.s(",")?;
                            }
                            p.nl()?;
                            p.list(row, |p, v| p.ex(v))?;
                        }
                        Ok(())
                    })?;
                    self.nl()?;
                } else {
                    self.list(values, |p, v| p.ex(v))?;
                }
                self.s("]")
            }
            SourceKind::Externaldata {
                columns,
                uris,
                properties,
            } => {
                self.s("externaldata(")?;
                self.column_decls(columns)?;
                self.s(") [")?;
                self.list(uris, |p, u| p.ex(u))?;
                self.s("]")?;
                self.with_properties(properties)
            }
            SourceKind::Print(items) => {
                self.s("print")?;
                if !items.is_empty() {
                    self.s(" ")?;
                    self.named_list(items, false)?;
                }
                Ok(())
            }
            SourceKind::Range {
                name,
                from,
                to,
                step,
            } => {
                self.s("range ")?;
                self.ident(name, NameMode::Any)?;
                self.s(" from ")?;
                self.ex(from)?;
                self.s(" to ")?;
                self.ex(to)?;
                self.s(" step ")?;
                self.ex(step)
            }
            SourceKind::Union { params, tables } => {
                self.s("union")?;
                self.op_params(params)?;
                self.s(" ")?;
                self.list(tables, |p, t| p.table(t))
            }
            SourceKind::Find {
                params,
                tables,
                predicate,
                project,
            } => {
                self.s("find")?;
                self.op_params(params)?;
                self.in_tables(tables)?;
                self.s(" where ")?;
                self.ex(predicate)?;
                match project {
                    None => Ok(()),
                    Some(FindProject::Smart) => self.s(" project-smart"),
                    Some(FindProject::Columns(cols)) => {
                        self.s(" project ")?;
                        self.list(cols, |p, c| p.find_column(c))
                    }
                }
            }
            SourceKind::Search {
                params,
                tables,
                predicate,
            } => {
                self.s("search")?;
                self.op_params(params)?;
                self.in_tables(tables)?;
                self.s(" ")?;
                self.ex(predicate)
            }
            SourceKind::Evaluate { params, call } => {
                self.s("evaluate")?;
                self.op_params(params)?;
                self.s(" ")?;
                self.postfix(call)
            }
        }
    }

    /// `find ... project` column: `name`, `name:type` (parsed as
    /// `name : typeof(type)`) or a postfix expression such as `pack_all()`.
    fn find_column(&mut self, c: &Expr) -> R {
        match &c.kind {
            ExprKind::Name(id) => self.ident(id, NameMode::Any),
            ExprKind::Binary {
                op: BinaryOp::SearchHas,
                left,
                right,
            } => match (&left.kind, &right.kind) {
                (ExprKind::Name(id), ExprKind::TypeOf(ty)) => {
                    self.ident(id, NameMode::Any)?;
                    self.s(":")?;
                    self.scalar_type(*ty)
                }
                _ => self.postfix(c),
            },
            _ => self.postfix(c),
        }
    }

    // ── statements ──

    fn statement(&mut self, st: &Statement) -> R {
        match &st.kind {
            StatementKind::Let(LetStatement { name, value }) => {
                self.s("let ")?;
                self.ident(name, NameMode::Any)?;
                self.s(" = ")?;
                match value {
                    LetValue::Expr(e) => self.pipe(e),
                    LetValue::Function(def) => self.function(def),
                }
            }
            StatementKind::Set(SetStatement { name, value }) => {
                self.s("set ")?;
                self.s(name)?;
                if let Some(value) = value {
                    self.s(" = ")?;
                    self.ex(value)?;
                }
                Ok(())
            }
            StatementKind::DeclareQueryParameters(params) => {
                self.s("declare query_parameters(")?;
                self.params(params)?;
                self.s(")")
            }
            StatementKind::AliasDatabase { name, value } => {
                self.s("alias database ")?;
                self.ident(name, NameMode::Any)?;
                self.s(" = ")?;
                self.ex(value)
            }
            StatementKind::DeclarePattern { name, raw } => {
                self.s("declare pattern ")?;
                self.ident(name, NameMode::Any)?;
                if !raw.is_empty() {
                    self.s(" ")?;
                    self.s(raw)?;
                }
                Ok(())
            }
            StatementKind::Query(e) => self.pipe(e),
        }
    }

    fn function(&mut self, def: &FunctionDef) -> R {
        if def.view {
            self.s("view ")?;
        }
        self.s("(")?;
        self.params(&def.params)?;
        self.s(") {")?;
        self.nested(|p| {
            for (i, st) in def.body.iter().enumerate() {
                if i > 0 {
                    p.s(";")?;
                }
                p.nl()?;
                p.statement(st)?;
            }
            Ok(())
        })?;
        self.nl()?;
        self.s("}")
    }

    fn script(&mut self, script: &Script) -> R {
        for (i, st) in script.statements.iter().enumerate() {
            if i > 0 {
                self.s(";\n")?;
            }
            self.statement(st)?;
        }
        Ok(())
    }
}

// ───────────────────────────── Display impls ─────────────────────────────

macro_rules! display_via {
    ($($ty:ty => |$p:ident, $v:ident| $body:expr;)*) => {
        $(
            impl fmt::Display for $ty {
                fn fmt(&self, f: &mut Formatter<'_>) -> R {
                    let $v = self;
                    print_with(f, |$p| $body)
                }
            }
        )*
    };
}

display_via! {
    Script => |p, v| p.script(v);
    Statement => |p, v| p.statement(v);
    FunctionDef => |p, v| p.function(v);
    Param => |p, v| p.param(v);
    ColumnDecl => |p, v| p.column_decl(v);
    Expr => |p, v| p.pipe(v);
    Arg => |p, v| p.arg(v);
    NamedExpr => |p, v| p.named(v, false);
    SortKey => |p, v| p.sort_key(v);
    OpParam => |p, v| {
        p.s(&v.name.name)?;
        p.s("=")?;
        p.param_value(&v.value)
    };
    Property => |p, v| p.property(v);
    Operator => |p, v| p.operator(v);
    Source => |p, v| p.source(v);
    Literal => |p, v| p.literal(v, LitCtx::Expr);
    StringLit => |p, v| p.string(&v.value, v.obfuscated);
    Dynamic => |p, v| p.dynamic(v);
    Ident => |p, v| p.ident(v, NameMode::Expr);
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut Formatter<'_>) -> R {
        f.write_str(self.name())
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> R {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ListOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> R {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for UnaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> R {
        f.write_str(match self {
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
        })
    }
}

impl fmt::Display for SortOrder {
    fn fmt(&self, f: &mut Formatter<'_>) -> R {
        f.write_str(match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn e(kind: ExprKind) -> Expr {
        Expr::new(kind, Span::default())
    }
    fn id(s: &str) -> Ident {
        Ident::new(s, Span::default())
    }
    fn quoted(s: &str) -> Ident {
        Ident {
            quoted: true,
            ..id(s)
        }
    }
    fn name(s: &str) -> Expr {
        e(ExprKind::Name(id(s)))
    }
    fn lit(l: Literal) -> Expr {
        e(ExprKind::Literal(l))
    }
    fn long(n: i64) -> Expr {
        lit(Literal::Long(Some(n)))
    }
    fn real(x: f64) -> Literal {
        Literal::Real(Some(Real(x)))
    }
    fn str_lit(s: &str) -> Expr {
        lit(Literal::String(StringLit {
            value: s.to_string(),
            obfuscated: false,
        }))
    }
    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        e(ExprKind::Binary {
            op,
            left: Box::new(l),
            right: Box::new(r),
        })
    }
    fn neg(x: Expr) -> Expr {
        e(ExprKind::Unary {
            op: UnaryOp::Neg,
            expr: Box::new(x),
        })
    }
    fn paren(x: Expr) -> Expr {
        e(ExprKind::Paren(Box::new(x)))
    }
    fn call(f: &str, args: Vec<Expr>) -> Expr {
        e(ExprKind::Call {
            callee: Box::new(name(f)),
            args: args
                .into_iter()
                .map(|value| Arg { name: None, value })
                .collect(),
        })
    }
    fn named(n: Option<&str>, x: Expr) -> NamedExpr {
        NamedExpr {
            names: n.into_iter().map(id).collect(),
            expr: x,
            span: Span::default(),
        }
    }
    fn op(kind: OperatorKind) -> Operator {
        Operator {
            kind,
            span: Span::default(),
        }
    }
    fn pipe(input: Expr, ops: Vec<OperatorKind>) -> Expr {
        e(ExprKind::Pipe {
            input: Box::new(input),
            ops: ops.into_iter().map(op).collect(),
        })
    }
    fn param(n: &str, v: Expr) -> OpParam {
        OpParam {
            name: id(n),
            value: v,
        }
    }
    fn stmt(kind: StatementKind) -> Statement {
        Statement {
            kind,
            span: Span::default(),
        }
    }
    fn col(n: &str, ty: ScalarType) -> ColumnDecl {
        ColumnDecl {
            name: id(n),
            ty,
            span: Span::default(),
        }
    }
    fn show(x: &impl fmt::Display) -> String {
        x.to_string()
    }

    use BinaryOp::*;

    #[test]
    fn precedence_adds_needed_parentheses() {
        let (a, b, c) = (name("a"), name("b"), name("c"));
        let sum = bin(Add, a.clone(), b.clone());
        assert_eq!(show(&bin(Mul, sum.clone(), c.clone())), "(a + b) * c");
        assert_eq!(
            show(&bin(Add, a.clone(), bin(Mul, b.clone(), c.clone()))),
            "a + b * c"
        );
        // Left-associative levels: parentheses only on the right.
        assert_eq!(
            show(&bin(Sub, bin(Sub, a.clone(), b.clone()), c.clone())),
            "a - b - c"
        );
        assert_eq!(
            show(&bin(Sub, a.clone(), bin(Sub, b.clone(), c.clone()))),
            "a - (b - c)"
        );
        assert_eq!(
            show(&bin(And, a.clone(), bin(Or, b.clone(), c.clone()))),
            "a and (b or c)"
        );
        assert_eq!(
            show(&bin(Or, a.clone(), bin(And, b.clone(), c.clone()))),
            "a or b and c"
        );
        // Non-associative levels: both sides.
        let eq = bin(Eq, a.clone(), b.clone());
        assert_eq!(show(&bin(Eq, eq.clone(), c.clone())), "(a == b) == c");
        assert_eq!(show(&bin(Eq, c.clone(), eq.clone())), "c == (a == b)");
        assert_eq!(
            show(&bin(Eq, bin(Lt, a.clone(), b.clone()), c.clone())),
            "a < b == c"
        );
        assert_eq!(show(&bin(Lt, eq.clone(), c.clone())), "(a == b) < c");
        let has = bin(Has, b.clone(), c.clone());
        assert_eq!(show(&bin(Has, has.clone(), a.clone())), "(b has c) has a");
        // String operators bind tighter than arithmetic.
        assert_eq!(show(&bin(Mul, a.clone(), has.clone())), "a * b has c");
        assert_eq!(
            show(&bin(Has, bin(Mul, a.clone(), b.clone()), c.clone())),
            "(a * b) has c"
        );
        assert_eq!(
            show(&bin(MatchesRegex, a.clone(), str_lit("x"))),
            "a matches regex \"x\""
        );
        // Unary operands are postfix expressions.
        assert_eq!(show(&neg(sum.clone())), "-(a + b)");
        assert_eq!(show(&bin(Sub, a.clone(), neg(b.clone()))), "a - -b");
        assert_eq!(show(&neg(neg(a.clone()))), "-(-a)");
        // A parsed tree's own parentheses print once.
        assert_eq!(
            show(&bin(Mul, paren(sum.clone()), c.clone())),
            "(a + b) * c"
        );
    }

    #[test]
    fn list_and_between_sit_at_the_equality_level() {
        let inlist = e(ExprKind::InList {
            op: ListOp::NotInCi,
            expr: Box::new(bin(Add, name("a"), long(1))),
            list: vec![str_lit("x"), long(2)],
        });
        assert_eq!(show(&inlist), "a + 1 !in~ (\"x\", 2)");
        assert_eq!(
            show(&bin(Eq, inlist.clone(), lit(Literal::Bool(Some(true))))),
            "(a + 1 !in~ (\"x\", 2)) == true"
        );
        assert_eq!(
            show(&bin(And, inlist, name("b"))),
            "a + 1 !in~ (\"x\", 2) and b"
        );
        let between = e(ExprKind::Between {
            negated: false,
            expr: Box::new(name("x")),
            low: Box::new(long(1)),
            high: Box::new(bin(Add, long(2), long(3))),
        });
        assert_eq!(show(&between), "x between (1 .. 2 + 3)");
        let sub = pipe(
            name("T"),
            vec![OperatorKind::Take {
                params: vec![],
                count: long(1),
            }],
        );
        let in_query = e(ExprKind::InList {
            op: ListOp::In,
            expr: Box::new(name("x")),
            list: vec![sub],
        });
        assert_eq!(show(&in_query), "x in (T\n    | take 1)");
    }

    #[test]
    fn names_are_bracketed_when_needed() {
        assert_eq!(show(&name("Col_1")), "Col_1");
        assert_eq!(show(&name("$left")), "$left");
        assert_eq!(show(&name("2w")), "2w");
        assert_eq!(show(&name("1mins")), "1mins");
        assert_eq!(show(&name("a b")), "['a b']");
        assert_eq!(show(&name("it's")), "['it\\'s']");
        assert_eq!(show(&name("where")), "['where']");
        assert_eq!(show(&name("has_any")), "['has_any']");
        assert_eq!(show(&name("1d")), "['1d']");
        assert_eq!(show(&name("1microsecond")), "['1microsecond']");
        assert_eq!(show(&name("1e5")), "['1e5']");
        assert_eq!(show(&name("0x1F")), "['0x1F']");
        assert_eq!(show(&name("true")), "['true']");
        assert_eq!(show(&name("a-b")), "['a-b']");
        assert_eq!(show(&name("")), "['']");
        assert_eq!(show(&e(ExprKind::Name(quoted("x")))), "['x']");
        // After `.`, any word is fine.
        let member = |n: &str| {
            e(ExprKind::Member {
                expr: Box::new(name("x")),
                name: id(n),
            })
        };
        assert_eq!(show(&member("where")), "x.where");
        assert_eq!(show(&member("1d")), "x.1d");
        assert_eq!(show(&member("a b")), "x.['a b']");
        // `datetime(x)` would be a literal: the call keeps a space.
        assert_eq!(show(&call("datetime", vec![name("x")])), "datetime (x)");
        assert_eq!(
            show(&call(
                "ago",
                vec![lit(Literal::Timespan(Some(864_000_000_000)))]
            )),
            "ago(1d)"
        );
        // A name that would read as an operator parameter is bracketed.
        let summarize = op(OperatorKind::Summarize {
            params: vec![],
            aggregates: vec![named(Some("kind"), call("count", vec![]))],
            by: vec![named(Some("kind"), name("x"))],
        });
        assert_eq!(show(&summarize), "summarize ['kind'] = count() by kind = x");
    }

    #[test]
    fn strings_are_escaped() {
        let s = str_lit("a\"b\\c\nd\re\tf\u{1}g'h");
        assert_eq!(show(&s), r#""a\"b\\c\nd\re\tf\u0001g'h""#);
        let h = lit(Literal::String(StringLit {
            value: "secret".into(),
            obfuscated: true,
        }));
        assert_eq!(show(&h), "h\"secret\"");
    }

    #[test]
    fn literal_forms() {
        let cases: Vec<(Literal, &str)> = vec![
            (Literal::Bool(Some(true)), "true"),
            (Literal::Bool(None), "bool(null)"),
            (Literal::Int(Some(5)), "int(5)"),
            (Literal::Int(Some(-5)), "int(-5)"),
            (Literal::Int(None), "int(null)"),
            (Literal::Long(Some(42)), "42"),
            (Literal::Long(Some(-5)), "long(-5)"),
            (Literal::Long(Some(i64::MIN)), "long(-9223372036854775808)"),
            (Literal::Long(None), "long(null)"),
            (real(1.0), "1.0"),
            (real(1.5), "1.5"),
            (real(0.0), "0.0"),
            (real(1e300), "1e300"),
            (real(1.5e-7), "1.5e-7"),
            (real(-0.5), "real(-0.5)"),
            (real(-0.0), "real(-0.0)"),
            (real(f64::NAN), "real(nan)"),
            (real(f64::INFINITY), "real(+inf)"),
            (real(f64::NEG_INFINITY), "real(-inf)"),
            (Literal::Real(None), "real(null)"),
            (Literal::Decimal(Some("1.50".into())), "decimal(1.50)"),
            (
                Literal::DateTime(Some("2020-01-01 10:00".into())),
                "datetime(2020-01-01 10:00)",
            ),
            (Literal::DateTime(None), "datetime(null)"),
            (Literal::Guid(None), "guid(null)"),
            (Literal::Timespan(Some(0)), "0s"),
            (Literal::Timespan(Some(864_000_000_000)), "1d"),
            (Literal::Timespan(Some(2 * 36_000_000_000)), "2h"),
            (Literal::Timespan(Some(90 * 600_000_000)), "90m"),
            (Literal::Timespan(Some(15_000_000)), "1500ms"),
            (Literal::Timespan(Some(1_230)), "123microsecond"),
            (Literal::Timespan(Some(15)), "15tick"),
            (Literal::Timespan(Some(-864_000_000_000)), "timespan(-1d)"),
            (
                Literal::Timespan(Some(i64::MIN)),
                "timespan(-9223372036854775808tick)",
            ),
            (Literal::Timespan(None), "timespan(null)"),
        ];
        for (l, text) in cases {
            assert_eq!(show(&l), text, "{l:?}");
        }
    }

    #[test]
    fn dynamic_values() {
        let d = Literal::Dynamic(Dynamic::Object(vec![
            (
                "a\"k".into(),
                Dynamic::Array(vec![
                    Dynamic::Scalar(Box::new(Literal::Long(Some(-1)))),
                    Dynamic::Scalar(Box::new(real(-2.5))),
                    Dynamic::Null,
                    Dynamic::Scalar(Box::new(Literal::Timespan(Some(36_000_000_000)))),
                ]),
            ),
            (
                "b".into(),
                Dynamic::Scalar(Box::new(Literal::Bool(Some(false)))),
            ),
            ("c".into(), Dynamic::Object(vec![])),
        ]));
        assert_eq!(
            show(&d),
            r#"dynamic({"a\"k": [-1, -2.5, null, 1h], "b": false, "c": {}})"#
        );
        assert_eq!(show(&Literal::Dynamic(Dynamic::Null)), "dynamic(null)");
    }

    #[test]
    fn pipes_and_operators() {
        let q = pipe(
            name("T"),
            vec![
                OperatorKind::Where {
                    params: vec![],
                    predicate: bin(Gt, name("x"), long(1)),
                },
                OperatorKind::Join {
                    params: vec![
                        param("kind", name("inner")),
                        param("hint.strategy", name("shuffle")),
                    ],
                    right: paren(pipe(
                        name("U"),
                        vec![OperatorKind::Project(vec![
                            named(None, name("a")),
                            named(Some("b"), long(2)),
                        ])],
                    )),
                    on: vec![name("a"), name("b")],
                },
                OperatorKind::Summarize {
                    params: vec![param("hint.num_partitions", long(-4))],
                    aggregates: vec![named(Some("n"), call("count", vec![]))],
                    by: vec![named(
                        None,
                        call(
                            "bin",
                            vec![name("t"), lit(Literal::Timespan(Some(36_000_000_000)))],
                        ),
                    )],
                },
                OperatorKind::Sort {
                    params: vec![],
                    keys: vec![
                        SortKey {
                            expr: name("n"),
                            order: Some(SortOrder::Desc),
                            nulls: Some(NullsOrder::Last),
                        },
                        SortKey {
                            expr: name("a"),
                            order: None,
                            nulls: None,
                        },
                    ],
                },
                OperatorKind::Top {
                    params: vec![],
                    count: long(10),
                    key: SortKey {
                        expr: name("n"),
                        order: Some(SortOrder::Asc),
                        nulls: Some(NullsOrder::First),
                    },
                },
                OperatorKind::Render {
                    chart: id("timechart"),
                    properties: vec![
                        Property {
                            name: id("title"),
                            values: vec![str_lit("x")],
                        },
                        Property {
                            name: id("ycolumns"),
                            values: vec![name("a"), name("b")],
                        },
                    ],
                },
            ],
        );
        assert_eq!(
            show(&q),
            "T\n\
             | where x > 1\n\
             | join kind=inner hint.strategy=shuffle (U\n    | project a, b = 2) on a, b\n\
             | summarize hint.num_partitions=-4 n = count() by bin(t, 1h)\n\
             | sort by n desc nulls last, a\n\
             | top 10 by n asc nulls first\n\
             | render timechart with (title=\"x\", ycolumns=a, b)"
        );
    }

    #[test]
    fn more_operators() {
        let parse = op(OperatorKind::Parse {
            params: vec![param("kind", name("regex")), param("flags", name("Ui"))],
            expr: name("Msg"),
            pattern: vec![
                ParsePart::Star,
                ParsePart::Text(str_lit("a")),
                ParsePart::Text(str_lit("b")),
                ParsePart::Column {
                    name: id("c"),
                    ty: Some(ScalarType::Long),
                },
                ParsePart::Column {
                    name: id("d"),
                    ty: None,
                },
                ParsePart::Star,
            ],
        });
        assert_eq!(
            show(&parse),
            "parse kind=regex flags=Ui Msg with * \"a\", \"b\" c:long d *"
        );

        let mv_apply = op(OperatorKind::MvApply {
            params: vec![param("with_itemindex", name("i"))],
            items: vec![ExpandItem {
                name: Some(id("x")),
                expr: name("arr"),
                to_type: Some(ScalarType::Long),
                span: Span::default(),
            }],
            limit: Some(long(5)),
            body: vec![
                op(OperatorKind::Take {
                    params: vec![],
                    count: long(1),
                }),
                op(OperatorKind::Count),
            ],
        });
        assert_eq!(
            show(&mv_apply),
            "mv-apply with_itemindex=i x = arr to typeof(long) limit 5 on (take 1\n    | count)"
        );

        let scan = op(OperatorKind::Scan {
            params: vec![],
            declare: vec![Param {
                name: id("s"),
                ty: ParamType::Scalar(ScalarType::Long),
                default: Some(long(0)),
                span: Span::default(),
            }],
            steps: vec![ScanStep {
                name: id("s1"),
                output: Some(id("all")),
                predicate: bin(Eq, name("x"), long(1)),
                assignments: vec![named(Some("s"), bin(Add, name("s"), long(1)))],
            }],
        });
        assert_eq!(
            show(&scan),
            "scan declare (s:long = 0) with (\n    step s1 output=all: x == 1 => s = s + 1;\n)"
        );

        let series = op(OperatorKind::MakeSeries {
            params: vec![],
            aggregates: vec![SeriesAggregate {
                agg: named(Some("n"), call("count", vec![])),
                default: Some(long(0)),
            }],
            on: name("t"),
            range: SeriesRange::FromTo {
                from: None,
                to: Some(call("now", vec![])),
                step: lit(Literal::Timespan(Some(36_000_000_000))),
            },
            by: vec![named(None, name("k"))],
        });
        assert_eq!(
            show(&series),
            "make-series n = count() default = 0 on t to now() step 1h by k"
        );

        let nested = op(OperatorKind::TopNested(vec![
            TopNestedLevel {
                count: Some(long(3)),
                of: named(None, name("a")),
                others: Some(named(Some("Other"), str_lit("o"))),
                by: named(Some("n"), call("count", vec![])),
                order: Some(SortOrder::Desc),
            },
            TopNestedLevel {
                count: None,
                of: named(None, name("b")),
                others: None,
                by: named(None, call("sum", vec![name("v")])),
                order: None,
            },
        ]));
        assert_eq!(
            show(&nested),
            "top-nested 3 of a with others = Other = \"o\" by n = count() desc, top-nested of b by sum(v)"
        );

        let fork = op(OperatorKind::Fork(vec![
            ForkBranch {
                name: None,
                ops: vec![op(OperatorKind::Count)],
            },
            ForkBranch {
                name: Some(id("b")),
                ops: vec![op(OperatorKind::Take {
                    params: vec![],
                    count: long(1),
                })],
            },
        ]));
        assert_eq!(show(&fork), "fork (count) b=(take 1)");

        let partition = op(OperatorKind::Partition {
            params: vec![param("hint.strategy", name("native"))],
            by: name("k"),
            body: PartitionBody::Query(pipe(name("T"), vec![OperatorKind::Count])),
        });
        assert_eq!(
            show(&partition),
            "partition hint.strategy=native by k {\n    T\n    | count\n}"
        );

        let evaluate = op(OperatorKind::Evaluate {
            params: vec![],
            call: call("bag_unpack", vec![name("d")]),
            schema: Some(OutputSchema {
                star: false,
                columns: vec![col("a", ScalarType::String)],
            }),
        });
        assert_eq!(show(&evaluate), "evaluate bag_unpack(d) : (a:string)");

        let away = op(OperatorKind::ProjectAway(vec![
            e(ExprKind::Wildcard("Col*".into())),
            name("by"),
        ]));
        assert_eq!(show(&away), "project-away Col*, ['by']");

        let distinct = op(OperatorKind::Distinct {
            params: vec![],
            columns: vec![named(None, e(ExprKind::Star))],
        });
        assert_eq!(show(&distinct), "distinct *");
    }

    #[test]
    fn sources_and_statements() {
        let dt = e(ExprKind::Source(Box::new(Source {
            kind: SourceKind::Datatable {
                columns: vec![col("a", ScalarType::String), col("b", ScalarType::Long)],
                values: vec![str_lit("x"), long(1), str_lit("y"), neg(long(2))],
            },
            span: Span::default(),
        })));
        let f = FunctionDef {
            view: false,
            params: vec![
                Param {
                    name: id("T"),
                    ty: ParamType::Tabular {
                        columns: vec![],
                        wildcard: true,
                    },
                    default: None,
                    span: Span::default(),
                },
                Param {
                    name: id("n"),
                    ty: ParamType::Scalar(ScalarType::Long),
                    default: Some(long(5)),
                    span: Span::default(),
                },
            ],
            body: vec![
                stmt(StatementKind::Let(LetStatement {
                    name: id("m"),
                    value: LetValue::Expr(bin(Mul, name("n"), long(2))),
                })),
                stmt(StatementKind::Query(pipe(
                    name("T"),
                    vec![OperatorKind::Take {
                        params: vec![],
                        count: name("m"),
                    }],
                ))),
            ],
            span: Span::default(),
        };
        let script = Script {
            statements: vec![
                stmt(StatementKind::Set(SetStatement {
                    name: "querytrace".into(),
                    value: None,
                })),
                stmt(StatementKind::Let(LetStatement {
                    name: id("f"),
                    value: LetValue::Function(f),
                })),
                stmt(StatementKind::DeclarePattern {
                    name: id("p"),
                    raw: "= (a:string) { (\"x\") = { T }; }".into(),
                }),
                stmt(StatementKind::Query(pipe(
                    e(ExprKind::Source(Box::new(Source {
                        kind: SourceKind::Union {
                            params: vec![param("withsource", name("Table"))],
                            tables: vec![e(ExprKind::Wildcard("Sec*".into())), dt],
                        },
                        span: Span::default(),
                    }))),
                    vec![OperatorKind::Count],
                ))),
            ],
            span: Span::default(),
        };
        assert_eq!(
            show(&script),
            "set querytrace;\n\
             let f = (T:(*), n:long = 5) {\n    let m = n * 2;\n    T\n    | take m\n};\n\
             declare pattern p = (a:string) { (\"x\") = { T }; };\n\
             union withsource=Table Sec*, datatable(a:string, b:long) [\n    \"x\", 1,\n    \"y\", -2\n]\n\
             | count"
        );
    }

    #[test]
    fn pipes_nest_in_parentheses_where_an_expr_is_required() {
        let inner = pipe(name("T"), vec![OperatorKind::Count]);
        let outer = pipe(
            inner.clone(),
            vec![OperatorKind::Take {
                params: vec![],
                count: long(1),
            }],
        );
        assert_eq!(show(&outer), "(T\n    | count)\n| take 1");
        let x = bin(Add, call("toscalar", vec![inner]), long(1));
        assert_eq!(show(&x), "toscalar(T\n    | count) + 1");
    }

    #[test]
    fn source_keywords_are_bracketed_where_a_source_would_start() {
        let take = OperatorKind::Take {
            params: vec![],
            count: long(1),
        };
        assert_eq!(
            show(&pipe(name("print"), vec![take.clone()])),
            "['print']\n| take 1"
        );
        assert_eq!(show(&pipe(name("union"), vec![take])), "union\n| take 1");
        assert_eq!(show(&call("union", vec![name("x")])), "['union'](x)");
        assert_eq!(show(&call("union", vec![])), "union()");
        assert_eq!(show(&bin(Sub, name("search"), long(1))), "['search'] - 1");
        assert_eq!(show(&bin(Sub, name("search"), neg(long(1)))), "search - -1");
        assert_eq!(show(&bin(Eq, name("find"), long(1))), "find == 1");
        assert_eq!(show(&call("f", vec![name("print")])), "f(['print'])");
        assert_eq!(show(&call("f", vec![name("evaluate")])), "f(evaluate)");
        // Elsewhere these are plain names.
        let where_op = op(OperatorKind::Where {
            params: vec![],
            predicate: bin(Eq, name("print"), long(1)),
        });
        assert_eq!(show(&where_op), "where print == 1");
    }

    #[test]
    fn long_chains_print_without_deep_recursion() {
        let mut sum = name("a");
        let mut path = name("x");
        for _ in 0..20_000 {
            sum = bin(Add, sum, name("a"));
            path = e(ExprKind::Member {
                expr: Box::new(path),
                name: id("y"),
            });
        }
        let text = show(&sum);
        assert_eq!(text.len(), "a".len() + 20_000 * " + a".len());
        assert!(text.starts_with("a + a + a"));
        let text = show(&path);
        assert_eq!(text.len(), 1 + 20_000 * 2);
        // Drop the deep trees iteratively enough for the test thread.
        let mut node = sum;
        while let ExprKind::Binary { left, .. } = node.kind {
            node = *left;
        }
        let mut node = path;
        while let ExprKind::Member { expr, .. } = node.kind {
            node = *expr;
        }
    }

    /// Printing a parsed query gives text that parses to the same tree, and
    /// printing is stable from then on.
    #[test]
    fn round_trips_through_the_parser() {
        let queries = [
            "T | where a has_cs \"x\" and b !startswith_cs \"y\" or c matches regex @\"\\d+\"",
            "T | where x !between (1 .. 10) and y in~ (\"a\", 'b') and z has_any (\"q\")",
            "T | where a + b has c and (a == b) == c and a < b == c and -x > +y and 1 - -1 == 0",
            "T | extend x = 1.5, y = 1e300, z = 1.e3, w = 0x1F, v = 1.5h, u = 90min, t = 100ms, s = 3tick",
            "T | extend a = datetime(2020-01-01), b = timespan(-1d), c = guid(null), d = decimal(1.50), e = int(-5), f = long(-7), g = real(-0.5), h = real(nan), i = real(+inf), j = bool(null)",
            "T | extend a = dynamic({\"a\": [1, -2, 2.5, \"x\", null, true, datetime(2020-01-01), 1d, {\"b\": {}}]}), b = dynamic(null)",
            "T | extend ['my col'] = 1, [\"where\"] = 2 | project ['my col'], ['where'], x = ['it\\'s']",
            "T | extend x = \"a\\\"b\\\\c\\n\\t\", y = h\"secret\", z = @\"c:\\x\", v = \"concat\" \"enated\"",
            "T | extend x = d.a.b[0][\"c\"], y = d.['a b'], z = cluster(\"c\").database(\"d\").T, w = datetime (v)",
            "T | summarize hint.shufflekey=x count(), (a, b) = arg_max(t, *) by bin(TimeGenerated, 1h), y",
            "T | sort by x asc nulls first, y desc | top 10 by x desc nulls last | take 5 | distinct *",
            "T | top-nested 3 of a with others = \"o\" by n = count() desc, top-nested 2 of b by sum(v)",
            "T | join kind=leftouter hint.strategy=broadcast (U | where x) on $left.a == $right.b, c",
            "T | union kind=outer withsource=Src U, (V | take 1), W* | lookup kind=inner (U) on x",
            "T | mv-expand kind=array with_itemindex=i x = arr to typeof(long), y limit 100",
            "T | mv-apply x = arr to typeof(long) on (summarize sum(x) | take 1)",
            "T | parse kind=regex flags=Ui Msg with * \"a=\" a:long \",\" b * | parse-where Msg with \"a\" a:string",
            "T | parse-kv Msg as (a:string, b:long) with (pair_delimiter=\",\", kv_delimiter=\"=\")",
            "T | make-series n = count() default = 0 on t from ago(1d) to now() step 1h by k",
            "T | make-series kind=nonempty avg(x) on t in range(ago(1d), now(), 1h)",
            "T | evaluate bag_unpack(d) : (a:string, b:long) | render timechart with (title=\"x\", ycolumns=a, b)",
            "T | as hint.materialized=true Foo | serialize rn = row_number() | invoke f(1) | getschema",
            "T | sample 10 | sample-distinct 5 of x | consume decodeblocks=true | facet by a, b with (take 5)",
            "T | fork (count) (take 1) named=(where x | take 2) | partition by k { T | take 1 }",
            "T | partition hint.strategy=native by k (top 3 by y)",
            "T | scan with_match_id=m declare (s:long = 0) with (step a output=all: x == 1 => s = s + 1; step b: x > 2;)",
            "T | reduce kind=source by Msg with threshold=0.1, characters=\"-\"",
            "T | project-away a*, b | project-keep c | project-rename n = o | project-reorder a asc, b",
            "find withsource=S in (T, U*) where x == 1 project a, b:string",
            "search in (T) \"x\" | search kind=case_sensitive \"y\" and * has \"z\"",
            "print x = 1, 2 | union (range i from 1 to 10 step 1)",
            "datatable(a:string, b:long) [\"x\", 1, \"y\", -2] | where b > 0",
            "externaldata(a:string) [h\"https://x\", \"y\"] with (format=\"csv\", ignoreFirstRecord=true)",
            "let f = (a:string, T:(*), U:(x:long, *), b:long = 5) { let c = 1; T | where x == a | take b }; f(\"x\", T)",
            "let v = view () { T }; set querytrace; declare query_parameters(a:string, b:long = 5); v",
            "alias database db = cluster(\"c\").database(\"d\"); let x = toscalar(T | count); print x",
            "declare pattern p = (a:string) { (\"x\") = { T }; };\nlet y = 2;\nT",
            "T | where x in (U | project b) and y == toscalar(U | summarize max(y))",
            "T | extend a = -x.y, b = -(x + 1), c = -f(x)[0], d = 1 * (2 + 3) / 4 % 5 - -6",
        ];
        for q in queries {
            let ast = match crate::parse(q) {
                Ok(ast) => ast,
                Err(d) => panic!("{q}\ndoes not parse: {}", d.message),
            };
            let printed = ast.to_string();
            match crate::parse(&printed) {
                Ok(again) => {
                    assert_eq!(again, ast, "{q}\nprinted as\n{printed}");
                    assert_eq!(again.to_string(), printed);
                }
                Err(d) => panic!("{q}\nprinted as\n{printed}\ndoes not parse: {}", d.message),
            }
        }
    }
}
