//! Plan and execute times: the three seed queries (examples/queries) planned
//! against the built-in schemas and run over data made by kqlite-gen (10,000
//! rows per table, in memory), and a few typical hunting queries over a
//! generated sign-in table (200,000 rows, in memory).
//!
//! `cargo bench -p kqlite-engine --bench engine`. Parse speed is measured by
//! kqlite-syntax's `parse` bench.

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{ArrayRef, StringArray, TimestampNanosecondArray};
use datafusion::arrow::record_batch::RecordBatch;
use kqlite_engine::Session;
use kqlite_engine::schema::{Column, TableSchema};
use kqlite_engine::types::arrow_schema;
use kqlite_syntax::ast::ScalarType;
use std::hint::black_box;
use std::sync::Arc;

const ROWS: usize = 200_000;
const START: i64 = 1_704_067_200_000_000_000; // 2024-01-01T00:00:00Z

fn session() -> Session {
    let cols = [
        ("TimeGenerated", ScalarType::DateTime),
        ("UserPrincipalName", ScalarType::String),
        ("ResultType", ScalarType::String),
        ("IPAddress", ScalarType::String),
        ("AppDisplayName", ScalarType::String),
    ];
    let schema = TableSchema {
        name: "SigninLogs".into(),
        columns: cols
            .iter()
            .map(|(n, t)| Column {
                name: n.to_string(),
                ty: *t,
            })
            .collect(),
    };
    let arrow = arrow_schema(&schema.columns);
    let apps = [
        "Office 365 Exchange Online",
        "Azure Portal",
        "Microsoft Teams",
        "SharePoint",
    ];
    let mut batches = Vec::new();
    for chunk in 0..ROWS / 10_000 {
        let ids = (chunk * 10_000)..((chunk + 1) * 10_000);
        let time: TimestampNanosecondArray = ids
            .clone()
            .map(|i| Some(START + i as i64 * 13_000_000_000))
            .collect::<TimestampNanosecondArray>()
            .with_timezone("UTC");
        let user: StringArray = ids
            .clone()
            .map(|i| Some(format!("user{}@contoso.com", i % 997)))
            .collect();
        let result: StringArray = ids
            .clone()
            .map(|i| {
                Some(if i % 7 == 0 {
                    "50126".to_string()
                } else {
                    "0".to_string()
                })
            })
            .collect();
        let ip: StringArray = ids
            .clone()
            .map(|i| Some(format!("10.0.{}.{}", i % 50, i % 250)))
            .collect();
        let app: StringArray = ids
            .map(|i| Some(apps[i % apps.len()].to_string()))
            .collect();
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(time),
            Arc::new(user),
            Arc::new(result),
            Arc::new(ip),
            Arc::new(app),
        ];
        batches.push(RecordBatch::try_new(arrow.clone(), arrays).expect("batch"));
    }
    let mut s = Session::new().expect("session");
    s.set_now(START + ROWS as i64 * 13_000_000_000);
    s.register_batches(schema, batches).expect("register");
    s
}

const QUERIES: &[(&str, &str)] = &[
    (
        "failed_signins_by_user",
        "SigninLogs | where ResultType != \"0\" | summarize count() by UserPrincipalName | top 10 by count_",
    ),
    (
        "has_term_by_hour",
        "SigninLogs | where AppDisplayName has \"exchange\" | summarize dcount(IPAddress) by bin(TimeGenerated, 1h)",
    ),
    (
        "recent_string_functions",
        "SigninLogs | where TimeGenerated > ago(1d) | extend d = tolower(UserPrincipalName) | where d endswith \"@contoso.com\" | count",
    ),
];

/// The seed queries: (bench name, file in examples/queries).
const SEEDS: &[(&str, &str)] = &[
    ("q1_policy_violations", "purview-policy-violations.kql"),
    ("q2_sensitive_access", "purview-sensitive-data-access.kql"),
    ("q3_seed_rule", "seed-rule-purview-cloudappevents.kql"),
];

const SEED_ROWS: usize = 10_000;
const SEED_NOW: &str = "2024-06-01T00:00:00Z";

fn seeds() -> Vec<(&'static str, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/queries");
    SEEDS
        .iter()
        .map(|(name, file)| {
            let text = std::fs::read_to_string(dir.join(file)).expect("seed query");
            (*name, text)
        })
        .collect()
}

/// The three seed tables, generated (10,000 rows each, kqlite-gen seed 1,
/// ending at SEED_NOW) as NDJSON and loaded into memory.
fn seed_session() -> Session {
    let end = chrono::DateTime::parse_from_rfc3339(SEED_NOW)
        .expect("time")
        .with_timezone(&chrono::Utc);
    let spec = kqlite_gen::Spec {
        rows: SEED_ROWS,
        seed: 1,
        end,
    };
    let dir = std::env::temp_dir().join(format!("kqlite-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut s = Session::new().expect("session");
    s.set_now(kqlite_engine::datetime::parse_datetime(SEED_NOW).expect("now"));
    for (i, (name, _)) in kqlite_gen::TABLES.iter().enumerate() {
        let path = dir.join(format!("{name}.ndjson"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        kqlite_gen::write_table(&mut f, i, &spec).expect("generate");
        std::io::Write::flush(&mut f).expect("write");
        drop(f);
        for t in kqlite_engine::source::load(None, &path).expect("load") {
            s.register_loaded(t).expect("register");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    s
}

/// Parse and logical planning (what `--stats` calls plan), and that plus
/// DataFusion's optimiser and physical planner, against the built-in
/// schemas; then the three queries run over 10,000 generated rows a table.
fn bench_seeds(c: &mut Criterion) {
    let queries = seeds();
    let mut schemas = Session::new().expect("session");
    schemas.set_now(kqlite_engine::datetime::parse_datetime(SEED_NOW).expect("now"));
    schemas
        .register_builtin_schemas()
        .expect("built-in schemas");
    let mut plan = c.benchmark_group("plan_seed");
    for (name, q) in &queries {
        plan.bench_function(*name, |b| {
            b.iter(|| black_box(schemas.plan(black_box(q)).expect("plans")))
        });
    }
    plan.finish();

    // The same logical plans through DataFusion, as a query is before it
    // runs: a context with kqlite's functions.
    let ctx = datafusion::prelude::SessionContext::new_with_config(
        datafusion::prelude::SessionConfig::new()
            .with_target_partitions(std::thread::available_parallelism().map_or(1, |n| n.get())),
    );
    for udf in kqlite_engine::functions::all() {
        ctx.register_udf(udf.as_ref().clone());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut physical = c.benchmark_group("plan_seed_physical");
    for (name, q) in &queries {
        physical.bench_function(*name, |b| {
            b.iter(|| {
                let (logical, _) = schemas.plan(black_box(q)).expect("plans");
                let state = ctx.state();
                black_box(
                    rt.block_on(state.create_physical_plan(&logical))
                        .expect("physical plan"),
                )
            })
        });
    }
    physical.finish();

    let data = seed_session();
    let mut exec = c.benchmark_group("execute_seed_10k_rows");
    exec.sample_size(20);
    for (name, q) in &queries {
        let rows = data.query(q).expect("runs").row_count();
        assert!(rows > 0, "{name} should return rows");
        exec.bench_function(*name, |b| {
            b.iter(|| black_box(data.query(black_box(q)).expect("runs")))
        });
    }
    exec.finish();
}

fn bench(c: &mut Criterion) {
    let s = session();
    let mut plan = c.benchmark_group("plan");
    for (name, q) in QUERIES {
        plan.bench_function(*name, |b| {
            b.iter(|| black_box(s.plan(black_box(q)).expect("plans")))
        });
    }
    plan.finish();
    let mut exec = c.benchmark_group("execute_200k_rows");
    exec.sample_size(10);
    for (name, q) in QUERIES {
        exec.bench_function(*name, |b| {
            b.iter(|| black_box(s.query(black_box(q)).expect("runs")))
        });
    }
    exec.finish();
}

criterion_group!(benches, bench_seeds, bench);
criterion_main!(benches);
