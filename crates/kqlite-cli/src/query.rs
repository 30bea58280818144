//! `kqlite query`: run a query and print its result.

use crate::inputs::{self, Input, QueryText};
use crate::render::{Problem, Renderer};
use crate::{DataArgs, Outcome, OutputFormat, QueryTextArgs};
use clap::Args;
use kqlite_engine::{Error, output};
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
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
    /// At most this much memory for the query's sorts, aggregates and joins
    /// (e.g. 1GB, 512MiB); beyond it they spill to temporary files, and a
    /// query that still does not fit fails with a clear error.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
}

pub fn run(args: QueryArgs) -> Outcome {
    let renderer = Renderer::for_stderr();
    let text = match read_query(&args.text, &renderer) {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let started = Instant::now();
    let limit = match args.memory_limit.as_deref().map(crate::data::parse_size) {
        None => None,
        Some(Some(bytes)) => Some(bytes),
        Some(None) => {
            eprintln!(
                "error: --memory-limit `{}` is not a size such as 1GB or 512MiB",
                args.memory_limit.as_deref().unwrap_or_default()
            );
            return Outcome::Usage;
        }
    };
    let (mut session, reads) = match crate::data::session_limited(&args.data, limit) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    if let Err(outcome) = pin_now(&mut session, args.now.as_deref()) {
        return outcome;
    }
    let format = args.format.unwrap_or(if io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Json
    });
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(
        1 << 16,
        PipeWatch {
            inner: stdout.lock(),
            closed: false,
        },
    );
    let encoding = match format {
        OutputFormat::Json => Some(output::Encoding::Json),
        OutputFormat::Ndjson => Some(output::Encoding::Ndjson),
        OutputFormat::Csv => Some(output::Encoding::Csv),
        OutputFormat::Table => None,
    };
    // Machine-readable results are written as the query makes them; the
    // text table needs every row first to size its columns.
    let (rows_out, times, written) = match encoding {
        Some(encoding) => {
            let mut writer: Option<output::BatchWriter> = None;
            let ran = session.query_streamed(text.query(), &mut |columns, batch| {
                let w = match &mut writer {
                    Some(w) => w,
                    None => {
                        let mut w = output::BatchWriter::new(encoding, columns.to_vec());
                        w.begin(&mut out)?;
                        writer.insert(w)
                    }
                };
                w.write(batch, &mut out)
            });
            match ran {
                Ok((columns, times)) => {
                    let finished = match writer.take() {
                        Some(mut w) => w.finish(&mut out).map(|()| w.rows()),
                        // No batches: still the header, or `[]`.
                        None => {
                            let mut w = output::BatchWriter::new(encoding, columns);
                            w.begin(&mut out)
                                .and_then(|()| w.finish(&mut out))
                                .map(|()| 0)
                        }
                    };
                    match finished {
                        Ok(n) => (n, times, Ok(())),
                        Err(e) => (0, times, Err(e)),
                    }
                }
                Err(e) => {
                    let _ = out.flush();
                    if out.get_ref().closed {
                        return Outcome::Success;
                    }
                    return report(&renderer, &text, e);
                }
            }
        }
        None => {
            let (result, times) = match session.query_timed(text.query()) {
                Ok(r) => r,
                Err(e) => return report(&renderer, &text, e),
            };
            let written = write_table(&result, &mut out);
            (result.row_count(), times, written)
        }
    };
    let flushed = out.flush().map_err(|e| Error::Execution(e.to_string()));
    let closed = out.get_ref().closed;
    if let Err(e) = written.and(flushed) {
        // The reader went away (`kqlite query ... | head`): stop quietly.
        if closed {
            return Outcome::Success;
        }
        eprintln!("error: {e}");
        return Outcome::Data;
    }
    crate::data::report_skipped_while_reading(&reads, "");
    if args.stats {
        eprint!(
            "{}",
            stats_text(&reads, &times, rows_out, started.elapsed())
        );
    }
    Outcome::Success
}

/// The `--stats` summary (CLI.md): wall time per stage, what each table
/// read, rows out, peak memory.
fn stats_text(
    reads: &[crate::data::SourceRead],
    times: &kqlite_engine::StageTimes,
    rows_out: usize,
    total: Duration,
) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let load: Duration = reads.iter().map(|r| r.elapsed).sum();
    let stages = load + times.parse + times.plan + times.execute;
    let mut s = format!(
        "stats: {:.1} ms in all: read {:.1} ms, parse {:.2} ms, plan {:.2} ms, execute {:.1} ms, other (start-up, output) {:.1} ms\n",
        ms(total),
        ms(load),
        ms(times.parse),
        ms(times.plan),
        ms(times.execute),
        ms(total.saturating_sub(stages)),
    );
    for r in reads {
        s.push_str(&format!("  read {} in {:.1} ms\n", r.source, ms(r.elapsed)));
        for t in &r.tables {
            let plural = |n: u64| if n == 1 { "" } else { "s" };
            match &t.lazy {
                // Read while the query ran: what its scans took.
                Some(c) => {
                    use std::sync::atomic::Ordering::Relaxed;
                    let (rows, bytes) = (c.rows.load(Relaxed), c.bytes.load(Relaxed));
                    let (read, pruned) = (c.files_read.load(Relaxed), c.files_pruned.load(Relaxed));
                    s.push_str(&format!(
                        "    {}: {rows} rows, {bytes} bytes read during the query ({} file{}, {read} file range{} read, {pruned} file{} skipped by the time filter)\n",
                        t.table,
                        t.files,
                        plural(t.files as u64),
                        plural(read),
                        plural(pruned),
                    ));
                }
                None => s.push_str(&format!(
                    "    {}: {} rows, {} bytes in {} file{}\n",
                    t.table,
                    t.rows,
                    t.bytes,
                    t.files,
                    plural(t.files as u64),
                )),
            }
        }
    }
    s.push_str(&format!("  rows out: {rows_out}\n"));
    match peak_rss_kib() {
        Some(kib) => s.push_str(&format!(
            "  peak memory: {:.1} MiB (peak resident set)\n",
            kib as f64 / 1024.0
        )),
        None => s.push_str("  peak memory: not available on this system\n"),
    }
    s
}

/// The process's peak resident set size (Linux: VmHWM in /proc/self/status).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The query text from QUERY, `-f FILE` or stdin; a problem is drawn on
/// stderr (exit 2).
pub(crate) fn read_query(args: &QueryTextArgs, renderer: &Renderer) -> Result<QueryText, Outcome> {
    let input = match (&args.query, &args.file) {
        (Some(q), _) => Input::Inline(q.clone()),
        (None, Some(f)) => Input::File(f.clone()),
        (None, None) => Input::Stdin,
    };
    inputs::load(&input).map_err(|problem| {
        eprint!("{}", renderer.render(&problem));
        Outcome::Usage
    })
}

/// Pins `now()` from `--now` (RFC 3339); a malformed time is bad usage.
pub(crate) fn pin_now(
    session: &mut kqlite_engine::Session,
    now: Option<&str>,
) -> Result<(), Outcome> {
    let Some(now) = now else { return Ok(()) };
    match kqlite_engine::datetime::parse_datetime(now) {
        Some(nanos) => {
            session.set_now(nanos);
            Ok(())
        }
        None => {
            eprintln!("error: --now `{now}` is not an RFC 3339 time such as 2024-05-01T12:00:00Z");
            Err(Outcome::Usage)
        }
    }
}

pub(crate) fn report(renderer: &Renderer, text: &QueryText, e: Error) -> Outcome {
    match e {
        Error::Query(d) => {
            let problem = Problem::from_diagnostic(text, d);
            eprint!("{}", renderer.render(&problem));
            Outcome::Invalid
        }
        Error::Data(m) => {
            eprintln!("error: {m}");
            Outcome::Data
        }
        Error::Execution(m) => {
            eprintln!("error: {m}");
            Outcome::Data
        }
    }
}

/// An aligned text table for people.
fn write_table(
    result: &kqlite_engine::QueryResult,
    w: &mut dyn Write,
) -> kqlite_engine::Result<()> {
    let rows = output::rows(result)?;
    let mut builder = tabled::builder::Builder::default();
    builder.push_record(result.columns.iter().map(|c| c.name.clone()));
    for row in &rows {
        builder.push_record(row.iter().map(|(_, v)| output::text(v)));
    }
    let mut table = builder.build();
    table.with(tabled::settings::Style::psql());
    writeln!(w, "{table}").map_err(|e| Error::Execution(e.to_string()))?;
    writeln!(
        w,
        "({} row{})",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    )
    .map_err(|e| Error::Execution(e.to_string()))
}

/// stdout that remembers whether the reader closed the pipe.
struct PipeWatch<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.closed = true;
            }
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.closed = true;
            }
        })
    }
}
