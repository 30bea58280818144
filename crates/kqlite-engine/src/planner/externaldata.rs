//! `externaldata (a:type, ...) [ "url", ... ] [with (format=..., ignoreFirstRecord=...)]`
//! over local files: nothing is ever downloaded. Each URL resolves in the
//! folder given to the session (`Session::set_externaldata`, the CLI's
//! `--externaldata DIR`):
//!
//! 1. `DIR/externaldata.json`, when present, maps URLs to files
//!    (`{"https://host/feed.csv": "feeds/feed.csv"}`, paths relative to DIR);
//!    a URL is looked up as written, then without its `?query` and
//!    `#fragment`;
//! 2. else the file named after the URL's last non-empty path segment
//!    (query and fragment dropped, `%XX` escapes decoded):
//!    `https://host/Feeds/Tarrask.csv?sv=...` is `DIR/Tarrask.csv`.
//!
//! An unresolved URL is an error under the URL naming the file looked for.
//!
//! Properties (the externaldata page): `format` (csv, tsv, psv, scsv, txt,
//! json, multijson here; without it the file name's extension decides,
//! defaulting to CSV) and `ignoreFirstRecord`. Other formats and
//! properties (`ingestionMapping`, `zipPattern`, ...) are rejected by name.
//! Delimited fields map to the declared columns by position; JSON
//! properties by name; a `txt` line is the first column.
//!
//! A session that only binds queries (`kqlite check`) and has no folder
//! takes the declared columns without reading anything.

use super::watchlist::memory_relation;
use super::{Planner, Relation};
use crate::error::{Error, Result, codes};
use crate::schema::Column;
use crate::source::RefFormat;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use kqlite_syntax::ast::{self, ScalarType};
use kqlite_syntax::{Diagnostic, Span};
use std::path::{Path, PathBuf};

/// The mapping file's name in the externaldata folder.
const MAPPING: &str = "externaldata.json";

impl Planner<'_> {
    pub(crate) fn plan_externaldata(
        &mut self,
        decls: &[ast::ColumnDecl],
        uris: &[ast::Expr],
        properties: &[ast::Property],
        span: Span,
    ) -> Result<Relation> {
        if decls.is_empty() {
            return Err(Error::invalid(
                span,
                "externaldata needs at least one column",
            ));
        }
        let mut columns: Vec<Column> = Vec::with_capacity(decls.len());
        for d in decls {
            if columns.iter().any(|c| c.name == d.name.name) {
                return Err(Error::invalid(
                    d.span,
                    format!("column `{}` is declared twice", d.name.name),
                ));
            }
            columns.push(Column {
                name: d.name.name.clone(),
                ty: d.ty,
            });
        }
        if uris.is_empty() {
            return Err(Error::invalid(span, "externaldata needs at least one URL"));
        }
        let mut format: Option<RefFormat> = None;
        let mut ignore_first = false;
        for p in properties {
            let [value] = p.values.as_slice() else {
                return Err(Error::invalid(
                    p.name.span,
                    format!("property `{}` takes one value", p.name.name),
                ));
            };
            match p.name.name.to_ascii_lowercase().as_str() {
                "format" => {
                    let name = self.constant_text(value, "the format's name")?;
                    format = Some(RefFormat::from_name(&name).ok_or_else(|| {
                        Error::unsupported(
                            value.span,
                            format!(
                                "externaldata format `{name}` (kqlite reads {})",
                                RefFormat::NAMES
                            ),
                        )
                    })?);
                }
                "ignorefirstrecord" => {
                    let empty = self.empty_relation()?;
                    ignore_first = match self.scalar(value, &empty)? {
                        (Expr::Literal(ScalarValue::Boolean(Some(b)), _), ScalarType::Bool) => b,
                        _ => {
                            return Err(Error::invalid(
                                value.span,
                                "`ignoreFirstRecord` takes true or false",
                            ));
                        }
                    };
                }
                _ => {
                    return Err(Error::unsupported(
                        p.name.span,
                        format!("externaldata property `{}`", p.name.name),
                    ));
                }
            }
        }
        let dir = self.catalog.externaldata().map(Path::to_path_buf);
        if dir.is_none() && self.catalog.binding_only() {
            // Checking a query: the columns are declared, no file is read.
            return super::operator::empty_table(columns, span);
        }
        let Some(dir) = dir else {
            let msg = "externaldata reads local files only: give the folder holding them with --externaldata DIR";
            return Err(Error::Query(
                Diagnostic::new(codes::INVALID, msg).with_label(span, "needs --externaldata DIR"),
            ));
        };
        let mapping = read_mapping(&dir)?;
        let mut batches = Vec::new();
        for u in uris {
            let url = self.constant_text(u, "a URL")?;
            let file = resolve(&dir, mapping.as_ref(), &url, u.span)?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let f = format.unwrap_or_else(|| RefFormat::from_file_name(&name));
            batches.extend(crate::source::read_external(
                &file,
                f,
                &columns,
                ignore_first,
            )?);
        }
        memory_relation("externaldata", columns, batches, span)
    }
}

/// URL -> file entries of `DIR/externaldata.json`, if the folder has one.
type Mapping = serde_json::Map<String, serde_json::Value>;

fn read_mapping(dir: &Path) -> Result<Option<Mapping>> {
    let path = dir.join(MAPPING);
    if !path.is_file() {
        return Ok(None);
    }
    let bad = |m: String| Error::Data(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(m)) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                return Err(bad(format!(
                    "`{k}` must map to a file name (a string)"
                )));
            }
            Ok(Some(m))
        }
        Ok(_) => Err(bad(
            "expected an object mapping URLs to files, such as {\"https://host/feed.csv\": \"feed.csv\"}"
                .into(),
        )),
        Err(e) => Err(bad(format!("not JSON: {e}"))),
    }
}

/// The URL without its `?query` and `#fragment`.
fn strip_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// The URL's last non-empty path segment, `%XX` escapes decoded.
fn last_segment(url: &str) -> Option<String> {
    let path = strip_query(url);
    // Past `scheme://host`: a URL that is only a host has no file name.
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => path,
    };
    let seg = path.split('/').rev().find(|s| !s.is_empty())?;
    let seg = percent_decode(seg);
    (!seg.is_empty() && seg != "." && seg != ".." && !seg.contains(['/', '\\'])).then_some(seg)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The local file a URL stands for, or an error under the URL.
fn resolve(dir: &Path, mapping: Option<&Mapping>, url: &str, span: Span) -> Result<PathBuf> {
    let unresolved = |looked: String| {
        Error::Query(
            Diagnostic::new(
                codes::INVALID,
                format!("externaldata: no local file for `{url}`"),
            )
            .with_label(span, format!("looked for {looked}"))
            .with_help(format!(
                "put the file there, or map the URL to a file in {}",
                dir.join(MAPPING).display()
            )),
        )
    };
    if let Some(m) = mapping {
        let entry = m.get(url).or_else(|| m.get(strip_query(url)));
        if let Some(file) = entry.and_then(serde_json::Value::as_str) {
            let path = dir.join(file);
            if path.is_file() {
                return Ok(path);
            }
            return Err(unresolved(format!(
                "{} (as {} maps it)",
                path.display(),
                MAPPING
            )));
        }
    }
    match last_segment(url) {
        Some(seg) => {
            let path = dir.join(&seg);
            if path.is_file() {
                Ok(path)
            } else {
                Err(unresolved(path.display().to_string()))
            }
        }
        None => Err(unresolved(format!(
            "an entry in {} (the URL names no file)",
            dir.join(MAPPING).display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_of_urls() {
        assert_eq!(
            last_segment(
                "https://raw.githubusercontent.com/Azure/Azure-Sentinel/master/Sample%20Data/Feeds/Tarrask.csv"
            )
            .as_deref(),
            Some("Tarrask.csv")
        );
        assert_eq!(
            last_segment("https://bazaar.abuse.ch/export/txt/sha256/recent/").as_deref(),
            Some("recent")
        );
        assert_eq!(
            last_segment("https://acct.blob.core.windows.net/c/users%20list.txt?sv=1&sig=x#f")
                .as_deref(),
            Some("users list.txt")
        );
        assert_eq!(last_segment("https://example.com"), None);
        assert_eq!(last_segment("https://example.com/"), None);
        assert_eq!(last_segment("https://example.com/a/.."), None);
        assert_eq!(last_segment("https://example.com/a%2Fb"), None);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
    }
}
