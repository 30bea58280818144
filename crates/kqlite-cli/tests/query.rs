//! `kqlite query`: the real binary, its output encodings and exit codes.

use std::process::Command;

fn kqlite(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kqlite"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the kqlite binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn print_ago_with_pinned_now() {
    // CLI.md: `kqlite query --now 2024-01-01T00:00:00Z 'print ago(1d)'` prints 2023-12-31T00:00:00Z.
    let (code, out, err) = kqlite(&[
        "query",
        "--now",
        "2024-01-01T00:00:00Z",
        "-o",
        "json",
        "print ago(1d)",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "[{\"print_0\":\"2023-12-31T00:00:00Z\"}]\n");
}

#[test]
fn output_formats() {
    let q = "datatable(a:long, s:string, t:timespan) [1, \"x,y\", 90m] | sort by a";
    let (code, out, err) = kqlite(&["query", "-o", "ndjson", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "{\"a\":1,\"s\":\"x,y\",\"t\":\"01:30:00\"}\n");
    let (code, out, err) = kqlite(&["query", "-o", "csv", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "a,s,t\n1,\"x,y\",01:30:00\n");
    let (code, out, err) = kqlite(&["query", "-o", "table", q]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("x,y") && out.contains("(1 row)"), "{out}");
}

#[test]
fn csv_fields_with_quotes_empty_and_null_columns() {
    // RFC 4180 (docs/cli.md, `-o csv`): a field holding `,`, `"` or a line
    // break is quoted, with `"` doubled; null and "" are both empty fields,
    // also when a whole column is null or empty (written without looking at
    // each row), and a dynamic value is its JSON text.
    let q = r#"datatable(a:long, s:string, n:long, e:string, d:dynamic) [1, 'say "hi", "bye"', long(null), "", dynamic({"k":"v"}), 2, "", long(null), "", dynamic(null)] | sort by a asc"#;
    let (code, out, err) = kqlite(&["query", "-o", "csv", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "a,s,n,e,d\n1,\"say \"\"hi\"\", \"\"bye\"\"\",,,\"{\"\"k\"\":\"\"v\"\"}\"\n2,,,,\n"
    );
}

#[test]
fn unknown_column_is_invalid_with_a_span_and_a_suggestion() {
    let (code, out, err) = kqlite(&[
        "query",
        "datatable(Name:string) [\"a\"] | where name == \"a\"",
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("unknown column `name`"), "{err}");
    assert!(err.contains("did you mean `Name`?"), "{err}");
    assert!(err.contains("1:38"), "{err}");
}

#[test]
fn unsupported_operator_is_rejected_by_name() {
    let (code, _, err) = kqlite(&[
        "query",
        "datatable(a:long, t:datetime) [1, datetime(2024-01-01)] | make-series sum(a) on t step 1d",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("operator 'make-series' is not supported yet"),
        "{err}"
    );
}

#[test]
fn type_error_is_invalid() {
    let (code, _, err) = kqlite(&["query", "print x = 1 + \"a\""]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot be applied to long and string"),
        "{err}"
    );
}

#[test]
fn bad_now_and_data_flags_are_usage_errors() {
    let (code, _, err) = kqlite(&["query", "--now", "yesterday", "print 1"]);
    assert_eq!(code, 2, "{err}");
    // CLI.md: "2: bad usage (flags, missing file)".
    let (code, _, err) = kqlite(&["query", "-d", "no-such/SecurityAlert.ndjson", "print 1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such file or directory"), "{err}");
}

#[test]
fn tables_from_files_are_typed_by_the_builtin_schema() {
    // FORMATS.md: "A schema (built-in ...) decides types"; "Strings: absent or
    // null becomes \"\"". CLI.md: file `SecurityAlert.ndjson` becomes table
    // `SecurityAlert`.
    let dir = std::env::temp_dir().join(format!("kqlite-query-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("SecurityAlert.ndjson");
    std::fs::write(
        &file,
        concat!(
            "{\"TimeGenerated\":\"2024-01-01T10:00:00.1234567Z\",\"AlertName\":\"A\",\"Entities\":\"[]\"}\n",
            "{\"TimeGenerated\":\"2024-01-02T10:00:00Z\",\"AlertName\":null}\n",
        ),
    )
    .expect("write fixture");
    let path = file.display().to_string();
    let q = "SecurityAlert | project TimeGenerated, AlertName, isnull(AlertName), e = isempty(Entities) | sort by TimeGenerated asc";
    let (code, out, err) = kqlite(&["query", "-d", &path, "-o", "ndjson", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        concat!(
            "{\"TimeGenerated\":\"2024-01-01T10:00:00.1234567Z\",\"AlertName\":\"A\",\"Column1\":false,\"e\":false}\n",
            "{\"TimeGenerated\":\"2024-01-02T10:00:00Z\",\"AlertName\":\"\",\"Column1\":false,\"e\":true}\n",
        )
    );
    // The same rows as CSV and as a named table.
    let csv = dir.join("alerts.csv");
    std::fs::write(
        &csv,
        "TimeGenerated,AlertName,Entities\r\n2024-01-01T10:00:00.1234567Z,A,[]\r\n2024-01-02T10:00:00Z,,\r\n",
    )
    .expect("write fixture");
    let named = format!("SecurityAlert={}", csv.display());
    let (code, out2, err) = kqlite(&["query", "-d", &named, "-o", "ndjson", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out2, out);
}

#[test]
fn convert_to_parquet_keeps_rows_and_types() {
    // CLI.md: `kqlite convert SRC... --to DIR [--format parquet]`.
    let dir = std::env::temp_dir().join(format!("kqlite-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join("Events.ndjson");
    std::fs::write(
        &src,
        "{\"t\":\"2024-01-01T00:00:00.1234567Z\",\"d\":{\"a\":[1,2]},\"s\":\"x\"}\n{\"t\":null,\"d\":null,\"s\":null}\n",
    )
    .expect("write");
    let out = dir.join("pq");
    let src_s = src.display().to_string();
    let out_s = out.display().to_string();
    let (code, _, err) = kqlite(&["convert", &src_s, "--to", &out_s]);
    assert_eq!(code, 0, "{err}");
    let q = "Events | project t, d, s, ty = gettype(d)";
    let (code, from_json, err) = kqlite(&["query", "-d", &src_s, "-o", "ndjson", q]);
    assert_eq!(code, 0, "{err}");
    let pq = out.join("Events.parquet").display().to_string();
    let (code, from_parquet, err) = kqlite(&["query", "-d", &pq, "-o", "ndjson", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(from_json, from_parquet);
    assert!(
        from_json.contains("\"d\":{\"a\":[1,2]}") && from_json.contains("\"s\":\"\""),
        "{from_json}"
    );
}

#[test]
fn stats_go_to_stderr_and_leave_stdout_alone() {
    // CLI.md: "`kqlite query --stats` prints a cost summary to stderr after the
    // result, so stdout stays machine-readable".
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data");
    let q = "SecurityAlert | where AlertSeverity == 'High' | count";
    let args = |stats: bool| {
        let mut a = vec!["query", "-d", data, "-o", "ndjson", q];
        if stats {
            a.push("--stats");
        }
        kqlite(&a)
    };
    let (code, plain, _) = args(false);
    assert_eq!(code, 0);
    let (code, out, err) = args(true);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, plain);
    let size = std::fs::metadata(format!("{data}/SecurityAlert.ndjson"))
        .expect("sample data")
        .len();
    let lines = std::fs::read_to_string(format!("{data}/SecurityAlert.ndjson"))
        .expect("sample data")
        .lines()
        .count();
    for part in [
        "parse ".to_string(),
        "plan ".to_string(),
        "execute ".to_string(),
        // JSON lines of a known table are read while the query runs.
        format!("SecurityAlert: {lines} rows, {size} bytes read during the query (1 file"),
        "rows out: 1".to_string(),
        "peak memory: ".to_string(),
    ] {
        assert!(err.contains(&part), "`{part}` missing from\n{err}");
    }
}

#[test]
fn memory_limit_spills_or_fails_clearly() {
    // 300,000 distinct keys: one group each. Under 4 MB the aggregate
    // spills to disk and still gives the exact answer.
    let q = "range x from 1 to 300000 step 1 | extend s = strcat('k', x) \
             | summarize c = count() by s | summarize groups = count(), rows = sum(c)";
    let (code, out, err) = kqlite(&["query", "--memory-limit", "4MB", "-o", "ndjson", q]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "{\"groups\":300000,\"rows\":300000}\n");
    // Far too little memory: a clear error, exit 3, no partial result.
    let (code, out, err) = kqlite(&["query", "--memory-limit", "100KB", "-o", "ndjson", q]);
    assert_eq!(code, 3, "{out}");
    assert!(out.is_empty());
    assert!(
        err.contains("needs more memory than the memory limit allows"),
        "{err}"
    );
    let (code, _, err) = kqlite(&["query", "--memory-limit", "lots", "print 1"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a size"), "{err}");
}
