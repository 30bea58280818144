//! `kqlite query`: run a query and print its result.

use crate::{DataArgs, Outcome, OutputFormat, QueryTextArgs};
use clap::Args;

#[derive(Debug, Args)]
#[allow(dead_code)] // Read once the engine exists.
pub struct QueryArgs {
    #[command(flatten)]
    pub text: QueryTextArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Pin `now()` (RFC 3339, e.g. 2024-05-01T12:00:00Z); `ago(x)` is `now() - x`.
    /// Without it, the wall clock is used.
    #[arg(long, value_name = "T")]
    pub now: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "format", value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
    /// Print a cost summary to stderr after the result: time per stage,
    /// rows and bytes read per table, rows out, peak memory.
    #[arg(long)]
    pub stats: bool,
}

pub fn run(_args: QueryArgs) -> Outcome {
    crate::not_implemented("query")
}
