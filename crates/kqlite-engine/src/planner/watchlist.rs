//! `_GetWatchlist('alias')`: a Microsoft Sentinel watchlist, read offline
//! from `<alias>.csv` in the folder given to the session
//! (`Session::set_watchlists`, the CLI's `--watchlists DIR`).
//!
//! Sentinel keeps watchlist items in the Watchlist table (`_DTItemId`
//! string, `LastUpdatedTimeUTC` datetime, `SearchKey` string, the item's
//! fields in the dynamic `WatchlistItem`); `_GetWatchlist` returns the
//! current items with `WatchlistItem` unpacked into columns. So the result
//! here is `_DTItemId`, `LastUpdatedTimeUTC`, `SearchKey`, then the CSV's
//! columns in file order, every one a string (watchlist items are
//! uploaded as CSV text; convert with toint(), todatetime(), ...).
//!
//! Offline stand-ins: `SearchKey` is the value of the watchlist's search key
//! column, named in an optional `<alias>.json` beside the CSV
//! (`{"searchKey": "Column"}`; `itemsSearchKey`, the watchlist resource's
//! property name, and `numberOfLinesToSkip`, lines before the header, are
//! read too, also inside a `properties` object as the REST API returns a
//! watchlist), else the first column. `_DTItemId` is a GUID made from the
//! alias and the row's number (the same on every run), `LastUpdatedTimeUTC`
//! the CSV file's modification time.

use super::{Planner, Relation};
use crate::error::{Error, Result, codes};
use crate::schema::Column;
use datafusion::arrow::array::{ArrayRef, StringArray, TimestampNanosecondArray};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use kqlite_syntax::ast::{self, ScalarType};
use kqlite_syntax::suggest::did_you_mean;
use kqlite_syntax::{Diagnostic, Span};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// The columns `_GetWatchlist` puts before the watchlist's own.
const ADDED: [(&str, ScalarType); 3] = [
    ("_DTItemId", ScalarType::String),
    ("LastUpdatedTimeUTC", ScalarType::DateTime),
    ("SearchKey", ScalarType::String),
];

impl Planner<'_> {
    /// `_GetWatchlist(alias)`.
    pub(super) fn plan_watchlist(&mut self, args: &[ast::Arg], e: &ast::Expr) -> Result<Relation> {
        let [arg] = args else {
            return Err(Error::invalid(
                e.span,
                "`_GetWatchlist` takes one argument: the watchlist's alias",
            ));
        };
        if let Some(n) = &arg.name
            && n.name != "watchlistAlias"
        {
            return Err(Error::invalid(
                n.span,
                format!("`_GetWatchlist` has no parameter `{}`", n.name),
            ));
        }
        let alias = self.constant_text(&arg.value, "the watchlist's alias")?;
        let Some(dir) = self.catalog.watchlists().map(Path::to_path_buf) else {
            let msg = "no watchlist folder: `_GetWatchlist` reads `<alias>.csv` from the folder given with --watchlists DIR";
            return Err(Error::Query(
                Diagnostic::new(codes::INVALID, msg).with_label(e.span, "needs --watchlists DIR"),
            ));
        };
        let present = watchlists_in(&dir)?;
        if !present.contains(&alias) {
            let mut d =
                Diagnostic::new(codes::UNKNOWN_TABLE, format!("unknown watchlist `{alias}`"))
                    .with_label(
                        arg.value.span,
                        format!("no {alias}.csv in {}", dir.display()),
                    );
            d = match did_you_mean(&alias, present.iter().map(String::as_str)) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None if present.is_empty() => d.with_help(format!(
                    "{} holds no watchlists (`<alias>.csv` files)",
                    dir.display()
                )),
                None => d.with_help(format!("the watchlists are: {}", present.join(", "))),
            };
            return Err(Error::Query(d));
        }
        let csv = dir.join(format!("{alias}.csv"));
        let settings = Settings::read(&dir.join(format!("{alias}.json")))?;
        let (header, rows) = crate::source::read_csv_with_header(&csv, settings.skip)?;
        for (name, _) in ADDED {
            if header.iter().any(|h| h == name) {
                return Err(Error::Data(format!(
                    "{}: column `{name}` has the name of a column `_GetWatchlist` adds; rename it",
                    csv.display()
                )));
            }
        }
        let key = match &settings.search_key {
            Some(k) => header.iter().position(|h| h == k).ok_or_else(|| {
                Error::Data(format!(
                    "{}: the search key `{k}` is not a column of {} (its columns: {})",
                    dir.join(format!("{alias}.json")).display(),
                    csv.display(),
                    header.join(", ")
                ))
            })?,
            None => 0,
        };
        let updated = std::fs::metadata(&csv)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_nanos()).ok());
        let mut columns: Vec<Column> = ADDED
            .iter()
            .map(|(n, ty)| Column {
                name: n.to_string(),
                ty: *ty,
            })
            .collect();
        columns.extend(header.iter().map(|h| Column {
            name: h.clone(),
            ty: ScalarType::String,
        }));
        let ids: StringArray = (0..rows.len()).map(|i| Some(item_id(&alias, i))).collect();
        let times = TimestampNanosecondArray::from(vec![updated; rows.len()]).with_timezone("UTC");
        let keys: StringArray = rows.iter().map(|(_, f)| Some(f[key].as_str())).collect();
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(ids), Arc::new(times), Arc::new(keys)];
        for i in 0..header.len() {
            let col: StringArray = rows.iter().map(|(_, f)| Some(f[i].as_str())).collect();
            arrays.push(Arc::new(col));
        }
        let batch = RecordBatch::try_new(crate::types::arrow_schema(&columns), arrays)
            .map_err(|err| Error::Data(format!("{}: {err}", csv.display())))?;
        memory_relation(
            &format!("_GetWatchlist('{alias}')"),
            columns,
            vec![batch],
            e.span,
        )
    }

    /// The value of a constant string argument (a literal or a `let` of
    /// one), or an error naming what it stands for.
    pub(super) fn constant_text(&mut self, x: &ast::Expr, what: &str) -> Result<String> {
        let empty = self.empty_relation()?;
        match self.scalar(x, &empty)? {
            (Expr::Literal(ScalarValue::Utf8(Some(s)), _), ScalarType::String) => Ok(s),
            _ => Err(Error::invalid(
                x.span,
                format!("expected {what} as a constant string"),
            )),
        }
    }
}

/// The aliases of the watchlists in a folder: its `.csv` files' names
/// without the extension, sorted.
fn watchlists_in(dir: &Path) -> Result<Vec<String>> {
    let list = std::fs::read_dir(dir)
        .map_err(|e| Error::Data(format!("--watchlists {}: {e}", dir.display())))?;
    let mut out: Vec<String> = list
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".csv").map(str::to_string)
        })
        .filter(|n| !n.is_empty() && !n.starts_with('.'))
        .collect();
    out.sort();
    Ok(out)
}

/// What `<alias>.json` says about a watchlist.
#[derive(Default)]
struct Settings {
    search_key: Option<String>,
    skip: usize,
}

impl Settings {
    fn read(path: &Path) -> Result<Settings> {
        if !path.is_file() {
            return Ok(Settings::default());
        }
        let bad = |m: String| Error::Data(format!("{}: {m}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Value::Object(top) = &v else {
            return Err(bad(
                "expected an object such as {\"searchKey\": \"Column\"}".into(),
            ));
        };
        // Keys at the top or in `properties` (a watchlist resource), any case.
        let get = |names: &[&str]| -> Option<&Value> {
            let props = top.get("properties").and_then(Value::as_object);
            [Some(top), props].into_iter().flatten().find_map(|o| {
                o.iter()
                    .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
                    .map(|(_, v)| v)
            })
        };
        let search_key = match get(&["searchKey", "itemsSearchKey"]) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("`searchKey` must be a column name (a string)".into())),
        };
        let skip = match get(&["numberOfLinesToSkip"]) {
            None => 0,
            Some(n) => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad("`numberOfLinesToSkip` must be a whole number".into()))?,
        };
        Ok(Settings { search_key, skip })
    }
}

/// A GUID-shaped item id from the alias and the row's number: two FNV-1a
/// hashes of them, so it is the same on every run.
fn item_id(alias: &str, row: usize) -> String {
    fn fnv(seed: u64, bytes: &[u8]) -> u64 {
        bytes.iter().fold(seed, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
    let text = format!("{alias}\u{0}{row}");
    let a = fnv(0xcbf2_9ce4_8422_2325, text.as_bytes());
    let b = fnv(a ^ 0x9e37_79b9_7f4a_7c15, text.as_bytes());
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Batches held in memory as a relation, scanned under `label`.
pub(super) fn memory_relation(
    label: &str,
    columns: Vec<Column>,
    batches: Vec<RecordBatch>,
    span: Span,
) -> Result<Relation> {
    let table = MemTable::try_new(crate::types::arrow_schema(&columns), vec![batches])
        .map_err(|err| Error::plan(span, err))?;
    let plan = LogicalPlanBuilder::scan(
        TableReference::bare(label),
        provider_as_source(Arc::new(table)),
        None,
    )
    .and_then(|b| b.build())
    .map_err(|err| Error::plan(span, err))?;
    Ok(Relation { plan, columns })
}

#[cfg(test)]
mod tests {
    use super::item_id;

    #[test]
    fn item_ids_are_stable_guids() {
        let a = item_id("HighValueAssets", 0);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(a, item_id("HighValueAssets", 0));
        assert_ne!(a, item_id("HighValueAssets", 1));
        assert_ne!(a, item_id("Other", 0));
    }
}
