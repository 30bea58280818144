//! Table schemas: the column names and KQL types the binder works with.
//!
//! The planner's schema is the source of truth for KQL types (Arrow alone
//! cannot tell `dynamic` from `string`, nor `guid` from `string`).

use crate::builtin_schemas::{BUILTIN, Flavor};
use kqlite_syntax::ast::ScalarType;
use serde::Deserialize;

/// One column: its name and KQL type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ScalarType,
}

/// A table's columns, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<Column>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Deserialize)]
struct SchemaFile {
    table: String,
    columns: Vec<SchemaColumn>,
}

#[derive(Deserialize)]
struct SchemaColumn {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

/// Reads a schema file in the project's JSON format
/// (`{"table": "T", "columns": [{"name": "A", "type": "string"}, ...]}`).
pub fn parse_schema_json(text: &str) -> Result<TableSchema, String> {
    let file: SchemaFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut columns = Vec::with_capacity(file.columns.len());
    for c in file.columns {
        let ty = ScalarType::from_name(&c.ty)
            .ok_or_else(|| format!("column `{}` has unknown type `{}`", c.name, c.ty))?;
        columns.push(Column { name: c.name, ty });
    }
    Ok(TableSchema {
        name: file.table,
        columns,
    })
}

/// Reads a Kusto table definition, as `.show table T cslschema` and
/// `.create table` write it: `.create table T (A:string, ['B c']:long, ...)`
/// (also `.create-merge table`; a trailing `with (...)` is ignored, it
/// holds properties such as folder and docstring). Lines starting with `//`
/// are comments.
pub fn parse_create_table(text: &str) -> Result<TableSchema, String> {
    let text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let rest = text.trim_start();
    let rest = [".create-merge table", ".create table"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))
        .ok_or("a table definition starts with `.create table Name (`")?;
    let rest = rest.trim_start();
    let (name, rest) =
        name_prefix(rest).ok_or("expected the table's name after `.create table`")?;
    let rest = rest
        .trim_start()
        .strip_prefix('(')
        .ok_or_else(|| format!("expected `(` and the columns after `{name}`"))?;
    let mut columns = Vec::new();
    let mut rest = rest.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix(')') {
            let after = after.trim();
            if !after.is_empty() && !after.starts_with("with") {
                return Err(format!("unexpected text after the columns: `{after}`"));
            }
            break;
        }
        let (col, after) = name_prefix(rest).ok_or_else(|| {
            format!(
                "expected a column name at `{}`",
                rest.chars().take(20).collect::<String>()
            )
        })?;
        let after = after
            .trim_start()
            .strip_prefix(':')
            .ok_or_else(|| format!("expected `:` and a type after column `{col}`"))?
            .trim_start();
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let ty_name = &after[..end];
        let ty = ScalarType::from_name(ty_name)
            .ok_or_else(|| format!("column `{col}` has unknown type `{ty_name}`"))?;
        if columns.iter().any(|c: &Column| c.name == col) {
            return Err(format!("column `{col}` is declared twice"));
        }
        columns.push(Column { name: col, ty });
        rest = after[end..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.starts_with(')') {
            return Err("expected `,` or `)` after a column".into());
        }
    }
    Ok(TableSchema { name, columns })
}

/// A name at the start of `s` (an identifier or `['quoted']`/`["quoted"]`)
/// and the text after it.
fn name_prefix(s: &str) -> Option<(String, &str)> {
    for (open, close) in [("['", "']"), ("[\"", "\"]")] {
        if let Some(inner) = s.strip_prefix(open) {
            let end = inner.find(close)?;
            return Some((inner[..end].to_string(), &inner[end + close.len()..]));
        }
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_string(), &s[end..]))
}

/// The built-in schema of a known table, preferring the Log Analytics
/// flavour when both exist.
pub fn builtin(table: &str) -> Option<TableSchema> {
    builtin_flavor(table, Flavor::LogAnalytics)
        .or_else(|| builtin_flavor(table, Flavor::DefenderXdr))
}

/// The built-in schema of a table in one flavour.
pub fn builtin_flavor(table: &str, flavor: Flavor) -> Option<TableSchema> {
    BUILTIN
        .iter()
        .find(|(name, f, _)| *name == table && *f == flavor)
        .and_then(|(_, _, json)| parse_schema_json(json).ok())
}

/// Names of all tables with a built-in schema.
pub fn builtin_tables() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(name, _, _)| *name)
}

#[cfg(test)]
mod create_table_tests {
    use super::*;

    #[test]
    fn reads_kusto_table_definitions() {
        let t = parse_create_table(
            "// exported\n.create table MyLogs (TimeGenerated:datetime, ['User Name']:string,\n  Count:long, Props:dynamic) with (folder='x')",
        );
        let t = t.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.name, "MyLogs");
        let cols: Vec<(String, ScalarType)> =
            t.columns.into_iter().map(|c| (c.name, c.ty)).collect();
        assert_eq!(
            cols,
            vec![
                ("TimeGenerated".to_string(), ScalarType::DateTime),
                ("User Name".to_string(), ScalarType::String),
                ("Count".to_string(), ScalarType::Long),
                ("Props".to_string(), ScalarType::Dynamic),
            ]
        );
        assert!(parse_create_table(".create-merge table T (a:int)").is_ok());
        for bad in [
            "create table T (a:int)",
            ".create table T a:int",
            ".create table T (a:integer)",
            ".create table T (a:int, a:long)",
            ".create table T (a:int b:int)",
            ".create table T (a:int) extra",
            ".create table (a:int)",
        ] {
            assert!(parse_create_table(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_schema_parses() {
        for (name, _, json) in BUILTIN {
            let s = parse_schema_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&s.name, name);
            assert!(!s.columns.is_empty(), "{name}");
        }
    }

    #[test]
    fn seed_tables_are_built_in() {
        let alert = builtin("SecurityAlert").expect("SecurityAlert");
        assert_eq!(
            alert.column("Entities").map(|c| c.ty),
            Some(ScalarType::String)
        );
        assert_eq!(
            alert.column("TimeGenerated").map(|c| c.ty),
            Some(ScalarType::DateTime)
        );
        let cae = builtin("CloudAppEvents").expect("CloudAppEvents");
        assert_eq!(
            cae.column("RawEventData").map(|c| c.ty),
            Some(ScalarType::Dynamic)
        );
        let purview = builtin("PurviewAuditLogs").expect("PurviewAuditLogs");
        assert!(purview.column("SensitivityLabel").is_some());
    }
}
