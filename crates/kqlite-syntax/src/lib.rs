//! kqlite-syntax: KQL text to a typed syntax tree, and back.
//!
//! ```text
//! KQL text --parse--> Script (AST with byte spans) --Display--> canonical KQL text
//! ```
//!
//! [`parse`] is the entry point; errors are [`Diagnostic`]s carrying spans,
//! rendered later by the command line. The AST ([`ast`]) depends on no parser
//! library; the pest grammar lives in `src/kql.pest` and is private.

pub mod ast;
pub mod diagnostic;
mod display;
mod errors;
mod parser;
pub mod span;
pub mod suggest;

pub use diagnostic::{Diagnostic, Label};
pub use parser::{MAX_NESTING, parse, parse_expression};
pub use span::{Span, line_col};

/// Every tabular operator name the grammar knows after `|`, for suggestions.
pub const TABULAR_OPERATORS: &[&str] = &[
    "as",
    "assert-schema",
    "consume",
    "count",
    "distinct",
    "evaluate",
    "extend",
    "facet",
    "filter",
    "find",
    "fork",
    "getschema",
    "invoke",
    "join",
    "limit",
    "lookup",
    "make-series",
    "mv-apply",
    "mv-expand",
    "mvexpand",
    "order",
    "parse",
    "parse-kv",
    "parse-where",
    "partition",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "reduce",
    "render",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "sort",
    "summarize",
    "take",
    "top",
    "top-hitters",
    "top-nested",
    "union",
    "where",
];
