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
#[allow(dead_code)] // Read once rules can run.
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
        RuleCommand::Run(_) => crate::not_implemented("rule run"),
        RuleCommand::Replay(_) => crate::not_implemented("rule replay"),
    }
}
