//! String kernels: the `has` term family, substring/split/extract/replace/
//! trim/indexof, conversions from and to text, base64, URLs and IPv4.

use super::kernels::*;
use super::{BOOL, F64, I32, I64, Register, UTF8};
use crate::format;
use base64::Engine;
use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::common::Result as DfResult;
use serde_json::{Map, Value, json};

pub(crate) fn register(r: &mut Register<'_>) {
    let s2 = || vec![vec![UTF8, UTF8]];
    r("kql_has", s2(), BOOL, |a| term_match(a, Term::Whole, false));
    r("kql_has_cs", s2(), BOOL, |a| {
        term_match(a, Term::Whole, true)
    });
    r("kql_hasprefix", s2(), BOOL, |a| {
        term_match(a, Term::Prefix, false)
    });
    r("kql_hasprefix_cs", s2(), BOOL, |a| {
        term_match(a, Term::Prefix, true)
    });
    r("kql_hassuffix", s2(), BOOL, |a| {
        term_match(a, Term::Suffix, false)
    });
    r("kql_hassuffix_cs", s2(), BOOL, |a| {
        term_match(a, Term::Suffix, true)
    });
    r("kql_contains", s2(), BOOL, |a| {
        str2_bool(a, |s, t| lower(s).contains(&lower(t)))
    });
    r("kql_startswith", s2(), BOOL, |a| {
        str2_bool(a, |s, t| lower(s).starts_with(&lower(t)))
    });
    r("kql_endswith", s2(), BOOL, |a| {
        str2_bool(a, |s, t| lower(s).ends_with(&lower(t)))
    });
    r("kql_contains_cs", s2(), BOOL, |a| {
        str2_bool(a, |s, t| s.contains(t))
    });
    r("kql_startswith_cs", s2(), BOOL, |a| {
        str2_bool(a, |s, t| s.starts_with(t))
    });
    r("kql_endswith_cs", s2(), BOOL, |a| {
        str2_bool(a, |s, t| s.ends_with(t))
    });
    r("kql_equals_ci", s2(), BOOL, |a| {
        str2_bool(a, |s, t| {
            s == t
                || if s.is_ascii() && t.is_ascii() {
                    s.eq_ignore_ascii_case(t)
                } else {
                    lower(s) == lower(t)
                }
        })
    });
    r(
        "kql_substring",
        vec![vec![UTF8, I64], vec![UTF8, I64, I64]],
        UTF8,
        substring,
    );
    r("kql_split", s2(), UTF8, split);
    r("kql_split_index", vec![vec![UTF8, UTF8, I64]], UTF8, split);
    r("kql_extract", vec![vec![UTF8, I64, UTF8]], UTF8, extract);
    r("kql_extract_all", s2(), UTF8, extract_all);
    r(
        "kql_extract_all_groups",
        vec![vec![UTF8, UTF8, UTF8]],
        UTF8,
        extract_all_groups,
    );
    r(
        "kql_replace_regex",
        vec![vec![UTF8, UTF8, UTF8]],
        UTF8,
        replace_regex,
    );
    r("kql_trim", s2(), UTF8, |a| trim(a, true, true));
    r("kql_trim_start", s2(), UTF8, |a| trim(a, true, false));
    r("kql_trim_end", s2(), UTF8, |a| trim(a, false, true));
    r(
        "kql_indexof",
        vec![vec![UTF8, UTF8, I64, I64, I64]],
        I64,
        indexof,
    );
    r("kql_strlen", vec![vec![UTF8]], I64, |a| {
        let s = strs(&a[0])?;
        Ok(long_array(
            (0..s.len())
                .map(|i| Some(get(s, i).map_or(0, |v| v.chars().count() as i64)))
                .collect(),
        ))
    });
    r("kql_real_tostring", vec![vec![F64]], UTF8, |a| {
        let x = reals(&a[0])?;
        Ok(string_array(
            (0..x.len())
                .map(|i| Some(get_f64(x, i).map(format::real).unwrap_or_default()))
                .collect(),
        ))
    });
    r("kql_dynamic_tostring", vec![vec![UTF8]], UTF8, |a| {
        let s = strs(&a[0])?;
        let mut out = datafusion::arrow::array::StringBuilder::with_capacity(s.len(), s.len() * 16);
        for i in 0..s.len() {
            out.append_value(get(s, i).map(dynamic_text).unwrap_or_default());
        }
        Ok(std::sync::Arc::new(out.finish()) as datafusion::arrow::array::ArrayRef)
    });
    r("kql_tolong", vec![vec![UTF8]], I64, |a| {
        let s = strs(&a[0])?;
        Ok(long_array(
            (0..s.len())
                .map(|i| get(s, i).and_then(parse_long))
                .collect(),
        ))
    });
    r("kql_toint", vec![vec![UTF8]], I32, |a| {
        let s = strs(&a[0])?;
        Ok(int_array(
            (0..s.len())
                .map(|i| {
                    get(s, i)
                        .and_then(parse_long)
                        .and_then(|v| i32::try_from(v).ok())
                })
                .collect(),
        ))
    });
    r("kql_todouble", vec![vec![UTF8]], F64, |a| {
        let s = strs(&a[0])?;
        Ok(real_array(
            (0..s.len())
                .map(|i| get(s, i).and_then(parse_real))
                .collect(),
        ))
    });
    r("kql_tobool", vec![vec![UTF8]], BOOL, |a| {
        let s = strs(&a[0])?;
        Ok(bool_array(
            (0..s.len())
                .map(|i| get(s, i).and_then(parse_bool))
                .collect(),
        ))
    });
    r("kql_toguid", vec![vec![UTF8]], UTF8, |a| {
        let s = strs(&a[0])?;
        Ok(string_array(
            (0..s.len())
                .map(|i| get(s, i).and_then(parse_guid))
                .collect(),
        ))
    });
    r("kql_base64_encode", vec![vec![UTF8]], UTF8, |a| {
        let s = strs(&a[0])?;
        let e = base64::engine::general_purpose::STANDARD;
        Ok(string_array(
            (0..s.len())
                .map(|i| Some(get(s, i).map(|v| e.encode(v)).unwrap_or_default()))
                .collect(),
        ))
    });
    r("kql_base64_decode", vec![vec![UTF8]], UTF8, |a| {
        let s = strs(&a[0])?;
        let e = base64::engine::general_purpose::STANDARD;
        Ok(string_array(
            (0..s.len())
                .map(|i| {
                    let bytes = e.decode(get(s, i).unwrap_or_default()).ok()?;
                    String::from_utf8(bytes).ok()
                })
                .map(|v| Some(v.unwrap_or_default()))
                .collect(),
        ))
    });
    r("kql_parse_url", vec![vec![UTF8]], UTF8, |a| {
        let s = strs(&a[0])?;
        Ok(string_array(
            (0..s.len())
                .map(|i| Some(parse_url(get(s, i).unwrap_or_default()).to_string()))
                .collect(),
        ))
    });
    r("kql_ipv4_is_private", vec![vec![UTF8]], BOOL, |a| {
        let s = strs(&a[0])?;
        Ok(bool_array(
            (0..s.len())
                .map(|i| {
                    let text = get(s, i)?;
                    let ip = parse_ipv4(text.split_once('/').map_or(text, |(a, _)| a))?;
                    let private = [(0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16)]
                        .iter()
                        .any(|&(net, bits)| in_prefix(ip, net, bits));
                    Some(private)
                })
                .collect(),
        ))
    });
    r("kql_ipv4_is_in_range", s2(), BOOL, |a| {
        let s = strs(&a[0])?;
        let r = strs(&a[1])?;
        Ok(bool_array(
            (0..s.len())
                .map(|i| {
                    let ip = parse_ipv4(get(s, i)?)?;
                    let range = get(r, i)?;
                    let (net, bits) = match range.split_once('/') {
                        Some((n, b)) => (parse_ipv4(n)?, b.trim().parse::<u32>().ok()?),
                        None => (parse_ipv4(range)?, 32),
                    };
                    (bits <= 32).then(|| in_prefix(ip, net, bits))
                })
                .collect(),
        ))
    });
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn str2_bool(a: &[ArrayRef], f: impl Fn(&str, &str) -> bool) -> DfResult<ArrayRef> {
    let (s, t) = (strs(&a[0])?, strs(&a[1])?);
    Ok(bool_array(
        (0..s.len())
            .map(|i| {
                Some(f(
                    get(s, i).unwrap_or_default(),
                    get(t, i).unwrap_or_default(),
                ))
            })
            .collect(),
    ))
}

#[derive(Clone, Copy)]
enum Term {
    Whole,
    Prefix,
    Suffix,
}

fn term_match(a: &[ArrayRef], kind: Term, cs: bool) -> DfResult<ArrayRef> {
    str2_bool(a, |s, t| {
        if cs {
            has_term(s, t, kind)
        } else {
            has_term(&lower(s), &lower(t), kind)
        }
    })
}

/// Whether `needle` occurs in `hay` on term boundaries. A term is a maximal
/// run of alphanumeric characters (string-operators page, "What is a term?").
/// `Whole` needs a boundary on both sides, `Prefix` before, `Suffix` after. A
/// boundary is only required where the needle itself starts/ends with an
/// alphanumeric character.
fn has_term(hay: &str, needle: &str, kind: Term) -> bool {
    if needle.is_empty() {
        return true;
    }
    let first_alnum = needle.chars().next().is_some_and(char::is_alphanumeric);
    let last_alnum = needle
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    let need_left = first_alnum && matches!(kind, Term::Whole | Term::Prefix);
    let need_right = last_alnum && matches!(kind, Term::Whole | Term::Suffix);
    hay.match_indices(needle).any(|(at, m)| {
        let left_ok = !need_left
            || hay[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
        let right_ok = !need_right
            || hay[at + m.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
        left_ok && right_ok
    })
}

fn substring(a: &[ArrayRef]) -> DfResult<ArrayRef> {
    let s = strs(&a[0])?;
    let start = longs(&a[1])?;
    let len = a.get(2).map(longs).transpose()?;
    Ok(string_array(
        (0..s.len())
            .map(|i| {
                let chars: Vec<char> = get(s, i).unwrap_or_default().chars().collect();
                let n = chars.len() as i64;
                let Some(mut from) = get_i64(start, i) else {
                    return Some(String::new());
                };
                if from < 0 {
                    from = (n + from).max(0);
                }
                let from = from.min(n);
                let to = match len {
                    Some(l) => match get_i64(l, i) {
                        Some(l) if l >= 0 => from.saturating_add(l).min(n),
                        Some(_) => from,
                        None => n,
                    },
                    None => n,
                };
                Some(chars[from as usize..to as usize].iter().collect())
            })
            .collect(),
    ))
}

fn split(a: &[ArrayRef]) -> DfResult<ArrayRef> {
    let s = strs(&a[0])?;
    let d = strs(&a[1])?;
    let idx = a.get(2).map(longs).transpose()?;
    Ok(string_array(
        (0..s.len())
            .map(|i| {
                let text = get(s, i).unwrap_or_default();
                let delim = get(d, i).unwrap_or_default();
                let parts: Vec<Value> = if delim.is_empty() {
                    vec![Value::String(text.to_string())]
                } else {
                    text.split(delim)
                        .map(|p| Value::String(p.to_string()))
                        .collect()
                };
                let out = match idx {
                    None => Value::Array(parts),
                    Some(ix) => {
                        let k = get_i64(ix, i)?;
                        let n = parts.len() as i64;
                        let k = if k < 0 { n + k } else { k };
                        match usize::try_from(k).ok().and_then(|k| parts.get(k)) {
                            Some(p) => Value::Array(vec![p.clone()]),
                            None => Value::Array(Vec::new()),
                        }
                    }
                };
                Some(out.to_string())
            })
            .collect(),
    ))
}

fn extract(a: &[ArrayRef]) -> DfResult<ArrayRef> {
    let pat = strs(&a[0])?;
    let group = longs(&a[1])?;
    let s = strs(&a[2])?;
    let mut cache = Regexes::default();
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let re = cache.get(get(pat, i).unwrap_or_default())?;
        let g = get_i64(group, i).and_then(|g| usize::try_from(g).ok());
        let v = g.and_then(|g| {
            re.captures(get(s, i).unwrap_or_default())
                .and_then(|c| c.get(g))
                .map(|m| m.as_str().to_string())
        });
        out.push(Some(v.unwrap_or_default()));
    }
    Ok(string_array(out))
}

fn extract_all(a: &[ArrayRef]) -> DfResult<ArrayRef> {
    let pat = strs(&a[0])?;
    let s = strs(&a[1])?;
    let mut cache = Regexes::default();
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let re = cache.get(get(pat, i).unwrap_or_default())?;
        let groups = re.captures_len() - 1;
        let text = get(s, i).unwrap_or_default();
        let found: Vec<Value> = re
            .captures_iter(text)
            .map(|c| {
                let piece = |g: usize| {
                    Value::String(c.get(g).map(|m| m.as_str()).unwrap_or("").to_string())
                };
                match groups {
                    0 => piece(0),
                    1 => piece(1),
                    n => Value::Array((1..=n).map(piece).collect()),
                }
            })
            .collect();
        out.push((!found.is_empty()).then(|| Value::Array(found).to_string()));
    }
    Ok(string_array(out))
}

/// extract_all(regex, captureGroups, text): per match, an array of the
/// listed groups (0 = the whole match).
fn extract_all_groups(a: &[ArrayRef]) -> DfResult<ArrayRef> {
    let pat = strs(&a[0])?;
    let groups = strs(&a[1])?;
    let s = strs(&a[2])?;
    let mut cache = Regexes::default();
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let re = cache.get(get(pat, i).unwrap_or_default())?;
        let wanted: Vec<usize> = match super::dynamic::parse(get(groups, i)) {
            Some(Value::Array(v)) => v
                .iter()
                .filter_map(|g| g.as_u64().and_then(|g| usize::try_from(g).ok()))
                .collect(),
            _ => Vec::new(),
        };
        let text = get(s, i).unwrap_or_default();
        let found: Vec<Value> = re
            .captures_iter(text)
            .map(|c| {
                Value::Array(
                    wanted
                        .iter()
                        .map(|&g| {
                            Value::String(c.get(g).map(|m| m.as_str()).unwrap_or("").to_string())
                        })
                        .collect(),
                )
            })
            .collect();
        out.push((!found.is_empty()).then(|| Value::Array(found).to_string()));
    }
    Ok(string_array(out))
}

/// KQL rewrite strings name groups `\1`..`\9`; the regex crate's are `${1}`.
fn rewrite_pattern(kql: &str) -> String {
    let mut out = String::with_capacity(kql.len());
    let mut chars = kql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let d = chars.next().unwrap_or('0');
                out.push_str(&format!("${{{d}}}"));
            }
            '$' => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

fn replace_regex(a: &[ArrayRef]) -> DfResult<ArrayRef> {
    let s = strs(&a[0])?;
    let pat = strs(&a[1])?;
    let rw = strs(&a[2])?;
    let mut cache = Regexes::default();
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let re = cache.get(get(pat, i).unwrap_or_default())?;
        let rewrite = rewrite_pattern(get(rw, i).unwrap_or_default());
        out.push(Some(
            re.replace_all(get(s, i).unwrap_or_default(), rewrite.as_str())
                .into_owned(),
        ));
    }
    Ok(string_array(out))
}

fn trim(a: &[ArrayRef], start: bool, end: bool) -> DfResult<ArrayRef> {
    let pat = strs(&a[0])?;
    let s = strs(&a[1])?;
    let mut lead = Regexes::default();
    let mut tail = Regexes::default();
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        let p = get(pat, i).unwrap_or_default();
        // The pattern must stand alone before it is wrapped (so `a)|(b`
        // cannot change the wrapper's meaning).
        lead.get(p)?;
        let mut text = get(s, i).unwrap_or_default();
        if start {
            let re = lead.get(&format!("^(?:{p})+"))?;
            if let Some(m) = re.find(text) {
                text = &text[m.end()..];
            }
        }
        if end {
            let re = tail.get(&format!("(?:{p})+$"))?;
            if let Some(m) = re.find(text) {
                text = &text[..m.start()];
            }
        }
        out.push(Some(text.to_string()));
    }
    Ok(string_array(out))
}

/// indexof(source, lookup, start, length, occurrence): the character index
/// of the occurrence-th match at or after `start` within `length` characters
/// (-1 = to the end); -1 when not found; null for invalid arguments.
fn indexof(a: &[ArrayRef]) -> DfResult<ArrayRef> {
    let s = strs(&a[0])?;
    let look = strs(&a[1])?;
    let (start, len, occ) = (longs(&a[2])?, longs(&a[3])?, longs(&a[4])?);
    Ok(long_array(
        (0..s.len())
            .map(|i| {
                let chars: Vec<char> = get(s, i).unwrap_or_default().chars().collect();
                let needle: Vec<char> = get(look, i).unwrap_or_default().chars().collect();
                index_of_seq(
                    &chars,
                    &needle,
                    get_i64(start, i)?,
                    get_i64(len, i)?,
                    get_i64(occ, i)?,
                )
            })
            .collect(),
    ))
}

/// The index of the `occ`-th occurrence of `needle` in `hay` at or after
/// `start` (negative: from the end); each search looks at `len` items from
/// its start (-1: to the end), the next one starts one past the last match
/// (indexof page examples idx3 and idx8); -1 when not found; None for
/// invalid arguments. Shared by indexof (characters) and array_index_of.
pub(crate) fn index_of_seq<T: PartialEq>(
    hay: &[T],
    needle: &[T],
    start: i64,
    len: i64,
    occ: i64,
) -> Option<i64> {
    let n = hay.len() as i64;
    let mut from = start;
    if from < 0 {
        from = (n + from).max(0);
    }
    if from > n || len < -1 || occ <= 0 {
        return None;
    }
    let m = needle.len() as i64;
    let find = |from: i64| {
        let end = if len == -1 {
            n
        } else {
            from.saturating_add(len).min(n)
        };
        (from..=end - m).find(|&at| {
            let k = at as usize;
            hay[k..k + needle.len()] == needle[..]
        })
    };
    let mut pos = from;
    for _ in 0..occ - 1 {
        match find(pos) {
            Some(at) => pos = at + 1,
            None => return Some(-1),
        }
    }
    Some(find(pos).unwrap_or(-1))
}

/// `tostring` of a dynamic value held as JSON text: strings lose their
/// quotes, null becomes "", everything else is compact JSON.
pub(crate) fn dynamic_text(json: &str) -> std::borrow::Cow<'_, str> {
    // Dynamic text is compact JSON (types.rs): a string without escapes
    // is its inside; an object, array, number or bool is its own text.
    let b = json.as_bytes();
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' && !b.contains(&b'\\') {
        return json[1..json.len() - 1].into();
    }
    if matches!(
        b.first(),
        Some(b'{' | b'[' | b't' | b'f' | b'-' | b'0'..=b'9')
    ) {
        return json.into();
    }
    match serde_json::from_str::<Value>(json) {
        Ok(Value::String(s)) => s.into(),
        Ok(Value::Null) => "".into(),
        Ok(v) => v.to_string().into(),
        Err(_) => json.into(),
    }
}

fn parse_long(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>().ok().or_else(|| {
        let r = t.parse::<f64>().ok()?;
        (r.is_finite() && r.abs() < 9.2e18).then_some(r.trunc() as i64)
    })
}

fn parse_real(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if t
            .chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') =>
        {
            None
        }
        _ => t.parse::<f64>().ok(),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        t.parse::<i64>().ok().map(|v| v != 0)
    }
}

/// A GUID in its canonical lowercase 8-4-4-4-12 form from 32 hex digits
/// (hyphens ignored, braces or parentheses accepted around it).
pub(crate) fn parse_guid(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .or_else(|| t.strip_prefix('(').and_then(|x| x.strip_suffix(')')))
        .unwrap_or(t);
    // toguid page: "0123456789ab-cdef-0123-456789abcdef" converts, so hyphens
    // are separators wherever they are.
    let hex: String = t.chars().filter(|&c| c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

fn parse_ipv4(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.trim().split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut v: u32 = 0;
    for p in parts {
        if p.is_empty() || p.len() > 3 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        v = (v << 8) | p.parse::<u8>().ok()? as u32;
    }
    Some(v)
}

fn in_prefix(ip: u32, net: u32, bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    ip & mask == net & mask
}

/// parse_url: a property bag with Scheme, Host, Port, Path, Username,
/// Password, Query Parameters and Fragment; all "" when the text is not an
/// absolute URL.
fn parse_url(text: &str) -> Value {
    let empty = || {
        json!({"Scheme":"","Host":"","Port":"","Path":"","Username":"","Password":"",
               "Query Parameters":{},"Fragment":""})
    };
    let Some((scheme, rest)) = text.split_once("://") else {
        return empty();
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return empty();
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match rest.find('/') {
        // parse_url page: "Path":"this/is/a/path" (no leading slash).
        Some(k) => (&rest[..k], &rest[k + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (u, h),
        None => ("", authority),
    };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (h, p),
        _ => (hostport, ""),
    };
    let mut params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(k.to_string(), Value::String(v.to_string()));
    }
    json!({"Scheme":scheme,"Host":host,"Port":port,"Path":path,"Username":user,
           "Password":pass,"Query Parameters":Value::Object(params),"Fragment":fragment})
}

#[cfg(test)]
mod tests {
    use super::*;

    // string-operators page: "North America" has "america" (true); a term is a
    // maximal alphanumeric run, so "error code 5" has "err" is false.
    #[test]
    fn term_boundaries() {
        assert!(has_term("north america", "america", Term::Whole));
        assert!(!has_term("error code 5", "err", Term::Whole));
        assert!(has_term("error code 5", "err", Term::Prefix));
        assert!(!has_term("error code 5", "rror", Term::Prefix));
        assert!(has_term("error code 5", "rror", Term::Suffix));
        assert!(has_term("a.b.com/x", "b.com", Term::Whole));
        assert!(!has_term("ab.com", "b.com", Term::Whole));
    }

    #[test]
    fn guids() {
        assert_eq!(
            parse_guid("74BE27DE-1E4E-49D9-B579-FE0B331D3642").as_deref(),
            Some("74be27de-1e4e-49d9-b579-fe0b331d3642")
        );
        assert_eq!(parse_guid("not a guid"), None);
    }

    #[test]
    fn rewrite() {
        assert_eq!(rewrite_pattern(r"x\1y$"), "x${1}y$$");
    }
}
