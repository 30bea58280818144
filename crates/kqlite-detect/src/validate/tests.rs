//! One test per check, each with a rule that passes and one that does not.
//! Limits and messages are those of the sources quoted in `validate.rs` and
//! `catalog.rs` (the Azure-Sentinel repository's template validation, and
//! Microsoft Learn).

use super::*;

/// A valid Scheduled rule; each test changes one part of it.
const BASE: &str = "\
id: 0c7e4b5a-3f7d-4d8e-9a55-2b0c1c2f6a11
name: Many failed sign-ins
description: |
  'Fires on many failures.'
severity: Medium
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes:
      - SigninLogs
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics:
  - CredentialAccess
relevantTechniques:
  - T1110
query: |
  SigninLogs
  | summarize Failures = count() by UserPrincipalName, IPAddress
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: IPAddress
version: 1.0.0
kind: Scheduled
";

fn messages(text: &str) -> Vec<String> {
    let rule = Rule::load("r.yaml", text).unwrap_or_else(|e| panic!("loads: {e:?}"));
    validate(&rule).into_iter().map(|d| d.message).collect()
}

/// BASE with the line starting `from` replaced by `to` (several lines may
/// be given with `\n`).
fn with(from: &str, to: &str) -> String {
    let start = BASE
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} in BASE"));
    let end = BASE[start..]
        .find('\n')
        .map_or(BASE.len(), |i| start + i + 1);
    format!("{}{}{}", &BASE[..start], to, &BASE[end..])
}

#[test]
fn base_rule_is_valid() {
    assert_eq!(messages(BASE), Vec::<String>::new());
}

/// `ScheduledTemplateInternalModel.cs`: `[RangeTimeSpanIsoFormat("00:05:00",
/// "14.00:00:00")]` on queryFrequency and queryPeriod.
#[test]
fn frequency_and_period_bounds() {
    let ok = with("queryFrequency: 1h", "queryFrequency: 5m\n");
    let ok = ok.replace("queryPeriod: 1h", "queryPeriod: 5m");
    assert_eq!(messages(&ok), Vec::<String>::new());
    let ok = with("queryFrequency: 1h", "queryFrequency: 14d\n")
        .replace("queryPeriod: 1h", "queryPeriod: 14d");
    assert_eq!(messages(&ok), Vec::<String>::new());
    let low = with("queryFrequency: 1h", "queryFrequency: 4m\n");
    assert_eq!(
        messages(&low),
        ["queryFrequency: 4m is outside Sentinel's range of 5m to 14d"]
    );
    let high = with("queryFrequency: 1h", "queryFrequency: 15d\n")
        .replace("queryPeriod: 1h", "queryPeriod: P15D");
    assert_eq!(
        messages(&high),
        [
            "queryFrequency: 15d is outside Sentinel's range of 5m to 14d",
            "queryPeriod: 15d is outside Sentinel's range of 5m to 14d",
        ]
    );
}

/// `PeriodGreaterThanOrEqualFrequencyAttribute.cs`: "'queryPeriod' should be
/// greater than or equal to 'queryFrequency'".
#[test]
fn period_at_least_frequency() {
    let equal = with("queryPeriod: 1h", "queryPeriod: PT60M\n");
    assert_eq!(messages(&equal), Vec::<String>::new());
    let short = with("queryFrequency: 1h", "queryFrequency: 2h\n");
    assert_eq!(
        messages(&short),
        [
            "queryPeriod: 1h is shorter than queryFrequency (2h); the period must be at least the frequency"
        ]
    );
}

/// `FrequencyLimitationForLongPeriodQuery.cs`: "When 'queryPeriod' greater
/// than or equal to 2 days, the 'queryFrequency' should be greater than or
/// equal to 1 hour."
#[test]
fn long_period_needs_hourly_frequency() {
    let ok = with("queryPeriod: 1h", "queryPeriod: 2d\n");
    assert_eq!(messages(&ok), Vec::<String>::new());
    let just_under = with("queryPeriod: 1h", "queryPeriod: 47h\n")
        .replace("queryFrequency: 1h", "queryFrequency: 30m");
    assert_eq!(messages(&just_under), Vec::<String>::new());
    let bad = with("queryPeriod: 1h", "queryPeriod: 2d\n")
        .replace("queryFrequency: 1h", "queryFrequency: 30m");
    assert_eq!(
        messages(&bad),
        [
            "queryFrequency: 30m is too frequent for a queryPeriod of 2d: with a period of 2 days or more, the frequency must be at least 1h"
        ]
    );
}

/// `ScheduledTemplateInternalModel.cs`: queryFrequency, queryPeriod,
/// triggerOperator, triggerThreshold and requiredDataConnectors are
/// `Required.Always`; the base model requires id, name, description, kind;
/// `QueryBasedTemplateInternalModel.cs` requires severity.
#[test]
fn required_fields_of_a_scheduled_rule() {
    let text = "kind: Scheduled\nquery: T\n";
    assert_eq!(
        messages(text),
        [
            "id: required (a GUID), and missing",
            "name: required, and missing",
            "description: required, and missing",
            "severity: required (Informational, Low, Medium or High), and missing",
            "requiredDataConnectors: required for a Scheduled rule, and missing",
            "queryFrequency: required for a Scheduled rule, and missing",
            "queryPeriod: required for a Scheduled rule, and missing",
            "triggerOperator: required for a Scheduled rule (gt, lt, eq or ne), and missing",
            "triggerThreshold: required for a Scheduled rule, and missing",
        ]
    );
}

#[test]
fn missing_kind_with_schedule_fields() {
    let text = with("kind: Scheduled", "");
    assert_eq!(
        messages(&text),
        [
            "kind: required, and missing: this file has queryFrequency, queryPeriod, triggerOperator, triggerThreshold as a scheduled rule does, but no `kind: Scheduled`"
        ]
    );
}

/// `ScheduledTemplateTriggerOperatorConverter.cs` accepts gt/lt/eq/ne and
/// GreaterThan/LessThan/Equal/NotEqual; `[Range(0, 10000)]` on the threshold.
#[test]
fn trigger_operator_and_threshold() {
    for op in [
        "gt",
        "lt",
        "eq",
        "ne",
        "GreaterThan",
        "LessThan",
        "Equal",
        "NotEqual",
    ] {
        let text = with("triggerOperator: gt", &format!("triggerOperator: {op}\n"));
        assert_eq!(messages(&text), Vec::<String>::new(), "{op}");
    }
    let max = with("triggerThreshold: 0", "triggerThreshold: 10000\n");
    assert_eq!(messages(&max), Vec::<String>::new());
    let over = with("triggerThreshold: 0", "triggerThreshold: 10001\n");
    assert_eq!(
        messages(&over),
        ["triggerThreshold: 10001 is outside Sentinel's range of 0 to 10000"]
    );
    let negative = with("triggerThreshold: 0", "triggerThreshold: -1\n");
    assert_eq!(
        messages(&negative),
        ["triggerThreshold: -1 is outside Sentinel's range of 0 to 10000"]
    );
}

/// `[ValidEntityMappings(entityMappingsMinLength: 1, entityMappingsMaxLength:
/// 5, fieldMappingsMinLength: 1, fieldMappingsMaxLength: 3)]`; Microsoft
/// Learn: "You can define up to three identifiers for a given entity."
#[test]
fn entity_and_identifier_counts() {
    let ip = "  - entityType: IP\n    fieldMappings:\n      - identifier: Address\n        columnName: IPAddress\n";
    let five = BASE.replace("version: 1.0.0\n", "").replace(
        "kind: Scheduled\n",
        &format!("{}version: 1.0.0\nkind: Scheduled\n", ""),
    );
    let five = five.replacen(
        "entityMappings:\n",
        &format!("entityMappings:\n{}", ip.repeat(3)),
        1,
    );
    assert_eq!(messages(&five), Vec::<String>::new());
    let six = five.replacen("entityMappings:\n", &format!("entityMappings:\n{ip}"), 1);
    assert_eq!(
        messages(&six),
        ["entityMappings: 6 entities; Sentinel takes 1 to 5 (leave the field out to map none)"]
    );
    let none = with("entityMappings:", "entityMappings: []\n")
        .replace("  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: UserPrincipalName\n", "")
        .replace(ip, "");
    assert_eq!(
        messages(&none),
        ["entityMappings: 0 entities; Sentinel takes 1 to 5 (leave the field out to map none)"]
    );
    let four_ids = BASE.replace(
        "      - identifier: FullName\n        columnName: UserPrincipalName\n",
        "      - identifier: FullName\n        columnName: UserPrincipalName\n      - identifier: Name\n        columnName: A\n      - identifier: UPNSuffix\n        columnName: B\n      - identifier: AadUserId\n        columnName: C\n",
    );
    assert_eq!(
        messages(&four_ids),
        ["entityMappings[0].fieldMappings: 4 identifiers; an entity takes 1 to 3"]
    );
}

/// `EntityMappingIdentifiers.cs`: the identifiers of each entity type, and
/// `EntityType.cs`: the entity types.
#[test]
fn entity_types_and_identifiers() {
    let typo = BASE.replace("identifier: Address", "identifier: Adress");
    let rule = Rule::load("r.yaml", &typo).unwrap();
    let found = validate(&rule);
    assert_eq!(
        found.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        [
            "entityMappings[1].fieldMappings[0].identifier: 'Adress' is not an identifier of entity type IP (known: Address)"
        ]
    );
    assert_eq!(found[0].help.as_deref(), Some("did you mean `Address`?"));
    assert_eq!(&typo[found[0].span.clone().unwrap()], "Adress");
    let unknown = BASE.replace("entityType: IP", "entityType: Ipaddress");
    assert_eq!(
        messages(&unknown),
        ["entityMappings[1].entityType: 'Ipaddress' is not an entity type"]
    );
    // Entity type names are read regardless of case (StringEnumConverter).
    let lower = BASE.replace("entityType: IP", "entityType: ip");
    assert_eq!(messages(&lower), Vec::<String>::new());
    // Identifiers are not (`validIdentifiers.Contains`).
    let lower_id = BASE.replace("identifier: Address", "identifier: address");
    assert_eq!(
        messages(&lower_id),
        [
            "entityMappings[1].fieldMappings[0].identifier: 'address' is not an identifier of entity type IP (known: Address)"
        ]
    );
}

/// "Identifier '...' is defined multiple times", and "Missing required
/// identifiers ... Required identifiers are one of the following
/// combinations" (`ValidEntityMappingsAttribute.cs`).
#[test]
fn duplicate_and_required_identifiers() {
    let dup = BASE.replace(
        "      - identifier: FullName\n        columnName: UserPrincipalName\n",
        "      - identifier: FullName\n        columnName: UserPrincipalName\n      - identifier: FullName\n        columnName: X\n",
    );
    assert_eq!(
        messages(&dup),
        [
            "entityMappings[0].fieldMappings[1].identifier: 'FullName' is mapped twice in this entity; identifiers must be unique"
        ]
    );
    let suffix_only = BASE.replace("identifier: FullName", "identifier: UPNSuffix");
    assert_eq!(
        messages(&suffix_only),
        [
            "entityMappings[0].fieldMappings: an entity of type Account needs one of these identifiers: FullName, Sid, Name, AadUserId, PUID, ObjectGuid"
        ]
    );
    // FileHash needs Algorithm and Value together.
    let hash = BASE.replace(
        "entityType: IP\n    fieldMappings:\n      - identifier: Address",
        "entityType: FileHash\n    fieldMappings:\n      - identifier: Value",
    );
    assert_eq!(
        messages(&hash),
        [
            "entityMappings[1].fieldMappings: an entity of type FileHash needs one of these identifiers: Algorithm + Value"
        ]
    );
}

/// "field mapping column name should start with a letter or an underscore
/// and contain only alphanumeric English characters (i.e. [a-zA-Z0-9_])".
#[test]
fn column_names_have_the_log_analytics_form() {
    let ok = BASE.replace("columnName: IPAddress", "columnName: _ip2");
    assert_eq!(messages(&ok), Vec::<String>::new());
    let bad = BASE.replace("columnName: IPAddress", "columnName: IP-Address");
    assert_eq!(
        messages(&bad),
        [
            "entityMappings[1].fieldMappings[0].columnName: 'IP-Address' is not a column name (a letter or _ first, then letters, digits or _)"
        ]
    );
}

/// customDetails: `[DictionaryLength(20)]`, keys of at most 20 characters
/// matching `^[a-zA-Z]+\w*$`, values (column names) `^[a-zA-Z_]+\w*$`.
#[test]
fn custom_details_limits() {
    let details: String = (0..20).map(|i| format!("  Key{i}: Col{i}\n")).collect();
    let twenty = with(
        "version: 1.0.0",
        &format!("customDetails:\n{details}version: 1.0.0\n"),
    );
    assert_eq!(messages(&twenty), Vec::<String>::new());
    let twenty_one = twenty.replace("customDetails:\n", "customDetails:\n  Extra: Col\n");
    assert_eq!(
        messages(&twenty_one),
        ["customDetails: 21 details; Sentinel takes at most 20"]
    );
    let bad = with(
        "version: 1.0.0",
        "customDetails:\n  _Key: Col\n  ThisKeyIsLongerThan20: Col\n  Fine: 1Col\nversion: 1.0.0\n",
    );
    assert_eq!(
        messages(&bad),
        [
            "customDetails._Key: a key must start with a letter and hold only letters, digits and _",
            "customDetails.ThisKeyIsLongerThan20: a key of 21 characters; at most 20",
            "customDetails.Fine: '1Col' is not a column name (a letter or _ first, then letters, digits or _)",
        ]
    );
}

/// `AlertDetailsOverride.cs`: `[MaxAmountOfDynamicContentPlaceHolders(3)]`
/// ("You have defined {n} parameters ... The maximum allowed is 3"),
/// `[StringLength(256, MinimumLength = 1)]` on the display name format.
#[test]
fn override_placeholders() {
    let three = with(
        "version: 1.0.0",
        "alertDetailsOverride:\n  alertDisplayNameFormat: '{{A}} {{B}} {{C}}'\nversion: 1.0.0\n",
    );
    assert_eq!(messages(&three), Vec::<String>::new());
    let four = three.replace("{{C}}'", "{{C}} {{D}}'");
    let rule = Rule::load("r.yaml", &four).unwrap();
    let found = validate(&rule);
    assert_eq!(
        found.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        ["alertDetailsOverride.alertDisplayNameFormat: 4 {{column}} placeholders; at most 3"]
    );
    assert_eq!(&four[found[0].span.clone().unwrap()], "{{D}}");
    let long = with(
        "version: 1.0.0",
        &format!(
            "alertDetailsOverride:\n  alertDisplayNameFormat: {}\nversion: 1.0.0\n",
            "x".repeat(257)
        ),
    );
    assert_eq!(
        messages(&long),
        ["alertDetailsOverride.alertDisplayNameFormat: 257 characters; at most 256"]
    );
    let bad_name = with(
        "version: 1.0.0",
        "alertDetailsOverride:\n  alertDescriptionFormat: 'on {{Host Name}}'\nversion: 1.0.0\n",
    );
    assert_eq!(
        messages(&bad_name),
        ["alertDetailsOverride.alertDescriptionFormat: '{{Host Name}}' does not name a column"]
    );
}

/// KnownAlertProperty: AlertLink, ConfidenceLevel, ConfidenceScore,
/// ExtendedLinks, ProductComponentName, ProductName, ProviderName,
/// RemediationSteps, SubTechniques, Techniques.
#[test]
fn dynamic_properties() {
    let ok = with(
        "version: 1.0.0",
        "alertDetailsOverride:\n  alertDynamicProperties:\n    - alertProperty: ProductName\n      value: Product\nversion: 1.0.0\n",
    );
    assert_eq!(messages(&ok), Vec::<String>::new());
    let bad = ok.replace("alertProperty: ProductName", "alertProperty: Product");
    let rule = Rule::load("r.yaml", &bad).unwrap();
    let found = validate(&rule);
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .message
            .starts_with("alertDetailsOverride.alertDynamicProperties[0].alertProperty: 'Product' is not an alert property (known: AlertLink,"),
        "{}",
        found[0].message
    );
}

/// GroupingConfiguration: "When method is Selected at least one of
/// groupByEntities, groupByAlertDetails, groupByCustomDetails must be
/// provided and not empty"; "Only entities defined in the current alert rule
/// may be used".
#[test]
fn incident_grouping() {
    let grouping = "incidentConfiguration:\n  createIncident: true\n  groupingConfiguration:\n    enabled: true\n    reopenClosedIncident: false\n    lookbackDuration: 5h\n    matchingMethod: Selected\n    groupByEntities:\n      - Account\nversion: 1.0.0\n";
    let ok = with("version: 1.0.0", grouping);
    assert_eq!(messages(&ok), Vec::<String>::new());
    let unmapped = ok.replace("      - Account\n", "      - Host\n");
    assert_eq!(
        messages(&unmapped),
        [
            "incidentConfiguration.groupingConfiguration.groupByEntities[0]: 'Host' is not an entity type this rule maps (mapped: Account, IP)"
        ]
    );
    let empty = ok.replace("    groupByEntities:\n      - Account\n", "");
    assert_eq!(
        messages(&empty),
        [
            "incidentConfiguration.groupingConfiguration.matchingMethod: Selected needs at least one of groupByEntities, groupByAlertDetails, groupByCustomDetails"
        ]
    );
}

/// `AttackTactic` enum, read regardless of case, for analytic rules.
#[test]
fn tactics() {
    let lower = BASE.replace("  - CredentialAccess", "  - credentialaccess");
    assert_eq!(messages(&lower), Vec::<String>::new());
    let spaced = BASE.replace("  - CredentialAccess", "  - Credential Access");
    let rule = Rule::load("r.yaml", &spaced).unwrap();
    let found = validate(&rule);
    assert_eq!(
        found[0].message,
        "tactics[0]: 'Credential Access' is not a MITRE ATT&CK tactic Sentinel knows"
    );
    assert_eq!(
        found[0].help.as_deref(),
        Some("did you mean `CredentialAccess`?")
    );
}

/// `QueryBasedTemplateVersionValidator.cs`: "'templateVersion' should be in
/// format X.Y.Z (all numbers)".
#[test]
fn version_form() {
    let two = BASE.replace("version: 1.0.0", "version: 1.0");
    assert_eq!(
        messages(&two),
        ["version: '1.0' is not a version of the form X.Y.Z (all numbers)"]
    );
}

/// `NewEntityMappingsAttribute.cs`: "An old mapping for entity '...' does not
/// have a matching new mapping entry."
#[test]
fn old_entity_columns_need_a_mapping() {
    let old = BASE.replace(
        "  | summarize Failures = count() by UserPrincipalName, IPAddress\n",
        "  | summarize Failures = count() by UserPrincipalName, IPAddress\n  | extend IPCustomEntity = IPAddress\n",
    );
    assert_eq!(
        messages(&old),
        [
            "entityMappings: the query builds the old-style column IPCustomEntity, which no entity mapping uses"
        ]
    );
    let mapped = old.replace("columnName: IPAddress", "columnName: IPCustomEntity");
    assert_eq!(messages(&mapped), Vec::<String>::new());
}

#[test]
fn nrt_rules_have_no_schedule() {
    let nrt = BASE.replace("kind: Scheduled", "kind: NRT");
    assert_eq!(
        messages(&nrt),
        [
            "queryFrequency: not a field of NRT rules: NRT rules run on every ingested batch",
            "queryPeriod: not a field of NRT rules: NRT rules run on every ingested batch",
            "triggerOperator: not a field of NRT rules: NRT rules run on every ingested batch",
            "triggerThreshold: not a field of NRT rules: NRT rules run on every ingested batch",
        ]
    );
}

#[test]
fn hunting_queries_check_what_applies() {
    let hunting = "\
id: not-a-guid
name: Hunt
description: x
tactics:
  - Defense evasion
query: T
entityMappings:
  - entityType: IP
    fieldMappings:
      - identifier: Adress
        columnName: IP
";
    assert_eq!(
        messages(hunting),
        [
            "entityMappings[0].fieldMappings[0].identifier: 'Adress' is not an identifier of entity type IP (known: Address)"
        ]
    );
}

#[test]
fn guids() {
    assert!(is_guid("0c7e4b5a-3f7d-4d8e-9a55-2b0c1c2f6a11"));
    assert!(is_guid("{0C7E4B5A-3F7D-4D8E-9A55-2B0C1C2F6A11}"));
    assert!(is_guid("0c7e4b5a3f7d4d8e9a552b0c1c2f6a11"));
    assert!(!is_guid("9c9d9e2f-4d5e-6f7g-0a9b-8c7d6e5f4a3b"));
    let bad = BASE.replace("0c7e4b5a-3f7d-4d8e-9a55-2b0c1c2f6a11", "rule-1");
    assert_eq!(messages(&bad), ["id: 'rule-1' is not a GUID"]);
}
