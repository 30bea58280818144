//! The seed detections over generated data (kqlite-gen, 10,000 rows per
//! table), checked against an independent computation written here from
//! the semantics (SEMANTICS.md and the reference pages), not from kqlite's
//! output: parse_json of a string, mv-expand of arrays, tostring of missing
//! properties (""), `=~` case-insensitive, `!= ""`, an inner join on equal
//! names; and the two Purview summarize queries.

use kqlite_engine::{Session, output};
use serde_json::Value;
use std::path::{Path, PathBuf};

const ROWS: usize = 10_000;
const NOW: &str = "2024-06-01T00:00:00Z";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/queries")
}

/// Generates the three tables as NDJSON files and loads them into a session.
fn setup(tag: &str) -> (Session, Vec<Vec<Value>>) {
    let dir = std::env::temp_dir().join(format!("kqlite-seed-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = kqlite_gen::Spec {
        rows: ROWS,
        seed: 1,
        end: chrono::DateTime::parse_from_rfc3339(NOW)
            .expect("time")
            .with_timezone(&chrono::Utc),
    };
    let mut session = Session::new().expect("session");
    session.set_now(kqlite_engine::datetime::parse_datetime(NOW).expect("now"));
    let mut tables = Vec::new();
    for (i, (name, _)) in kqlite_gen::TABLES.iter().enumerate() {
        let path = dir.join(format!("{name}.ndjson"));
        let mut f = std::fs::File::create(&path).expect("create");
        kqlite_gen::write_table(&mut f, i, &spec).expect("write");
        let text = std::fs::read_to_string(&path).expect("read back");
        tables.push(
            text.lines()
                .map(|l| serde_json::from_str(l).expect("generated JSON"))
                .collect(),
        );
        // Read as `kqlite query -d` reads them: while the query runs, only
        // the columns it uses (tests/lazy.rs checks this gives the eager
        // reader's tables).
        let lazy = kqlite_engine::source::open_lazy(
            None,
            &path,
            kqlite_engine::source::Format::Auto,
            false,
        )
        .expect("opens")
        .expect("generated JSON lines are read lazily");
        for t in lazy {
            session.register_lazy(std::sync::Arc::new(t));
        }
    }
    (session, tables)
}

fn rows_of(session: &Session, query: &str) -> Vec<String> {
    let result = session
        .query(query)
        .unwrap_or_else(|e| panic!("{e}\n{query}"));
    let mut buf = Vec::new();
    output::write_ndjson(&result, &mut buf).expect("encodes");
    String::from_utf8(buf)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// FNV-1a over the sorted rows: a checksum to quote.
fn checksum(rows: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for r in rows {
        for b in r.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `tostring(v)` of a dynamic value (SEMANTICS.md: a string gives its text,
/// null or missing gives "", anything else compact JSON).
fn tostring(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// mv-expand's rows for one dynamic value: array elements; a null value
/// gives one null row; an empty array none.
fn expand(v: Option<Value>) -> Vec<Option<Value>> {
    match v {
        None | Some(Value::Null) => vec![None],
        Some(Value::Array(items)) => items.into_iter().map(Some).collect(),
        Some(other) => vec![Some(other)],
    }
}

fn time_of(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("time text"))
        .expect("rfc3339")
        .with_timezone(&chrono::Utc)
}

#[test]
fn seed_queries_match_an_independent_computation() {
    let (session, tables) = setup("independent");
    let now = time_of(&Value::String(NOW.into()));

    // --- The seed rule: alerts' file entities joined with events' files.
    let text = std::fs::read_to_string(examples().join("seed-rule-purview-cloudappevents.kql"))
        .expect("seed query");
    let query = format!("{text}\n| project SystemAlertId, EntityName, ReportId");
    let mut got = rows_of(&session, &query);
    let mut alert_files: Vec<(String, String)> = Vec::new();
    for a in &tables[0] {
        if time_of(&a["TimeGenerated"]) < now - chrono::Duration::days(30) {
            continue;
        }
        // parse_json of the Entities string.
        let entities = a["Entities"]
            .as_str()
            .and_then(|s| serde_json::from_str::<Value>(s).ok());
        for e in expand(entities) {
            let ty = tostring(e.as_ref().and_then(|e| e.get("Type")));
            let name = tostring(e.as_ref().and_then(|e| e.get("Name")));
            if ty.to_lowercase() == "file" && !name.is_empty() {
                let id = tostring(a.get("SystemAlertId"));
                alert_files.push((id, name));
            }
        }
    }
    let mut event_files: Vec<(String, String)> = Vec::new();
    for ev in &tables[1] {
        let name = tostring(ev["RawEventData"].get("SourceFileName"));
        for o in expand(ev.get("ActivityObjects").cloned()) {
            let ty = tostring(o.as_ref().and_then(|o| o.get("Type")));
            if ty.to_lowercase() == "file" {
                event_files.push((tostring(ev.get("ReportId")), name.clone()));
            }
        }
    }
    let mut want: Vec<String> = Vec::new();
    for (id, name) in &alert_files {
        for (rid, n2) in &event_files {
            if name == n2 {
                want.push(
                    serde_json::json!({"SystemAlertId": id, "EntityName": name, "ReportId": rid})
                        .to_string(),
                );
            }
        }
    }
    got.sort();
    want.sort();
    println!(
        "seed rule: {} rows, checksum {:016x} (alert file entities {}, event file objects {})",
        got.len(),
        checksum(&got),
        alert_files.len(),
        event_files.len()
    );
    assert!(!want.is_empty(), "the generator must make the join match");
    assert_eq!(got.len(), want.len());
    assert!(
        got == want,
        "seed rule rows differ from the independent computation"
    );

    // --- The two Purview queries of the seed guide.
    for (file, action, labels, key) in [
        (
            "purview-policy-violations.kql",
            "PolicyViolation",
            None,
            "ViolationType",
        ),
        (
            "purview-sensitive-data-access.kql",
            "DataAccess",
            Some(["Confidential", "HighlyConfidential"]),
            "DataAsset",
        ),
    ] {
        let text = std::fs::read_to_string(examples().join(file)).expect("query");
        let got = rows_of(&session, &text);
        // `order by Timestamp desc`: the order is checked, ties aside.
        let stamps: Vec<String> = got
            .iter()
            .map(|r| {
                let v: Value = serde_json::from_str(r).expect("row");
                tostring(v.get("Timestamp"))
            })
            .collect();
        assert!(
            stamps.windows(2).all(|w| w[0] >= w[1]),
            "{file}: not sorted by Timestamp desc"
        );
        let mut counts: std::collections::BTreeMap<(String, String, String), u64> =
            Default::default();
        for r in &tables[2] {
            if tostring(r.get("EventAction")) != action {
                continue;
            }
            if let Some(ls) = labels
                && !ls.contains(&tostring(r.get("SensitivityLabel")).as_str())
            {
                continue;
            }
            *counts
                .entry((
                    tostring(r.get("UserPrincipalName")),
                    tostring(r.get(key)),
                    tostring(r.get("Timestamp")),
                ))
                .or_default() += 1;
        }
        let mut want: Vec<String> = counts
            .into_iter()
            .map(|((u, k, t), c)| {
                let mut m = serde_json::Map::new();
                m.insert("UserPrincipalName".into(), Value::String(u));
                m.insert(key.into(), Value::String(k));
                m.insert("Timestamp".into(), Value::String(t));
                m.insert("Count".into(), Value::from(c));
                Value::Object(m).to_string()
            })
            .collect();
        let mut got = got;
        got.sort();
        want.sort();
        println!(
            "{file}: {} rows, checksum {:016x}",
            got.len(),
            checksum(&got)
        );
        assert!(!want.is_empty());
        assert!(
            got == want,
            "{file}: rows differ from the independent computation"
        );
    }
}

#[test]
fn seed_rule_plan_round_trips_through_protobuf() {
    let (session, _) = setup("proto");
    let text = std::fs::read_to_string(examples().join("seed-rule-purview-cloudappevents.kql"))
        .expect("seed query");
    let direct = rows_of(&session, &text);
    let (bytes, columns) = session.plan_to_bytes(&text).expect("serialises");
    let replayed = session.run_plan_bytes(&bytes, columns).expect("runs again");
    let mut buf = Vec::new();
    output::write_ndjson(&replayed, &mut buf).expect("encodes");
    let mut again: Vec<String> = String::from_utf8(buf)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    let mut direct = direct;
    direct.sort();
    again.sort();
    println!("seed rule plan: {} bytes of protobuf", bytes.len());
    assert_eq!(direct.len(), again.len());
    assert!(direct == again);
}
