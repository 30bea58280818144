//! Plan and execute times for a few typical hunting queries over a
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

criterion_group!(benches, bench);
criterion_main!(benches);
