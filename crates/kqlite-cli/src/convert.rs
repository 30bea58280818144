//! `kqlite convert`: turn exports into Parquet once, to query them fast later.

use crate::Outcome;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
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

/// Reads every source as `-d` would and writes one `<Table>.parquet` per
/// table into `--to`. Prints one line per table written.
pub fn run(args: ConvertArgs) -> Outcome {
    if let Err(e) = std::fs::create_dir_all(&args.to) {
        eprintln!("error: {}: {e}", args.to.display());
        return Outcome::Usage;
    }
    for src in &args.sources {
        if !src.exists() {
            eprintln!("error: {}: no such file or directory", src.display());
            return Outcome::Usage;
        }
        let tables = match kqlite_engine::source::load(None, src) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return Outcome::Data;
            }
        };
        for t in tables {
            let out = args.to.join(format!("{}.parquet", t.schema.name));
            if let Err(e) = kqlite_engine::source::write_parquet(&t, &out) {
                eprintln!("error: {e}");
                return Outcome::Data;
            }
            println!("{}: {} rows -> {}", t.schema.name, t.rows(), out.display());
        }
    }
    Outcome::Success
}
