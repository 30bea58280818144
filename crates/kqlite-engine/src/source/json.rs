//! JSON inputs made of keyed records: JSON lines (and data-export blobs),
//! one JSON array of objects, `az monitor log-analytics query` output and
//! Defender XDR streaming envelopes. Telling them apart from the API
//! responses (`response.rs`) happens here too.

use super::response::{error_message, useful_name};
use super::scan::{Doc, ScanError, Span, message};
use super::{Bad, BadRecord, Chunk, Format, Kind, Record, SourceFile};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// `file:LINE:COL: msg` for an offset in the document.
pub(crate) fn err_at(file: &Path, doc: &Doc, (pos, msg): ScanError) -> Error {
    Error::Data(format!("{}:{}: {msg}", file.display(), doc.place(pos)))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Object(_) => "an object",
        Value::Null => "null",
    }
}

/// The format of a JSON text whose first value starts at `start`, from
/// that value's first keys. An error response is an error.
pub(crate) fn detect(doc: &Doc, start: usize) -> std::result::Result<Format, String> {
    let text = doc.text.as_bytes();
    if text.get(start) == Some(&b'[') {
        let first = doc.skip_ws(start + 1);
        if text.get(first) != Some(&b'{') {
            return Ok(Format::JsonArray);
        }
        let Ok(members) = doc.object_members(first) else {
            return Ok(Format::JsonArray);
        };
        if members.iter().any(|(k, _)| k == "FrameType") {
            return Ok(Format::KustoV2);
        }
        let all_strings = members
            .iter()
            .all(|(_, s)| text.get(s.start) == Some(&b'"'));
        if all_strings && members.iter().any(|(k, _)| k == "TableName") {
            return Ok(Format::AzCli);
        }
        return Ok(Format::JsonArray);
    }
    let Ok(members) = doc.object_members(start) else {
        // Malformed: the JSON lines reader names the place.
        return Ok(Format::JsonLines);
    };
    let has = |k: &str| members.iter().any(|(m, _)| m == k);
    let value = |k: &str| {
        members
            .iter()
            .find(|(m, _)| m == k)
            .and_then(|(_, s)| doc.parse(*s).ok())
    };
    if has("error") && members.len() == 1 {
        let v = value("error").unwrap_or(Value::Null);
        return Err(format!(
            "the file holds an error response, not data: {}",
            error_message(&v)
        ));
    }
    if has("tables") {
        return Ok(Format::LaQueryApi);
    }
    if has("Tables") {
        return Ok(Format::KustoV1);
    }
    if (has("Schema") || has("schema")) && (has("Results") || has("results")) {
        return Ok(Format::DefenderApi);
    }
    if has("records") {
        return Ok(Format::DefenderStreaming);
    }
    if has("properties")
        && value("category")
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|c| defender_table(c).is_some())
    {
        return Ok(Format::DefenderStreaming);
    }
    Ok(Format::JsonLines)
}

/// The table of a Defender streaming category `AdvancedHunting-<Table>`.
fn defender_table(category: &str) -> Option<&str> {
    const PREFIX: &str = "advancedhunting-";
    let head = category.get(..PREFIX.len())?;
    head.eq_ignore_ascii_case(PREFIX)
        .then(|| &category[PREFIX.len()..])
        .filter(|t| !t.is_empty())
}

fn object_record(
    file: &Arc<Path>,
    line: usize,
    item: Option<(&'static str, usize)>,
    v: Value,
    kind: Kind,
) -> std::result::Result<Record, String> {
    match v {
        Value::Object(fields) => Ok(Record {
            file: file.clone(),
            line,
            item,
            fields,
            kind,
        }),
        other => Err(format!(
            "expected a JSON object per record, found {}",
            kind_of(&other)
        )),
    }
}

/// JSON lines: one object per line. A file whose first object spans lines
/// is read as JSON objects one after another.
pub(crate) fn read_lines(
    file: &Arc<Path>,
    doc: &Doc,
    source: SourceFile,
    bad: &mut Bad,
) -> Result<Vec<Chunk>> {
    let start = doc.skip_ws(0);
    let one_per_line = match doc.value_end(start) {
        Ok(end) => doc.line_of(start) == doc.line_of(end.saturating_sub(1).max(start)),
        Err(_) => true,
    };
    let mut out = Vec::new();
    if one_per_line {
        for (i, line) in doc.text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    bad.found(BadRecord::at(file, i + 1, message(&e)).column(e.column()))?;
                    continue;
                }
            };
            match object_record(file, i + 1, None, v, Kind::Json) {
                Ok(r) => out.push(r),
                Err(m) => bad.found(BadRecord::at(file, i + 1, m))?,
            }
        }
    } else {
        // Objects spanning lines: a syntax error leaves no place to go on
        // from, so it is an error even when skipping.
        for span in doc.top_values().map_err(|e| err_at(file, doc, e))? {
            let line = doc.line_of(span.start);
            let v = match doc.parse(span) {
                Ok(v) => v,
                Err(e) => {
                    bad_at(bad, file, doc, e, None)?;
                    continue;
                }
            };
            match object_record(file, line, None, v, Kind::Json) {
                Ok(r) => out.push(r),
                Err(m) => bad.found(BadRecord::at(file, line, m))?,
            }
        }
    }
    Ok(vec![Chunk::records(None, source, out, Vec::new())])
}

/// A value that does not parse, at an offset of the document: skipped or
/// the error.
pub(crate) fn bad_at(
    bad: &mut Bad,
    file: &Path,
    doc: &Doc,
    (pos, msg): ScanError,
    item: Option<(&'static str, usize)>,
) -> Result<()> {
    bad.found(
        BadRecord::at(file, doc.line_of(pos), msg)
            .column(doc.column_of(pos))
            .item(item),
    )
}

/// The one top-level value of a document.
pub(crate) fn single(file: &Path, doc: &Doc) -> Result<Span> {
    let values = doc.top_values().map_err(|e| err_at(file, doc, e))?;
    match values.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::Data(format!(
            "{}: the file is empty",
            file.display()
        ))),
        [_, second, ..] => Err(err_at(
            file,
            doc,
            (second.start, "more JSON follows the document".into()),
        )),
    }
}

/// Groups records by table name in first-seen order.
fn group(groups: &mut Vec<(Option<String>, Vec<Record>)>, name: Option<String>, r: Record) {
    match groups.iter_mut().find(|g| g.0 == name) {
        Some(g) => g.1.push(r),
        None => groups.push((name, vec![r])),
    }
}

/// One JSON array of objects; for `az` output (`azcli`), every value is
/// Python's `str()` of the value and `TableName` names the table.
pub(crate) fn read_array(
    file: &Arc<Path>,
    doc: &Doc,
    source: SourceFile,
    azcli: bool,
    bad: &mut Bad,
) -> Result<Vec<Chunk>> {
    let top = single(file, doc)?;
    let items = doc
        .array_items(top.start)
        .map_err(|e| err_at(file, doc, e))?;
    let kind = if azcli { Kind::AzCli } else { Kind::Json };
    let mut groups: Vec<(Option<String>, Vec<Record>)> = Vec::new();
    for (k, span) in items.iter().enumerate() {
        let line = doc.line_of(span.start);
        let item = Some(("record", k + 1));
        let v = match doc.parse(*span) {
            Ok(v) => v,
            Err(e) => {
                bad_at(bad, file, doc, e, item)?;
                continue;
            }
        };
        let mut r = match object_record(file, line, item, v, kind) {
            Ok(r) => r,
            Err(m) => {
                bad.found(BadRecord::at(file, line, m).item(item))?;
                continue;
            }
        };
        let name = if azcli {
            match r.fields.remove("TableName") {
                Some(Value::String(t)) => useful_name(&t),
                Some(other) => {
                    let m = format!("`TableName` is {}, not a string", kind_of(&other));
                    bad.found(BadRecord::at(file, line, m).item(item))?;
                    continue;
                }
                None => None,
            }
        } else {
            None
        };
        group(&mut groups, name, r);
    }
    if groups.is_empty() {
        groups.push((None, Vec::new()));
    }
    Ok(groups
        .into_iter()
        .map(|(name, records)| Chunk::records(name, source.clone(), records, Vec::new()))
        .collect())
}

/// Defender XDR streaming: `{"records":[...]}` envelopes or bare records,
/// one after another (one per line in storage blobs). Each record's row is
/// its `properties`, its table the `category` after `AdvancedHunting-`;
/// the envelope fields (time, tenantId, operationName) are not columns.
pub(crate) fn read_defender(
    file: &Arc<Path>,
    doc: &Doc,
    source: SourceFile,
    bad: &mut Bad,
) -> Result<Vec<Chunk>> {
    let mut groups: Vec<(Option<String>, Vec<Record>)> = Vec::new();
    let mut take = |v: Value,
                    line: usize,
                    item: Option<(&'static str, usize)>|
     -> std::result::Result<(), String> {
        let Value::Object(mut outer) = v else {
            return Err(format!(
                "expected a Defender streaming record, found {}",
                kind_of(&v)
            ));
        };
        let category = match outer.get("category") {
            Some(Value::String(c)) => c.clone(),
            Some(other) => return Err(format!("`category` is {}, not a string", kind_of(other))),
            None => return Err("the record has no `category`".into()),
        };
        let Some(table) = defender_table(&category) else {
            return Err(format!(
                "`category` is `{category}`, not `AdvancedHunting-<Table>` (only Defender XDR advanced hunting streams are read)"
            ));
        };
        let fields: Map<String, Value> = match outer.remove("properties") {
            Some(Value::Object(p)) => p,
            Some(other) => {
                return Err(format!(
                    "`properties` is {}, not an object",
                    kind_of(&other)
                ));
            }
            None => return Err("the record has no `properties`".into()),
        };
        let r = Record {
            file: file.clone(),
            line,
            item,
            fields,
            kind: Kind::Json,
        };
        group(&mut groups, Some(table.to_string()), r);
        Ok(())
    };
    for span in doc.top_values().map_err(|e| err_at(file, doc, e))? {
        let line = doc.line_of(span.start);
        let envelope = doc.text.as_bytes().get(span.start) == Some(&b'{')
            && doc
                .object_members(span.start)
                .map_err(|e| err_at(file, doc, e))?
                .iter()
                .any(|(k, _)| k == "records");
        if envelope {
            let members = doc
                .object_members(span.start)
                .map_err(|e| err_at(file, doc, e))?;
            let Some((_, records)) = members.iter().find(|(k, _)| k == "records") else {
                continue;
            };
            let items = doc
                .array_items(records.start)
                .map_err(|e| err_at(file, doc, e))?;
            for (k, it) in items.iter().enumerate() {
                let line = doc.line_of(it.start);
                let item = Some(("record", k + 1));
                match doc.parse(*it) {
                    Ok(v) => {
                        if let Err(m) = take(v, line, item) {
                            bad.found(BadRecord::at(file, line, m).item(item))?;
                        }
                    }
                    Err(e) => bad_at(bad, file, doc, e, item)?,
                }
            }
        } else {
            match doc.parse(span) {
                Ok(v) => {
                    if let Err(m) = take(v, line, None) {
                        bad.found(BadRecord::at(file, line, m))?;
                    }
                }
                Err(e) => bad_at(bad, file, doc, e, None)?,
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(name, records)| {
            let mut c = Chunk::records(name, source.clone(), records, Vec::new());
            c.defender = true;
            c
        })
        .collect())
}
