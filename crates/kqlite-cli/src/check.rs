//! `kqlite check`: find errors in queries and rule files without running them.
//!
//! One stdout line per query, `PATH: ok` or `PATH:LINE:COL: error: MESSAGE`,
//! and for each failure a drawing of the error on stderr.

use crate::inputs::{self, Input, QueryText};
use crate::render::{Problem, ProblemKind, Renderer};
use crate::{DataArgs, Outcome};
use clap::Args;
use kqlite_engine::{Error, Flavor, Session};
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
    // A query written for Defender XDR advanced hunting (time column
    // `Timestamp`) binds against that flavour of the tables that have two.
    let mut sessions = Vec::new();
    if !args.syntax_only {
        for flavor in [Flavor::LogAnalytics, Flavor::DefenderXdr] {
            let mut session = match crate::data::session(&args.data) {
                Ok(s) => s,
                Err(outcome) => return outcome,
            };
            session.set_binding_only();
            if let Err(e) = session.register_builtin_schemas_as(flavor) {
                eprintln!("error: {e}");
                return Outcome::Data;
            }
            sessions.push(session);
        }
    }
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
        let (problems, warnings) = check_one(input, &sessions);
        let line = match problems.first() {
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
        for problem in problems {
            // A blank line keeps one report apart from the next.
            eprintln!("{}", renderer.render(&problem));
            let severity = match problem.kind {
                ProblemKind::Invalid => Outcome::Invalid,
                ProblemKind::Unreadable => Outcome::Usage,
            };
            outcome = outcome.max(severity);
        }
        for w in warnings {
            eprintln!("{w}");
        }
    }
    outcome
}

/// Checks one input: its problems (none when it is fine), and cost advice
/// as `PATH:LINE:COL: warning: ...` lines.
fn check_one(input: &Input, sessions: &[Session]) -> (Vec<Problem>, Vec<String>) {
    let query = match inputs::load(input) {
        Ok(query) => query,
        Err(problem) => return (vec![problem], Vec::new()),
    };
    let Some(first) = sessions.first() else {
        return match kqlite_syntax::parse(query.query()) {
            Ok(_) => (Vec::new(), Vec::new()),
            Err(diagnostic) => (
                vec![Problem::from_diagnostic(&query, diagnostic)],
                Vec::new(),
            ),
        };
    };
    // The first flavour that binds the query; else the first one's error.
    let session = sessions
        .iter()
        .find(|s| s.plan(query.query()).is_ok())
        .unwrap_or(first);
    let planned = match session.plan(query.query()) {
        Ok(_) => None,
        Err(Error::Query(diagnostic)) => Some(Problem::from_diagnostic(&query, diagnostic)),
        Err(e) => Some(Problem::from_diagnostic(
            &query,
            kqlite_syntax::Diagnostic::new("KQL107", e.to_string())
                .with_label(kqlite_syntax::Span::new(0, 0), "while planning"),
        )),
    };
    let mut problems: Vec<Problem> = planned.into_iter().collect();
    if is_rule_file(input) {
        problems.extend(rule_problems(&query, session));
    }
    let warnings = if problems.is_empty() {
        advice(&query, session)
    } else {
        Vec::new()
    };
    (problems, warnings)
}

fn is_rule_file(input: &Input) -> bool {
    matches!(input, Input::File(p) if p
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml")))
}

/// Sentinel's checks of a rule file's fields, and the columns its entity
/// mappings, custom details and overrides name that the query does not
/// output. (Problems in the query itself are reported by binding it.)
fn rule_problems(query: &QueryText, session: &Session) -> Vec<Problem> {
    let source = query.source();
    let found: Vec<kqlite_detect::Diagnostic> = match kqlite_detect::Rule::load(&query.name, source)
    {
        Err(load) => load,
        Ok(rule) => {
            let mut all = kqlite_detect::validate(&rule);
            all.extend(kqlite_detect::bind(&rule, session));
            all
        }
    };
    found
        .into_iter()
        .filter(|d| d.query.is_none())
        .map(|d| {
            let mut p = Problem::new(query.name.clone(), ProblemKind::Invalid, d.code, d.message);
            if let Some(span) = d.span {
                p = p.with_span(source.to_string(), span, &d.label);
            }
            if let Some(help) = d.help {
                p = p.with_help(help);
            }
            p
        })
        .collect()
}

/// Cost advice for a query that binds, as warning lines.
fn advice(query: &QueryText, session: &Session) -> Vec<String> {
    let Ok(found) = session.advise(query.query()) else {
        return Vec::new();
    };
    found
        .into_iter()
        .map(|a| {
            let d = kqlite_syntax::Diagnostic::new("KQL200", a.message).with_label(a.span, "here");
            Problem::from_diagnostic(query, d)
                .summary()
                .replacen(": error: ", ": warning: ", 1)
        })
        .collect()
}

fn name(input: &Input) -> String {
    match input {
        Input::File(path) => path.display().to_string(),
        Input::Stdin => "<stdin>".to_string(),
        Input::Inline(_) => "<query>".to_string(),
    }
}
