//! KQL scalar functions that DataFusion has no exact equivalent for, as named
//! DataFusion UDFs (`kql_*`). Every one is registered on each session, so a
//! serialised plan (datafusion-proto) finds them again by name.
//!
//! A kernel takes its arguments as equal-length Arrow arrays (scalars are
//! broadcast) and returns one array. Kernels never panic on data: a value
//! they cannot convert becomes null, as KQL's conversions do.

mod agg;
pub(crate) mod dynamic;
pub(crate) mod jsonpath;
mod kernels;
pub(crate) mod text;
pub(crate) mod time;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

pub(crate) type Kernel = fn(&[ArrayRef]) -> DfResult<ArrayRef>;

/// One KQL function as a DataFusion scalar UDF.
#[derive(Debug)]
struct KqlUdf {
    name: &'static str,
    signature: Signature,
    ret: DataType,
    kernel: Kernel,
}

impl PartialEq for KqlUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for KqlUdf {}

impl Hash for KqlUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for KqlUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(self.ret.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = (self.kernel)(&arrays)?;
        if all_scalar && out.len() == 1 {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

pub(crate) const UTF8: DataType = DataType::Utf8;
pub(crate) const I64: DataType = DataType::Int64;
pub(crate) const I32: DataType = DataType::Int32;
pub(crate) const F64: DataType = DataType::Float64;
pub(crate) const BOOL: DataType = DataType::Boolean;
pub(crate) const DUR: DataType = DataType::Duration(TimeUnit::Nanosecond);

pub(crate) fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

fn make(name: &'static str, sigs: Vec<Vec<DataType>>, ret: DataType, kernel: Kernel) -> ScalarUDF {
    let signature = if sigs.is_empty() {
        Signature::variadic_any(Volatility::Immutable)
    } else if sigs.len() == 1 {
        Signature::exact(
            sigs.into_iter().next().unwrap_or_default(),
            Volatility::Immutable,
        )
    } else {
        Signature::one_of(
            sigs.into_iter().map(TypeSignature::Exact).collect(),
            Volatility::Immutable,
        )
    };
    ScalarUDF::new_from_impl(KqlUdf {
        name,
        signature,
        ret,
        kernel,
    })
}

static UDFS: LazyLock<Vec<Arc<ScalarUDF>>> = LazyLock::new(|| {
    let mut v = Vec::new();
    let mut add = |name, sigs, ret, kernel| v.push(Arc::new(make(name, sigs, ret, kernel)));
    text::register(&mut add);
    time::register(&mut add);
    dynamic::register(&mut add);
    dynamic::register_mv(&mut add);
    dynamic::register_json(&mut add);
    jsonpath::register(&mut add);
    agg::register(&mut add);
    v
});

/// Every kqlite UDF, for registration on a session.
pub fn all() -> &'static [Arc<ScalarUDF>] {
    &UDFS
}

/// A call of the named kqlite UDF. The name must be one of [`all`].
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    match UDFS.iter().find(|u| u.name() == name) {
        Some(u) => u.call(args),
        // A missing name is a bug in the planner; DataFusion reports it at
        // execution as an unknown function rather than us panicking.
        None => Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
            Arc::new(ScalarUDF::new_from_impl(KqlUdf {
                name: "kql_missing_function",
                signature: Signature::variadic_any(Volatility::Immutable),
                ret: DataType::Null,
                kernel: |_| {
                    Err(datafusion::error::DataFusionError::Internal(
                        "unknown kqlite function".into(),
                    ))
                },
            })),
            args,
        )),
    }
}

/// How a module adds its UDFs: name, accepted argument type lists, return
/// type, kernel.
pub(crate) type Register<'a> = dyn FnMut(&'static str, Vec<Vec<DataType>>, DataType, Kernel) + 'a;
