//! `kqlite check`: find errors in queries and rule files without running them.
//!
//! One stdout line per query, `PATH: ok` or `PATH:LINE:COL: error: MESSAGE`,
//! and for each failure a drawing of the error on stderr.

use crate::inputs::{self, Input};
use crate::render::{Problem, ProblemKind, Renderer};
use crate::{DataArgs, Outcome};
use clap::Args;
use kqlite_engine::{Error, Session};
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// .kql files, rule .yaml/.yml files (their `query` field is checked), or
    /// directories searched recursively for them. `-` is stdin. With no PATH
    /// and no -q, the query is read from stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Check this query text (reported as `<query>`).
    #[arg(
        short = 'q',
        long = "query",
        value_name = "QUERY",
        conflicts_with = "paths"
    )]
    pub query: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Parse only, without binding names and types: a linter for a folder of
    /// hunting queries.
    #[arg(long)]
    pub syntax_only: bool,
}

pub fn run(args: CheckArgs) -> Outcome {
    // Binding sees the built-in schema of every known table, and the
    // tables given with -d.
    let session = if args.syntax_only {
        None
    } else {
        let mut session = match crate::data::session(&args.data.data) {
            Ok(s) => s,
            Err(outcome) => return outcome,
        };
        if let Err(e) = session.register_builtin_schemas() {
            eprintln!("error: {e}");
            return Outcome::Data;
        }
        Some(session)
    };
    let inputs = match inputs::collect(&args.paths, args.query) {
        Ok(inputs) => inputs,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Usage;
        }
    };
    let renderer = Renderer::for_stderr();
    let mut outcome = Outcome::Success;
    for input in &inputs {
        let problem = check_one(input, session.as_ref());
        let line = match &problem {
            None => format!("{}: ok", name(input)),
            Some(problem) => problem.summary(),
        };
        if let Err(e) = writeln!(io::stdout(), "{line}") {
            // The reader went away (`kqlite check dir | head`): stop quietly.
            if e.kind() == io::ErrorKind::BrokenPipe {
                return outcome;
            }
            eprintln!("error: cannot write to stdout: {e}");
            return Outcome::Usage;
        }
        if let Some(problem) = problem {
            // A blank line keeps one report apart from the next.
            eprintln!("{}", renderer.render(&problem));
            let severity = match problem.kind {
                ProblemKind::Invalid => Outcome::Invalid,
                ProblemKind::Unreadable => Outcome::Usage,
            };
            outcome = outcome.max(severity);
        }
    }
    outcome
}

/// Checks one input; `None` when it is fine.
fn check_one(input: &Input, session: Option<&Session>) -> Option<Problem> {
    let query = match inputs::load(input) {
        Ok(query) => query,
        Err(problem) => return Some(problem),
    };
    let Some(session) = session else {
        return match kqlite_syntax::parse(query.query()) {
            Ok(_) => None,
            Err(diagnostic) => Some(Problem::from_diagnostic(&query, diagnostic)),
        };
    };
    match session.plan(query.query()) {
        Ok(_) => None,
        Err(Error::Query(diagnostic)) => Some(Problem::from_diagnostic(&query, diagnostic)),
        Err(e) => Some(Problem::from_diagnostic(
            &query,
            kqlite_syntax::Diagnostic::new("KQL107", e.to_string())
                .with_label(kqlite_syntax::Span::new(0, 0), "while planning"),
        )),
    }
}

fn name(input: &Input) -> String {
    match input {
        Input::File(path) => path.display().to_string(),
        Input::Stdin => "<stdin>".to_string(),
        Input::Inline(_) => "<query>".to_string(),
    }
}
