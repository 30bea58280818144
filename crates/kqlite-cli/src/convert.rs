//! `kqlite convert`: turn exports into Parquet once, to query them fast later.

use crate::Outcome;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[allow(dead_code)] // Read once conversion exists.
pub struct ConvertArgs {
    /// Export files or directories to convert.
    #[arg(value_name = "SRC", required = true)]
    pub sources: Vec<PathBuf>,
    /// Directory to write the converted tables to.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Output file format.
    #[arg(long, value_name = "FORMAT", default_value = "parquet")]
    pub format: ConvertFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConvertFormat {
    Parquet,
}

pub fn run(_args: ConvertArgs) -> Outcome {
    crate::not_implemented("convert")
}
