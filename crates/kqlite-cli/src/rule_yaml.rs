//! The `query` field of a Sentinel rule YAML file, and where each byte of
//! it was written in the file, so errors point into the YAML. kqlite-detect
//! reads the file (`kqlite_detect::rule::extract_query`); this adapts its
//! answer to the command line's inputs and problems.

use crate::inputs::QueryText;
use crate::render::{Problem, ProblemKind};

/// The query of a rule file, or why there is none.
pub fn extract(name: String, text: String) -> Result<QueryText, Problem> {
    match kqlite_detect::rule::extract_query(&text) {
        Ok(q) => Ok(QueryText::embedded(name, text, q.text, q.offsets)),
        Err(d) => {
            let mut p = Problem::new(name, ProblemKind::Invalid, d.code, d.message);
            if let Some(help) = d.help {
                p = p.with_help(help);
            }
            if let Some(span) = d.span {
                p = p.with_span(text, span, &d.label);
            }
            Err(p)
        }
    }
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
            "r.yaml:1:1: error: cannot read the rule YAML: a rule file is a mapping of fields (id, name, query, ...), this one is a list"
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
