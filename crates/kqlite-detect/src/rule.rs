//! The rule model, and loading it from a rule file as the Azure-Sentinel
//! repository writes them.
//!
//! Loading checks shapes (a list where a list belongs, a duration that reads
//! as one, a known `severity`) and reports every such problem of the file at
//! once; Sentinel's limits and cross-field rules are [`crate::validate`]'s.
//! Fields a rule file may carry that Sentinel does not read (`status`,
//! `tags`, `metadata`, `description-detailed`...) are accepted and ignored,
//! as the repository's validation (Newtonsoft.Json, which skips unknown
//! members) does.

use crate::diagnostic::{Diagnostic, codes};
use crate::duration::Duration;
use crate::yaml::{self, EmbeddedQuery, Node, Value};
use std::fmt;
use std::ops::Range;

/// A value and the byte range it was written at in the rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// What a rule file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// `kind: Scheduled`: runs every queryFrequency over the last queryPeriod.
    Scheduled,
    /// `kind: NRT`: near-real-time, no frequency, period or trigger.
    Nrt,
    /// A hunting query: no `kind`, no schedule.
    Hunting,
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleKind::Scheduled => "Scheduled",
            RuleKind::Nrt => "NRT",
            RuleKind::Hunting => "hunting query",
        })
    }
}

/// Alert severity: the repository's `Severity` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
        }
    }

    /// Enum names regardless of case, as Newtonsoft reads them.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(text))
    }
}

/// How the result count is compared with `triggerThreshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerOperator {
    GreaterThan,
    LessThan,
    Equal,
    NotEqual,
}

impl TriggerOperator {
    /// `ScheduledTemplateTriggerOperatorConverter.cs` accepts exactly
    /// `GreaterThan`, `LessThan`, `Equal`, `NotEqual` and the short forms
    /// `gt`, `lt`, `eq`, `ne` (case-sensitive `switch`).
    pub fn parse(text: &str) -> Option<TriggerOperator> {
        Some(match text {
            "GreaterThan" | "gt" => TriggerOperator::GreaterThan,
            "LessThan" | "lt" => TriggerOperator::LessThan,
            "Equal" | "eq" => TriggerOperator::Equal,
            "NotEqual" | "ne" => TriggerOperator::NotEqual,
            _ => return None,
        })
    }

    /// Whether `count` results fire the rule.
    pub fn fires(self, count: i64, threshold: i64) -> bool {
        match self {
            TriggerOperator::GreaterThan => count > threshold,
            TriggerOperator::LessThan => count < threshold,
            TriggerOperator::Equal => count == threshold,
            TriggerOperator::NotEqual => count != threshold,
        }
    }
}

/// `eventGroupingSettings.aggregationKind` (`Models/EventGroupingSettings.cs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregationKind {
    /// One alert for all the results of a run.
    SingleAlert,
    /// One alert per result row.
    AlertPerResult,
}

/// One `requiredDataConnectors` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DataConnector {
    pub span: Range<usize>,
    pub connector_id: Option<Located<String>>,
    /// `None` when absent (it is required).
    pub data_types: Option<Vec<Located<String>>>,
}

/// One `entityMappings` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityMapping {
    /// Where the entry starts.
    pub span: Range<usize>,
    pub entity_type: Option<Located<String>>,
    pub field_mappings: Option<Located<Vec<FieldMapping>>>,
}

/// One `fieldMappings` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMapping {
    pub span: Range<usize>,
    pub identifier: Option<Located<String>>,
    pub column_name: Option<Located<String>>,
}

/// A string field that may hold `{{Column}}` placeholders, with the place of
/// each of its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub text: Located<String>,
    offsets: EmbeddedQuery,
}

impl Template {
    /// The placeholders `{{name}}` of the text, with their file ranges.
    /// The repository counts them with the pattern `{{([^{}]*)}}`
    /// (`MaxAmountOfDynamicContentPlaceHoldersAttribute.cs`).
    pub fn placeholders(&self) -> Vec<Located<String>> {
        let text = &self.text.value;
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(open) = text[from..].find("{{").map(|i| from + i) {
            let inner_start = open + 2;
            let Some(close) = text[inner_start..].find("}}").map(|i| inner_start + i) else {
                break;
            };
            let inner = &text[inner_start..close];
            if inner.contains(['{', '}']) {
                // `{{a{{b}}`: the match starts at the last `{{` before `}}`.
                from = open + 1;
                continue;
            }
            found.push(Located {
                value: inner.to_string(),
                span: self.offsets.file_range(open..close + 2),
            });
            from = close + 2;
        }
        found
    }
}

/// `alertDetailsOverride`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertDetailsOverride {
    pub display_name_format: Option<Template>,
    pub description_format: Option<Template>,
    pub tactics_column_name: Option<Located<String>>,
    pub severity_column_name: Option<Located<String>>,
    pub dynamic_properties: Vec<DynamicProperty>,
}

/// One `alertDynamicProperties` entry: an alert property set from a column.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicProperty {
    pub span: Range<usize>,
    pub alert_property: Option<Located<String>>,
    pub value: Option<Located<String>>,
}

/// `incidentConfiguration`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentConfiguration {
    pub create_incident: Option<Located<bool>>,
    pub grouping: Option<GroupingConfiguration>,
}

/// `incidentConfiguration.groupingConfiguration`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupingConfiguration {
    pub span: Range<usize>,
    pub enabled: Option<Located<bool>>,
    pub reopen_closed_incident: Option<Located<bool>>,
    pub lookback_duration: Option<Located<Duration>>,
    pub matching_method: Option<Located<String>>,
    pub group_by_entities: Vec<Located<String>>,
    pub group_by_alert_details: Vec<Located<String>>,
    pub group_by_custom_details: Vec<Located<String>>,
}

/// One custom detail: its key and the column it reads, each where written.
pub type CustomDetail = (Located<String>, Located<String>);

/// A Sentinel analytic rule or hunting query, as its file says.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The file's name, as given to [`Rule::load`].
    pub path: String,
    /// The file's text.
    pub source: String,
    pub kind: RuleKind,
    /// `kind` as written, when present.
    pub kind_field: Option<Located<String>>,
    pub id: Option<Located<String>>,
    pub name: Option<Located<String>>,
    pub description: Option<Located<String>>,
    pub severity: Option<Located<Severity>>,
    pub required_data_connectors: Option<Located<Vec<DataConnector>>>,
    pub query_frequency: Option<Located<Duration>>,
    pub query_period: Option<Located<Duration>>,
    pub trigger_operator: Option<Located<TriggerOperator>>,
    pub trigger_threshold: Option<Located<i64>>,
    pub tactics: Vec<Located<String>>,
    pub relevant_techniques: Vec<Located<String>>,
    /// The KQL, and where each of its bytes is in the file.
    pub query: EmbeddedQuery,
    /// `None` when absent or null (null is ignored, as Newtonsoft's
    /// `NullValueHandling.Ignore` on the field does).
    pub entity_mappings: Option<Located<Vec<EntityMapping>>>,
    /// Key (the detail's name) and value (a column name), in file order.
    pub custom_details: Option<Located<Vec<CustomDetail>>>,
    pub alert_details_override: Option<AlertDetailsOverride>,
    pub event_grouping: Option<Located<AggregationKind>>,
    pub suppression_enabled: Option<Located<bool>>,
    pub suppression_duration: Option<Located<Duration>>,
    pub incident_configuration: Option<IncidentConfiguration>,
    /// `sentinelEntitiesMappings[].columnName`: columns holding ready-made
    /// entity lists.
    pub sentinel_entities_mappings: Vec<Located<String>>,
    pub version: Option<Located<String>>,
    /// Where the top-level key of each field present was written.
    keys: Vec<(String, Range<usize>)>,
}

/// Scheduled-rule fields: their presence, without a `kind`, makes the file a
/// scheduled rule that lacks its `kind`.
pub(crate) const SCHEDULE_FIELDS: &[&str] = &[
    "queryFrequency",
    "queryPeriod",
    "triggerOperator",
    "triggerThreshold",
];

/// The `kind` values of the repository's `AlertRuleKind` enum that are not
/// query rules kqlite can check.
const OTHER_KINDS: &[&str] = &[
    "Fusion",
    "MLBehaviorAnalytics",
    "MicrosoftSecurityIncidentCreation",
    "ThreatIntelligence",
    "Anomaly",
];

impl Rule {
    /// Reads a rule file. `path` names it in messages. Every shape problem of
    /// the file is reported, or none.
    pub fn load(path: &str, text: &str) -> Result<Rule, Vec<Diagnostic>> {
        let doc = parse_document(text).map_err(|d| vec![d])?;
        let query = query_of(text, &doc).map_err(|d| vec![d])?;
        let mut l = Loader {
            text,
            errors: Vec::new(),
        };
        let kind_field = doc.get("kind").and_then(|n| l.string(n, "kind"));
        let kind = match &kind_field {
            Some(k) if k.value.eq_ignore_ascii_case("Scheduled") => RuleKind::Scheduled,
            Some(k) if k.value.eq_ignore_ascii_case("NRT") => RuleKind::Nrt,
            Some(k) => {
                let what = if OTHER_KINDS.iter().any(|o| o.eq_ignore_ascii_case(&k.value)) {
                    format!(
                        "'{}' rules have no query of their own; kqlite checks Scheduled and NRT rules and hunting queries",
                        k.value
                    )
                } else {
                    format!("'{}' is not a rule kind (known: Scheduled, NRT)", k.value)
                };
                l.errors.push(
                    Diagnostic::field(codes::FIELD, "kind", what).at(k.span.clone(), "this kind"),
                );
                RuleKind::Scheduled
            }
            None if SCHEDULE_FIELDS.iter().any(|f| doc.get(f).is_some()) => RuleKind::Scheduled,
            None => RuleKind::Hunting,
        };
        let mut rule = Rule {
            path: path.to_string(),
            source: text.to_string(),
            kind,
            kind_field,
            id: l.field_string(&doc, "id"),
            name: l.field_string(&doc, "name"),
            description: l.field_string(&doc, "description"),
            severity: l.field_enum(
                &doc,
                "severity",
                Severity::parse,
                "Informational, Low, Medium, High",
            ),
            required_data_connectors: l.data_connectors(&doc),
            query_frequency: l.field_duration(&doc, "queryFrequency"),
            query_period: l.field_duration(&doc, "queryPeriod"),
            trigger_operator: l.field_enum(
                &doc,
                "triggerOperator",
                TriggerOperator::parse,
                "gt, lt, eq, ne, or GreaterThan, LessThan, Equal, NotEqual",
            ),
            trigger_threshold: doc
                .get("triggerThreshold")
                .and_then(|n| l.integer(n, "triggerThreshold")),
            tactics: l.string_list(doc.get("tactics"), "tactics"),
            relevant_techniques: l.string_list(doc.get("relevantTechniques"), "relevantTechniques"),
            query,
            entity_mappings: l.entity_mappings(&doc),
            custom_details: l.custom_details(&doc),
            alert_details_override: l.alert_details_override(&doc),
            event_grouping: l.event_grouping(&doc),
            suppression_enabled: doc
                .get("suppressionEnabled")
                .and_then(|n| l.boolean(n, "suppressionEnabled")),
            suppression_duration: l.field_duration(&doc, "suppressionDuration"),
            incident_configuration: l.incident_configuration(&doc),
            sentinel_entities_mappings: l.sentinel_entities_mappings(&doc),
            version: l.field_string(&doc, "version"),
            keys: Vec::new(),
        };
        if let Value::Map(entries) = &doc.value {
            rule.keys = entries
                .iter()
                .filter_map(|(k, _)| k.as_str().map(|s| (s.to_string(), k.span.clone())))
                .collect();
        }
        if l.errors.is_empty() {
            Ok(rule)
        } else {
            Err(l.errors)
        }
    }

    /// Where the top-level key `field` was written, when present.
    pub fn key_span(&self, field: &str) -> Option<Range<usize>> {
        self.keys
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, span)| span.clone())
    }

    /// Whether the top-level key `field` is present (even with a null value).
    pub fn has_field(&self, field: &str) -> bool {
        self.keys.iter().any(|(k, _)| k == field)
    }

    /// The rule's name, or its file name.
    pub fn display_name(&self) -> &str {
        self.name.as_ref().map_or(&self.path, |n| &n.value)
    }
}

/// The document, which must be a mapping.
fn parse_document(text: &str) -> Result<Node, Diagnostic> {
    let doc = yaml::parse(text).map_err(|e| {
        Diagnostic::field(
            codes::YAML,
            "",
            format!("cannot read the rule YAML: {}", e.reason),
        )
        .at_opt(e.span, e.reason.clone())
    })?;
    match &doc.value {
        Value::Map(_) => Ok(doc),
        other => {
            let start = doc.span.start;
            let len = text[start..].chars().next().map_or(0, char::len_utf8);
            Err(Diagnostic::field(
                codes::YAML,
                "",
                format!(
                    "cannot read the rule YAML: a rule file is a mapping of fields (id, name, query, ...), this one is {}",
                    other.kind()
                ),
            )
            .at(start..start + len, "not a mapping"))
        }
    }
}

/// The `query` of a parsed document.
fn query_of(text: &str, doc: &Node) -> Result<EmbeddedQuery, Diagnostic> {
    let Some(node) = doc.get("query") else {
        return Err(
            Diagnostic::field(codes::NO_QUERY, "", "no `query` field in this YAML file").with_help(
                "a rule file holds its KQL in a top-level `query:` field, usually a block: \
             `query: |` followed by the indented query lines",
            ),
        );
    };
    let key = doc.key("query").map_or(0..0, |k| k.span.clone());
    let value = match &node.value {
        Value::String(s) => s,
        Value::Null => "",
        other => {
            return Err(Diagnostic::field(
                codes::NO_QUERY,
                "query",
                format!("expected the KQL text, found {}", other.kind()),
            )
            .at(span_or_key(node, &key), "not a query"));
        }
    };
    if value.trim().is_empty() {
        // The scalar of an empty block starts at whatever follows it: point
        // at the key instead.
        return Err(
            Diagnostic::field(codes::NO_QUERY, "", "the `query` field is empty")
                .at(key, "no query text"),
        );
    }
    Ok(EmbeddedQuery::from_node(text, node, value))
}

/// The `query` field of a rule file and where its bytes are, without loading
/// the rest of the rule (for linting queries only).
pub fn extract_query(text: &str) -> Result<EmbeddedQuery, Diagnostic> {
    let doc = parse_document(text)?;
    query_of(text, &doc)
}

fn span_or_key(node: &Node, key: &Range<usize>) -> Range<usize> {
    if node.span.is_empty() {
        key.clone()
    } else {
        node.span.clone()
    }
}

/// Reads typed values out of nodes, collecting shape problems.
struct Loader<'a> {
    text: &'a str,
    errors: Vec<Diagnostic>,
}

impl Loader<'_> {
    fn wrong(&mut self, node: &Node, path: &str, expected: &str) {
        let found = node.value.kind();
        self.errors.push(
            Diagnostic::field(
                codes::FIELD,
                path,
                format!("expected {expected}, found {found}"),
            )
            .at(self.place(node), format!("expected {expected}")),
        );
    }

    /// A node's range, or one character where it starts when it has none.
    fn place(&self, node: &Node) -> Range<usize> {
        if node.span.is_empty() {
            let start = node.span.start.min(self.text.len());
            let len = self.text[start..].chars().next().map_or(0, char::len_utf8);
            start..start + len
        } else {
            node.span.clone()
        }
    }

    /// A scalar as text: strings as they are; numbers and booleans as
    /// written (Newtonsoft turns a JSON number into a string field's text).
    fn string(&mut self, node: &Node, path: &str) -> Option<Located<String>> {
        let value = match &node.value {
            Value::String(s) => s.clone(),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => self
                .text
                .get(node.span.clone())
                .unwrap_or_default()
                .trim()
                .to_string(),
            Value::Null => return None,
            _ => {
                self.wrong(node, path, "a string");
                return None;
            }
        };
        Some(Located {
            value,
            span: node.span.clone(),
        })
    }

    fn field_string(&mut self, doc: &Node, field: &str) -> Option<Located<String>> {
        doc.get(field).and_then(|n| self.string(n, field))
    }

    fn field_enum<T>(
        &mut self,
        doc: &Node,
        field: &str,
        parse: fn(&str) -> Option<T>,
        known: &str,
    ) -> Option<Located<T>> {
        let s = self.field_string(doc, field)?;
        match parse(&s.value) {
            Some(value) => Some(Located {
                value,
                span: s.span,
            }),
            None => {
                self.errors.push(
                    Diagnostic::field(
                        codes::FIELD,
                        field,
                        format!(
                            "'{}' is not a valid value (expected one of: {known})",
                            s.value
                        ),
                    )
                    .at(s.span, "unknown value"),
                );
                None
            }
        }
    }

    fn duration(&mut self, node: &Node, path: &str) -> Option<Located<Duration>> {
        let s = self.string(node, path)?;
        match Duration::parse(&s.value) {
            Some(d) => Some(Located {
                value: d,
                span: s.span,
            }),
            None => {
                self.errors.push(
                    Diagnostic::field(
                        codes::FIELD,
                        path,
                        format!(
                            "'{}' is not a duration (write a whole number and m, h or d, e.g. 5m, 1h, 14d; or ISO 8601, e.g. PT1H)",
                            s.value
                        ),
                    )
                    .at(s.span, "not a duration"),
                );
                None
            }
        }
    }

    fn field_duration(&mut self, doc: &Node, field: &str) -> Option<Located<Duration>> {
        doc.get(field).and_then(|n| self.duration(n, field))
    }

    fn integer(&mut self, node: &Node, path: &str) -> Option<Located<i64>> {
        let value = match &node.value {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(*f as i64),
            Value::String(s) => s.trim().parse().ok(),
            Value::Null => return None,
            _ => None,
        };
        match value {
            Some(value) => Some(Located {
                value,
                span: node.span.clone(),
            }),
            None => {
                self.wrong(node, path, "a whole number");
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, path: &str) -> Option<Located<bool>> {
        let value = match &node.value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Value::Null => return None,
            _ => None,
        };
        match value {
            Some(value) => Some(Located {
                value,
                span: node.span.clone(),
            }),
            None => {
                self.wrong(node, path, "true or false");
                None
            }
        }
    }

    /// The items of a list node; null is an empty list.
    fn list<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            Value::Null => Some(&[]),
            _ => {
                self.wrong(node, path, "a list");
                None
            }
        }
    }

    /// A mapping node; null is treated as absent.
    fn map<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n Node> {
        match &node.value {
            Value::Map(_) => Some(node),
            Value::Null => None,
            _ => {
                self.wrong(node, path, "a mapping");
                None
            }
        }
    }

    fn string_list(&mut self, node: Option<&Node>, path: &str) -> Vec<Located<String>> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Some(items) = self.list(node, path) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.string(item, &format!("{path}[{i}]")))
            .collect()
    }

    fn data_connectors(&mut self, doc: &Node) -> Option<Located<Vec<DataConnector>>> {
        let node = doc.get("requiredDataConnectors")?;
        let items = self.list(node, "requiredDataConnectors")?;
        let mut connectors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("requiredDataConnectors[{i}]");
            let Some(item) = self.map(item, &path) else {
                continue;
            };
            let data_types = item
                .get("dataTypes")
                .map(|n| self.string_list(Some(n), &format!("{path}.dataTypes")));
            connectors.push(DataConnector {
                span: item.span.clone(),
                connector_id: item
                    .get("connectorId")
                    .and_then(|n| self.string(n, &format!("{path}.connectorId"))),
                data_types,
            });
        }
        Some(Located {
            value: connectors,
            span: node.span.clone(),
        })
    }

    fn entity_mappings(&mut self, doc: &Node) -> Option<Located<Vec<EntityMapping>>> {
        let node = doc.get("entityMappings")?;
        if node.value == Value::Null {
            return None;
        }
        let items = self.list(node, "entityMappings")?;
        let mut mappings = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("entityMappings[{i}]");
            let Some(item) = self.map(item, &path) else {
                continue;
            };
            let entity_type = item
                .get("entityType")
                .and_then(|n| self.string(n, &format!("{path}.entityType")));
            let field_mappings = item.get("fieldMappings").and_then(|n| {
                let fpath = format!("{path}.fieldMappings");
                let fields = self.list(n, &fpath)?;
                let mut out = Vec::new();
                for (j, field) in fields.iter().enumerate() {
                    let fpath = format!("{fpath}[{j}]");
                    let Some(field) = self.map(field, &fpath) else {
                        continue;
                    };
                    out.push(FieldMapping {
                        span: field.span.clone(),
                        identifier: field
                            .get("identifier")
                            .and_then(|n| self.string(n, &format!("{fpath}.identifier"))),
                        column_name: field
                            .get("columnName")
                            .and_then(|n| self.string(n, &format!("{fpath}.columnName"))),
                    });
                }
                Some(Located {
                    value: out,
                    span: n.span.clone(),
                })
            });
            mappings.push(EntityMapping {
                span: item.span.clone(),
                entity_type,
                field_mappings,
            });
        }
        Some(Located {
            value: mappings,
            span: node.span.clone(),
        })
    }

    #[allow(clippy::type_complexity)]
    fn custom_details(
        &mut self,
        doc: &Node,
    ) -> Option<Located<Vec<(Located<String>, Located<String>)>>> {
        let node = doc.get("customDetails")?;
        let node = self.map(node, "customDetails")?;
        let Value::Map(entries) = &node.value else {
            return None;
        };
        let mut details = Vec::new();
        for (k, v) in entries {
            let Some(key) = self.string(k, "customDetails") else {
                continue;
            };
            let path = format!("customDetails.{}", key.value);
            if let Some(value) = self.string(v, &path) {
                details.push((key, value));
            } else if v.value == Value::Null {
                self.wrong(v, &path, "a column name");
            }
        }
        Some(Located {
            value: details,
            span: node.span.clone(),
        })
    }

    fn template(&mut self, node: &Node, path: &str) -> Option<Template> {
        let text = self.string(node, path)?;
        let offsets = EmbeddedQuery::from_node(self.text, node, &text.value);
        Some(Template { text, offsets })
    }

    fn alert_details_override(&mut self, doc: &Node) -> Option<AlertDetailsOverride> {
        const FIELD: &str = "alertDetailsOverride";
        let node = doc.get(FIELD)?;
        let node = self.map(node, FIELD)?;
        let mut o = AlertDetailsOverride {
            display_name_format: node
                .get("alertDisplayNameFormat")
                .and_then(|n| self.template(n, &format!("{FIELD}.alertDisplayNameFormat"))),
            description_format: node
                .get("alertDescriptionFormat")
                .and_then(|n| self.template(n, &format!("{FIELD}.alertDescriptionFormat"))),
            tactics_column_name: node
                .get("alertTacticsColumnName")
                .and_then(|n| self.string(n, &format!("{FIELD}.alertTacticsColumnName"))),
            severity_column_name: node
                .get("alertSeverityColumnName")
                .and_then(|n| self.string(n, &format!("{FIELD}.alertSeverityColumnName"))),
            dynamic_properties: Vec::new(),
        };
        if let Some(list) = node.get("alertDynamicProperties") {
            let path = format!("{FIELD}.alertDynamicProperties");
            if let Some(items) = self.list(list, &path) {
                for (i, item) in items.iter().enumerate() {
                    let ipath = format!("{path}[{i}]");
                    let Some(item) = self.map(item, &ipath) else {
                        continue;
                    };
                    o.dynamic_properties.push(DynamicProperty {
                        span: item.span.clone(),
                        alert_property: item
                            .get("alertProperty")
                            .and_then(|n| self.string(n, &format!("{ipath}.alertProperty"))),
                        value: item
                            .get("value")
                            .and_then(|n| self.string(n, &format!("{ipath}.value"))),
                    });
                }
            }
        }
        Some(o)
    }

    fn event_grouping(&mut self, doc: &Node) -> Option<Located<AggregationKind>> {
        const FIELD: &str = "eventGroupingSettings";
        let node = doc.get(FIELD)?;
        let node = self.map(node, FIELD)?;
        let Some(kind) = node.get("aggregationKind") else {
            // `[JsonProperty("aggregationKind", Required = Required.Always)]`.
            self.errors.push(
                Diagnostic::field(
                    codes::MISSING,
                    format!("{FIELD}.aggregationKind"),
                    "required (SingleAlert or AlertPerResult)",
                )
                .at(self.place(node), "no aggregationKind"),
            );
            return None;
        };
        let s = self.string(kind, &format!("{FIELD}.aggregationKind"))?;
        let value = if s.value.eq_ignore_ascii_case("SingleAlert") {
            AggregationKind::SingleAlert
        } else if s.value.eq_ignore_ascii_case("AlertPerResult") {
            AggregationKind::AlertPerResult
        } else {
            self.errors.push(
                Diagnostic::field(
                    codes::FIELD,
                    format!("{FIELD}.aggregationKind"),
                    format!(
                        "'{}' is not an aggregation kind (expected SingleAlert or AlertPerResult)",
                        s.value
                    ),
                )
                .at(s.span, "unknown value"),
            );
            return None;
        };
        Some(Located {
            value,
            span: s.span,
        })
    }

    fn incident_configuration(&mut self, doc: &Node) -> Option<IncidentConfiguration> {
        const FIELD: &str = "incidentConfiguration";
        let node = doc.get(FIELD)?;
        let node = self.map(node, FIELD)?;
        let mut config = IncidentConfiguration {
            create_incident: node
                .get("createIncident")
                .and_then(|n| self.boolean(n, &format!("{FIELD}.createIncident"))),
            grouping: None,
        };
        let path = format!("{FIELD}.groupingConfiguration");
        if let Some(g) = node
            .get("groupingConfiguration")
            .and_then(|n| self.map(n, &path))
        {
            config.grouping = Some(GroupingConfiguration {
                span: g.span.clone(),
                enabled: g
                    .get("enabled")
                    .and_then(|n| self.boolean(n, &format!("{path}.enabled"))),
                reopen_closed_incident: g
                    .get("reopenClosedIncident")
                    .and_then(|n| self.boolean(n, &format!("{path}.reopenClosedIncident"))),
                lookback_duration: g
                    .get("lookbackDuration")
                    .and_then(|n| self.duration(n, &format!("{path}.lookbackDuration"))),
                matching_method: g
                    .get("matchingMethod")
                    .and_then(|n| self.string(n, &format!("{path}.matchingMethod"))),
                group_by_entities: self
                    .string_list(g.get("groupByEntities"), &format!("{path}.groupByEntities")),
                group_by_alert_details: self.string_list(
                    g.get("groupByAlertDetails"),
                    &format!("{path}.groupByAlertDetails"),
                ),
                group_by_custom_details: self.string_list(
                    g.get("groupByCustomDetails"),
                    &format!("{path}.groupByCustomDetails"),
                ),
            });
        }
        Some(config)
    }

    fn sentinel_entities_mappings(&mut self, doc: &Node) -> Vec<Located<String>> {
        const FIELD: &str = "sentinelEntitiesMappings";
        let Some(node) = doc.get(FIELD) else {
            return Vec::new();
        };
        let Some(items) = self.list(node, FIELD) else {
            return Vec::new();
        };
        let mut columns = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("{FIELD}[{i}]");
            if let Some(item) = self.map(item, &path)
                && let Some(c) = item
                    .get("columnName")
                    .and_then(|n| self.string(n, &format!("{path}.columnName")))
            {
                columns.push(c);
            }
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULED: &str = "\
id: 0c7e4b5a-3f7d-4d8e-9a55-2b0c1c2f6a11
name: A rule
description: |
  'Something.'
severity: medium
requiredDataConnectors:
  - connectorId: AzureSecurityCenter
    dataTypes:
      - SecurityAlert
queryFrequency: 1h
queryPeriod: PT2H
triggerOperator: gt
triggerThreshold: 0
tactics:
  - Collection
relevantTechniques:
  - T1074
query: |
  SecurityAlert
  | project TimeGenerated, CompromisedEntity
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: HostName
        columnName: CompromisedEntity
customDetails:
  Host: CompromisedEntity
alertDetailsOverride:
  alertDisplayNameFormat: 'Alert on {{CompromisedEntity}} at {{ TimeGenerated }}'
eventGroupingSettings:
  aggregationKind: AlertPerResult
version: 1.0
kind: Scheduled
";

    #[test]
    fn loads_every_field() {
        let rule = Rule::load("r.yaml", SCHEDULED).unwrap();
        assert_eq!(rule.kind, RuleKind::Scheduled);
        assert_eq!(rule.severity.as_ref().unwrap().value, Severity::Medium);
        assert_eq!(
            rule.query_frequency.as_ref().unwrap().value,
            Duration::from_hours(1)
        );
        assert_eq!(
            rule.query_period.as_ref().unwrap().value,
            Duration::from_hours(2)
        );
        assert_eq!(
            rule.trigger_operator.as_ref().unwrap().value,
            TriggerOperator::GreaterThan
        );
        assert_eq!(rule.trigger_threshold.as_ref().unwrap().value, 0);
        assert_eq!(rule.version.as_ref().unwrap().value, "1.0");
        assert_eq!(
            rule.query.text,
            "SecurityAlert\n| project TimeGenerated, CompromisedEntity\n"
        );
        let mappings = &rule.entity_mappings.as_ref().unwrap().value;
        let field = &mappings[0].field_mappings.as_ref().unwrap().value[0];
        let column = field.column_name.as_ref().unwrap();
        assert_eq!(&SCHEDULED[column.span.clone()], "CompromisedEntity");
        let template = rule
            .alert_details_override
            .as_ref()
            .unwrap()
            .display_name_format
            .as_ref()
            .unwrap();
        let placeholders = template.placeholders();
        assert_eq!(placeholders.len(), 2);
        assert_eq!(placeholders[1].value, " TimeGenerated ");
        assert_eq!(
            &SCHEDULED[placeholders[0].span.clone()],
            "{{CompromisedEntity}}"
        );
        assert_eq!(
            rule.event_grouping.as_ref().unwrap().value,
            AggregationKind::AlertPerResult
        );
        assert_eq!(rule.key_span("kind").map(|s| &SCHEDULED[s]), Some("kind"));
    }

    #[test]
    fn kinds() {
        let hunting = "id: x\nname: h\nquery: T\n";
        assert_eq!(
            Rule::load("h.yaml", hunting).unwrap().kind,
            RuleKind::Hunting
        );
        let nrt = "kind: NRT\nquery: T\n";
        assert_eq!(Rule::load("n.yaml", nrt).unwrap().kind, RuleKind::Nrt);
        // The repository's lower-case `kind: scheduled` reads as Scheduled
        // (Newtonsoft matches enum names regardless of case).
        let lower = "kind: scheduled\nquery: T\n";
        assert_eq!(
            Rule::load("s.yaml", lower).unwrap().kind,
            RuleKind::Scheduled
        );
        let fusion = Rule::load("f.yaml", "kind: Fusion\nquery: T\n").unwrap_err();
        assert_eq!(
            fusion[0].message,
            "kind: 'Fusion' rules have no query of their own; kqlite checks Scheduled and NRT rules and hunting queries"
        );
    }

    #[test]
    fn shape_problems_are_all_reported_with_their_fields() {
        let text = "\
query: T
severity: Severe
queryFrequency: 5x
triggerOperator: '>'
triggerThreshold: many
tactics: Collection
entityMappings:
  - entityType: [IP]
    fieldMappings: Address
eventGroupingSettings:
  aggregationKind: PerRow
";
        let errors = Rule::load("r.yaml", text).unwrap_err();
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "severity: 'Severe' is not a valid value (expected one of: Informational, Low, Medium, High)",
                "queryFrequency: '5x' is not a duration (write a whole number and m, h or d, e.g. 5m, 1h, 14d; or ISO 8601, e.g. PT1H)",
                "triggerOperator: '>' is not a valid value (expected one of: gt, lt, eq, ne, or GreaterThan, LessThan, Equal, NotEqual)",
                "triggerThreshold: expected a whole number, found a string",
                "tactics: expected a list, found a string",
                "entityMappings[0].entityType: expected a string, found a list",
                "entityMappings[0].fieldMappings: expected a list, found a string",
                "eventGroupingSettings.aggregationKind: 'PerRow' is not an aggregation kind (expected SingleAlert or AlertPerResult)",
            ]
        );
        let threshold = &errors[3];
        assert_eq!(&text[threshold.span.clone().unwrap()], "many");
    }

    #[test]
    fn query_problems() {
        let none = Rule::load("r.yaml", "name: x\n").unwrap_err();
        assert_eq!(none[0].message, "no `query` field in this YAML file");
        let empty = Rule::load("r.yaml", "name: x\nquery: |\n\nid: 3\n").unwrap_err();
        assert_eq!(empty[0].message, "the `query` field is empty");
        assert_eq!(empty[0].span, Some(8..13));
        let list = Rule::load("r.yaml", "query: [a]\n").unwrap_err();
        assert_eq!(
            list[0].message,
            "query: expected the KQL text, found a list"
        );
        let not_map = Rule::load("r.yaml", "- a\n- b\n").unwrap_err();
        assert_eq!(
            not_map[0].message,
            "cannot read the rule YAML: a rule file is a mapping of fields (id, name, query, ...), this one is a list"
        );
    }

    #[test]
    fn null_entity_mappings_are_absent() {
        let rule = Rule::load("r.yaml", "query: T\nentityMappings:\n").unwrap();
        assert!(rule.entity_mappings.is_none());
        assert!(rule.has_field("entityMappings"));
    }

    #[test]
    fn placeholders_follow_the_repository_pattern() {
        let rule = Rule::load(
            "r.yaml",
            "query: T\nalertDetailsOverride:\n  alertDescriptionFormat: \"a {{x}} {{y} {{{z}}}\"\n",
        )
        .unwrap();
        let template = rule
            .alert_details_override
            .unwrap()
            .description_format
            .unwrap();
        let names: Vec<String> = template
            .placeholders()
            .into_iter()
            .map(|p| p.value)
            .collect();
        assert_eq!(names, ["x", "z"]);
    }
}
