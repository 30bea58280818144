//! JSONPath accessors (extract_json) and the canonical JSON text of a
//! dynamic value (dynamic_to_json).
//!
//! The JSONPath expressions page lists what Kusto accepts: `$` for the root,
//! `.name` or `['name']` for a child, `[n]` for an array element. Other
//! JSONPath forms (wildcards, recursive descent, filters, slices) are
//! rejected by name rather than approximated.

use super::kernels::*;
use super::{I64, Register, UTF8};
use datafusion::arrow::array::Array;
use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// Parses a path, or says what is wrong with it.
pub(crate) fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| format!("`{path}` is not a JSONPath kqlite supports: {why}");
    let rest = path
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| bad("it must start with `$`"))?;
    let chars: Vec<char> = rest.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if chars.get(i + 1) == Some(&'.') {
                    return Err(bad("recursive descent `..` is not supported"));
                }
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                if name.is_empty() {
                    return Err(bad("a `.` must be followed by a property name"));
                }
                if name == "*" {
                    return Err(bad("the wildcard `*` is not supported"));
                }
                steps.push(Step::Key(name));
                i = end;
            }
            '[' => {
                let skip = |mut k: usize| {
                    while chars.get(k).is_some_and(|c| c.is_whitespace()) {
                        k += 1;
                    }
                    k
                };
                let open = skip(i + 1);
                let close_after = |k: usize| {
                    let k = skip(k);
                    (chars.get(k) == Some(&']'))
                        .then_some(k)
                        .ok_or_else(|| bad("a `[` is not closed"))
                };
                match chars.get(open) {
                    Some(&q) if q == '\'' || q == '"' => {
                        // A quoted name may hold `]` or `.`.
                        let end_quote = chars[open + 1..]
                            .iter()
                            .position(|&c| c == q)
                            .map(|p| p + open + 1)
                            .ok_or_else(|| bad("a quoted name is not closed"))?;
                        steps.push(Step::Key(chars[open + 1..end_quote].iter().collect()));
                        i = close_after(end_quote + 1)? + 1;
                    }
                    Some('*') => return Err(bad("the wildcard `[*]` is not supported")),
                    _ => {
                        let mut end = open;
                        while chars.get(end).is_some_and(char::is_ascii_digit) {
                            end += 1;
                        }
                        let digits: String = chars[open..end].iter().collect();
                        let n: usize = digits.parse().map_err(|_| {
                            bad("`[...]` holds an array index (0, 1, ...) or a quoted property name")
                        })?;
                        steps.push(Step::Index(n));
                        i = close_after(end).map_err(|_| {
                            bad("`[...]` holds an array index (0, 1, ...) or a quoted property name")
                        })? + 1;
                    }
                }
            }
            c if c.is_whitespace() => i += 1,
            _ => return Err(bad("expected `.name`, `['name']` or `[index]` after `$`")),
        }
    }
    Ok(steps)
}

/// The value a path selects, if any.
pub(crate) fn select<'v>(root: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    let mut node = root;
    for step in steps {
        node = match step {
            Step::Key(k) => node.as_object()?.get(k)?,
            Step::Index(n) => node.as_array()?.get(*n)?,
        };
    }
    Some(node)
}

/// The value's text as extract_json returns it: a string's content, any
/// other value's JSON text; a JSON null or a missing value is "".
fn as_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Canonical text (dynamic_to_json page): property bags with their pairs
/// sorted by name, at every depth; arrays in order; compact.
pub(crate) fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, item)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub(crate) fn register(r: &mut Register<'_>) {
    // extract_json(path, text, mode): mode 0 gives the value's text (a
    // string's content, other values as JSON), mode 1 the value as dynamic.
    // Text that is not JSON, or a path that selects nothing, gives ""
    // (mode 0) or null (mode 1). A malformed path is an error.
    r("kql_extract_json", vec![vec![UTF8, UTF8, I64]], UTF8, |a| {
        let (p, d, m) = (strs(&a[0])?, strs(&a[1])?, longs(&a[2])?);
        let mut cached: Option<(String, Vec<Step>)> = None;
        let mut out = Vec::with_capacity(d.len());
        for i in 0..d.len() {
            let dynamic_mode = get_i64(m, i) == Some(1);
            let Some(path) = get(p, i) else {
                out.push((!dynamic_mode).then(String::new));
                continue;
            };
            if cached.as_ref().is_none_or(|(text, _)| text != path) {
                let steps =
                    parse_path(path).map_err(datafusion::error::DataFusionError::Execution)?;
                cached = Some((path.to_string(), steps));
            }
            let steps = cached.as_ref().map_or(&[][..], |(_, s)| s.as_slice());
            let root = get(d, i).and_then(|t| serde_json::from_str::<Value>(t).ok());
            let found = root.as_ref().and_then(|r| select(r, steps));
            out.push(if dynamic_mode {
                match found {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v.to_string()),
                }
            } else {
                Some(as_text(found))
            });
        }
        Ok(string_array(out))
    });
    // dynamic_to_json(d): null gives "" (strings are never null).
    r("kql_dynamic_to_json", vec![vec![UTF8]], UTF8, |a| {
        let d = strs(&a[0])?;
        Ok(string_array(
            (0..d.len())
                .map(|i| {
                    Some(
                        match get(d, i).and_then(|t| serde_json::from_str::<Value>(t).ok()) {
                            Some(v) => canonical(&v),
                            None => String::new(),
                        },
                    )
                })
                .collect(),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("$.a['b c'][2].d"),
            Ok(vec![
                Step::Key("a".into()),
                Step::Key("b c".into()),
                Step::Index(2),
                Step::Key("d".into()),
            ])
        );
        assert_eq!(parse_path("$"), Ok(vec![]));
        assert_eq!(parse_path("$[\"x]y\"]"), Ok(vec![Step::Key("x]y".into())]));
        for bad in ["a.b", "$..a", "$.*", "$[*]", "$[", "$.a[x]", "$.", "$['a"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_sorts_keys_at_every_depth() {
        let v: Value = serde_json::from_str(r#"{"b":[{"z":1,"a":2}],"a":"x"}"#).unwrap_or_default();
        assert_eq!(canonical(&v), r#"{"a":"x","b":[{"a":2,"z":1}]}"#);
    }
}
