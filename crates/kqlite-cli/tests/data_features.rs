//! Reading data the way hunters have it (issue 5): `--input-format`,
//! `--skip-bad-records`, schema files beside the data, `_GetWatchlist` with
//! `--watchlists` and `externaldata` with `--externaldata`. Every expected
//! result is worked out by hand from the fixture written next to it (or the
//! files under testdata/watchlists and testdata/externaldata).

mod common;

use common::{Run, kqlite};
use std::path::{Path, PathBuf};

/// A fresh folder for one test's files.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kqlite-data-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("folder");
    }
    std::fs::write(&p, text).expect("fixture");
    p.display().to_string()
}

fn rows(run: &Run) -> Vec<serde_json::Value> {
    assert_eq!(run.code, 0, "{}", run.transcript());
    match serde_json::from_str(&run.stdout) {
        Ok(serde_json::Value::Array(rows)) => rows,
        _ => panic!("not a JSON array: {}", run.transcript()),
    }
}

fn has(run: &Run, parts: &[&str]) {
    for p in parts {
        assert!(
            run.stderr.contains(p),
            "`{p}` missing from stderr:\n{}",
            run.transcript()
        );
    }
}

// ------------------------------------------------------------ input format

#[test]
fn input_format_forces_the_reader() {
    let dir = temp_dir("format");
    // JSON lines in a file whose extension says nothing.
    let f = write(&dir, "Events.log", "{\"a\": 1}\n{\"a\": 2}\n");
    let run = kqlite(&["query", "-o", "json", "-d", &f, "Events | count"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["Events.log", "unknown file type"]);
    // Forced: the table is named by the file name up to its first dot.
    let run = kqlite(&[
        "query",
        "-o",
        "json",
        "--input-format",
        "jsonl",
        "-d",
        &f,
        "Events | summarize s = sum(a)",
    ]);
    assert_eq!(rows(&run), vec![serde_json::json!({"s": 3})]);
    // `ndjson` is another name for jsonl.
    let run = kqlite(&[
        "query",
        "--input-format",
        "NDJSON",
        "-d",
        &f,
        "Events | count",
    ]);
    assert_eq!(rows(&run), vec![serde_json::json!({"Count": 2})]);
    // CSV in a .txt file, read as CSV: two data rows.
    let f = write(&dir, "Hosts.txt", "Name,Ip\nweb1,10.0.0.1\ndb1,10.0.0.2\n");
    let run = kqlite(&[
        "query",
        "--input-format",
        "csv",
        "-d",
        &f,
        "Hosts | where Name == 'db1' | project Ip",
    ]);
    assert_eq!(rows(&run), vec![serde_json::json!({"Ip": "10.0.0.2"})]);
    // The forced format is the one read, even where the content says
    // otherwise: JSON lines are not a Kusto v1 response.
    let f = write(&dir, "T.json", "{\"a\": 1}\n");
    let run = kqlite(&["query", "--input-format", "kusto-v1", "-d", &f, "T"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["T.json", "`Tables` is missing"]);
}

#[test]
fn unknown_input_format_is_bad_usage_listing_the_names() {
    let run = kqlite(&["query", "--input-format", "xml", "print 1"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    has(
        &run,
        &[
            "unknown input format `xml`",
            "jsonl, json-array, la-export, defender-streaming, az-cli, la-query-api, kusto-v1, kusto-v2, defender-api, csv, parquet",
        ],
    );
    // Every command that takes -d takes it.
    for cmd in [
        &["tables", "--input-format", "csv"][..],
        &["check", "-q", "print 1", "--input-format", "csv"],
        &["explain", "--input-format", "csv", "print 1"],
    ] {
        let run = kqlite(cmd);
        assert_eq!(run.code, 0, "{cmd:?}: {}", run.transcript());
    }
}

// --------------------------------------------------------- bad records

#[test]
fn bad_csv_rows_fail_or_are_skipped_and_reported() {
    let dir = temp_dir("badcsv");
    // Line 3 has one field, line 4 three; the header has two.
    let f = write(
        &dir,
        "Logons.csv",
        "User,Count\nalice,1\nbob\ncarol,3,extra\ndave,4\n",
    );
    let run = kqlite(&["query", "-d", &f, "Logons | count"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["Logons.csv:3: 1 fields, the header has 2"]);
    assert_eq!(run.stdout, "");
    let run = kqlite(&[
        "query",
        "--skip-bad-records",
        "-d",
        &f,
        "Logons | project User",
    ]);
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"User": "alice"}),
            serde_json::json!({"User": "dave"})
        ]
    );
    has(
        &run,
        &[
            "table `Logons`: skipped 2 bad records",
            "Logons.csv:3: 1 fields, the header has 2",
            "Logons.csv:4: 3 fields, the header has 2",
        ],
    );
}

#[test]
fn values_that_do_not_fit_their_column_are_bad_records() {
    let dir = temp_dir("badvalue");
    // SecurityAlert's schema: TimeGenerated datetime, ConfidenceScore real.
    let f = write(
        &dir,
        "SecurityAlert.csv",
        "TimeGenerated,AlertName,ConfidenceScore\n\
         2024-01-01T00:00:00Z,a,0.5\n\
         yesterday,b,0.1\n\
         2024-01-02T00:00:00Z,c,high\n\
         2024-01-03T00:00:00Z,d,0.9\n",
    );
    let run = kqlite(&["query", "-d", &f, "SecurityAlert | count"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &["SecurityAlert.csv:3: column `TimeGenerated`: `yesterday` is not a datetime"],
    );
    let run = kqlite(&[
        "query",
        "--skip-bad-records",
        "-d",
        &f,
        "SecurityAlert | project AlertName, ConfidenceScore",
    ]);
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"AlertName": "a", "ConfidenceScore": 0.5}),
            serde_json::json!({"AlertName": "d", "ConfidenceScore": 0.9})
        ]
    );
    has(
        &run,
        &[
            "skipped 2 bad records",
            "SecurityAlert.csv:3: column `TimeGenerated`: `yesterday` is not a datetime",
            "SecurityAlert.csv:4: column `ConfidenceScore`: `high` is not a real",
        ],
    );
}

#[test]
fn many_bad_json_lines_list_the_first_and_count_the_rest() {
    let dir = temp_dir("manybad");
    // 2 good records, then 8 lines that are not JSON objects.
    let mut text = String::from("{\"n\": 1}\n{\"n\": 2}\n");
    for i in 0..8 {
        text.push_str(&format!("oops {i}\n"));
    }
    let f = write(&dir, "Things.jsonl", &text);
    let run = kqlite(&["query", "-d", &f, "Things | count"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["Things.jsonl:3:1: expected value"]);
    let run = kqlite(&["query", "--skip-bad-records", "-d", &f, "Things | count"]);
    assert_eq!(rows(&run), vec![serde_json::json!({"Count": 2})]);
    has(
        &run,
        &[
            "table `Things`: skipped 8 bad records",
            "Things.jsonl:3:1: expected value",
            "Things.jsonl:7:1: expected value",
            "... and 3 more",
        ],
    );
    assert!(!run.stderr.contains("Things.jsonl:8:"), "{}", run.stderr);
}

#[test]
fn bad_lines_of_tables_read_while_the_query_runs_are_reported_after_it() {
    let dir = temp_dir("badlazy");
    // A known table in JSON lines is read while the query runs: line 2 is
    // cut short, line 3 is an array.
    let f = write(
        &dir,
        "SecurityAlert.ndjson",
        "{\"AlertName\": \"a\"}\n{\"AlertName\": \n[1, 2]\n{\"AlertName\": \"d\"}\n",
    );
    let run = kqlite(&["query", "-d", &f, "SecurityAlert | project AlertName"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["SecurityAlert.ndjson:2:"]);
    let run = kqlite(&[
        "query",
        "--skip-bad-records",
        "-d",
        &f,
        "SecurityAlert | project AlertName",
    ]);
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"AlertName": "a"}),
            serde_json::json!({"AlertName": "d"})
        ]
    );
    has(
        &run,
        &[
            "table `SecurityAlert`: skipped 2 bad records while reading",
            "SecurityAlert.ndjson:2:",
            "SecurityAlert.ndjson:3: expected a JSON object per record, found an array",
        ],
    );
}
