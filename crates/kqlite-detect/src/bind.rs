//! Binding a rule: its query plans against the session's tables, and every
//! column its mappings, details and overrides name is in the query's output.
//!
//! Sentinel fills entities, custom details and alert overrides from the
//! columns of the query's result (Microsoft Learn, "Map data fields to
//! entities": "choose a data field from the Value drop-down list ... the
//! Value list is populated by the data fields in the table defined as the
//! subject of the rule query"); a name that is not an output column has
//! nothing to read.

use crate::catalog;
use crate::diagnostic::{Diagnostic, codes};
use crate::rule::{Located, Rule};
use kqlite_engine::Session;
use kqlite_engine::schema::Column;

/// The query's output columns, or why the query does not plan.
pub fn plan_columns(rule: &Rule, session: &Session) -> Result<Vec<Column>, Diagnostic> {
    match session.plan(&rule.query.text) {
        Ok((_, columns)) => Ok(columns),
        Err(e) => Err(query_diagnostic(rule, e)),
    }
}

/// An engine error as a rule diagnostic placed in the file.
pub fn query_diagnostic(rule: &Rule, error: kqlite_engine::Error) -> Diagnostic {
    let diagnostic = match error {
        kqlite_engine::Error::Query(d) => d,
        other => {
            kqlite_syntax::Diagnostic::new(kqlite_engine::error::codes::PLAN, other.to_string())
                .with_label(kqlite_syntax::Span::new(0, 0), "while planning")
        }
    };
    let (span, label) = match diagnostic.labels.first() {
        Some(label) => (
            rule.query.file_range(label.span.start..label.span.end),
            label.text.clone(),
        ),
        None => (rule.query.file_range(0..0), String::new()),
    };
    Diagnostic {
        code: diagnostic.code,
        field: "query".to_string(),
        message: diagnostic.message.clone(),
        span: Some(span),
        label,
        help: diagnostic.help.clone(),
        query: Some(diagnostic),
    }
}

/// Plans the query and checks the columns the rule names. Empty when the
/// rule binds.
pub fn bind(rule: &Rule, session: &Session) -> Vec<Diagnostic> {
    match plan_columns(rule, session) {
        Ok(columns) => check_columns(rule, &columns),
        Err(d) => vec![d],
    }
}

/// Every column name the rule uses, with its field path.
pub fn referenced_columns(rule: &Rule) -> Vec<(String, Located<String>)> {
    let mut out = Vec::new();
    for (i, m) in rule
        .entity_mappings
        .iter()
        .flat_map(|m| &m.value)
        .enumerate()
    {
        for (j, f) in m.field_mappings.iter().flat_map(|f| &f.value).enumerate() {
            if let Some(c) = &f.column_name {
                out.push((
                    format!("entityMappings[{i}].fieldMappings[{j}].columnName"),
                    c.clone(),
                ));
            }
        }
    }
    for (key, value) in rule.custom_details.iter().flat_map(|d| &d.value) {
        out.push((format!("customDetails.{}", key.value), value.clone()));
    }
    if let Some(o) = &rule.alert_details_override {
        for (name, template) in [
            ("alertDisplayNameFormat", &o.display_name_format),
            ("alertDescriptionFormat", &o.description_format),
        ] {
            for p in template.iter().flat_map(|t| t.placeholders()) {
                // `{{ Name }}` is read as the column `Name`.
                let column = p.value.trim().to_string();
                out.push((
                    format!("alertDetailsOverride.{name}"),
                    Located {
                        value: column,
                        span: p.span,
                    },
                ));
            }
        }
        for (name, column) in [
            ("alertTacticsColumnName", &o.tactics_column_name),
            ("alertSeverityColumnName", &o.severity_column_name),
        ] {
            if let Some(c) = column {
                out.push((format!("alertDetailsOverride.{name}"), c.clone()));
            }
        }
        for (i, p) in o.dynamic_properties.iter().enumerate() {
            if let Some(c) = &p.value {
                out.push((
                    format!("alertDetailsOverride.alertDynamicProperties[{i}].value"),
                    c.clone(),
                ));
            }
        }
    }
    for (i, c) in rule.sentinel_entities_mappings.iter().enumerate() {
        out.push((
            format!("sentinelEntitiesMappings[{i}].columnName"),
            c.clone(),
        ));
    }
    out
}

/// Every referenced column that is not among `columns`.
pub fn check_columns(rule: &Rule, columns: &[Column]) -> Vec<Diagnostic> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut out = Vec::new();
    for (field, column) in referenced_columns(rule) {
        if names.contains(&column.value.as_str()) {
            continue;
        }
        let d = Diagnostic::field(
            codes::COLUMN,
            field,
            format!("'{}' is not a column of the query's output", column.value),
        )
        .at(column.span.clone(), "no such output column");
        let help = match names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&column.value))
            .copied()
            .or_else(|| catalog::closest(&column.value, names.iter().copied()))
        {
            Some(near) => format!("did you mean `{near}`?"),
            None => output_list(&names),
        };
        out.push(d.with_help(help));
    }
    out
}

fn output_list(names: &[&str]) -> String {
    const SHOWN: usize = 12;
    let mut list = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    format!("the query outputs {list}")
}
