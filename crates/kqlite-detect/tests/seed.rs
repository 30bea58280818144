//! The seed analytic rule (`../shared/seeds/002_8e377e44b6f9ebab.txt`): its
//! entity mappings name `UserId` and `ClientIP`, which the query does not
//! output (the SecurityAlert ⋈ CloudAppEvents join outputs neither), so
//! Sentinel could not fill them. Microsoft Learn, "Map data fields to
//! entities": an identifier's value is chosen from "the data fields in the
//! table defined as the subject of the rule query".

use kqlite_detect::{Rule, RuleKind, bind, validate};
use kqlite_engine::Session;
use std::path::Path;

/// The rule YAML of the seed text, with its indentation restored: the seed
/// text holds the same lines with every leading space lost (so, read as it
/// stands, `dataTypes`, `fieldMappings`... would be repeated top-level
/// keys). `seed_text_holds_these_lines` checks that only indentation was
/// added.
const SEED_RULE: &str = r#"id: a1adce9c-5945-4a20-984e-d95b6071a791
name: Integrate Purview with Cloud App Events
description: |
  "This query searches for any files in Cloud App Events that have trigger a security alert."
severity: Medium
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - CloudAppEvents
  - connectorId: MicrosoftCloudAppSecurity
    dataTypes:
      - SecurityAlert
tactics:
  - Collection
relevantTechniques:
  - T1074
query: |
  SecurityAlert
  | where TimeGenerated >= ago(30d)
  | extend EntitiesDynamicArray = parse_json(Entities)
  | mv-expand EntitiesDynamicArray
  | extend Entitytype = tostring(parse_json(EntitiesDynamicArray).Type), EntityName = tostring(parse_json(EntitiesDynamicArray).Name),
  EntityUPNSuffix = tostring(parse_json(EntitiesDynamicArray).UPNSuffix)
  | where Entitytype =~ "file" and EntityName != ""
  | join kind=inner(CloudAppEvents
  | extend ActivityObjectsDynamicArray = parse_json(ActivityObjects)
  | mv-expand ActivityObjectsDynamicArray
  | extend Entitytype = tostring(parse_json(ActivityObjectsDynamicArray).Type), EntityName = tostring(RawEventData.SourceFileName),
  EntityUPNSuffix = tostring(parse_json(ActivityObjectsDynamicArray).UPNSuffix)
  | where Entitytype =~ "file") on $left.EntityName == $right.EntityName
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: Name
        columnName: EntityName
      - identifier: UPNSuffix
        columnName: EntityUPNSuffix
      - identifier: FullName
        columnName: UserId
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: ClientIP
version: 1.0.0
kind: Scheduled
"#;

fn seed_text() -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seeds/002_8e377e44b6f9ebab.txt");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("note: {} is not on this machine; skipped", path.display());
            None
        }
    }
}

/// The seed's rule block: from its `id:` line to `kind: Scheduled`.
fn seed_block(text: &str) -> &str {
    let start = text.find("id: a1adce9c").expect("the seed holds the rule");
    let end = text[start..]
        .find("kind: Scheduled")
        .expect("the rule ends with its kind")
        + start
        + "kind: Scheduled".len();
    &text[start..end]
}

fn session() -> Session {
    let mut session = Session::new().expect("session");
    session.register_builtin_schemas().expect("schemas");
    session
}

#[test]
fn seed_text_holds_these_lines() {
    let Some(text) = seed_text() else {
        return;
    };
    let seed: Vec<&str> = seed_block(&text).lines().map(str::trim).collect();
    let ours: Vec<&str> = SEED_RULE.lines().map(str::trim).collect();
    assert_eq!(seed, ours);
}

#[test]
fn seed_text_as_it_stands_is_not_the_rule() {
    let Some(text) = seed_text() else {
        return;
    };
    let block = seed_block(&text);
    let errors = Rule::load("seed.yaml", block).expect_err("flattened YAML");
    assert!(
        errors[0].message.starts_with("cannot read the rule YAML: "),
        "{}",
        errors[0].message
    );
    // The first thing YAML cannot read: the description's text, which the
    // flattened seed moved out of its `description: |` block (a block
    // scalar's lines must be indented), so it stands where a key belongs.
    let at = errors[0].span.clone().expect("placed").start;
    let line = block[..at].rfind('\n').map_or(0, |i| i + 1);
    assert!(
        block[line..].starts_with("\"This query searches"),
        "{}",
        &block[line..]
    );
}

#[test]
fn seed_rule_mappings_name_columns_the_query_does_not_output() {
    let rule = Rule::load("seed.yaml", SEED_RULE).expect("loads");
    assert_eq!(rule.kind, RuleKind::Scheduled);
    // As written, the seed leaves out the schedule a Scheduled rule needs
    // (`ScheduledTemplateInternalModel.cs`: `Required.Always`).
    let structural: Vec<String> = validate(&rule).into_iter().map(|d| d.message).collect();
    assert_eq!(
        structural,
        [
            "queryFrequency: required for a Scheduled rule, and missing",
            "queryPeriod: required for a Scheduled rule, and missing",
            "triggerOperator: required for a Scheduled rule (gt, lt, eq or ne), and missing",
            "triggerThreshold: required for a Scheduled rule, and missing",
        ]
    );
    let found = bind(&rule, &session());
    let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "entityMappings[0].fieldMappings[2].columnName: 'UserId' is not a column of the query's output",
            "entityMappings[1].fieldMappings[0].columnName: 'ClientIP' is not a column of the query's output",
        ]
    );
    // Each points at the column name as written in the file.
    for (d, name) in found.iter().zip(["UserId", "ClientIP"]) {
        let span = d.span.clone().expect("placed");
        assert_eq!(&SEED_RULE[span], name);
    }
}

/// The same rule with the schedule filled in (`examples/rules/`): only the
/// two mapping problems remain.
#[test]
fn example_rule_has_only_the_mapping_problems() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/rules/integrate-purview-with-cloud-app-events.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let rule = Rule::load("example.yaml", &text).expect("loads");
    assert!(validate(&rule).is_empty());
    let fields: Vec<String> = bind(&rule, &session())
        .into_iter()
        .map(|d| d.field)
        .collect();
    assert_eq!(
        fields,
        [
            "entityMappings[0].fieldMappings[2].columnName",
            "entityMappings[1].fieldMappings[0].columnName",
        ]
    );
}
