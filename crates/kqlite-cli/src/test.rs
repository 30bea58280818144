//! `kqlite test`: detection unit tests.
//!
//! A test file (YAML, `*.test.yaml` when found in a directory) names the
//! query under test, the time to pin `now()` to, the input rows of each
//! table, and what the result must be. Settings at the top of the file are
//! shared by its tests; each test may override them:
//!
//! ```yaml
//! query_file: ../queries/seed-rule.kql    # or `query: |` inline, or `rule: x.yaml`
//! now: 2024-06-01T00:00:00Z
//! data:
//!   SecurityAlert:                        # rows typed by the table's schema
//!     rows:
//!       - {TimeGenerated: 2024-05-31T10:00:00Z, AlertName: x, Entities: "[]"}
//!   CloudAppEvents: {file: events.ndjson} # or a data file
//!   Lookup: {datatable: "datatable(k:string)['a']"}
//! tests:
//!   - name: alerts on a shared file
//!     expect: {count: 1, contains: [{FileName: report.docx}]}
//!   - name: the sync account is excluded
//!     data: {...}                         # replaces the shared tables it names
//!     expect: {count: 0}
//! ```
//!
//! `expect` takes `count` (result rows), `rows` (exactly these rows, in any
//! order), `contains` (each of these column values appears in some row) and
//! `excludes` (no row has all of these values). Tables the query reads but
//! the test does not give are empty. A failure prints what differs; exit
//! code 4 when any test fails, and `--junit FILE` writes JUnit XML.

use crate::Outcome;
use clap::Args;
use kqlite_engine::Session;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Detection test files, or directories searched for `*.test.yaml`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also write the results as a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    query_file: Option<String>,
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    data: BTreeMap<String, TableInput>,
    #[serde(default)]
    tests: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    query_file: Option<String>,
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    data: BTreeMap<String, TableInput>,
    expect: Expect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableInput {
    #[serde(default)]
    rows: Option<Vec<Value>>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    datatable: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    count: Option<usize>,
    #[serde(default)]
    rows: Option<Vec<Value>>,
    #[serde(default)]
    contains: Option<Vec<Value>>,
    #[serde(default)]
    excludes: Option<Vec<Value>>,
    /// With a `rule`: the number of alerts.
    #[serde(default)]
    alerts: Option<usize>,
    /// With a `rule`: entities (as SecurityAlert.Entities writes them,
    /// e.g. `{Type: account, FullName: x}`) some alert must have.
    #[serde(default)]
    entities: Option<Vec<Value>>,
    /// With a `rule`: custom detail values some alert must have.
    #[serde(default)]
    custom_details: Option<serde_json::Map<String, Value>>,
}

/// One test's outcome.
struct Ran {
    name: String,
    failure: Option<String>,
    time: Duration,
}

pub fn run(args: TestArgs) -> Outcome {
    let files = match collect(&args.paths) {
        Ok(f) => f,
        Err(m) => {
            eprintln!("error: {m}");
            return Outcome::Usage;
        }
    };
    if files.is_empty() {
        eprintln!("error: no test files (`*.test.yaml`) under the given paths");
        return Outcome::Usage;
    }
    let mut report = quick_junit::Report::new("kqlite test");
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        let shown = file.display().to_string();
        let results = run_file(file);
        let mut suite = quick_junit::TestSuite::new(shown.as_str());
        for r in results {
            let mut status = match &r.failure {
                None => quick_junit::TestCaseStatus::success(),
                Some(_) => {
                    quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Failure)
                }
            };
            match &r.failure {
                None => {
                    passed += 1;
                    println!("ok    {shown}: {}", r.name);
                }
                Some(why) => {
                    failed += 1;
                    println!("FAIL  {shown}: {}", r.name);
                    for line in why.lines() {
                        println!("      {line}");
                    }
                    status.set_message(why.lines().next().unwrap_or_default());
                    status.set_description(why.as_str());
                }
            }
            let mut case = quick_junit::TestCase::new(r.name.as_str(), status);
            case.set_classname(shown.as_str());
            case.set_time(r.time);
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    println!("{passed} passed, {failed} failed");
    if let Some(path) = &args.junit {
        let written = report
            .to_string()
            .map_err(|e| e.to_string())
            .and_then(|xml| std::fs::write(path, xml).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return Outcome::Usage;
        }
    }
    if failed > 0 {
        Outcome::TestsFailed
    } else {
        Outcome::Success
    }
}

/// Test files: named files as they are; directories searched for
/// `*.test.yaml` / `*.test.yml`, in name order.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let roots = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut out = Vec::new();
    for p in roots {
        if p.is_file() {
            out.push(p);
        } else if p.is_dir() {
            walk(&p, &mut out);
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().map(|n| n.to_string_lossy().to_string());
        if p.is_dir()
            && !name
                .as_deref()
                .is_some_and(|n| n.starts_with('.') || n == "target")
        {
            walk(&p, out);
        } else if name
            .as_deref()
            .is_some_and(|n| n.ends_with(".test.yaml") || n.ends_with(".test.yml"))
        {
            out.push(p);
        }
    }
}

/// Runs every test of one file; a file that cannot be read is one failure.
fn run_file(path: &Path) -> Vec<Ran> {
    let fail = |why: String| {
        vec![Ran {
            name: "(test file)".into(),
            failure: Some(why),
            time: Duration::ZERO,
        }]
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot read the test file: {e}")),
    };
    let file: TestFile = match serde_saphyr::from_str(&text) {
        Ok(f) => f,
        Err(e) => return fail(format!("not a valid test file: {e}")),
    };
    if file.tests.is_empty() {
        return fail("the file has no `tests:`".into());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    file.tests
        .iter()
        .map(|case| {
            let start = Instant::now();
            let failure = run_case(&file, case, dir).err();
            Ran {
                name: case.name.clone(),
                failure,
                time: start.elapsed(),
            }
        })
        .collect()
}

fn run_case(file: &TestFile, case: &Case, dir: &Path) -> Result<(), String> {
    let mut rule = None;
    let query = match (
        case.query.as_ref().or(file.query.as_ref()),
        case.query_file.as_ref().or(file.query_file.as_ref()),
        case.rule.as_ref().or(file.rule.as_ref()),
    ) {
        (Some(q), _, _) => q.clone(),
        (None, Some(f), _) => {
            std::fs::read_to_string(dir.join(f)).map_err(|e| format!("query_file {f}: {e}"))?
        }
        (None, None, Some(r)) => {
            let loaded = load_rule(&dir.join(r))?;
            let text = loaded.query.text.clone();
            rule = Some(loaded);
            text
        }
        (None, None, None) => {
            return Err("no `query`, `query_file` or `rule` for this test".into());
        }
    };
    let mut session = Session::new().map_err(|e| e.to_string())?;
    let now = match case.now.as_ref().or(file.now.as_ref()) {
        Some(now) => {
            let nanos = kqlite_engine::datetime::parse_datetime(now)
                .ok_or_else(|| format!("now: `{now}` is not an RFC 3339 time"))?;
            session.set_now(nanos);
            Some(nanos)
        }
        None => None,
    };
    let mut tables = file.data.clone();
    tables.extend(case.data.clone());
    let mut lets = String::new();
    let scratch = std::env::temp_dir().join(format!(
        "kqlite-test-{}-{}",
        std::process::id(),
        SCRATCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let loaded = load_tables(&mut session, &tables, dir, &scratch, &mut lets);
    std::fs::remove_dir_all(&scratch).ok();
    loaded?;
    session
        .register_builtin_schemas()
        .map_err(|e| e.to_string())?;
    // A rule runs as Sentinel runs it: every table with a TimeGenerated
    // column sees only the rule's period before `now`.
    let mut window = None;
    if let Some(rule) = &rule {
        let now = now.ok_or("a rule test needs `now`")?;
        let period = rule
            .query_period
            .as_ref()
            .map(|p| p.value.seconds())
            .ok_or("the rule has no queryPeriod")?;
        let start = now.saturating_sub(period.saturating_mul(1_000_000_000));
        let (start, end) = (
            kqlite_engine::format::datetime(start),
            kqlite_engine::format::datetime(now),
        );
        let timed: Vec<String> = tables
            .keys()
            .filter(|t| {
                kqlite_engine::schema::builtin(t)
                    .is_some_and(|s| s.columns.iter().any(|c| c.name == "TimeGenerated"))
            })
            .cloned()
            .collect();
        lets.push_str(&kqlite_detect::evaluate::window_lets(&timed, &start, &end));
        window = Some((start, end));
    }
    let result = session
        .query(&format!("{lets}{query}"))
        .map_err(|e| format!("the query failed: {e}"))?;
    let rows: Vec<Value> = kqlite_engine::output::rows(&result)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| Value::Object(r.into_iter().collect()))
        .collect();
    check(&case.expect, &rows)?;
    let wants_alerts = case.expect.alerts.is_some()
        || case.expect.entities.is_some()
        || case.expect.custom_details.is_some();
    match (&rule, window) {
        (Some(rule), Some((start, end))) if wants_alerts => {
            let mut sorted: Vec<kqlite_detect::evaluate::Row> =
                rows.iter().filter_map(|r| r.as_object().cloned()).collect();
            sorted.sort_by_cached_key(|r| Value::Object(r.clone()).to_string());
            let alerts = kqlite_detect::evaluate::alerts(rule, &sorted, &start, &end);
            check_alerts(&case.expect, &alerts)
        }
        _ if wants_alerts => Err("`alerts`, `entities` and `custom_details` need a `rule`".into()),
        _ => Ok(()),
    }
}

/// The alert expectations: how many alerts, entities some alert has (its
/// `Entities` hold an object with these fields), custom details some alert
/// has (the detail's values include this one).
fn check_alerts(expect: &Expect, alerts: &[kqlite_detect::evaluate::Row]) -> Result<(), String> {
    let mut problems = Vec::new();
    if let Some(n) = expect.alerts
        && alerts.len() != n
    {
        problems.push(format!(
            "expected {n} alert{}, got {}",
            if n == 1 { "" } else { "s" },
            alerts.len()
        ));
    }
    let parsed = |a: &kqlite_detect::evaluate::Row, key: &str| -> Value {
        a.get(key)
            .and_then(|v| v.as_str())
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null)
    };
    let all_entities: Vec<Value> = alerts
        .iter()
        .flat_map(|a| match parsed(a, "Entities") {
            Value::Array(items) => items,
            _ => Vec::new(),
        })
        .collect();
    for want in expect.entities.iter().flatten() {
        if !all_entities.iter().any(|e| matches(e, want)) {
            problems.push(format!(
                "no alert has the entity {want}; the alerts' entities are: {}",
                Value::Array(all_entities.clone())
            ));
        }
    }
    for (key, want) in expect.custom_details.iter().flatten() {
        let found = alerts.iter().any(|a| {
            let details = match parsed(a, "ExtendedProperties") {
                Value::Object(m) => m
                    .get("Custom Details")
                    .and_then(|v| v.as_str())
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            };
            match details.get(key) {
                Some(Value::Array(values)) => values
                    .iter()
                    .any(|v| same(v, want) || v.as_str() == Some(&want.to_string())),
                _ => false,
            }
        });
        if !found {
            problems.push(format!("no alert has the custom detail {key} = {want}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// A Sentinel rule file, loaded (its query's rows are what the rule alerts
/// on; `alerts`/`entities`/`custom_details` check the alerts it makes).
fn load_rule(path: &Path) -> Result<kqlite_detect::Rule, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("rule {}: {e}", path.display()))?;
    kqlite_detect::Rule::load(&path.display().to_string(), &text).map_err(|problems| {
        let first = problems
            .first()
            .map(|p| p.message.clone())
            .unwrap_or_default();
        format!("rule {}: {first}", path.display())
    })
}

static SCRATCH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn load_tables(
    session: &mut Session,
    tables: &BTreeMap<String, TableInput>,
    dir: &Path,
    scratch: &Path,
    lets: &mut String,
) -> Result<(), String> {
    for (name, input) in tables {
        match (&input.rows, &input.file, &input.datatable) {
            (Some(rows), None, None) => {
                // Inline rows go through the file reader, so they are typed
                // and checked exactly as exported rows are.
                std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
                let path = scratch.join(format!("{name}.ndjson"));
                let mut text = String::new();
                for r in rows {
                    if !r.is_object() {
                        return Err(format!(
                            "data.{name}.rows: each row is a mapping of columns"
                        ));
                    }
                    text.push_str(&r.to_string());
                    text.push('\n');
                }
                std::fs::write(&path, text).map_err(|e| e.to_string())?;
                register(session, name, &path)?;
            }
            (None, Some(f), None) => register(session, name, &dir.join(f))?,
            (None, None, Some(d)) => lets.push_str(&format!("let {name} = {d};\n")),
            _ => {
                return Err(format!(
                    "data.{name}: give exactly one of `rows`, `file` or `datatable`"
                ));
            }
        }
    }
    Ok(())
}

fn register(session: &mut Session, name: &str, path: &Path) -> Result<(), String> {
    let tables =
        kqlite_engine::source::load(Some(name), path).map_err(|e| format!("data.{name}: {e}"))?;
    for t in tables {
        session.register_loaded(t).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Whether a result value equals an expected one: numbers by value (`1`
/// and `1.0` agree), everything else exactly.
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same(x, y)))
        }
        _ => got == want,
    }
}

/// Whether a row has every column value of `part`.
fn matches(row: &Value, part: &Value) -> bool {
    match (row, part) {
        (Value::Object(r), Value::Object(p)) => {
            p.iter().all(|(k, v)| r.get(k).is_some_and(|x| same(x, v)))
        }
        _ => false,
    }
}

fn check(expect: &Expect, rows: &[Value]) -> Result<(), String> {
    if expect.count.is_none()
        && expect.rows.is_none()
        && expect.contains.is_none()
        && expect.excludes.is_none()
        && expect.alerts.is_none()
        && expect.entities.is_none()
        && expect.custom_details.is_none()
    {
        return Err(
            "`expect` needs count, rows, contains, excludes, alerts, entities or custom_details"
                .into(),
        );
    }
    let mut problems = Vec::new();
    let shown = |rows: &[Value]| -> String {
        let mut s = String::new();
        for r in rows.iter().take(10) {
            s.push_str(&format!("\n    {r}"));
        }
        if rows.len() > 10 {
            s.push_str(&format!("\n    ... {} more", rows.len() - 10));
        }
        s
    };
    if let Some(n) = expect.count
        && rows.len() != n
    {
        problems.push(format!(
            "expected {n} row{}, got {}:{}",
            if n == 1 { "" } else { "s" },
            rows.len(),
            shown(rows)
        ));
    }
    if let Some(want) = &expect.rows {
        let mut left: Vec<&Value> = rows.iter().collect();
        let mut missing = Vec::new();
        for w in want {
            match left.iter().position(|g| same(g, w)) {
                Some(i) => {
                    left.remove(i);
                }
                None => missing.push(w.clone()),
            }
        }
        if !missing.is_empty() {
            problems.push(format!(
                "expected rows not in the result:{}",
                shown(&missing)
            ));
        }
        if !left.is_empty() {
            let extra: Vec<Value> = left.into_iter().cloned().collect();
            problems.push(format!("rows not expected:{}", shown(&extra)));
        }
    }
    for part in expect.contains.iter().flatten() {
        if !rows.iter().any(|r| matches(r, part)) {
            problems.push(format!("no row has {part}; the rows are:{}", shown(rows)));
        }
    }
    for part in expect.excludes.iter().flatten() {
        let hits: Vec<Value> = rows.iter().filter(|r| matches(r, part)).cloned().collect();
        if !hits.is_empty() {
            problems.push(format!(
                "rows that should not be there ({part}):{}",
                shown(&hits)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}
