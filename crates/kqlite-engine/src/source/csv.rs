//! CSV exports (RFC 4180): a header row, quoted fields that may hold commas,
//! doubled quotes and line breaks, CRLF or LF, an optional UTF-8 BOM. The
//! portal's ` [UTC]` suffix on datetime headers is dropped (the column is a
//! datetime, its values in the portal's `4/28/2021, 3:05:26.000 PM` form or ISO).

use super::{Bad, BadRecord, Chunk, Kind, Record, SourceFile};
use crate::error::{Error, Result};
use crate::schema::Column;
use kqlite_syntax::ast::ScalarType;
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// A record's starting line and its fields.
pub(crate) type Row = (usize, Vec<String>);

/// Splits CSV text into records of fields, each with its starting line; an
/// error is (line, reason).
fn records(text: &str) -> std::result::Result<Vec<Row>, (usize, String)> {
    records_sep(text, ',')
}

/// [`records`] with another field separator (tab, `|`, `;`).
pub(crate) fn records_sep(text: &str, sep: char) -> std::result::Result<Vec<Row>, (usize, String)> {
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut quoted = false;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            c if c == sep => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                out.push((start_line, std::mem::take(&mut fields)));
                line += 1;
                start_line = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err((start_line, "a quoted field is not closed".into()));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        out.push((start_line, fields));
    }
    Ok(out)
}

/// Reads CSV text: the header names the columns (a ` [UTC]` suffix, as the
/// portal writes on datetime columns, is dropped and makes the column a
/// datetime); every field is text.
pub(crate) fn read(
    file: &Arc<Path>,
    text: &str,
    source: SourceFile,
    bad: &mut Bad,
) -> Result<Chunk> {
    let path = file.as_ref();
    let rows = records(text)
        .map_err(|(line, m)| Error::Data(format!("{}:{line}: {m}", path.display())))?;
    let mut rows = rows.into_iter();
    let Some((_, header)) = rows.next() else {
        return Ok(Chunk::records(None, source, Vec::new(), Vec::new()));
    };
    let mut declared = Vec::new();
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = h.trim();
            let h = match h.strip_suffix(" [UTC]") {
                Some(n) => {
                    declared.push(Column {
                        name: n.trim().to_string(),
                        ty: ScalarType::DateTime,
                    });
                    n.trim()
                }
                None => h,
            };
            if h.is_empty() {
                format!("Column{}", i + 1)
            } else {
                h.to_string()
            }
        })
        .collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(Error::Data(format!(
                "{}:1: the header names column `{n}` twice",
                path.display()
            )));
        }
    }
    let mut out = Vec::new();
    for (line, fields) in rows {
        if fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        if fields.len() != names.len() {
            bad.found(BadRecord::at(
                path,
                line,
                format!("{} fields, the header has {}", fields.len(), names.len()),
            ))?;
            continue;
        }
        let mut map = Map::new();
        for (n, f) in names.iter().zip(fields) {
            map.insert(n.clone(), Value::String(f));
        }
        out.push(Record {
            file: file.clone(),
            line,
            item: None,
            fields: map,
            kind: Kind::Text,
        });
    }
    Ok(Chunk::records(None, source, out, declared))
}

#[cfg(test)]
mod tests {
    use super::records;

    #[test]
    fn quoting_and_line_breaks() {
        let r = records("a,b\r\n\"x,\"\"y\"\"\",\"multi\nline\"\n1,2").expect("valid csv");
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[1].1,
            vec!["x,\"y\"".to_string(), "multi\nline".to_string()]
        );
        assert_eq!(r[2].0, 4);
        assert!(records("a\n\"open").is_err());
    }
}
