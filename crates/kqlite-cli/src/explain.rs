//! `kqlite explain`: show a query's plan, annotated with the KQL it came from.

use crate::{DataArgs, Outcome, QueryTextArgs};
use clap::Args;

#[derive(Debug, Args)]
#[allow(dead_code)] // Read once the planner exists.
pub struct ExplainArgs {
    #[command(flatten)]
    pub text: QueryTextArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Also run the query and show the metrics of each operator.
    #[arg(long)]
    pub analyze: bool,
}

pub fn run(_args: ExplainArgs) -> Outcome {
    crate::not_implemented("explain")
}
