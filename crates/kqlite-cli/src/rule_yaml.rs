//! The `query` field of a Sentinel rule YAML file, and where each byte of
//! it was written in the file, so errors point into the YAML.
//!
//! serde-saphyr gives the query's value and where the scalar starts. The
//! rest is recovered by walking the value and the file side by side: in the
//! usual `query: |` block the file holds the value line by line, behind the
//! block's indentation; folded, plain and quoted scalars differ from their
//! value only by line folding, quotes and escapes, which the walk steps over.
//! (This moves to the rule crate when rules are loaded for running.)

use crate::inputs::QueryText;
use crate::render::{Problem, ProblemKind, codes};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

#[derive(Deserialize)]
struct RuleFile {
    query: Option<Spanned<String>>,
}

/// The query of a rule file, or why there is none.
pub fn extract(name: String, text: String) -> Result<QueryText, Problem> {
    let rule: RuleFile = match serde_saphyr::from_str(&text) {
        Ok(rule) => rule,
        Err(e) => return Err(yaml_problem(name, text, &e)),
    };
    let Some(query) = rule.query else {
        return Err(Problem::new(
            name,
            ProblemKind::Invalid,
            codes::NO_QUERY,
            "no `query` field in this YAML file",
        )
        .with_help(
            "a rule file holds its KQL in a top-level `query:` field, usually a block: \
             `query: |` followed by the indented query lines",
        ));
    };
    let location = query.referenced;
    let start = byte_offset(&text, &location);
    let end = location
        .span()
        .byte_len()
        .and_then(|len| usize::try_from(len).ok())
        .map_or(text.len(), |len| start.saturating_add(len).min(text.len()));
    let end = if text.is_char_boundary(end) {
        end
    } else {
        text.len()
    };
    if query.value.trim().is_empty() {
        // The scalar of an empty block starts at whatever follows it: point
        // at the key instead.
        let key = text[..start].rfind("query:").unwrap_or(start);
        return Err(Problem::new(
            name,
            ProblemKind::Invalid,
            codes::NO_QUERY,
            "the `query` field is empty",
        )
        .with_span(text, key..key + "query".len(), "no query text"));
    }
    let offsets = align(&text, start, end, &query.value, block_indent(&text, start));
    Ok(QueryText::embedded(name, text, query.value, offsets))
}

fn yaml_problem(name: String, text: String, error: &serde_saphyr::Error) -> Problem {
    let reason = reason(error);
    let problem = Problem::new(
        name,
        ProblemKind::Invalid,
        codes::RULE_YAML,
        format!("cannot read the rule YAML: {reason}"),
    );
    match error.location() {
        Some(location) => {
            let at = byte_offset(&text, &location);
            let len = text[at..].chars().next().map_or(0, char::len_utf8);
            problem.with_span(text, at..at + len, &reason)
        }
        None => problem,
    }
}

/// serde-saphyr's message without its position (shown separately) and
/// without advice meant for programmers using the library.
fn reason(error: &serde_saphyr::Error) -> String {
    let mut message = error.without_snippet().to_string();
    if let Some(i) = message.rfind(" at line ") {
        let tail = &message[i + " at line ".len()..];
        if tail.contains(", column ")
            && tail
                .chars()
                .all(|c| c.is_ascii_digit() || ", column".contains(c))
        {
            message.truncate(i);
        }
    }
    for hint in [", set DuplicateKeyPolicy", "; use from_str_multiple"] {
        if let Some(i) = message.find(hint) {
            message.truncate(i);
        }
    }
    message
}

/// The byte offset of a location serde-saphyr reports.
fn byte_offset(text: &str, location: &Location) -> usize {
    if let Some(offset) = location.span().byte_offset()
        && let Ok(offset) = usize::try_from(offset)
        && text.is_char_boundary(offset)
    {
        return offset;
    }
    offset_of_line_col(text, location.line(), location.column())
}

/// The byte offset of a 1-based line and character column.
fn offset_of_line_col(text: &str, line: u64, column: u64) -> usize {
    let line = usize::try_from(line).unwrap_or(1).max(1);
    let column = usize::try_from(column).unwrap_or(1).max(1);
    let line_start = if line == 1 {
        0
    } else {
        match text.match_indices('\n').nth(line - 2) {
            Some((i, _)) => i + 1,
            None => return text.len(),
        }
    };
    let line_text = &text[line_start..];
    let line_text = &line_text[..line_text.find('\n').unwrap_or(line_text.len())];
    line_start
        + line_text
            .char_indices()
            .nth(column - 1)
            .map_or(line_text.len(), |(i, _)| i)
}

/// When the scalar starts a line (a `|` or `>` block, or a plain scalar under
/// its key), its lines carry this much indentation that is not part of it.
fn block_indent(text: &str, start: usize) -> Option<usize> {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..start];
    let quoted = text[start..].starts_with(['"', '\'']);
    (indent.bytes().all(|b| b == b' ') && !quoted).then_some(indent.len())
}

/// How far the walk looks ahead in the file for a character of the value
/// (past quotes, escapes and indentation) before deciding it was implied.
const LOOKAHEAD: usize = 8;

/// For each byte offset of `value` (and one past its end), the byte offset in
/// `text[start..end]` where it was written.
fn align(
    text: &str,
    start: usize,
    end: usize,
    value: &str,
    block_indent: Option<usize>,
) -> Vec<usize> {
    let file = &text[..end.max(start)];
    let mut offsets = Vec::with_capacity(value.len() + 1);
    let mut p = start.min(file.len());
    let mut after_last = p;
    for c in value.chars() {
        let (at, len) = loop {
            let Some(fc) = file[p..].chars().next() else {
                break (p, 0);
            };
            if fc == '\r' && c != '\r' {
                p += 1;
                continue;
            }
            if fc == c {
                p += fc.len_utf8();
                let at = p - fc.len_utf8();
                if fc == '\n' {
                    p = skip_indent(file, p, block_indent);
                }
                break (at, fc.len_utf8());
            }
            if c.is_whitespace() {
                if fc == '\n' {
                    // A line break folded into a space.
                    let at = p;
                    p = skip_indent(file, p + 1, block_indent);
                    break (at, 1);
                }
                // Written as an escape sequence, or implied by folding.
                break (p, 0);
            }
            match file[p..]
                .char_indices()
                .take(LOOKAHEAD)
                .find(|&(_, x)| x == c)
            {
                Some((skip, _)) => p += skip,
                // Written as an escape sequence such as `\u00e9`.
                None => break (p, 0),
            }
        };
        offsets.extend(std::iter::repeat_n(at, c.len_utf8()));
        after_last = at + len;
    }
    offsets.push(after_last);
    offsets
}

/// Skips a line's indentation: exactly a block's, or all of it elsewhere.
fn skip_indent(file: &str, mut p: usize, block_indent: Option<usize>) -> usize {
    let bytes = file.as_bytes();
    match block_indent {
        Some(n) => {
            let mut skipped = 0;
            while skipped < n && bytes.get(p) == Some(&b' ') {
                p += 1;
                skipped += 1;
            }
        }
        None => {
            while matches!(bytes.get(p), Some(b' ' | b'\t')) {
                p += 1;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extracts the query and checks that every non-blank character of it
    /// maps to the same character in the file; returns (line, col) of `needle`.
    fn locate(yaml: &str, needle: &str) -> (usize, usize) {
        locate_in(yaml, needle, |_| true)
    }

    /// As `locate`, checking only the characters `exact` selects.
    fn locate_in(yaml: &str, needle: &str, exact: impl Fn(char) -> bool) -> (usize, usize) {
        let q = extract("r.yaml".into(), yaml.into()).unwrap();
        let query = q.query().to_string();
        let checked = query
            .char_indices()
            .filter(|&(_, c)| !c.is_whitespace() && exact(c));
        for (i, c) in checked {
            let at = q.source_range(i..i + c.len_utf8());
            assert_eq!(
                &yaml[at.clone()],
                c.to_string(),
                "char {i} of {query:?} at {at:?}"
            );
        }
        let i = query.find(needle).unwrap();
        let at = q.source_range(i..i + needle.len());
        assert_eq!(&yaml[at.clone()], needle);
        kqlite_syntax::line_col(yaml, at.start)
    }

    #[test]
    fn literal_block() {
        let yaml = "id: 1\nquery: |\n  T\n  | where x\n\n    | take 1\nname: a\n";
        assert_eq!(locate(yaml, "where"), (4, 5));
        assert_eq!(locate(yaml, "take"), (6, 7));
    }

    #[test]
    fn nested_and_chomped_blocks() {
        assert_eq!(
            locate("a:\n  b: 1\nquery: |-\n      T\n        | x\n", "x"),
            (5, 11)
        );
        assert_eq!(locate("query: |+\n T\n | y\n\n\nz: 1\n", "y"), (3, 4));
    }

    #[test]
    fn crlf_lines() {
        assert_eq!(
            locate("query: |\r\n  T\r\n  | where x\r\n", "where"),
            (3, 5)
        );
    }

    #[test]
    fn folded_and_plain_scalars() {
        assert_eq!(locate("query: >\n  T\n  | where x\n", "where"), (3, 5));
        assert_eq!(locate("query: T | where\n  x == 1\n", "x =="), (2, 3));
        assert_eq!(locate("query:\n  T | where\n  x == 1\n", "x =="), (3, 3));
    }

    #[test]
    fn quoted_scalars() {
        assert_eq!(locate("query: 'T | where a == ''b'''\n", "where"), (1, 13));
        assert_eq!(locate("query: 'T | where a == ''b'''\n", "b'"), (1, 26));
        assert_eq!(
            locate("query: \"T\\n| where \\\"x\\\"\"\n", "where"),
            (1, 14)
        );
        assert_eq!(locate("query: \"T\\n| where \\\"x\\\"\"\n", "x"), (1, 22));
        assert_eq!(
            locate_in("query: \"caf\\u00e9 | take 1\"\n", "take", |c| c.is_ascii()),
            (1, 21)
        );
    }

    #[test]
    fn positions_without_byte_offsets() {
        let text = "ab\ncdé\n";
        let at = |line, column| offset_of_line_col(text, line, column);
        assert_eq!(at(1, 1), 0);
        assert_eq!(at(1, 9), 2);
        assert_eq!(at(2, 3), 5);
        assert_eq!(at(2, 4), 7);
        assert_eq!(at(7, 1), text.len());
    }

    #[test]
    fn empty_query_points_at_its_key() {
        let empty = extract("r.yaml".into(), "name: x\nquery: |\n\nid: 3\n".into()).unwrap_err();
        assert_eq!(
            empty.summary(),
            "r.yaml:2:1: error: the `query` field is empty"
        );
        let blank = extract("r.yaml".into(), "query: ' '\n".into()).unwrap_err();
        assert_eq!(
            blank.summary(),
            "r.yaml:1:1: error: the `query` field is empty"
        );
    }

    #[test]
    fn errors() {
        let no_query = extract("r.yaml".into(), "name: x\n".into()).unwrap_err();
        assert_eq!(
            no_query.summary(),
            "r.yaml: error: no `query` field in this YAML file"
        );
        let bad = extract("r.yaml".into(), "name: x\nquery: [1, 2\n".into()).unwrap_err();
        assert!(bad.summary().starts_with("r.yaml:2:"), "{}", bad.summary());
        let not_map = extract("r.yaml".into(), "- a\n- b\n".into()).unwrap_err();
        assert_eq!(
            not_map.summary(),
            "r.yaml:1:1: error: cannot read the rule YAML: expected mapping start"
        );
        let dup = extract("r.yaml".into(), "query: a\nquery: b\n".into()).unwrap_err();
        assert_eq!(
            dup.summary(),
            "r.yaml:2:1: error: cannot read the rule YAML: duplicate mapping key: query"
        );
    }

    /// Every real rule file maps its query back onto itself (whitespace
    /// aside: a block's leading blank lines have no place of their own).
    #[test]
    fn shared_rules_map_exactly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rules");
        let Ok(inputs) = crate::inputs::collect(&[dir], None) else {
            return; // Not on this machine.
        };
        for input in inputs {
            let crate::inputs::Input::File(path) = input else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let q = extract(path.display().to_string(), text.clone()).unwrap();
            for (i, c) in q.query().char_indices().filter(|(_, c)| !c.is_whitespace()) {
                let at = q.source_range(i..i + c.len_utf8());
                assert_eq!(&text[at], c.to_string(), "{} byte {i}", path.display());
            }
        }
    }
}
