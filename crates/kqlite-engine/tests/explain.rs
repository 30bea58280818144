//! `explain --analyze`: every physical operator is labelled with the KQL pipe
//! stages it came from, and its row count is what the data gives.
//!
//! The labels expected are those the query's text forces (the filter on
//! TimeGenerated is stage 2's, the join is the join stage's); the row counts
//! are worked out here from the bundled data files (examples/data) with
//! serde_json, following the KQL reference (`where`, `mv-expand` of an
//! array gives a row per element, `=~` is case-insensitive, `tostring` of a
//! missing property is "", an inner join gives every matching pair,
//! `summarize ... by` gives a row per distinct key), never from kqlite's
//! own output.

use kqlite_engine::Session;
use kqlite_engine::explain::{ExplainOptions, Explained, Label, PlanLine};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const NOW: &str = "2024-06-01T00:00:00Z";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled tables, read as `kqlite explain -d examples/data` reads them.
fn session() -> Session {
    let mut session = Session::new().expect("session");
    session.set_now(kqlite_engine::datetime::parse_datetime(NOW).expect("now"));
    for name in ["SecurityAlert", "CloudAppEvents", "PurviewAuditLogs"] {
        let path = repo().join(format!("examples/data/{name}.ndjson"));
        let tables = kqlite_engine::source::open_lazy(
            None,
            &path,
            kqlite_engine::source::Format::Auto,
            false,
        )
        .expect("opens")
        .expect("JSON lines");
        for t in tables {
            session.register_lazy(std::sync::Arc::new(t));
        }
    }
    session
}

fn rows_of(table: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join(format!("examples/data/{table}.ndjson")))
        .expect("bundled data");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn analyze(session: &Session, query: &str) -> Explained {
    session
        .explain_plans(query, ExplainOptions { analyze: true })
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

fn example(name: &str) -> String {
    std::fs::read_to_string(repo().join("examples/queries").join(name)).expect("example query")
}

/// The only physical operator of this kind whose text has `needle`.
fn op<'a>(plans: &'a Explained, name: &str, needle: &str) -> &'a PlanLine {
    let found: Vec<&PlanLine> = plans
        .physical
        .iter()
        .filter(|l| l.name == name && l.text.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {name} with `{needle}` expected in\n{}",
        plans.render(true)
    );
    found[0]
}

fn all<'a>(plans: &'a Explained, name: &str) -> Vec<&'a PlanLine> {
    plans.physical.iter().filter(|l| l.name == name).collect()
}

fn stages(l: &PlanLine) -> BTreeSet<usize> {
    match &l.label {
        Label::Stages(s) => s.clone(),
        other => panic!("`{}` should do work of a stage, is {other}", l.text),
    }
}

fn set(s: &[usize]) -> BTreeSet<usize> {
    s.iter().copied().collect()
}

fn rows(l: &PlanLine) -> usize {
    l.metrics
        .as_ref()
        .and_then(|m| m.rows)
        .unwrap_or_else(|| panic!("`{}` has no row count", l.text))
}

fn string<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn instant(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// Every operator that works for a stage names one that exists, and every
/// operator that does no work serves some stage.
fn check_every_label(plans: &Explained) {
    let n = plans.stages.len();
    for l in &plans.physical {
        match &l.label {
            Label::Stages(s) | Label::Partly(s) => {
                assert!(
                    !s.is_empty() && s.iter().all(|k| (1..=n).contains(k)),
                    "{}",
                    l.text
                )
            }
            Label::Serves(s) => assert!(s.iter().all(|k| (1..=n).contains(k)), "{}", l.text),
            Label::Untraced => {}
        }
    }
}

#[test]
fn seed_rule_operators_carry_their_stages_and_the_rows_the_data_gives() {
    let session = session();
    let plans = analyze(&session, &example("seed-rule-purview-cloudappevents.kql"));
    assert_eq!(plans.stages.len(), 7, "{:?}", plans.stages);
    assert!(plans.stages[6].starts_with("join kind=inner(CloudAppEvents"));
    check_every_label(&plans);

    // Worked out from the files.
    let cutoff = instant("2024-05-02T00:00:00Z"); // now - 30d
    let recent: Vec<Value> = rows_of("SecurityAlert")
        .into_iter()
        .filter(|r| instant(string(r, "TimeGenerated")) >= cutoff)
        .collect();
    let mut entities = 0;
    let mut left_names: HashMap<String, usize> = HashMap::new();
    for r in &recent {
        let items: Value = serde_json::from_str(string(r, "Entities")).expect("Entities");
        // mv-expand gives a row per element (none for an empty array).
        let items = items.as_array().expect("an array");
        entities += items.len();
        for e in items {
            let name = string(e, "Name");
            if string(e, "Type").eq_ignore_ascii_case("file") && !name.is_empty() {
                *left_names.entry(name.to_string()).or_default() += 1;
            }
        }
    }
    let mut right_rows = 0;
    let mut right_names: HashMap<String, usize> = HashMap::new();
    for r in rows_of("CloudAppEvents") {
        // An empty array gives no row; there is no null here.
        let items = r["ActivityObjects"].as_array().expect("an array").clone();
        for o in &items {
            if string(o, "Type").eq_ignore_ascii_case("file") {
                right_rows += 1;
                let name = string(&r["RawEventData"], "SourceFileName");
                *right_names.entry(name.to_string()).or_default() += 1;
            }
        }
    }
    let left_rows: usize = left_names.values().sum();
    let pairs: usize = left_names
        .iter()
        .map(|(n, c)| c * right_names.get(n).copied().unwrap_or(0))
        .sum();
    assert!(pairs > 0 && left_rows > 0 && right_rows > 0);

    let time = op(&plans, "FilterExec", "TimeGenerated");
    assert_eq!(stages(time), set(&[2]));
    assert_eq!(rows(time), recent.len());

    let unnests = all(&plans, "UnnestExec");
    assert_eq!(unnests.len(), 2);
    // Depth-first: the join's left input (the pipe) comes first.
    assert_eq!(stages(unnests[0]), set(&[4]));
    assert_eq!(rows(unnests[0]), entities);
    assert_eq!(stages(unnests[1]), set(&[7]));

    // `where Entitytype =~ "file" and EntityName != ""` (stage 6), with the
    // columns stage 5 computed inlined by the optimiser or not.
    let files = op(&plans, "FilterExec", "Name");
    let s = stages(files);
    assert!(s.contains(&6) && s.is_subset(&set(&[3, 4, 5, 6])), "{s:?}");
    assert_eq!(rows(files), left_rows);
    // The subquery's filter (on Type only) is the join stage's.
    let filters = all(&plans, "FilterExec");
    assert_eq!(filters.len(), 3);
    let right: Vec<&&PlanLine> = filters
        .iter()
        .filter(|f| !f.text.contains("Name") && !f.text.contains("TimeGenerated"))
        .collect();
    assert_eq!(right.len(), 1);
    assert_eq!(stages(right[0]), set(&[7]));
    assert_eq!(rows(right[0]), right_rows);

    let join = op(&plans, "HashJoinExec", "Inner");
    assert_eq!(stages(join), set(&[7]));
    assert_eq!(rows(join), pairs);
    assert!(join.metrics.as_ref().and_then(|m| m.memory).is_some());
    assert_eq!(plans.run.map(|r| r.rows), Some(pairs));

    let scan = op(&plans, "KqlJsonLinesScan", "table=SecurityAlert");
    assert_eq!(stages(scan), set(&[1]));
    let scan = op(&plans, "KqlJsonLinesScan", "table=CloudAppEvents");
    assert_eq!(stages(scan), set(&[7]));
    assert_eq!(rows(scan), rows_of("CloudAppEvents").len());
    // Repartitioning serves an operator of a stage.
    for r in all(&plans, "RepartitionExec") {
        assert!(
            matches!(&r.label, Label::Serves(s) if !s.is_empty()),
            "{}",
            r.text
        );
    }
}

#[test]
fn filter_summarize_order_operators_carry_their_stages() {
    let session = session();
    let plans = analyze(&session, &example("purview-policy-violations.kql"));
    check_every_label(&plans);
    let violations: Vec<Value> = rows_of("PurviewAuditLogs")
        .into_iter()
        .filter(|r| string(r, "EventAction") == "PolicyViolation")
        .collect();
    let groups: BTreeSet<(String, String, i64)> = violations
        .iter()
        .map(|r| {
            (
                string(r, "UserPrincipalName").to_string(),
                string(r, "ViolationType").to_string(),
                instant(string(r, "Timestamp")).timestamp(),
            )
        })
        .collect();
    assert!(!groups.is_empty());

    let filter = op(&plans, "FilterExec", "PolicyViolation");
    assert_eq!(stages(filter), set(&[2]));
    assert_eq!(rows(filter), violations.len());
    let aggregates = all(&plans, "AggregateExec");
    assert!(!aggregates.is_empty());
    for a in &aggregates {
        assert_eq!(stages(a), set(&[3]), "{}", a.text);
    }
    // The phase that finishes the aggregate gives a row per group.
    let last = aggregates.first().expect("aggregate");
    assert!(!last.text.contains("mode=Partial"), "{}", last.text);
    assert_eq!(rows(last), groups.len());
    let sort = op(&plans, "SortExec", "Timestamp");
    assert_eq!(stages(sort), set(&[4]));
    assert_eq!(rows(sort), groups.len());
    assert_eq!(plans.run.map(|r| r.rows), Some(groups.len()));
    let scan = op(&plans, "KqlJsonLinesScan", "PurviewAuditLogs");
    assert_eq!(stages(scan), set(&[1]));
    let m = scan.metrics.as_ref().expect("metrics");
    assert_eq!(m.rows, Some(rows_of("PurviewAuditLogs").len()));
    assert!(m.rows_from_parent);
}

#[test]
fn two_where_stages_merged_into_one_filter_name_both() {
    let session = session();
    let plans = analyze(&session, &example("purview-sensitive-data-access.kql"));
    check_every_label(&plans);
    let kept: Vec<Value> = rows_of("PurviewAuditLogs")
        .into_iter()
        .filter(|r| string(r, "EventAction") == "DataAccess")
        .filter(|r| {
            let l = string(r, "SensitivityLabel");
            l == "Confidential" || l == "HighlyConfidential"
        })
        .collect();
    let groups: BTreeSet<(String, String, i64)> = kept
        .iter()
        .map(|r| {
            (
                string(r, "UserPrincipalName").to_string(),
                string(r, "DataAsset").to_string(),
                instant(string(r, "Timestamp")).timestamp(),
            )
        })
        .collect();
    // Both conditions, whether DataFusion runs them as one filter or two.
    let filters = all(&plans, "FilterExec");
    let union: BTreeSet<usize> = filters.iter().flat_map(|f| stages(f)).collect();
    assert_eq!(union, set(&[2, 3]));
    let last = filters.first().expect("a filter");
    assert_eq!(rows(last), kept.len());
    for a in all(&plans, "AggregateExec") {
        assert_eq!(stages(a), set(&[4]), "{}", a.text);
    }
    assert_eq!(stages(op(&plans, "SortExec", "Timestamp")), set(&[5]));
    assert_eq!(plans.run.map(|r| r.rows), Some(groups.len()));
}

/// A join and a summarize over datatables: the rows are worked out by hand.
#[test]
fn join_and_summarize_over_datatables() {
    let session = Session::new().expect("session");
    let q = r#"datatable(k:string, v:long)["a", 1, "b", 2, "c", 3, "a", 4]
| where v > 1
| join kind=inner (datatable(k:string, w:long)["a", 10, "a", 20, "c", 30, "d", 40] | where w < 40) on k
| summarize n = count(), s = sum(w) by k"#;
    let plans = analyze(&session, q);
    check_every_label(&plans);
    assert_eq!(plans.stages.len(), 4);
    // where v > 1 keeps (b,2), (c,3), (a,4).
    let left = op(&plans, "FilterExec", "> 1");
    assert_eq!(stages(left), set(&[2]));
    assert_eq!(rows(left), 3);
    // where w < 40 keeps (a,10), (a,20), (c,30): part of the join stage.
    let right = op(&plans, "FilterExec", "< 40");
    assert_eq!(stages(right), set(&[3]));
    assert_eq!(rows(right), 3);
    // Pairs on k: a with 10 and 20, c with 30.
    let join = op(&plans, "HashJoinExec", "Inner");
    assert_eq!(stages(join), set(&[3]));
    assert_eq!(rows(join), 3);
    // Groups a (n=2, s=30) and c (n=1, s=30).
    let aggregates = all(&plans, "AggregateExec");
    for a in &aggregates {
        assert_eq!(stages(a), set(&[4]), "{}", a.text);
    }
    assert_eq!(rows(aggregates[0]), 2);
    assert_eq!(plans.run.map(|r| r.rows), Some(2));
    // The two datatables: the first is stage 1, the second the join's.
    let sources = all(&plans, "DataSourceExec");
    assert_eq!(sources.len(), 2);
    let labels: BTreeSet<BTreeSet<usize>> = sources.iter().map(|s| stages(s)).collect();
    assert_eq!(labels, BTreeSet::from([set(&[1]), set(&[3])]));
}

#[test]
fn the_optimised_plan_is_labelled_too() {
    let session = session();
    let plans = session
        .explain_plans(
            "SecurityAlert | where AlertSeverity == 'High' | summarize n = count() by AlertName | take 2",
            ExplainOptions::default(),
        )
        .expect("explains");
    assert!(plans.run.is_none());
    let find = |name: &str| {
        plans
            .optimized
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("{name} in {}", plans.render(true)))
    };
    assert_eq!(find("Filter").label, Label::Stages(set(&[2])));
    assert_eq!(find("Aggregate").label, Label::Stages(set(&[3])));
    assert_eq!(find("Limit").label, Label::Stages(set(&[4])));
    assert!(matches!(find("TableScan").label, Label::Stages(ref s) if s.contains(&1)));
    let text = plans.render(false);
    assert!(text.contains("KQL stages:\n  [1] SecurityAlert\n  [2] where AlertSeverity == 'High'"));
    assert!(text.contains("physical plan:\n"));
}

/// A query that is not a pipe is one stage; the pipes inside it are not
/// the query's stages.
#[test]
fn a_union_query_is_one_stage() {
    let session = Session::new().expect("session");
    let q = "let n = 2;\nunion (range x from 1 to n step 1 | as A), (print x = 5)";
    let plans = session
        .explain_plans(q, ExplainOptions { analyze: true })
        .expect("explains");
    assert_eq!(
        plans.stages,
        vec!["union (range x from 1 to n step 1 | as A), (print x = 5)".to_string()]
    );
    for l in &plans.physical {
        assert!(
            matches!(&l.label, Label::Stages(s) | Label::Serves(s) if *s == set(&[1])),
            "{}",
            plans.render(false)
        );
    }
    // range 1..2 gives two rows, print one.
    assert_eq!(plans.run.map(|r| r.rows), Some(3));
}
