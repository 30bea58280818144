//! Small reference tables read while a query is planned: Sentinel watchlist
//! CSV files (`_GetWatchlist`, planner/watchlist.rs) and the local files
//! `externaldata` URLs resolve to (planner/externaldata.rs). Errors name the
//! file and line.

use super::convert::TableBuilder;
use super::csv::{Row, records_sep};
use super::scan::Doc;
use crate::error::{Error, Result};
use crate::schema::Column;
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::Value;
use std::path::Path;

/// The layouts `externaldata` reads, by their Kusto ingestion format names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefFormat {
    /// Comma-separated values (RFC 4180 quoting).
    Csv,
    /// Tab-separated values.
    Tsv,
    /// `|`-separated values.
    Psv,
    /// `;`-separated values.
    Scsv,
    /// One record per line, the whole line in the first column.
    Txt,
    /// One JSON object per line.
    Json,
    /// JSON objects in any layout, or arrays of them.
    MultiJson,
}

impl RefFormat {
    /// The names [`RefFormat::from_name`] takes, for messages.
    pub const NAMES: &'static str = "csv, tsv, psv, scsv, txt, json, multijson";

    /// The format of a Kusto format name (any case).
    pub fn from_name(name: &str) -> Option<RefFormat> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "csv" => RefFormat::Csv,
            "tsv" => RefFormat::Tsv,
            "psv" => RefFormat::Psv,
            "scsv" => RefFormat::Scsv,
            "txt" => RefFormat::Txt,
            "json" => RefFormat::Json,
            "multijson" => RefFormat::MultiJson,
            _ => return None,
        })
    }

    /// The format a file name's extension suggests; CSV when it suggests
    /// none (the externaldata page: "If not specified, an attempt is made to
    /// detect the data format from file extension (defaults to CSV)").
    pub fn from_file_name(name: &str) -> RefFormat {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "tsv" => RefFormat::Tsv,
            "psv" => RefFormat::Psv,
            "scsv" => RefFormat::Scsv,
            "txt" => RefFormat::Txt,
            "json" => RefFormat::Json,
            "multijson" => RefFormat::MultiJson,
            _ => RefFormat::Csv,
        }
    }

    fn separator(self) -> Option<char> {
        match self {
            RefFormat::Csv => Some(','),
            RefFormat::Tsv => Some('\t'),
            RefFormat::Psv => Some('|'),
            RefFormat::Scsv => Some(';'),
            _ => None,
        }
    }
}

fn err(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Data(format!("{}: {msg}", path.display()))
}

/// A file's text (UTF-8, BOM dropped; gzip decompressed).
fn read_text(path: &Path) -> Result<String> {
    let raw = std::fs::read(path).map_err(|e| err(path, e))?;
    if raw.starts_with(b"PK\x03\x04") {
        return Err(err(
            path,
            "is a zip archive; kqlite does not read inside archives (extract the file)",
        ));
    }
    let (bytes, _) = super::input::decompressed(path, raw)?;
    super::input::utf8_text(path, bytes)
}

fn split(path: &Path, text: &str, sep: char) -> Result<Vec<Row>> {
    let rows = records_sep(text, sep)
        .map_err(|(line, m)| Error::Data(format!("{}:{line}: {m}", path.display())))?;
    // A blank line is no record.
    Ok(rows
        .into_iter()
        .filter(|(_, f)| !(f.len() == 1 && f[0].is_empty()))
        .collect())
}

/// A CSV file with a header row, after `skip` leading records (a
/// watchlist's numberOfLinesToSkip): the column names and the rows, every
/// row as long as the header.
pub fn read_csv_with_header(path: &Path, skip: usize) -> Result<(Vec<String>, Vec<Row>)> {
    let text = read_text(path)?;
    let mut rows = split(path, &text, ',')?.into_iter().skip(skip);
    let Some((line, header)) = rows.next() else {
        return Err(err(path, "the file is empty (a header row is needed)"));
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(Error::Data(format!(
                "{}:{line}: header field {} is empty",
                path.display(),
                i + 1
            )));
        }
        if names[..i].contains(n) {
            return Err(Error::Data(format!(
                "{}:{line}: the header names column `{n}` twice",
                path.display()
            )));
        }
    }
    let mut out = Vec::new();
    for (line, fields) in rows {
        if fields.len() != names.len() {
            return Err(Error::Data(format!(
                "{}:{line}: {} fields, the header has {}",
                path.display(),
                fields.len(),
                names.len()
            )));
        }
        out.push((line, fields));
    }
    Ok((names, out))
}

/// The rows of a file in `format`, typed by the declared columns:
/// delimited fields map to the columns by position (fields past the last
/// column are not read, columns past the last field are empty), every row
/// of a file having as many fields as its first; a `txt` line is the first
/// column; JSON properties map to the columns of their names. With
/// `ignore_first`, the file's first record is left out.
pub fn read_external(
    path: &Path,
    format: RefFormat,
    columns: &[Column],
    ignore_first: bool,
) -> Result<Vec<RecordBatch>> {
    let text = read_text(path)?;
    let mut b = TableBuilder::new(columns.to_vec()).map_err(|e| err(path, e))?;
    let place = |line: usize, e: String| Error::Data(format!("{}:{line}: {e}", path.display()));
    let skip = usize::from(ignore_first);
    match format {
        RefFormat::Txt => {
            for (i, l) in text.lines().enumerate().skip(skip) {
                let v = Value::String(l.strip_suffix('\r').unwrap_or(l).to_string());
                b.push(|c| (c == 0).then_some(&v))
                    .map_err(|e| place(i + 1, e))?;
            }
        }
        RefFormat::Json => {
            let mut first = true;
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(l).map_err(|e| {
                    place(
                        i + 1,
                        format!("{}: {}", e.column(), super::scan::message(&e)),
                    )
                })?;
                if std::mem::take(&mut first) && ignore_first {
                    continue;
                }
                push_object(&mut b, columns, &v).map_err(|e| place(i + 1, e))?;
            }
        }
        RefFormat::MultiJson => {
            let doc = Doc::new(&text);
            let at = |(pos, m): (usize, String)| {
                Error::Data(format!("{}:{}: {m}", path.display(), doc.place(pos)))
            };
            let mut objects = Vec::new();
            for span in doc.top_values().map_err(at)? {
                if doc.text.as_bytes().get(span.start) == Some(&b'[') {
                    for item in doc.array_items(span.start).map_err(at)? {
                        objects.push(item);
                    }
                } else {
                    objects.push(span);
                }
            }
            for span in objects.into_iter().skip(skip) {
                let v = doc.parse(span).map_err(at)?;
                push_object(&mut b, columns, &v).map_err(|e| place(doc.line_of(span.start), e))?;
            }
        }
        _ => {
            let sep = format.separator().unwrap_or(',');
            let rows = split(path, &text, sep)?;
            let width = rows.first().map_or(0, |r| r.1.len());
            for (line, fields) in rows.into_iter().skip(skip) {
                if fields.len() != width {
                    return Err(place(
                        line,
                        format!(
                            "{} fields, the file's first record has {width}",
                            fields.len()
                        ),
                    ));
                }
                let values: Vec<Value> = fields.into_iter().map(Value::String).collect();
                b.push(|c| values.get(c)).map_err(|e| place(line, e))?;
            }
        }
    }
    let (_, batches) = b.finish().map_err(|e| err(path, e))?;
    Ok(batches)
}

/// One JSON object's properties as a row of the declared columns.
fn push_object(
    b: &mut TableBuilder,
    columns: &[Column],
    v: &Value,
) -> std::result::Result<(), String> {
    let Value::Object(o) = v else {
        return Err("expected a JSON object per record".into());
    };
    b.push(|c| columns.get(c).and_then(|col| o.get(&col.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names() {
        assert_eq!(
            RefFormat::from_name("MultiJSON"),
            Some(RefFormat::MultiJson)
        );
        assert_eq!(RefFormat::from_name("parquet"), None);
        assert_eq!(RefFormat::from_file_name("a.TSV"), RefFormat::Tsv);
        assert_eq!(RefFormat::from_file_name("feed"), RefFormat::Csv);
        assert_eq!(RefFormat::from_file_name("top-1m.csv.zip"), RefFormat::Csv);
    }
}
