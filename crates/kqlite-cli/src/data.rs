//! `-d [NAME=]PATH`: tables from exported files.

use crate::{DataArgs, Outcome};
use kqlite_engine::Session;
use kqlite_engine::source::{BadRecord, Format, LoadOptions};
use std::path::Path;
use std::time::{Duration, Instant};

/// Splits `NAME=PATH` (NAME an identifier) from a plain path.
fn split(arg: &str) -> (Option<&str>, &str) {
    if let Some((name, path)) = arg.split_once('=') {
        let ident = !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident && !Path::new(arg).exists() {
            return (Some(name), path);
        }
    }
    (None, arg)
}

/// What reading one `-d` source took, for `--stats`.
#[derive(Debug)]
pub struct SourceRead {
    pub source: String,
    pub elapsed: Duration,
    pub tables: Vec<TableRead>,
}

/// One table of a source: its rows, its files and their bytes, its
/// columns and which of them were typed from the data (no schema named
/// them).
#[derive(Debug)]
pub struct TableRead {
    pub table: String,
    pub rows: usize,
    pub files: usize,
    pub bytes: u64,
    pub columns: Vec<kqlite_engine::schema::Column>,
    pub inferred: Vec<String>,
    /// For a table read while queries run: what its scans read (`rows`
    /// is 0 until then).
    pub lazy: Option<std::sync::Arc<kqlite_engine::source::ReadCounters>>,
    /// The user schema file that typed the table, if any.
    pub schema_file: Option<std::path::PathBuf>,
}

/// Bad records listed one by one before the rest are only counted.
const SKIPPED_SHOWN: usize = 5;

/// Reports on stderr the records of a table skipped with
/// `--skip-bad-records` while loading it: how many, where the first few
/// are and what is wrong with them.
fn report_skipped(table: &str, skipped: &[BadRecord]) {
    let places: Vec<String> = skipped.iter().map(BadRecord::to_string).collect();
    report(table, skipped.len() as u64, &places, "");
}

fn report(table: &str, count: u64, first: &[String], when: &str) {
    if count == 0 {
        return;
    }
    let mut text = format!(
        "warning: table `{table}`: skipped {count} bad record{}{when} (--skip-bad-records):\n",
        if count == 1 { "" } else { "s" }
    );
    for p in first.iter().take(SKIPPED_SHOWN) {
        text.push_str(&format!("  {p}\n"));
    }
    let shown = first.len().min(SKIPPED_SHOWN) as u64;
    if count > shown {
        text.push_str(&format!("  ... and {} more\n", count - shown));
    }
    eprint!("{text}");
}

/// Reports on stderr the records skipped with `--skip-bad-records` by the
/// tables read while the query ran (they find bad records as they read);
/// `note` follows "while reading" (each scan counts what it skipped).
pub fn report_skipped_while_reading(reads: &[SourceRead], note: &str) {
    for t in reads.iter().flat_map(|r| r.tables.iter()) {
        if let Some(counters) = &t.lazy {
            let s = counters.skipped();
            let mut first: Vec<String> = Vec::new();
            for p in s.first {
                if !first.contains(&p) {
                    first.push(p);
                }
            }
            report(&t.table, s.count, &first, &format!(" while reading{note}"));
        }
    }
}

/// `--input-format NAME`: a format name, or a usage error listing them.
pub fn parse_format(name: &str) -> Result<Format, String> {
    Format::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!(
            "unknown input format `{name}` (expected one of: {})",
            names.join(", ")
        )
    })
}

/// How the `-d` files are read.
fn options(data: &DataArgs) -> LoadOptions {
    LoadOptions {
        format: data.input_format.unwrap_or(Format::Auto),
        skip_bad_records: data.skip_bad_records,
    }
}

/// Gives the session the `--watchlists` and `--externaldata` folders; a
/// folder that does not exist is bad usage.
fn folders(session: &mut Session, data: &DataArgs) -> Result<(), Outcome> {
    for (flag, dir) in [
        ("--watchlists", &data.watchlists),
        ("--externaldata", &data.externaldata),
    ] {
        if let Some(dir) = dir
            && !dir.is_dir()
        {
            eprintln!("error: {flag} {}: no such folder", dir.display());
            return Err(Outcome::Usage);
        }
    }
    if let Some(dir) = &data.watchlists {
        session.set_watchlists(dir.clone());
    }
    if let Some(dir) = &data.externaldata {
        session.set_externaldata(dir.clone());
    }
    Ok(())
}

/// A new session holding the tables of every `-d` source (none without
/// `-d`: for binding against the built-in schemas).
pub fn session(data: &DataArgs) -> Result<Session, Outcome> {
    let mut session = Session::new().map_err(|e| {
        eprintln!("error: {e}");
        Outcome::Data
    })?;
    folders(&mut session, data)?;
    load(&mut session, &data.data, &options(data))?;
    Ok(session)
}

/// The sample exports bundled in the binary (CLI.md: "With no `-d`, the
/// bundled sample tables ... are used, so every example in the README runs
/// from any directory"): examples/data, made by kqlite-gen.
const BUNDLED: &[(&str, &[u8])] = &[
    (
        "SecurityAlert.ndjson",
        include_bytes!("../../../examples/data/SecurityAlert.ndjson"),
    ),
    (
        "CloudAppEvents.ndjson",
        include_bytes!("../../../examples/data/CloudAppEvents.ndjson"),
    ),
    (
        "PurviewAuditLogs.ndjson",
        include_bytes!("../../../examples/data/PurviewAuditLogs.ndjson"),
    ),
];

/// Writes the bundled files once into a folder of the temporary directory
/// named after their contents, and returns it. Each file is written under a
/// temporary name and renamed, so concurrent runs never read half a file.
fn bundled_dir() -> std::io::Result<std::path::PathBuf> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (name, bytes) in BUNDLED {
        name.hash(&mut h);
        bytes.hash(&mut h);
    }
    let dir = std::env::temp_dir().join(format!("kqlite-samples-{:016x}", h.finish()));
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in BUNDLED {
        let path = dir.join(name);
        if path.metadata().is_ok_and(|m| m.len() == bytes.len() as u64) {
            continue;
        }
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(dir)
}

/// A new session holding the tables of every `-d` source, and what was read.
pub fn session_reading(data: &DataArgs) -> Result<(Session, Vec<SourceRead>), Outcome> {
    session_limited(data, None)
}

/// [`session_reading`] with queries limited to `memory_limit` bytes.
pub fn session_limited(
    data: &DataArgs,
    memory_limit: Option<usize>,
) -> Result<(Session, Vec<SourceRead>), Outcome> {
    let args = &data.data;
    let made = match memory_limit {
        Some(bytes) => Session::with_memory_limit(bytes),
        None => Session::new(),
    };
    let mut session = made.map_err(|e| {
        eprintln!("error: {e}");
        Outcome::Data
    })?;
    folders(&mut session, data)?;
    if !args.is_empty() {
        let reads = load(&mut session, args, &options(data))?;
        return Ok((session, reads));
    }
    let dir = bundled_dir().map_err(|e| {
        eprintln!("error: cannot write the bundled sample data to the temporary directory: {e}");
        Outcome::Data
    })?;
    let mut reads = load(
        &mut session,
        &[dir.display().to_string()],
        &LoadOptions::default(),
    )?;
    for r in &mut reads {
        r.source = "the bundled sample data".into();
    }
    Ok((session, reads))
}

/// A size such as `1GB`, `512MiB`, `1.5G` or `1048576` (bytes); the
/// decimal units count 1,000s and the binary ones 1,024s.
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = n * scale;
    (bytes.is_finite() && (1.0..1e18).contains(&bytes)).then_some(bytes as usize)
}

/// Loads every `-d` source into the session. A missing path is bad usage
/// (exit 2); an unreadable or malformed file is a data error (exit 3).
/// Records skipped with `--skip-bad-records` are reported on stderr.
pub fn load(
    session: &mut Session,
    args: &[String],
    options: &LoadOptions,
) -> Result<Vec<SourceRead>, Outcome> {
    let mut reads = Vec::new();
    for arg in args {
        let (name, path) = split(arg);
        let path = Path::new(path);
        if !path.exists() {
            eprintln!(
                "error: -d {arg}: {}: no such file or directory",
                path.display()
            );
            return Err(Outcome::Usage);
        }
        let start = Instant::now();
        // A user schema file beside the data types the table: the eager
        // reader applies it.
        let user_schema = kqlite_engine::source::has_user_schema(name, path);
        if !user_schema && load_lazy(session, name, path, arg, options, start, &mut reads)? {
            continue;
        }
        let tables = kqlite_engine::source::load_with(name, path, options).map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Data
        })?;
        let elapsed = start.elapsed();
        let mut read = SourceRead {
            source: path.display().to_string(),
            elapsed,
            tables: Vec::new(),
        };
        for t in tables {
            let name = t.schema.name.clone();
            // The files the reader took this table from, and their size
            // (a file shared by several tables counts for each).
            let files = t.sources.len();
            let bytes = t
                .sources
                .iter()
                .map(|f| f.path.metadata().map_or(0, |m| m.len()))
                .sum();
            report_skipped(&name, &t.skipped);
            let inferred = if t.inferred {
                t.schema.columns.iter().map(|c| c.name.clone()).collect()
            } else {
                t.inferred_columns.clone()
            };
            read.tables.push(TableRead {
                table: name,
                rows: t.rows(),
                files,
                bytes,
                columns: t.schema.columns.clone(),
                inferred,
                lazy: None,
                schema_file: t.schema_file.clone(),
            });
            session.register_loaded(t).map_err(|e| {
                eprintln!("error: {e}");
                Outcome::Data
            })?;
        }
        reads.push(read);
    }
    Ok(reads)
}

/// Registers the tables of a source that can be read while queries run
/// (JSON lines of known tables: only the columns a query uses are built);
/// false when the source needs the eager reader.
fn load_lazy(
    session: &mut Session,
    name: Option<&str>,
    path: &Path,
    arg: &str,
    options: &LoadOptions,
    start: Instant,
    reads: &mut Vec<SourceRead>,
) -> Result<bool, Outcome> {
    let opened =
        kqlite_engine::source::open_lazy(name, path, options.format, options.skip_bad_records)
            .map_err(|e| {
                eprintln!("error: -d {arg}: {e}");
                Outcome::Data
            })?;
    let Some(tables) = opened else {
        if !matches!(options.format, Format::Auto | Format::Parquet) {
            return Ok(false);
        }
        return load_parquet(session, name, path, arg, start, reads);
    };
    let mut read = SourceRead {
        source: path.display().to_string(),
        elapsed: start.elapsed(),
        tables: Vec::new(),
    };
    for t in tables {
        let t = std::sync::Arc::new(t);
        let known = kqlite_engine::schema::builtin(&t.schema.name);
        let inferred = t
            .schema
            .columns
            .iter()
            .filter(|c| known.as_ref().is_some_and(|k| k.column(&c.name).is_none()))
            .map(|c| c.name.clone())
            .collect();
        read.tables.push(TableRead {
            table: t.schema.name.clone(),
            rows: 0,
            files: t.files().len(),
            bytes: t.files().iter().map(|f| f.size).sum(),
            columns: t.schema.columns.clone(),
            inferred,
            lazy: Some(t.counters.clone()),
            schema_file: None,
        });
        session.register_lazy(t);
    }
    reads.push(read);
    Ok(true)
}

/// Registers Parquet files written by `kqlite convert` as tables read
/// while queries run (only the columns used; row groups skipped by their
/// statistics); false when the source needs the eager reader.
fn load_parquet(
    session: &mut Session,
    name: Option<&str>,
    path: &Path,
    arg: &str,
    start: Instant,
    reads: &mut Vec<SourceRead>,
) -> Result<bool, Outcome> {
    let opened = kqlite_engine::source::open_parquet(name, path).map_err(|e| {
        eprintln!("error: -d {arg}: {e}");
        Outcome::Data
    })?;
    let Some(tables) = opened else {
        return Ok(false);
    };
    let mut read = SourceRead {
        source: path.display().to_string(),
        elapsed: start.elapsed(),
        tables: Vec::new(),
    };
    for t in tables {
        read.tables.push(TableRead {
            table: t.schema.name.clone(),
            rows: usize::try_from(t.rows).unwrap_or(usize::MAX),
            files: t.files.len(),
            bytes: t.bytes,
            columns: t.schema.columns.clone(),
            inferred: Vec::new(),
            lazy: None,
            schema_file: None,
        });
        session.register_provider(t.schema, t.provider);
    }
    reads.push(read);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn sizes() {
        use super::parse_size;
        assert_eq!(parse_size("1GB"), Some(1_000_000_000));
        assert_eq!(parse_size("512MiB"), Some(512 * 1024 * 1024));
        assert_eq!(parse_size("1.5g"), Some(1_500_000_000));
        assert_eq!(parse_size("4096"), Some(4096));
        for bad in ["", "GB", "1XB", "-1GB", "0", "1e400"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(split("T=x.csv"), (Some("T"), "x.csv"));
        assert_eq!(split("x.csv"), (None, "x.csv"));
        assert_eq!(split("a/b=c.csv"), (None, "a/b=c.csv"));
    }
}
