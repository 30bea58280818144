//! Small helpers shared by the UDF kernels: typed views of arguments and
//! row-wise mapping into new arrays.

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array,
    Int64Array, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DurationNanosecondType, Float64Type, Int64Type, TimestampNanosecondType,
};
use datafusion::common::{DataFusionError, Result as DfResult};
use std::sync::Arc;

fn wrong(what: &str, a: &ArrayRef) -> DataFusionError {
    DataFusionError::Internal(format!(
        "kqlite kernel expected {what}, got {}",
        a.data_type()
    ))
}

pub(crate) fn strs(a: &ArrayRef) -> DfResult<&StringArray> {
    a.as_string_opt::<i32>().ok_or_else(|| wrong("Utf8", a))
}

pub(crate) fn longs(a: &ArrayRef) -> DfResult<&Int64Array> {
    a.as_primitive_opt::<Int64Type>()
        .ok_or_else(|| wrong("Int64", a))
}

pub(crate) fn reals(a: &ArrayRef) -> DfResult<&Float64Array> {
    a.as_primitive_opt::<Float64Type>()
        .ok_or_else(|| wrong("Float64", a))
}

pub(crate) fn times(a: &ArrayRef) -> DfResult<&TimestampNanosecondArray> {
    a.as_primitive_opt::<TimestampNanosecondType>()
        .ok_or_else(|| wrong("Timestamp(ns)", a))
}

pub(crate) fn spans(a: &ArrayRef) -> DfResult<&DurationNanosecondArray> {
    a.as_primitive_opt::<DurationNanosecondType>()
        .ok_or_else(|| wrong("Duration(ns)", a))
}

/// The value at row `i`, or None when null.
pub(crate) fn get(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

pub(crate) fn get_i64(a: &Int64Array, i: usize) -> Option<i64> {
    a.is_valid(i).then(|| a.value(i))
}

pub(crate) fn get_f64(a: &Float64Array, i: usize) -> Option<f64> {
    a.is_valid(i).then(|| a.value(i))
}

pub(crate) fn get_ts(a: &TimestampNanosecondArray, i: usize) -> Option<i64> {
    a.is_valid(i).then(|| a.value(i))
}

pub(crate) fn get_dur(a: &DurationNanosecondArray, i: usize) -> Option<i64> {
    a.is_valid(i).then(|| a.value(i))
}

pub(crate) fn string_array(v: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

pub(crate) fn bool_array(v: Vec<Option<bool>>) -> ArrayRef {
    Arc::new(BooleanArray::from(v))
}

pub(crate) fn long_array(v: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(Int64Array::from(v))
}

pub(crate) fn int_array(v: Vec<Option<i32>>) -> ArrayRef {
    Arc::new(Int32Array::from(v))
}

pub(crate) fn real_array(v: Vec<Option<f64>>) -> ArrayRef {
    Arc::new(Float64Array::from(v))
}

pub(crate) fn time_array(v: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(v).with_timezone("UTC"))
}

pub(crate) fn span_array(v: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(DurationNanosecondArray::from(v))
}

/// A regex cache for kernels whose pattern is (almost always) a constant.
#[derive(Default)]
pub(crate) struct Regexes {
    last: Option<(String, Result<regex::Regex, String>)>,
}

impl Regexes {
    /// The compiled pattern, or an execution error naming the bad pattern.
    pub(crate) fn get(&mut self, pattern: &str) -> DfResult<&regex::Regex> {
        let stale = self.last.as_ref().is_none_or(|(p, _)| p != pattern);
        if stale {
            let compiled = regex::Regex::new(pattern).map_err(|e| e.to_string());
            self.last = Some((pattern.to_string(), compiled));
        }
        match &self.last {
            Some((_, Ok(r))) => Ok(r),
            Some((p, Err(e))) => Err(DataFusionError::Execution(format!(
                "invalid regular expression `{p}`: {e}"
            ))),
            None => Err(DataFusionError::Internal("regex cache empty".into())),
        }
    }
}
