//! Scalar expressions: KQL expression AST to DataFusion `Expr`, with the KQL
//! type of the result.
//!
//! Only constructs whose Kusto semantics are reproduced exactly are lowered;
//! everything else is rejected by name with its span.

use super::{Binding, Planner, Relation};
use crate::datetime::parse_datetime;
use crate::error::{Error, Result, codes};
use datafusion::common::{Column as DfColumn, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, lit, when};
use kqlite_syntax::Diagnostic;
use kqlite_syntax::ast::{self, BinaryOp, ExprKind, Literal, ScalarType, UnaryOp};
use kqlite_syntax::suggest::did_you_mean;

const NANOS_PER_TICK: i64 = 100;

/// A column reference by exact name (KQL names may hold any character).
pub(crate) fn column(name: &str) -> Expr {
    Expr::Column(DfColumn::new_unqualified(name))
}

pub(crate) fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

pub(crate) fn timestamp(nanos: Option<i64>) -> Expr {
    lit(ScalarValue::TimestampNanosecond(nanos, Some("UTC".into())))
}

pub(crate) fn is_numeric(t: ScalarType) -> bool {
    matches!(t, ScalarType::Int | ScalarType::Long | ScalarType::Real)
}

/// The result type of arithmetic on two numbers.
pub(crate) fn promote(a: ScalarType, b: ScalarType) -> ScalarType {
    use ScalarType::*;
    match (a, b) {
        (Real, _) | (_, Real) => Real,
        // numerical-operators page: "If both operands are of integer types
        // (int or long), the result is of type long."
        _ => Long,
    }
}

impl Planner<'_> {
    pub(crate) fn scalar(&mut self, e: &ast::Expr, rel: &Relation) -> Result<(Expr, ScalarType)> {
        match &e.kind {
            ExprKind::Literal(l) => self.literal(l, e),
            ExprKind::Name(i) => self.name(i, rel),
            ExprKind::Paren(x) => self.scalar(x, rel),
            ExprKind::Unary { op, expr } => {
                let (x, ty) = self.scalar(expr, rel)?;
                if !(is_numeric(ty) || ty == ScalarType::Timespan) {
                    return Err(Error::type_error(
                        e.span,
                        format!("unary minus needs a number or timespan, not {}", ty.name()),
                    ));
                }
                if *op == UnaryOp::Plus {
                    return Ok((x, ty));
                }
                // Constants fold (`-1h`, `-5`); timespans negate as nanoseconds
                // (DataFusion has no negation of durations).
                Ok(match x {
                    Expr::Literal(ScalarValue::Int64(Some(v)), _) => {
                        (lit(ScalarValue::Int64(v.checked_neg())), ty)
                    }
                    Expr::Literal(ScalarValue::Int32(Some(v)), _) => {
                        (lit(ScalarValue::Int32(v.checked_neg())), ty)
                    }
                    Expr::Literal(ScalarValue::Float64(Some(v)), _) => (lit(-v), ty),
                    Expr::Literal(ScalarValue::DurationNanosecond(Some(v)), _) => {
                        (lit(ScalarValue::DurationNanosecond(v.checked_neg())), ty)
                    }
                    x if ty == ScalarType::Timespan => {
                        let n =
                            super::arith::cast(x, datafusion::arrow::datatypes::DataType::Int64);
                        (
                            super::arith::cast(
                                Expr::Negative(Box::new(n)),
                                crate::types::arrow_type(ty),
                            ),
                            ty,
                        )
                    }
                    x => (Expr::Negative(Box::new(x)), ty),
                })
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, e, rel),
            ExprKind::Call { callee, args } => self.call(callee, args, e, rel),
            ExprKind::InList { op, expr, list } => self.in_list(*op, expr, list, e, rel),
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => self.between(*negated, expr, low, high, e, rel),
            ExprKind::Member { expr, name } => {
                let base = self.dynamic_base(expr, rel)?;
                let key = lit(ScalarValue::Utf8(Some(name.name.clone())));
                Ok((
                    crate::functions::call("kql_dyn_get_key", vec![base, key]),
                    ScalarType::Dynamic,
                ))
            }
            ExprKind::Index { expr, index } => {
                let base = self.dynamic_base(expr, rel)?;
                let (i, it) = self.scalar(index, rel)?;
                let f = match it {
                    ScalarType::String => "kql_dyn_get_key",
                    ScalarType::Int | ScalarType::Long => "kql_dyn_get_index",
                    other => {
                        return Err(Error::type_error(
                            index.span,
                            format!(
                                "an index is a string or a whole number, not {}",
                                other.name()
                            ),
                        ));
                    }
                };
                let i = if it == ScalarType::Int {
                    super::arith::cast(i, datafusion::arrow::datatypes::DataType::Int64)
                } else {
                    i
                };
                Ok((
                    crate::functions::call(f, vec![base, i]),
                    ScalarType::Dynamic,
                ))
            }
            ExprKind::TypeOf(_) => Err(Error::invalid(
                e.span,
                "`typeof(...)` is only valid as a function argument (as in extract's last one)",
            )),
            ExprKind::Star | ExprKind::Wildcard(_) => {
                Err(Error::invalid(e.span, "a wildcard is not a value here"))
            }
            ExprKind::Pipe { .. } | ExprKind::Source(_) => Err(Error::invalid(
                e.span,
                "a table is not a scalar value here (wrap it in toscalar())",
            )),
        }
    }

    /// The value `.name` / `[i]` applies to: it must be dynamic.
    fn dynamic_base(&mut self, e: &ast::Expr, rel: &Relation) -> Result<Expr> {
        let (x, ty) = self.scalar(e, rel)?;
        if ty != ScalarType::Dynamic {
            return Err(Error::type_error(
                e.span,
                format!(
                    "only dynamic values have properties or elements; this is {}",
                    ty.name()
                ),
            ));
        }
        Ok(x)
    }

    fn literal(&mut self, l: &Literal, e: &ast::Expr) -> Result<(Expr, ScalarType)> {
        Ok(match l {
            Literal::Bool(v) => (lit(ScalarValue::Boolean(*v)), ScalarType::Bool),
            Literal::Int(v) => (lit(ScalarValue::Int32(*v)), ScalarType::Int),
            Literal::Long(v) => (lit(ScalarValue::Int64(*v)), ScalarType::Long),
            Literal::Real(v) => (lit(ScalarValue::Float64(v.map(|r| r.0))), ScalarType::Real),
            Literal::String(s) => (
                lit(ScalarValue::Utf8(Some(s.value.clone()))),
                ScalarType::String,
            ),
            Literal::DateTime(None) => (timestamp(None), ScalarType::DateTime),
            Literal::DateTime(Some(text)) => {
                let text = text
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
                    .unwrap_or(text);
                let nanos = parse_datetime(text).ok_or_else(|| {
                    Error::invalid(
                        e.span,
                        format!("`{text}` is not a datetime kqlite can read"),
                    )
                })?;
                (timestamp(Some(nanos)), ScalarType::DateTime)
            }
            Literal::Timespan(t) => {
                let nanos = match t {
                    Some(t) => Some(
                        t.checked_mul(NANOS_PER_TICK)
                            .ok_or_else(|| Error::invalid(e.span, "timespan out of range"))?,
                    ),
                    None => None,
                };
                (
                    lit(ScalarValue::DurationNanosecond(nanos)),
                    ScalarType::Timespan,
                )
            }
            Literal::Decimal(_) => return Err(Error::unsupported(e.span, "decimal literals")),
            Literal::Guid(None) => (lit(ScalarValue::Utf8(None)), ScalarType::Guid),
            Literal::Guid(Some(text)) => {
                let g = crate::functions::text::parse_guid(text)
                    .ok_or_else(|| Error::invalid(e.span, format!("`{text}` is not a guid")))?;
                (lit(ScalarValue::Utf8(Some(g))), ScalarType::Guid)
            }
            Literal::Dynamic(d) => {
                let v = super::dynamic::literal_json(d).map_err(|m| Error::invalid(e.span, m))?;
                let text = (!v.is_null()).then(|| v.to_string());
                (lit(ScalarValue::Utf8(text)), ScalarType::Dynamic)
            }
        })
    }

    fn name(&mut self, i: &ast::Ident, rel: &Relation) -> Result<(Expr, ScalarType)> {
        if let Some(c) = rel.column(&i.name) {
            return Ok((column(&c.name), c.ty));
        }
        match self.lookup(&i.name).cloned() {
            Some(Binding::Scalar(x, ty)) => return Ok((x, ty)),
            // let page: a function without parameters may be called without
            // parentheses (`let a = () {123}; ... x * a`).
            Some(Binding::Function(def)) if def.params.is_empty() => {
                let call = ast::Expr {
                    kind: ExprKind::Call {
                        callee: Box::new(ast::Expr {
                            kind: ExprKind::Name(i.clone()),
                            span: i.span,
                        }),
                        args: Vec::new(),
                    },
                    span: i.span,
                };
                return self.scalar(&call, rel);
            }
            _ => {}
        }
        let mut d = Diagnostic::new(
            codes::UNKNOWN_COLUMN,
            format!("unknown column `{}`", i.name),
        )
        .with_label(i.span, "no column or scalar let has this name");
        if let Some(s) = did_you_mean(&i.name, rel.columns.iter().map(|c| c.name.as_str())) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        Err(Error::Query(d))
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        left: &ast::Expr,
        right: &ast::Expr,
        e: &ast::Expr,
        rel: &Relation,
    ) -> Result<(Expr, ScalarType)> {
        let (mut l, mut lt) = self.scalar(left, rel)?;
        let (mut r, mut rt) = self.scalar(right, rel)?;
        // Comparing a dynamic value with a scalar compares the underlying
        // value: the dynamic side is converted to the scalar's type.
        let comparison = matches!(
            op,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
        );
        if comparison && lt == ScalarType::Dynamic && rt != ScalarType::Dynamic {
            l = super::call::from_dynamic(l, rt);
            lt = rt;
        } else if comparison && rt == ScalarType::Dynamic && lt != ScalarType::Dynamic {
            r = super::call::from_dynamic(r, lt);
            rt = lt;
        }
        let mismatch = || {
            Error::type_error(
                e.span,
                format!(
                    "`{}` cannot be applied to {} and {}",
                    op.as_str(),
                    lt.name(),
                    rt.name()
                ),
            )
        };
        use ScalarType::*;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                if lt != Bool || rt != Bool {
                    return Err(mismatch());
                }
                let o = if op == BinaryOp::And {
                    Operator::And
                } else {
                    Operator::Or
                };
                Ok((binary(l, o, r), Bool))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                super::arith::arithmetic(op, (l, lt), (r, rt)).ok_or_else(mismatch)
            }
            BinaryOp::Eq | BinaryOp::NotEq => {
                comparable(lt, rt).then_some(()).ok_or_else(mismatch)?;
                if lt == String && rt == String {
                    // Strings are never null, so SQL equality is KQL's.
                    let o = if op == BinaryOp::Eq {
                        Operator::Eq
                    } else {
                        Operator::NotEq
                    };
                    return Ok((binary(l, o, r), Bool));
                }
                // null-values page: with exactly one null operand `==` is false
                // and `!=` true; with two, null is "sticky". (SQL gives null
                // for one null operand, and `not` would then drop the row.)
                let both_null = l.clone().is_null().and(r.clone().is_null());
                let eq = binary(l, Operator::Eq, r);
                let decided = if op == BinaryOp::Eq {
                    Expr::IsTrue(Box::new(eq))
                } else {
                    Expr::IsNotTrue(Box::new(eq))
                };
                let x = when(both_null, lit(ScalarValue::Boolean(None)))
                    .otherwise(decided)
                    .map_err(|err| Error::plan(e.span, err))?;
                Ok((x, Bool))
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                comparable(lt, rt).then_some(()).ok_or_else(mismatch)?;
                if lt == String || lt == Bool {
                    return Err(Error::unsupported(
                        e.span,
                        "ordering comparison of strings or bools",
                    ));
                }
                let o = match op {
                    BinaryOp::Lt => Operator::Lt,
                    BinaryOp::Le => Operator::LtEq,
                    BinaryOp::Gt => Operator::Gt,
                    _ => Operator::GtEq,
                };
                // A null operand keeps the result null: the row is filtered out.
                Ok((binary(l, o, r), Bool))
            }
            BinaryOp::SearchHas => Err(Error::unsupported(
                e.span,
                "`:` outside search/find predicates",
            )),
            _ => self.string_op(op, (l, lt), (r, rt), e.span),
        }
    }

    /// A timespan argument that must be known at plan time (as `ago(1d)`'s is).
    pub(crate) fn constant_timespan(&mut self, e: &ast::Expr, rel: &Relation) -> Result<i64> {
        let (x, ty) = self.scalar(e, rel)?;
        if ty != ScalarType::Timespan {
            return Err(Error::type_error(
                e.span,
                format!("expected a timespan, not {}", ty.name()),
            ));
        }
        match x {
            Expr::Literal(ScalarValue::DurationNanosecond(Some(n)), _) => Ok(n),
            Expr::Negative(inner) => match *inner {
                Expr::Literal(ScalarValue::DurationNanosecond(Some(n)), _) => Ok(-n),
                _ => Err(Error::unsupported(e.span, "a computed timespan here")),
            },
            _ => Err(Error::unsupported(e.span, "a computed timespan here")),
        }
    }
}

/// Whether `==`-style comparison is defined between two KQL types.
pub(crate) fn comparable(a: ScalarType, b: ScalarType) -> bool {
    a == b || (is_numeric(a) && is_numeric(b))
}
