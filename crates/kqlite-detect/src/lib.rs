//! kqlite-detect: Sentinel analytic rules and hunting queries.
//!
//! ```text
//! rule YAML --Rule::load--> Rule --validate--> structural problems
//!                             \---bind(Session)--> query problems, unknown output columns
//! ```
//!
//! [`Rule::load`] reads a rule file as the Azure-Sentinel repository writes
//! them (Scheduled and NRT analytic rules, hunting queries); [`validate`]
//! applies Sentinel's checks of the rule's fields; [`bind`] plans the query
//! and checks that every column the rule names is in its output. Every
//! problem is a [`Diagnostic`] naming its field and, where it has one, its
//! place in the file.

// A rule's diagnostics carry their field path, message, help and place;
// they are returned once per rule, never in a hot loop, so their size
// does not matter.
#![allow(clippy::result_large_err)]

pub mod bind;
pub mod catalog;
pub mod diagnostic;
pub mod duration;
pub mod evaluate;
pub mod rule;
pub mod validate;
pub mod yaml;

pub use bind::bind;
pub use diagnostic::Diagnostic;
pub use duration::Duration;
pub use rule::{Rule, RuleKind};
pub use validate::validate;

use kqlite_engine::Session;

/// What checking one rule file found, stage by stage.
#[derive(Debug)]
pub struct Report {
    /// The rule, when the file loads.
    pub rule: Option<Rule>,
    /// Why the file does not load (then nothing else was checked).
    pub load: Vec<Diagnostic>,
    /// Sentinel's checks of the rule's fields.
    pub validate: Vec<Diagnostic>,
    /// The query's problems, and columns the rule names that it does not
    /// output. Empty when binding was not asked for.
    pub bind: Vec<Diagnostic>,
}

impl Report {
    /// Every problem, in stage order.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.load.iter().chain(&self.validate).chain(&self.bind)
    }

    pub fn is_ok(&self) -> bool {
        self.diagnostics().next().is_none()
    }
}

/// Loads, validates and (with a session) binds one rule file.
pub fn check(path: &str, text: &str, session: Option<&Session>) -> Report {
    match Rule::load(path, text) {
        Err(load) => Report {
            rule: None,
            load,
            validate: Vec::new(),
            bind: Vec::new(),
        },
        Ok(rule) => {
            let validate = validate(&rule);
            let bind = session.map(|s| bind(&rule, s)).unwrap_or_default();
            Report {
                rule: Some(rule),
                load: Vec::new(),
                validate,
                bind,
            }
        }
    }
}
