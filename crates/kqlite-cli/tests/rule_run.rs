//! `kqlite rule run`: one scheduled evaluation of a Sentinel rule.

mod common;
use common::kqlite;

fn examples() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples").to_string()
}

#[test]
fn the_seed_rule_as_written_is_refused_with_its_mapping_problems() {
    let rule = format!(
        "{}/rules/integrate-purview-with-cloud-app-events.yaml",
        examples()
    );
    let run = kqlite(&["rule", "run", &rule, "--now", "2024-06-01T00:00:00Z"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stdout.is_empty());
    for part in [
        "Sentinel would not run this rule",
        "entityMappings[0].fieldMappings[2].columnName: 'UserId' is not a column of the query's output",
        "entityMappings[1].fieldMappings[0].columnName: 'ClientIP' is not a column of the query's output",
    ] {
        assert!(
            run.stderr.contains(part),
            "`{part}` missing:\n{}",
            run.stderr
        );
    }
}

/// Data for the fixed rule: one alert naming Budget.xlsx; CloudAppEvents
/// with a user's download (a true positive), an Azure DevOps pipeline's (a
/// false-positive source the rule excludes), and a download 14.5 days before
/// `now`, outside the rule's 14-day period.
fn data(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("temp dir");
    std::fs::write(
        dir.join("SecurityAlert.ndjson"),
        r#"{"TimeGenerated":"2024-05-31T10:00:00Z","SystemAlertId":"a1","CompromisedEntity":"alice@contoso.com","Entities":"[{\"Type\":\"file\",\"Name\":\"Budget.xlsx\"}]"}
"#,
    )
    .expect("write");
    std::fs::write(
        dir.join("CloudAppEvents.ndjson"),
        r#"{"TimeGenerated":"2024-05-31T09:00:00Z","Application":"Microsoft SharePoint Online","IPAddress":"10.0.0.1","ActivityObjects":[{"Type":"File","Name":"Budget.xlsx"}],"RawEventData":{"SourceFileName":"Budget.xlsx"}}
{"TimeGenerated":"2024-05-31T09:30:00Z","Application":"Azure DevOps","IPAddress":"10.0.0.2","ActivityObjects":[{"Type":"File","Name":"Budget.xlsx"}],"RawEventData":{"SourceFileName":"Budget.xlsx"}}
{"TimeGenerated":"2024-05-17T13:00:00Z","Application":"Microsoft SharePoint Online","IPAddress":"10.0.0.3","ActivityObjects":[{"Type":"File","Name":"Budget.xlsx"}],"RawEventData":{"SourceFileName":"Budget.xlsx"}}
"#,
    )
    .expect("write");
}

#[test]
fn the_fixed_rule_alerts_once_with_its_entities() {
    let dir = std::env::temp_dir().join(format!("kqlite-rule-run-{}", std::process::id()));
    data(&dir);
    let rule = format!(
        "{}/rules/integrate-purview-with-cloud-app-events-fixed.yaml",
        examples()
    );
    let d = dir.display().to_string();
    let run = kqlite(&[
        "rule",
        "run",
        &rule,
        "-d",
        &d,
        "--now",
        "2024-06-01T00:00:00Z",
        "-o",
        "ndjson",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    // One result row (the DevOps download is excluded, the old one is
    // outside the 14-day window), so one alert.
    assert!(
        run.stderr
            .contains("1 result row in [2024-05-18T00:00:00Z, 2024-06-01T00:00:00Z]; 1 alert"),
        "{}",
        run.stderr
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    let alert: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    assert_eq!(alert["AlertSeverity"], "Medium");
    assert_eq!(alert["Tactics"], "Collection");
    assert_eq!(alert["ProviderName"], "ASI Scheduled Alerts");
    assert_eq!(alert["StartTime"], "2024-05-18T00:00:00Z");
    let entities: serde_json::Value =
        serde_json::from_str(alert["Entities"].as_str().unwrap_or_default())
            .expect("entities JSON");
    assert_eq!(
        entities,
        serde_json::json!([
            {"$id": "2", "Type": "account", "FullName": "alice@contoso.com"},
            {"$id": "3", "Type": "file", "Name": "Budget.xlsx"},
            {"$id": "4", "Type": "ip", "Address": "10.0.0.1"}
        ])
    );
    // The same input gives byte-identical output.
    let again = kqlite(&[
        "rule",
        "run",
        &rule,
        "-d",
        &d,
        "--now",
        "2024-06-01T00:00:00Z",
        "-o",
        "ndjson",
    ]);
    assert_eq!(again.stdout, run.stdout);
    // Half a day earlier the older download is inside the window: two rows,
    // still one alert (SingleAlert groups every row).
    let run = kqlite(&[
        "rule",
        "run",
        &rule,
        "-d",
        &d,
        "--now",
        "2024-05-31T12:00:00Z",
        "-o",
        "ndjson",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("2 result rows"), "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn replay_evaluates_every_frequency_with_suppression_deterministically() {
    let rule = format!(
        "{}/rules/integrate-purview-with-cloud-app-events-fixed.yaml",
        examples()
    );
    let args = [
        "rule",
        "replay",
        rule.as_str(),
        "--from",
        "2024-05-25T00:00:00Z",
        "--to",
        "2024-06-01T00:00:00Z",
    ];
    let run = kqlite(&args);
    assert_eq!(run.code, 0, "{}", run.transcript());
    // Daily over 7 days of the bundled data: 7 evaluations, each finds rows.
    assert!(
        run.stderr.contains("7 evaluations every 1.00:00:00"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("7 alerts, 0 suppressed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("  2024-05-26: 1 alert\n"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout.lines().count(), 7);
    let again = kqlite(&args);
    assert_eq!(
        again.stdout, run.stdout,
        "the same input gives byte-identical output"
    );
    // Every 12 hours with a day of suppression: every other evaluation's
    // alert is suppressed.
    let dir = std::env::temp_dir().join(format!("kqlite-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = std::fs::read_to_string(&rule)
        .expect("rule")
        .replace("queryFrequency: 1d", "queryFrequency: 12h")
        + "suppressionEnabled: true\nsuppressionDuration: 1d\n";
    let suppressed = dir.join("suppressed.yaml");
    std::fs::write(&suppressed, text).expect("write rule");
    let s = suppressed.display().to_string();
    let run = kqlite(&[
        "rule",
        "replay",
        &s,
        "--from",
        "2024-05-25T00:00:00Z",
        "--to",
        "2024-06-01T00:00:00Z",
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr.contains("14 evaluations every 12:00:00"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("7 alerts, 7 suppressed"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn alerts_print_as_table_json_and_csv() {
    let rule = format!(
        "{}/rules/integrate-purview-with-cloud-app-events-fixed.yaml",
        examples()
    );
    let run = |format: &str| {
        kqlite(&[
            "rule",
            "run",
            &rule,
            "--now",
            "2024-06-01T00:00:00Z",
            "-o",
            format,
        ])
    };
    let json = run("json");
    assert_eq!(json.code, 0, "{}", json.transcript());
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON array");
    assert_eq!(parsed.as_array().map(Vec::len), Some(1));
    let csv = run("csv");
    assert!(
        csv.stdout
            .starts_with("TimeGenerated,DisplayName,AlertName,AlertSeverity,"),
        "{}",
        csv.stdout
    );
    assert_eq!(
        csv.stdout.lines().next().map(|h| h.split(',').count()),
        Some(18)
    );
    let table = run("table");
    assert!(table.stdout.contains("AlertSeverity"), "{}", table.stdout);
    assert!(table.stdout.ends_with("(1 alert)\n"), "{}", table.stdout);
}
