//! Binding: the query plans against the built-in schemas, and every column
//! the rule names is in the query's output.

use kqlite_detect::{Rule, bind, check};
use kqlite_engine::Session;

fn session() -> Session {
    let mut session = Session::new().expect("session");
    session.register_builtin_schemas().expect("schemas");
    session
}

const RULE: &str = "\
id: 0c7e4b5a-3f7d-4d8e-9a55-2b0c1c2f6a11
name: High severity alerts
description: x
severity: High
requiredDataConnectors: []
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
query: |
  SecurityAlert
  | where AlertSeverity == \"High\"
  | project TimeGenerated, AlertName, CompromisedEntity, AlertSeverity, Tactics, ProductName
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: HostName
        columnName: CompromisedEntity
customDetails:
  Product: ProductName
alertDetailsOverride:
  alertDisplayNameFormat: '{{AlertName}} on {{CompromisedEntity}}'
  alertSeverityColumnName: AlertSeverity
  alertTacticsColumnName: Tactics
  alertDynamicProperties:
    - alertProperty: ProductName
      value: ProductName
version: 1.0.0
kind: Scheduled
";

#[test]
fn every_named_column_is_checked() {
    let report = check("r.yaml", RULE, Some(&session()));
    assert!(
        report.is_ok(),
        "{:?}",
        report.diagnostics().collect::<Vec<_>>()
    );
    let broken = RULE
        .replace("columnName: CompromisedEntity", "columnName: Computer")
        .replace("Product: ProductName", "Product: Product")
        .replace("on {{CompromisedEntity}}", "on {{Host}}")
        .replace(
            "alertSeverityColumnName: AlertSeverity",
            "alertSeverityColumnName: Severity",
        )
        .replace(
            "alertTacticsColumnName: Tactics",
            "alertTacticsColumnName: tactics",
        )
        .replace("      value: ProductName", "      value: Vendor");
    let rule = Rule::load("r.yaml", &broken).expect("loads");
    let found = bind(&rule, &session());
    let lines: Vec<String> = found
        .iter()
        .map(|d| format!("{} | {}", d.message, d.help.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        lines,
        [
            "entityMappings[0].fieldMappings[0].columnName: 'Computer' is not a column of the query's output | the query outputs `TimeGenerated`, `AlertName`, `CompromisedEntity`, `AlertSeverity`, `Tactics`, `ProductName`",
            "customDetails.Product: 'Product' is not a column of the query's output | the query outputs `TimeGenerated`, `AlertName`, `CompromisedEntity`, `AlertSeverity`, `Tactics`, `ProductName`",
            "alertDetailsOverride.alertDisplayNameFormat: 'Host' is not a column of the query's output | the query outputs `TimeGenerated`, `AlertName`, `CompromisedEntity`, `AlertSeverity`, `Tactics`, `ProductName`",
            "alertDetailsOverride.alertTacticsColumnName: 'tactics' is not a column of the query's output | did you mean `Tactics`?",
            "alertDetailsOverride.alertSeverityColumnName: 'Severity' is not a column of the query's output | the query outputs `TimeGenerated`, `AlertName`, `CompromisedEntity`, `AlertSeverity`, `Tactics`, `ProductName`",
            "alertDetailsOverride.alertDynamicProperties[0].value: 'Vendor' is not a column of the query's output | the query outputs `TimeGenerated`, `AlertName`, `CompromisedEntity`, `AlertSeverity`, `Tactics`, `ProductName`",
        ]
    );
    // The placeholder is pointed at in the file, braces included.
    assert_eq!(&broken[found[2].span.clone().expect("placed")], "{{Host}}");
}

#[test]
fn query_errors_point_into_the_file() {
    let typo = RULE.replace("| where AlertSeverity", "| where AlertSeverty");
    let rule = Rule::load("r.yaml", &typo).expect("loads");
    let found = bind(&rule, &session());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].message, "unknown column `AlertSeverty`");
    assert_eq!(found[0].code, "KQL102");
    let span = found[0].span.clone().expect("placed");
    assert_eq!(&typo[span.clone()], "AlertSeverty");
    assert_eq!(kqlite_syntax::line_col(&typo, span.start), (12, 11));
    // The engine's own diagnostic is kept for drawing it against the query.
    assert!(found[0].query.is_some());
}

/// A query the engine refuses is reported with the engine's own words and
/// code (for a construct not implemented yet, "... is not supported yet").
#[test]
fn engine_errors_pass_through() {
    let text = RULE.replace(
        "| where AlertSeverity == \"High\"\n",
        "| where AlertSeverity == \"High\"\n  | where no_such_function(AlertName)\n",
    );
    let rule = Rule::load("r.yaml", &text).expect("loads");
    let session = session();
    let Err(kqlite_engine::Error::Query(engine)) = session.plan(&rule.query.text) else {
        panic!("the engine refuses the query");
    };
    let found = bind(&rule, &session);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, engine.message);
    assert_eq!(found[0].code, engine.code);
    let span = found[0].span.clone().expect("placed");
    assert_eq!(&text[span], "no_such_function");
}
