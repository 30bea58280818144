//! Canonical KQL text from the AST (placeholder).
use crate::ast::Script;
use std::fmt;

impl fmt::Display for Script {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}
