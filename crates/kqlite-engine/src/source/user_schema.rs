//! User schema files: the column types of a table that has no built-in
//! schema, or that override it, kept beside the data.
//!
//! For table `T` the files are `T.schema.json`, `T.schema.kql` or `T.kql`,
//! looked for in the folder of each of the table's files and then in the
//! folders above it, up to the `-d` folder: beside a data file, inside a
//! table's folder (or an export container), or at the top of the `-d`
//! folder. The nearest folder holding one wins; two of them in one folder
//! is an error (which one was meant?).
//!
//! `T.schema.json` is one of:
//!
//! - `{"name": "T", "columns": [{"name": "A", "type": "string"}, ...]}`
//!   (`name` optional; `table` is accepted for it, as in kqlite's built-in
//!   schemas);
//! - `[{"name": "A", "type": "string"}, ...]`;
//! - `{"columns": [...]}` as Log Analytics lists a table's columns;
//! - Kusto's `.show table T schema as json`:
//!   `{"Name": "T", "OrderedColumns": [{"Name": "A", "Type": "System.String", "CslType": "string"}]}`.
//!
//! Types are KQL names (`string`, `datetime`, `dynamic`, ...) or .NET names
//! (`System.String`, `DateTime`, `Int64`, ...). `T.kql` and `T.schema.kql`
//! hold a Kusto table definition, `.create table T (A:string, B:datetime)`
//! (`.create-merge table` too; `//` comment lines allowed).

use super::response::kql_type;
use crate::error::{Error, Result};
use crate::schema::{Column, TableSchema};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The file names that hold table `T`'s schema, in the order reported.
pub(crate) fn candidates(table: &str) -> [String; 3] {
    [
        format!("{table}.schema.json"),
        format!("{table}.schema.kql"),
        format!("{table}.kql"),
    ]
}

/// Whether a file is a schema file rather than data (`*.schema.json`,
/// `*.kql`), so folder listings leave it out of the tables.
pub(crate) fn is_schema_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".schema.json") || name.ends_with(".kql")
}

/// The user schema of `table`, searched from the folders of its files up to
/// `root` (the `-d` folder; None when `-d` named a file): the schema file
/// found and the schema it gives.
pub fn find_user_schema(
    table: &str,
    files: &[&Path],
    root: Option<&Path>,
) -> Result<Option<(PathBuf, TableSchema)>> {
    // The folders to look in, nearest first, each once.
    let mut dirs: Vec<PathBuf> = Vec::new();
    for f in files {
        let mut dir = f.parent();
        while let Some(d) = dir {
            let d = if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            };
            if !dirs.iter().any(|x| x == d) {
                dirs.push(d.to_path_buf());
            }
            match root {
                Some(r) if d != r && d.starts_with(r) => dir = d.parent(),
                _ => break,
            }
        }
    }
    for dir in dirs {
        let found: Vec<PathBuf> = candidates(table)
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| p.is_file())
            .collect();
        match found.as_slice() {
            [] => continue,
            [one] => {
                let schema = read_schema_file(one, table)?;
                return Ok(Some((one.clone(), schema)));
            }
            [a, b, ..] => {
                return Err(Error::Data(format!(
                    "table `{table}` has two schema files, {} and {}: keep one",
                    a.display(),
                    b.display()
                )));
            }
        }
    }
    Ok(None)
}

/// Reads the schema file of `table`; an error names the file.
pub fn read_schema_file(path: &Path, table: &str) -> Result<TableSchema> {
    let err = |m: String| Error::Data(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let is_json = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().ends_with(".json"));
    let (name, columns) = if is_json {
        parse_json_schema(text).map_err(err)?
    } else {
        let t = crate::schema::parse_create_table(text)
            .map_err(|m| err(format!("not a table definition: {m}")))?;
        (Some(t.name), t.columns)
    };
    if let Some(n) = name
        && n != table
    {
        return Err(err(format!(
            "defines table `{n}`, but the file is named for table `{table}`"
        )));
    }
    Ok(TableSchema {
        name: table.to_string(),
        columns,
    })
}

/// The table name (if given) and columns of a JSON schema file.
pub(crate) fn parse_json_schema(
    text: &str,
) -> std::result::Result<(Option<String>, Vec<Column>), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    const SHAPES: &str = "expected {\"name\": \"T\", \"columns\": [{\"name\": \"A\", \"type\": \"string\"}, ...]} or a list of such columns";
    let (name, list) = match &v {
        Value::Array(items) => (None, items),
        Value::Object(o) => {
            let name = match ["name", "Name", "table", "TableName"]
                .iter()
                .find_map(|k| o.get(*k))
            {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err("the table name must be a string".into()),
            };
            let list = ["columns", "Columns", "OrderedColumns"]
                .iter()
                .find_map(|k| o.get(*k))
                .ok_or_else(|| format!("no `columns`: {SHAPES}"))?;
            match list {
                Value::Array(items) => (name, items),
                _ => return Err(format!("`columns` is not a list: {SHAPES}")),
            }
        }
        _ => return Err(SHAPES.into()),
    };
    if list.is_empty() {
        return Err("the schema lists no columns".into());
    }
    let mut columns: Vec<Column> = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let at = format!("column {}", i + 1);
        let Value::Object(o) = c else {
            return Err(format!("{at}: expected {{\"name\": ..., \"type\": ...}}"));
        };
        let text_of = |keys: &[&str]| -> Option<&str> {
            keys.iter().find_map(|k| o.get(*k)).and_then(Value::as_str)
        };
        let col = text_of(&["name", "Name", "ColumnName"])
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("{at}: no `name`"))?;
        // Kusto's schema JSON gives both the .NET `Type` and `CslType`.
        let ty_name = text_of(&["CslType", "type", "Type", "ColumnType", "DataType"])
            .ok_or_else(|| format!("column `{col}`: no `type`"))?;
        let ty = kql_type(ty_name)
            .ok_or_else(|| format!("column `{col}` has unknown type `{ty_name}`"))?;
        if columns.iter().any(|c| c.name == col) {
            return Err(format!("column `{col}` is declared twice"));
        }
        columns.push(Column {
            name: col.to_string(),
            ty,
        });
    }
    Ok((name, columns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kqlite_syntax::ast::ScalarType;

    fn cols(text: &str) -> (Option<String>, Vec<(String, ScalarType)>) {
        let (n, c) = parse_json_schema(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (n, c.into_iter().map(|c| (c.name, c.ty)).collect())
    }

    #[test]
    fn json_shapes() {
        let want = vec![
            ("A".to_string(), ScalarType::String),
            ("B".to_string(), ScalarType::DateTime),
        ];
        assert_eq!(
            cols(
                r#"{"name":"T","columns":[{"name":"A","type":"string"},{"name":"B","type":"datetime"}]}"#
            ),
            (Some("T".into()), want.clone())
        );
        assert_eq!(
            cols(r#"[{"name":"A","type":"string"},{"name":"B","type":"datetime"}]"#),
            (None, want.clone())
        );
        assert_eq!(
            cols(r#"{"columns":[{"name":"A","type":"string"},{"name":"B","type":"datetime"}]}"#),
            (None, want.clone())
        );
        // Kusto `.show table T schema as json`: CslType wins over Type.
        assert_eq!(
            cols(
                r#"{"Name":"T","OrderedColumns":[{"Name":"A","Type":"System.String","CslType":"string"},{"Name":"B","Type":"System.DateTime","CslType":"datetime"}]}"#
            ),
            (Some("T".into()), want)
        );
        for bad in [
            "",
            "{}",
            "3",
            r#"{"columns": {}}"#,
            r#"{"columns": []}"#,
            r#"[{"name":"A"}]"#,
            r#"[{"type":"string"}]"#,
            r#"[{"name":"A","type":"varchar"}]"#,
            r#"[{"name":"A","type":"string"},{"name":"A","type":"long"}]"#,
            r#"["A"]"#,
        ] {
            assert!(parse_json_schema(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schema_files_are_not_data() {
        assert!(is_schema_file(Path::new("d/T.schema.json")));
        assert!(is_schema_file(Path::new("d/T.KQL")));
        assert!(!is_schema_file(Path::new("d/T.json")));
        assert!(!is_schema_file(Path::new("d/schema.csv")));
    }
}
