//! `kqlite-gen --rows N --out DIR [--seed S] [--end T]`: writes
//! DIR/SecurityAlert.ndjson, DIR/CloudAppEvents.ndjson and
//! DIR/PurviewAuditLogs.ndjson.

use chrono::{DateTime, Utc};
use kqlite_gen::{Spec, TABLES, write_table};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: kqlite-gen --rows N --out DIR [--seed S] [--end 2024-06-01T00:00:00Z]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut rows = None;
    let mut out = None;
    let mut seed = 1u64;
    let mut end: DateTime<Utc> = DateTime::from_timestamp(1_717_200_000, 0).unwrap_or_default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        match (a.as_str(), value) {
            ("--rows", Some(v)) => match v.parse::<usize>() {
                Ok(n) => rows = Some(n),
                Err(_) => return usage(),
            },
            ("--out", Some(v)) => out = Some(PathBuf::from(v)),
            ("--seed", Some(v)) => match v.parse() {
                Ok(s) => seed = s,
                Err(_) => return usage(),
            },
            ("--end", Some(v)) => match DateTime::parse_from_rfc3339(&v) {
                Ok(t) => end = t.with_timezone(&Utc),
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
    }
    let (Some(rows), Some(out)) = (rows, out) else {
        return usage();
    };
    let spec = Spec { rows, seed, end };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: {}: {e}", out.display());
        return ExitCode::from(2);
    }
    for (i, (name, _)) in TABLES.iter().enumerate() {
        let path = out.join(format!("{name}.ndjson"));
        let written = std::fs::File::create(&path).and_then(|f| {
            let mut w = BufWriter::new(f);
            write_table(&mut w, i, &spec)?;
            w.flush()
        });
        if let Err(e) = written {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(3);
        }
    }
    ExitCode::SUCCESS
}
