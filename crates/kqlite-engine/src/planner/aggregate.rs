//! Aggregation functions for `summarize`, lowered to DataFusion aggregates.
//!
//! Each KQL aggregate becomes one or more DataFusion aggregate expressions
//! (named `__kql_agg_N`) plus output expressions over them, so that the
//! documented empty-input results (summarize page, "default values" example:
//! sum 0, avg NaN, stdev/variance 0, make_set/make_list []) and names
//! (count_, sum_x, set_x, Column-per-argument for arg_max) come out exactly.

use super::arith::cast;
use super::expr::{column, is_numeric};
use super::{Planner, Relation};
use crate::error::{Error, Result};
use crate::functions;
use crate::schema::Column;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::{
    array_agg, average, count, first_last, min_max, stddev, sum, variance,
};
use datafusion::functions_nested::{extract, length, sort as array_sort};
use datafusion::logical_expr::{Expr, ExprFunctionExt, lit, when};
use kqlite_syntax::ast::{self, ExprKind, ScalarType};

const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "sum",
    "sumif",
    "avg",
    "avgif",
    "min",
    "max",
    "minif",
    "maxif",
    "dcount",
    "dcountif",
    "make_set",
    "make_set_if",
    "make_list",
    "make_list_if",
    "arg_max",
    "arg_min",
    "take_any",
    "any",
    "percentile",
    "make_bag",
    "make_bag_if",
    "stdev",
    "stdevp",
    "variance",
    "variancep",
];

pub(crate) fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// The aggregate expressions a summarize computes and how its output
/// columns are made from them.
#[derive(Default)]
pub(crate) struct AggPlan {
    /// DataFusion aggregate expressions, already aliased.
    pub aggs: Vec<Expr>,
    /// Output columns: expressions over the aggregates' columns.
    pub outputs: Vec<(Expr, Column)>,
    raw: Vec<Expr>,
}

impl AggPlan {
    /// Adds an aggregate (or finds the identical one already added) and
    /// returns a reference to its output column.
    fn add(&mut self, agg: Expr) -> Expr {
        if let Some(i) = self.raw.iter().position(|a| *a == agg) {
            return column(&format!("__kql_agg_{i}"));
        }
        let name = format!("__kql_agg_{}", self.aggs.len());
        self.raw.push(agg.clone());
        self.aggs.push(agg.alias(name.as_str()));
        column(&name)
    }
}

type Typed = (Expr, ScalarType);

fn bool_arg(x: Typed, span: kqlite_syntax::Span, f: &str) -> Result<Expr> {
    if x.1 != ScalarType::Bool {
        return Err(Error::type_error(
            span,
            format!("`{f}` takes a bool predicate, not {}", x.1.name()),
        ));
    }
    Ok(x.0)
}

fn only_if(value: Expr, pred: Option<Expr>) -> Result<Expr> {
    match pred {
        None => Ok(value),
        Some(p) => when(p, value)
            .end()
            .map_err(|e| Error::Execution(e.to_string())),
    }
}

fn build(x: datafusion::logical_expr::expr_fn::ExprFuncBuilder) -> Result<Expr> {
    x.build().map_err(|e| Error::Execution(e.to_string()))
}

impl Planner<'_> {
    /// Plans one `summarize` item. `by_names` are the group columns (they are
    /// left out of `arg_max(x, *)` and `take_any(*)`).
    pub(crate) fn aggregate_item(
        &mut self,
        item: &ast::NamedExpr,
        rel: &Relation,
        by_names: &[String],
        plan: &mut AggPlan,
    ) -> Result<()> {
        let ExprKind::Call { callee, args } = &item.expr.kind else {
            return Err(Error::invalid(
                item.expr.span,
                "summarize needs an aggregation function here (count(), sum(x), ...)",
            ));
        };
        let ExprKind::Name(f) = &callee.kind else {
            return Err(Error::invalid(
                item.expr.span,
                "not an aggregation function",
            ));
        };
        // Legacy spellings (make-set-function page: "makeset() ... Deprecated
        // alias of make_set()"), and count_distinct, which counts exactly as
        // kqlite's dcount does; its implicit column name is not documented,
        // so it must be named.
        let name = match f.name.as_str() {
            "makeset" => "make_set",
            "makelist" => "make_list",
            "count_distinct" | "count_distinctif" if item.names.is_empty() => {
                return Err(Error::unsupported(
                    item.expr.span,
                    format!(
                        "the implicit name of `{}` (write Name = {}(...))",
                        f.name, f.name
                    ),
                ));
            }
            "count_distinct" => "dcount",
            "count_distinctif" => "dcountif",
            other => other,
        };
        if !is_aggregate(name) && super::kql_names::AGGREGATE.binary_search(&name).is_ok() {
            return Err(Error::unsupported(
                f.span,
                format!("aggregation function `{name}`"),
            ));
        }
        if !is_aggregate(name) {
            let msg = if super::call::SCALAR_FUNCTIONS.contains(&name) {
                format!("`{name}` is not an aggregation function")
            } else {
                format!("unknown aggregation function `{name}`")
            };
            let mut d = kqlite_syntax::Diagnostic::new(crate::error::codes::UNKNOWN_FUNCTION, msg)
                .with_label(f.span, "not an aggregation function kqlite knows");
            if let Some(s) = kqlite_syntax::suggest::did_you_mean(name, AGGREGATES.iter().copied())
            {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            return Err(Error::Query(d));
        }
        let n = args.len();
        let arity = |lo: usize, hi: usize| -> Result<()> {
            if (lo..=hi).contains(&n) {
                Ok(())
            } else {
                Err(Error::invalid(
                    item.expr.span,
                    format!("`{name}` takes {lo} to {hi} argument(s), got {n}"),
                ))
            }
        };
        // Implicit output name: prefix + "_" + the argument's column name.
        let explicit = item.names.first().map(|i| i.name.clone());
        if item.names.len() > 1 {
            return Err(Error::unsupported(
                item.span,
                "assigning several names here",
            ));
        }
        let implicit = |prefix: &str, arg: Option<&ast::Expr>| -> Result<String> {
            if let Some(e) = &explicit {
                return Ok(e.clone());
            }
            match arg.map(|a| &a.kind) {
                None => Ok(format!("{prefix}_")),
                Some(ExprKind::Name(i)) => Ok(format!("{prefix}_{}", i.name)),
                Some(_) => Err(Error::unsupported(
                    item.expr.span,
                    format!(
                        "the implicit name of `{name}` over an expression (write Name = {name}(...))"
                    ),
                )),
            }
        };
        let args_v: Vec<&ast::Expr> = args.iter().map(|a| &a.value).collect();
        let mut scalar = |i: usize| -> Result<Typed> { self.scalar(args_v[i], rel) };
        let agg_err = |e: datafusion::error::DataFusionError| Error::plan(item.expr.span, e);
        match name {
            "count" | "countif" => {
                let (pred, out_name) = if name == "count" {
                    arity(0, 1)?;
                    // summarize page: "The standard count function includes
                    // null values in its count" — count(x) counts rows too.
                    if n == 1 {
                        scalar(0)?;
                    }
                    (None, implicit("count", args_v.first().copied())?)
                } else {
                    arity(1, 1)?;
                    let p = bool_arg(scalar(0)?, args_v[0].span, name)?;
                    (
                        Some(p),
                        explicit.clone().unwrap_or_else(|| "countif_".into()),
                    )
                };
                let counted = only_if(lit(1i64), pred)?;
                let c = plan.add(count::count_udaf().call(vec![counted]));
                plan.outputs.push((
                    c,
                    Column {
                        name: out_name,
                        ty: ScalarType::Long,
                    },
                ));
            }
            "sum" | "sumif" | "avg" | "avgif" => {
                let cond = name.ends_with("if");
                arity(if cond { 2 } else { 1 }, if cond { 2 } else { 1 })?;
                let x = scalar(0)?;
                if !is_numeric(x.1) && x.1 != ScalarType::Timespan {
                    return Err(Error::type_error(
                        args_v[0].span,
                        format!("`{name}` needs a number, not {}", x.1.name()),
                    ));
                }
                let pred = if cond {
                    Some(bool_arg(scalar(1)?, args_v[1].span, name)?)
                } else {
                    None
                };
                let out_name = implicit(name, args_v.first().copied())?;
                let rows =
                    plan.add(count::count_udaf().call(vec![only_if(lit(1i64), pred.clone())?]));
                let (value, ty, empty) = if name.starts_with("sum") {
                    let ty = match x.1 {
                        ScalarType::Real => ScalarType::Real,
                        ScalarType::Timespan => ScalarType::Timespan,
                        _ => ScalarType::Long,
                    };
                    let input = if ty == ScalarType::Long {
                        cast(x.0, DataType::Int64)
                    } else {
                        x.0
                    };
                    if ty == ScalarType::Timespan {
                        return Err(Error::unsupported(item.expr.span, "sum of timespans"));
                    }
                    let zero = if ty == ScalarType::Real {
                        lit(0.0)
                    } else {
                        lit(0i64)
                    };
                    (sum::sum_udaf().call(vec![only_if(input, pred)?]), ty, zero)
                } else {
                    if x.1 == ScalarType::Timespan {
                        return Err(Error::unsupported(item.expr.span, "avg of timespans"));
                    }
                    let input = cast(x.0, DataType::Float64);
                    (
                        average::avg_udaf().call(vec![only_if(input, pred)?]),
                        ScalarType::Real,
                        lit(f64::NAN),
                    )
                };
                let v = plan.add(value);
                // Empty input: sum 0, avg NaN (summarize page, default values).
                let out = when(rows.eq(lit(0i64)), empty)
                    .otherwise(v)
                    .map_err(agg_err)?;
                plan.outputs.push((out, Column { name: out_name, ty }));
            }
            "min" | "max" | "minif" | "maxif" => {
                let cond = name.ends_with("if");
                arity(if cond { 2 } else { 1 }, if cond { 2 } else { 1 })?;
                let x = scalar(0)?;
                if matches!(x.1, ScalarType::Dynamic | ScalarType::Bool) {
                    return Err(Error::unsupported(
                        item.expr.span,
                        format!("`{name}` of a {}", x.1.name()),
                    ));
                }
                let pred = if cond {
                    Some(bool_arg(scalar(1)?, args_v[1].span, name)?)
                } else {
                    None
                };
                let out_name = implicit(name, args_v.first().copied())?;
                let f = if name.starts_with("min") {
                    min_max::min_udaf()
                } else {
                    min_max::max_udaf()
                };
                let v = plan.add(f.call(vec![only_if(x.0, pred)?]));
                // A group without values gives null; a KQL string is "" then.
                let v = if x.1 == ScalarType::String {
                    datafusion::functions::core::coalesce().call(vec![v, lit("")])
                } else {
                    v
                };
                plan.outputs.push((
                    v,
                    Column {
                        name: out_name,
                        ty: x.1,
                    },
                ));
            }
            "dcount" | "dcountif" => {
                let cond = name == "dcountif";
                arity(if cond { 2 } else { 1 }, if cond { 3 } else { 2 })?;
                let x = scalar(0)?;
                let pred = if cond {
                    Some(bool_arg(scalar(1)?, args_v[1].span, name)?)
                } else {
                    None
                };
                // dcount is documented as an estimate; kqlite counts exactly,
                // which is within any accuracy level the second argument asks for.
                let out_name = implicit(name, args_v.first().copied())?;
                let c = count::count_udaf().call(vec![only_if(x.0, pred)?]);
                let c = build(c.distinct())?;
                let v = plan.add(c);
                plan.outputs.push((
                    v,
                    Column {
                        name: out_name,
                        ty: ScalarType::Long,
                    },
                ));
            }
            "make_set" | "make_set_if" | "make_list" | "make_list_if" => {
                let cond = name.ends_with("_if");
                arity(if cond { 2 } else { 1 }, if cond { 3 } else { 2 })?;
                let x = scalar(0)?;
                let mode = match (x.1, name.starts_with("make_set")) {
                    (ScalarType::Dynamic, true) => 2i64,
                    (ScalarType::Dynamic, false) => 1,
                    _ => 0,
                };
                let mut keep = x.0.clone().is_not_null();
                if cond {
                    keep = keep.and(bool_arg(scalar(1)?, args_v[1].span, name)?);
                }
                let max_at = if cond { 2 } else { 1 };
                let max = match args_v.get(max_at) {
                    Some(m) => {
                        let (mx, mt) = scalar(max_at)?;
                        match (mx, mt) {
                            (Expr::Literal(ScalarValue::Int32(Some(v)), _), _) => i64::from(v),
                            (Expr::Literal(ScalarValue::Int64(Some(v)), _), _) => v,
                            _ => {
                                return Err(Error::invalid(
                                    m.span,
                                    "the maximum size must be a constant integer",
                                ));
                            }
                        }
                    }
                    // make-set page: "maxSize ... default and max value of 1048576".
                    None => 1_048_576,
                };
                let prefix = if name.starts_with("make_set") {
                    "set"
                } else {
                    "list"
                };
                let out_name = implicit(prefix, args_v.first().copied())?;
                let mut b = array_agg::array_agg_udaf().call(vec![x.0]).filter(keep);
                if prefix == "set" {
                    b = b.distinct();
                }
                let v = plan.add(build(b)?);
                let out = functions::call("kql_list_to_dynamic", vec![v, lit(max), lit(mode)]);
                plan.outputs.push((
                    out,
                    Column {
                        name: out_name,
                        ty: ScalarType::Dynamic,
                    },
                ));
            }
            "make_bag" | "make_bag_if" => {
                let cond = name == "make_bag_if";
                arity(if cond { 2 } else { 1 }, if cond { 3 } else { 2 })?;
                let x = scalar(0)?;
                if x.1 != ScalarType::Dynamic {
                    return Err(Error::type_error(
                        args_v[0].span,
                        format!("`{name}` takes property bags (dynamic), not {}", x.1.name()),
                    ));
                }
                let mut keep = x.0.clone().is_not_null();
                if cond {
                    keep = keep.and(bool_arg(scalar(1)?, args_v[1].span, name)?);
                }
                // The reference never shows make_bag's implicit name: ask for one.
                let Some(out_name) = explicit.clone() else {
                    return Err(Error::unsupported(
                        item.expr.span,
                        format!("the implicit name of `{name}` (write Name = {name}(...))"),
                    ));
                };
                let b = array_agg::array_agg_udaf().call(vec![x.0]).filter(keep);
                let v = plan.add(build(b)?);
                // make-bag page: maxSize default 1048576 keys.
                let out =
                    functions::call("kql_list_to_dynamic", vec![v, lit(1_048_576i64), lit(3i64)]);
                plan.outputs.push((
                    out,
                    Column {
                        name: out_name,
                        ty: ScalarType::Dynamic,
                    },
                ));
            }
            "percentile" => {
                arity(2, 2)?;
                let x = scalar(0)?;
                if !is_numeric(x.1) && !matches!(x.1, ScalarType::DateTime | ScalarType::Timespan) {
                    return Err(Error::type_error(
                        args_v[0].span,
                        "percentile needs a number",
                    ));
                }
                let p = match scalar(1)?.0 {
                    Expr::Literal(ScalarValue::Int32(Some(v)), _) => f64::from(v),
                    Expr::Literal(ScalarValue::Int64(Some(v)), _) => v as f64,
                    Expr::Literal(ScalarValue::Float64(Some(v)), _) => v,
                    _ => {
                        return Err(Error::invalid(
                            args_v[1].span,
                            "the percentile must be a constant",
                        ));
                    }
                };
                if !(0.0..=100.0).contains(&p) {
                    return Err(Error::invalid(
                        args_v[1].span,
                        "the percentile must be between 0 and 100",
                    ));
                }
                let out_name = match &explicit {
                    Some(e) => e.clone(),
                    None => {
                        let base = implicit("percentile", args_v.first().copied())?;
                        format!("{base}_{}", crate::format::real(p).replace('.', "_"))
                    }
                };
                // The reference defines percentile() by the nearest rank:
                // the value at rank ceil(p/100 * n) of the sorted non-null values.
                let b = array_agg::array_agg_udaf()
                    .call(vec![x.0.clone()])
                    .filter(x.0.is_not_null());
                let values = plan.add(build(b)?);
                let sorted = array_sort::array_sort(values.clone(), lit("ASC"), lit("NULLS LAST"));
                let n = cast(length::array_length(values), DataType::Float64);
                let rank = datafusion::functions::math::ceil().call(vec![n * lit(p / 100.0)]);
                let rank = datafusion::functions::core::greatest()
                    .call(vec![cast(rank, DataType::Int64), lit(1i64)]);
                let out = extract::array_element(sorted, rank);
                plan.outputs.push((
                    out,
                    Column {
                        name: out_name,
                        ty: x.1,
                    },
                ));
            }
            "stdev" | "stdevp" | "variance" | "variancep" => {
                arity(1, 1)?;
                let x = scalar(0)?;
                if !is_numeric(x.1) {
                    return Err(Error::type_error(
                        args_v[0].span,
                        format!("`{name}` needs a number"),
                    ));
                }
                let out_name = implicit(name, args_v.first().copied())?;
                let f = match name {
                    "stdev" => stddev::stddev_udaf(),
                    "stdevp" => stddev::stddev_pop_udaf(),
                    "variance" => variance::var_samp_udaf(),
                    _ => variance::var_pop_udaf(),
                };
                let v = plan.add(f.call(vec![cast(x.0, DataType::Float64)]));
                // Empty input gives 0 (summarize page, default values); so does
                // a single value, whose sample deviation is undefined.
                let out = datafusion::functions::core::coalesce().call(vec![v, lit(0.0)]);
                plan.outputs.push((
                    out,
                    Column {
                        name: out_name,
                        ty: ScalarType::Real,
                    },
                ));
            }
            "arg_max" | "arg_min" | "take_any" | "any" => {
                let is_arg = name.starts_with("arg_");
                arity(if is_arg { 2 } else { 1 }, 64)?;
                let mut fields: Vec<(Expr, Column)> = Vec::new();
                let mut order = None;
                let mut written = args_v.iter().enumerate();
                if is_arg {
                    let (k, kt) = scalar(0)?;
                    let kname = match (item.names.first(), &args_v[0].kind) {
                        (Some(i), _) => i.name.clone(),
                        (None, ExprKind::Name(i)) => i.name.clone(),
                        (None, _) => {
                            return Err(Error::unsupported(
                                args_v[0].span,
                                format!(
                                    "`{name}` over an expression without a name (write Name = expr)"
                                ),
                            ));
                        }
                    };
                    order = Some(k.clone().sort(name == "arg_min", false));
                    fields.push((
                        k,
                        Column {
                            name: kname,
                            ty: kt,
                        },
                    ));
                    written.next();
                }
                for (i, a) in written {
                    if matches!(a.kind, ExprKind::Star) {
                        for c in &rel.columns {
                            let taken = fields.iter().any(|(_, f)| f.name == c.name);
                            if !by_names.contains(&c.name) && !taken {
                                fields.push((column(&c.name), c.clone()));
                            }
                        }
                        continue;
                    }
                    let (x, ty) = scalar(i)?;
                    // `any_x = take_any(x)`: a single taken value may be named.
                    let single = !is_arg && args_v.len() == 1;
                    let fname = match (&a.kind, &explicit) {
                        (_, Some(n)) if single => n.clone(),
                        (ExprKind::Name(id), _) => id.name.clone(),
                        _ => {
                            return Err(Error::unsupported(
                                a.span,
                                format!("`{name}` over an expression without a name"),
                            ));
                        }
                    };
                    fields.push((x, Column { name: fname, ty }));
                }
                let mut struct_args = Vec::new();
                for (i, (x, _)) in fields.iter().enumerate() {
                    struct_args.push(lit(format!("f{i}")));
                    struct_args.push(x.clone());
                }
                let record = datafusion::functions::core::named_struct().call(struct_args);
                let first = first_last::first_value_udaf().call(vec![record]);
                let agg = match order {
                    Some(o) => build(first.order_by(vec![o]))?,
                    None => first,
                };
                let v = plan.add(agg);
                for (i, (_, c)) in fields.into_iter().enumerate() {
                    let get = datafusion::functions::core::get_field()
                        .call(vec![v.clone(), lit(format!("f{i}"))]);
                    let get = if c.ty == ScalarType::String {
                        datafusion::functions::core::coalesce().call(vec![get, lit("")])
                    } else {
                        get
                    };
                    plan.outputs.push((get, c));
                }
            }
            _ => {
                return Err(Error::unsupported(
                    f.span,
                    format!("aggregation function `{name}`"),
                ));
            }
        }
        Ok(())
    }
}
