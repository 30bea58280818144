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
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    Some(
        items
            .into_iter()
            .take(cap)
            .map(|i| emit(Some(&i)))
            .collect(),
    )
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
