//! `kqlite tables`: list the tables of the data sources.

use crate::{DataArgs, Outcome};
use clap::Args;

#[derive(Debug, Args)]
#[allow(dead_code)] // Read once data sources exist.
pub struct TablesArgs {
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(_args: TablesArgs) -> Outcome {
    crate::not_implemented("tables")
}
