//! `kqlite`: run KQL on local files.
//!
//! The command set and its flags are a public contract (see docs/cli.md and
//! the design's CLI.md): names, flags and exit codes must not change, only
//! grow. This file holds the clap definitions shared by several commands and
//! the dispatch; each command lives in its own module, and every error a user
//! sees is drawn by `render`.

#![forbid(unsafe_code)]

mod check;
mod convert;
mod data;
mod explain;
mod inputs;
mod query;
mod render;
mod rule;
mod rule_yaml;
mod tables;
mod test;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Local KQL (Kusto Query Language) engine: query exports, check and replay
/// Sentinel rules, without a cluster.
#[derive(Debug, Parser)]
#[command(name = "kqlite", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 invalid query or rule, 2 bad usage \
    (flags, missing file), 3 data error, 4 detection tests failed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a query over data files and print the result.
    Query(query::QueryArgs),
    /// Check queries and rule files for errors, without running them.
    Check(check::CheckArgs),
    /// Show the plan of a query, annotated with the KQL it came from.
    Explain(explain::ExplainArgs),
    /// Run or replay a Sentinel analytic rule.
    #[command(subcommand)]
    Rule(rule::RuleCommand),
    /// Run detection unit tests.
    Test(test::TestArgs),
    /// Convert exports to Parquet once, to query them fast later.
    Convert(convert::ConvertArgs),
    /// List the tables of the data sources: row counts and schemas.
    Tables(tables::TablesArgs),
}

/// How a process ends. The numbers are part of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Success = 0,
    /// The query or rule is invalid (syntax, unknown name, type error, unsupported construct).
    Invalid = 1,
    /// Bad usage: flags, a missing file.
    Usage = 2,
    /// Unreadable or malformed data.
    Data = 3,
    /// `kqlite test` ran and at least one test failed.
    #[allow(dead_code)] // Used once `kqlite test` exists.
    TestsFailed = 4,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(outcome as u8)
    }
}

/// `-d/--data` and the options of reading it, shared by every command that
/// reads tables.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Add a data source: a file (`SecurityAlert.ndjson` becomes table
    /// `SecurityAlert`), a directory of part files, or a Log Analytics export
    /// tree. `NAME=PATH` names the table explicitly. Repeatable.
    #[arg(short = 'd', long = "data", value_name = "[NAME=]PATH")]
    pub data: Vec<String>,
    /// Read the -d files as this format instead of recognising it: auto,
    /// jsonl, json-array, la-export, defender-streaming, az-cli,
    /// la-query-api, kusto-v1, kusto-v2, defender-api, csv, parquet.
    #[arg(long = "input-format", value_name = "FORMAT", value_parser = data::parse_format)]
    pub input_format: Option<kqlite_engine::source::Format>,
    /// Skip malformed records (reported on stderr: how many, and where)
    /// instead of failing.
    #[arg(long = "skip-bad-records")]
    pub skip_bad_records: bool,
    /// Folder of Sentinel watchlists for `_GetWatchlist('name')`: one
    /// `<name>.csv` each, and optionally `<name>.json` naming its search key.
    #[arg(long = "watchlists", value_name = "DIR")]
    pub watchlists: Option<PathBuf>,
    /// Folder the `externaldata` URLs resolve to: the file named after the
    /// URL's last path segment, or as `externaldata.json` maps it. Nothing is
    /// ever downloaded.
    #[arg(long = "externaldata", value_name = "DIR")]
    pub externaldata: Option<PathBuf>,
}

/// Where a query's text comes from: `QUERY`, `-f FILE`, or else stdin.
#[derive(Debug, Args)]
pub struct QueryTextArgs {
    /// The query text. With neither QUERY nor -f, the query is read from stdin.
    #[arg(value_name = "QUERY", conflicts_with = "file")]
    pub query: Option<String>,
    /// Read the query from FILE.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `-o/--format`: how results are printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table (the default on a terminal).
    Table,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A header row, then one row per line.
    Csv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Query(args) => query::run(args),
        Command::Check(args) => check::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Rule(command) => rule::run(command),
        Command::Test(args) => test::run(args),
        Command::Convert(args) => convert::run(args),
        Command::Tables(args) => tables::run(args),
    };
    outcome.into()
}
