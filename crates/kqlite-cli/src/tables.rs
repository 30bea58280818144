//! `kqlite tables`: list the tables of the data sources: name, source,
//! rows, files and bytes, and the schema, marking the columns whose types
//! were inferred from the data rather than taken from a schema.

use crate::{DataArgs, Outcome};
use clap::Args;

#[derive(Debug, Args)]
pub struct TablesArgs {
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: TablesArgs) -> Outcome {
    let (session, mut reads) = match crate::data::session_reading(&args.data) {
        Ok(read) => read,
        Err(outcome) => return outcome,
    };
    // Tables read while queries run are counted by reading them once
    // (every record is checked on the way).
    for t in reads.iter_mut().flat_map(|r| r.tables.iter_mut()) {
        if t.lazy.is_none() {
            continue;
        }
        match session.query(&format!("['{}'] | count", t.table.replace('\'', "\\'"))) {
            Ok(result) => {
                use kqlite_engine::datafusion::arrow::array::{Array, Int64Array};
                t.rows = result
                    .batches
                    .first()
                    .and_then(|b| {
                        b.column(0)
                            .as_any()
                            .downcast_ref::<Int64Array>()
                            .map(|a| a.value(0))
                    })
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(0);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Outcome::Data;
            }
        }
    }
    crate::data::report_skipped_while_reading(&reads, "");
    print!("{}", listing(&reads));
    Outcome::Success
}

fn listing(reads: &[crate::data::SourceRead]) -> String {
    let mut s = String::new();
    for r in reads {
        for t in &r.tables {
            let schema = if let Some(file) = &t.schema_file {
                let extra = match t.inferred.len() {
                    0 => String::new(),
                    1 => ", 1 extra column typed from the data".to_string(),
                    n => format!(", {n} extra columns typed from the data"),
                };
                format!("schema from {}{extra}", file.display())
            } else if t.inferred.is_empty() && kqlite_engine::schema::builtin(&t.table).is_none() {
                "types as the file declares them".to_string()
            } else if t.inferred.len() == t.columns.len() {
                "types inferred from the data (no schema for this table)".to_string()
            } else if t.inferred.is_empty() {
                "built-in schema".to_string()
            } else {
                format!(
                    "built-in schema, {} extra column{} typed from the data",
                    t.inferred.len(),
                    if t.inferred.len() == 1 { "" } else { "s" }
                )
            };
            s.push_str(&format!(
                "{}: {} rows from {} ({} file{}, {} bytes); {schema}\n",
                t.table,
                t.rows,
                r.source,
                t.files,
                if t.files == 1 { "" } else { "s" },
                t.bytes,
            ));
            for c in &t.columns {
                let mark = if t.inferred.contains(&c.name) && t.inferred.len() != t.columns.len() {
                    "  (inferred)"
                } else {
                    ""
                };
                s.push_str(&format!("  {}: {}{mark}\n", c.name, c.ty.name()));
            }
        }
    }
    s
}
