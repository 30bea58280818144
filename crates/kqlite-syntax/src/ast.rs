//! The typed KQL syntax tree.
//!
//! Every node carries a [`Span`] (byte offsets into the query text). Spans are
//! ignored by equality, so `parse(display(ast)) == ast` holds. The tree knows
//! nothing about the parser library that builds it nor about execution.
//!
//! Tabular and scalar expressions share one [`Expr`] type, as in Kusto: a pipe
//! (`T | where ...`) is an expression, so it can stand in a `let`, inside
//! `toscalar(...)`, on the right of `in (...)`, or as a join's right side. The
//! binder decides what is tabular.

use crate::span::Span;

/// A whole query text: statements separated by `;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `let name = value`
    Let(LetStatement),
    /// `set name [= value]`
    Set(SetStatement),
    /// `declare query_parameters(name:type [= default], ...)`
    DeclareQueryParameters(Vec<Param>),
    /// `alias database name = expr`
    AliasDatabase { name: Ident, value: Expr },
    /// `declare pattern name [= (params) [: (columns)] { ... }]`
    DeclarePattern { name: Ident, raw: String },
    /// A query expression (tabular, or scalar for `print`-less forms).
    Query(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LetStatement {
    pub name: Ident,
    pub value: LetValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LetValue {
    /// `let x = <expr>` (scalar or tabular; the binder decides).
    Expr(Expr),
    /// `let f = (params) { body }` or `let f = view (params) { body }`.
    Function(FunctionDef),
}

/// A user-defined function: parameters and a body of statements.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub view: bool,
    pub params: Vec<Param>,
    /// The body's `let` statements followed by its result expression.
    pub body: Vec<Statement>,
    pub span: Span,
}

/// A function or query parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    Scalar(ScalarType),
    /// `T:(*)` is `wildcard` with no columns; `T:(a:string, *)` has both.
    Tabular {
        columns: Vec<ColumnDecl>,
        wildcard: bool,
    },
}

/// `: (*, name:type, ...)` after `evaluate`: a plugin's output columns.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSchema {
    /// `(*, ...)`: the input's columns come first.
    pub star: bool,
    pub columns: Vec<ColumnDecl>,
}

/// `name:type`, as in datatable, externaldata and function signatures.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: ScalarType,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetStatement {
    pub name: String,
    pub value: Option<Expr>,
}

/// The scalar types of KQL. Aliases (`date`, `double`, `boolean`, `uniqueid`,
/// `time`) are folded into their canonical names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    Bool,
    DateTime,
    Decimal,
    Dynamic,
    Guid,
    Int,
    Long,
    Real,
    String,
    Timespan,
}

impl ScalarType {
    pub fn from_name(name: &str) -> Option<ScalarType> {
        Some(match name {
            "bool" | "boolean" => ScalarType::Bool,
            "datetime" | "date" => ScalarType::DateTime,
            "decimal" => ScalarType::Decimal,
            "dynamic" => ScalarType::Dynamic,
            "guid" | "uniqueid" => ScalarType::Guid,
            "int" | "int32" => ScalarType::Int,
            "long" | "int64" => ScalarType::Long,
            "real" | "double" => ScalarType::Real,
            "string" => ScalarType::String,
            "timespan" | "time" => ScalarType::Timespan,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Bool => "bool",
            ScalarType::DateTime => "datetime",
            ScalarType::Decimal => "decimal",
            ScalarType::Dynamic => "dynamic",
            ScalarType::Guid => "guid",
            ScalarType::Int => "int",
            ScalarType::Long => "long",
            ScalarType::Real => "real",
            ScalarType::String => "string",
            ScalarType::Timespan => "timespan",
        }
    }
}

/// A name: a column, table, variable, function or property name.
/// `quoted` is true when written as `['...']` / `["..."]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub quoted: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// A column, table, variable or function name.
    Name(Ident),
    /// A name with wildcards, as in `union Security*` or `project-away Col*`.
    Wildcard(String),
    /// `*`: all columns, as in `arg_max(x, *)`, `distinct *`, `search *`.
    Star,
    Paren(Box<Expr>),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x in (a, b)`, `x !in~ (T | project y)`, `x has_any (list)`.
    InList {
        op: ListOp,
        expr: Box<Expr>,
        list: Vec<Expr>,
    },
    /// `x between (low .. high)` / `x !between (low .. high)`.
    Between {
        negated: bool,
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// `x.name`
    Member {
        expr: Box<Expr>,
        name: Ident,
    },
    /// `x[index]`
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    /// `f(args)`, `cluster("c").database("d")`: the callee is a name or a member.
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `typeof(string)`
    TypeOf(ScalarType),
    /// `T | op | op ...`
    Pipe {
        input: Box<Expr>,
        ops: Vec<Operator>,
    },
    /// A tabular source operator standing at the head of a pipe.
    Source(Box<Source>),
}

/// A function-call argument, optionally named (`name = value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),* }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The canonical KQL spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }
    };
}

text_enum! {
    /// Binary operators. String operators are listed with their negations and
    /// case-sensitive forms; historical spellings (`<>`, `notcontains`,
    /// `containscs`...) are folded into these when parsed.
    BinaryOp {
        Or = "or",
        And = "and",
        Eq = "==",
        NotEq = "!=",
        Lt = "<",
        Le = "<=",
        Gt = ">",
        Ge = ">=",
        EqTilde = "=~",
        NotEqTilde = "!~",
        Has = "has",
        NotHas = "!has",
        HasCs = "has_cs",
        NotHasCs = "!has_cs",
        HasPrefix = "hasprefix",
        NotHasPrefix = "!hasprefix",
        HasPrefixCs = "hasprefix_cs",
        NotHasPrefixCs = "!hasprefix_cs",
        HasSuffix = "hassuffix",
        NotHasSuffix = "!hassuffix",
        HasSuffixCs = "hassuffix_cs",
        NotHasSuffixCs = "!hassuffix_cs",
        Contains = "contains",
        NotContains = "!contains",
        ContainsCs = "contains_cs",
        NotContainsCs = "!contains_cs",
        StartsWith = "startswith",
        NotStartsWith = "!startswith",
        StartsWithCs = "startswith_cs",
        NotStartsWithCs = "!startswith_cs",
        EndsWith = "endswith",
        NotEndsWith = "!endswith",
        EndsWithCs = "endswith_cs",
        NotEndsWithCs = "!endswith_cs",
        MatchesRegex = "matches regex",
        /// `Col : "term"`, only meaningful in `search` / `find` predicates.
        SearchHas = ":",
        Add = "+",
        Sub = "-",
        Mul = "*",
        Div = "/",
        Mod = "%",
    }
}

impl BinaryOp {
    /// Parses an operator as written, including historical spellings.
    pub fn from_text(text: &str) -> Option<BinaryOp> {
        let folded: String;
        let text = if text.contains(char::is_whitespace) {
            folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
            folded.as_str()
        } else {
            text
        };
        let alias = match text {
            "<>" => Some(BinaryOp::NotEq),
            "notcontains" => Some(BinaryOp::NotContains),
            "containscs" => Some(BinaryOp::ContainsCs),
            "notcontainscs" => Some(BinaryOp::NotContainsCs),
            "notstartswith" => Some(BinaryOp::NotStartsWith),
            "notendswith" => Some(BinaryOp::NotEndsWith),
            "nothas" => Some(BinaryOp::NotHas),
            _ => None,
        };
        alias.or_else(|| BinaryOp::ALL.iter().copied().find(|op| op.as_str() == text))
    }
}

text_enum! {
    /// Operators whose right side is a parenthesized list.
    ListOp {
        In = "in",
        NotIn = "!in",
        InCi = "in~",
        NotInCi = "!in~",
        HasAny = "has_any",
        HasAll = "has_all",
    }
}

impl ListOp {
    pub fn from_text(text: &str) -> Option<ListOp> {
        ListOp::ALL.iter().copied().find(|op| op.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `true`, `false`, `bool(null)`
    Bool(Option<bool>),
    /// `int(5)`, `int(null)`
    Int(Option<i32>),
    /// `42`, `long(null)`, `0x2A`
    Long(Option<i64>),
    /// `1.5`, `1e3`, `real(null)`, `real(nan)`, `real(+inf)`
    Real(Option<Real>),
    /// `decimal(1.5)`: the digits as written.
    Decimal(Option<String>),
    /// Any string form, decoded to its value.
    String(StringLit),
    /// `datetime(...)`: the text inside the parentheses, trimmed; the binder
    /// interprets it. `None` is `datetime(null)`.
    DateTime(Option<String>),
    /// `1d`, `2h`, `time(1.02:03:04)`: a duration in 100 ns ticks.
    Timespan(Option<i64>),
    /// `guid(...)`: the text inside the parentheses. `None` is `guid(null)`.
    Guid(Option<String>),
    /// `dynamic(...)`
    Dynamic(Dynamic),
}

/// A string literal's value. `obfuscated` marks the `h"..."` forms (kept so
/// that a printed query hides the same values).
#[derive(Debug, Clone, PartialEq)]
pub struct StringLit {
    pub value: String,
    pub obfuscated: bool,
}

/// An `f64` that compares by bit pattern (so `real(nan)` equals itself).
#[derive(Debug, Clone, Copy)]
pub struct Real(pub f64);

impl PartialEq for Real {
    fn eq(&self, other: &Real) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

/// The value written in a `dynamic(...)` literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Dynamic {
    Null,
    Array(Vec<Dynamic>),
    Object(Vec<(String, Dynamic)>),
    /// A scalar literal inside the dynamic value (string, number, bool,
    /// datetime, timespan, guid).
    Scalar(Box<Literal>),
}

/// A tabular operator after `|`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    pub kind: OperatorKind,
    pub span: Span,
}

/// `name = value` parameters of operators: `kind=inner`, `hint.strategy=shuffle`,
/// `withsource=Table`, `with_itemindex=i`, `bagexpansion=array`...
#[derive(Debug, Clone, PartialEq)]
pub struct OpParam {
    pub name: Ident,
    pub value: Expr,
}

/// An output column: `expr`, `Name = expr` or `(A, B) = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedExpr {
    pub names: Vec<Ident>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullsOrder {
    First,
    Last,
}

/// A sort key: `expr [asc|desc] [nulls first|last]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub order: Option<SortOrder>,
    pub nulls: Option<NullsOrder>,
}

/// `project-reorder` key: a column (or wildcard) with an optional order
/// (`asc`, `desc`, `granny-asc`, `granny-desc`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReorderKey {
    pub column: Expr,
    pub order: Option<String>,
}

/// An mv-expand / mv-apply item: `[Name =] expr [to typeof(T)]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpandItem {
    pub name: Option<Ident>,
    pub expr: Expr,
    pub to_type: Option<ScalarType>,
    pub span: Span,
}

/// One element of a `parse` pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsePart {
    /// A string constant to match (a literal or a `let`-bound name).
    Text(Expr),
    /// `*`: skip.
    Star,
    /// `Column` or `Column:type`
    Column { name: Ident, ty: Option<ScalarType> },
}

/// `with (name = value, ...)` properties of render, externaldata, parse-kv...
/// A value may be a comma-separated list, as in `ycolumns=a, b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: Ident,
    pub values: Vec<Expr>,
}

/// One level of `top-nested`.
#[derive(Debug, Clone, PartialEq)]
pub struct TopNestedLevel {
    pub count: Option<Expr>,
    pub of: NamedExpr,
    pub others: Option<NamedExpr>,
    pub by: NamedExpr,
    pub order: Option<SortOrder>,
}

/// `make-series` aggregate: `[Name =] aggregate [default = value]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesAggregate {
    pub agg: NamedExpr,
    pub default: Option<Expr>,
}

/// `make-series` axis: `on T from a to b step s` or `on T in range(a, b, s)`.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesRange {
    FromTo {
        from: Option<Expr>,
        to: Option<Expr>,
        step: Expr,
    },
    InRange(Expr),
}

/// `fork [name =] (operators)`
#[derive(Debug, Clone, PartialEq)]
pub struct ForkBranch {
    pub name: Option<Ident>,
    pub ops: Vec<Operator>,
}

/// `partition by Col (operators)` or `partition by Col { query }`.
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionBody {
    Ops(Vec<Operator>),
    Query(Expr),
}

/// A `scan` step: `step name [output=all|last|none]: predicate [=> assignments]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanStep {
    pub name: Ident,
    pub output: Option<Ident>,
    pub predicate: Expr,
    pub assignments: Vec<NamedExpr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OperatorKind {
    /// `where` / `filter`
    Where {
        params: Vec<OpParam>,
        predicate: Expr,
    },
    Extend(Vec<NamedExpr>),
    Project(Vec<NamedExpr>),
    ProjectAway(Vec<Expr>),
    ProjectKeep(Vec<Expr>),
    /// `project-rename New = Old, ...`
    ProjectRename(Vec<(Ident, Ident)>),
    ProjectReorder(Vec<ReorderKey>),
    Summarize {
        params: Vec<OpParam>,
        aggregates: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// `sort` / `order`
    Sort {
        params: Vec<OpParam>,
        keys: Vec<SortKey>,
    },
    Top {
        params: Vec<OpParam>,
        count: Expr,
        key: SortKey,
    },
    TopNested(Vec<TopNestedLevel>),
    TopHitters {
        count: Expr,
        of: Expr,
        by: Option<Expr>,
    },
    /// `take` / `limit`
    Take {
        params: Vec<OpParam>,
        count: Expr,
    },
    /// `distinct *` is one column whose expression is [`ExprKind::Star`].
    Distinct {
        params: Vec<OpParam>,
        columns: Vec<NamedExpr>,
    },
    Count,
    Join {
        params: Vec<OpParam>,
        right: Expr,
        on: Vec<Expr>,
    },
    Lookup {
        params: Vec<OpParam>,
        right: Expr,
        on: Vec<Expr>,
    },
    Union {
        params: Vec<OpParam>,
        tables: Vec<Expr>,
    },
    /// `mv-expand` / `mvexpand`
    MvExpand {
        params: Vec<OpParam>,
        items: Vec<ExpandItem>,
        limit: Option<Expr>,
    },
    /// `mv-apply items on (subquery)`: the subquery's operators run on each
    /// expanded sub-table (it has no source of its own).
    MvApply {
        params: Vec<OpParam>,
        items: Vec<ExpandItem>,
        limit: Option<Expr>,
        body: Vec<Operator>,
    },
    Parse {
        params: Vec<OpParam>,
        expr: Expr,
        pattern: Vec<ParsePart>,
    },
    ParseWhere {
        params: Vec<OpParam>,
        expr: Expr,
        pattern: Vec<ParsePart>,
    },
    ParseKv {
        expr: Expr,
        columns: Vec<ColumnDecl>,
        properties: Vec<Property>,
    },
    MakeSeries {
        params: Vec<OpParam>,
        aggregates: Vec<SeriesAggregate>,
        on: Expr,
        range: SeriesRange,
        by: Vec<NamedExpr>,
    },
    Evaluate {
        params: Vec<OpParam>,
        call: Expr,
        schema: Option<OutputSchema>,
    },
    Render {
        chart: Ident,
        properties: Vec<Property>,
    },
    As {
        params: Vec<OpParam>,
        name: Ident,
    },
    Serialize(Vec<NamedExpr>),
    Search {
        params: Vec<OpParam>,
        predicate: Expr,
    },
    Invoke(Expr),
    GetSchema,
    Sample(Expr),
    SampleDistinct {
        count: Expr,
        of: Expr,
    },
    Consume(Vec<OpParam>),
    Facet {
        columns: Vec<Expr>,
        with: Option<Vec<Operator>>,
    },
    Fork(Vec<ForkBranch>),
    Partition {
        params: Vec<OpParam>,
        by: Expr,
        body: PartitionBody,
    },
    Scan {
        params: Vec<OpParam>,
        declare: Vec<Param>,
        steps: Vec<ScanStep>,
    },
    Reduce {
        params: Vec<OpParam>,
        by: Expr,
        properties: Vec<Property>,
    },
    Assert(Vec<Arg>),
    ProjectSmart,
}

impl OperatorKind {
    /// The operator's canonical name, as written after `|`.
    pub fn name(&self) -> &'static str {
        match self {
            OperatorKind::Where { .. } => "where",
            OperatorKind::Extend(_) => "extend",
            OperatorKind::Project(_) => "project",
            OperatorKind::ProjectAway(_) => "project-away",
            OperatorKind::ProjectKeep(_) => "project-keep",
            OperatorKind::ProjectRename(_) => "project-rename",
            OperatorKind::ProjectReorder(_) => "project-reorder",
            OperatorKind::Summarize { .. } => "summarize",
            OperatorKind::Sort { .. } => "sort",
            OperatorKind::Top { .. } => "top",
            OperatorKind::TopNested(_) => "top-nested",
            OperatorKind::TopHitters { .. } => "top-hitters",
            OperatorKind::Take { .. } => "take",
            OperatorKind::Distinct { .. } => "distinct",
            OperatorKind::Count => "count",
            OperatorKind::Join { .. } => "join",
            OperatorKind::Lookup { .. } => "lookup",
            OperatorKind::Union { .. } => "union",
            OperatorKind::MvExpand { .. } => "mv-expand",
            OperatorKind::MvApply { .. } => "mv-apply",
            OperatorKind::Parse { .. } => "parse",
            OperatorKind::ParseWhere { .. } => "parse-where",
            OperatorKind::ParseKv { .. } => "parse-kv",
            OperatorKind::MakeSeries { .. } => "make-series",
            OperatorKind::Evaluate { .. } => "evaluate",
            OperatorKind::Render { .. } => "render",
            OperatorKind::As { .. } => "as",
            OperatorKind::Serialize(_) => "serialize",
            OperatorKind::Search { .. } => "search",
            OperatorKind::Invoke(_) => "invoke",
            OperatorKind::GetSchema => "getschema",
            OperatorKind::Sample(_) => "sample",
            OperatorKind::SampleDistinct { .. } => "sample-distinct",
            OperatorKind::Consume(_) => "consume",
            OperatorKind::Facet { .. } => "facet",
            OperatorKind::Fork(_) => "fork",
            OperatorKind::Partition { .. } => "partition",
            OperatorKind::Scan { .. } => "scan",
            OperatorKind::Reduce { .. } => "reduce",
            OperatorKind::Assert(_) => "assert-schema",
            OperatorKind::ProjectSmart => "project-smart",
        }
    }
}

/// Tabular operators that start a pipe (they take no input table).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub kind: SourceKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// `datatable (a:type, ...) [ values ]`
    Datatable {
        columns: Vec<ColumnDecl>,
        values: Vec<Expr>,
    },
    /// `externaldata (a:type, ...) [ uris ] [with (props)]`
    Externaldata {
        columns: Vec<ColumnDecl>,
        uris: Vec<Expr>,
        properties: Vec<Property>,
    },
    /// `print [Name =] expr, ...`
    Print(Vec<NamedExpr>),
    /// `range Name from a to b step s`
    Range {
        name: Ident,
        from: Expr,
        to: Expr,
        step: Expr,
    },
    /// `union [params] T1, T2, ...`
    Union {
        params: Vec<OpParam>,
        tables: Vec<Expr>,
    },
    /// `find [params] [in (T, ...)] where predicate [project cols]`
    Find {
        params: Vec<OpParam>,
        tables: Option<Vec<Expr>>,
        predicate: Expr,
        project: Option<FindProject>,
    },
    /// `search [params] [in (T, ...)] predicate`
    Search {
        params: Vec<OpParam>,
        tables: Option<Vec<Expr>>,
        predicate: Expr,
    },
    /// `evaluate plugin(...)` with no input table.
    Evaluate { params: Vec<OpParam>, call: Expr },
}

#[derive(Debug, Clone, PartialEq)]
pub enum FindProject {
    Smart,
    Columns(Vec<Expr>),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}

impl Ident {
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Ident {
            name: name.into(),
            quoted: false,
            span,
        }
    }
}
