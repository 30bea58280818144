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

// ---------------------------------------------------------- schema files

/// One record of a table no built-in schema knows: without a schema file
/// `Id` is a string (the JSON has "7"), `Props` a string of JSON text.
const EVENTS: &str = "{\"Id\": \"7\", \"When\": \"2024-01-01T00:00:00Z\", \"Props\": \"{\\\"a\\\": 1}\", \"Extra\": 5}\n";

#[test]
fn a_json_schema_file_beside_the_data_types_the_table() {
    let dir = temp_dir("schemajson");
    let f = write(&dir, "Events.ndjson", EVENTS);
    let q = "Events | getschema | project ColumnName, ColumnType";
    let run = kqlite(&["query", "-d", &f, q]);
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"ColumnName": "Id", "ColumnType": "string"}),
            serde_json::json!({"ColumnName": "When", "ColumnType": "datetime"}),
            serde_json::json!({"ColumnName": "Props", "ColumnType": "string"}),
            serde_json::json!({"ColumnName": "Extra", "ColumnType": "long"}),
        ]
    );
    let schema = write(
        &dir,
        "Events.schema.json",
        r#"{"name": "Events", "columns": [
            {"name": "Id", "type": "long"},
            {"name": "When", "type": "datetime"},
            {"name": "Props", "type": "dynamic"}
        ]}"#,
    );
    let run = kqlite(&["query", "-d", &f, q]);
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"ColumnName": "Id", "ColumnType": "long"}),
            serde_json::json!({"ColumnName": "When", "ColumnType": "datetime"}),
            serde_json::json!({"ColumnName": "Props", "ColumnType": "dynamic"}),
            serde_json::json!({"ColumnName": "Extra", "ColumnType": "long"}),
        ]
    );
    // Typed by the schema: arithmetic on Id, property access on Props.
    let run = kqlite(&[
        "query",
        "-d",
        &f,
        "Events | project n = Id + 1, a = toint(Props.a)",
    ]);
    assert_eq!(rows(&run), vec![serde_json::json!({"n": 8, "a": 1})]);
    // The same -d as a folder finds it too.
    let folder = dir.display().to_string();
    let run = kqlite(&["query", "-d", &folder, "Events | project n = Id + 1"]);
    assert_eq!(rows(&run), vec![serde_json::json!({"n": 8})]);
    // kqlite tables names the schema file; only Extra is inferred.
    let run = kqlite(&["tables", "-d", &f]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    for part in [
        format!("; schema from {schema}, 1 extra column typed from the data\n"),
        "  Id: long\n".to_string(),
        "  Props: dynamic\n".to_string(),
        "  Extra: long  (inferred)\n".to_string(),
    ] {
        assert!(
            run.stdout.contains(&part),
            "`{part}` missing:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_kql_table_definition_overrides_the_built_in_schema() {
    let dir = temp_dir("schemakql");
    let f = write(
        &dir,
        "SecurityAlert.ndjson",
        "{\"TimeGenerated\": \"2024-01-01T00:00:00Z\", \"AlertName\": \"a\", \"Score\": \"12\"}\n",
    );
    write(
        &dir,
        "SecurityAlert.kql",
        "// exported with .show table SecurityAlert cslschema\n\
         .create table SecurityAlert (TimeGenerated:datetime, AlertName:string, Score:long)\n",
    );
    // Only the definition's columns: the built-in schema's 35 are replaced.
    let run = kqlite(&[
        "query",
        "-d",
        &f,
        "SecurityAlert | getschema | project ColumnName, ColumnType",
    ]);
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"ColumnName": "TimeGenerated", "ColumnType": "datetime"}),
            serde_json::json!({"ColumnName": "AlertName", "ColumnType": "string"}),
            serde_json::json!({"ColumnName": "Score", "ColumnType": "long"}),
        ]
    );
    let run = kqlite(&["query", "-d", &f, "SecurityAlert | project s = Score * 2"]);
    assert_eq!(rows(&run), vec![serde_json::json!({"s": 24})]);
    let run = kqlite(&["tables", "-d", &f]);
    assert!(run.stdout.contains("SecurityAlert.kql\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("(inferred)"), "{}", run.stdout);
}

#[test]
fn a_schema_file_inside_a_folder_makes_it_one_table() {
    let dir = temp_dir("schemafolder");
    write(
        &dir,
        "MyLogs/part1.jsonl",
        "{\"Host\": \"a\", \"Port\": \"443\"}\n",
    );
    write(
        &dir,
        "MyLogs/part2.jsonl",
        "{\"Host\": \"b\", \"Port\": \"22\"}\n",
    );
    write(
        &dir,
        "MyLogs/MyLogs.schema.kql",
        ".create table MyLogs (Host:string, Port:int)",
    );
    let folder = dir.join("MyLogs").display().to_string();
    let run = kqlite(&[
        "query",
        "-d",
        &folder,
        "MyLogs | where Port > 100 | project Host",
    ]);
    // Ports are ints by the schema (the files hold strings): 443 > 100.
    assert_eq!(rows(&run), vec![serde_json::json!({"Host": "a"})]);
    // CSV beside a Log-Analytics-style column list.
    let f = write(&dir, "Hosts.csv", "Name,Port\nweb,8443\ndb,5432\n");
    write(
        &dir,
        "Hosts.schema.json",
        r#"{"columns": [{"name": "Name", "type": "string"}, {"name": "Port", "type": "int"}]}"#,
    );
    let run = kqlite(&["query", "-d", &f, "Hosts | summarize m = max(Port)"]);
    assert_eq!(rows(&run), vec![serde_json::json!({"m": 8443})]);
}

#[test]
fn bad_schema_files_are_errors_naming_the_file() {
    let dir = temp_dir("schemabad");
    let f = write(&dir, "Events.ndjson", EVENTS);
    let schema = write(
        &dir,
        "Events.schema.json",
        r#"{"columns": [{"name": "Id", "type": "varchar"}]}"#,
    );
    let run = kqlite(&["query", "-d", &f, "Events"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &[&format!("{schema}: column `Id` has unknown type `varchar`")],
    );
    write(&dir, "Events.schema.json", "{\"columns\": [");
    let run = kqlite(&["query", "-d", &f, "Events"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &[&format!("{schema}: not JSON")]);
    std::fs::remove_file(&schema).expect("remove");
    // A definition of another table.
    let kql = write(&dir, "Events.kql", ".create table Other (Id:long)");
    let run = kqlite(&["query", "-d", &f, "Events"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &[&format!(
            "{kql}: defines table `Other`, but the file is named for table `Events`"
        )],
    );
    // Not a definition at all.
    write(&dir, "Events.kql", "Events | take 1");
    let run = kqlite(&["query", "-d", &f, "Events"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &[&format!("{kql}: not a table definition")]);
    // Two schema files for one table.
    write(&dir, "Events.kql", ".create table Events (Id:long)");
    write(&dir, "Events.schema.kql", ".create table Events (Id:long)");
    let run = kqlite(&["query", "-d", &f, "Events"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["table `Events` has two schema files"]);
    // A value the schema's type does not take is a bad record.
    std::fs::remove_file(dir.join("Events.schema.kql")).expect("remove");
    write(
        &dir,
        "Events.kql",
        ".create table Events (Id:long, When:datetime)",
    );
    let f = write(
        &dir,
        "Events.ndjson",
        "{\"Id\": \"7\"}\n{\"Id\": \"seven\"}\n{\"Id\": 9}\n",
    );
    let run = kqlite(&["query", "-d", &f, "Events"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &["Events.ndjson:2: column `Id`: `seven` is not a long"],
    );
    let run = kqlite(&[
        "query",
        "--skip-bad-records",
        "-d",
        &f,
        "Events | summarize s = sum(Id)",
    ]);
    assert_eq!(rows(&run), vec![serde_json::json!({"s": 16})]);
    // Giving the schema file itself as data is a mistake worth naming.
    let run = kqlite(&["query", "-d", &kql, "Events"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["is a schema file, not data"]);
}

// ------------------------------------------------------------- watchlists

const WATCHLISTS: &str = "../../testdata/watchlists";

fn watchlist_query(q: &str) -> Run {
    kqlite(&["query", "-o", "json", "--watchlists", WATCHLISTS, q])
}

#[test]
fn get_watchlist_returns_the_csv_with_search_key() {
    // "Build queries or rules with watchlists": ipwatchlist is
    // IPAddress,Location with four items; no ipwatchlist.json, so the
    // search key is the first column.
    let run =
        watchlist_query("_GetWatchlist('ipwatchlist') | project SearchKey, IPAddress, Location");
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"SearchKey": "10.0.100.11", "IPAddress": "10.0.100.11", "Location": "Home"}),
            serde_json::json!({"SearchKey": "172.16.107.23", "IPAddress": "172.16.107.23", "Location": "Work"}),
            serde_json::json!({"SearchKey": "10.0.150.39", "IPAddress": "10.0.150.39", "Location": "Home"}),
            serde_json::json!({"SearchKey": "172.20.32.117", "IPAddress": "172.20.32.117", "Location": "Work"}),
        ]
    );
    // The page's "watchlist as a variable" query, over a Heartbeat of two
    // computers: only the one in the watchlist is kept.
    let run = watchlist_query(
        "let watchlist = (_GetWatchlist('ipwatchlist') | project IPAddress);\n\
         let Heartbeat = datatable(ComputerIP:string) ['10.0.100.11', '10.9.9.9'];\n\
         Heartbeat | where ComputerIP in (watchlist)",
    );
    assert_eq!(
        rows(&run),
        vec![serde_json::json!({"ComputerIP": "10.0.100.11"})]
    );
    // And the inline form on SearchKey.
    let run = watchlist_query(
        "datatable(ComputerIP:string) ['10.9.9.9', '172.20.32.117']\n\
         | where ComputerIP in ((_GetWatchlist('ipwatchlist') | project SearchKey))",
    );
    assert_eq!(
        rows(&run),
        vec![serde_json::json!({"ComputerIP": "172.20.32.117"})]
    );
}

#[test]
fn get_watchlist_columns_are_sentinels() {
    let run = watchlist_query(
        "_GetWatchlist('HighValueAssets') | getschema | project ColumnName, ColumnType",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"ColumnName": "_DTItemId", "ColumnType": "string"}),
            serde_json::json!({"ColumnName": "LastUpdatedTimeUTC", "ColumnType": "datetime"}),
            serde_json::json!({"ColumnName": "SearchKey", "ColumnType": "string"}),
            serde_json::json!({"ColumnName": "Asset Name", "ColumnType": "string"}),
            serde_json::json!({"ColumnName": "Owner", "ColumnType": "string"}),
            serde_json::json!({"ColumnName": "Tier", "ColumnType": "string"}),
        ]
    );
    // HighValueAssets.json names `Asset Name` the search key; values are
    // strings, converted by the query.
    let run = watchlist_query(
        "_GetWatchlist('HighValueAssets') | where SearchKey == 'FS02' | project ['Asset Name'], Owner, t = toint(Tier) + 1",
    );
    assert_eq!(
        rows(&run),
        vec![serde_json::json!({"Asset Name": "FS02", "Owner": "it-ops", "t": 2})]
    );
    // One id per item, the same on every run; the update time is set.
    let q = "_GetWatchlist('HighValueAssets') | summarize ids = dcount(_DTItemId), untimed = countif(isnull(LastUpdatedTimeUTC))";
    let run = watchlist_query(q);
    assert_eq!(
        rows(&run),
        vec![serde_json::json!({"ids": 3, "untimed": 0})]
    );
    let ids = |run: &Run| {
        rows(run)
            .iter()
            .map(|r| r["_DTItemId"].clone())
            .collect::<Vec<_>>()
    };
    let q = "_GetWatchlist('HighValueAssets') | project _DTItemId";
    assert_eq!(ids(&watchlist_query(q)), ids(&watchlist_query(q)));
}

#[test]
fn get_watchlist_in_joins_as_hunting_queries_use_it() {
    // The corpus query's shape: assets joined to activity on the asset
    // name, then to terminated employees on the user.
    let run = watchlist_query(
        "let BehaviorAnalytics = datatable(DestinationDevice:string, UserPrincipalName:string) [\n\
           'DC01', 'bob@contoso.com',\n\
           'WEB03', 'alice@contoso.com',\n\
           'LAPTOP9', 'carol@contoso.com'];\n\
         _GetWatchlist('HighValueAssets')\n\
         | join (BehaviorAnalytics) on $left.['Asset Name'] == $right.DestinationDevice\n\
         | join _GetWatchlist('TerminatedEmployees') on $left.UserPrincipalName == $right.['User Principal Name']\n\
         | project ['Asset Name'], UserPrincipalName, ['Termination Date']",
    );
    // DC01 is used by bob, who left on 2024-01-15; WEB03's alice did not
    // leave; LAPTOP9 is no high-value asset.
    assert_eq!(
        rows(&run),
        vec![serde_json::json!({
            "Asset Name": "DC01",
            "UserPrincipalName": "bob@contoso.com",
            "Termination Date": "2024-01-15"
        })]
    );
    // A watchlist resource's properties: one line skipped before the
    // header, `Host` the search key; quoted fields keep commas and line
    // breaks, an empty field is "".
    let run = watchlist_query("_GetWatchlist('Exposed') | project SearchKey, Note");
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"SearchKey": "srv,1", "Note": "two\r\nlines"}),
            serde_json::json!({"SearchKey": "srv2", "Note": ""}),
        ]
    );
}

#[test]
fn get_watchlist_errors() {
    // A misspelt alias: the span, and a did-you-mean over the files.
    let run = watchlist_query("_GetWatchlist('HighValueAsset') | take 1");
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(
        &run,
        &[
            "unknown watchlist `HighValueAsset`",
            // The label is under the argument, which starts at column 15.
            "<query>:1:15]",
            "no HighValueAsset.csv in ../../testdata/watchlists",
            "did you mean `HighValueAssets`?",
        ],
    );
    // Without --watchlists: the flag is named.
    let run = kqlite(&["query", "_GetWatchlist('ipwatchlist')"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(&run, &["--watchlists DIR"]);
    // A folder that is not there is bad usage.
    let run = kqlite(&["query", "--watchlists", "no/such/dir", "print 1"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    has(&run, &["--watchlists no/such/dir: no such folder"]);
    // The alias must be a constant.
    let run = watchlist_query("_GetWatchlist(now())");
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(&run, &["the watchlist's alias as a constant string"]);
    // A search key that is not a column, a CSV row of the wrong width.
    let dir = temp_dir("watchbad");
    write(&dir, "w.csv", "A,B\n1,2\n");
    write(&dir, "w.json", "{\"searchKey\": \"C\"}");
    write(&dir, "v.csv", "A,B\n1,2\n3\n");
    let folder = dir.display().to_string();
    let run = kqlite(&["query", "--watchlists", &folder, "_GetWatchlist('w')"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &[
            "w.json: the search key `C` is not a column of",
            "(its columns: A, B)",
        ],
    );
    let run = kqlite(&["query", "--watchlists", &folder, "_GetWatchlist('v')"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(&run, &["v.csv:3: 1 fields, the header has 2"]);
    // `kqlite check` binds against the watchlists too.
    let run = kqlite(&[
        "check",
        "--watchlists",
        WATCHLISTS,
        "-q",
        "_GetWatchlist('HighValueAssets') | project ['Asset Name'], SearchKey",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

// ------------------------------------------------------------ externaldata

const EXTERNAL: &str = "../../testdata/externaldata";

fn external_query(q: &str) -> Run {
    kqlite(&["query", "-o", "json", "--externaldata", EXTERNAL, q])
}

#[test]
fn externaldata_csv_feeds_as_sentinel_rules_read_them() {
    // The rules' form: the URL's last segment names the local file; the
    // header row is skipped with ignoreFirstRecord; a quoted field keeps
    // its comma.
    let run = external_query(
        "externaldata(DateAdded:string,IoC:string,Type:string,TLP:string) \
         [@\"https://raw.githubusercontent.com/Azure/Azure-Sentinel/master/Sample%20Data/Feeds/Tarrask.csv\"] \
         with (format=\"csv\", ignoreFirstRecord=True)\n\
         | where Type != 'IP' | project IoC, TLP",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"IoC": "winupdate", "TLP": "TLP:WHITE"}),
            serde_json::json!({"IoC": "c:\\tasks\\winupdate, copy", "TLP": "TLP:GREEN"}),
        ]
    );
    // Without ignoreFirstRecord the header is a row like any other.
    let run = external_query(
        "externaldata(DateAdded:string,IoC:string,Type:string,TLP:string) \
         [\"https://example.org/Tarrask.csv\"] | count",
    );
    assert_eq!(rows(&run), vec![serde_json::json!({"Count": 4})]);
    // Headerless, typed by the declaration, the format from the extension
    // (no `with`); fields map to columns by position.
    let run = external_query(
        "externaldata (Position:int, Domain:string) \
         [@\"http://s3-us-west-1.amazonaws.com/umbrella-static/top-1m.csv\"] \
         | where Position > 1 | project Domain",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"Domain": "example.net"}),
            serde_json::json!({"Domain": "bad.example"}),
        ]
    );
    // Declaring fewer columns than the file has reads the first ones.
    let run = external_query(
        "externaldata (DateAdded:string) [\"https://example.org/Tarrask.csv\"] \
         with (ignoreFirstRecord=true) | distinct DateAdded | order by DateAdded asc",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"DateAdded": "2022-04-12"}),
            serde_json::json!({"DateAdded": "2022-04-13"}),
        ]
    );
}

#[test]
fn externaldata_txt_json_and_mapped_urls() {
    // The MalwareBazaar hash list: one line per record, `#` lines are
    // comments the query drops; the URL ends in `/`, its last non-empty
    // segment is `recent`.
    let run = external_query(
        "let abuse_sha256 = (externaldata(sha256_hash: string )\n\
         [@\"https://bazaar.abuse.ch/export/txt/sha256/recent/\"]\n\
         with (format=\"txt\"))\n\
         | where sha256_hash !startswith \"#\"\n\
         | project sha256_hash;\n\
         abuse_sha256",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"sha256_hash": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"}),
            serde_json::json!({"sha256_hash": "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9"}),
        ]
    );
    // The Azure service tags document, one JSON object over many lines
    // (multijson): three prefixes in two tags.
    let run = external_query(
        "externaldata(changeNumber: string, cloud: string, values: dynamic)\n\
         [\"https://download.microsoft.com/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20220321.json\"]\n\
         with(format='multijson')\n\
         | mv-expand values\n\
         | mv-expand prefix = values.properties.addressPrefixes\n\
         | project changeNumber, cloud, tag = tostring(values.name), prefix = tostring(prefix)",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"changeNumber": "190", "cloud": "Public", "tag": "WindowsVirtualDesktop", "prefix": "198.51.100.0/25"}),
            serde_json::json!({"changeNumber": "190", "cloud": "Public", "tag": "WindowsVirtualDesktop", "prefix": "203.0.113.128/26"}),
            serde_json::json!({"changeNumber": "190", "cloud": "Public", "tag": "Storage.WestEurope", "prefix": "192.0.2.0/24"}),
        ]
    );
    // JSON lines typed by the declaration; the URL is two literals, the
    // second obfuscated (h@), and its query string is not part of the name.
    let run = external_query(
        "externaldata(UserID:string, Score:long, Seen:datetime, Admin:bool)\n\
         [@\"https://acct.blob.core.windows.net/c/users.json\" h@\"?sv=secret\"]\n\
         with (format=\"json\")\n\
         | project UserID, s = Score * 2, Seen, Admin",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"UserID": "u1", "s": 10, "Seen": "2024-01-01T00:00:00Z", "Admin": true}),
            serde_json::json!({"UserID": "u2", "s": 14, "Seen": null, "Admin": false}),
        ]
    );
    // externaldata.json maps a URL with no file name to a file (looked up
    // without the query string too); psv is `|`-separated.
    let run = external_query(
        "externaldata (Indicator:string, Kind:string) \
         [\"https://feeds.example.org/latest?token=abc\"] \
         with (format=\"psv\", ignoreFirstRecord=true)",
    );
    assert_eq!(
        rows(&run),
        vec![
            serde_json::json!({"Indicator": "198.51.100.9", "Kind": "ip"}),
            serde_json::json!({"Indicator": "evil.example", "Kind": "domain"}),
        ]
    );
    // Several URLs: their rows one after the other.
    let run = external_query(
        "externaldata (Domain:string) \
         [\"https://x.org/recent\", \"https://x.org/recent\"] with (format=\"txt\") | count",
    );
    assert_eq!(rows(&run), vec![serde_json::json!({"Count": 14})]);
}

#[test]
fn externaldata_errors() {
    // No folder: the flag is named, under the operator.
    let run = kqlite(&["query", "externaldata(a:string)[\"https://x.org/a.csv\"]"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(
        &run,
        &["externaldata reads local files only", "--externaldata DIR"],
    );
    // An unresolved URL: under the URL, naming the file looked for.
    let run = external_query("externaldata(a:string)[\"https://x.org/none.csv?sig=1\"]");
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(
        &run,
        &[
            "externaldata: no local file for `https://x.org/none.csv?sig=1`",
            "<query>:1:24]",
            "looked for ../../testdata/externaldata/none.csv",
        ],
    );
    // A URL with no file name and no mapping.
    let run = external_query("externaldata(a:string)[\"https://x.org/\"]");
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(&run, &["looked for an entry in", "the URL names no file"]);
    // Formats and properties kqlite does not read are named.
    let run = external_query(
        "externaldata(a:string)[\"https://x.org/Tarrask.csv\"] with (format=\"parquet\")",
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(
        &run,
        &["externaldata format `parquet`", "is not supported yet"],
    );
    let run = external_query(
        "externaldata (Position:int, Domain:string) \
         [@\"http://s3-us-west-1.amazonaws.com/umbrella-static/top-1m.csv.zip\"] \
         with (format=\"csv\", zipPattern=\"*.csv\")",
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(
        &run,
        &["externaldata property `zipPattern` is not supported yet"],
    );
    // A value the declared type does not take: the file and line.
    let run = external_query(
        "externaldata (Position:int, Domain:string) [\"https://x.org/Tarrask.csv\"]",
    );
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &["externaldata/Tarrask.csv:1: column `Position`: `DateAdded` is not a int"],
    );
    // Rows of different widths in one file.
    let dir = temp_dir("externalbad");
    write(&dir, "ragged.csv", "a,b\nc\n");
    write(&dir, "externaldata.json", "[1]");
    let folder = dir.display().to_string();
    let q = "externaldata (x:string) [\"https://x.org/ragged.csv\"]";
    let run = kqlite(&["query", "--externaldata", &folder, q]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &["externaldata.json: expected an object mapping URLs to files"],
    );
    std::fs::remove_file(dir.join("externaldata.json")).expect("remove");
    let run = kqlite(&["query", "--externaldata", &folder, q]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    has(
        &run,
        &["ragged.csv:2: 1 fields, the file's first record has 2"],
    );
}

#[test]
fn check_binds_externaldata_by_its_declared_columns() {
    // `kqlite check` runs nothing: without --externaldata the declared
    // columns are the table, no file is needed.
    let q = "externaldata(IoC:string, Type:string) [\"https://x.org/feed.csv\"] with (format=\"csv\")\n\
             | where Type == 'IP' | project IoC";
    let run = kqlite(&["check", "-q", q]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(run.stdout, "<query>: ok\n");
    let q = "externaldata(IoC:string) [\"https://x.org/feed.csv\"] | where Type == 'IP'";
    let run = kqlite(&["check", "-q", q]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(&run, &["unknown column `Type`"]);
    // With the folder, the files are read, so a missing one is reported.
    let run = kqlite(&["check", "--externaldata", EXTERNAL, "-q", q]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    has(&run, &["no local file for `https://x.org/feed.csv`"]);
}

#[test]
fn convert_keeps_the_schema_files_types() {
    let dir = temp_dir("convertschema");
    write(&dir, "src/Events.ndjson", EVENTS);
    write(
        &dir,
        "src/Events.kql",
        ".create table Events (Id:long, When:datetime, Props:dynamic)",
    );
    let src = dir.join("src").display().to_string();
    let out = dir.join("out").display().to_string();
    let run = kqlite(&["convert", &src, "--to", &out]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    // The Parquet copy has the schema file's types, with no schema beside it.
    let run = kqlite(&[
        "query",
        "-d",
        &out,
        "Events | project n = Id + 1, a = toint(Props.a), Extra",
    ]);
    assert_eq!(
        rows(&run),
        vec![serde_json::json!({"n": 8, "a": 1, "Extra": 5})]
    );
}
