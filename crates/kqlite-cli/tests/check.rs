//! `kqlite check`: the real binary on files, folders, rule YAML, `-q` and stdin.

mod common;

use common::{kqlite, kqlite_with_stdin};
use insta::assert_snapshot;

#[test]
fn valid_kql_file() {
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/ok.kql"]);
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    tests/fixtures/ok.kql: ok
    --- stderr
    ");
}

#[test]
fn folder_is_searched_recursively_in_order() {
    // .txt files and hidden entries are skipped.
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/folder"]);
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    tests/fixtures/folder/a.kql: ok
    tests/fixtures/folder/b.yaml: ok
    tests/fixtures/folder/sub/c.kql: ok
    tests/fixtures/folder/sub/d.yml: ok
    --- stderr
    ");
}

#[test]
fn empty_folder() {
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/empty-folder"]);
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    --- stderr
    note: tests/fixtures/empty-folder: no .kql, .yaml or .yml files in this directory
    ");
}

#[test]
fn rule_yaml() {
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/rule.yaml"]);
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    tests/fixtures/rule.yaml: ok
    --- stderr
    ");
}

#[test]
fn stdin() {
    let run = kqlite_with_stdin(&["check", "--syntax-only"], "SecurityAlert | take 10\n");
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    <stdin>: ok
    --- stderr
    ");
}

#[test]
fn dash_is_stdin() {
    let run = kqlite_with_stdin(
        &["check", "--syntax-only", "tests/fixtures/ok.kql", "-"],
        "SecurityAlert | take 10\n",
    );
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    tests/fixtures/ok.kql: ok
    <stdin>: ok
    --- stderr
    ");
}

#[test]
fn inline_query() {
    let run = kqlite(&["check", "--syntax-only", "-q", "SecurityAlert | take 10"]);
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    <query>: ok
    --- stderr
    ");
}

#[test]
fn missing_file_is_a_usage_error() {
    // Nothing is checked when a path is missing.
    let run = kqlite(&[
        "check",
        "--syntax-only",
        "tests/fixtures/ok.kql",
        "tests/fixtures/no-such-file.kql",
    ]);
    assert_snapshot!(run.transcript(), @"
    exit: 2
    --- stdout
    --- stderr
    error: tests/fixtures/no-such-file.kql: no such file or directory
    ");
}

#[test]
fn query_and_paths_conflict() {
    let run = kqlite(&["check", "-q", "T", "tests/fixtures/ok.kql"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stdout.is_empty());
}

#[test]
fn yaml_without_query() {
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/no-query.yaml"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    tests/fixtures/no-query.yaml: error: no `query` field in this YAML file
    --- stderr
    kqlite::no_query

      × no `query` field in this YAML file
      help: a rule file holds its KQL in a top-level `query:` field, usually a block: `query: |`
            followed by the indented query lines
    ");
}

#[test]
fn file_that_is_not_yaml() {
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/not-yaml.yaml"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    tests/fixtures/not-yaml.yaml:3:6: error: cannot read the rule YAML: illegal placement of ':' indicator
    --- stderr
    kqlite::rule_yaml

      × cannot read the rule YAML: illegal placement of ':' indicator
       ╭─[tests/fixtures/not-yaml.yaml:3:6]
     2 │ tactics: [InitialAccess, Persistence
     3 │ query: |
       ·      ┬
       ·      ╰── illegal placement of ':' indicator
     4 │   SecurityAlert
       ╰────
    ");
}

#[test]
fn file_that_is_not_utf8() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("latin1.kql");
    std::fs::write(&path, b"SecurityAlert\n| where Title == \"Caf\xe9\"\n").unwrap();
    let run = kqlite(&["check", "--syntax-only", path.to_str().unwrap()]);
    let transcript = run
        .transcript()
        .replace(path.to_str().unwrap(), "[TMP]/latin1.kql");
    assert_snapshot!(transcript, @r#"
    exit: 1
    --- stdout
    [TMP]/latin1.kql:2:22: error: the file is not valid UTF-8 (byte 0xE9)
    --- stderr
    kqlite::not_utf8

      × the file is not valid UTF-8 (byte 0xE9)
       ╭─[[TMP]/latin1.kql:2:22]
     1 │ SecurityAlert
     2 │ | where Title == "Caf�"
       ·                      ┬
       ·                      ╰── not UTF-8
       ╰────
      help: save the file as UTF-8
    "#);
}

#[test]
fn one_line_per_input_and_worst_exit_code() {
    let run = kqlite(&[
        "check",
        "--syntax-only",
        "tests/fixtures/ok.kql",
        "tests/fixtures/no-query.yaml",
        "tests/fixtures/rule.yaml",
    ]);
    assert_eq!(run.code, 1);
    assert_snapshot!(run.stdout, @"
    tests/fixtures/ok.kql: ok
    tests/fixtures/no-query.yaml: error: no `query` field in this YAML file
    tests/fixtures/rule.yaml: ok
    ");
}

#[test]
fn binding_uses_builtin_schemas_without_data() {
    // CLI.md: "Binding uses the built-in schemas of every known Sentinel /
    // Defender table ... so a query over SigninLogs checks without any data."
    let run = kqlite(&[
        "check",
        "-q",
        "SigninLogs | where ResultType == \"0\" | take 10",
    ]);
    assert_snapshot!(run.transcript(), @"
    exit: 0
    --- stdout
    <query>: ok
    --- stderr
    <query>:1:1: warning: `SigninLogs` is read without a time filter: add `| where TimeGenerated > ago(1d)` (or the period you need) right after it; without one the query scans the table's whole retention
    ");
}

#[test]
fn binding_reports_unknown_columns_with_a_suggestion() {
    let run = kqlite(&["check", "-q", "SigninLogs | where ResultTyp == \"0\""]);
    assert_snapshot!(run.transcript(), @r#"
    exit: 1
    --- stdout
    <query>:1:20: error: unknown column `ResultTyp`
    --- stderr
    KQL102

      × unknown column `ResultTyp`
       ╭─[<query>:1:20]
     1 │ SigninLogs | where ResultTyp == "0"
       ·                    ────┬────
       ·                        ╰── no column or scalar let has this name
       ╰────
      help: did you mean `ResultType`?
    "#);
}

#[test]
fn missing_data_file_is_bad_usage() {
    let run = kqlite(&[
        "check",
        "-q",
        "SecurityAlert | take 10",
        "-d",
        "no-such-file.ndjson",
    ]);
    assert_snapshot!(run.transcript(), @"
    exit: 2
    --- stdout
    --- stderr
    error: -d no-such-file.ndjson: no-such-file.ndjson: no such file or directory
    ");
}

#[test]
fn empty_query_in_a_rule_is_reported_at_its_key() {
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/empty-query.yaml"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    tests/fixtures/empty-query.yaml:3:1: error: the `query` field is empty
    --- stderr
    kqlite::no_query

      × the `query` field is empty
       ╭─[tests/fixtures/empty-query.yaml:3:1]
     2 │ severity: Low
     3 │ query: |
       · ──┬──
       ·   ╰── no query text
     4 │ 
       ╰────
    ");
}

/// Every real Sentinel rule gets one line, and a verdict (never a crash or a
/// usage error). Skipped where the shared rules are not beside the repo.
#[test]
fn shared_rules_each_get_a_verdict() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/rules");
    if !std::path::Path::new(dir).is_dir() {
        return;
    }
    let run = kqlite(&["check", "--syntax-only", dir]);
    assert!(run.code == 0 || run.code == 1, "{}", run.transcript());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.len() >= 100, "{} lines", lines.len());
    for line in lines {
        let verdict = line.split_once(".yaml").map(|(_, rest)| rest);
        let ok = verdict == Some(": ok")
            || verdict.is_some_and(|v| {
                let mut parts = v.splitn(4, ':');
                parts.next() == Some("")
                    && parts.next().is_some_and(|l| l.parse::<usize>().is_ok())
                    && parts.next().is_some_and(|c| c.parse::<usize>().is_ok())
                    && parts.next().is_some_and(|m| m.starts_with(" error: "))
            });
        assert!(ok, "unexpected line: {line}");
    }
}

// Errors from the parser, as the command line shows them.

#[test]
fn misspelled_operator_suggests_the_right_one() {
    let run = kqlite(&["check", "--syntax-only", "-q", "T | summarise count()"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    <query>:1:5: error: unknown tabular operator `summarise`
    --- stderr
    KQL005

      × unknown tabular operator `summarise`
       ╭─[<query>:1:5]
     1 │ T | summarise count()
       ·     ────┬────
       ·         ╰── not an operator
       ╰────
      help: did you mean `summarize`?
    ");
}

#[test]
fn missing_predicate_is_reported_at_the_end() {
    let run = kqlite(&["check", "--syntax-only", "-q", "T | where"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    <query>:1:10: error: expected an expression, found the end of the query
    --- stderr
    KQL001

      × expected an expression, found the end of the query
       ╭─[<query>:1:10]
     1 │ T | where 
       ·          ▲
       ·          ╰── expected an expression, found the end of the query
       ╰────
    ");
}

#[test]
fn error_at_end_of_file_points_after_the_last_token() {
    // The file ends with a newline; the error belongs on the `where` line.
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/where-at-end.kql"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    tests/fixtures/where-at-end.kql:2:8: error: expected an expression, found the end of the query
    --- stderr
    KQL001

      × expected an expression, found the end of the query
       ╭─[tests/fixtures/where-at-end.kql:2:8]
     1 │ SecurityAlert
     2 │ | where
       ·        ▲
       ·        ╰── expected an expression, found the end of the query
       ╰────
    ");
}

#[test]
fn error_in_a_kql_file() {
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/summarise.kql"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    tests/fixtures/summarise.kql:2:3: error: unknown tabular operator `summarise`
    --- stderr
    KQL005

      × unknown tabular operator `summarise`
       ╭─[tests/fixtures/summarise.kql:2:3]
     1 │ SecurityAlert
     2 │ | summarise count() by ProductName
       ·   ────┬────
       ·       ╰── not an operator
       ╰────
      help: did you mean `summarize`?
    ");
}

#[test]
fn error_in_a_rule_points_into_the_yaml_file() {
    // `summarise` is on line 7 of the file, after the block's 2-space indent.
    let run = kqlite(&["check", "--syntax-only", "tests/fixtures/rule-error.yaml"]);
    assert_snapshot!(run.transcript(), @r#"
    exit: 1
    --- stdout
    tests/fixtures/rule-error.yaml:7:5: error: unknown tabular operator `summarise`
    --- stderr
    KQL005

      × unknown tabular operator `summarise`
       ╭─[tests/fixtures/rule-error.yaml:7:5]
     6 │   | where AlertSeverity == "High"
     7 │   | summarise count() by ProductName
       ·     ────┬────
       ·         ╰── not an operator
     8 │ kind: Scheduled
       ╰────
      help: did you mean `summarize`?
    "#);
}

#[test]
fn rule_files_are_validated_and_their_mapped_columns_checked() {
    // The seed rule maps Account.FullName to `UserId` and IP.Address to
    // `ClientIP`, columns its query does not output: Sentinel refuses such a
    // rule, and so does `kqlite check`, naming the field and its place.
    let rule = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/rules/integrate-purview-with-cloud-app-events.yaml"
    );
    let run = kqlite(&["check", rule]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stdout.ends_with(
            "integrate-purview-with-cloud-app-events.yaml:43:21: error: entityMappings[0].fieldMappings[2].columnName: 'UserId' is not a column of the query's output\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("entityMappings[1].fieldMappings[0].columnName: 'ClientIP' is not a column of the query's output")
            || run.stderr.contains("'ClientIP' is not a column of the query's"),
        "{}",
        run.stderr
    );
}

#[test]
fn defender_hunting_queries_bind_against_the_defender_flavour() {
    // Defender XDR advanced hunting names the time column `Timestamp`
    // (../shared/schemas/CloudAppEvents.DefenderXDR.json); Log Analytics
    // `TimeGenerated` (CloudAppEvents.json). Both check.
    for q in [
        "CloudAppEvents | where Timestamp > ago(1d) | take 1",
        "CloudAppEvents | where TimeGenerated > ago(1d) | take 1",
    ] {
        let run = kqlite(&["check", "-q", q]);
        assert_eq!(run.code, 0, "{q}: {}", run.transcript());
        assert_eq!(run.stdout, "<query>: ok\n");
    }
    let run = kqlite(&["check", "-q", "CloudAppEvents | where Timestamps > ago(1d)"]);
    assert_eq!(run.code, 1);
}
