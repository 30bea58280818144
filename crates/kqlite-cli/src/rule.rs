//! `kqlite rule run` / `kqlite rule replay`: evaluate a Sentinel analytic rule.

use crate::{DataArgs, Outcome, OutputFormat};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Evaluate the rule's query once, at one `now`, and print the alerts.
    Run(RunArgs),
    /// Evaluate the rule as the scheduler would: every queryFrequency over the
    /// last queryPeriod, between --from and --to.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The analytic rule file (Sentinel YAML, as-is).
    #[arg(value_name = "RULE.yaml")]
    pub rule: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Pin `now()` (RFC 3339, e.g. 2024-05-01T12:00:00Z).
    #[arg(long, value_name = "T")]
    pub now: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "format", value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The analytic rule file (Sentinel YAML, as-is).
    #[arg(value_name = "RULE.yaml")]
    pub rule: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Start of the replayed period (RFC 3339).
    #[arg(long, value_name = "T")]
    pub from: String,
    /// End of the replayed period (RFC 3339).
    #[arg(long, value_name = "T")]
    pub to: String,
    /// Output format.
    #[arg(short = 'o', long = "format", value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
}

pub fn run(command: RuleCommand) -> Outcome {
    match command {
        RuleCommand::Run(args) => run_once(args),
        RuleCommand::Replay(args) => replay(args),
    }
}

/// A rule ready to evaluate: loaded, validated, its data registered.
struct Loaded {
    shown: String,
    rule: kqlite_detect::Rule,
    session: kqlite_engine::Session,
    /// Tables read from data that have a TimeGenerated column.
    windowed: Vec<String>,
    period_nanos: i64,
    /// What the -d sources gave, for the report of skipped bad records.
    reads: Vec<crate::data::SourceRead>,
}

/// Loads the rule and its data; a rule Sentinel would refuse does not run.
fn load(rule_path: &std::path::Path, data: &DataArgs) -> Result<Loaded, Outcome> {
    let shown = rule_path.display().to_string();
    let text = std::fs::read_to_string(rule_path).map_err(|e| {
        eprintln!("error: {shown}: {e}");
        Outcome::Usage
    })?;
    let (mut session, reads) = crate::data::session_reading(data)?;
    session.register_builtin_schemas().map_err(|e| {
        eprintln!("error: {e}");
        Outcome::Data
    })?;
    let rule = kqlite_detect::Rule::load(&shown, &text).map_err(|p| refuse(&shown, &p))?;
    let mut problems = kqlite_detect::validate(&rule);
    problems.extend(kqlite_detect::bind(&rule, &session));
    if !problems.is_empty() {
        return Err(refuse(&shown, &problems));
    }
    let Some(period) = rule.query_period.as_ref().map(|p| p.value.seconds()) else {
        eprintln!("error: {shown}: a rule needs a queryPeriod to run");
        return Err(Outcome::Invalid);
    };
    let windowed = reads
        .iter()
        .flat_map(|r| &r.tables)
        .filter(|t| t.columns.iter().any(|c| c.name == "TimeGenerated"))
        .map(|t| t.table.clone())
        .collect();
    Ok(Loaded {
        shown,
        rule,
        session,
        windowed,
        period_nanos: period.saturating_mul(1_000_000_000),
        reads,
    })
}

/// One evaluation at `now`: the number of result rows and the alerts.
fn evaluate(
    l: &mut Loaded,
    now: i64,
) -> Result<(usize, Vec<kqlite_detect::evaluate::Row>), Outcome> {
    l.session.set_now(now);
    let start = now.saturating_sub(l.period_nanos);
    let (start_text, now_text) = (
        kqlite_engine::format::datetime(start),
        kqlite_engine::format::datetime(now),
    );
    let lets = kqlite_detect::evaluate::window_lets(&l.windowed, &start_text, &now_text);
    let result = l
        .session
        .query(&format!("{lets}{}", l.rule.query.text))
        .map_err(|e| {
            eprintln!("error: {}: the query failed: {e}", l.shown);
            Outcome::Data
        })?;
    let mut rows: Vec<kqlite_detect::evaluate::Row> = kqlite_engine::output::rows(&result)
        .map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Data
        })?
        .into_iter()
        .map(|r| r.into_iter().collect())
        .collect();
    // Query results have no order; sorted, the same input always gives the
    // same alerts, byte for byte.
    rows.sort_by_cached_key(|r| serde_json::Value::Object(r.clone()).to_string());
    let alerts = kqlite_detect::evaluate::alerts(&l.rule, &rows, &start_text, &now_text);
    Ok((rows.len(), alerts))
}

fn parse_time(flag: &str, t: &str) -> Result<i64, Outcome> {
    kqlite_engine::datetime::parse_datetime(t).ok_or_else(|| {
        eprintln!("error: {flag} `{t}` is not an RFC 3339 time such as 2024-05-01T12:00:00Z");
        Outcome::Usage
    })
}

fn print_alerts(alerts: Vec<kqlite_detect::evaluate::Row>, format: Option<OutputFormat>) {
    let mut out = String::new();
    match format.unwrap_or(OutputFormat::Ndjson) {
        OutputFormat::Json => {
            let all: Vec<serde_json::Value> =
                alerts.into_iter().map(serde_json::Value::Object).collect();
            out.push_str(&serde_json::Value::Array(all).to_string());
            out.push('\n');
        }
        OutputFormat::Table => {
            // For people: the fields that tell alerts apart; -o ndjson has
            // every field.
            let fields = [
                "TimeGenerated",
                "AlertName",
                "AlertSeverity",
                "Tactics",
                "Entities",
            ];
            let mut b = tabled::builder::Builder::default();
            b.push_record(fields);
            for a in &alerts {
                b.push_record(fields.iter().map(|f| match a.get(*f) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => String::new(),
                }));
            }
            let mut table = b.build();
            table.with(tabled::settings::Style::psql());
            out.push_str(&format!(
                "{table}\n({} alert{})\n",
                alerts.len(),
                plural(alerts.len())
            ));
        }
        OutputFormat::Csv => {
            // A header, then one row per alert (RFC 4180 quoting).
            let quote = |v: &str| {
                if v.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", v.replace('"', "\"\""))
                } else {
                    v.to_string()
                }
            };
            if let Some(first) = alerts.first() {
                let keys: Vec<&String> = first.keys().collect();
                out.push_str(&keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(","));
                out.push('\n');
                for a in &alerts {
                    let cells: Vec<String> = keys
                        .iter()
                        .map(|k| match a.get(*k) {
                            Some(serde_json::Value::String(s)) => quote(s),
                            Some(v) => quote(&v.to_string()),
                            None => String::new(),
                        })
                        .collect();
                    out.push_str(&cells.join(","));
                    out.push('\n');
                }
            }
        }
        OutputFormat::Ndjson => {
            for a in alerts {
                out.push_str(&serde_json::Value::Object(a).to_string());
                out.push('\n');
            }
        }
    }
    print!("{out}");
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `kqlite rule run`: one scheduled evaluation at `--now`.
fn run_once(args: RunArgs) -> Outcome {
    let mut l = match load(&args.rule, &args.data) {
        Ok(l) => l,
        Err(outcome) => return outcome,
    };
    let now = match args.now.as_deref() {
        Some(t) => match parse_time("--now", t) {
            Ok(n) => n,
            Err(outcome) => return outcome,
        },
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .unwrap_or(0),
    };
    let (rows, alerts) = match evaluate(&mut l, now) {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    eprintln!(
        "{}: {rows} result row{} in [{}, {}]; {} alert{}",
        l.shown,
        plural(rows),
        kqlite_engine::format::datetime(now.saturating_sub(l.period_nanos)),
        kqlite_engine::format::datetime(now),
        alerts.len(),
        plural(alerts.len()),
    );
    print_alerts(alerts, args.format);
    crate::data::report_skipped_while_reading(&l.reads, "");
    Outcome::Success
}

/// `kqlite rule replay`: an evaluation every queryFrequency, the first one
/// queryFrequency after `--from` and the last at or before `--to`, with
/// suppression (after an alert, none for suppressionDuration). Prints the
/// alerts, and a summary on stderr: evaluations, alerts per day, top
/// entities.
fn replay(args: ReplayArgs) -> Outcome {
    let mut l = match load(&args.rule, &args.data) {
        Ok(l) => l,
        Err(outcome) => return outcome,
    };
    let (from, to) = match (
        parse_time("--from", &args.from),
        parse_time("--to", &args.to),
    ) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(o), _) | (_, Err(o)) => return o,
    };
    let Some(freq) = l.rule.query_frequency.as_ref().map(|f| f.value.seconds()) else {
        eprintln!(
            "error: {}: a rule needs a queryFrequency to replay",
            l.shown
        );
        return Outcome::Invalid;
    };
    let step = freq.saturating_mul(1_000_000_000).max(1);
    if to < from {
        eprintln!("error: --to is before --from");
        return Outcome::Usage;
    }
    if (to - from) / step > 100_000 {
        eprintln!("error: more than 100,000 evaluations between --from and --to");
        return Outcome::Usage;
    }
    let suppress = match (&l.rule.suppression_enabled, &l.rule.suppression_duration) {
        (Some(e), Some(d)) if e.value => d.value.seconds().saturating_mul(1_000_000_000),
        _ => 0,
    };
    let mut all = Vec::new();
    let (mut evaluations, mut suppressed) = (0usize, 0usize);
    let mut until = i64::MIN;
    let mut now = from.saturating_add(step);
    while now <= to {
        evaluations += 1;
        let (_, alerts) = match evaluate(&mut l, now) {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        if !alerts.is_empty() {
            if now < until {
                suppressed += alerts.len();
            } else {
                all.extend(alerts);
                until = now.saturating_add(suppress);
            }
        }
        now = now.saturating_add(step);
    }
    let mut per_day: std::collections::BTreeMap<String, usize> = Default::default();
    let mut entities: std::collections::BTreeMap<String, usize> = Default::default();
    for a in &all {
        let day = a
            .get("TimeGenerated")
            .and_then(|v| v.as_str())
            .map(|t| t.chars().take(10).collect::<String>())
            .unwrap_or_default();
        *per_day.entry(day).or_default() += 1;
        let listed: Vec<serde_json::Value> = a
            .get("Entities")
            .and_then(|v| v.as_str())
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        for e in listed {
            if let serde_json::Value::Object(mut m) = e {
                m.remove("$id");
                *entities
                    .entry(serde_json::Value::Object(m).to_string())
                    .or_default() += 1;
            }
        }
    }
    let mut summary = format!(
        "{}: {evaluations} evaluation{} every {} from {} to {}; {} alert{}, {suppressed} suppressed\n",
        l.shown,
        plural(evaluations),
        kqlite_engine::format::timespan(step),
        args.from,
        args.to,
        all.len(),
        plural(all.len()),
    );
    for (day, n) in &per_day {
        summary.push_str(&format!("  {day}: {n} alert{}\n", plural(*n)));
    }
    let mut top: Vec<(&String, &usize)> = entities.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (e, n) in top.into_iter().take(10) {
        summary.push_str(&format!("  entity {e}: in {n} alert{}\n", plural(*n)));
    }
    eprint!("{summary}");
    print_alerts(all, args.format);
    crate::data::report_skipped_while_reading(&l.reads, ", counted in every evaluation");
    Outcome::Success
}

fn refuse(shown: &str, problems: &[kqlite_detect::Diagnostic]) -> Outcome {
    eprintln!("error: {shown}: Sentinel would not run this rule:");
    for p in problems {
        eprintln!("  {}", p.message);
    }
    Outcome::Invalid
}
