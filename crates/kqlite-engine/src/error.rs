//! Engine errors: what failed, and where in the query.

use kqlite_syntax::{Diagnostic, Span};
use std::fmt;

/// Codes used by the binder and planner.
pub mod codes {
    pub const UNKNOWN_TABLE: &str = "KQL101";
    pub const UNKNOWN_COLUMN: &str = "KQL102";
    pub const UNKNOWN_FUNCTION: &str = "KQL103";
    pub const TYPE: &str = "KQL104";
    pub const UNSUPPORTED: &str = "KQL105";
    pub const INVALID: &str = "KQL106";
    pub const PLAN: &str = "KQL107";
}

/// Why a query did not run.
#[derive(Debug)]
pub enum Error {
    /// The query is invalid or uses something not implemented (exit code 1).
    Query(Diagnostic),
    /// Reading or decoding input data failed (exit code 3).
    Data(String),
    /// Anything else from the execution engine.
    Execution(String),
}

impl Error {
    pub fn unsupported(span: Span, what: impl fmt::Display) -> Error {
        let msg = format!("{what} is not supported yet");
        Error::Query(Diagnostic::new(codes::UNSUPPORTED, msg.clone()).with_label(span, msg))
    }

    pub fn invalid(span: Span, msg: impl Into<String>) -> Error {
        let msg = msg.into();
        Error::Query(Diagnostic::new(codes::INVALID, msg.clone()).with_label(span, msg))
    }

    pub fn type_error(span: Span, msg: impl Into<String>) -> Error {
        let msg = msg.into();
        Error::Query(Diagnostic::new(codes::TYPE, msg.clone()).with_label(span, msg))
    }

    /// A DataFusion planning error, attributed to the pipe stage that caused it.
    pub fn plan(span: Span, e: impl fmt::Display) -> Error {
        let msg = format!("could not plan this: {e}");
        Error::Query(Diagnostic::new(codes::PLAN, msg).with_label(span, "while planning this"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Query(d) => write!(f, "{}", d.message),
            Error::Data(m) | Error::Execution(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::Query(d)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
