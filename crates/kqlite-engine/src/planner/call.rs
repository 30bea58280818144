//! Scalar function calls: built-in KQL functions (lowered to DataFusion
//! functions or kqlite UDFs), `toscalar()`, and user functions from `let`.

use super::arith::cast;
use super::expr::{is_numeric, promote, timestamp};
use super::strings::to_text;
use super::{Binding, Planner, Relation};
use crate::error::{Error, Result, codes};
use crate::functions;
use crate::types::arrow_type;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::{core, crypto, encoding, math, string};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, Subquery, lit, when};
use kqlite_syntax::Diagnostic;
use kqlite_syntax::ast::{self, ExprKind, ScalarType};
use kqlite_syntax::suggest::did_you_mean;
use std::ops::Not;
use std::sync::Arc;

/// Every scalar function name kqlite implements (for did-you-mean).
pub(crate) const SCALAR_FUNCTIONS: &[&str] = &[
    "now",
    "ago",
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "tobool",
    "toboolean",
    "todatetime",
    "totimespan",
    "toguid",
    "iff",
    "iif",
    "case",
    "coalesce",
    "isempty",
    "isnotempty",
    "isnull",
    "isnotnull",
    "not",
    "strcat",
    "strcat_delim",
    "strlen",
    "tolower",
    "toupper",
    "substring",
    "split",
    "extract",
    "extract_all",
    "replace_string",
    "replace_regex",
    "trim",
    "trim_start",
    "trim_end",
    "indexof",
    "startofday",
    "startofweek",
    "startofmonth",
    "startofyear",
    "endofday",
    "endofweek",
    "endofmonth",
    "endofyear",
    "datetime_add",
    "datetime_diff",
    "datetime_part",
    "format_datetime",
    "format_timespan",
    "dayofweek",
    "hourofday",
    "dayofmonth",
    "monthofyear",
    "dayofyear",
    "getyear",
    "getmonth",
    "unixtime_seconds_todatetime",
    "bin",
    "floor",
    "round",
    "abs",
    "log",
    "log10",
    "log2",
    "exp",
    "pow",
    "sqrt",
    "hash_sha256",
    "base64_encode_tostring",
    "base64_decode_tostring",
    "parse_url",
    "ipv4_is_private",
    "ipv4_is_in_range",
    "toscalar",
    "array_length",
    "parse_json",
    "pack_array",
    "array_concat",
    "bag_merge",
    "set_union",
    "set_intersect",
    "set_difference",
    "bag_pack",
    "pack",
    "bag_keys",
    "array_sort_asc",
    "array_sort_desc",
    "bag_remove_keys",
    "array_slice",
    "array_index_of",
    "set_has_element",
    "strcat_array",
    "gettype",
    "range",
    "pack_all",
    "todynamic",
    "extract_json",
    "extractjson",
    "dynamic_to_json",
    "column_ifexists",
    "replace",
];

type Typed = (Expr, ScalarType);

/// Functions whose arguments, of exactly these types, go unchanged to one
/// kqlite UDF: (KQL name, UDF, argument types, result type).
const DIRECT: &[(&str, &str, &[ScalarType], ScalarType)] = &[
    (
        "dayofweek",
        "kql_dayofweek",
        &[ScalarType::DateTime],
        ScalarType::Timespan,
    ),
    (
        "format_datetime",
        "kql_format_datetime",
        &[ScalarType::DateTime, ScalarType::String],
        ScalarType::String,
    ),
    (
        "format_timespan",
        "kql_format_timespan",
        &[ScalarType::Timespan, ScalarType::String],
        ScalarType::String,
    ),
    (
        "bag_remove_keys",
        "kql_bag_remove_keys",
        &[ScalarType::Dynamic, ScalarType::Dynamic],
        ScalarType::Dynamic,
    ),
    (
        "bag_keys",
        "kql_bag_keys",
        &[ScalarType::Dynamic],
        ScalarType::Dynamic,
    ),
];

fn real(x: Typed) -> Expr {
    if x.1 == ScalarType::Real {
        x.0
    } else {
        cast(x.0, DataType::Float64)
    }
}

fn udf(name: &str, args: Vec<Expr>) -> Expr {
    functions::call(name, args)
}

/// The common type of branches (iff, case, coalesce): equal, or numbers promoted.
fn unify(types: &[ScalarType]) -> Option<ScalarType> {
    let first = *types.first()?;
    types.iter().skip(1).try_fold(first, |acc, &t| {
        if acc == t {
            Some(acc)
        } else if is_numeric(acc) && is_numeric(t) {
            Some(promote(acc, t))
        } else {
            None
        }
    })
}

fn conform(x: Typed, to: ScalarType) -> Expr {
    if x.1 == to {
        x.0
    } else {
        cast(x.0, arrow_type(to))
    }
}

impl Planner<'_> {
    pub(crate) fn call(
        &mut self,
        callee: &ast::Expr,
        args: &[ast::Arg],
        e: &ast::Expr,
        rel: &Relation,
    ) -> Result<Typed> {
        let ExprKind::Name(f) = &callee.kind else {
            return Err(Error::unsupported(e.span, "calling this expression"));
        };
        if let Some(Binding::Function(def)) = self.lookup(&f.name).cloned() {
            return self.call_user_scalar(&f.name, &def, args, e, rel);
        }
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            return Err(Error::unsupported(a.value.span, "named arguments"));
        }
        let name = f.name.as_str();
        let n = args.len();
        let arity = |lo: usize, hi: usize| -> Result<()> {
            if (lo..=hi).contains(&n) {
                Ok(())
            } else {
                let want = if lo == hi {
                    format!("{lo}")
                } else if hi == usize::MAX {
                    format!("at least {lo}")
                } else {
                    format!("{lo} to {hi}")
                };
                Err(Error::invalid(
                    e.span,
                    format!("`{name}` takes {want} argument(s), got {n}"),
                ))
            }
        };
        // Arguments are planned lazily: toscalar takes a table.
        macro_rules! arg {
            ($i:expr) => {
                self.scalar(&args[$i].value, rel)?
            };
        }
        macro_rules! want {
            ($x:expr, $i:expr, $($t:pat_param)|+) => {{
                let x: Typed = $x;
                if !matches!(x.1, $($t)|+) {
                    return Err(Error::type_error(
                        args[$i].value.span,
                        format!("`{name}` does not accept a {} argument here", x.1.name()),
                    ));
                }
                x
            }};
        }
        use ScalarType::*;
        if let Some((_, kernel, types, ret)) = DIRECT.iter().find(|(n, ..)| *n == name) {
            arity(types.len(), types.len())?;
            let mut xs = Vec::with_capacity(types.len());
            for (i, ty) in types.iter().enumerate() {
                let x = arg!(i);
                if x.1 != *ty {
                    return Err(Error::type_error(
                        args[i].value.span,
                        format!("`{name}` takes a {} here, not {}", ty.name(), x.1.name()),
                    ));
                }
                xs.push(x.0);
            }
            return Ok((udf(kernel, xs), *ret));
        }
        let out: Typed = match name {
            "now" => {
                arity(0, 1)?;
                let offset = match args.first() {
                    Some(a) => self.constant_timespan(&a.value, rel)?,
                    None => 0,
                };
                let t = self
                    .now
                    .checked_add(offset)
                    .ok_or_else(|| out_of_range(e))?;
                (timestamp(Some(t)), DateTime)
            }
            "ago" => {
                arity(1, 1)?;
                let span = self.constant_timespan(&args[0].value, rel)?;
                let t = self.now.checked_sub(span).ok_or_else(|| out_of_range(e))?;
                (timestamp(Some(t)), DateTime)
            }
            "toscalar" => {
                arity(1, 1)?;
                self.toscalar(&args[0].value)?
            }
            "tostring" => {
                arity(1, 1)?;
                let x = arg!(0);
                (to_text(x.0, x.1), String)
            }
            "toint" | "tolong" | "todouble" | "toreal" => {
                arity(1, 1)?;
                let x = arg!(0);
                let (to, parse) = match name {
                    "toint" => (Int, "kql_toint"),
                    "tolong" => (Long, "kql_tolong"),
                    _ => (Real, "kql_todouble"),
                };
                let converted = match x.1 {
                    t if t == to => x.0,
                    String | Dynamic => udf(parse, vec![to_text(x.0, x.1)]),
                    t if is_numeric(t) && to != Real => {
                        // Reals truncate toward zero; values out of range become null.
                        Expr::TryCast(datafusion::logical_expr::TryCast::new(
                            Box::new(math::trunc().call(vec![real(x)])),
                            arrow_type(to),
                        ))
                    }
                    Int | Long | Bool => cast(x.0, arrow_type(to)),
                    _ => {
                        return Err(Error::unsupported(
                            e.span,
                            format!("`{name}` of a {}", x.1.name()),
                        ));
                    }
                };
                (converted, to)
            }
            "tobool" | "toboolean" => {
                arity(1, 1)?;
                let x = arg!(0);
                let converted = match x.1 {
                    Bool => x.0,
                    String | Dynamic => udf("kql_tobool", vec![to_text(x.0, x.1)]),
                    t if is_numeric(t) => real(x).not_eq(lit(0.0)),
                    t => {
                        return Err(Error::unsupported(
                            e.span,
                            format!("`{name}` of a {}", t.name()),
                        ));
                    }
                };
                (converted, Bool)
            }
            "todatetime" | "totimespan" | "toguid" => {
                // From text (or a dynamic value's text); the same type passes.
                arity(1, 1)?;
                let to = match name {
                    "todatetime" => DateTime,
                    "totimespan" => Timespan,
                    _ => Guid,
                };
                let x = arg!(0);
                match x.1 {
                    t if t == to => x,
                    String | Dynamic => (udf(&format!("kql_{name}"), vec![to_text(x.0, x.1)]), to),
                    t => {
                        return Err(Error::type_error(
                            args[0].value.span,
                            format!("`{name}` does not accept a {} argument here", t.name()),
                        ));
                    }
                }
            }
            "iff" | "iif" => {
                arity(3, 3)?;
                let c = want!(arg!(0), 0, Bool);
                let (a, b) = (arg!(1), arg!(2));
                let ty = unify(&[a.1, b.1]).ok_or_else(|| {
                    Error::type_error(
                        e.span,
                        format!(
                            "`{name}` branches differ: {} and {}",
                            a.1.name(),
                            b.1.name()
                        ),
                    )
                })?;
                let x = when(c.0, conform(a, ty))
                    .otherwise(conform(b, ty))
                    .map_err(|err| Error::plan(e.span, err))?;
                (x, ty)
            }
            "case" => {
                arity(3, usize::MAX)?;
                if n.is_multiple_of(2) {
                    return Err(Error::invalid(
                        e.span,
                        "`case` takes predicate/value pairs and a final else value",
                    ));
                }
                let mut preds = Vec::new();
                let mut values = Vec::new();
                for i in (0..n - 1).step_by(2) {
                    preds.push(want!(arg!(i), i, Bool).0);
                    values.push(arg!(i + 1));
                }
                let otherwise = arg!(n - 1);
                let mut types: Vec<ScalarType> = values.iter().map(|v| v.1).collect();
                types.push(otherwise.1);
                let ty = unify(&types).ok_or_else(|| {
                    Error::type_error(e.span, "`case` values have different types")
                })?;
                let mut it = preds.into_iter().zip(values);
                let Some((p0, v0)) = it.next() else {
                    return Err(Error::invalid(e.span, "`case` needs a predicate"));
                };
                let mut builder = when(p0, conform(v0, ty));
                for (p, v) in it {
                    builder = builder.when(p, conform(v, ty));
                }
                let x = builder
                    .otherwise(conform(otherwise, ty))
                    .map_err(|err| Error::plan(e.span, err))?;
                (x, ty)
            }
            "column_ifexists" => {
                // column_ifexists page: "Returns a reference to the column if
                // it exists, otherwise - returns the default value."
                arity(2, 2)?;
                let name = match &args[0].value.kind {
                    ExprKind::Literal(ast::Literal::String(s)) => s.value.clone(),
                    _ => {
                        return Err(Error::invalid(
                            args[0].value.span,
                            "column_ifexists takes a column name as a constant string",
                        ));
                    }
                };
                match rel.column(&name) {
                    Some(c) => (super::expr::column(&c.name), c.ty),
                    None => arg!(1),
                }
            }
            "coalesce" => {
                arity(1, 64)?;
                let xs: Vec<Typed> = (0..n).map(|i| Ok(arg!(i))).collect::<Result<_>>()?;
                let types: Vec<ScalarType> = xs.iter().map(|x| x.1).collect();
                let ty = unify(&types).ok_or_else(|| {
                    Error::type_error(e.span, "`coalesce` arguments have different types")
                })?;
                if ty == String {
                    // coalesce page: "the first non-null (or non-empty for string) expression".
                    let mut it = xs.into_iter().map(|x| x.0);
                    let last = it.next_back().unwrap_or_else(|| lit(""));
                    let firsts: Vec<Expr> = it.collect();
                    let mut x = last;
                    for first in firsts.into_iter().rev() {
                        x = when(first.clone().not_eq(lit("")), first)
                            .otherwise(x)
                            .map_err(|err| Error::plan(e.span, err))?;
                    }
                    (x, String)
                } else {
                    let args = xs.into_iter().map(|x| conform(x, ty)).collect();
                    (core::coalesce().call(args), ty)
                }
            }
            "isempty" | "isnotempty" => {
                arity(1, 1)?;
                let x = arg!(0);
                let empty = match x.1 {
                    String => core::coalesce().call(vec![x.0, lit("")]).eq(lit("")),
                    // A dynamic empty string is the JSON text `""`.
                    Dynamic => x.0.clone().is_null().or(x.0.eq(lit("\"\""))),
                    Guid => x.0.is_null(),
                    _ => x.0.is_null(),
                };
                (
                    if name == "isempty" {
                        empty
                    } else {
                        empty.not()
                    },
                    Bool,
                )
            }
            "isnull" | "isnotnull" => {
                arity(1, 1)?;
                let x = arg!(0);
                // A KQL string is never null: isnull("") is false.
                let null = match x.1 {
                    String => lit(false),
                    _ => x.0.is_null(),
                };
                (if name == "isnull" { null } else { null.not() }, Bool)
            }
            "not" => {
                arity(1, 1)?;
                let x = want!(arg!(0), 0, Bool);
                (x.0.not(), Bool)
            }
            "strcat" => {
                arity(1, 64)?;
                let parts = (0..n)
                    .map(|i| {
                        let x = arg!(i);
                        Ok(to_text(x.0, x.1))
                    })
                    .collect::<Result<Vec<_>>>()?;
                (string::concat().call(parts), String)
            }
            "strcat_delim" => {
                arity(3, 65)?;
                let d = arg!(0);
                let parts = (1..n)
                    .map(|i| {
                        let x = arg!(i);
                        Ok(to_text(x.0, x.1))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mut all = vec![to_text(d.0, d.1)];
                all.extend(parts);
                (string::concat_ws().call(all), String)
            }
            "strlen" => {
                arity(1, 1)?;
                let x = arg!(0);
                (udf("kql_strlen", vec![to_text(x.0, x.1)]), Long)
            }
            "tolower" | "toupper" => {
                arity(1, 1)?;
                let x = arg!(0);
                let f = if name == "tolower" {
                    string::lower()
                } else {
                    string::upper()
                };
                (f.call(vec![to_text(x.0, x.1)]), String)
            }
            "substring" => {
                arity(2, 3)?;
                let s = arg!(0);
                let mut a = vec![to_text(s.0, s.1)];
                for i in 1..n {
                    a.push(conform(want!(arg!(i), i, Int | Long), Long));
                }
                (udf("kql_substring", a), String)
            }
            "split" => {
                arity(2, 3)?;
                let s = arg!(0);
                let d = arg!(1);
                let mut a = vec![to_text(s.0, s.1), to_text(d.0, d.1)];
                if n == 3 {
                    a.push(conform(want!(arg!(2), 2, Int | Long), Long));
                    (udf("kql_split_index", a), Dynamic)
                } else {
                    (udf("kql_split", a), Dynamic)
                }
            }
            "extract" => {
                arity(3, 4)?;
                let re = want!(arg!(0), 0, String);
                super::strings::check_regex(&re.0, args[0].value.span)?;
                let g = conform(want!(arg!(1), 1, Int | Long), Long);
                let s = arg!(2);
                let text = udf("kql_extract", vec![re.0, g, to_text(s.0, s.1)]);
                match args.get(3).map(|a| &a.value.kind) {
                    None => (text, String),
                    Some(ExprKind::TypeOf(t)) => self.convert_text(text, *t, e)?,
                    Some(_) => {
                        return Err(Error::invalid(
                            args[3].value.span,
                            "extract's fourth argument is a type: typeof(long)",
                        ));
                    }
                }
            }
            "extract_json" | "extractjson" => {
                arity(2, 3)?;
                let path = want!(arg!(0), 0, String);
                if let Expr::Literal(ScalarValue::Utf8(Some(p)), _) = &path.0 {
                    crate::functions::jsonpath::parse_path(p)
                        .map_err(|why| Error::invalid(args[0].value.span, why))?;
                }
                let s = arg!(1);
                let source = to_text(s.0, s.1);
                match args.get(2).map(|a| &a.value.kind) {
                    None => (
                        udf("kql_extract_json", vec![path.0, source, lit(0i64)]),
                        String,
                    ),
                    Some(ExprKind::TypeOf(Dynamic)) => (
                        udf("kql_extract_json", vec![path.0, source, lit(1i64)]),
                        Dynamic,
                    ),
                    Some(ExprKind::TypeOf(t)) => {
                        let text = udf("kql_extract_json", vec![path.0, source, lit(0i64)]);
                        self.convert_text(text, *t, e)?
                    }
                    Some(_) => {
                        return Err(Error::invalid(
                            args[2].value.span,
                            "extract_json's third argument is a type: typeof(long)",
                        ));
                    }
                }
            }
            "dynamic_to_json" => {
                arity(1, 1)?;
                let x = arg!(0);
                match x.1 {
                    // dynamic_to_json page: a value of another type gives
                    // tostring() of it.
                    Dynamic => (udf("kql_dynamic_to_json", vec![x.0]), String),
                    t => (to_text(x.0, t), String),
                }
            }
            "extract_all" => {
                arity(2, 3)?;
                let re = want!(arg!(0), 0, String);
                super::strings::check_regex(&re.0, args[0].value.span)?;
                if n == 3 {
                    let g = want!(arg!(1), 1, Dynamic);
                    let s = arg!(2);
                    (
                        udf("kql_extract_all_groups", vec![re.0, g.0, to_text(s.0, s.1)]),
                        Dynamic,
                    )
                } else {
                    let s = arg!(1);
                    (
                        udf("kql_extract_all", vec![re.0, to_text(s.0, s.1)]),
                        Dynamic,
                    )
                }
            }
            "parse_json" | "todynamic" | "parsejson" | "toobject" => {
                arity(1, 1)?;
                let x = want!(arg!(0), 0, String | Dynamic);
                match x.1 {
                    Dynamic => x,
                    _ => (udf("kql_parse_json", vec![x.0]), Dynamic),
                }
            }
            "pack_array" | "array_concat" | "bag_merge" | "set_union" | "set_intersect"
            | "set_difference" => {
                arity(1, 64)?;
                let mut xs = Vec::new();
                for i in 0..n {
                    let x = arg!(i);
                    if name != "pack_array" && x.1 != Dynamic {
                        return Err(Error::type_error(
                            args[i].value.span,
                            format!("`{name}` takes dynamic values, not {}", x.1.name()),
                        ));
                    }
                    xs.push(to_dynamic(x));
                }
                (udf(&format!("kql_{name}"), xs), Dynamic)
            }
            "bag_pack" | "pack" => {
                arity(0, 128)?;
                if !n.is_multiple_of(2) {
                    return Err(Error::invalid(
                        e.span,
                        format!("`{name}` takes key/value pairs"),
                    ));
                }
                let mut xs = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    let x = self.scalar(&a.value, rel)?;
                    if i % 2 == 0 && x.1 != String {
                        return Err(Error::type_error(a.value.span, "a bag key is a string"));
                    }
                    xs.push(to_dynamic(x));
                }
                (udf("kql_bag_pack", xs), Dynamic)
            }
            "pack_all" => {
                arity(0, 1)?;
                // pack_all page: a property bag of every column of the row;
                // pack_all(true) leaves out null and empty values.
                let skip_empty = if n == 1 {
                    match &want!(arg!(0), 0, Bool).0 {
                        Expr::Literal(ScalarValue::Boolean(Some(b)), _) => *b,
                        _ => {
                            return Err(Error::invalid(
                                args[0].value.span,
                                "pack_all's ignore_null_empty must be true or false",
                            ));
                        }
                    }
                } else {
                    false
                };
                let mut xs = Vec::new();
                let row = self.row_columns.as_ref().unwrap_or(&rel.columns);
                for c in row {
                    xs.push(lit(serde_json::Value::String(c.name.clone()).to_string()));
                    xs.push(to_dynamic((super::expr::column(&c.name), c.ty)));
                }
                let f = if skip_empty {
                    "kql_bag_pack_nonempty"
                } else {
                    "kql_bag_pack"
                };
                (udf(f, xs), Dynamic)
            }
            "array_sort_asc" | "array_sort_desc" => {
                arity(1, 2)?;
                let d = want!(arg!(0), 0, Dynamic);
                let nulls_last = if n == 2 {
                    let x = arg!(1);
                    if x.1 != Bool {
                        return Err(Error::unsupported(
                            args[1].value.span,
                            format!("`{name}` of several arrays"),
                        ));
                    }
                    to_dynamic(x)
                } else {
                    lit("true")
                };
                (udf(&format!("kql_{name}"), vec![d.0, nulls_last]), Dynamic)
            }
            "array_slice" => {
                arity(3, 3)?;
                let d = want!(arg!(0), 0, Dynamic);
                let s = conform(want!(arg!(1), 1, Int | Long), Long);
                let t = conform(want!(arg!(2), 2, Int | Long), Long);
                (udf("kql_array_slice", vec![d.0, s, t]), Dynamic)
            }
            "set_has_element" => {
                arity(2, 2)?;
                let d = want!(arg!(0), 0, Dynamic);
                let x = to_dynamic(arg!(1));
                (udf("kql_set_has_element", vec![d.0, x]), Bool)
            }
            "array_index_of" => {
                arity(2, 5)?;
                let d = want!(arg!(0), 0, Dynamic);
                let mut a = vec![d.0, to_dynamic(arg!(1))];
                for (i, default) in [(2, 0i64), (3, -1), (4, 1)] {
                    a.push(if i < n {
                        conform(want!(arg!(i), i, Int | Long), Long)
                    } else {
                        lit(default)
                    });
                }
                (udf("kql_array_index_of", a), Long)
            }
            "strcat_array" => {
                arity(2, 2)?;
                let d = want!(arg!(0), 0, Dynamic);
                let s = arg!(1);
                (
                    udf("kql_strcat_array", vec![d.0, to_text(s.0, s.1)]),
                    String,
                )
            }
            "range" => {
                arity(2, 3)?;
                let s = arg!(0);
                let t = arg!(1);
                let (kind, to) = match (s.1, t.1) {
                    (Int | Long, Int | Long) => (0i64, Long),
                    (DateTime, DateTime) => (1, Timespan),
                    (Timespan, Timespan) => (2, Timespan),
                    _ => {
                        return Err(Error::unsupported(
                            e.span,
                            format!("`range` from {} to {}", s.1.name(), t.1.name()),
                        ));
                    }
                };
                // range-function page: the step defaults to 1, or 1h for
                // datetimes and timespans.
                let st = if n == 3 {
                    let st = arg!(2);
                    if st.1 != to && !(to == Long && st.1 == Int) {
                        return Err(Error::type_error(
                            args[2].value.span,
                            "the step of `range` has the wrong type",
                        ));
                    }
                    cast(st.0, DataType::Int64)
                } else if kind == 0 {
                    lit(1i64)
                } else {
                    lit(3_600_000_000_000i64)
                };
                (
                    udf(
                        "kql_range",
                        vec![
                            cast(s.0, DataType::Int64),
                            cast(t.0, DataType::Int64),
                            st,
                            lit(kind),
                        ],
                    ),
                    Dynamic,
                )
            }
            "gettype" => {
                arity(1, 1)?;
                let x = arg!(0);
                match x.1 {
                    Dynamic => (udf("kql_gettype", vec![x.0]), String),
                    t => (lit(t.name()), String),
                }
            }
            "array_length" => {
                arity(1, 1)?;
                let d = want!(arg!(0), 0, Dynamic);
                (udf("kql_array_length", vec![d.0]), Long)
            }
            "replace_string" => {
                arity(3, 3)?;
                let xs: Vec<Expr> = (0..3)
                    .map(|i| {
                        let x = arg!(i);
                        Ok(to_text(x.0, x.1))
                    })
                    .collect::<Result<_>>()?;
                (string::replace().call(xs), String)
            }
            "replace" => {
                // replace-function page (deprecated): replace(regex, rewrite,
                // text), replace_regex with its arguments in another order.
                arity(3, 3)?;
                let re = want!(arg!(0), 0, String);
                super::strings::check_regex(&re.0, args[0].value.span)?;
                let rw = want!(arg!(1), 1, String);
                let s = arg!(2);
                (
                    udf("kql_replace_regex", vec![to_text(s.0, s.1), re.0, rw.0]),
                    String,
                )
            }
            "replace_regex" => {
                arity(3, 3)?;
                let s = arg!(0);
                let re = want!(arg!(1), 1, String);
                super::strings::check_regex(&re.0, args[1].value.span)?;
                let rw = want!(arg!(2), 2, String);
                (
                    udf("kql_replace_regex", vec![to_text(s.0, s.1), re.0, rw.0]),
                    String,
                )
            }
            "trim" | "trim_start" | "trim_end" => {
                arity(2, 2)?;
                let re = want!(arg!(0), 0, String);
                super::strings::check_regex(&re.0, args[0].value.span)?;
                let s = arg!(1);
                let f = match name {
                    "trim" => "kql_trim",
                    "trim_start" => "kql_trim_start",
                    _ => "kql_trim_end",
                };
                (udf(f, vec![re.0, to_text(s.0, s.1)]), String)
            }
            "indexof" => {
                arity(2, 5)?;
                let s = arg!(0);
                let l = arg!(1);
                let mut a = vec![to_text(s.0, s.1), to_text(l.0, l.1)];
                for (i, default) in [(2, 0i64), (3, -1), (4, 1)] {
                    a.push(if i < n {
                        conform(want!(arg!(i), i, Int | Long), Long)
                    } else {
                        lit(default)
                    });
                }
                (udf("kql_indexof", a), Long)
            }
            "startofday" | "startofweek" | "startofmonth" | "startofyear" | "endofday"
            | "endofweek" | "endofmonth" | "endofyear" => {
                arity(1, 2)?;
                let t = want!(arg!(0), 0, DateTime);
                let offset = if n == 2 {
                    conform(want!(arg!(1), 1, Int | Long), Long)
                } else {
                    lit(0i64)
                };
                (udf(&format!("kql_{name}"), vec![t.0, offset]), DateTime)
            }
            "datetime_add" => {
                arity(3, 3)?;
                let p = self.datetime_part_name(&args[0].value, rel, name)?;
                let k = conform(want!(arg!(1), 1, Int | Long), Long);
                let t = want!(arg!(2), 2, DateTime);
                (udf("kql_datetime_add", vec![p, k, t.0]), DateTime)
            }
            "datetime_diff" => {
                arity(3, 3)?;
                let p = self.datetime_part_name(&args[0].value, rel, name)?;
                let a = want!(arg!(1), 1, DateTime);
                let b = want!(arg!(2), 2, DateTime);
                (udf("kql_datetime_diff", vec![p, a.0, b.0]), Long)
            }
            "datetime_part" => {
                arity(2, 2)?;
                let p = self.datetime_part_name(&args[0].value, rel, name)?;
                let t = want!(arg!(1), 1, DateTime);
                (udf("kql_datetime_part", vec![p, t.0]), Int)
            }
            "hourofday" | "dayofmonth" | "dayofyear" | "getyear" | "getmonth" | "monthofyear" => {
                arity(1, 1)?;
                let t = want!(arg!(0), 0, DateTime);
                let part = match name {
                    "hourofday" => "hour",
                    "dayofmonth" => "day",
                    "dayofyear" => "dayofyear",
                    "getyear" => "year",
                    _ => "month",
                };
                (udf("kql_datetime_part", vec![lit(part), t.0]), Int)
            }
            "unixtime_seconds_todatetime" => {
                arity(1, 1)?;
                let x = want!(arg!(0), 0, Int | Long | Real);
                (udf("kql_unixtime_seconds", vec![real(x)]), DateTime)
            }
            "bin" | "floor" => {
                arity(2, 2)?;
                let x = arg!(0);
                let size = arg!(1);
                self.bin(x, size, e)?
            }
            "round" => {
                arity(1, 2)?;
                let x = want!(arg!(0), 0, Int | Long | Real);
                let mut a = vec![real(x)];
                if n == 2 {
                    a.push(conform(want!(arg!(1), 1, Int | Long), Long));
                }
                (math::round().call(a), Real)
            }
            "abs" => {
                arity(1, 1)?;
                let x = want!(arg!(0), 0, Int | Long | Real | Timespan);
                if x.1 == Timespan {
                    let n = math::abs().call(vec![cast(x.0, DataType::Int64)]);
                    (cast(n, arrow_type(Timespan)), Timespan)
                } else {
                    (math::abs().call(vec![x.0]), x.1)
                }
            }
            "log" | "log10" | "log2" | "sqrt" => {
                arity(1, 1)?;
                let x = real(want!(arg!(0), 0, Int | Long | Real));
                let f = match name {
                    "log" => math::ln(),
                    "log10" => math::log10(),
                    "log2" => math::log2(),
                    _ => math::sqrt(),
                };
                // log/sqrt pages: "null if the argument is negative or null"
                // (log(0) is -infinity), so no NaN leaks through.
                let ok = x.clone().gt_eq(lit(0.0));
                let v = when(ok, f.call(vec![x]))
                    .otherwise(lit(ScalarValue::Float64(None)))
                    .map_err(|err| Error::plan(e.span, err))?;
                (v, Real)
            }
            "exp" => {
                arity(1, 1)?;
                let x = real(want!(arg!(0), 0, Int | Long | Real));
                (math::exp().call(vec![x]), Real)
            }
            "pow" => {
                arity(2, 2)?;
                let b = real(want!(arg!(0), 0, Int | Long | Real));
                let x = real(want!(arg!(1), 1, Int | Long | Real));
                (math::power().call(vec![b, x]), Real)
            }
            "hash_sha256" => {
                arity(1, 1)?;
                let x = arg!(0);
                let digest = crypto::sha256().call(vec![to_text(x.0, x.1)]);
                (encoding::encode().call(vec![digest, lit("hex")]), String)
            }
            "base64_encode_tostring" | "base64_decode_tostring" => {
                arity(1, 1)?;
                let x = arg!(0);
                let f = if name == "base64_encode_tostring" {
                    "kql_base64_encode"
                } else {
                    "kql_base64_decode"
                };
                (udf(f, vec![to_text(x.0, x.1)]), String)
            }
            "parse_url" => {
                arity(1, 1)?;
                let x = arg!(0);
                (udf("kql_parse_url", vec![to_text(x.0, x.1)]), Dynamic)
            }
            "ipv4_is_private" => {
                arity(1, 1)?;
                let x = arg!(0);
                (udf("kql_ipv4_is_private", vec![to_text(x.0, x.1)]), Bool)
            }
            "ipv4_is_in_range" => {
                arity(2, 2)?;
                let x = arg!(0);
                let r = arg!(1);
                (
                    udf(
                        "kql_ipv4_is_in_range",
                        vec![to_text(x.0, x.1), to_text(r.0, r.1)],
                    ),
                    Bool,
                )
            }
            _ => return Err(self.unknown_function(f)),
        };
        Ok(out)
    }

    fn unknown_function(&self, f: &ast::Ident) -> Error {
        let name = f.name.as_str();
        if super::kql_names::SCALAR.binary_search(&name).is_ok()
            || super::kql_names::WINDOW.binary_search(&name).is_ok()
        {
            return Error::unsupported(f.span, format!("function `{name}`"));
        }
        if super::aggregate::is_aggregate(&f.name)
            || super::kql_names::AGGREGATE.binary_search(&name).is_ok()
        {
            return Error::invalid(
                f.span,
                format!(
                    "`{}` is an aggregation function: use it in summarize",
                    f.name
                ),
            );
        }
        let mut d = Diagnostic::new(
            codes::UNKNOWN_FUNCTION,
            format!("unknown function `{}`", f.name),
        )
        .with_label(f.span, "kqlite has no function with this name");
        let mut names: Vec<&str> = SCALAR_FUNCTIONS.to_vec();
        let user: Vec<String> = self.function_names();
        names.extend(user.iter().map(String::as_str));
        if let Some(s) = did_you_mean(&f.name, names) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        Error::Query(d)
    }

    /// A datetime part name argument: a string constant, checked against the
    /// names the reference lists.
    fn datetime_part_name(&mut self, a: &ast::Expr, rel: &Relation, f: &str) -> Result<Expr> {
        const PARTS: &[&str] = &[
            "year",
            "quarter",
            "month",
            "week",
            "day",
            "hour",
            "minute",
            "second",
            "millisecond",
            "microsecond",
            "nanosecond",
            "week_of_year",
            "dayofyear",
        ];
        let (x, ty) = self.scalar(a, rel)?;
        if ty != ScalarType::String {
            return Err(Error::type_error(
                a.span,
                format!("`{f}` takes the part as a string"),
            ));
        }
        if let Expr::Literal(ScalarValue::Utf8(Some(p)), _) = &x
            && !PARTS.contains(&p.to_ascii_lowercase().as_str())
        {
            return Err(Error::invalid(
                a.span,
                format!(
                    "`{p}` is not a datetime part (year, quarter, month, week, day, hour, minute, second, millisecond, microsecond, nanosecond)"
                ),
            ));
        }
        Ok(x)
    }

    /// Converts extract's text result to the type named by `typeof(T)`.
    fn convert_text(&self, text: Expr, t: ScalarType, e: &ast::Expr) -> Result<Typed> {
        use ScalarType::*;
        Ok(match t {
            String => (text, String),
            Int => (udf("kql_toint", vec![text]), Int),
            Long => (udf("kql_tolong", vec![text]), Long),
            Real => (udf("kql_todouble", vec![text]), Real),
            Bool => (udf("kql_tobool", vec![text]), Bool),
            DateTime => (udf("kql_todatetime", vec![text]), DateTime),
            Timespan => (udf("kql_totimespan", vec![text]), Timespan),
            Guid => (udf("kql_toguid", vec![text]), Guid),
            other => {
                return Err(Error::unsupported(
                    e.span,
                    format!("extract to {}", other.name()),
                ));
            }
        })
    }

    /// bin(x, size): x rounded down to a multiple of size (bin page). Numbers
    /// keep their type (long stays long); datetimes bin from KQL's tick
    /// origin 0001-01-01, which makes `bin(t, 7d)` weeks start on Monday.
    pub(crate) fn bin(&self, x: Typed, size: Typed, e: &ast::Expr) -> Result<Typed> {
        use ScalarType::*;
        let bad = || {
            Error::type_error(
                e.span,
                format!("`bin` of a {} by a {}", x.1.name(), size.1.name()),
            )
        };
        Ok(match (x.1, size.1) {
            (DateTime, Timespan) => (udf("kql_bin_datetime", vec![x.0, size.0]), DateTime),
            (Timespan, Timespan) => {
                let (v, s) = (cast(x.0, DataType::Int64), cast(size.0, DataType::Int64));
                let floored = floor_multiple(v, s);
                (cast(floored, arrow_type(Timespan)), Timespan)
            }
            (Int | Long, Int | Long) => {
                let (v, s) = (conform(x, Long), conform(size, Long));
                // bin page: a non-positive bin size gives null.
                let x = when(s.clone().gt(lit(0i64)), floor_multiple(v, s.clone()))
                    .otherwise(lit(ScalarValue::Int64(None)))
                    .map_err(|err| Error::plan(e.span, err))?;
                (x, Long)
            }
            (a, b) if is_numeric(a) && is_numeric(b) => {
                let (v, s) = (real(x), real(size));
                let q = math::floor().call(vec![v / s.clone()]);
                let x = when(s.clone().gt(lit(0.0)), q * s)
                    .otherwise(lit(ScalarValue::Float64(None)))
                    .map_err(|err| Error::plan(e.span, err))?;
                (x, Real)
            }
            _ => return Err(bad()),
        })
    }

    /// `toscalar(T)`: the first column of T's first row, as an uncorrelated
    /// scalar subquery.
    fn toscalar(&mut self, t: &ast::Expr) -> Result<Typed> {
        if !self.is_tabular(t) {
            // toscalar of a scalar expression is that expression.
            let empty = self.empty_relation()?;
            return self.scalar(t, &empty);
        }
        let rel = self.tabular(t)?;
        let Some(first) = rel.columns.first().cloned() else {
            return Err(Error::invalid(t.span, "the table has no columns"));
        };
        let plan = LogicalPlanBuilder::from(rel.plan)
            .project(vec![super::expr::column(&first.name)])
            .and_then(|b| b.limit(0, Some(1)))
            .and_then(|b| b.build())
            .map_err(|err| Error::plan(t.span, err))?;
        let sub = Expr::ScalarSubquery(Subquery {
            subquery: Arc::new(plan),
            outer_ref_columns: vec![],
            spans: Default::default(),
        });
        // An empty table gives null; a KQL string is "" then.
        let sub = if first.ty == ScalarType::String {
            core::coalesce().call(vec![sub, lit("")])
        } else {
            sub
        };
        Ok((sub, first.ty))
    }

    /// Calls a `let` function with a scalar body.
    fn call_user_scalar(
        &mut self,
        name: &str,
        def: &ast::FunctionDef,
        args: &[ast::Arg],
        e: &ast::Expr,
        rel: &Relation,
    ) -> Result<Typed> {
        self.bind_params(name, def, args, e, rel)?;
        let result = self.function_body(def, |p, body| {
            if p.is_tabular(body) {
                Err(Error::invalid(
                    e.span,
                    format!("`{name}` returns a table; use it where a table is expected"),
                ))
            } else {
                p.scalar(body, rel)
            }
        });
        self.scopes.pop();
        self.calling.pop();
        result
    }

    /// Pushes a scope binding the function's parameters to the call's
    /// arguments (defaults filled in). The caller pops it.
    pub(crate) fn bind_params(
        &mut self,
        name: &str,
        def: &ast::FunctionDef,
        args: &[ast::Arg],
        e: &ast::Expr,
        rel: &Relation,
    ) -> Result<()> {
        if self.calling.iter().any(|c| c == name) || self.calling.len() >= super::MAX_CALL_DEPTH {
            return Err(Error::invalid(
                e.span,
                format!(
                    "`{name}` calls itself (or nests more than {} calls deep); KQL functions cannot recurse",
                    super::MAX_CALL_DEPTH
                ),
            ));
        }
        if args.len() > def.params.len() {
            return Err(Error::invalid(
                e.span,
                format!(
                    "`{name}` takes {} argument(s), got {}",
                    def.params.len(),
                    args.len()
                ),
            ));
        }
        // Positional arguments first, then `name = value` ones (let page:
        // "f(c=7, a=12)").
        let mut by_param: Vec<Option<&ast::Arg>> = vec![None; def.params.len()];
        let mut positional = true;
        for (i, a) in args.iter().enumerate() {
            match &a.name {
                None if positional => by_param[i] = Some(a),
                None => {
                    return Err(Error::invalid(
                        a.value.span,
                        "a positional argument cannot follow a named one",
                    ));
                }
                Some(n) => {
                    positional = false;
                    let Some(k) = def.params.iter().position(|p| p.name.name == n.name) else {
                        return Err(Error::invalid(
                            n.span,
                            format!("`{name}` has no parameter `{}`", n.name),
                        ));
                    };
                    if by_param[k].is_some() {
                        return Err(Error::invalid(
                            n.span,
                            format!("`{}` is given twice", n.name),
                        ));
                    }
                    by_param[k] = Some(a);
                }
            }
        }
        let mut scope = std::collections::HashMap::new();
        for (i, p) in def.params.iter().enumerate() {
            let binding = match (&p.ty, by_param[i]) {
                (ast::ParamType::Tabular { .. }, Some(a)) => {
                    Binding::Table(self.tabular(&a.value)?)
                }
                (ast::ParamType::Tabular { .. }, None) => {
                    return Err(Error::invalid(
                        e.span,
                        format!("`{name}` needs its table argument `{}`", p.name.name),
                    ));
                }
                (ast::ParamType::Scalar(ty), arg) => {
                    let (x, xt) = match (arg, &p.default) {
                        (Some(a), _) => self.scalar(&a.value, rel)?,
                        (None, Some(d)) => {
                            let empty = self.empty_relation()?;
                            self.scalar(d, &empty)?
                        }
                        (None, None) => {
                            return Err(Error::invalid(
                                e.span,
                                format!("`{name}` needs its argument `{}`", p.name.name),
                            ));
                        }
                    };
                    let x = if xt == *ty {
                        x
                    } else if is_numeric(xt) && is_numeric(*ty) {
                        cast(x, arrow_type(*ty))
                    } else if matches!(
                        (xt, *ty),
                        (ScalarType::Dynamic, _) | (_, ScalarType::Dynamic)
                    ) {
                        x
                    } else {
                        return Err(Error::type_error(
                            by_param[i].map_or(e.span, |a| a.value.span),
                            format!(
                                "`{name}` parameter `{}` is {}, the argument is {}",
                                p.name.name,
                                ty.name(),
                                xt.name()
                            ),
                        ));
                    };
                    Binding::Scalar(x, *ty)
                }
            };
            scope.insert(p.name.name.clone(), binding);
        }
        self.scopes.push(scope);
        self.calling.push(name.to_string());
        Ok(())
    }

    /// Runs a function body's `let` statements, then `last` on its result
    /// expression.
    pub(crate) fn function_body<T>(
        &mut self,
        def: &ast::FunctionDef,
        last: impl FnOnce(&mut Self, &ast::Expr) -> Result<T>,
    ) -> Result<T> {
        let Some((result, lets)) = def.body.split_last() else {
            return Err(Error::invalid(def.span, "the function body is empty"));
        };
        for stmt in lets {
            match &stmt.kind {
                ast::StatementKind::Let(l) => self.plan_let(l, stmt.span)?,
                _ => {
                    return Err(Error::unsupported(
                        stmt.span,
                        "this statement in a function body",
                    ));
                }
            }
        }
        match &result.kind {
            ast::StatementKind::Query(x) => last(self, x),
            _ => Err(Error::invalid(
                result.span,
                "a function body ends with an expression",
            )),
        }
    }
}

/// `v` rounded down to a multiple of `s` (integers; floor, not truncation).
fn floor_multiple(v: Expr, s: Expr) -> Expr {
    let rem = v.clone() % s.clone();
    let adjust = when(rem.clone().lt(lit(0i64)), rem.clone() + s.clone())
        .otherwise(rem)
        .unwrap_or_else(|_| lit(ScalarValue::Int64(None)));
    v - adjust
}

/// A dynamic value converted to `ty` as `tostring`/`tolong`/... do it
/// (a value that does not convert is null; strings are never null).
pub(crate) fn from_dynamic(x: Expr, ty: ScalarType) -> Expr {
    let text = to_text(x.clone(), ScalarType::Dynamic);
    let f = match ty {
        ScalarType::Dynamic => return x,
        ScalarType::String => return text,
        ScalarType::Int => "kql_toint",
        ScalarType::Long => "kql_tolong",
        ScalarType::Real | ScalarType::Decimal => "kql_todouble",
        ScalarType::Bool => "kql_tobool",
        ScalarType::DateTime => "kql_todatetime",
        ScalarType::Timespan => "kql_totimespan",
        ScalarType::Guid => "kql_toguid",
    };
    udf(f, vec![text])
}

/// A typed value as a dynamic one (dynamic values pass through).
pub(crate) fn to_dynamic(x: Typed) -> Expr {
    match x.1 {
        ScalarType::Dynamic => x.0,
        _ => udf("kql_to_dynamic", vec![x.0]),
    }
}

/// A datetime beyond what kqlite stores (nanoseconds since 1970 in 64 bits:
/// the years 1677 to 2262).
fn out_of_range(e: &ast::Expr) -> Error {
    Error::unsupported(e.span, "a datetime outside the years 1677-2262")
}
