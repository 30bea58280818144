//! `dynamic` values: held as compact JSON text (see `types`).

use crate::datetime::parse_datetime;
use crate::format;
use kqlite_syntax::ast::{Dynamic, Literal};
use serde_json::{Map, Number, Value};

/// The JSON value of a `dynamic(...)` literal. datetimes, timespans and guids
/// inside it become their text forms.
pub(crate) fn literal_json(d: &Dynamic) -> Result<Value, String> {
    Ok(match d {
        Dynamic::Null => Value::Null,
        Dynamic::Array(items) => Value::Array(
            items
                .iter()
                .map(literal_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Dynamic::Object(pairs) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                m.insert(k.clone(), literal_json(v)?);
            }
            Value::Object(m)
        }
        Dynamic::Scalar(l) => match l.as_ref() {
            Literal::Bool(v) => v.map_or(Value::Null, Value::Bool),
            Literal::Int(v) => v.map_or(Value::Null, Value::from),
            Literal::Long(v) => v.map_or(Value::Null, Value::from),
            Literal::Real(v) => match v {
                Some(r) => Number::from_f64(r.0)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(format::real(r.0))),
                None => Value::Null,
            },
            Literal::String(s) => Value::String(s.value.clone()),
            Literal::DateTime(None) | Literal::Timespan(None) | Literal::Guid(None) => Value::Null,
            Literal::DateTime(Some(t)) => {
                let n = parse_datetime(t).ok_or_else(|| format!("`{t}` is not a datetime"))?;
                Value::String(format::datetime(n))
            }
            Literal::Timespan(Some(ticks)) => Value::String(format::timespan(
                ticks.checked_mul(100).ok_or("timespan out of range")?,
            )),
            Literal::Guid(Some(g)) => Value::String(g.clone()),
            Literal::Decimal(_) => return Err("decimal inside dynamic is not supported yet".into()),
            Literal::Dynamic(inner) => literal_json(inner)?,
        },
    })
}
