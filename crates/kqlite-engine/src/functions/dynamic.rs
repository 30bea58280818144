//! Kernels over `dynamic` values held as JSON text: property and element
//! access, array_length.

use super::kernels::*;
use super::{I64, Register, UTF8};
use datafusion::arrow::array::Array;
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

/// Element `i` of an array; negative indexes count from the end.
pub(crate) fn element(v: &Value, i: i64) -> Option<&Value> {
    let items = v.as_array()?;
    let k = if i < 0 { items.len() as i64 + i } else { i };
    items.get(usize::try_from(k).ok()?)
}

pub(crate) fn register(r: &mut Register<'_>) {
    // d.Name / d["Name"]: case-sensitive; a missing property, or access into
    // a non-object, is null.
    r("kql_dyn_get_key", vec![vec![UTF8, UTF8]], UTF8, |a| {
        let (d, k) = (strs(&a[0])?, strs(&a[1])?);
        Ok(string_array(
            (0..d.len())
                .map(|i| {
                    let v = parse(get(d, i))?;
                    emit(v.as_object()?.get(get(k, i)?))
                })
                .collect(),
        ))
    });
    // d[i]: out of range or not an array is null.
    r("kql_dyn_get_index", vec![vec![UTF8, I64]], UTF8, |a| {
        let (d, k) = (strs(&a[0])?, longs(&a[1])?);
        Ok(string_array(
            (0..d.len())
                .map(|i| {
                    let v = parse(get(d, i))?;
                    emit(element(&v, get_i64(k, i)?))
                })
                .collect(),
        ))
    });
    // parse_json page: JSON text to a dynamic value; text that is not valid
    // JSON becomes a dynamic string holding it; "" is null.
    r("kql_parse_json", vec![vec![UTF8]], UTF8, |a| {
        let s = strs(&a[0])?;
        Ok(string_array(
            (0..s.len())
                .map(|i| {
                    let text = get(s, i)?;
                    if text.is_empty() {
                        return None;
                    }
                    match serde_json::from_str::<Value>(text) {
                        Ok(Value::Null) => None,
                        Ok(v) => Some(v.to_string()),
                        Err(_) => Some(Value::String(text.to_string()).to_string()),
                    }
                })
                .collect(),
        ))
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
