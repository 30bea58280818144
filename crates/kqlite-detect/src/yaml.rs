//! A rule file as a tree of YAML nodes, each with the byte range it was
//! written at, and the rule's `query` with the place of each of its bytes.
//!
//! The loader reads the document into [`Node`]s rather than straight into
//! typed structs so that a value of the wrong shape (a list where a string
//! belongs, `triggerThreshold: many`) is reported under its field's name and
//! place, together with every other such problem in the file, instead of
//! stopping at the first one with a deserializer's message.
//!
//! Where the query's bytes sit in the file: serde-saphyr gives the scalar's
//! value and where it starts. The rest is recovered by walking the value and
//! the file side by side: in the usual `query: |` block the file holds the
//! value line by line, behind the block's indentation; folded, plain and
//! quoted scalars differ from their value only by line folding, quotes and
//! escapes, which the walk steps over.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::fmt;
use std::ops::Range;

/// One YAML node and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Byte range in the file: the whole scalar for scalars; where the node
    /// starts (possibly empty) for sequences and mappings.
    pub span: Range<usize>,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Entries in the order written; keys are unique (a repeated key is a
    /// YAML error).
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// The kind of value, as a message names it ("a list", "a string").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a whole number",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The string of a scalar key or value.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entry of a mapping node under `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of the entry under `key`.
    pub fn key(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, _)| k),
            _ => None,
        }
    }
}

/// Why a file is not readable YAML, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// serde-saphyr's reason, without its position and without advice meant
    /// for programmers using the library.
    pub reason: String,
    /// Byte range of the offending character, when known.
    pub span: Option<Range<usize>>,
}

/// Reads a YAML document into nodes. Repeated keys are errors.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let spanned: Spanned<RawNode> = serde_saphyr::from_str(text).map_err(|e| {
        let span = e.location().map(|location| {
            let at = byte_offset(text, &location);
            let len = text[at..].chars().next().map_or(0, char::len_utf8);
            at..at + len
        });
        YamlError {
            reason: reason(&e),
            span,
        }
    })?;
    Ok(to_node(text, spanned))
}

fn to_node(text: &str, spanned: Spanned<RawNode>) -> Node {
    let span = scalar_range(text, &spanned.referenced);
    let value = match spanned.value {
        RawNode::Null => Value::Null,
        RawNode::Bool(b) => Value::Bool(b),
        RawNode::Int(i) => Value::Int(i),
        RawNode::Float(f) => Value::Float(f),
        RawNode::String(s) => Value::String(s),
        RawNode::Seq(items) => Value::Seq(items.into_iter().map(|n| to_node(text, n)).collect()),
        RawNode::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (to_node(text, k), to_node(text, v)))
                .collect(),
        ),
    };
    Node { value, span }
}

/// The byte range serde-saphyr reports for a node.
fn scalar_range(text: &str, location: &Location) -> Range<usize> {
    let start = byte_offset(text, location);
    let end = location
        .span()
        .byte_len()
        .and_then(|len| usize::try_from(len).ok())
        .map_or(start, |len| start.saturating_add(len).min(text.len()));
    let end = if text.is_char_boundary(end) {
        end
    } else {
        start
    };
    start..end.max(start)
}

/// The document as serde-saphyr hands it over, before byte ranges are
/// resolved against the text.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawNode, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawNode::Int(i),
            // Beyond any limit a rule field has; kept as a number.
            Err(_) => RawNode::Float(v as f64),
        })
    }

    fn visit_i128<E>(self, v: i128) -> Result<RawNode, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawNode::Int(i),
            Err(_) => RawNode::Float(v as f64),
        })
    }

    fn visit_u128<E>(self, v: u128) -> Result<RawNode, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawNode::Int(i),
            Err(_) => RawNode::Float(v as f64),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::String(v))
    }

    fn visit_char<E>(self, v: char) -> Result<RawNode, E> {
        Ok(RawNode::String(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawNode>>()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<RawNode>>()? {
            let value = map.next_value::<Spanned<RawNode>>()?;
            entries.push((key, value));
        }
        Ok(RawNode::Map(entries))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<RawNode, E> {
        Err(E::custom("binary values are not rule fields"))
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
        && offset <= text.len()
        && text.is_char_boundary(offset)
    {
        return offset;
    }
    offset_of_line_col(text, location.line(), location.column())
}

/// The byte offset of a 1-based line and character column.
pub(crate) fn offset_of_line_col(text: &str, line: u64, column: u64) -> usize {
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

/// A query read from a scalar of the file, and where each of its bytes was
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedQuery {
    pub text: String,
    /// For each byte offset of `text` (and one past its end), the byte offset
    /// in the file it was read from.
    pub offsets: Vec<usize>,
    /// Where the scalar holding the query was written.
    pub span: Range<usize>,
}

impl EmbeddedQuery {
    /// The query held by the string node `node` of the file `file`.
    pub fn from_node(file: &str, node: &Node, value: &str) -> EmbeddedQuery {
        let start = node.span.start.min(file.len());
        let end = if node.span.end > start {
            node.span.end
        } else {
            file.len()
        };
        let offsets = align(file, start, end, value, block_indent(file, start));
        EmbeddedQuery {
            text: value.to_string(),
            offsets,
            span: start..end,
        }
    }

    /// Where a byte range of the query sits in the file.
    pub fn file_range(&self, span: Range<usize>) -> Range<usize> {
        let at = |offset: usize| {
            self.offsets
                .get(offset)
                .copied()
                .unwrap_or_else(|| self.offsets.last().copied().unwrap_or(0))
        };
        let start = floor_char_boundary(&self.text, span.start);
        let end = floor_char_boundary(&self.text, span.end).max(start);
        if end == start {
            let at = at(start);
            return at..at;
        }
        let last = floor_char_boundary(&self.text, end - 1);
        let last_len = self.text[last..].chars().next().map_or(0, char::len_utf8);
        let start = at(start);
        start..(at(last) + last_len).max(start)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
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

    #[test]
    fn nodes_and_spans() {
        let text = "a: 1\nb: [x, 'y']\nc:\n  d: true\ne:\nf: 1.5\n";
        let doc = parse(text).unwrap();
        let a = doc.get("a").unwrap();
        assert_eq!(a.value, Value::Int(1));
        assert_eq!(&text[a.span.clone()], "1");
        let Value::Seq(b) = &doc.get("b").unwrap().value else {
            panic!("b is a list")
        };
        assert_eq!(&text[b[0].span.clone()], "x");
        assert_eq!(b[1].as_str(), Some("y"));
        assert_eq!(&text[b[1].span.clone()], "'y'");
        assert_eq!(
            doc.get("c").unwrap().get("d").unwrap().value,
            Value::Bool(true)
        );
        assert_eq!(doc.get("e").unwrap().value, Value::Null);
        assert_eq!(doc.get("f").unwrap().value, Value::Float(1.5));
        let key = doc.key("c").unwrap();
        assert_eq!(&text[key.span.clone()], "c");
    }

    #[test]
    fn errors_are_placed() {
        let dup = parse("query: a\nquery: b\n").unwrap_err();
        assert_eq!(dup.reason, "duplicate mapping key: query");
        assert_eq!(dup.span, Some(9..10));
        let bad = parse("name: x\nquery: [1, 2\n").unwrap_err();
        assert!(bad.span.is_some(), "{bad:?}");
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
}
