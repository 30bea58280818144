//! `kqlite convert`: turn exports into Parquet once, to query them fast later.

use crate::Outcome;
use clap::{Args, ValueEnum};
use kqlite_engine::source::{self, ParquetSink};
use std::path::{Path, PathBuf};

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
/// table into `--to`. Prints one line per table written. JSON lines of
/// known tables are streamed through (never held whole in memory); other
/// sources are read whole first.
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
        // A schema file beside the data is applied by the whole-file reader.
        let opened = if source::has_user_schema(None, src) {
            Ok(None)
        } else {
            source::open_lazy(None, src, source::Format::Auto, false)
        };
        let done = match opened {
            Ok(Some(tables)) => stream(tables, &args.to),
            Ok(None) => whole(src, &args.to),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = done {
            eprintln!("error: {e}");
            return Outcome::Data;
        }
    }
    Outcome::Success
}

/// Streams each lazily read table into its Parquet file. The file is
/// written under a temporary name and renamed when complete, so a failed
/// conversion leaves no partial table behind.
fn stream(tables: Vec<source::LazyJsonTable>, to: &Path) -> Result<(), String> {
    let mut session = kqlite_engine::Session::new().map_err(|e| e.to_string())?;
    let mut names = Vec::new();
    for t in tables {
        names.push((t.schema.name.clone(), t.schema.columns.clone()));
        session.register_lazy(std::sync::Arc::new(t));
    }
    for (name, columns) in names {
        let out = to.join(format!("{name}.parquet"));
        let partial = to.join(format!(".{name}.parquet.partial"));
        let mut sink = ParquetSink::create(&columns, &partial).map_err(|e| e.to_string())?;
        let query = format!("['{}']", name.replace('\'', "\\'"));
        let ran = session.query_streamed(&query, &mut |_, batch| sink.write(batch));
        if let Err(e) = ran {
            let _ = std::fs::remove_file(&partial);
            return Err(e.to_string());
        }
        let rows = sink.close().map_err(|e| e.to_string())?;
        std::fs::rename(&partial, &out).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("{name}: {rows} rows -> {}", out.display());
    }
    Ok(())
}

fn whole(src: &Path, to: &Path) -> Result<(), String> {
    let tables = source::load(None, src).map_err(|e| e.to_string())?;
    for t in tables {
        let out = to.join(format!("{}.parquet", t.schema.name));
        source::write_parquet(&t, &out).map_err(|e| e.to_string())?;
        println!("{}: {} rows -> {}", t.schema.name, t.rows(), out.display());
    }
    Ok(())
}
