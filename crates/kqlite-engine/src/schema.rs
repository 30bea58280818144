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
