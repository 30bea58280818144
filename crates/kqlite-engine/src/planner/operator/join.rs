//! `join` and `lookup` (join-operator and lookup-operator pages).
//!
//! - `kind=`: innerunique (join's default: the left side keeps one arbitrary
//!   row per key, then an inner join), inner, leftouter, rightouter,
//!   fullouter, leftsemi, rightsemi, leftanti (alias anti, leftantisemi),
//!   rightanti (rightantisemi). lookup: leftouter (default) or inner.
//! - `on Key`, `on $left.A == $right.B`, several keys; equality only. Keys
//!   compare with `==` semantics: nulls never match.
//! - Output: left columns, then right columns; a right column whose name is
//!   taken gets the suffix 1 (then 2, ...), keys included (`Key`, `Key1`).
//!   Semi and anti joins return one side's columns; lookup drops the right
//!   keys. Strings stay non-null on the outer side (unmatched -> "").

use super::project_columns;
use crate::error::{Error, Result};
use crate::planner::arith::cast;
use crate::planner::expr::{column, comparable, is_numeric, promote};
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use crate::types::arrow_type;
use datafusion::common::{JoinType, NullEquality};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, BinaryOp, ExprKind, ScalarType};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftSemi,
    RightSemi,
    LeftAnti,
    RightAnti,
}

fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "innerunique" => Kind::InnerUnique,
        "inner" => Kind::Inner,
        "leftouter" => Kind::LeftOuter,
        "rightouter" => Kind::RightOuter,
        "fullouter" => Kind::FullOuter,
        "leftsemi" => Kind::LeftSemi,
        "rightsemi" => Kind::RightSemi,
        "leftanti" | "anti" | "leftantisemi" => Kind::LeftAnti,
        "rightanti" | "rightantisemi" => Kind::RightAnti,
        _ => return None,
    })
}

/// `$left.A` / `$right.B`: (is_left, column).
fn side_column(e: &ast::Expr) -> Option<(bool, &ast::Ident)> {
    let ExprKind::Member { expr, name } = &e.kind else {
        return None;
    };
    match &expr.kind {
        ExprKind::Name(s) if s.name == "$left" => Some((true, name)),
        ExprKind::Name(s) if s.name == "$right" => Some((false, name)),
        _ => None,
    }
}

impl Planner<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn plan_join(
        &mut self,
        params: &[ast::OpParam],
        right: &ast::Expr,
        on: &[ast::Expr],
        input: Relation,
        span: Span,
        lookup: bool,
    ) -> Result<Relation> {
        let op = if lookup { "lookup" } else { "join" };
        let mut kind = if lookup {
            Kind::LeftOuter
        } else {
            Kind::InnerUnique
        };
        for p in params {
            match (p.name.name.as_str(), &p.value.kind) {
                ("kind", ExprKind::Name(k)) => {
                    kind = match kind_of(&k.name) {
                        Some(k2) if !lookup || matches!(k2, Kind::LeftOuter | Kind::Inner) => k2,
                        _ => {
                            return Err(Error::invalid(
                                p.value.span,
                                format!("`{}` is not a kind of {op}", k.name),
                            ));
                        }
                    }
                }
                (n, _) if n.starts_with("hint.") => {}
                (n, _) => {
                    return Err(Error::unsupported(
                        p.name.span.to(p.value.span),
                        format!("{op} parameter `{n}`"),
                    ));
                }
            }
        }
        let right_rel = self.tabular(right)?;
        if on.is_empty() {
            return Err(Error::invalid(span, format!("{op} needs `on` keys")));
        }
        // Key pairs by column position on each side.
        let mut keys: Vec<(usize, usize)> = Vec::new();
        let find = |rel: &Relation, id: &ast::Ident, side: &str| -> Result<usize> {
            rel.columns
                .iter()
                .position(|c| c.name == id.name)
                .ok_or_else(|| {
                    Error::Query(
                        kqlite_syntax::Diagnostic::new(
                            crate::error::codes::UNKNOWN_COLUMN,
                            format!("the {side} side of the {op} has no column `{}`", id.name),
                        )
                        .with_label(id.span, "not a column of that side"),
                    )
                })
        };
        // `$left.A == $right.A and $left.B == $right.B` is two keys.
        fn flatten<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
            match &e.kind {
                ExprKind::Binary {
                    op: BinaryOp::And,
                    left,
                    right,
                } => {
                    flatten(left, out);
                    flatten(right, out);
                }
                ExprKind::Paren(x) => flatten(x, out),
                _ => out.push(e),
            }
        }
        let mut conds = Vec::new();
        for k in on {
            flatten(k, &mut conds);
        }
        for k in conds {
            match &k.kind {
                ExprKind::Name(id) => {
                    keys.push((find(&input, id, "left")?, find(&right_rel, id, "right")?));
                }
                ExprKind::Binary {
                    op: BinaryOp::Eq,
                    left,
                    right,
                } => match (side_column(left), side_column(right)) {
                    (Some((true, a)), Some((false, b))) | (Some((false, b)), Some((true, a))) => {
                        keys.push((find(&input, a, "left")?, find(&right_rel, b, "right")?));
                    }
                    _ => {
                        return Err(Error::unsupported(
                            k.span,
                            format!("this {op} condition (use Col or $left.A == $right.B)"),
                        ));
                    }
                },
                _ => {
                    return Err(Error::unsupported(
                        k.span,
                        format!("this {op} condition (use Col or $left.A == $right.B)"),
                    ));
                }
            }
        }
        // Both sides get position-based internal names, plus one key column
        // per pair in the pair's common type.
        let positional = |rel: &Relation, prefix: &str| -> Vec<(Expr, Column)> {
            rel.columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let name = format!("{prefix}{i}");
                    (column(&c.name), Column { name, ty: c.ty })
                })
                .collect()
        };
        let mut lcols = positional(&input, "__l");
        let mut rcols = positional(&right_rel, "__r");
        let mut lkeys = Vec::new();
        let mut rkeys = Vec::new();
        for (n, (li, ri)) in keys.iter().enumerate() {
            let (lc, rc) = (&input.columns[*li], &right_rel.columns[*ri]);
            if !comparable(lc.ty, rc.ty) {
                return Err(Error::type_error(
                    on[n.min(on.len() - 1)].span,
                    format!(
                        "{op} keys `{}` ({}) and `{}` ({}) have different types",
                        lc.name,
                        lc.ty.name(),
                        rc.name,
                        rc.ty.name()
                    ),
                ));
            }
            let ty = if is_numeric(lc.ty) {
                promote(lc.ty, rc.ty)
            } else {
                lc.ty
            };
            let conv = |x: Expr, from: ScalarType| {
                if from == ty {
                    x
                } else {
                    cast(x, arrow_type(ty))
                }
            };
            let (lk, rk) = (format!("__lk{n}"), format!("__rk{n}"));
            lcols.push((
                conv(column(&lc.name), lc.ty),
                Column {
                    name: lk.clone(),
                    ty,
                },
            ));
            rcols.push((
                conv(column(&rc.name), rc.ty),
                Column {
                    name: rk.clone(),
                    ty,
                },
            ));
            lkeys.push(lk);
            rkeys.push(rk);
        }
        let left_p = project_columns(input.clone(), lcols, span)?;
        let right_p = project_columns(right_rel.clone(), rcols, span)?;
        let mut left_plan = left_p.plan;
        if kind == Kind::InnerUnique {
            // One arbitrary left row per key.
            let on_exprs: Vec<Expr> = lkeys.iter().map(|k| column(k)).collect();
            let all: Vec<Expr> = left_p.columns.iter().map(|c| column(&c.name)).collect();
            left_plan = LogicalPlanBuilder::from(left_plan)
                .distinct_on(on_exprs, all, None)
                .and_then(|b| b.build())
                .map_err(|e| Error::plan(span, e))?;
        }
        let join_type = match kind {
            Kind::InnerUnique | Kind::Inner => JoinType::Inner,
            Kind::LeftOuter => JoinType::Left,
            Kind::RightOuter => JoinType::Right,
            Kind::FullOuter => JoinType::Full,
            Kind::LeftSemi => JoinType::LeftSemi,
            Kind::RightSemi => JoinType::RightSemi,
            Kind::LeftAnti => JoinType::LeftAnti,
            Kind::RightAnti => JoinType::RightAnti,
        };
        let lk: Vec<datafusion::common::Column> = lkeys
            .iter()
            .map(|k| datafusion::common::Column::new_unqualified(k.as_str()))
            .collect();
        let rk: Vec<datafusion::common::Column> = rkeys
            .iter()
            .map(|k| datafusion::common::Column::new_unqualified(k.as_str()))
            .collect();
        let joined = LogicalPlanBuilder::from(left_plan)
            .join_detailed(
                right_p.plan,
                join_type,
                (lk, rk),
                None,
                NullEquality::NullEqualsNothing,
            )
            .and_then(|b| b.build())
            .map_err(|e| Error::plan(span, e))?;
        // Output columns with KQL names.
        let left_nullable = matches!(kind, Kind::RightOuter | Kind::FullOuter);
        let right_nullable = matches!(kind, Kind::LeftOuter | Kind::FullOuter);
        let keep_text = |x: Expr, ty: ScalarType, nullable: bool| {
            if nullable && ty == ScalarType::String {
                datafusion::functions::core::coalesce().call(vec![x, lit("")])
            } else {
                x
            }
        };
        let mut out: Vec<(Expr, Column)> = Vec::new();
        let show_left = !matches!(kind, Kind::RightSemi | Kind::RightAnti);
        let show_right = !matches!(kind, Kind::LeftSemi | Kind::LeftAnti);
        if show_left {
            for (i, c) in input.columns.iter().enumerate() {
                out.push((
                    keep_text(column(&format!("__l{i}")), c.ty, left_nullable),
                    c.clone(),
                ));
            }
        }
        if show_right {
            let right_keys: Vec<usize> = keys.iter().map(|(_, r)| *r).collect();
            for (i, c) in right_rel.columns.iter().enumerate() {
                if lookup && right_keys.contains(&i) {
                    continue;
                }
                let mut name = c.name.clone();
                if out.iter().any(|(_, o)| o.name == name) {
                    let mut k = 1;
                    while out.iter().any(|(_, o)| o.name == format!("{}{k}", c.name))
                        || right_rel
                            .columns
                            .iter()
                            .any(|o| o.name == format!("{}{k}", c.name))
                    {
                        k += 1;
                    }
                    name = format!("{}{k}", c.name);
                }
                out.push((
                    keep_text(column(&format!("__r{i}")), c.ty, right_nullable),
                    Column { name, ty: c.ty },
                ));
            }
        }
        project_columns(
            Relation {
                plan: joined,
                columns: Vec::new(),
            },
            out,
            span,
        )
    }
}
