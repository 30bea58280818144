//! The command set of the contract, and the commands that do not work yet.

mod common;

use common::kqlite;
use insta::assert_snapshot;

#[test]
fn help_lists_every_command() {
    let run = kqlite(&["--help"]);
    assert_eq!(run.code, 0);
    assert_snapshot!(run.stdout, @"
    Local KQL (Kusto Query Language) engine: query exports, check and replay Sentinel rules, without a cluster

    Usage: kqlite <COMMAND>

    Commands:
      query    Run a query over data files and print the result
      check    Check queries and rule files for errors, without running them
      explain  Show the plan of a query, annotated with the KQL it came from
      rule     Run or replay a Sentinel analytic rule
      test     Run detection unit tests
      convert  Convert exports to Parquet once, to query them fast later
      tables   List the tables of the data sources: row counts and schemas
      help     Print this message or the help of the given subcommand(s)

    Options:
      -h, --help     Print help
      -V, --version  Print version

    Exit codes: 0 success, 1 invalid query or rule, 2 bad usage (flags, missing file), 3 data error, 4 detection tests failed.
    ");
}

#[test]
fn check_help() {
    let run = kqlite(&["check", "--help"]);
    assert_eq!(run.code, 0);
    assert_snapshot!(run.stdout, @"
    Check queries and rule files for errors, without running them

    Usage: kqlite check [OPTIONS] [PATH]...

    Arguments:
      [PATH]...  .kql files, rule .yaml/.yml files (their `query` field is checked), or directories searched recursively for them. `-` is stdin. With no PATH and no -q, the query is read from stdin

    Options:
      -q, --query <QUERY>          Check this query text (reported as `<query>`)
      -d, --data <[NAME=]PATH>     Add a data source: a file (`SecurityAlert.ndjson` becomes table `SecurityAlert`), a directory of part files, or a Log Analytics export tree. `NAME=PATH` names the table explicitly. Repeatable
          --input-format <FORMAT>  Read the -d files as this format instead of recognising it: auto, jsonl, json-array, la-export, defender-streaming, az-cli, la-query-api, kusto-v1, kusto-v2, defender-api, csv, parquet
          --skip-bad-records       Skip malformed records (reported on stderr: how many, and where) instead of failing
          --watchlists <DIR>       Folder of Sentinel watchlists for `_GetWatchlist('name')`: one `<name>.csv` each, and optionally `<name>.json` naming its search key
          --externaldata <DIR>     Folder the `externaldata` URLs resolve to: the file named after the URL's last path segment, or as `externaldata.json` maps it. Nothing is ever downloaded
          --syntax-only            Parse only, without binding names and types: a linter for a folder of hunting queries
      -h, --help                   Print help
      -V, --version                Print version
    ");
}

#[test]
fn explain_labels_plan_nodes_with_kql_stages() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data");
    let q = "SecurityAlert\n| where AlertSeverity == 'High'\n| summarize n = count() by AlertName";
    let run = kqlite(&["explain", "-d", data, q]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    for part in [
        "[1] SecurityAlert",
        "[2] where AlertSeverity == 'High'",
        "[3] summarize n = count() by AlertName",
        "[2] Filter:",
        "[1] TableScan: SecurityAlert",
        "[3] Aggregate:",
        "physical plan:",
    ] {
        assert!(
            run.stdout.contains(part),
            "`{part}` missing:\n{}",
            run.stdout
        );
    }
    // Every physical operator is labelled too.
    let physical = run
        .stdout
        .split("physical plan:")
        .nth(1)
        .unwrap_or_default();
    assert!(physical.contains("[2] FilterExec:"), "{}", run.stdout);
    assert!(physical.contains("[3] AggregateExec:"), "{}", run.stdout);
    assert!(
        physical.contains("[1] KqlJsonLinesScan: table=SecurityAlert"),
        "{}",
        run.stdout
    );
    // --analyze runs the plan and shows each operator's rows out: the
    // filter keeps the High alerts of the file.
    let file = std::fs::read_to_string(format!("{data}/SecurityAlert.ndjson")).expect("data");
    let high = file
        .lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            v["AlertSeverity"] == "High"
        })
        .count();
    assert!(high > 0);
    let run = kqlite(&["explain", "--analyze", "-d", data, q]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let filter = run
        .stdout
        .lines()
        .find(|l| l.contains("FilterExec:"))
        .unwrap_or_default();
    let cells: Vec<&str> = filter.split_whitespace().collect();
    assert_eq!(cells.first(), Some(&"[2]"), "{filter}");
    assert_eq!(cells.get(1), Some(&high.to_string().as_str()), "{filter}");
    assert!(!run.stdout.contains("output_rows="), "{}", run.stdout);
    // --verbose adds DataFusion's own metrics.
    let run = kqlite(&["explain", "--analyze", "--verbose", "-d", data, q]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains("output_rows="), "{}", run.stdout);
    // A broken query is reported like `kqlite query` reports it.
    let run = kqlite(&["explain", "NoSuchTable | take 1"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("unknown table"), "{}", run.stderr);
}

#[test]
fn tables_lists_rows_sources_and_inferred_columns() {
    let dir = std::env::temp_dir().join(format!("kqlite-tables-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("SecurityAlert.ndjson");
    let text = "{\"AlertName\": \"a\", \"MyExtra\": 5}\n{\"AlertName\": \"b\", \"MyExtra\": 7}\n";
    std::fs::write(&file, text).expect("fixture");
    let path = file.display().to_string();
    let run = kqlite(&["tables", "-d", &path]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let header = format!(
        "SecurityAlert: 2 rows from {path} (1 file, {} bytes); built-in schema, 1 extra column typed from the data",
        text.len()
    );
    for part in [
        header.as_str(),
        "  AlertName: string\n",
        "  Entities: string\n",
        "  MyExtra: long  (inferred)\n",
    ] {
        assert!(
            run.stdout.contains(part),
            "`{part}` missing:\n{}",
            run.stdout
        );
    }
    // CLI.md: "With no `-d`, the bundled sample tables (SecurityAlert,
    // CloudAppEvents, PurviewAuditLogs, embedded in the binary) are used".
    let run = kqlite(&["tables"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data");
    for table in ["SecurityAlert", "CloudAppEvents", "PurviewAuditLogs"] {
        let text = std::fs::read_to_string(format!("{samples}/{table}.ndjson")).expect("sample");
        let line = format!(
            "{table}: {} rows from the bundled sample data (1 file, {} bytes)",
            text.lines().count(),
            text.len()
        );
        assert!(
            run.stdout.contains(&line),
            "`{line}` missing:\n{}",
            run.stdout
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let run = kqlite(&["check", "--frobnicate"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
}
