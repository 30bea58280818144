//! Finding the parts of a JSON document without building it: the byte
//! ranges of an array's elements and of an object's members, so that each
//! record of a JSON array or an API response is parsed on its own and an
//! error names the line where that record starts.
//!
//! The scanner only skips over values; serde_json parses (and so validates)
//! every value that becomes data. Structural errors between values (a
//! missing comma, an unclosed bracket) are reported with their line.

use serde_json::Value;

/// A JSON text and the offsets of its line starts.
pub(crate) struct Doc<'a> {
    pub text: &'a str,
    line_starts: Vec<usize>,
}

/// A byte range `start..end` of one value in the text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// A structural error: the byte offset and what is wrong.
pub(crate) type ScanError = (usize, String);

impl<'a> Doc<'a> {
    pub fn new(text: &'a str) -> Doc<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Doc { text, line_starts }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, pos: usize) -> usize {
        match self.line_starts.binary_search(&pos) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The 1-based column (in characters) of a byte offset.
    pub fn column_of(&self, pos: usize) -> usize {
        let line = self.line_of(pos);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        self.text
            .get(start..pos.min(self.text.len()))
            .map_or(1, |s| s.chars().count() + 1)
    }

    fn byte(&self, pos: usize) -> Option<u8> {
        self.text.as_bytes().get(pos).copied()
    }

    /// The first offset at or after `pos` that is not JSON whitespace.
    pub fn skip_ws(&self, mut pos: usize) -> usize {
        while matches!(self.byte(pos), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            pos += 1;
        }
        pos
    }

    /// The offset just after the value that starts at `pos`.
    pub fn value_end(&self, pos: usize) -> Result<usize, ScanError> {
        match self.byte(pos) {
            None => Err((pos, "the text ends where a value should be".into())),
            Some(b'"') => self.string_end(pos),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                let mut p = pos;
                loop {
                    match self.byte(p) {
                        None => {
                            return Err((pos, "this object or array is not closed".into()));
                        }
                        Some(b'"') => {
                            p = self.string_end(p)?;
                            continue;
                        }
                        Some(b'{' | b'[') => depth += 1,
                        Some(b'}' | b']') => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(p + 1);
                            }
                        }
                        _ => {}
                    }
                    p += 1;
                }
            }
            Some(b',' | b':' | b']' | b'}') => Err((pos, "a value is missing".into())),
            Some(_) => {
                let mut p = pos;
                while let Some(b) = self.byte(p) {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    p += 1;
                }
                Ok(p)
            }
        }
    }

    fn string_end(&self, pos: usize) -> Result<usize, ScanError> {
        let mut p = pos + 1;
        loop {
            match self.byte(p) {
                None => return Err((pos, "a string is not closed".into())),
                Some(b'\\') => p += 2,
                Some(b'"') => return Ok(p + 1),
                Some(_) => p += 1,
            }
        }
    }

    /// The elements of the array that starts at `open` (a `[`).
    pub fn array_items(&self, open: usize) -> Result<Vec<Span>, ScanError> {
        if self.byte(open) != Some(b'[') {
            return Err((open, "expected an array".into()));
        }
        let mut out = Vec::new();
        let mut pos = self.skip_ws(open + 1);
        if self.byte(pos) == Some(b']') {
            return Ok(out);
        }
        loop {
            let end = self.value_end(pos)?;
            out.push(Span { start: pos, end });
            pos = self.skip_ws(end);
            match self.byte(pos) {
                Some(b',') => pos = self.skip_ws(pos + 1),
                Some(b']') => return Ok(out),
                None => return Err((open, "this array is not closed".into())),
                Some(_) => return Err((pos, "expected `,` or `]` after an array element".into())),
            }
        }
    }

    /// The members (key, value range) of the object that starts at `open`.
    pub fn object_members(&self, open: usize) -> Result<Vec<(String, Span)>, ScanError> {
        if self.byte(open) != Some(b'{') {
            return Err((open, "expected an object".into()));
        }
        let mut out = Vec::new();
        let mut pos = self.skip_ws(open + 1);
        if self.byte(pos) == Some(b'}') {
            return Ok(out);
        }
        loop {
            if self.byte(pos) != Some(b'"') {
                return Err((pos, "expected a quoted key".into()));
            }
            let key_end = self.string_end(pos)?;
            let key: String = serde_json::from_str(&self.text[pos..key_end])
                .map_err(|e| (pos, format!("bad key: {e}")))?;
            pos = self.skip_ws(key_end);
            if self.byte(pos) != Some(b':') {
                return Err((pos, "expected `:` after a key".into()));
            }
            pos = self.skip_ws(pos + 1);
            let end = self.value_end(pos)?;
            out.push((key, Span { start: pos, end }));
            pos = self.skip_ws(end);
            match self.byte(pos) {
                Some(b',') => pos = self.skip_ws(pos + 1),
                Some(b'}') => return Ok(out),
                None => return Err((open, "this object is not closed".into())),
                Some(_) => return Err((pos, "expected `,` or `}` after a member".into())),
            }
        }
    }

    /// Parses the value in `span`; an error is (offset, serde's message).
    pub fn parse(&self, span: Span) -> Result<Value, ScanError> {
        let s = &self.text[span.start..span.end];
        serde_json::from_str(s).map_err(|e| (self.offset_in(span.start, &e), message(&e)))
    }

    /// The document offset of a serde_json error inside a slice that
    /// starts at `base`.
    fn offset_in(&self, base: usize, e: &serde_json::Error) -> usize {
        let first = self.line_of(base);
        let line = first + e.line().saturating_sub(1);
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let col_base = if line == first { base } else { line_start };
        // serde's column counts bytes from 1 on its own line.
        col_base + e.column().saturating_sub(1)
    }

    /// The top-level values of a text that holds one or more JSON values
    /// (a document, or several one after another). Every value is
    /// validated.
    pub fn top_values(&self) -> Result<Vec<Span>, ScanError> {
        let mut out = Vec::new();
        let mut stream =
            serde_json::Deserializer::from_str(self.text).into_iter::<serde::de::IgnoredAny>();
        let mut start = self.skip_ws(0);
        loop {
            match stream.next() {
                None => return Ok(out),
                Some(Ok(_)) => {
                    let end = stream.byte_offset();
                    out.push(Span { start, end });
                    start = self.skip_ws(end);
                }
                Some(Err(e)) => {
                    let line = e.line().max(1);
                    let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
                    return Err((line_start + e.column().saturating_sub(1), message(&e)));
                }
            }
        }
    }

    /// `file:LINE:COL` style place of an offset.
    pub fn place(&self, pos: usize) -> String {
        format!("{}:{}", self.line_of(pos), self.column_of(pos))
    }
}

/// serde_json's message without its own "at line L column C" (the caller
/// names the place in the file).
pub(crate) fn message(e: &serde_json::Error) -> String {
    let m = e.to_string();
    match m.rfind(" at line ") {
        Some(k) => m[..k].to_string(),
        None => m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_members_and_lines() {
        let text = "[\n {\"a\": \"x]\\\"\"},\n [1, {\"b\": 2}],\n 3\n]";
        let d = Doc::new(text);
        let items = d.array_items(0).expect("array");
        assert_eq!(items.len(), 3);
        assert_eq!(d.line_of(items[0].start), 2);
        assert_eq!(d.line_of(items[2].start), 4);
        let members = d.object_members(items[0].start).expect("object");
        assert_eq!(members[0].0, "a");
        assert_eq!(
            d.parse(members[0].1).expect("value"),
            Value::String("x]\"".into())
        );
        assert!(d.array_items(text.find('3').unwrap_or(0)).is_err());
        let bad = Doc::new("[1 2]");
        assert!(bad.array_items(0).is_err());
        let open = Doc::new("[{\"a\": 1}");
        assert!(open.array_items(0).is_err());
    }

    #[test]
    fn top_level_values_and_errors() {
        let d = Doc::new("{\"a\":1}\r\n{\"b\":2}\n");
        let v = d.top_values().expect("two values");
        assert_eq!(v.len(), 2);
        assert_eq!(d.line_of(v[1].start), 2);
        let bad = Doc::new("{\"a\":1}\n{\"b\":}\n");
        let (pos, _) = bad.top_values().expect_err("malformed");
        assert_eq!(bad.line_of(pos), 2);
    }
}
