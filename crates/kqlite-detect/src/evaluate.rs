//! One scheduled evaluation of a rule, as Sentinel runs it: the query sees
//! each table's rows with `TimeGenerated` in the last `queryPeriod` before
//! `now`; the rule fires when the number of result rows passes its trigger;
//! the rows become one alert (SingleAlert, the default) or one per row
//! (AlertPerResult), shaped like SecurityAlert rows, with entities from the
//! entity mappings, custom details and the overridden name, description,
//! severity and tactics.

use crate::rule::{AggregationKind, Rule, Template};
use serde_json::{Map, Value};

/// A result row: column name to its JSON value (kqlite's output encoding).
pub type Row = Map<String, Value>;

/// The `let` statements that limit each table to the rule's window:
/// `TimeGenerated > now - queryPeriod and TimeGenerated <= now`.
/// `tables` are the tables with a `TimeGenerated` column.
pub fn window_lets(tables: &[String], start: &str, end: &str) -> String {
    let mut lets = String::new();
    for t in tables {
        lets.push_str(&format!(
            "let ['{t}'] = ['{t}'] | where TimeGenerated > datetime({start}) and TimeGenerated <= datetime({end});\n"
        ));
    }
    lets
}

/// Whether the rule fires on `count` result rows (no trigger: more than 0).
pub fn fires(rule: &Rule, count: usize) -> bool {
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    match (&rule.trigger_operator, &rule.trigger_threshold) {
        (Some(op), Some(t)) => op.value.fires(count, t.value),
        _ => count > 0,
    }
}

/// The alerts for the result rows of one evaluation at `now` (ISO text),
/// the window starting at `start`.
pub fn alerts(rule: &Rule, rows: &[Row], start: &str, now: &str) -> Vec<Row> {
    if !fires(rule, rows.len()) {
        return Vec::new();
    }
    let per_result = rule
        .event_grouping
        .as_ref()
        .is_some_and(|g| g.value == AggregationKind::AlertPerResult);
    let groups: Vec<&[Row]> = if per_result {
        rows.chunks(1).collect()
    } else {
        vec![rows]
    };
    groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| alert(rule, group, i, rows.len(), start, now))
        .collect()
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `{{Column}}` placeholders filled from a row.
fn fill(template: &Template, row: Option<&Row>) -> String {
    let mut out = template.text.value.clone();
    for p in template.placeholders() {
        let value = text(row.and_then(|r| r.get(&p.value)));
        out = out.replace(&format!("{{{{{}}}}}", p.value), &value);
    }
    out
}

fn alert(rule: &Rule, group: &[Row], index: usize, total: usize, start: &str, now: &str) -> Row {
    let first = group.first();
    let name = rule
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_default();
    let over = rule.alert_details_override.as_ref();
    let display = over
        .and_then(|o| o.display_name_format.as_ref())
        .map(|t| fill(t, first))
        .unwrap_or_else(|| name.clone());
    let description = over
        .and_then(|o| o.description_format.as_ref())
        .map(|t| fill(t, first))
        .or_else(|| {
            rule.description
                .as_ref()
                .map(|d| d.value.trim().to_string())
        })
        .unwrap_or_default();
    let severity = over
        .and_then(|o| o.severity_column_name.as_ref())
        .map(|c| text(first.and_then(|r| r.get(&c.value))))
        .filter(|s| !s.is_empty())
        .or_else(|| rule.severity.as_ref().map(|s| s.value.name().to_string()))
        .unwrap_or_default();
    let tactics = over
        .and_then(|o| o.tactics_column_name.as_ref())
        .map(|c| text(first.and_then(|r| r.get(&c.value))))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            rule.tactics
                .iter()
                .map(|t| t.value.clone())
                .collect::<Vec<_>>()
                .join(", ")
        });
    let techniques: Vec<Value> = rule
        .relevant_techniques
        .iter()
        .map(|t| Value::String(t.value.clone()))
        .collect();
    let id = rule
        .id
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let mut details = Map::new();
    for (key, column) in rule.custom_details.iter().flat_map(|d| &d.value) {
        let values: Vec<Value> = group
            .iter()
            .map(|r| Value::String(text(r.get(&column.value))))
            .collect();
        details.insert(key.value.clone(), Value::Array(values));
    }
    let mut extended = Map::new();
    if !details.is_empty() {
        extended.insert(
            "Custom Details".into(),
            Value::String(Value::Object(details).to_string()),
        );
    }
    if let Some(p) = &rule.query_period {
        extended.insert("Query Period".into(), Value::String(p.value.to_string()));
    }
    extended.insert(
        "Search Query Results Overall Count".into(),
        Value::String(total.to_string()),
    );
    let mut a = Row::new();
    a.insert("TimeGenerated".into(), Value::String(now.into()));
    a.insert("DisplayName".into(), Value::String(display.clone()));
    a.insert("AlertName".into(), Value::String(display));
    a.insert("AlertSeverity".into(), Value::String(severity));
    a.insert("Description".into(), Value::String(description));
    a.insert(
        "ProviderName".into(),
        Value::String("ASI Scheduled Alerts".into()),
    );
    a.insert("VendorName".into(), Value::String("Microsoft".into()));
    a.insert("ProductName".into(), Value::String("Azure Sentinel".into()));
    a.insert("AlertType".into(), Value::String(id.clone()));
    a.insert(
        "SystemAlertId".into(),
        Value::String(alert_id(&id, now, index)),
    );
    a.insert("Status".into(), Value::String("New".into()));
    a.insert("StartTime".into(), Value::String(start.into()));
    a.insert("EndTime".into(), Value::String(now.into()));
    a.insert("Tactics".into(), Value::String(tactics));
    a.insert(
        "Techniques".into(),
        Value::String(Value::Array(techniques).to_string()),
    );
    a.insert(
        "Entities".into(),
        Value::String(Value::Array(entities(rule, group)).to_string()),
    );
    a.insert(
        "ExtendedProperties".into(),
        Value::String(Value::Object(extended).to_string()),
    );
    a.insert("Type".into(), Value::String("SecurityAlert".into()));
    a
}

/// Entities from the mappings: for each row and mapping, an object with
/// the entity's type (lower case, as SecurityAlert.Entities writes it) and
/// each identifier that has a value; duplicates once.
fn entities(rule: &Rule, group: &[Row]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mappings = rule.entity_mappings.iter().flat_map(|m| &m.value);
    let mappings: Vec<_> = mappings.collect();
    for row in group {
        for m in &mappings {
            let Some(kind) = &m.entity_type else { continue };
            let mut e = Map::new();
            for f in m.field_mappings.iter().flat_map(|f| &f.value) {
                let (Some(id), Some(col)) = (&f.identifier, &f.column_name) else {
                    continue;
                };
                let v = text(row.get(&col.value));
                if !v.is_empty() {
                    e.insert(id.value.clone(), Value::String(v));
                }
            }
            if e.is_empty() {
                continue;
            }
            let mut typed = Map::new();
            typed.insert("Type".into(), Value::String(kind.value.to_lowercase()));
            typed.extend(e);
            let e = Value::Object(typed);
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    // `$id` first, as SecurityAlert.Entities writes it (ids from 2).
    out.into_iter()
        .enumerate()
        .map(|(i, e)| {
            let mut m = Map::new();
            m.insert("$id".into(), Value::String((i + 2).to_string()));
            if let Value::Object(fields) = e {
                m.extend(fields);
            }
            Value::Object(m)
        })
        .collect()
}

/// A GUID-shaped id that is the same for the same rule, time and group.
fn alert_id(rule_id: &str, now: &str, index: usize) -> String {
    // FNV-1a over the inputs, twice with different seeds for 128 bits.
    let hash = |seed: u64| {
        let mut h = seed;
        for b in rule_id
            .bytes()
            .chain(now.bytes())
            .chain(index.to_le_bytes())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}
