//! KQL scalar types on Arrow.
//!
//! | KQL      | Arrow                                   |
//! |----------|-----------------------------------------|
//! | bool     | Boolean                                 |
//! | int      | Int32                                   |
//! | long     | Int64                                   |
//! | real     | Float64                                 |
//! | decimal  | Decimal128(38, 18)                      |
//! | string   | Utf8 (never null at the KQL level)      |
//! | datetime | Timestamp(Nanosecond, "UTC")            |
//! | timespan | Duration(Nanosecond)                    |
//! | guid     | Utf8                                    |
//! | dynamic  | Utf8 holding JSON text, tagged `arrow.json` |
//!
//! Dynamic text is always in one compact form: what serde_json writes
//! (no blanks, keys in their order, no repeated keys, `1.5` not `1.50`).
//! Every producer keeps it so: the readers convert (or keep text already
//! in that form, `source::canonical_json`), functions write with
//! serde_json or slice values out of such text, and Parquet from other
//! tools is re-encoded when read. Output writes the text as it is, and
//! equal values have equal text.
//!
//! Arrow cannot tell `string` from `guid` or `dynamic` reliably (field
//! metadata does not survive every plan rewrite), so the planner keeps the KQL
//! type of every column itself; this module is the one place that maps the two.

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use kqlite_syntax::ast::ScalarType;
use std::collections::HashMap;

/// Arrow's canonical extension name for JSON text.
pub const JSON_EXTENSION: &str = "arrow.json";
const EXTENSION_KEY: &str = "ARROW:extension:name";

/// The Arrow type a KQL type is stored as.
pub fn arrow_type(ty: ScalarType) -> DataType {
    match ty {
        ScalarType::Bool => DataType::Boolean,
        ScalarType::Int => DataType::Int32,
        ScalarType::Long => DataType::Int64,
        ScalarType::Real => DataType::Float64,
        ScalarType::Decimal => DataType::Decimal128(38, 18),
        ScalarType::String | ScalarType::Guid | ScalarType::Dynamic => DataType::Utf8,
        ScalarType::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        ScalarType::Timespan => DataType::Duration(TimeUnit::Nanosecond),
    }
}

/// An Arrow field for a KQL column; dynamic columns carry the JSON extension tag.
pub fn arrow_field(name: &str, ty: ScalarType) -> Field {
    let field = Field::new(name, arrow_type(ty), true);
    if ty == ScalarType::Dynamic {
        field.with_metadata(HashMap::from([(
            EXTENSION_KEY.to_string(),
            JSON_EXTENSION.to_string(),
        )]))
    } else {
        field
    }
}

/// The KQL type of an Arrow type produced by an expression, when it is not
/// known from the planner's own bookkeeping (strings default to `string`).
pub fn kql_type_of(dt: &DataType) -> Option<ScalarType> {
    Some(match dt {
        DataType::Boolean => ScalarType::Bool,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            ScalarType::Int
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => ScalarType::Long,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => ScalarType::Real,
        DataType::Decimal128(..) | DataType::Decimal256(..) => ScalarType::Decimal,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ScalarType::String,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => ScalarType::DateTime,
        DataType::Duration(_) => ScalarType::Timespan,
        _ => return None,
    })
}

/// The Arrow schema of KQL columns, in order.
pub fn arrow_schema(
    columns: &[crate::schema::Column],
) -> std::sync::Arc<datafusion::arrow::datatypes::Schema> {
    std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(
        columns
            .iter()
            .map(|c| arrow_field(&c.name, c.ty))
            .collect::<Vec<_>>(),
    ))
}
