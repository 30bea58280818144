//! Parse speed: the three seed queries (examples/queries), and the
//! real-query corpus (../shared/corpus) in MB/s.
//!
//! `cargo bench -p kqlite-syntax --bench parse` — criterion reports the time
//! per iteration and the throughput.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/queries");
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => return Vec::new(),
    };
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

/// The seed queries: (bench name, file in examples/queries).
const SEEDS: &[(&str, &str)] = &[
    ("q1_policy_violations", "purview-policy-violations.kql"),
    ("q2_sensitive_access", "purview-sensitive-data-access.kql"),
    ("q3_seed_rule", "seed-rule-purview-cloudappevents.kql"),
];

fn bench_seeds(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/queries");
    let mut group = c.benchmark_group("parse_seed");
    for (name, file) in SEEDS {
        let text = std::fs::read_to_string(dir.join(file)).expect("seed query");
        assert!(kqlite_syntax::parse(&text).is_ok(), "{file} parses");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| black_box(kqlite_syntax::parse(black_box(&text))))
        });
    }
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let queries = corpus();
    if queries.is_empty() {
        eprintln!("SKIPPED: ../shared/corpus not found");
        return;
    }
    let bytes: usize = queries.iter().map(String::len).sum();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function("corpus", |b| {
        b.iter(|| {
            for q in &queries {
                let _ = black_box(kqlite_syntax::parse(black_box(q)));
            }
        })
    });
    let seed = queries
        .iter()
        .find(|q| q.contains("mv-expand") && q.contains("join"))
        .cloned()
        .unwrap_or_default();
    group.throughput(Throughput::Bytes(seed.len() as u64));
    group.sample_size(50);
    group.bench_function("one_query_mv_expand_join", |b| {
        b.iter(|| black_box(kqlite_syntax::parse(black_box(&seed))))
    });
    group.finish();
}

criterion_group!(benches, bench_seeds, bench_parse);
criterion_main!(benches);
