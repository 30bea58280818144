//! Kernels over `dynamic` values held as JSON text: property and element
//! access, array_length.

use super::kernels::*;
use super::{I64, Register, UTF8};
use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use serde_json::Value;

pub(crate) fn parse(text: Option<&str>) -> Option<Value> {
    serde_json::from_str(text?).ok()
}

/// A dynamic result: null stays a null value (not the JSON text `null`).
fn emit(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.to_string()),
    }
}

/// The JSON text of property `key` of the object `text` holds (the last
/// one if the key repeats), sliced out of `text` without building the
/// value. None when `text` is not a JSON object, has no such property, or
/// the property is null. Dynamic values are stored as compact JSON, so the
/// slice is the value's compact text.
pub(crate) fn raw_property<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    // The scan compares key bytes: a name whose JSON text differs from
    // its bytes is found by jiter.
    if key.contains(['"', '\\']) {
        return raw_property_checked(text, key);
    }
    match compact_member(text.as_bytes(), key.as_bytes()) {
        Scan::Found(s, e) => text.get(s..e).filter(|v| *v != "null"),
        Scan::Absent => None,
        Scan::Unsure => raw_property_checked(text, key),
    }
}

/// What the compact scan found.
enum Scan {
    Found(usize, usize),
    Absent,
    /// Not in the compact form, or a key with escapes: ask jiter.
    Unsure,
}

/// The value span of `key` in a compact JSON object (types.rs: no
/// blanks, unique keys), found by a structural scan that decodes nothing.
fn compact_member(b: &[u8], key: &[u8]) -> Scan {
    if b.first() != Some(&b'{') {
        return if b
            .first()
            .is_some_and(|c| matches!(c, b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'))
        {
            Scan::Absent
        } else {
            Scan::Unsure
        };
    }
    let mut i = 1;
    if b.get(i) == Some(&b'}') {
        return Scan::Absent;
    }
    // The last value of the key (as serde_json keeps a repeated key; the
    // compact form has none, but the scan does not rely on it).
    let mut found = None;
    loop {
        if b.get(i) != Some(&b'"') {
            return Scan::Unsure;
        }
        // The key looked for, when its bytes are there followed by the
        // closing quote (`key` has no quote or backslash: see the caller);
        // any other key is scanned to its end.
        let wanted =
            b.get(i + 1 + key.len()) == Some(&b'"') && same_key(&b[i + 1..i + 1 + key.len()], key);
        let kend = if wanted {
            i + 2 + key.len()
        } else {
            match key_end(b, i) {
                Some((kend, false)) => kend,
                _ => return Scan::Unsure,
            }
        };
        i = kend;
        if b.get(i) != Some(&b':') {
            return Scan::Unsure;
        }
        let start = i + 1;
        let Some(end) = value_end(b, start) else {
            return Scan::Unsure;
        };
        if wanted {
            found = Some((start, end));
        }
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b'}') if end + 1 == b.len() => {
                return found.map_or(Scan::Absent, |(s, e)| Scan::Found(s, e));
            }
            _ => return Scan::Unsure,
        }
    }
}

use crate::source::compact::{key_end, same_key, value_end as value_end_at};

/// The index after the compact JSON value starting at `b[i]`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    value_end_at(b, i, 0)
}

/// The elements of a compact JSON array as spans; None when `b` is not
/// one.
fn compact_elements(b: &[u8]) -> Option<Vec<(usize, usize)>> {
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    if b.get(i) == Some(&b']') {
        return (b.len() == 2).then_some(out);
    }
    loop {
        let end = value_end(b, i)?;
        out.push((i, end));
        match b.get(end) {
            Some(b',') => i = end + 1,
            Some(b']') => return (end + 1 == b.len()).then_some(out),
            _ => return None,
        }
    }
}

/// [`raw_property`] for text that may not be in the compact form.
fn raw_property_checked<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    use jiter::{Jiter, Peek};
    let mut j = Jiter::new(text.as_bytes());
    if j.peek().ok()? != Peek::Object {
        return None;
    }
    let mut found = None;
    let mut next = j.known_object().ok()?.map(|name| name == key);
    while let Some(hit) = next {
        let (start, end) = skip_value(&mut j)?;
        if hit {
            found = Some((start, end));
        }
        next = j.next_key().ok()?.map(|name| name == key);
    }
    j.finish().ok()?;
    value_slice(text, found?)
}

/// The JSON text of element `i` of the array `text` holds (negative counts
/// from the end); None when out of range, not an array, or null.
pub(crate) fn raw_element(text: &str, i: i64) -> Option<&str> {
    use jiter::{Jiter, Peek};
    let mut j = Jiter::new(text.as_bytes());
    if j.peek().ok()? != Peek::Array {
        return None;
    }
    let mut spans = Vec::new();
    let mut next = j.known_array().ok()?;
    while next.is_some() {
        spans.push(skip_value(&mut j)?);
        next = j.array_step().ok()?;
    }
    j.finish().ok()?;
    let k = if i < 0 { spans.len() as i64 + i } else { i };
    value_slice(text, *spans.get(usize::try_from(k).ok()?)?)
}

/// Skips the next value; the byte range it took (with any separator before it).
fn skip_value(j: &mut jiter::Jiter<'_>) -> Option<(usize, usize)> {
    let peek = j.peek().ok()?;
    let start = j.current_index();
    j.known_skip(peek).ok()?;
    Some((start, j.current_index()))
}

fn value_slice(text: &str, (start, end): (usize, usize)) -> Option<&str> {
    let raw = text
        .get(start..end)?
        .trim_start_matches(|c: char| c == ':' || c == ',' || c.is_whitespace())
        .trim_end();
    (raw != "null").then_some(raw)
}

pub(crate) fn register(r: &mut Register<'_>) {
    // d.Name / d["Name"]: case-sensitive; a missing property, or access into
    // a non-object, is null.
    r("kql_dyn_get_key", vec![vec![UTF8, UTF8]], UTF8, |a| {
        let (d, k) = (strs(&a[0])?, strs(&a[1])?);
        let mut out = StringBuilder::with_capacity(d.len(), d.len() * 16);
        for i in 0..d.len() {
            out.append_option(
                get(d, i)
                    .zip(get(k, i))
                    .and_then(|(d, k)| raw_property(d, k)),
            );
        }
        Ok(std::sync::Arc::new(out.finish()) as ArrayRef)
    });
    // tostring(d.Name) in one step (the planner folds the two): the
    // member's text, "" when absent.
    r("kql_dyn_get_text", vec![vec![UTF8, UTF8]], UTF8, |a| {
        let (d, k) = (strs(&a[0])?, strs(&a[1])?);
        let mut out = StringBuilder::with_capacity(d.len(), d.len() * 16);
        for i in 0..d.len() {
            let member = get(d, i)
                .zip(get(k, i))
                .and_then(|(d, k)| raw_property(d, k));
            out.append_value(member.map(super::text::dynamic_text).unwrap_or_default());
        }
        Ok(std::sync::Arc::new(out.finish()) as ArrayRef)
    });
    // d[i]: out of range or not an array is null.
    r("kql_dyn_get_index", vec![vec![UTF8, I64]], UTF8, |a| {
        let (d, k) = (strs(&a[0])?, longs(&a[1])?);
        Ok(string_array(
            (0..d.len())
                .map(|i| raw_element(get(d, i)?, get_i64(k, i)?).map(str::to_string))
                .collect(),
        ))
    });
    // parse_json page: JSON text to a dynamic value; text that is not valid
    // JSON becomes a dynamic string holding it; "" is null.
    r("kql_parse_json", vec![vec![UTF8]], UTF8, |a| {
        let s = strs(&a[0])?;
        // A column whose every value is already in the stored compact form
        // (what readers produce from exports) is its own result.
        if (0..s.len()).all(|i| {
            get(s, i).is_none_or(|t| {
                !t.is_empty() && t != "null" && crate::source::canonical_json(t.as_bytes())
            })
        }) {
            return Ok(a[0].clone());
        }
        let mut out = StringBuilder::with_capacity(s.len(), s.value_data().len());
        for i in 0..s.len() {
            let Some(text) = get(s, i) else {
                out.append_null();
                continue;
            };
            if text.is_empty() || text == "null" {
                out.append_null();
            } else if crate::source::canonical_json(text.as_bytes()) {
                // Text already in the stored compact form is the value.
                out.append_value(text);
            } else {
                match serde_json::from_str::<Value>(text) {
                    Ok(Value::Null) => out.append_null(),
                    Ok(v) => out.append_value(v.to_string()),
                    Err(_) => out.append_value(Value::String(text.to_string()).to_string()),
                }
            }
        }
        Ok(std::sync::Arc::new(out.finish()) as ArrayRef)
    });
    // array_length page: null when the value is not an array.
    r("kql_array_length", vec![vec![UTF8]], I64, |a| {
        let d = strs(&a[0])?;
        Ok(long_array(
            (0..d.len())
                .map(|i| Some(parse(get(d, i))?.as_array()?.len() as i64))
                .collect(),
        ))
    });
}

/// mv-expand's items of one dynamic value: the elements of an array; the
/// properties of a bag (each as a one-entry bag, or `[key, value]` with
/// bag-as-array); any other value as itself; null gives a null list (one
/// output row holding null); an empty array or bag gives no item. At most
/// `limit` items (negative: no limit).
pub(crate) fn mv_items(
    json: Option<&str>,
    bag_as_array: bool,
    limit: i64,
) -> Option<Vec<Option<String>>> {
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    // Dynamic text is kept in one compact form (types.rs): an array's
    // elements are slices of it.
    if let Some(text) = json
        && let Some(spans) = compact_elements(text.as_bytes())
    {
        return Some(
            spans
                .into_iter()
                .take(cap)
                .map(|(s, e)| text.get(s..e).filter(|v| *v != "null").map(str::to_string))
                .collect(),
        );
    }
    if let Some(text) = json
        && text.starts_with('[')
        && let Some(items) = array_items(text, cap)
    {
        return Some(items);
    }
    let v = parse(json)?;
    let items: Vec<Value> = match v {
        Value::Null => return None,
        Value::Array(items) => items,
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| {
                if bag_as_array {
                    Value::Array(vec![Value::String(k), v])
                } else {
                    let mut one = serde_json::Map::new();
                    one.insert(k, v);
                    Value::Object(one)
                }
            })
            .collect(),
        other => vec![other],
    };
    Some(
        items
            .into_iter()
            .take(cap)
            .map(|i| emit(Some(&i)))
            .collect(),
    )
}

/// The first `cap` elements of a compact JSON array, as slices (a null
/// element is a null item).
fn array_items(text: &str, cap: usize) -> Option<Vec<Option<String>>> {
    use jiter::Jiter;
    let mut j = Jiter::new(text.as_bytes());
    let mut out = Vec::new();
    let mut more = j.next_array().ok()?;
    while more.is_some() {
        let span = skip_value(&mut j)?;
        if out.len() < cap {
            out.push(value_slice(text, span).map(str::to_string));
        }
        more = j.array_step().ok()?;
    }
    j.finish().ok()?;
    Some(out)
}

pub(crate) fn register_mv(r: &mut Register<'_>) {
    use datafusion::arrow::array::{Int64Builder, ListBuilder, StringBuilder};
    use datafusion::arrow::datatypes::{DataType, Field};
    use std::sync::Arc;
    let text_list = DataType::List(Arc::new(Field::new_list_field(UTF8, true)));
    let long_list = DataType::List(Arc::new(Field::new_list_field(I64, true)));
    r(
        "kql_mv_items",
        vec![vec![UTF8, super::BOOL, I64]],
        text_list,
        |a| {
            let d = strs(&a[0])?;
            let as_array = a[1]
                .as_any()
                .downcast_ref::<datafusion::arrow::array::BooleanArray>()
                .ok_or_else(|| {
                    datafusion::error::DataFusionError::Internal("kql_mv_items flag".into())
                })?;
            let limit = longs(&a[2])?;
            let mut b = ListBuilder::new(StringBuilder::new());
            for i in 0..d.len() {
                let lim = get_i64(limit, i).unwrap_or(-1);
                // A compact array: its elements straight into the list.
                if let Some(text) = get(d, i)
                    && let Some(spans) = compact_elements(text.as_bytes())
                {
                    let cap = usize::try_from(lim).unwrap_or(usize::MAX);
                    for (s, e) in spans.into_iter().take(cap) {
                        b.values()
                            .append_option(text.get(s..e).filter(|v| *v != "null"));
                    }
                    b.append(true);
                    continue;
                }
                match mv_items(get(d, i), as_array.is_valid(i) && as_array.value(i), lim) {
                    None => b.append_null(),
                    Some(items) => {
                        for it in items {
                            b.values().append_option(it);
                        }
                        b.append(true);
                    }
                }
            }
            Ok(Arc::new(b.finish()))
        },
    );
    // The 0-based item index for with_itemindex: as many as the longest of
    // the expanded lists (a null list counts as one row).
    r("kql_mv_index", Vec::new(), long_list, |a| {
        let mut b = ListBuilder::new(Int64Builder::new());
        let rows = a.first().map_or(0, |x| x.len());
        let lists: Vec<&datafusion::arrow::array::ListArray> = a
            .iter()
            .map(|x| {
                x.as_any()
                    .downcast_ref::<datafusion::arrow::array::ListArray>()
                    .ok_or_else(|| {
                        datafusion::error::DataFusionError::Internal(
                            "kql_mv_index takes lists".into(),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        for i in 0..rows {
            let n = lists
                .iter()
                .map(|l| if l.is_null(i) { 1 } else { l.value(i).len() })
                .max()
                .unwrap_or(0);
            for k in 0..n {
                b.values().append_value(k as i64);
            }
            b.append(true);
        }
        Ok(Arc::new(b.finish()))
    });
}

/// Applies `f` row by row to JSON arguments (null or unparsable -> None).
fn json_rows(
    a: &[ArrayRef],
    f: impl Fn(&[Option<Value>]) -> Option<Value>,
) -> datafusion::common::Result<ArrayRef> {
    let cols = a
        .iter()
        .map(strs)
        .collect::<datafusion::common::Result<Vec<_>>>()?;
    let rows = a.first().map_or(0, |x| x.len());
    let mut out = Vec::with_capacity(rows);
    let mut args = Vec::with_capacity(cols.len());
    for i in 0..rows {
        args.clear();
        args.extend(cols.iter().map(|c| parse(get(c, i))));
        out.push(emit(f(&args).as_ref()));
    }
    Ok(string_array(out))
}

/// A bag of alternating keys (as JSON strings) and values; with
/// `skip_empty`, null values and empty strings are left out.
fn pack_pairs(xs: &[Option<Value>], skip_empty: bool) -> Option<Value> {
    let mut m = serde_json::Map::new();
    for pair in xs.chunks(2) {
        let key = match pair.first()? {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return None,
        };
        let value = pair.get(1).cloned().flatten().unwrap_or(Value::Null);
        if skip_empty && (value.is_null() || value.as_str() == Some("")) {
            continue;
        }
        m.insert(key, value);
    }
    Some(Value::Object(m))
}

fn arr(v: &Option<Value>) -> Option<&Vec<Value>> {
    v.as_ref()?.as_array()
}

fn bag(v: &Option<Value>) -> Option<&serde_json::Map<String, Value>> {
    v.as_ref()?.as_object()
}

/// Sort key for array_sort_*: numbers before strings before others, as
/// ordinal comparison within each kind.
fn sort_cmp(x: &Value, y: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let rank = |v: &Value| match v {
        Value::Null => 3,
        Value::Number(_) | Value::Bool(_) => 0,
        Value::String(_) => 1,
        _ => 2,
    };
    match (x, y) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(a), Value::String(b)) => a.cmp(b),
        _ => rank(x)
            .cmp(&rank(y))
            .then_with(|| x.to_string().cmp(&y.to_string())),
    }
}

fn sort_array(xs: &[Option<Value>], desc: bool) -> Option<Value> {
    let mut v = arr(&xs[0])?.clone();
    let nulls_last = !matches!(xs.get(1), Some(Some(Value::Bool(false))));
    v.sort_by(|x, y| match (x.is_null(), y.is_null()) {
        (true, false) if nulls_last => std::cmp::Ordering::Greater,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) if nulls_last => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ if desc => sort_cmp(y, x),
        _ => sort_cmp(x, y),
    });
    Some(Value::Array(v))
}

/// Removes one key given as a name or a JSONPath (`$.a.b`, `$['a']`).
fn remove_key(bag: &mut serde_json::Map<String, Value>, key: &str) {
    let Some(path) = key.strip_prefix('$') else {
        bag.remove(key);
        return;
    };
    let mut parts: Vec<String> = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            parts.push(r[..end].to_string());
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let Some(end) = r.find("']") else { return };
            parts.push(r[..end].to_string());
            rest = &r[end + 2..];
        } else {
            return;
        }
    }
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut node = bag;
    for p in parents {
        match node.get_mut(p) {
            Some(Value::Object(inner)) => node = inner,
            _ => return,
        }
    }
    node.remove(last);
}

pub(crate) fn register_json(r: &mut Register<'_>) {
    // Cast-only views of a dynamic value (mv-expand `to typeof(T)`: "Array
    // elements that don't conform with the declared type become null"): no
    // parsing, no conversion.
    r("kql_dyn_as_long", vec![vec![UTF8]], I64, |a| {
        let d = strs(&a[0])?;
        Ok(long_array(
            (0..d.len()).map(|i| parse(get(d, i))?.as_i64()).collect(),
        ))
    });
    r("kql_dyn_as_real", vec![vec![UTF8]], super::F64, |a| {
        let d = strs(&a[0])?;
        Ok(real_array(
            (0..d.len()).map(|i| parse(get(d, i))?.as_f64()).collect(),
        ))
    });
    r("kql_dyn_as_bool", vec![vec![UTF8]], super::BOOL, |a| {
        let d = strs(&a[0])?;
        Ok(bool_array(
            (0..d.len()).map(|i| parse(get(d, i))?.as_bool()).collect(),
        ))
    });
    // Strings are never null: a non-string item gives "".
    r("kql_dyn_as_string", vec![vec![UTF8]], UTF8, |a| {
        let d = strs(&a[0])?;
        Ok(string_array(
            (0..d.len())
                .map(|i| {
                    Some(match parse(get(d, i)) {
                        Some(Value::String(s)) => s,
                        _ => String::new(),
                    })
                })
                .collect(),
        ))
    });
    // The top-level slots of a property bag and the KQL type of each value,
    // one `name\ttype` line per slot, sorted (for bag_unpack's schema):
    // long, real, bool, string, dynamic (arrays and bags), null.
    r("kql_bag_slots", vec![vec![UTF8]], UTF8, |a| {
        let d = strs(&a[0])?;
        Ok(string_array(
            (0..d.len())
                .map(|i| match parse(get(d, i)) {
                    Some(Value::Object(m)) => {
                        let mut slots: Vec<String> = m
                            .iter()
                            .map(|(k, v)| {
                                let t = match v {
                                    Value::Null => "null",
                                    Value::Bool(_) => "bool",
                                    Value::Number(n) if n.is_f64() => "real",
                                    Value::Number(_) => "long",
                                    Value::String(_) => "string",
                                    Value::Array(_) | Value::Object(_) => "dynamic",
                                };
                                format!("{k}\t{t}")
                            })
                            .collect();
                        slots.sort();
                        Some(slots.join("\n"))
                    }
                    _ => None,
                })
                .collect(),
        ))
    });
    // range(start, stop, step): range-function page, at most 1,048,576 items.
    // kind 0: longs; 1: datetimes (nanoseconds); 2: timespans (nanoseconds).
    r("kql_range", vec![vec![I64, I64, I64, I64]], UTF8, |a| {
        let (s, e, st) = (longs(&a[0])?, longs(&a[1])?, longs(&a[2])?);
        let kind = longs(&a[3])?;
        let mut out = Vec::with_capacity(s.len());
        for i in 0..s.len() {
            let (Some(s), Some(e), Some(st)) = (get_i64(s, i), get_i64(e, i), get_i64(st, i))
            else {
                out.push(None);
                continue;
            };
            if st == 0 {
                out.push(None);
                continue;
            }
            let n = (i128::from(e) - i128::from(s)) / i128::from(st) + 1;
            if n > 1_048_576 {
                return Err(datafusion::error::DataFusionError::Execution(format!(
                    "range({s}, {e}, {st}) would have {n} elements (at most 1048576)"
                )));
            }
            let kind = get_i64(kind, i).unwrap_or(0);
            let items: Vec<Value> = (0..n.max(0))
                .map(|k| {
                    let v = s + (k as i64) * st;
                    match kind {
                        1 => Value::String(crate::format::datetime(v)),
                        2 => Value::String(crate::format::timespan(v)),
                        _ => Value::from(v),
                    }
                })
                .collect();
            out.push(Some(Value::Array(items).to_string()));
        }
        Ok(string_array(out))
    });
    // Variadic JSON-argument functions take `Vec::new()` (any arity).
    r("kql_pack_array", Vec::new(), UTF8, |a| {
        json_rows(a, |xs| {
            Some(Value::Array(
                xs.iter()
                    .map(|x| x.clone().unwrap_or(Value::Null))
                    .collect(),
            ))
        })
    });
    r("kql_array_concat", Vec::new(), UTF8, |a| {
        json_rows(a, |xs| {
            let mut out = Vec::new();
            for x in xs {
                out.extend(arr(x)?.iter().cloned());
            }
            Some(Value::Array(out))
        })
    });
    r("kql_bag_pack", Vec::new(), UTF8, |a| {
        json_rows(a, |xs| pack_pairs(xs, false))
    });
    // pack_all(true): "ignore null/empty columns".
    r("kql_bag_pack_nonempty", Vec::new(), UTF8, |a| {
        json_rows(a, |xs| pack_pairs(xs, true))
    });
    r("kql_bag_merge", Vec::new(), UTF8, |a| {
        // bag_merge page: on duplicate keys the first bag's value wins.
        json_rows(a, |xs| {
            let mut m = serde_json::Map::new();
            for x in xs {
                if let Some(b) = bag(x) {
                    for (k, v) in b {
                        m.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            Some(Value::Object(m))
        })
    });
    r("kql_bag_keys", vec![vec![UTF8]], UTF8, |a| {
        json_rows(a, |xs| {
            Some(Value::Array(
                bag(&xs[0])?
                    .keys()
                    .map(|k| Value::String(k.clone()))
                    .collect(),
            ))
        })
    });
    r("kql_bag_remove_keys", vec![vec![UTF8, UTF8]], UTF8, |a| {
        json_rows(a, |xs| {
            let mut b = bag(&xs[0])?.clone();
            for k in arr(&xs[1])? {
                if let Value::String(k) = k {
                    remove_key(&mut b, k);
                }
            }
            Some(Value::Object(b))
        })
    });
    r("kql_array_slice", vec![vec![UTF8, I64, I64]], UTF8, |a| {
        let (d, s, e) = (strs(&a[0])?, longs(&a[1])?, longs(&a[2])?);
        Ok(string_array(
            (0..d.len())
                .map(|i| {
                    let v = parse(get(d, i))?;
                    let items = v.as_array()?;
                    let n = items.len() as i64;
                    let norm = |k: i64| if k < 0 { n + k } else { k };
                    let (from, to) = (norm(get_i64(s, i)?).max(0), norm(get_i64(e, i)?).min(n - 1));
                    let out: Vec<Value> = if from > to || from >= n {
                        Vec::new()
                    } else {
                        items[from as usize..=to as usize].to_vec()
                    };
                    emit(Some(&Value::Array(out)))
                })
                .collect(),
        ))
    });
    r(
        "kql_array_index_of",
        vec![vec![UTF8, UTF8, I64, I64, I64]],
        I64,
        |a| {
            let (d, x) = (strs(&a[0])?, strs(&a[1])?);
            let (start, len, occ) = (longs(&a[2])?, longs(&a[3])?, longs(&a[4])?);
            Ok(long_array(
                (0..d.len())
                    .map(|i| {
                        let v = parse(get(d, i))?;
                        let needle = parse(get(x, i)).unwrap_or(Value::Null);
                        super::text::index_of_seq(
                            v.as_array()?,
                            std::slice::from_ref(&needle),
                            get_i64(start, i)?,
                            get_i64(len, i)?,
                            get_i64(occ, i)?,
                        )
                    })
                    .collect(),
            ))
        },
    );
    // array_sort_asc/desc(array, nulls_last = true): the second argument
    // arrives as JSON `true`/`false`.
    r("kql_array_sort_asc", vec![vec![UTF8, UTF8]], UTF8, |a| {
        json_rows(a, |xs| sort_array(xs, false))
    });
    r("kql_array_sort_desc", vec![vec![UTF8, UTF8]], UTF8, |a| {
        json_rows(a, |xs| sort_array(xs, true))
    });
    r(
        "kql_set_has_element",
        vec![vec![UTF8, UTF8]],
        super::BOOL,
        |a| {
            let (d, x) = (strs(&a[0])?, strs(&a[1])?);
            Ok(bool_array(
                (0..d.len())
                    .map(|i| {
                        let v = parse(get(d, i))?;
                        let needle = parse(get(x, i)).unwrap_or(Value::Null);
                        Some(v.as_array()?.contains(&needle))
                    })
                    .collect(),
            ))
        },
    );
    r("kql_set_union", Vec::new(), UTF8, |a| {
        json_rows(a, |xs| {
            let mut out: Vec<Value> = Vec::new();
            for x in xs {
                for e in arr(x)? {
                    if !out.contains(e) {
                        out.push(e.clone());
                    }
                }
            }
            Some(Value::Array(out))
        })
    });
    r("kql_set_intersect", Vec::new(), UTF8, |a| {
        json_rows(a, |xs| {
            let first = arr(xs.first()?)?;
            let rest: Vec<&Vec<Value>> = xs[1..].iter().map(arr).collect::<Option<_>>()?;
            let mut out: Vec<Value> = Vec::new();
            for e in first {
                if rest.iter().all(|r| r.contains(e)) && !out.contains(e) {
                    out.push(e.clone());
                }
            }
            Some(Value::Array(out))
        })
    });
    r("kql_set_difference", Vec::new(), UTF8, |a| {
        json_rows(a, |xs| {
            let first = arr(xs.first()?)?;
            let rest: Vec<&Vec<Value>> = xs[1..].iter().map(arr).collect::<Option<_>>()?;
            let mut out: Vec<Value> = Vec::new();
            for e in first {
                if !rest.iter().any(|r| r.contains(e)) && !out.contains(e) {
                    out.push(e.clone());
                }
            }
            Some(Value::Array(out))
        })
    });
    r("kql_strcat_array", vec![vec![UTF8, UTF8]], UTF8, |a| {
        let (d, sep) = (strs(&a[0])?, strs(&a[1])?);
        Ok(string_array(
            (0..d.len())
                .map(|i| {
                    let v = parse(get(d, i));
                    let items = v.as_ref().and_then(Value::as_array);
                    let parts: Vec<String> = items
                        .map(|xs| {
                            xs.iter()
                                .map(|x| match x {
                                    Value::String(s) => s.clone(),
                                    Value::Null => String::new(),
                                    other => other.to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(parts.join(get(sep, i).unwrap_or_default()))
                })
                .collect(),
        ))
    });
    r("kql_gettype", vec![vec![UTF8]], UTF8, |a| {
        let d = strs(&a[0])?;
        Ok(string_array(
            (0..d.len())
                .map(|i| {
                    Some(
                        match parse(get(d, i)) {
                            None | Some(Value::Null) => "null",
                            Some(Value::Array(_)) => "array",
                            Some(Value::Object(_)) => "dictionary",
                            Some(Value::Bool(_)) => "bool",
                            Some(Value::String(_)) => "string",
                            // gettype page: gettype(parse_json('1')) is "int".
                            Some(Value::Number(n))
                                if n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()) =>
                            {
                                "int"
                            }
                            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "long",
                            Some(Value::Number(_)) => "real",
                        }
                        .to_string(),
                    )
                })
                .collect(),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::{raw_element, raw_property, raw_property_checked};

    #[test]
    fn compact_scan_agrees_with_jiter() {
        // Compact text as serde_json writes it, nested every way.
        let docs = [
            r#"{"a":1,"b":{"c":[1,2,{"d":"x}"}],"e":"]"},"f":"q\"uote","g":null,"h":[],"i":{},"j":-5,"k":true}"#,
            r#"{"$id":"2","Type":"file","Name":"a,b}.txt","UPNSuffix":"x.com"}"#,
            r#"{}"#,
            r#"[{"a":1}]"#,
            r#""text""#,
            r#"{"a":{"a":{"a":1}},"b":"a"}"#,
            // Keys that start like the one looked for, and keys whose JSON
            // text is not their bytes.
            r#"{"ab":1,"a":2,"abc":3}"#,
            r#"{"a\"b":3,"a":4,"a\\b":5}"#,
            r#"{"UPNSuffixes":1,"UPNSuffix":"y.com","Name":"n"}"#,
        ];
        for d in docs {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            assert_eq!(v.to_string(), d, "compact form");
            for k in [
                "a",
                "b",
                "c",
                "d",
                "e",
                "f",
                "g",
                "h",
                "i",
                "j",
                "k",
                "$id",
                "Type",
                "Name",
                "UPNSuffix",
                "zz",
                "ab",
                "abc",
                "a\"b",
                "a\\b",
                "UPNSuffixes",
            ] {
                assert_eq!(raw_property(d, k), raw_property_checked(d, k), "{d} . {k}");
            }
        }
        // mv-expand items from the compact scan and from serde agree.
        let arr = r#"[{"a":[1,{"b":"]"}]},null,"s",3,[],{}]"#;
        let fast = super::mv_items(Some(arr), false, -1).unwrap();
        let items: Vec<serde_json::Value> = serde_json::from_str(arr).unwrap();
        let slow: Vec<Option<String>> = items
            .iter()
            .map(|v| (!v.is_null()).then(|| v.to_string()))
            .collect();
        assert_eq!(fast, slow);
    }

    #[test]
    fn property_slices() {
        let d = r#"{"a":1,"b":{"c":[1,2,{"d":"x"}]},"e":null,"f":"q\"uote","a":2}"#;
        // A repeated key: the last value, as serde_json's map keeps it.
        assert_eq!(raw_property(d, "a"), Some("2"));
        assert_eq!(raw_property(d, "b"), Some(r#"{"c":[1,2,{"d":"x"}]}"#));
        assert_eq!(raw_property(d, "e"), None);
        assert_eq!(raw_property(d, "f"), Some(r#""q\"uote""#));
        assert_eq!(raw_property(d, "zz"), None);
        assert_eq!(raw_property(r#"{"k\u0041":5}"#, "kA"), Some("5"));
        assert_eq!(raw_property("[1,2]", "a"), None);
        assert_eq!(raw_property(r#"{"a":1"#, "a"), None);
        assert_eq!(raw_property(r#"{"a" : [ 1 ] }"#, "a"), Some("[ 1 ]"));
    }

    #[test]
    fn element_slices() {
        let d = r#"[10,"x",{"a":[1]},null]"#;
        assert_eq!(raw_element(d, 0), Some("10"));
        assert_eq!(raw_element(d, 2), Some(r#"{"a":[1]}"#));
        assert_eq!(raw_element(d, -3), Some(r#""x""#));
        assert_eq!(raw_element(d, 3), None);
        assert_eq!(raw_element(d, 4), None);
        assert_eq!(raw_element(d, -5), None);
        assert_eq!(raw_element(r#"{"a":1}"#, 0), None);
        assert_eq!(raw_element("[]", 0), None);
    }
}
