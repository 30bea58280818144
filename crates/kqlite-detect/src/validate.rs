//! Sentinel's own checks of a rule, without the query's output: required
//! fields, schedule bounds, entity mappings, custom details, overrides,
//! grouping.
//!
//! Every rule comes from the Azure-Sentinel repository's template validation
//! (`.script/tests/detectionTemplateSchemaValidation/Models/`, the checks
//! every rule published there passes) or from Microsoft's reference pages;
//! each check names its source. Column names are checked against the
//! query's output by [`crate::bind`].

use crate::catalog::{self, limits};
use crate::diagnostic::{Diagnostic, codes};
use crate::rule::{Located, Rule, RuleKind, SCHEDULE_FIELDS, Template};
use std::collections::HashSet;

/// Every structural problem of the rule, in file order of the fields.
pub fn validate(rule: &Rule) -> Vec<Diagnostic> {
    let mut v = Validator {
        rule,
        out: Vec::new(),
    };
    v.kind();
    v.common();
    match rule.kind {
        RuleKind::Scheduled => {
            v.query_based();
            v.schedule();
        }
        RuleKind::Nrt => {
            v.query_based();
            v.not_for_kind(SCHEDULE_FIELDS, "NRT rules run on every ingested batch");
        }
        RuleKind::Hunting => {}
    }
    v.entity_mappings();
    if rule.kind != RuleKind::Hunting {
        v.custom_details();
        v.alert_details_override();
        v.incident_configuration();
        v.old_entity_columns();
    }
    v.out
}

struct Validator<'a> {
    rule: &'a Rule,
    out: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    /// A required field is missing: pointed at the start of the file.
    fn missing(&mut self, field: &str, why: &str) {
        self.push(Diagnostic::field(
            codes::MISSING,
            field,
            if why.is_empty() {
                "required, and missing".to_string()
            } else {
                format!("required {why}, and missing")
            },
        ));
    }

    fn kind(&mut self) {
        let rule = self.rule;
        if rule.kind == RuleKind::Scheduled && rule.kind_field.is_none() {
            // `AnalyticsTemplateInternalModelBase.cs`: `[JsonProperty("kind",
            // Required = Required.Always)]`.
            let present: Vec<&str> = SCHEDULE_FIELDS
                .iter()
                .copied()
                .filter(|f| rule.has_field(f))
                .collect();
            self.push(
                Diagnostic::field(
                    codes::MISSING,
                    "kind",
                    format!(
                        "required, and missing: this file has {} as a scheduled rule does, but no `kind: Scheduled`",
                        present.join(", ")
                    ),
                )
                .at_opt(
                    present.first().and_then(|f| rule.key_span(f)),
                    "a scheduled rule's field",
                ),
            );
        }
    }

    /// Fields every rule and hunting query has.
    fn common(&mut self) {
        let rule = self.rule;
        // `AnalyticsTemplateInternalModelBase.cs`: `id` (a Guid), `name`
        // (`[StringLength(256)]`) and `description` (`[StringLength(5000)]`)
        // are `Required.Always`.
        let analytic = rule.kind != RuleKind::Hunting;
        match &rule.id {
            None => self.missing("id", "(a GUID)"),
            // The analytic template model reads `id` as a .NET `Guid`; hunting
            // queries are not read by that model.
            Some(id) if analytic && !is_guid(&id.value) => self.push(
                Diagnostic::field(
                    codes::INVALID,
                    "id",
                    format!("'{}' is not a GUID", id.value),
                )
                .at(id.span.clone(), "not a GUID")
                .with_help("an id looks like 0c7e4b5a-3f7d-4d8e-9a55-2b0c1c2f6a11"),
            ),
            Some(_) => {}
        }
        match &rule.name {
            None => self.missing("name", ""),
            Some(name) => self.max_chars(name, "name", limits::MAX_NAME_CHARS),
        }
        match &rule.description {
            None => self.missing("description", ""),
            Some(d) => self.max_chars(d, "description", limits::MAX_DESCRIPTION_CHARS),
        }
        // `QueryBasedTemplateInternalModel.cs`: `[StringLength(10000,
        // MinimumLength = 1)]` on `query`.
        let chars = rule.query.text.chars().count();
        if chars > limits::MAX_QUERY_CHARS {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    "query",
                    format!(
                        "{chars} characters; Sentinel takes at most {}",
                        limits::MAX_QUERY_CHARS
                    ),
                )
                .at(rule.query.span.clone(), "too long"),
            );
        }
        if !analytic {
            // Tactics and techniques of hunting queries are free labels: the
            // `AttackTactic` enum belongs to the analytic template model.
            return self.connectors();
        }
        // `[JsonProperty("tactics")] List<AttackTactic>`: each an enum name.
        for (i, tactic) in rule.tactics.iter().enumerate() {
            if !catalog::TACTICS
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&tactic.value))
            {
                let mut d = Diagnostic::field(
                    codes::INVALID,
                    format!("tactics[{i}]"),
                    format!(
                        "'{}' is not a MITRE ATT&CK tactic Sentinel knows",
                        tactic.value
                    ),
                )
                .at(tactic.span.clone(), "unknown tactic");
                d = with_suggestion(d, &tactic.value, catalog::TACTICS.iter().copied());
                self.push(d);
            }
        }
        // The form only: kqlite does not carry MITRE's list of techniques.
        for (i, technique) in rule.relevant_techniques.iter().enumerate() {
            if !is_technique(&technique.value) {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        format!("relevantTechniques[{i}]"),
                        format!(
                            "'{}' is not a MITRE ATT&CK technique id (T followed by four digits, optionally .NNN)",
                            technique.value
                        ),
                    )
                    .at(technique.span.clone(), "not a technique id"),
                );
            }
        }
        self.connectors();
    }

    fn connectors(&mut self) {
        let rule = self.rule;
        if let Some(connectors) = &rule.required_data_connectors {
            for (i, c) in connectors.value.iter().enumerate() {
                // `DataConnectorInternalModel.cs`: `[JsonProperty("dataTypes",
                // Required = Required.Always)]`.
                if c.data_types.is_none() {
                    self.push(
                        Diagnostic::field(
                            codes::MISSING,
                            format!("requiredDataConnectors[{i}].dataTypes"),
                            "required, and missing",
                        )
                        .at(c.span.clone(), "this connector"),
                    );
                }
            }
        }
    }

    /// Fields of Scheduled and NRT rules (`QueryBasedTemplateInternalModel.cs`).
    fn query_based(&mut self) {
        let rule = self.rule;
        if rule.severity.is_none() {
            self.missing("severity", "(Informational, Low, Medium or High)");
        }
        if let Some(version) = &rule.version {
            // `[StringLength(20)]`, and `QueryBasedTemplateVersionValidator`:
            // `^(\d+\.)(\d+\.)(\d+)$`, "should be in format X.Y.Z (all
            // numbers)".
            self.max_chars(version, "version", limits::MAX_VERSION_CHARS);
            let parts: Vec<&str> = version.value.split('.').collect();
            let xyz = parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if !xyz {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        "version",
                        format!(
                            "'{}' is not a version of the form X.Y.Z (all numbers)",
                            version.value
                        ),
                    )
                    .at(version.span.clone(), "not a version"),
                );
            }
        }
    }

    /// `ScheduledTemplateInternalModel.cs`.
    fn schedule(&mut self) {
        let rule = self.rule;
        if rule.required_data_connectors.is_none() {
            // `[JsonProperty("requiredDataConnectors", Required = Required.Always)]`.
            self.missing("requiredDataConnectors", "for a Scheduled rule");
        }
        for (field, value) in [
            ("queryFrequency", &rule.query_frequency),
            ("queryPeriod", &rule.query_period),
        ] {
            let Some(d) = value else {
                self.missing(field, "for a Scheduled rule");
                continue;
            };
            // `[RangeTimeSpanIsoFormat("00:05:00", "14.00:00:00")]`.
            if d.value < limits::MIN_QUERY_INTERVAL || d.value > limits::MAX_QUERY_INTERVAL {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        field,
                        format!(
                            "{} is outside Sentinel's range of {} to {}",
                            d.value,
                            limits::MIN_QUERY_INTERVAL,
                            limits::MAX_QUERY_INTERVAL
                        ),
                    )
                    .at(d.span.clone(), "out of range"),
                );
            }
        }
        if let (Some(frequency), Some(period)) = (&rule.query_frequency, &rule.query_period) {
            // `PeriodGreaterThanOrEqualFrequencyAttribute.cs`: "'queryPeriod'
            // should be greater than or equal to 'queryFrequency'".
            if period.value < frequency.value {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        "queryPeriod",
                        format!(
                            "{} is shorter than queryFrequency ({}); the period must be at least the frequency",
                            period.value, frequency.value
                        ),
                    )
                    .at(period.span.clone(), "shorter than the frequency"),
                );
            }
            // `FrequencyLimitationForLongPeriodQuery.cs`: "When 'queryPeriod'
            // greater than or equal to 2 days, the 'queryFrequency' should be
            // greater than or equal to 1 hour."
            if period.value >= limits::LONG_PERIOD
                && frequency.value < limits::LONG_PERIOD_MIN_FREQUENCY
            {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        "queryFrequency",
                        format!(
                            "{} is too frequent for a queryPeriod of {}: with a period of 2 days or more, the frequency must be at least 1h",
                            frequency.value, period.value
                        ),
                    )
                    .at(frequency.span.clone(), "too frequent"),
                );
            }
        }
        if rule.trigger_operator.is_none() {
            self.missing("triggerOperator", "for a Scheduled rule (gt, lt, eq or ne)");
        }
        match &rule.trigger_threshold {
            None => self.missing("triggerThreshold", "for a Scheduled rule"),
            // `[Range(0, 10000)]`.
            Some(t) if !(0..=limits::MAX_TRIGGER_THRESHOLD).contains(&t.value) => self.push(
                Diagnostic::field(
                    codes::INVALID,
                    "triggerThreshold",
                    format!(
                        "{} is outside Sentinel's range of 0 to {}",
                        t.value,
                        limits::MAX_TRIGGER_THRESHOLD
                    ),
                )
                .at(t.span.clone(), "out of range"),
            ),
            Some(_) => {}
        }
    }

    fn not_for_kind(&mut self, fields: &[&str], why: &str) {
        for field in fields {
            if let Some(span) = self.rule.key_span(field) {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        *field,
                        format!("not a field of {} rules: {why}", self.rule.kind),
                    )
                    .at(span, "not for this kind"),
                );
            }
        }
    }

    /// `ValidEntityMappingsAttribute.cs` with `(entityMappingsMinLength: 1,
    /// entityMappingsMaxLength: 5, fieldMappingsMinLength: 1,
    /// fieldMappingsMaxLength: 3)` and `EntityMappingIdentifiers.cs`.
    fn entity_mappings(&mut self) {
        let Some(mappings) = &self.rule.entity_mappings else {
            return;
        };
        let n = mappings.value.len();
        if n == 0 || n > limits::MAX_ENTITY_MAPPINGS {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    "entityMappings",
                    format!(
                        "{n} entities; Sentinel takes 1 to {} (leave the field out to map none)",
                        limits::MAX_ENTITY_MAPPINGS
                    ),
                )
                .at_opt(self.rule.key_span("entityMappings"), "here"),
            );
        }
        for (i, mapping) in mappings.value.iter().enumerate() {
            let path = format!("entityMappings[{i}]");
            let Some(entity_type) = &mapping.entity_type else {
                self.push(
                    Diagnostic::field(
                        codes::MISSING,
                        format!("{path}.entityType"),
                        "required, and missing",
                    )
                    .at(mapping.span.clone(), "this entity"),
                );
                continue;
            };
            let Some(ty) = catalog::entity_type(&entity_type.value) else {
                let d = Diagnostic::field(
                    codes::ENTITY,
                    format!("{path}.entityType"),
                    format!("'{}' is not an entity type", entity_type.value),
                )
                .at(entity_type.span.clone(), "unknown entity type");
                let names = catalog::ENTITY_TYPES.iter().map(|t| t.name);
                let d = with_suggestion(d, &entity_type.value, names.clone());
                let d = if d.help.is_none() {
                    d.with_help(format!("known: {}", names.collect::<Vec<_>>().join(", ")))
                } else {
                    d
                };
                self.push(d);
                continue;
            };
            let Some(fields) = &mapping.field_mappings else {
                self.push(
                    Diagnostic::field(
                        codes::MISSING,
                        format!("{path}.fieldMappings"),
                        "required, and missing",
                    )
                    .at(mapping.span.clone(), "this entity"),
                );
                continue;
            };
            let count = fields.value.len();
            if count == 0 || count > limits::MAX_FIELD_MAPPINGS {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        format!("{path}.fieldMappings"),
                        format!(
                            "{count} identifiers; an entity takes 1 to {}",
                            limits::MAX_FIELD_MAPPINGS
                        ),
                    )
                    .at(fields.span.clone(), "here"),
                );
            }
            let mut used: HashSet<&str> = HashSet::new();
            for (j, field) in fields.value.iter().enumerate() {
                let fpath = format!("{path}.fieldMappings[{j}]");
                match &field.identifier {
                    None => self.push(
                        Diagnostic::field(
                            codes::MISSING,
                            format!("{fpath}.identifier"),
                            "required, and missing",
                        )
                        .at(field.span.clone(), "this mapping"),
                    ),
                    // The identifier list is matched case-sensitively
                    // (`validIdentifiers.Contains(...)`).
                    Some(id) if !ty.identifiers.contains(&id.value.as_str()) => {
                        let d = Diagnostic::field(
                            codes::ENTITY,
                            format!("{fpath}.identifier"),
                            format!(
                                "'{}' is not an identifier of entity type {} (known: {})",
                                id.value,
                                ty.name,
                                ty.identifiers.join(", ")
                            ),
                        )
                        .at(id.span.clone(), "unknown identifier");
                        self.push(with_suggestion(
                            d,
                            &id.value,
                            ty.identifiers.iter().copied(),
                        ));
                    }
                    Some(id) => {
                        if !used.insert(id.value.as_str()) {
                            self.push(
                                Diagnostic::field(
                                    codes::ENTITY,
                                    format!("{fpath}.identifier"),
                                    format!(
                                        "'{}' is mapped twice in this entity; identifiers must be unique",
                                        id.value
                                    ),
                                )
                                .at(id.span.clone(), "again"),
                            );
                        }
                    }
                }
                match &field.column_name {
                    None => self.push(
                        Diagnostic::field(
                            codes::MISSING,
                            format!("{fpath}.columnName"),
                            "required, and missing",
                        )
                        .at(field.span.clone(), "this mapping"),
                    ),
                    Some(c) => self.column_name(c, &format!("{fpath}.columnName")),
                }
            }
            // "Missing required identifiers ... Required identifiers are one of
            // the following combinations"; Microsoft Learn: "You must choose at
            // least one required identifier."
            let complete = ty
                .required
                .iter()
                .any(|set| set.iter().all(|id| used.contains(id)));
            if !used.is_empty() && !complete {
                let combos: Vec<String> = ty.required.iter().map(|s| s.join(" + ")).collect();
                self.push(
                    Diagnostic::field(
                        codes::ENTITY,
                        format!("{path}.fieldMappings"),
                        format!(
                            "an entity of type {} needs one of these identifiers: {}",
                            ty.name,
                            combos.join(", ")
                        ),
                    )
                    .at(fields.span.clone(), "no required identifier"),
                );
            }
        }
    }

    /// A column name as the repository accepts them: "should start with a
    /// letter or an underscore and contain only alphanumeric English
    /// characters (i.e. [a-zA-Z0-9_])", at most 500 characters.
    fn column_name(&mut self, column: &Located<String>, path: &str) {
        let name = &column.value;
        if name.chars().count() > limits::MAX_COLUMN_NAME_CHARS {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    path,
                    format!(
                        "a column name of {} characters; at most {}",
                        name.chars().count(),
                        limits::MAX_COLUMN_NAME_CHARS
                    ),
                )
                .at(column.span.clone(), "too long"),
            );
        } else if !is_column_name(name) {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    path,
                    format!(
                        "'{name}' is not a column name (a letter or _ first, then letters, digits or _)"
                    ),
                )
                .at(column.span.clone(), "not a column name"),
            );
        }
    }

    /// `ScheduledTemplateInternalModel.cs` / `QueryBasedTemplateInternalModel.cs`
    /// on `customDetails`: `[DictionaryLength(20)]`,
    /// `[DictionaryMaxKeyAndValueLengths(maxKeyLength: 20, maxValueLength:
    /// 500)]`, keys `^[a-zA-Z]+\w*$` ("must start with an English letter and
    /// contain only alphanumeric characters"), values `^[a-zA-Z_]+\w*$`.
    fn custom_details(&mut self) {
        let Some(details) = &self.rule.custom_details else {
            return;
        };
        if details.value.len() > limits::MAX_CUSTOM_DETAILS {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    "customDetails",
                    format!(
                        "{} details; Sentinel takes at most {}",
                        details.value.len(),
                        limits::MAX_CUSTOM_DETAILS
                    ),
                )
                .at_opt(self.rule.key_span("customDetails"), "here"),
            );
        }
        for (key, value) in &details.value {
            let path = format!("customDetails.{}", key.value);
            let key_chars = key.value.chars().count();
            if key_chars > limits::MAX_CUSTOM_DETAIL_KEY_CHARS {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        path.as_str(),
                        format!(
                            "a key of {key_chars} characters; at most {}",
                            limits::MAX_CUSTOM_DETAIL_KEY_CHARS
                        ),
                    )
                    .at(key.span.clone(), "too long"),
                );
            }
            let key_ok = key.value.starts_with(|c: char| c.is_ascii_alphabetic())
                && key
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        path.as_str(),
                        "a key must start with a letter and hold only letters, digits and _",
                    )
                    .at(key.span.clone(), "invalid key"),
                );
            }
            self.column_name(value, &path);
        }
    }

    /// `AlertDetailsOverride.cs`.
    fn alert_details_override(&mut self) {
        let Some(o) = &self.rule.alert_details_override else {
            return;
        };
        const FIELD: &str = "alertDetailsOverride";
        for (name, template, max) in [
            (
                "alertDisplayNameFormat",
                &o.display_name_format,
                limits::MAX_DISPLAY_NAME_FORMAT_CHARS,
            ),
            (
                "alertDescriptionFormat",
                &o.description_format,
                limits::MAX_DESCRIPTION_FORMAT_CHARS,
            ),
        ] {
            let Some(template) = template else {
                continue;
            };
            self.template(template, &format!("{FIELD}.{name}"), max);
        }
        for (name, column) in [
            ("alertTacticsColumnName", &o.tactics_column_name),
            ("alertSeverityColumnName", &o.severity_column_name),
        ] {
            if let Some(c) = column {
                self.column_name(c, &format!("{FIELD}.{name}"));
            }
        }
        let mut seen: HashSet<String> = HashSet::new();
        for (i, p) in o.dynamic_properties.iter().enumerate() {
            let path = format!("{FIELD}.alertDynamicProperties[{i}]");
            match &p.alert_property {
                None => self.push(
                    Diagnostic::field(
                        codes::MISSING,
                        format!("{path}.alertProperty"),
                        "required, and missing",
                    )
                    .at(p.span.clone(), "this property"),
                ),
                Some(name) if !catalog::ALERT_PROPERTIES.contains(&name.value.as_str()) => {
                    let d = Diagnostic::field(
                        codes::INVALID,
                        format!("{path}.alertProperty"),
                        format!(
                            "'{}' is not an alert property (known: {})",
                            name.value,
                            catalog::ALERT_PROPERTIES.join(", ")
                        ),
                    )
                    .at(name.span.clone(), "unknown property");
                    self.push(with_suggestion(
                        d,
                        &name.value,
                        catalog::ALERT_PROPERTIES.iter().copied(),
                    ));
                }
                Some(name) => {
                    if !seen.insert(name.value.clone()) {
                        self.push(
                            Diagnostic::field(
                                codes::INVALID,
                                format!("{path}.alertProperty"),
                                format!("'{}' is set twice", name.value),
                            )
                            .at(name.span.clone(), "again"),
                        );
                    }
                }
            }
            match &p.value {
                None => self.push(
                    Diagnostic::field(
                        codes::MISSING,
                        format!("{path}.value"),
                        "required, and missing",
                    )
                    .at(p.span.clone(), "this property"),
                ),
                Some(c) => self.column_name(c, &format!("{path}.value")),
            }
        }
    }

    /// `[NonEmptyString]`, `[StringLength(max, MinimumLength = 1)]`,
    /// `[MaxAmountOfDynamicContentPlaceHolders(3)]`.
    fn template(&mut self, template: &Template, path: &str, max: usize) {
        let text = &template.text;
        let chars = text.value.chars().count();
        if text.value.trim().is_empty() {
            self.push(
                Diagnostic::field(codes::INVALID, path, "empty; leave the field out instead")
                    .at(text.span.clone(), "empty"),
            );
        } else if chars > max {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    path,
                    format!("{chars} characters; at most {max}"),
                )
                .at(text.span.clone(), "too long"),
            );
        }
        let placeholders = template.placeholders();
        if placeholders.len() > limits::MAX_PLACEHOLDERS {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    path,
                    format!(
                        "{} {{{{column}}}} placeholders; at most {}",
                        placeholders.len(),
                        limits::MAX_PLACEHOLDERS
                    ),
                )
                .at(
                    placeholders[limits::MAX_PLACEHOLDERS].span.clone(),
                    "one too many",
                ),
            );
        }
        for p in &placeholders {
            let name = p.value.trim();
            if !is_column_name(name) {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        path,
                        format!("'{{{{{}}}}}' does not name a column", p.value),
                    )
                    .at(p.span.clone(), "not a column name"),
                );
            }
        }
    }

    /// GroupingConfiguration (Microsoft.SecurityInsights): "When method is
    /// Selected at least one of groupByEntities, groupByAlertDetails,
    /// groupByCustomDetails must be provided and not empty"; "Only entities
    /// defined in the current alert rule may be used"; "Only keys defined in
    /// the current alert rule may be used".
    fn incident_configuration(&mut self) {
        let Some(config) = &self.rule.incident_configuration else {
            return;
        };
        const FIELD: &str = "incidentConfiguration";
        if config.create_incident.is_none() {
            self.push(
                Diagnostic::field(
                    codes::MISSING,
                    format!("{FIELD}.createIncident"),
                    "required (true or false), and missing",
                )
                .at_opt(self.rule.key_span(FIELD), "here"),
            );
        }
        let Some(g) = &config.grouping else {
            return;
        };
        let path = format!("{FIELD}.groupingConfiguration");
        for (name, value) in [
            ("enabled", g.enabled.is_some()),
            ("reopenClosedIncident", g.reopen_closed_incident.is_some()),
            ("lookbackDuration", g.lookback_duration.is_some()),
            ("matchingMethod", g.matching_method.is_some()),
        ] {
            if !value {
                self.push(
                    Diagnostic::field(
                        codes::MISSING,
                        format!("{path}.{name}"),
                        "required, and missing",
                    )
                    .at(g.span.clone(), "this configuration"),
                );
            }
        }
        if let Some(method) = &g.matching_method {
            if !catalog::MATCHING_METHODS.contains(&method.value.as_str()) {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        format!("{path}.matchingMethod"),
                        format!(
                            "'{}' is not a matching method (known: {})",
                            method.value,
                            catalog::MATCHING_METHODS.join(", ")
                        ),
                    )
                    .at(method.span.clone(), "unknown method"),
                );
            } else if method.value == "Selected"
                && g.group_by_entities.is_empty()
                && g.group_by_alert_details.is_empty()
                && g.group_by_custom_details.is_empty()
            {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        format!("{path}.matchingMethod"),
                        "Selected needs at least one of groupByEntities, groupByAlertDetails, groupByCustomDetails",
                    )
                    .at(method.span.clone(), "nothing selected"),
                );
            }
        }
        let mapped: Vec<&str> = self
            .rule
            .entity_mappings
            .iter()
            .flat_map(|m| &m.value)
            .filter_map(|m| m.entity_type.as_ref())
            .filter_map(|t| catalog::entity_type(&t.value))
            .map(|t| t.name)
            .collect();
        for (i, e) in g.group_by_entities.iter().enumerate() {
            let known = catalog::entity_type(&e.value);
            if known.is_none_or(|t| !mapped.contains(&t.name)) {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        format!("{path}.groupByEntities[{i}]"),
                        format!(
                            "'{}' is not an entity type this rule maps (mapped: {})",
                            e.value,
                            if mapped.is_empty() {
                                "none".to_string()
                            } else {
                                mapped.join(", ")
                            }
                        ),
                    )
                    .at(e.span.clone(), "not mapped"),
                );
            }
        }
        for (i, d) in g.group_by_alert_details.iter().enumerate() {
            if !catalog::ALERT_DETAILS.contains(&d.value.as_str()) {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        format!("{path}.groupByAlertDetails[{i}]"),
                        format!(
                            "'{}' is not an alert detail (known: DisplayName, Severity)",
                            d.value
                        ),
                    )
                    .at(d.span.clone(), "unknown detail"),
                );
            }
        }
        let keys: Vec<&str> = self
            .rule
            .custom_details
            .iter()
            .flat_map(|d| &d.value)
            .map(|(k, _)| k.value.as_str())
            .collect();
        for (i, d) in g.group_by_custom_details.iter().enumerate() {
            if !keys.contains(&d.value.as_str()) {
                self.push(
                    Diagnostic::field(
                        codes::INVALID,
                        format!("{path}.groupByCustomDetails[{i}]"),
                        format!("'{}' is not a key of this rule's customDetails", d.value),
                    )
                    .at(d.span.clone(), "no such detail"),
                );
            }
        }
    }

    /// `NewEntityMappingsAttribute.cs` (on Scheduled rules): a query that
    /// still builds the old `AccountCustomEntity`-style columns must map them
    /// in `entityMappings` ("An old mapping for entity '...' does not have a
    /// matching new mapping entry.").
    fn old_entity_columns(&mut self) {
        if self.rule.kind != RuleKind::Scheduled {
            return;
        }
        const OLD: &[&str] = &[
            "AccountCustomEntity",
            "HostCustomEntity",
            "IPCustomEntity",
            "URLCustomEntity",
            "ProcessCustomEntity",
            "FileHashCustomEntity",
        ];
        let mapped: Vec<&str> = self
            .rule
            .entity_mappings
            .iter()
            .flat_map(|m| &m.value)
            .flat_map(|m| m.field_mappings.iter().flat_map(|f| &f.value))
            .filter_map(|f| f.column_name.as_ref())
            .map(|c| c.value.as_str())
            .collect();
        for old in OLD {
            if let Some(at) = self.rule.query.text.find(old)
                && !mapped.contains(old)
            {
                let span = self.rule.query.file_range(at..at + old.len());
                self.push(
                    Diagnostic::field(
                        codes::ENTITY,
                        "entityMappings",
                        format!(
                            "the query builds the old-style column {old}, which no entity mapping uses"
                        ),
                    )
                    .at(span, "old-style entity column")
                    .with_help(format!("map {old} in entityMappings, or drop it from the query")),
                );
            }
        }
    }

    fn max_chars(&mut self, value: &Located<String>, field: &str, max: usize) {
        let chars = value.value.chars().count();
        if chars > max {
            self.push(
                Diagnostic::field(
                    codes::INVALID,
                    field,
                    format!("{chars} characters; at most {max}"),
                )
                .at(value.span.clone(), "too long"),
            );
        }
    }
}

/// A did-you-mean hint when `name` is close to one of `candidates`.
fn with_suggestion<'a>(
    d: Diagnostic,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    match catalog::closest(name, candidates) {
        Some(c) => d.with_help(format!("did you mean `{c}`?")),
        None => d,
    }
}

/// `^[a-zA-Z_]+\w*$` over ASCII.
pub(crate) fn is_column_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A GUID as .NET's `Guid` reads it in JSON: 32 hex digits, in the
/// 8-4-4-4-12 form (braces allowed) or without hyphens.
fn is_guid(text: &str) -> bool {
    let t = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let groups: Vec<&str> = t.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    hex && (lengths == [8, 4, 4, 4, 12] || lengths == [32])
}

/// `T1234` or `T1234.001`.
fn is_technique(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(main, 4) && sub.is_none_or(|s| digits(s, 3))
}

#[cfg(test)]
mod tests;
