//! API responses that carry their own column types: the Log Analytics
//! Query API (`{"tables":[{"name","columns","rows"}]}`), Kusto REST v1
//! (`{"Tables":[...]}`) and v2 (an array of frames), and the Defender
//! advanced hunting API / Graph runHuntingQuery
//! (`{"Schema":[{"Name","Type"}],"Results":[{...}]}`, Graph in lower case).
//!
//! Column types are Kusto type names (`string`, `datetime`, ...) or .NET
//! type names (`System.String`, `DateTime`, `Int64`, `Object`, ...), mapped
//! to KQL types by [`kql_type`]. Only result tables become tables: the
//! Kusto v1 table of contents or the v2 `TableKind: PrimaryResult` tells
//! them from the service's own tables (@ExtendedProperties, QueryStatus).

use super::json::{bad_at, err_at, single};
use super::scan::{Doc, Span};
use super::{Bad, BadRecord, Chunk, Kind, Record, SourceFile};
use crate::error::{Error, Result};
use crate::schema::Column;
use kqlite_syntax::ast::ScalarType;
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// A response's table name when it says more than "the result":
/// `PrimaryResult`, `Table_0` and `@...` names are not table names.
pub(crate) fn useful_name(name: &str) -> Option<String> {
    let n = name.trim();
    let numbered = n
        .strip_prefix("Table_")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    (!n.is_empty() && n != "PrimaryResult" && !n.starts_with('@') && !numbered)
        .then(|| n.to_string())
}

/// The KQL type of a Kusto or .NET type name (`System.` optional, any
/// case). Kusto's `bool` travels as .NET `SByte`.
pub(crate) fn kql_type(name: &str) -> Option<ScalarType> {
    let n = name.trim();
    let n = n.strip_prefix("System.").unwrap_or(n).to_ascii_lowercase();
    Some(match n.as_str() {
        "bool" | "boolean" | "sbyte" => ScalarType::Bool,
        "int" | "int32" | "int16" | "byte" => ScalarType::Int,
        "long" | "int64" => ScalarType::Long,
        "real" | "double" | "single" | "float" => ScalarType::Real,
        "decimal" | "data.sqltypes.sqldecimal" | "sqldecimal" => ScalarType::Decimal,
        "string" => ScalarType::String,
        "datetime" | "date" => ScalarType::DateTime,
        "timespan" | "time" => ScalarType::Timespan,
        "guid" | "uniqueid" | "uuid" => ScalarType::Guid,
        "dynamic" | "object" => ScalarType::Dynamic,
        _ => return None,
    })
}

/// The message of an error object (`{"error":{"message"}}`, OneApiErrors
/// entries, `@message`), else the JSON text.
pub(crate) fn error_message(v: &Value) -> String {
    let pick = |o: &Map<String, Value>| {
        ["@message", "message", "Message"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_string))
    };
    let found = match v {
        Value::Object(o) => pick(o).or_else(|| {
            o.get("error")
                .or_else(|| o.get("OneApiErrors"))
                .map(error_message)
        }),
        Value::Array(a) => a.first().map(error_message),
        _ => None,
    };
    found.unwrap_or_else(|| {
        let s = v.to_string();
        if s.chars().count() > 200 {
            format!("{}...", s.chars().take(200).collect::<String>())
        } else {
            s
        }
    })
}

struct Ctx<'a> {
    file: &'a Arc<Path>,
    doc: &'a Doc<'a>,
}

type Members = Vec<(String, Span)>;

impl Ctx<'_> {
    fn error(&self, pos: usize, msg: impl Into<String>) -> Error {
        err_at(self.file, self.doc, (pos, msg.into()))
    }

    fn members(&self, span: Span) -> Result<Members> {
        self.doc
            .object_members(span.start)
            .map_err(|e| err_at(self.file, self.doc, e))
    }

    fn items(&self, span: Span) -> Result<Vec<Span>> {
        self.doc
            .array_items(span.start)
            .map_err(|e| err_at(self.file, self.doc, e))
    }

    fn parse(&self, span: Span) -> Result<Value> {
        self.doc
            .parse(span)
            .map_err(|e| err_at(self.file, self.doc, e))
    }

    /// The first member present among `keys`.
    fn get(&self, members: &Members, keys: &[&str]) -> Option<Span> {
        keys.iter()
            .find_map(|k| members.iter().find(|(m, _)| m == k).map(|(_, s)| *s))
    }

    /// A member that must be there.
    fn need(&self, members: &Members, keys: &[&str], at: Span) -> Result<Span> {
        self.get(members, keys)
            .ok_or_else(|| self.error(at.start, format!("`{}` is missing here", keys[0])))
    }

    fn string(&self, span: Span) -> Result<String> {
        match self.parse(span)? {
            Value::String(s) => Ok(s),
            other => Err(self.error(span.start, format!("expected a string, found {other}"))),
        }
    }

    /// Column definitions: objects with a name key and one of the type keys
    /// (the first present wins).
    fn columns(&self, span: Span, name_keys: &[&str], type_keys: &[&str]) -> Result<Vec<Column>> {
        let mut out: Vec<Column> = Vec::new();
        for item in self.items(span)? {
            let m = self.members(item)?;
            let name = self.string(self.need(&m, name_keys, item)?)?;
            let ty_span = self.need(&m, type_keys, item)?;
            let ty_name = self.string(ty_span)?;
            let ty = kql_type(&ty_name).ok_or_else(|| {
                self.error(
                    ty_span.start,
                    format!("column `{name}` has unknown type `{ty_name}`"),
                )
            })?;
            if out.iter().any(|c| c.name == name) {
                return Err(self.error(item.start, format!("column `{name}` is declared twice")));
            }
            out.push(Column { name, ty });
        }
        Ok(out)
    }

    /// Rows as arrays of values, one per column, numbered from `first`.
    /// A row that is not an array of the right length is a bad record.
    fn rows(
        &self,
        span: Span,
        columns: &[Column],
        first: usize,
        out: &mut Vec<Record>,
        bad: &mut Bad,
    ) -> Result<()> {
        for (k, item) in self.items(span)?.into_iter().enumerate() {
            let n = first + k;
            let line = self.doc.line_of(item.start);
            let row = |reason: String| {
                BadRecord::at(self.file, line, reason).column(self.doc.column_of(item.start))
            };
            let v = match self.doc.parse(item) {
                Ok(v) => v,
                Err(e) => {
                    bad_at(bad, self.file, self.doc, e, Some(("row", n)))?;
                    continue;
                }
            };
            let values = match v {
                Value::Array(a) => a,
                Value::Object(_) => {
                    return Err(self.error(
                        item.start,
                        format!(
                            "row {n}: the response reports an error in place of a row: {}",
                            error_message(&v)
                        ),
                    ));
                }
                other => {
                    bad.found(row(format!(
                        "row {n}: expected an array of values, found {other}"
                    )))?;
                    continue;
                }
            };
            if values.len() != columns.len() {
                bad.found(row(format!(
                    "row {n} has {} values, the table has {} columns",
                    values.len(),
                    columns.len()
                )))?;
                continue;
            }
            let fields: Map<String, Value> =
                columns.iter().map(|c| c.name.clone()).zip(values).collect();
            out.push(Record {
                file: self.file.clone(),
                line,
                item: Some(("row", n)),
                fields,
                kind: Kind::Json,
            });
        }
        Ok(())
    }
}

/// Log Analytics Query API: every table of `tables` is a result.
pub(crate) fn read_la(
    file: &Arc<Path>,
    doc: &Doc,
    source: SourceFile,
    bad: &mut Bad,
) -> Result<Vec<Chunk>> {
    let cx = Ctx { file, doc };
    let top = single(file, doc)?;
    let m = cx.members(top)?;
    let mut out = Vec::new();
    for t in cx.items(cx.need(&m, &["tables"], top)?)? {
        let tm = cx.members(t)?;
        let name = match cx.get(&tm, &["name"]) {
            Some(s) => cx.string(s)?,
            None => String::new(),
        };
        let columns = cx.columns(cx.need(&tm, &["columns"], t)?, &["name"], &["type"])?;
        let mut records = Vec::new();
        cx.rows(cx.need(&tm, &["rows"], t)?, &columns, 1, &mut records, bad)?;
        out.push(Chunk::records(
            useful_name(&name),
            source.clone(),
            records,
            columns,
        ));
    }
    Ok(out)
}

/// Kusto REST v1: the result tables are those the trailing table of
/// contents lists as `QueryResult`; without one, every table but the
/// service's own (@ExtendedProperties, QueryStatus).
pub(crate) fn read_kusto_v1(
    file: &Arc<Path>,
    doc: &Doc,
    source: SourceFile,
    bad: &mut Bad,
) -> Result<Vec<Chunk>> {
    let cx = Ctx { file, doc };
    let top = single(file, doc)?;
    let m = cx.members(top)?;
    let tables = cx.items(cx.need(&m, &["Tables"], top)?)?;
    // (name, columns, rows span) of each table.
    let mut parsed = Vec::new();
    for t in &tables {
        let tm = cx.members(*t)?;
        let name = match cx.get(&tm, &["TableName"]) {
            Some(s) => cx.string(s)?,
            None => String::new(),
        };
        let columns = cx.columns(
            cx.need(&tm, &["Columns"], *t)?,
            &["ColumnName"],
            &["ColumnType", "DataType"],
        )?;
        parsed.push((name, columns, cx.need(&tm, &["Rows"], *t)?));
    }
    let toc = parsed.last().filter(|(_, cols, _)| {
        ["Ordinal", "Kind", "Name"]
            .iter()
            .all(|n| cols.iter().any(|c| c.name == *n))
    });
    // (table index, name) of the results.
    let mut selected: Vec<(usize, String)> = Vec::new();
    match toc {
        Some((_, cols, rows)) => {
            let mut entries = Vec::new();
            // The table of contents is the response's own: never skipped.
            cx.rows(*rows, cols, 1, &mut entries, &mut Bad::new(false))?;
            for e in entries {
                let kind = e.fields.get("Kind").and_then(Value::as_str).unwrap_or("");
                if kind != "QueryResult" {
                    continue;
                }
                let ordinal = e.fields.get("Ordinal").and_then(Value::as_u64);
                let name = e.fields.get("Name").and_then(Value::as_str).unwrap_or("");
                match ordinal.and_then(|o| usize::try_from(o).ok()) {
                    Some(i) if i + 1 < parsed.len() => selected.push((i, name.to_string())),
                    _ => {
                        return Err(Error::Data(format!(
                            "{}: the table of contents lists result table {} that the response does not hold",
                            e.place(),
                            e.fields.get("Ordinal").map_or("?".into(), Value::to_string)
                        )));
                    }
                }
            }
        }
        None => {
            for (i, (name, _, _)) in parsed.iter().enumerate() {
                if !matches!(
                    name.as_str(),
                    "@ExtendedProperties" | "QueryStatus" | "TableOfContents"
                ) {
                    selected.push((i, name.clone()));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, name) in selected {
        let (_, columns, rows) = &parsed[i];
        let mut records = Vec::new();
        cx.rows(*rows, columns, 1, &mut records, bad)?;
        out.push(Chunk::records(
            useful_name(&name),
            source.clone(),
            records,
            columns.clone(),
        ));
    }
    Ok(out)
}

/// A v2 result table being assembled from its frames.
struct V2Table {
    id: Option<i64>,
    name: String,
    columns: Vec<Column>,
    records: Vec<Record>,
}

/// Kusto REST v2: the `DataTable` frames (or TableHeader + TableFragment
/// frames, progressive mode) whose `TableKind` is `PrimaryResult`. A
/// response that reports errors is an error: its results may be partial.
pub(crate) fn read_kusto_v2(
    file: &Arc<Path>,
    doc: &Doc,
    source: SourceFile,
    bad: &mut Bad,
) -> Result<Vec<Chunk>> {
    let cx = Ctx { file, doc };
    let top = single(file, doc)?;
    let mut tables: Vec<V2Table> = Vec::new();
    for frame in cx.items(top)? {
        let fm = cx.members(frame)?;
        let kind = match cx.get(&fm, &["FrameType"]) {
            Some(s) => cx.string(s)?,
            None => return Err(cx.error(frame.start, "a frame without `FrameType`")),
        };
        let table_id = |cx: &Ctx| -> Result<Option<i64>> {
            Ok(match cx.get(&fm, &["TableId"]) {
                Some(s) => cx.parse(s)?.as_i64(),
                None => None,
            })
        };
        let errors = |cx: &Ctx| -> Result<Option<String>> {
            Ok(match cx.get(&fm, &["OneApiErrors"]) {
                Some(s) => {
                    let v = cx.parse(s)?;
                    match &v {
                        Value::Array(a) if a.is_empty() => None,
                        Value::Null => None,
                        _ => Some(error_message(&v)),
                    }
                }
                None => None,
            })
        };
        match kind.as_str() {
            "DataTable" | "TableHeader" => {
                let table_kind = match cx.get(&fm, &["TableKind"]) {
                    Some(s) => cx.string(s)?,
                    None => String::new(),
                };
                if table_kind != "PrimaryResult" {
                    continue;
                }
                let name = match cx.get(&fm, &["TableName"]) {
                    Some(s) => cx.string(s)?,
                    None => String::new(),
                };
                let columns = cx.columns(
                    cx.need(&fm, &["Columns"], frame)?,
                    &["ColumnName"],
                    &["ColumnType"],
                )?;
                let mut records = Vec::new();
                if kind == "DataTable" {
                    cx.rows(
                        cx.need(&fm, &["Rows"], frame)?,
                        &columns,
                        1,
                        &mut records,
                        bad,
                    )?;
                }
                tables.push(V2Table {
                    id: table_id(&cx)?,
                    name,
                    columns,
                    records,
                });
            }
            "TableFragment" => {
                let id = table_id(&cx)?;
                // Fragments of tables that are not results are skipped.
                let Some(t) = tables.iter_mut().find(|t| t.id.is_some() && t.id == id) else {
                    continue;
                };
                let replace = match cx.get(&fm, &["TableFragmentType"]) {
                    Some(s) => cx.string(s)? == "DataReplace",
                    None => false,
                };
                if replace {
                    t.records.clear();
                }
                let first = t.records.len() + 1;
                let columns = t.columns.clone();
                cx.rows(
                    cx.need(&fm, &["Rows"], frame)?,
                    &columns,
                    first,
                    &mut t.records,
                    bad,
                )?;
            }
            "TableCompletion" | "DataSetCompletion" => {
                let has_errors = match cx.get(&fm, &["HasErrors"]) {
                    Some(s) => cx.parse(s)? == Value::Bool(true),
                    None => false,
                };
                if let Some(msg) = errors(&cx)? {
                    return Err(cx.error(
                        frame.start,
                        format!(
                            "the response reports an error (its results may be partial): {msg}"
                        ),
                    ));
                }
                if has_errors {
                    return Err(cx.error(
                        frame.start,
                        "the response reports errors (HasErrors); its results may be partial",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(tables
        .into_iter()
        .map(|t| Chunk::records(useful_name(&t.name), source.clone(), t.records, t.columns))
        .collect())
}

/// Defender advanced hunting API (`Schema`/`Results`) and Graph
/// runHuntingQuery (`schema`/`results`, `name`/`type` in either case):
/// rows are objects keyed by column name.
pub(crate) fn read_defender_api(
    file: &Arc<Path>,
    doc: &Doc,
    source: SourceFile,
    bad: &mut Bad,
) -> Result<Vec<Chunk>> {
    let cx = Ctx { file, doc };
    let top = single(file, doc)?;
    let m = cx.members(top)?;
    let columns = cx.columns(
        cx.need(&m, &["Schema", "schema"], top)?,
        &["Name", "name"],
        &["Type", "type"],
    )?;
    let mut records = Vec::new();
    for (k, item) in cx
        .items(cx.need(&m, &["Results", "results"], top)?)?
        .into_iter()
        .enumerate()
    {
        let line = doc.line_of(item.start);
        let row = Some(("row", k + 1));
        match doc.parse(item) {
            Ok(Value::Object(fields)) => records.push(Record {
                file: file.clone(),
                line,
                item: row,
                fields,
                kind: Kind::Json,
            }),
            Ok(other) => bad.found(
                BadRecord::at(
                    file,
                    line,
                    format!("row {}: expected an object, found {other}", k + 1),
                )
                .column(doc.column_of(item.start)),
            )?,
            Err(e) => bad_at(bad, file, doc, e, row)?,
        }
    }
    let mut chunk = Chunk::records(None, source, records, columns);
    chunk.defender = true;
    Ok(vec![chunk])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert_eq!(kql_type("System.SByte"), Some(ScalarType::Bool));
        assert_eq!(kql_type("DateTime"), Some(ScalarType::DateTime));
        assert_eq!(kql_type("Int64"), Some(ScalarType::Long));
        assert_eq!(kql_type("Object"), Some(ScalarType::Dynamic));
        assert_eq!(kql_type("timespan"), Some(ScalarType::Timespan));
        assert_eq!(kql_type("System.Guid"), Some(ScalarType::Guid));
        assert_eq!(kql_type("varchar"), None);
        assert_eq!(useful_name("PrimaryResult"), None);
        assert_eq!(useful_name("Table_3"), None);
        assert_eq!(useful_name("getschema").as_deref(), Some("getschema"));
    }
}
