//! `kqlite rule run` / `kqlite rule replay`: evaluate a Sentinel analytic rule.

use crate::{DataArgs, Outcome, OutputFormat};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Evaluate the rule's query once, at one `now`, and print the alerts.
    Run(RunArgs),
    /// Evaluate the rule as the scheduler would: every queryFrequency over the
    /// last queryPeriod, between --from and --to.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The analytic rule file (Sentinel YAML, as-is).
    #[arg(value_name = "RULE.yaml")]
    pub rule: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Pin `now()` (RFC 3339, e.g. 2024-05-01T12:00:00Z).
    #[arg(long, value_name = "T")]
    pub now: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "format", value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
#[allow(dead_code)] // Read once rules can be replayed.
pub struct ReplayArgs {
    /// The analytic rule file (Sentinel YAML, as-is).
    #[arg(value_name = "RULE.yaml")]
    pub rule: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Start of the replayed period (RFC 3339).
    #[arg(long, value_name = "T")]
    pub from: String,
    /// End of the replayed period (RFC 3339).
    #[arg(long, value_name = "T")]
    pub to: String,
    /// Output format.
    #[arg(short = 'o', long = "format", value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
}

pub fn run(command: RuleCommand) -> Outcome {
    match command {
        RuleCommand::Run(args) => run_once(args),
        RuleCommand::Replay(_) => crate::not_implemented("rule replay"),
    }
}

/// `kqlite rule run`: one scheduled evaluation at `--now`.
fn run_once(args: RunArgs) -> Outcome {
    let shown = args.rule.display().to_string();
    let text = match std::fs::read_to_string(&args.rule) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {shown}: {e}");
            return Outcome::Usage;
        }
    };
    let (mut session, reads) = match crate::data::session_reading(&args.data.data) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    if let Err(e) = session.register_builtin_schemas() {
        eprintln!("error: {e}");
        return Outcome::Data;
    }
    // A rule Sentinel would refuse does not run.
    let rule = match kqlite_detect::Rule::load(&shown, &text) {
        Ok(rule) => rule,
        Err(problems) => return refuse(&shown, &problems),
    };
    let mut problems = kqlite_detect::validate(&rule);
    problems.extend(kqlite_detect::bind(&rule, &session));
    if !problems.is_empty() {
        return refuse(&shown, &problems);
    }
    let Some(period) = rule.query_period.as_ref().map(|p| p.value.seconds()) else {
        eprintln!("error: {shown}: a rule needs a queryPeriod to run");
        return Outcome::Invalid;
    };
    let now = match args.now.as_deref() {
        Some(t) => match kqlite_engine::datetime::parse_datetime(t) {
            Some(n) => n,
            None => {
                eprintln!(
                    "error: --now `{t}` is not an RFC 3339 time such as 2024-05-01T12:00:00Z"
                );
                return Outcome::Usage;
            }
        },
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .unwrap_or(0),
    };
    session.set_now(now);
    let start = now.saturating_sub(period.saturating_mul(1_000_000_000));
    let (start_text, now_text) = (
        kqlite_engine::format::datetime(start),
        kqlite_engine::format::datetime(now),
    );
    // Every table read from data that has a TimeGenerated column sees only
    // the rule's window.
    let windowed: Vec<String> = reads
        .iter()
        .flat_map(|r| &r.tables)
        .filter(|t| t.columns.iter().any(|c| c.name == "TimeGenerated"))
        .map(|t| t.table.clone())
        .collect();
    let lets = kqlite_detect::evaluate::window_lets(&windowed, &start_text, &now_text);
    let result = match session.query(&format!("{lets}{}", rule.query.text)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {shown}: the query failed: {e}");
            return Outcome::Data;
        }
    };
    let rows: Vec<kqlite_detect::evaluate::Row> = match kqlite_engine::output::rows(&result) {
        Ok(rows) => rows.into_iter().map(|r| r.into_iter().collect()).collect(),
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Data;
        }
    };
    let alerts = kqlite_detect::evaluate::alerts(&rule, &rows, &start_text, &now_text);
    eprintln!(
        "{shown}: {} result row{} in [{start_text}, {now_text}]; {} alert{}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        alerts.len(),
        if alerts.len() == 1 { "" } else { "s" },
    );
    let format = args.format.unwrap_or(OutputFormat::Ndjson);
    let mut out = String::new();
    match format {
        OutputFormat::Json => {
            let all: Vec<serde_json::Value> =
                alerts.into_iter().map(serde_json::Value::Object).collect();
            out.push_str(&serde_json::Value::Array(all).to_string());
            out.push('\n');
        }
        _ => {
            for a in alerts {
                out.push_str(&serde_json::Value::Object(a).to_string());
                out.push('\n');
            }
        }
    }
    print!("{out}");
    Outcome::Success
}

fn refuse(shown: &str, problems: &[kqlite_detect::Diagnostic]) -> Outcome {
    eprintln!("error: {shown}: Sentinel would not run this rule:");
    for p in problems {
        eprintln!("  {}", p.message);
    }
    Outcome::Invalid
}
