//! Tables read while the query runs (`source::open_lazy`) hold exactly
//! what the eager reader builds from the same files: the same rows, the
//! same types, the same dynamic text, whatever columns a query reads.
//! And a lower bound on TimeGenerated skips export-tree hour folders
//! without changing the answer.

use kqlite_engine::{Session, output, source};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kqlite-lazy-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The eager and the lazy session over one `-d` path; None when the path
/// is not read lazily.
fn both(path: &Path) -> Option<(Session, Session, Vec<Arc<source::LazyJsonTable>>)> {
    let tables = source::open_lazy(None, path, source::Format::Auto, false).expect("opens")?;
    let mut lazy = Session::new().expect("session");
    let mut handles = Vec::new();
    for t in tables {
        let t = Arc::new(t);
        handles.push(t.clone());
        lazy.register_lazy(t);
    }
    let mut eager = Session::new().expect("session");
    for t in source::load(None, path).expect("loads") {
        eager.register_loaded(t).expect("registers");
    }
    Some((eager, lazy, handles))
}

/// The rows as NDJSON lines, sorted (neither reader promises an order).
fn rows(session: &Session, query: &str) -> Vec<String> {
    let result = session
        .query(query)
        .unwrap_or_else(|e| panic!("{e}\n{query}"));
    let mut buf = Vec::new();
    output::write_ndjson(&result, &mut buf).expect("encodes");
    let mut lines: Vec<String> = String::from_utf8(buf)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// Every query gives the same rows from both sessions; returns how many
/// tables were compared.
fn same(path: &Path, extra: &dyn Fn(&str) -> Vec<String>) -> usize {
    let Some((eager, lazy, tables)) = both(path) else {
        return 0;
    };
    for t in &tables {
        let name = &t.schema.name;
        let mut queries = vec![
            name.clone(),
            format!("{name} | getschema"),
            format!("{name} | count"),
        ];
        // Each column alone: a scan that builds one column.
        for c in &t.schema.columns {
            queries.push(format!("{name} | project ['{}']", c.name));
        }
        queries.extend(extra(name));
        for q in queries {
            let (a, b) = (rows(&eager, &q), rows(&lazy, &q));
            assert_eq!(a.len(), b.len(), "{}: {q}", path.display());
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x, y, "{}: {q}", path.display());
            }
        }
    }
    tables.len()
}

#[test]
fn generated_tables_read_the_same() {
    let dir = temp("gen");
    let spec = kqlite_gen::Spec {
        rows: 3_000,
        seed: 7,
        end: chrono::DateTime::parse_from_rfc3339("2024-06-01T00:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc),
    };
    for (i, (name, _)) in kqlite_gen::TABLES.iter().enumerate() {
        let path = dir.join(format!("{name}.ndjson"));
        let mut f = std::fs::File::create(&path).expect("create");
        kqlite_gen::write_table(&mut f, i, &spec).expect("write");
    }
    // The folder as one source: three tables.
    let n = same(&dir, &|t| {
        vec![
            format!(
                "{t} | where TimeGenerated > datetime(2024-05-20) | summarize count() by bin(TimeGenerated, 1d)"
            ),
            format!("{t} | take 5 | count"),
        ]
    });
    assert_eq!(n, 3);
}

#[test]
fn sample_and_fixture_files_read_the_same() {
    let mut compared = 0;
    for dir in ["examples/data", "testdata/formats"] {
        let dir = root().join(dir);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            compared += same(&p, &|_| Vec::new());
        }
    }
    // The three bundled tables and the SecurityAlert export tree at least.
    assert!(compared >= 4, "{compared}");
}

/// One SecurityAlert record per 6 minutes of 2024-05-01, in the hour
/// folder of its time, as workspace data export lays them out.
fn export_tree(dir: &Path) -> PathBuf {
    let container = dir.join("am-securityalert");
    for hour in 0..24 {
        let folder = container.join(format!(
            "WorkspaceResourceId=/subscriptions/0/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws/y=2024/m=05/d=01/h={hour:02}/m=00"
        ));
        std::fs::create_dir_all(&folder).expect("folder");
        let mut text = String::new();
        for k in 0..10 {
            text.push_str(&format!(
                "{{\"TimeGenerated\":\"2024-05-01T{hour:02}:{:02}:00.0000000Z\",\"AlertName\":\"a{hour}-{k}\",\"TenantId\":\"t\",\"Type\":\"SecurityAlert\"}}\n",
                k * 6
            ));
        }
        std::fs::write(folder.join("PT05M.json"), text).expect("write");
    }
    container
}

#[test]
fn a_time_filter_skips_hour_folders_and_keeps_the_answer() {
    let dir = temp("tree");
    let container = export_tree(&dir);
    let (eager, lazy, tables) = both(&container).expect("read lazily");
    let table = &tables[0];
    assert_eq!(table.schema.name, "SecurityAlert");
    // Export records carry TenantId; it is a column of the table.
    assert!(table.schema.column("TenantId").is_some());
    let q = "SecurityAlert | where TimeGenerated >= datetime(2024-05-01T20:00:00Z) | summarize n = count(), first = min(AlertName)";
    // Hours 20..23, ten records each.
    let answer = rows(&lazy, q);
    assert_eq!(answer, vec![r#"{"n":40,"first":"a20-0"}"#.to_string()]);
    assert_eq!(rows(&eager, q), answer);
    // Folders that end an hour (the allowance for clock skew) or more
    // before 20:00 are not read: hours 0..18.
    let pruned = table.counters.files_pruned.load(Ordering::Relaxed);
    assert_eq!(pruned, 19);
    // Without a lower bound nothing is skipped.
    let before = table.counters.files_pruned.load(Ordering::Relaxed);
    let q = "SecurityAlert | where TimeGenerated < datetime(2024-05-01T02:00:00Z) | count";
    assert_eq!(rows(&lazy, q), vec![r#"{"Count":20}"#.to_string()]);
    assert_eq!(table.counters.files_pruned.load(Ordering::Relaxed), before);
}

/// Parquet written by kqlite (`ParquetSink`, as `kqlite convert` writes
/// it) is read back with the same rows and types, and a time filter skips
/// the row groups whose TimeGenerated statistics lie below it.
#[test]
fn kqlite_parquet_reads_back_and_skips_row_groups() {
    use kqlite_engine::datafusion::arrow::array::{
        ArrayRef, StringArray, TimestampNanosecondArray,
    };
    use kqlite_engine::datafusion::arrow::record_batch::RecordBatch;
    use kqlite_engine::schema::Column;
    use kqlite_syntax::ast::ScalarType;
    let dir = temp("pq");
    let columns = vec![
        Column {
            name: "TimeGenerated".into(),
            ty: ScalarType::DateTime,
        },
        Column {
            name: "Name".into(),
            ty: ScalarType::String,
        },
        Column {
            name: "Id".into(),
            ty: ScalarType::Guid,
        },
        Column {
            name: "Bag".into(),
            ty: ScalarType::Dynamic,
        },
    ];
    let schema = kqlite_engine::types::arrow_schema(&columns);
    let path = dir.join("Events.parquet");
    let mut sink = source::ParquetSink::create(&columns, &path).expect("create");
    // 300,000 rows one second apart from 2024-01-01: three row groups of
    // at most 131,072 rows.
    const START: i64 = 1_704_067_200_000_000_000;
    let total = 300_000i64;
    for chunk in (0..total).collect::<Vec<_>>().chunks(50_000) {
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(
                TimestampNanosecondArray::from(
                    chunk
                        .iter()
                        .map(|i| START + i * 1_000_000_000)
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                chunk.iter().map(|i| format!("n{i}")),
            )),
            Arc::new(StringArray::from_iter_values(
                chunk
                    .iter()
                    .map(|i| format!("00000000-0000-0000-0000-{i:012}")),
            )),
            Arc::new(StringArray::from_iter_values(
                chunk.iter().map(|i| format!("{{\"k\":{i}}}")),
            )),
        ];
        sink.write(&RecordBatch::try_new(schema.clone(), arrays).expect("batch"))
            .expect("write");
    }
    assert_eq!(sink.close().expect("close"), 300_000);

    let tables = source::open_parquet(None, &path)
        .expect("opens")
        .expect("kqlite's own Parquet is read while the query runs");
    let t = &tables[0];
    assert_eq!(t.schema.name, "Events");
    assert_eq!(
        t.schema.columns, columns,
        "types as written, guid and dynamic kept"
    );
    assert_eq!(t.rows, 300_000);
    let mut session = Session::new().expect("session");
    session.register_provider(t.schema.clone(), t.provider.clone());
    // The last 10 seconds: 2024-01-01 + 299,990 s = 2024-01-04T11:19:50Z.
    let q = "Events | where TimeGenerated >= datetime(2024-01-04T11:19:50Z) \
             | summarize n = count(), first = min(Name), k = sum(tolong(Bag.k)), g = min(tostring(Id))";
    assert_eq!(
        rows(&session, q),
        vec![
            r#"{"n":10,"first":"n299990","k":2999945,"g":"00000000-0000-0000-0000-000000299990"}"#
                .to_string()
        ]
    );

    // The same scan through DataFusion directly: the Parquet scan's own
    // metrics say how many row groups its statistics let it skip.
    use kqlite_engine::datafusion::common::{Column as DfColumn, ScalarValue};
    use kqlite_engine::datafusion::logical_expr::{Expr, lit};
    let ctx = kqlite_engine::datafusion::prelude::SessionContext::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let pruned = rt.block_on(async {
        let bound = lit(ScalarValue::TimestampNanosecond(
            Some(START + 299_990 * 1_000_000_000),
            Some("UTC".into()),
        ));
        let df = ctx
            .read_table(t.provider.clone())
            .expect("table")
            .filter(Expr::Column(DfColumn::from_name("TimeGenerated")).gt_eq(bound))
            .expect("filter");
        let plan = df.create_physical_plan().await.expect("plan");
        kqlite_engine::datafusion::physical_plan::collect(plan.clone(), ctx.task_ctx())
            .await
            .expect("runs");
        kqlite_engine::datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(
            plan.as_ref(),
        )
        .indent(true)
        .to_string()
    });
    // Only the third row group (rows 262,144..299,999) can hold the last
    // ten seconds.
    assert!(
        pruned.contains("row_groups_pruned_statistics=3 total → 1 matched"),
        "{pruned}"
    );
}
