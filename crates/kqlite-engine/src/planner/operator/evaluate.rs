//! `evaluate` plugins. Only `bag_unpack` (bag-unpack-plugin page) so far:
//! "unpacks a single column of type dynamic, by treating each property bag
//! top-level slot as a column". The column is removed; one column per
//! distinct slot is added, named after the slot (with the optional prefix),
//! typed "the type of the slot, if all values of the same slot have the
//! same type, or dynamic, if the values differ in type". Without an output
//! schema the slots come from the data, so the input is run once while
//! planning (the page warns of the same cost); with `: (Name:type, ...)`
//! the output columns are exactly those written.

use super::mv_expand::cast_only;
use crate::error::{Error, Result};
use crate::functions;
use crate::planner::expr::column;
use crate::planner::{Planner, Relation};
use crate::schema::Column;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, lit};
use kqlite_syntax::Span;
use kqlite_syntax::ast::{self, ExprKind, ScalarType};
use std::collections::BTreeMap;

/// What to do when a slot's column name is already an input column.
#[derive(Clone, Copy, PartialEq)]
enum Conflict {
    Error,
    ReplaceSource,
    KeepSource,
}

impl Planner<'_> {
    pub(crate) fn plan_evaluate(
        &mut self,
        params: &[ast::OpParam],
        call: &ast::Expr,
        schema: Option<&ast::OutputSchema>,
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        super::only_hints(params, "evaluate")?;
        let (name, args) = match &call.kind {
            ExprKind::Call { callee, args } => match &callee.kind {
                ExprKind::Name(n) => (n.name.as_str(), args),
                _ => return Err(Error::invalid(call.span, "expected a plugin call")),
            },
            _ => return Err(Error::invalid(call.span, "expected a plugin call")),
        };
        match name {
            "bag_unpack" => self.plan_bag_unpack(args, schema, input, call.span),
            other => Err(Error::unsupported(
                span,
                format!("plugin '{other}' of evaluate"),
            )),
        }
    }

    fn plan_bag_unpack(
        &mut self,
        args: &[ast::Arg],
        schema: Option<&ast::OutputSchema>,
        input: Relation,
        span: Span,
    ) -> Result<Relation> {
        let Some(first) = args.first().filter(|a| a.name.is_none()) else {
            return Err(Error::invalid(
                span,
                "bag_unpack takes the dynamic column to unpack first",
            ));
        };
        let ExprKind::Name(source) = &first.value.kind else {
            return Err(Error::invalid(
                first.value.span,
                "bag_unpack unpacks a column: name it here",
            ));
        };
        let (bag, ty) = self.scalar(&first.value, &input)?;
        if ty != ScalarType::Dynamic {
            return Err(Error::type_error(
                first.value.span,
                format!("bag_unpack unpacks a dynamic column, not {}", ty.name()),
            ));
        }
        // Positional: prefix, columnsConflict, ignoredProperties; or named.
        let mut prefix = String::new();
        let mut conflict = Conflict::Error;
        let mut ignored: Vec<String> = Vec::new();
        for (i, a) in args.iter().enumerate().skip(1) {
            let key = match &a.name {
                Some(n) => n.name.as_str(),
                None => match i {
                    1 => "OutputColumnPrefix",
                    2 => "columnsConflict",
                    3 => "ignoredProperties",
                    _ => {
                        return Err(Error::invalid(
                            a.value.span,
                            "bag_unpack takes at most four arguments",
                        ));
                    }
                },
            };
            let empty = self.empty_relation()?;
            let (x, _) = self.scalar(&a.value, &empty)?;
            let text = match x {
                Expr::Literal(ScalarValue::Utf8(Some(s)), _) => s,
                _ => {
                    return Err(Error::invalid(
                        a.value.span,
                        format!("bag_unpack's `{key}` must be a constant"),
                    ));
                }
            };
            match key {
                "OutputColumnPrefix" => prefix = text,
                "columnsConflict" => {
                    conflict = match text.as_str() {
                        "error" => Conflict::Error,
                        "replace_source" => Conflict::ReplaceSource,
                        "keep_source" => Conflict::KeepSource,
                        other => {
                            return Err(Error::invalid(
                                a.value.span,
                                format!(
                                    "columnsConflict is error, replace_source or keep_source, not `{other}`"
                                ),
                            ));
                        }
                    }
                }
                "ignoredProperties" => {
                    ignored = match serde_json::from_str::<serde_json::Value>(&text) {
                        Ok(serde_json::Value::Array(items)) => items
                            .into_iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect(),
                        _ => {
                            return Err(Error::invalid(
                                a.value.span,
                                "ignoredProperties is a dynamic array of names",
                            ));
                        }
                    }
                }
                other => {
                    return Err(Error::unsupported(
                        a.value.span,
                        format!("bag_unpack argument `{other}`"),
                    ));
                }
            }
        }
        let mut cols: Vec<(Expr, Column)> = Vec::new();
        let kept_source = |c: &Column| c.name != source.name;
        if let Some(schema) = schema {
            // The output schema names the output columns: with `*` first,
            // every input column but the unpacked one comes before them.
            if schema.star {
                for c in input.columns.iter().filter(|c| kept_source(c)) {
                    if schema.columns.iter().all(|d| d.name.name != c.name) {
                        cols.push((column(&c.name), c.clone()));
                    }
                }
            }
            for d in &schema.columns {
                let name = d.name.name.clone();
                let x = match input.column(&name).filter(|c| kept_source(c)) {
                    Some(c) if c.ty == d.ty => column(&name),
                    Some(c) => {
                        return Err(Error::type_error(
                            d.span,
                            format!(
                                "`{name}` is a {} column of the input, not {}",
                                c.ty.name(),
                                d.ty.name()
                            ),
                        ));
                    }
                    None => {
                        let key = name.strip_prefix(prefix.as_str()).unwrap_or(&name);
                        slot(bag.clone(), key, d.ty)
                    }
                };
                cols.push((x, Column { name, ty: d.ty }));
            }
        } else {
            let slots: Vec<(String, ScalarType)> = self
                .bag_slots(&input, bag.clone(), span)?
                .into_iter()
                .filter(|(k, _)| !ignored.contains(k))
                .map(|(k, t)| (format!("{prefix}{k}"), t))
                .collect();
            let clashes: Vec<String> = slots
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| input.column(n).is_some_and(kept_source))
                .collect();
            if conflict == Conflict::Error
                && let Some(n) = clashes.first()
            {
                return Err(Error::invalid(
                    span,
                    format!(
                        "bag_unpack: the slot column `{n}` is already a column of the input (columnsConflict='error'; use 'replace_source' or 'keep_source')"
                    ),
                ));
            }
            for c in &input.columns {
                if !kept_source(c)
                    || (conflict == Conflict::ReplaceSource && clashes.contains(&c.name))
                {
                    continue;
                }
                cols.push((column(&c.name), c.clone()));
            }
            for (name, ty) in slots {
                if conflict == Conflict::KeepSource && clashes.contains(&name) {
                    continue;
                }
                let key = name
                    .strip_prefix(prefix.as_str())
                    .unwrap_or(&name)
                    .to_string();
                cols.push((slot(bag.clone(), &key, ty), Column { name, ty }));
            }
        }
        self.project_keeping(input, cols, span)
    }

    /// The slots of the bags in a column, each with its type: the one type
    /// of all its non-null values, or dynamic when they differ.
    fn bag_slots(
        &self,
        input: &Relation,
        bag: Expr,
        span: Span,
    ) -> Result<BTreeMap<String, ScalarType>> {
        let err = |e| Error::plan(span, e);
        let sig = "__kqlite_slots";
        let plan = LogicalPlanBuilder::from(input.plan.clone())
            .project(vec![functions::call("kql_bag_slots", vec![bag]).alias(sig)])
            .and_then(|b| b.aggregate(vec![column(sig)], Vec::<Expr>::new()))
            .and_then(|b| b.build())
            .map_err(err)?;
        let batches = self.catalog.run(plan)?;
        let mut types: BTreeMap<String, Option<ScalarType>> = BTreeMap::new();
        for b in &batches {
            let Some(texts) = b.column(0).as_string_opt::<i32>() else {
                continue;
            };
            for i in 0..texts.len() {
                if texts.is_null(i) {
                    continue;
                }
                for line in texts.value(i).lines() {
                    let Some((k, t)) = line.rsplit_once('\t') else {
                        continue;
                    };
                    let t = match t {
                        "long" => Some(ScalarType::Long),
                        "real" => Some(ScalarType::Real),
                        "bool" => Some(ScalarType::Bool),
                        "string" => Some(ScalarType::String),
                        "null" => None,
                        _ => Some(ScalarType::Dynamic),
                    };
                    let entry = types.entry(k.to_string()).or_insert(None);
                    *entry = match (*entry, t) {
                        (None, t) => t,
                        (Some(a), None) => Some(a),
                        (Some(a), Some(b)) if a == b => Some(a),
                        _ => Some(ScalarType::Dynamic),
                    };
                }
            }
        }
        Ok(types
            .into_iter()
            .map(|(k, t)| (k, t.unwrap_or(ScalarType::Dynamic)))
            .collect())
    }
}

/// One slot of a bag as a column of the given type.
fn slot(bag: Expr, key: &str, ty: ScalarType) -> Expr {
    cast_only(functions::call("kql_dyn_get_key", vec![bag, lit(key)]), ty)
}
