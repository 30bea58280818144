//! Arithmetic with KQL's type rules (numerical-operators page): integer
//! operands give long and integer division truncates; `%` is never negative;
//! datetime/timespan arithmetic; timespan / timespan is real.

use super::expr::{binary, is_numeric, promote};
use crate::types::arrow_type;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, Operator, lit, when};
use kqlite_syntax::ast::{BinaryOp, ScalarType};

pub(crate) fn cast(x: Expr, to: DataType) -> Expr {
    Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(x), to))
}

/// A number or timespan as Float64 (timespans in nanoseconds).
fn as_f64(x: Expr) -> Expr {
    cast(x, DataType::Float64)
}

fn nanos(x: Expr) -> Expr {
    cast(x, DataType::Int64)
}

fn to_span(x: Expr) -> Expr {
    cast(x, arrow_type(ScalarType::Timespan))
}

fn operator(op: BinaryOp) -> Operator {
    match op {
        BinaryOp::Add => Operator::Plus,
        BinaryOp::Sub => Operator::Minus,
        BinaryOp::Mul => Operator::Multiply,
        BinaryOp::Div => Operator::Divide,
        _ => Operator::Modulo,
    }
}

/// Numeric operands cast to the result type.
fn numeric(x: Expr, ty: ScalarType, to: ScalarType) -> Expr {
    if ty == to { x } else { cast(x, arrow_type(to)) }
}

/// `N % D` in [0, |D|): the numerical-operators page's example
/// `-14 % 12` = 10 and `14 % -12` = 2.
fn non_negative_mod(l: Expr, r: Expr) -> Option<Expr> {
    let rem = binary(l, Operator::Modulo, r.clone());
    let abs_d = datafusion::functions::math::abs().call(vec![r]);
    when(
        rem.clone().lt(lit(0i64)),
        binary(rem.clone(), Operator::Plus, abs_d),
    )
    .otherwise(rem)
    .ok()
}

/// The expression and type of `l op r`, or None when KQL does not define it.
pub(crate) fn arithmetic(
    op: BinaryOp,
    (l, lt): (Expr, ScalarType),
    (r, rt): (Expr, ScalarType),
) -> Option<(Expr, ScalarType)> {
    use ScalarType::*;
    let o = operator(op);
    Some(match (lt, rt, op) {
        (a, b, BinaryOp::Mod) if is_numeric(a) && is_numeric(b) => {
            let ty = promote(a, b);
            let (l, r) = (numeric(l, a, ty), numeric(r, b, ty));
            if ty == Real {
                (binary(l, o, r), Real)
            } else {
                (non_negative_mod(l, r)?, ty)
            }
        }
        (a, b, _) if is_numeric(a) && is_numeric(b) => {
            let ty = promote(a, b);
            (binary(numeric(l, a, ty), o, numeric(r, b, ty)), ty)
        }
        (DateTime, Timespan, BinaryOp::Add | BinaryOp::Sub) => (binary(l, o, r), DateTime),
        (Timespan, DateTime, BinaryOp::Add) => (binary(r, o, l), DateTime),
        (DateTime, DateTime, BinaryOp::Sub) => (binary(l, o, r), Timespan),
        (Timespan, Timespan, BinaryOp::Add | BinaryOp::Sub) => (binary(l, o, r), Timespan),
        (Timespan, Timespan, BinaryOp::Div) => (binary(as_f64(l), o, as_f64(r)), Real),
        (Timespan, n, BinaryOp::Mul | BinaryOp::Div) if is_numeric(n) => {
            scale_span(l, o, r, n == Real)
        }
        (n, Timespan, BinaryOp::Mul) if is_numeric(n) => {
            scale_span(r, Operator::Multiply, l, n == Real)
        }
        _ => return None,
    })
}

/// timespan * number, timespan / number: in nanoseconds, back to timespan.
fn scale_span(span: Expr, o: Operator, n: Expr, real: bool) -> (Expr, ScalarType) {
    let x = if real {
        let f = binary(as_f64(span), o, as_f64(n));
        let rounded = datafusion::functions::math::trunc().call(vec![f]);
        to_span(nanos(rounded))
    } else {
        to_span(binary(nanos(span), o, cast(n, DataType::Int64)))
    };
    (x, ScalarType::Timespan)
}

/// A typed null of a KQL type.
pub(crate) fn null_of(ty: ScalarType) -> Expr {
    ScalarValue::try_from(&arrow_type(ty)).map_or_else(|_| lit(ScalarValue::Null), lit)
}
