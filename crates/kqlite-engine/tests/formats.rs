//! Every input format of FORMATS.md: (a) the real sample files kept beside
//! the repository (`../shared/samples`, skipped when absent), (b) one small
//! fixture per format in `testdata/formats/`, written from the exact
//! examples in `../shared/formats/*.example`, and (c) malformed input,
//! which must give an error naming the file and the line or row.
//!
//! Expected values come from the input files: row counts are counted here
//! with small parsers of their own (a quote-aware CSV record counter,
//! serde_json walks of the responses) and agree with the counts in
//! samples/README.md (measured there with Python's `csv` module); query
//! answers were worked out from the file contents, as each comment says.

use kqlite_engine::source::{self, Format, LoadedTable};
use kqlite_engine::{Session, output};
use kqlite_syntax::ast::ScalarType;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/formats")
}

fn samples() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples");
    if p.is_dir() {
        Some(p)
    } else {
        println!("note: {} is missing; sample checks skipped", p.display());
        None
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kqlite-formats-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn load(name: Option<&str>, path: &Path) -> Vec<LoadedTable> {
    source::load(name, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn one(name: Option<&str>, path: &Path) -> LoadedTable {
    let mut t = load(name, path);
    assert_eq!(t.len(), 1, "{}: one table expected", path.display());
    t.remove(0)
}

fn ty(t: &LoadedTable, column: &str) -> ScalarType {
    t.schema
        .column(column)
        .unwrap_or_else(|| panic!("table {} has no column {column}", t.schema.name))
        .ty
}

/// Runs a query over one table registered under `as_name`; rows as JSON
/// objects.
fn query(mut t: LoadedTable, as_name: &str, q: &str) -> Vec<Value> {
    t.schema.name = as_name.to_string();
    let mut s = Session::new().expect("session");
    s.register_loaded(t).expect("registers");
    rows(&s, q)
}

fn rows(s: &Session, q: &str) -> Vec<Value> {
    let r = s.query(q).unwrap_or_else(|e| panic!("{e}\n{q}"));
    output::rows(&r)
        .expect("rows")
        .into_iter()
        .map(|row| Value::Object(row.into_iter().collect()))
        .collect()
}

/// Data records in CSV text, counted independently of kqlite's reader:
/// line breaks outside quotes end a record; a doubled quote inside quotes
/// is a quote; a final line break and blank lines end nothing.
fn count_csv_records(text: &str) -> usize {
    let mut quoted = false;
    let mut records = 0;
    let mut content = false;
    for c in text.trim_start_matches('\u{feff}').chars() {
        match c {
            '"' => {
                quoted = !quoted;
                content = true;
            }
            '\n' if !quoted => {
                if content {
                    records += 1;
                }
                content = false;
            }
            '\r' if !quoted => {}
            _ => content = true,
        }
    }
    if content {
        records += 1;
    }
    records - 1 // the header
}

// ---------------------------------------------------------------- samples

#[test]
fn sample_csv_files_load_with_their_row_counts() {
    let Some(dir) = samples() else { return };
    // samples/README.md "Rows" (Python's csv module), checked again here.
    for (file, rows_expected, cols) in [
        ("office_activity.csv", 266, 131),
        ("office_activity_inbox_rule.csv", 2, 129),
        ("signinLogs.csv", 1, 12),
        ("sign-in_adelete.csv", 56, 71),
        ("AuditLogs_Hunting.csv", 5, 39),
        ("alertlist.csv", 189, 25),
        ("demo_exchange_data.csv", 1334, 5),
    ] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).expect("sample");
        assert_eq!(count_csv_records(&text), rows_expected, "{file}");
        let t = one(None, &path);
        assert_eq!(t.rows(), rows_expected, "{file}");
        assert_eq!(t.schema.columns.len(), cols, "{file}");
        assert_eq!(t.format(), Some(Format::Csv), "{file}");
        assert_eq!(t.schema.name, file.trim_end_matches(".csv"));
        assert!(!t.sources[0].gzip);
    }
}

#[test]
fn portal_csv_sample_office_activity() {
    let Some(dir) = samples() else { return };
    let path = dir.join("office_activity.csv");
    let t = one(None, &path);
    // The four ` [UTC]` headers are datetime columns, named without the suffix.
    for c in [
        "TimeGenerated",
        "ElevationTime",
        "ElevationApprovedTime",
        "Start_Time",
    ] {
        assert_eq!(ty(&t, c), ScalarType::DateTime, "{c}");
    }
    assert!(t.schema.column("TimeGenerated [UTC]").is_none());
    assert_eq!(ty(&t, "Operation"), ScalarType::String);
    // From the file: TimeGenerated runs from 4/28/2021, 4:43:51.000 AM to
    // 4/28/2021, 3:05:26.000 PM; 48 rows are FileAccessed.
    let r = query(
        t,
        "T",
        "T | summarize n = count(), a = countif(Operation == 'FileAccessed'), \
         first = min(TimeGenerated), \
         last = max(TimeGenerated), \
         noapproval = countif(isnull(ElevationApprovedTime)) | extend first = first == datetime(2021-04-28T04:43:51Z), last = last == datetime(2021-04-28T15:05:26Z)",
    );
    assert_eq!(
        r,
        vec![json!({"n": 266, "a": 48, "first": true, "last": true, "noapproval": 266})]
    );
    // Typed by the OfficeActivity schema when named so: InternalLogonType
    // is int (7 zeros and 3 ones in the file), ExternalAccess stays a
    // string ("TRUE" in 5 rows, "FALSE" in 8).
    let t = one(Some("OfficeActivity"), &path);
    assert_eq!(ty(&t, "InternalLogonType"), ScalarType::Int);
    assert_eq!(ty(&t, "TimeGenerated"), ScalarType::DateTime);
    assert!(!t.inferred);
    let r = query(
        t,
        "OfficeActivity",
        "OfficeActivity | summarize logon1 = countif(InternalLogonType == 1), \
         ext = countif(ExternalAccess == 'TRUE')",
    );
    assert_eq!(r, vec![json!({"logon1": 3, "ext": 5})]);
}

#[test]
fn portal_csv_samples_small_ones() {
    let Some(dir) = samples() else { return };
    // signinLogs.csv: StartTime 4/19/2021, 12:13:19.483 PM, EndTime
    // 12:16:34.877 PM: 3 min 15.394 s apart.
    let t = one(None, &dir.join("signinLogs.csv"));
    assert_eq!(ty(&t, "StartTime"), ScalarType::DateTime);
    assert_eq!(ty(&t, "timestamp"), ScalarType::DateTime);
    let r = query(
        t,
        "T",
        "T | project s = StartTime == datetime(2021-04-19T12:13:19.483Z), \
         d = EndTime - StartTime == 3m + 15394ms, ip = IPAddress, \
         n = array_length(parse_json(disabledAccountSet))",
    );
    assert_eq!(
        r,
        vec![json!({"s": true, "d": true, "ip": "175.45.176.99", "n": 1})]
    );
    // sign-in_adelete.csv: CreatedDateTime from 2:08:45.221 PM to
    // 3:19:08.373 PM on 4/28/2021; ResultType "0" in 53 rows.
    let t = one(None, &dir.join("sign-in_adelete.csv"));
    assert_eq!(ty(&t, "CreatedDateTime"), ScalarType::DateTime);
    let r = query(
        t,
        "T",
        "T | summarize ok = countif(ResultType == '0'), \
         a = min(CreatedDateTime), \
         b = max(CreatedDateTime) | extend a = a == datetime(2021-04-28T14:08:45.221Z), b = b == datetime(2021-04-28T15:19:08.373Z)",
    );
    assert_eq!(r, vec![json!({"ok": 53, "a": true, "b": true})]);
    // office_activity_inbox_rule.csv: two New-InboxRule events.
    let t = one(None, &dir.join("office_activity_inbox_rule.csv"));
    let r = query(t, "T", "T | summarize n = count() by Operation");
    assert_eq!(r, vec![json!({"Operation": "New-InboxRule", "n": 2})]);
    // AuditLogs_Hunting.csv: five rows, all the same operation (with a
    // trailing space), InitiatingIpAddress empty in all.
    let t = one(None, &dir.join("AuditLogs_Hunting.csv"));
    let r = query(
        t,
        "T",
        "T | summarize n = count(), e = countif(isempty(InitiatingIpAddress)) by OperationName",
    );
    assert_eq!(
        r,
        vec![json!({
            "OperationName": "Update application \u{2013} Certificates and secrets management ",
            "n": 5, "e": 5
        })]
    );
}

#[test]
fn pandas_csv_samples() {
    let Some(dir) = samples() else { return };
    // alertlist.csv: pandas index in an unnamed first column; naive
    // datetimes `2019-01-11 06:31:40`; Severity High 102, Medium 56, Low
    // 24, Informational 7; IsIncident "False" in all rows; TimeGenerated
    // from 2019-01-10 05:48:09 to 2019-01-15 22:46:37 (UTC assumed).
    let t = one(None, &dir.join("alertlist.csv"));
    assert_eq!(ty(&t, "StartTimeUtc"), ScalarType::DateTime);
    assert_eq!(ty(&t, "TimeGenerated"), ScalarType::DateTime);
    assert_eq!(t.schema.columns[0].name, "Column1");
    let r = query(
        t,
        "T",
        "T | summarize n = count() by Severity | sort by n desc",
    );
    assert_eq!(
        r,
        vec![
            json!({"Severity": "High", "n": 102}),
            json!({"Severity": "Medium", "n": 56}),
            json!({"Severity": "Low", "n": 24}),
            json!({"Severity": "Informational", "n": 7}),
        ]
    );
    // Named SecurityAlert: IsIncident is the schema's bool.
    let t = one(Some("SecurityAlert"), &dir.join("alertlist.csv"));
    assert_eq!(ty(&t, "IsIncident"), ScalarType::Bool);
    let r = query(
        t,
        "SecurityAlert",
        "SecurityAlert | summarize i = countif(IsIncident), f = countif(not(IsIncident)), \
         a = min(TimeGenerated), \
         b = max(TimeGenerated) | extend a = a == datetime(2019-01-10 05:48:09), b = b == datetime(2019-01-15 22:46:37)",
    );
    assert_eq!(r, vec![json!({"i": 0, "f": 189, "a": true, "b": true})]);
    // demo_exchange_data.csv: ISO datetimes from 2020-03-24T14:56:52Z to
    // 2020-05-22T16:44:30Z; Set-ConditionalAccessPolicy 889 times; every
    // Parameters field is a non-empty JSON array spanning lines; UserId
    // empty in 1090 rows.
    let t = one(None, &dir.join("demo_exchange_data.csv"));
    assert_eq!(ty(&t, "TimeGenerated"), ScalarType::DateTime);
    let r = query(
        t,
        "T",
        "T | summarize cap = countif(Operation == 'Set-ConditionalAccessPolicy'), \
         p = countif(array_length(parse_json(Parameters)) > 0), u = countif(isempty(UserId)), \
         a = min(TimeGenerated), \
         b = max(TimeGenerated) | extend a = a == datetime(2020-03-24T14:56:52Z), b = b == datetime(2020-05-22T16:44:30Z)",
    );
    assert_eq!(
        r,
        vec![json!({"cap": 889, "p": 1334, "u": 1090, "a": true, "b": true})]
    );
}

/// A response's rows array, counted with serde_json.
fn json_rows(v: &Value, path: &[&str]) -> usize {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[*p],
        };
    }
    cur.as_array().map_or(0, Vec::len)
}

#[test]
fn sample_la_query_api_response() {
    let Some(dir) = samples() else { return };
    let path = dir.join("az_mon_raw_query.json");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("json");
    let expected = json_rows(&v, &["tables", "0", "rows"]);
    assert_eq!(expected, 3);
    let t = one(None, &path);
    // "PrimaryResult" is no table name: the file's stem is.
    assert_eq!(t.schema.name, "az_mon_raw_query");
    assert_eq!(t.format(), Some(Format::LaQueryApi));
    assert_eq!(t.rows(), expected);
    assert_eq!(t.schema.columns.len(), 34);
    assert!(!t.inferred);
    assert_eq!(ty(&t, "TimeGenerated"), ScalarType::DateTime);
    assert_eq!(ty(&t, "ConfidenceScore"), ScalarType::Real);
    assert_eq!(ty(&t, "IsIncident"), ScalarType::Bool);
    // From the file: ConfidenceScore null and IsIncident false in all three
    // rows; the latest TimeGenerated is 2023-02-20T21:11:02.2810341Z;
    // StartTime "2022-01-06T13:01:34Z" (no fraction) in all.
    let r = query(
        t,
        "T",
        "T | summarize n = count(), inc = countif(IsIncident), nulls = countif(isnull(ConfidenceScore)), \
         last = max(TimeGenerated), \
         st = countif(StartTime == datetime(2022-01-06T13:01:34Z)), \
         q = countif(tostring(parse_json(ExtendedProperties)['Trigger Operator']) == 'GreaterThan') | extend last = last == datetime(2023-02-20T21:11:02.2810341Z)",
    );
    assert_eq!(
        r,
        vec![json!({"n": 3, "inc": 0, "nulls": 3, "last": true, "st": 3, "q": 3})]
    );
}

#[test]
fn sample_kusto_v2_response() {
    let Some(dir) = samples() else { return };
    let path = dir.join("kusto_raw_resp.json");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("sample")).expect("json");
    let frames = v.as_array().expect("frames");
    let primary = frames
        .iter()
        .find(|f| f["TableKind"] == "PrimaryResult")
        .expect("primary");
    let expected = json_rows(primary, &["Rows"]);
    assert_eq!(expected, 10);
    let t = one(None, &path);
    assert_eq!(t.schema.name, "kusto_raw_resp");
    assert_eq!(t.format(), Some(Format::KustoV2));
    assert_eq!(t.rows(), expected);
    assert_eq!(t.schema.columns.len(), 130);
    // Column types as the frame declares them (78 string, 19 long, 15
    // datetime, 9 bool, 9 int).
    let count = |k: ScalarType| t.schema.columns.iter().filter(|c| c.ty == k).count();
    assert_eq!(
        [
            count(ScalarType::String),
            count(ScalarType::Long),
            count(ScalarType::DateTime),
            count(ScalarType::Bool),
            count(ScalarType::Int)
        ],
        [78, 19, 15, 9, 9]
    );
    // From the file: 8 of 10 rows have CreatedProcessIsElevated true; the
    // CreatedProcessId values sum to 176837; InitiatingProcessShowWindow is
    // null in all; conhost.exe is created twice.
    let r = query(
        t,
        "T",
        "T | summarize e = countif(CreatedProcessIsElevated), p = sum(CreatedProcessId), \
         w = countif(isnull(InitiatingProcessShowWindow)), c = countif(CreatedProcessName == 'conhost.exe'), \
         last = max(ReportArrivalTimeUtc) | extend last = last == datetime(2023-04-11T16:22:19.2935798Z)",
    );
    assert_eq!(
        r,
        vec![json!({"e": 8, "p": 176837, "w": 10, "c": 2, "last": true})]
    );
}

// --------------------------------------------------------------- fixtures

#[test]
fn la_export_tree() {
    let root = fixtures().join("la-export");
    let tables = load(None, &root);
    let names: Vec<&str> = tables.iter().map(|t| t.schema.name.as_str()).collect();
    // Container names are lower case; the tables get their schema names.
    assert_eq!(names, vec!["AzureDevOpsAuditing", "SecurityAlert"]);
    let alerts = &tables[1];
    assert_eq!(alerts.rows(), 4);
    assert_eq!(alerts.format(), Some(Format::LaExport));
    let files: Vec<String> = alerts
        .sources
        .iter()
        .map(|s| {
            let p = s.path.to_string_lossy().replace('\\', "/");
            p[p.find("/h=10/").expect("hour folder")..].to_string()
        })
        .collect();
    assert_eq!(
        files,
        vec![
            "/h=10/m=05/PT05M.json",
            "/h=10/m=05/PT05M_1.json",
            "/h=10/m=10/PT05M.json"
        ]
    );
    assert_eq!(
        alerts.sources.iter().map(|s| s.rows).collect::<Vec<_>>(),
        vec![2, 1, 1]
    );
    assert_eq!(ty(alerts, "TimeGenerated"), ScalarType::DateTime);
    assert_eq!(ty(alerts, "IsIncident"), ScalarType::Bool);
    // A column beyond the schema is kept.
    assert_eq!(
        ty(alerts, "_Internal_WorkspaceResourceId"),
        ScalarType::String
    );
    let mut s = Session::new().expect("session");
    for t in tables {
        s.register_loaded(t).expect("registers");
    }
    // Three "Mass download" records (two files), one "Impossible travel";
    // the one incident is High; the last TimeGenerated has 7 digits.
    assert_eq!(
        rows(
            &s,
            "SecurityAlert | summarize n = count() by AlertName | sort by AlertName asc"
        ),
        vec![
            json!({"AlertName": "Impossible travel", "n": 1}),
            json!({"AlertName": "Mass download", "n": 3})
        ]
    );
    assert_eq!(
        rows(
            &s,
            "SecurityAlert | where IsIncident | project AlertSeverity, \
             l = toscalar(SecurityAlert | summarize max(TimeGenerated)) == datetime(2024-11-22T10:11:59.9999999Z)"
        ),
        vec![json!({"AlertSeverity": "High", "l": true})]
    );
    assert_eq!(
        rows(
            &s,
            "AzureDevOpsAuditing | project g = tostring(Data.GroupName), a = tobool(Data.Updates[0].Active)"
        ),
        vec![json!({"g": "[Project_Alpha]\\Project Administrators", "a": true})]
    );
    // Pointing at one container gives that table alone.
    let only = load(None, &root.join("am-securityalert"));
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].schema.name, "SecurityAlert");
    assert_eq!(only[0].rows(), 4);
}

#[test]
fn defender_streaming_storage_tree_and_event_hub_message() {
    let tables = load(None, &fixtures().join("defender-storage"));
    let names: Vec<(&str, usize)> = tables
        .iter()
        .map(|t| (t.schema.name.as_str(), t.rows()))
        .collect();
    // Three CRLF lines: CloudAppEvents, DeviceProcessEvents, CloudAppEvents.
    assert_eq!(
        names,
        vec![("CloudAppEvents", 2), ("DeviceProcessEvents", 1)]
    );
    let cae = &tables[0];
    assert_eq!(cae.format(), Some(Format::DefenderStreaming));
    // The Defender XDR flavour of the schema: Timestamp, int ApplicationId.
    assert_eq!(ty(cae, "Timestamp"), ScalarType::DateTime);
    assert_eq!(ty(cae, "ApplicationId"), ScalarType::Int);
    assert_eq!(ty(cae, "ActivityObjects"), ScalarType::Dynamic);
    // Envelope fields are not columns.
    assert!(cae.schema.column("tenantId").is_none());
    assert!(cae.schema.column("category").is_none());
    let mut s = Session::new().expect("session");
    for t in tables {
        s.register_loaded(t).expect("registers");
    }
    assert_eq!(
        rows(
            &s,
            "CloudAppEvents | where IsAdminOperation | project AccountDisplayName, ApplicationId, UserAgent"
        ),
        vec![json!({"AccountDisplayName": "Ann", "ApplicationId": 20893, "UserAgent": "curl/8.0"})]
    );
    assert_eq!(
        rows(
            &s,
            "CloudAppEvents | where isnull(IPTags) or array_length(IPTags) == 0 | count"
        ),
        vec![json!({"Count": 1})]
    );
    assert_eq!(
        rows(
            &s,
            "DeviceProcessEvents | project ProcessId, ReportId, FileName"
        ),
        vec![json!({"ProcessId": 4242, "ReportId": 17, "FileName": "powershell.exe"})]
    );

    // An Event Hubs message: one `records` envelope, two tables.
    let tables = load(None, &fixtures().join("defender-eventhub.json"));
    let names: Vec<(&str, usize)> = tables
        .iter()
        .map(|t| (t.schema.name.as_str(), t.rows()))
        .collect();
    assert_eq!(names, vec![("DeviceProcessEvents", 2), ("AlertInfo", 1)]);
    let mut s = Session::new().expect("session");
    for t in tables {
        s.register_loaded(t).expect("registers");
    }
    // AdditionalFields is JSON text in one record, nested JSON in the
    // other: the same dynamic values ({"k":1}, {"k":2}).
    assert_eq!(
        rows(
            &s,
            "DeviceProcessEvents | summarize s = sum(toint(AdditionalFields.k)), n = dcount(DeviceName)"
        ),
        vec![json!({"s": 3, "n": 1})]
    );
    assert_eq!(
        rows(&s, "AlertInfo | project Title, Severity"),
        vec![json!({"Title": "Suspicious process", "Severity": "High"})]
    );
}

#[test]
fn az_cli_output() {
    let path = fixtures().join("az-cli.json");
    // Typed by the SigninLogs schema when named so.
    let t = one(Some("SigninLogs"), &path);
    assert_eq!(t.rows(), 3);
    assert_eq!(t.format(), Some(Format::AzCli));
    assert_eq!(ty(&t, "IsInteractive"), ScalarType::Bool);
    assert_eq!(ty(&t, "DurationMs"), ScalarType::Long);
    assert_eq!(ty(&t, "LocationDetails"), ScalarType::Dynamic);
    // TableName is the table's name, not a column.
    assert!(t.schema.column("TableName").is_none());
    // "None" is null for non-string types; a string column keeps the text.
    let r = query(
        t,
        "SigninLogs",
        "SigninLogs | where IsInteractive | project UserPrincipalName, DurationMs, \
         city = tostring(LocationDetails.city), AppDisplayName, t = isnull(TimeGenerated), count_ \
         | sort by UserPrincipalName asc",
    );
    assert_eq!(
        r,
        vec![
            json!({"UserPrincipalName": "alice@contoso.com", "DurationMs": null, "city": "Oslo",
                   "AppDisplayName": "None", "t": false, "count_": "5"}),
            json!({"UserPrincipalName": "carol@contoso.com", "DurationMs": 7, "city": "",
                   "AppDisplayName": "", "t": true, "count_": "12"}),
        ]
    );
    // Without a schema: the file's name, strings (datetimes when every
    // value is one, "None" aside).
    let t = one(None, &path);
    assert_eq!(t.schema.name, "az-cli");
    assert!(t.inferred);
    assert_eq!(ty(&t, "TimeGenerated"), ScalarType::DateTime);
    assert_eq!(ty(&t, "DurationMs"), ScalarType::String);
}

#[test]
fn la_query_api_response() {
    let t = one(None, &fixtures().join("la-query-api.json"));
    assert_eq!(t.schema.name, "la-query-api");
    assert_eq!(t.rows(), 4);
    assert!(!t.inferred);
    let types: Vec<(String, ScalarType)> = t
        .schema
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty))
        .collect();
    assert_eq!(
        types,
        vec![
            ("Category".to_string(), ScalarType::String),
            ("count_".to_string(), ScalarType::Long),
            ("First".to_string(), ScalarType::DateTime),
            ("Ratio".to_string(), ScalarType::Real),
            ("Flagged".to_string(), ScalarType::Bool),
            ("Props".to_string(), ScalarType::Dynamic),
        ]
    );
    // 20839 + 122 + 64 + 11 = 21036; one Flagged; one First null;
    // Ratio 0.5 + 1.25 + 2 = 3.75; Props JSON text and nested JSON alike.
    let r = query(
        t,
        "T",
        "T | summarize total = sum(count_), flagged = countif(Flagged), nofirst = countif(isnull(First)), \
         r = sum(Ratio), a = sum(array_length(Props.a)), b = max(tostring(Props.b))",
    );
    assert_eq!(
        r,
        vec![json!({"total": 21036, "flagged": 1, "nofirst": 1, "r": 3.75, "a": 2, "b": "x"})]
    );
}

#[test]
fn kusto_v1_response() {
    let t = one(None, &fixtures().join("kusto-v1.json"));
    // The table of contents names Table_0 the only QueryResult.
    assert_eq!(t.schema.name, "kusto-v1");
    assert_eq!(t.format(), Some(Format::KustoV1));
    assert_eq!(t.rows(), 3);
    assert_eq!(ty(&t, "Span"), ScalarType::Timespan);
    assert_eq!(ty(&t, "Id"), ScalarType::Guid);
    assert_eq!(ty(&t, "Last"), ScalarType::DateTime);
    // Spans 01:30:00, 1.00:00:00, 00:00:30.5: two above an hour.
    let r = query(
        t,
        "T",
        "T | summarize s = make_list(State), big = countif(Span > 1h), e = sum(Events), \
         noid = countif(isnull(Id)), l = countif(Last == datetime(2007-12-30T16:00:00.5Z)), \
         h = countif(Span == 30s + 500ms)",
    );
    assert_eq!(
        r,
        vec![
            json!({"s": ["TEXAS", "KANSAS", "IOWA"], "big": 2, "e": 10204, "noid": 1, "l": 1, "h": 1})
        ]
    );
}

#[test]
fn kusto_v2_responses() {
    let t = one(None, &fixtures().join("kusto-v2.json"));
    assert_eq!(t.schema.name, "kusto-v2");
    assert_eq!(t.rows(), 3);
    assert_eq!(ty(&t, "ProcessId"), ScalarType::Int);
    assert_eq!(ty(&t, "Extra"), ScalarType::Dynamic);
    let r = query(
        t,
        "T",
        "T | summarize c = countif(IsElevated), m = max(ReportIndex), p = countif(isnull(ProcessId)), \
         x = countif(Extra.moshe == 'value'), y = sum(array_length(Extra)), \
         a = countif(Created == datetime(2023-04-11T16:19:47.34605Z))",
    );
    assert_eq!(
        r,
        vec![json!({"c": 2, "m": 9223372036854775807i64, "p": 1, "x": 1, "y": 2, "a": 1})]
    );
    // Progressive: a DataReplace fragment drops the rows before it.
    let t = one(None, &fixtures().join("kusto-v2-progressive.json"));
    assert_eq!(t.schema.name, "Processes");
    let r = query(
        t,
        "Processes",
        "Processes | summarize n = make_list(Name), c = sum(Count)",
    );
    assert_eq!(r, vec![json!({"n": ["c.exe", "d.exe", "e.exe"], "c": 12})]);
}

#[test]
fn defender_and_graph_hunting_responses() {
    let t = one(None, &fixtures().join("defender-api.json"));
    assert_eq!(t.format(), Some(Format::DefenderApi));
    assert_eq!(t.rows(), 3);
    assert_eq!(ty(&t, "Timestamp"), ScalarType::DateTime);
    assert_eq!(ty(&t, "FileSize"), ScalarType::Long);
    assert_eq!(ty(&t, "AdditionalFields"), ScalarType::Dynamic);
    assert_eq!(ty(&t, "IsSigned"), ScalarType::Bool);
    // FileSize 1024 + null + 2048; one signed; AdditionalFields JSON text
    // {"a":1} and nested {"b":[1]}.
    let r = query(
        t,
        "T",
        "T | summarize s = sum(FileSize), signed = countif(IsSigned), a = sum(toint(AdditionalFields.a)), \
         b = sum(array_length(AdditionalFields.b)), \
         f = countif(Timestamp == datetime(2020-08-30T06:38:35.7664356Z))",
    );
    assert_eq!(
        r,
        vec![json!({"s": 3072, "signed": 1, "a": 1, "b": 1, "f": 1})]
    );
    let t = one(None, &fixtures().join("graph-hunting.json"));
    assert_eq!(t.format(), Some(Format::DefenderApi));
    assert_eq!(ty(&t, "Timestamp"), ScalarType::DateTime);
    let r = query(t, "T", "T | summarize n = count() by FileName");
    assert_eq!(r, vec![json!({"FileName": "cmd.exe", "n": 2})]);
}

#[test]
fn portal_and_pandas_csv_fixtures() {
    let path = fixtures().join("portal-export.csv");
    let t = one(None, &path);
    assert_eq!(t.rows(), 3);
    assert_eq!(ty(&t, "TimeGenerated"), ScalarType::DateTime);
    assert_eq!(ty(&t, "CreatedDateTime"), ScalarType::DateTime);
    // No schema: other CSV columns are text.
    assert_eq!(ty(&t, "IsInteractive"), ScalarType::String);
    let t = one(Some("SigninLogs"), &path);
    assert_eq!(ty(&t, "IsInteractive"), ScalarType::Bool);
    assert_eq!(ty(&t, "LocationDetails"), ScalarType::Dynamic);
    // TRUE / false / True; the JSON field spans five lines; 12:00:00.500 AM
    // is half a second after midnight, 12:00:00.000 PM is noon.
    let r = query(
        t,
        "SigninLogs",
        "SigninLogs | extend mid = TimeGenerated == datetime(2021-12-01T00:00:00.5Z), \
         noon = isnotnull(CreatedDateTime) and CreatedDateTime == datetime(2021-12-01T12:00:00Z), \
         first = TimeGenerated == datetime(2021-04-28T15:05:26Z) and CreatedDateTime == datetime(2021-04-28T15:05:25.123Z), \
         last = TimeGenerated == datetime(2022-01-02T11:59:59.999Z) \
         | project UserPrincipalName, IsInteractive, city = tostring(LocationDetails.city), \
           geo = array_length(LocationDetails.geo), DurationMs, Note, mid, noon, first, last",
    );
    assert_eq!(
        r,
        vec![
            json!({"UserPrincipalName": "alice@contoso.com", "IsInteractive": true, "city": "Oslo", "geo": 2,
                   "DurationMs": 15, "Note": "a, b", "mid": false, "noon": false, "first": true, "last": false}),
            json!({"UserPrincipalName": "bob@contoso.com", "IsInteractive": false, "city": "", "geo": null,
                   "DurationMs": null, "Note": "", "mid": true, "noon": true, "first": false, "last": false}),
            json!({"UserPrincipalName": "carol@contoso.com", "IsInteractive": true, "city": "", "geo": null,
                   "DurationMs": 7, "Note": "say \"hi\"", "mid": false, "noon": false, "first": false, "last": true}),
        ]
    );

    let path = fixtures().join("pandas.csv");
    let t = one(None, &path);
    assert_eq!(t.rows(), 3);
    // Naive datetimes (space or T, with or without a fraction) are UTC.
    assert_eq!(ty(&t, "TimeGenerated"), ScalarType::DateTime);
    let t = one(Some("SecurityAlert"), &path);
    assert_eq!(ty(&t, "IsIncident"), ScalarType::Bool);
    let r = query(
        t,
        "SecurityAlert",
        "SecurityAlert | summarize i = countif(IsIncident), late = countif(TimeGenerated > datetime(2019-01-12)), \
         f = countif(TimeGenerated == datetime(2019-01-12T08:15:00.25Z)), c = make_list(Count)",
    );
    assert_eq!(
        r,
        vec![json!({"i": 1, "late": 2, "f": 1, "c": ["3", "10", ""]})]
    );
}

#[test]
fn format_override_and_detection() {
    // The same az output read as a plain JSON array: "None" is then text,
    // and TableName a column.
    let path = fixtures().join("az-cli.json");
    let t = source::load_as(None, &path, Format::JsonArray).expect("loads");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].format(), Some(Format::JsonArray));
    assert!(t[0].schema.column("TableName").is_some());
    // A CSV file with another extension, read with an explicit format.
    let dir = temp_dir("override");
    let p = dir.join("export.txt");
    std::fs::write(&p, "a,b\n1,2\n").expect("write");
    assert!(source::load(None, &p).is_err());
    let t = source::load_as(None, &p, Format::Csv).expect("loads");
    assert_eq!(t[0].schema.name, "export");
    assert_eq!(t[0].rows(), 1);
    // A JSON-lines file whose first line holds a LA Query API response is
    // detected as one whatever its extension.
    let p = dir.join("resp.ndjson");
    std::fs::copy(fixtures().join("la-query-api.json"), &p).expect("copy");
    let t = source::load(None, &p).expect("loads");
    assert_eq!(t[0].format(), Some(Format::LaQueryApi));
    assert_eq!(t[0].rows(), 4);
    // A response without rows still has its declared columns.
    let p = dir.join("empty.json");
    std::fs::write(
        &p,
        r#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"When","type":"datetime"}],"rows":[]}]}"#,
    )
    .expect("write");
    let t = one(None, &p);
    assert_eq!(t.rows(), 0);
    assert!(!t.inferred);
    assert_eq!(ty(&t, "When"), ScalarType::DateTime);
    // az output of two result tables: TableName tells them apart; an
    // unnamed result gets the file's name.
    let p = dir.join("two.json");
    std::fs::write(
        &p,
        r#"[{"TableName":"PrimaryResult","a":"1"},{"TableName":"Extra","b":"x"},{"TableName":"PrimaryResult","a":"2"}]"#,
    )
    .expect("write");
    let t = load(None, &p);
    let names: Vec<(&str, usize)> = t
        .iter()
        .map(|t| (t.schema.name.as_str(), t.rows()))
        .collect();
    assert_eq!(names, vec![("two", 2), ("Extra", 1)]);
}

/// Every row of a table, as JSON, after sorting by all columns.
fn all_rows(t: LoadedTable) -> Vec<Value> {
    let cols: Vec<String> = t
        .schema
        .columns
        .iter()
        .filter(|c| c.ty != ScalarType::Dynamic)
        .map(|c| format!("['{}'] asc", c.name))
        .collect();
    let q = format!("T | sort by {}", cols.join(", "));
    query(t, "T", &q)
}

#[test]
fn gzip_gives_the_same_rows() {
    // az-cli.json.gz was written by `gzip -n -9` from az-cli.json.
    let plain = one(None, &fixtures().join("az-cli.json"));
    let gz = one(None, &fixtures().join("az-cli.json.gz"));
    assert_eq!(gz.schema.name, "az-cli");
    assert!(gz.sources[0].gzip);
    assert_eq!(gz.format(), Some(Format::AzCli));
    assert_eq!(gz.schema, plain.schema);
    assert_eq!(all_rows(gz), all_rows(plain));
    // Every other fixture file, compressed here.
    use std::io::Write;
    let dir = temp_dir("gzip");
    for f in [
        "defender-eventhub.json",
        "la-query-api.json",
        "kusto-v1.json",
        "kusto-v2.json",
        "defender-api.json",
        "portal-export.csv",
        "pandas.csv",
    ] {
        let src = fixtures().join(f);
        let dst = dir.join(format!("{f}.gz"));
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&dst).expect("create"),
            flate2::Compression::default(),
        );
        enc.write_all(&std::fs::read(&src).expect("read"))
            .expect("compress");
        enc.finish().expect("finish");
        let a = load(None, &src);
        let b = load(None, &dst);
        assert_eq!(a.len(), b.len(), "{f}");
        for (x, y) in a.into_iter().zip(b) {
            assert_eq!(x.schema, y.schema, "{f}");
            assert!(y.sources[0].gzip);
            assert_eq!(x.sources[0].format, y.sources[0].format, "{f}");
            assert_eq!(all_rows(x), all_rows(y), "{f}");
        }
    }
}

// -------------------------------------------------------------- malformed

/// Writes `text` to a file and returns the load error's message.
fn error_of(dir: &Path, file: &str, text: &[u8]) -> String {
    let p = dir.join(file);
    std::fs::write(&p, text).expect("write");
    match source::load(None, &p) {
        Ok(t) => panic!("{file}: expected an error, loaded {} tables", t.len()),
        Err(e) => e.to_string(),
    }
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "`{p}` missing from: {msg}");
    }
}

#[test]
fn malformed_input_names_file_and_line() {
    let dir = temp_dir("bad");
    let d = &dir;
    // JSON lines: a broken third line.
    let m = error_of(
        d,
        "SecurityAlert.ndjson",
        b"{\"a\":1}\n{\"a\":2}\n{\"a\":\n",
    );
    assert_has(&m, &["SecurityAlert.ndjson:3:"]);
    // JSON lines: a value that does not fit the schema's type.
    let m = error_of(
        d,
        "SigninLogs.ndjson",
        b"{\"IsInteractive\":true}\n{\"IsInteractive\":\"maybe\"}\n",
    );
    assert_has(
        &m,
        &[
            "SigninLogs.ndjson:2",
            "column `IsInteractive`",
            "`maybe` is not a bool",
        ],
    );
    // JSON array: the second element (line 3) is not an object.
    let m = error_of(d, "array.json", b"[\n {\"a\": 1},\n 5\n]\n");
    assert_has(&m, &["array.json:3: record 2", "expected a JSON object"]);
    // JSON array not closed.
    let m = error_of(d, "open.json", b"[\n {\"a\": 1},\n {\"a\": 2}\n");
    assert_has(&m, &["open.json:"]);
    // az output: record 2 (line 6) has a bool that is not one.
    let m = error_of(
        d,
        "SigninLogs.json",
        b"[\n {\"TableName\": \"PrimaryResult\",\n  \"IsInteractive\": \"True\"},\n {\"TableName\": \"PrimaryResult\",\n\n  \"IsInteractive\": \"perhaps\"}\n]\n",
    );
    assert_has(
        &m,
        &[
            "SigninLogs.json:4: record 2",
            "column `IsInteractive`",
            "`perhaps` is not a bool",
        ],
    );
    // Defender streaming: the second line's category is not a Defender table.
    let m = error_of(
        d,
        "stream.json",
        b"{\"category\":\"AdvancedHunting-AlertInfo\",\"properties\":{\"AlertId\":\"1\"}}\n{\"category\":\"SignInLogs\",\"properties\":{}}\n",
    );
    assert_has(&m, &["stream.json:2:", "`SignInLogs`", "AdvancedHunting-"]);
    // Defender streaming: properties missing in record 2 of an envelope.
    let m = error_of(
        d,
        "envelope.json",
        b"{\"records\":[\n{\"category\":\"AdvancedHunting-AlertInfo\",\"properties\":{}},\n{\"category\":\"AdvancedHunting-AlertInfo\"}]}\n",
    );
    assert_has(&m, &["envelope.json:3: record 2", "no `properties`"]);
    // LA Query API: row 2 is short.
    let m = error_of(
        d,
        "la.json",
        b"{\"tables\":[{\"name\":\"PrimaryResult\",\n\"columns\":[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"long\"}],\n\"rows\":[[\"x\",1],\n[\"y\"]]}]}\n",
    );
    assert_has(
        &m,
        &["la.json:4:", "row 2 has 1 values, the table has 2 columns"],
    );
    // LA Query API: a long that is not a number.
    let m = error_of(
        d,
        "la2.json",
        b"{\"tables\":[{\"name\":\"PrimaryResult\",\"columns\":[{\"name\":\"n\",\"type\":\"long\"}],\n\"rows\":[\n[1],\n[\"abc\"]]}]}\n",
    );
    assert_has(
        &m,
        &["la2.json:4: row 2", "column `n`", "`abc` is not a long"],
    );
    // Kusto v1: an unknown column type.
    let m = error_of(
        d,
        "v1.json",
        b"{\"Tables\":[{\"TableName\":\"Table_0\",\n\"Columns\":[{\"ColumnName\":\"x\",\"ColumnType\":\"varchar\"}],\"Rows\":[]}]}",
    );
    assert_has(&m, &["v1.json:2:", "column `x` has unknown type `varchar`"]);
    // Kusto v2: the completion frame reports an error.
    let m = error_of(
        d,
        "v2.json",
        b"[{\"FrameType\":\"DataSetHeader\"},\n{\"FrameType\":\"DataTable\",\"TableId\":1,\"TableKind\":\"PrimaryResult\",\"TableName\":\"PrimaryResult\",\"Columns\":[{\"ColumnName\":\"a\",\"ColumnType\":\"int\"}],\"Rows\":[[1]]},\n{\"FrameType\":\"DataSetCompletion\",\"HasErrors\":true,\"Cancelled\":false,\"OneApiErrors\":[{\"error\":{\"code\":\"LimitsExceeded\",\"message\":\"Request is invalid and cannot be executed.\"}}]}]",
    );
    assert_has(
        &m,
        &[
            "v2.json:3:",
            "reports an error",
            "Request is invalid and cannot be executed.",
        ],
    );
    // Kusto v2: an error object in place of row 2.
    let m = error_of(
        d,
        "v2b.json",
        b"[{\"FrameType\":\"DataTable\",\"TableId\":1,\"TableKind\":\"PrimaryResult\",\"TableName\":\"PrimaryResult\",\"Columns\":[{\"ColumnName\":\"a\",\"ColumnType\":\"int\"}],\"Rows\":[[1],\n{\"OneApiErrors\":[{\"error\":{\"message\":\"partial failure\"}}]}]}]",
    );
    assert_has(
        &m,
        &[
            "v2b.json:2:",
            "row 2",
            "reports an error in place of a row: partial failure",
        ],
    );
    // Defender API: a result that is not an object.
    let m = error_of(
        d,
        "ah.json",
        b"{\"Schema\":[{\"Name\":\"a\",\"Type\":\"String\"}],\n\"Results\":[\n{\"a\":\"x\"},\n[1]]}",
    );
    assert_has(&m, &["ah.json:4:", "row 2"]);
    // An error response instead of data.
    let m = error_of(
        d,
        "err.json",
        b"{\"error\":{\"code\":\"BadArgumentError\",\"message\":\"The request had some invalid properties\"}}",
    );
    assert_has(&m, &["err.json", "error response", "invalid properties"]);
    // CSV: a quoted field never closed (record starting on line 3).
    let m = error_of(d, "open.csv", b"a,b\r\n1,2\r\n3,\"x\r\n");
    assert_has(&m, &["open.csv:3:", "not closed"]);
    // CSV: a record with too many fields.
    let m = error_of(d, "wide.csv", b"a,b\n1,2\n3,4,5\n");
    assert_has(&m, &["wide.csv:3:", "3 fields, the header has 2"]);
    // Portal CSV: a [UTC] value that is no datetime.
    let m = error_of(
        d,
        "portal.csv",
        "\u{feff}TimeGenerated [UTC],x\r\n\"4/28/2021, 3:05:26.000 PM\",1\r\n\"13/45/2021, 3:05:26.000 PM\",2\r\n"
            .as_bytes(),
    );
    assert_has(
        &m,
        &[
            "portal.csv:3",
            "column `TimeGenerated`",
            "is not a datetime",
        ],
    );
    // Not UTF-8 (line 2).
    let m = error_of(d, "latin.csv", b"a\n\xe9t\xe9\n");
    assert_has(&m, &["latin.csv:2:", "not UTF-8"]);
    // A damaged gzip file.
    let m = error_of(d, "broken.json.gz", &[0x1f, 0x8b, 8, 0, 1, 2, 3, 4]);
    assert_has(&m, &["broken.json.gz", "not a valid gzip file"]);
    // NAME= on a file with two tables.
    let p = fixtures().join("defender-eventhub.json");
    let m = source::load(Some("X"), &p)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_has(
        &m,
        &["defender-eventhub.json", "DeviceProcessEvents, AlertInfo"],
    );
}

#[test]
fn truncated_files_give_errors_not_panics() {
    // Every fixture cut short at many places: each load returns (an error
    // or the rows before the cut), never panics.
    let dir = temp_dir("cut");
    for f in [
        "az-cli.json",
        "defender-eventhub.json",
        "la-query-api.json",
        "kusto-v1.json",
        "kusto-v2.json",
        "kusto-v2-progressive.json",
        "defender-api.json",
        "graph-hunting.json",
        "portal-export.csv",
        "pandas.csv",
        "az-cli.json.gz",
    ] {
        let bytes = std::fs::read(fixtures().join(f)).expect("fixture");
        let target = dir.join(f);
        for cut in (0..bytes.len()).step_by(3) {
            std::fs::write(&target, &bytes[..cut]).expect("write");
            for format in [
                Format::Auto,
                Format::JsonArray,
                Format::KustoV2,
                Format::Csv,
            ] {
                let _ = source::load_as(None, &target, format);
            }
        }
    }
}
