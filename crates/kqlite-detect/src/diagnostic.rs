//! Problems found in a rule file, each naming its field and its place.

use std::fmt;
use std::ops::Range;

/// Codes of rule problems (query problems keep the engine's `KQL...` codes).
pub mod codes {
    /// The file is not readable YAML.
    pub const YAML: &str = "kqlite::rule_yaml";
    /// The file has no usable `query`.
    pub const NO_QUERY: &str = "kqlite::no_query";
    /// A field holds a value of the wrong shape or an unknown value.
    pub const FIELD: &str = "kqlite::rule_field";
    /// A field Sentinel requires is missing.
    pub const MISSING: &str = "kqlite::rule_missing";
    /// A value breaks one of Sentinel's limits or rules.
    pub const INVALID: &str = "kqlite::rule_invalid";
    /// An entity mapping names an unknown type or identifier.
    pub const ENTITY: &str = "kqlite::rule_entity";
    /// A field names a column the query does not output.
    pub const COLUMN: &str = "kqlite::rule_column";
}

/// One problem with a rule file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: &'static str,
    /// The field, as a path: `entityMappings[1].fieldMappings[0].identifier`.
    /// Empty for problems of the whole file.
    pub field: String,
    /// One line, naming the field first: `queryPeriod: ...`.
    pub message: String,
    /// Where in the file (byte range), when the problem has a place.
    pub span: Option<Range<usize>>,
    /// A short label for the place.
    pub label: String,
    pub help: Option<String>,
    /// For a problem in the query: the engine's diagnostic, its spans in the
    /// query's own offsets (see [`crate::Rule::query`] to map them).
    pub query: Option<kqlite_syntax::Diagnostic>,
}

impl Diagnostic {
    /// A problem with `field`; the message is prefixed with the field's path.
    pub fn field(
        code: &'static str,
        field: impl Into<String>,
        what: impl fmt::Display,
    ) -> Diagnostic {
        let field = field.into();
        let message = if field.is_empty() {
            what.to_string()
        } else {
            format!("{field}: {what}")
        };
        Diagnostic {
            code,
            field,
            message,
            span: None,
            label: String::new(),
            help: None,
            query: None,
        }
    }

    pub fn at(mut self, span: Range<usize>, label: impl Into<String>) -> Diagnostic {
        self.span = Some(span);
        self.label = label.into();
        self
    }

    pub fn at_opt(self, span: Option<Range<usize>>, label: impl Into<String>) -> Diagnostic {
        match span {
            Some(span) => self.at(span, label),
            None => self,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}
