//! String operators (string-operators page), `in`-style lists and `between`.
//!
//! KQL strings are never null, so the `has`/`contains`/... family and their
//! negations are plain predicates over text. A non-string operand is first
//! converted with `tostring` semantics (null -> ""), which gives KQL's null
//! rule for free: `long(null) has "x"` is false and `!has` is true.

use super::arith::cast;
use super::expr::{binary, comparable, is_numeric};
use super::{Planner, Relation};
use crate::error::{Error, Result};
use crate::functions;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, Operator, Subquery, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, BinaryOp, ListOp, ScalarType};
use serde_json::Value;
use std::ops::Not;
use std::sync::Arc;

/// `tostring(x)` for a value of KQL type `ty`: null becomes "".
pub(crate) fn to_text(x: Expr, ty: ScalarType) -> Expr {
    let empty = || lit("");
    let or_empty = |x: Expr| datafusion::functions::core::coalesce().call(vec![x, empty()]);
    match ty {
        ScalarType::String => x,
        ScalarType::Guid => or_empty(x),
        ScalarType::Dynamic => match x {
            // tostring(d.Name): one pass over d instead of two.
            Expr::ScalarFunction(f) if f.func.name() == "kql_dyn_get_key" => {
                functions::call("kql_dyn_get_text", f.args)
            }
            x => functions::call("kql_dynamic_tostring", vec![x]),
        },
        ScalarType::Real => functions::call("kql_real_tostring", vec![x]),
        ScalarType::DateTime => functions::call("kql_datetime_tostring", vec![x]),
        ScalarType::Timespan => functions::call("kql_timespan_tostring", vec![x]),
        ScalarType::Int | ScalarType::Long | ScalarType::Bool | ScalarType::Decimal => {
            or_empty(cast(x, DataType::Utf8))
        }
    }
}

fn lower(x: Expr) -> Expr {
    datafusion::functions::string::lower().call(vec![x])
}

fn coalesce_false(x: Expr) -> Expr {
    datafusion::functions::core::coalesce().call(vec![x, lit(false)])
}

impl Planner<'_> {
    /// `=~`, `!~` and the has/contains/startswith/endswith/matches family.
    pub(crate) fn string_op(
        &self,
        op: BinaryOp,
        (l, lt): (Expr, ScalarType),
        (r, rt): (Expr, ScalarType),
        span: Span,
    ) -> Result<(Expr, ScalarType)> {
        use BinaryOp::*;
        let text_like = |t| {
            matches!(
                t,
                ScalarType::String | ScalarType::Guid | ScalarType::Dynamic
            )
        };
        if matches!(op, EqTilde | NotEqTilde) && !(text_like(lt) && text_like(rt)) {
            return Err(Error::type_error(
                span,
                format!(
                    "`{}` compares strings, not {} and {}",
                    op.as_str(),
                    lt.name(),
                    rt.name()
                ),
            ));
        }
        let (l, r) = (to_text(l, lt), to_text(r, rt));
        if op == MatchesRegex {
            check_regex(&r, span)?;
            let x = datafusion::functions::regex::regexp_like().call(vec![l, r]);
            return Ok((coalesce_false(x), ScalarType::Bool));
        }
        let (name, negated) = match op {
            EqTilde => ("kql_equals_ci", false),
            NotEqTilde => ("kql_equals_ci", true),
            Has => ("kql_has", false),
            NotHas => ("kql_has", true),
            HasCs => ("kql_has_cs", false),
            NotHasCs => ("kql_has_cs", true),
            HasPrefix => ("kql_hasprefix", false),
            NotHasPrefix => ("kql_hasprefix", true),
            HasPrefixCs => ("kql_hasprefix_cs", false),
            NotHasPrefixCs => ("kql_hasprefix_cs", true),
            HasSuffix => ("kql_hassuffix", false),
            NotHasSuffix => ("kql_hassuffix", true),
            HasSuffixCs => ("kql_hassuffix_cs", false),
            NotHasSuffixCs => ("kql_hassuffix_cs", true),
            Contains => ("kql_contains", false),
            NotContains => ("kql_contains", true),
            ContainsCs => ("kql_contains_cs", false),
            NotContainsCs => ("kql_contains_cs", true),
            StartsWith => ("kql_startswith", false),
            NotStartsWith => ("kql_startswith", true),
            StartsWithCs => ("kql_startswith_cs", false),
            NotStartsWithCs => ("kql_startswith_cs", true),
            EndsWith => ("kql_endswith", false),
            NotEndsWith => ("kql_endswith", true),
            EndsWithCs => ("kql_endswith_cs", false),
            NotEndsWithCs => ("kql_endswith_cs", true),
            other => {
                return Err(Error::unsupported(
                    span,
                    format!("operator `{}`", other.as_str()),
                ));
            }
        };
        let x = functions::call(name, vec![l, r]);
        Ok((if negated { x.not() } else { x }, ScalarType::Bool))
    }

    /// `in`, `!in`, `in~`, `!in~`, `has_any`, `has_all`.
    pub(crate) fn in_list(
        &mut self,
        op: ListOp,
        expr: &ast::Expr,
        list: &[ast::Expr],
        e: &ast::Expr,
        rel: &Relation,
    ) -> Result<(Expr, ScalarType)> {
        let (mut x, mut xt) = self.scalar(expr, rel)?;
        if let [single] = list
            && self.is_tabular(single)
        {
            return self.in_table(op, (x, xt), single, e.span);
        }
        let mut items = Vec::new();
        for item in list {
            let (v, vt) = self.scalar(item, rel)?;
            if vt == ScalarType::Dynamic {
                items.extend(expand_dynamic_list(&v).ok_or_else(|| {
                    Error::unsupported(item.span, "a non-constant dynamic value in a list")
                })?);
            } else {
                items.push((v, vt));
            }
        }
        let bool_ = ScalarType::Bool;
        if xt == ScalarType::Dynamic && matches!(op, ListOp::In | ListOp::NotIn) {
            // A dynamic left side compares as the list's type (the
            // underlying value), or as text for a mixed list.
            let target = match items.first() {
                Some((_, t)) if items.iter().all(|(_, u)| u == t) => *t,
                _ => ScalarType::String,
            };
            x = super::call::from_dynamic(x, target);
            xt = target;
        }
        match op {
            ListOp::In | ListOp::NotIn => {
                for (_, vt) in &items {
                    let guid_text = xt == ScalarType::Guid && *vt == ScalarType::String;
                    if !(comparable(xt, *vt) || guid_text) {
                        return Err(Error::type_error(
                            e.span,
                            format!(
                                "`{}` compares {} with {}",
                                op.as_str(),
                                xt.name(),
                                vt.name()
                            ),
                        ));
                    }
                }
                let values = items.into_iter().map(|(v, _)| v).collect();
                let found = coalesce_false(Expr::InList(InList::new(Box::new(x), values, false)));
                Ok((if op == ListOp::In { found } else { found.not() }, bool_))
            }
            ListOp::InCi | ListOp::NotInCi => {
                let x = lower(to_text(x, xt));
                let values = items
                    .into_iter()
                    .map(|(v, t)| lower(to_text(v, t)))
                    .collect();
                let found = Expr::InList(InList::new(Box::new(x), values, false));
                Ok((
                    if op == ListOp::InCi {
                        found
                    } else {
                        found.not()
                    },
                    bool_,
                ))
            }
            ListOp::HasAny | ListOp::HasAll => {
                let x = to_text(x, xt);
                let tests = items
                    .into_iter()
                    .map(|(v, t)| functions::call("kql_has", vec![x.clone(), to_text(v, t)]));
                let (o, empty) = if op == ListOp::HasAny {
                    (Operator::Or, false)
                } else {
                    (Operator::And, true)
                };
                let combined = tests.reduce(|a, b| binary(a, o, b)).unwrap_or(lit(empty));
                Ok((combined, bool_))
            }
        }
    }

    /// `x in (T)`: T's first column, collected once (an uncorrelated scalar
    /// subquery the optimiser turns into a join).
    fn in_table(
        &mut self,
        op: ListOp,
        (x, xt): (Expr, ScalarType),
        table: &ast::Expr,
        span: Span,
    ) -> Result<(Expr, ScalarType)> {
        let rel = self.tabular(table)?;
        let Some(first) = rel.columns.first().cloned() else {
            return Err(Error::invalid(table.span, "the table has no columns"));
        };
        let ci = matches!(op, ListOp::InCi | ListOp::NotInCi);
        match op {
            ListOp::In | ListOp::NotIn | ListOp::InCi | ListOp::NotInCi => {}
            _ => {
                return Err(Error::unsupported(
                    span,
                    format!("`{}` with a tabular list", op.as_str()),
                ));
            }
        }
        if !ci && !comparable(xt, first.ty) {
            return Err(Error::type_error(
                span,
                format!(
                    "`{}` compares {} with column `{}` of type {}",
                    op.as_str(),
                    xt.name(),
                    first.name,
                    first.ty.name()
                ),
            ));
        }
        let col = super::expr::column(&first.name);
        let (x, col) = if ci {
            (lower(to_text(x, xt)), lower(to_text(col, first.ty)))
        } else if is_numeric(xt) && xt != first.ty {
            let to = crate::types::arrow_type(super::expr::promote(xt, first.ty));
            (cast(x, to.clone()), cast(col, to))
        } else {
            (x, col)
        };
        let agg = datafusion::functions_aggregate::array_agg::array_agg_udaf().call(vec![col]);
        let plan = LogicalPlanBuilder::from(rel.plan)
            .aggregate(Vec::<Expr>::new(), vec![agg])
            .and_then(|b| b.build())
            .map_err(|err| Error::plan(table.span, err))?;
        let sub = Expr::ScalarSubquery(Subquery {
            subquery: Arc::new(plan),
            outer_ref_columns: vec![],
            spans: Default::default(),
        });
        let has = datafusion::functions_nested::array_has::array_has_udf().call(vec![sub, x]);
        let found = coalesce_false(has);
        let negated = matches!(op, ListOp::NotIn | ListOp::NotInCi);
        Ok((if negated { found.not() } else { found }, ScalarType::Bool))
    }

    /// `x between (low .. high)`, inclusive; a timespan upper bound on a
    /// datetime or timespan is added to the lower bound.
    pub(crate) fn between(
        &mut self,
        negated: bool,
        expr: &ast::Expr,
        low: &ast::Expr,
        high: &ast::Expr,
        e: &ast::Expr,
        rel: &Relation,
    ) -> Result<(Expr, ScalarType)> {
        let (x, xt) = self.scalar(expr, rel)?;
        let (lo, lot) = self.scalar(low, rel)?;
        let (hi, hit) = self.scalar(high, rel)?;
        let hi = if xt == ScalarType::DateTime && hit == ScalarType::Timespan {
            binary(lo.clone(), Operator::Plus, hi)
        } else if !comparable(xt, hit) {
            return Err(Error::type_error(
                high.span,
                format!("`between` bound of type {} for a {}", hit.name(), xt.name()),
            ));
        } else {
            hi
        };
        if !comparable(xt, lot) || matches!(xt, ScalarType::String | ScalarType::Bool) {
            return Err(Error::type_error(
                e.span,
                format!(
                    "`between` is defined for numbers, datetimes and timespans, not {}",
                    xt.name()
                ),
            ));
        }
        let x = if negated {
            binary(
                binary(x.clone(), Operator::Lt, lo),
                Operator::Or,
                binary(x, Operator::Gt, hi),
            )
        } else {
            binary(
                binary(x.clone(), Operator::GtEq, lo),
                Operator::And,
                binary(x, Operator::LtEq, hi),
            )
        };
        Ok((x, ScalarType::Bool))
    }
}

/// The elements of a constant dynamic array, as typed literals.
pub(crate) fn expand_dynamic_list(v: &Expr) -> Option<Vec<(Expr, ScalarType)>> {
    let Expr::Literal(ScalarValue::Utf8(text), _) = v else {
        return None;
    };
    let Some(text) = text else {
        return Some(Vec::new());
    };
    let value: Value = serde_json::from_str(text).ok()?;
    // in-operator page: "Nested arrays are flattened into a single list of
    // values" (`x in (dynamic([1,[2,3]]))` is `x in (1,2,3)`).
    fn flatten(v: Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.into_iter().for_each(|i| flatten(i, out)),
            other => out.push(other),
        }
    }
    let mut items = Vec::new();
    flatten(value, &mut items);
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Some((lit(s), ScalarType::String)),
            Value::Bool(b) => Some((lit(b), ScalarType::Bool)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Some((lit(i), ScalarType::Long)),
                None => n.as_f64().map(|f| (lit(f), ScalarType::Real)),
            },
            _ => None,
        })
        .collect()
}

/// A constant regular expression is checked when the query is planned, so
/// a bad pattern is an invalid query (exit 1), not a failure halfway
/// through the data.
pub(crate) fn check_regex(x: &Expr, span: Span) -> Result<()> {
    if let Expr::Literal(ScalarValue::Utf8(Some(p)), _) = x
        && let Err(e) = regex::Regex::new(p)
    {
        return Err(Error::invalid(
            span,
            format!(
                "invalid regular expression: {}",
                e.to_string().lines().last().unwrap_or("")
            ),
        ));
    }
    Ok(())
}
