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

struct Printer<'a, 'b> {
    f: &'a mut Formatter<'b>,
    indent: usize,
}

fn print_with(f: &mut Formatter<'_>, body: impl FnOnce(&mut Printer<'_, '_>) -> R) -> R {
    let mut p = Printer { f, indent: 0 };
    body(&mut p)
}

impl Printer<'_, '_> {
    fn s(&mut self, s: &str) -> R {
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
                } else if ctx == LitCtx::Param {
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
            self.nested(|p| p.expr(e))?;
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
            ExprKind::Name(id) => self.ident(id, NameMode::Expr),
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
            ExprKind::Binary { op, left, right } => {
                let level = binary_level(*op);
                self.expr_at(left, level, non_associative(level))?;
                self.s(" ")?;
                self.s(op.as_str())?;
                self.s(" ")?;
                self.expr_at(right, level, true)
            }
            ExprKind::InList { op, expr, list } => {
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
            ExprKind::Member { expr, name } => {
                self.postfix(expr)?;
                // `5.e5` would read as a real: keep a long apart from the dot.
                if matches!(expr.kind, ExprKind::Literal(Literal::Long(Some(n))) if n >= 0) {
                    self.s(" ")?;
                }
                self.s(".")?;
                self.ident(name, NameMode::Any)
            }
            ExprKind::Index { expr, index } => {
                self.postfix(expr)?;
                self.s("[")?;
                self.nested(|p| p.ex(index))?;
                self.s("]")
            }
            ExprKind::Call { callee, args } => {
                self.postfix(callee)?;
                // `datetime(x)` would be a literal; `datetime (x)` is a call.
                if let ExprKind::Name(id) = &callee.kind
                    && !id.quoted
                    && GOO_KINDS.contains(&id.name.as_str())
                {
                    self.s(" ")?;
                }
                self.s("(")?;
                self.nested(|p| p.list(args, |p, a| p.arg(a)))?;
                self.s(")")
            }
            ExprKind::TypeOf(ty) => {
                self.s("typeof(")?;
                self.scalar_type(*ty)?;
                self.s(")")
            }
            ExprKind::Pipe { input, ops } => {
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
            ExprKind::Name(id) => self.ident(id, NameMode::Expr),
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
                    p.ident(old, NameMode::Any)
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
                if let Some(cols) = schema {
                    self.s(" : (")?;
                    self.column_decls(cols)?;
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
                        self.list(cols, |p, c| match &c.kind {
                            ExprKind::Name(id) => p.ident(id, NameMode::Any),
                            _ => p.postfix(c),
                        })
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
