//! Turning aggregated Arrow lists into KQL `dynamic` arrays (JSON text).

use super::kernels::*;
use super::{Register, UTF8};
use crate::format;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Float64Type, Int32Type, Int64Type, TimeUnit,
    TimestampNanosecondType,
};
use datafusion::common::{DataFusionError, Result as DfResult};
use serde_json::{Number, Value};

pub(crate) fn register(r: &mut Register<'_>) {
    // (list, max size) -> JSON array; a null list (no rows) is [].
    r("kql_list_to_dynamic", Vec::new(), UTF8, list_to_dynamic);
    // A typed scalar as a dynamic value (numbers, bools; datetimes and
    // timespans as their text; strings as JSON strings).
    r("kql_to_dynamic", Vec::new(), UTF8, |a| {
        let x = a
            .first()
            .ok_or_else(|| DataFusionError::Internal("kql_to_dynamic takes 1 argument".into()))?;
        let mut out = Vec::with_capacity(x.len());
        for i in 0..x.len() {
            out.push(match json_at(x, i)? {
                Value::Null => None,
                v => Some(v.to_string()),
            });
        }
        Ok(string_array(out))
    });
}

/// One Arrow value as JSON, with KQL's text forms for datetime/timespan.
fn json_at(a: &ArrayRef, i: usize) -> DfResult<Value> {
    if a.is_null(i) {
        return Ok(Value::Null);
    }
    Ok(match a.data_type() {
        DataType::Utf8 => Value::String(strs(a)?.value(i).to_string()),
        DataType::Boolean => Value::Bool(a.as_boolean().value(i)),
        DataType::Int32 => Value::from(a.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => Value::from(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => {
            let v = a.as_primitive::<Float64Type>().value(i);
            Number::from_f64(v)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(format::real(v)))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Value::String(format::datetime(
            a.as_primitive::<TimestampNanosecondType>().value(i),
        )),
        DataType::Duration(TimeUnit::Nanosecond) => Value::String(format::timespan(
            a.as_primitive::<DurationNanosecondType>().value(i),
        )),
        other => {
            return Err(DataFusionError::Internal(format!(
                "kqlite cannot put {other} values in a dynamic array"
            )));
        }
    })
}

/// (list, max size, mode): mode 0 takes the values as they are; for
/// dynamic values (JSON text) mode 1 flattens arrays one level (make_list
/// of arrays) and mode 2 also drops repeats (make_set).
fn list_to_dynamic(args: &[ArrayRef]) -> DfResult<ArrayRef> {
    let [lists, max, mode] = args else {
        return Err(DataFusionError::Internal(
            "kql_list_to_dynamic takes 3 arguments".into(),
        ));
    };
    let max = longs(max)?;
    let mode = longs(mode)?;
    let lists = lists
        .as_list_opt::<i32>()
        .ok_or_else(|| DataFusionError::Internal("kql_list_to_dynamic expects a list".into()))?;
    let mut out = Vec::with_capacity(lists.len());
    for i in 0..lists.len() {
        let cap = usize::try_from(get_i64(max, i).unwrap_or(i64::MAX)).unwrap_or(usize::MAX);
        let mut items: Vec<Value> = Vec::new();
        let mut bag = serde_json::Map::new();
        let dynamic_mode = get_i64(mode, i).unwrap_or(0);
        if lists.is_valid(i) {
            let values = lists.value(i);
            for k in 0..values.len() {
                if items.len() >= cap {
                    break;
                }
                if dynamic_mode == 0 {
                    items.push(json_at(&values, k)?);
                    continue;
                }
                let text = strs(&values)?;
                let v = super::dynamic::parse(get(text, k)).unwrap_or(Value::Null);
                if dynamic_mode == 3 {
                    // make_bag: property bags merged; the first value of a key wins.
                    if let Value::Object(m) = v {
                        for (key, val) in m {
                            if bag.len() >= cap {
                                break;
                            }
                            bag.entry(key).or_insert(val);
                        }
                    }
                    continue;
                }
                let parts = match v {
                    Value::Array(inner) => inner,
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                for p in parts {
                    if items.len() >= cap {
                        break;
                    }
                    if dynamic_mode == 2 && items.contains(&p) {
                        continue;
                    }
                    items.push(p);
                }
            }
        }
        if dynamic_mode == 3 && !lists.is_valid(i) {
            // No rows: the summarize page's default for make_bag is the
            // empty dynamic array ([]), as for make_list and make_set.
            out.push(Some("[]".to_string()));
        } else if dynamic_mode == 3 {
            out.push(Some(Value::Object(bag).to_string()));
        } else {
            out.push(Some(Value::Array(items).to_string()));
        }
    }
    Ok(string_array(out))
}
