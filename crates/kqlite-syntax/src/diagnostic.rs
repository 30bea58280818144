//! Renderer-free diagnostics: what went wrong, where, and what to do about it.
//!
//! Every stage of kqlite reports problems with this type; the command line
//! renders it once, late (graphically for people, as JSON for machines).

use crate::span::Span;
use std::fmt;

/// One labelled place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A problem found in a query, with the places it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable machine-readable code, e.g. `KQL001`.
    pub code: &'static str,
    /// One-line reason in plain words.
    pub message: String,
    /// Places in the source; the first is the primary one.
    pub labels: Vec<Label>,
    /// What to do about it, e.g. a did-you-mean.
    pub help: Option<String>,
}

/// Codes used by the syntax layer.
pub mod codes {
    /// The text is not valid KQL.
    pub const SYNTAX: &str = "KQL001";
    /// A string literal is not closed or has a bad escape.
    pub const STRING: &str = "KQL002";
    /// A literal's content is invalid (number out of range, bad timespan...).
    pub const LITERAL: &str = "KQL003";
    /// Nesting or expression depth beyond the parser's limits.
    pub const TOO_DEEP: &str = "KQL004";
    /// An unknown tabular operator after `|`.
    pub const UNKNOWN_OPERATOR: &str = "KQL005";
}

impl Diagnostic {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A syntax error at `span` with a label text.
    pub fn syntax(span: Span, message: impl Into<String>) -> Self {
        let message = message.into();
        Diagnostic::new(codes::SYNTAX, message.clone()).with_label(span, message)
    }

    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The primary span, if any.
    pub fn span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// Moves every label by `delta` bytes (for queries embedded in a larger file).
    pub fn shifted(mut self, delta: usize) -> Self {
        for l in &mut self.labels {
            l.span = Span::new(l.span.start + delta, l.span.end + delta);
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Diagnostic {}
