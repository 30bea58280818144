//! Where queries come from: `.kql` files, rule YAML files, directories of
//! them, `-q`, or stdin; and how to point back into what the user wrote.

use crate::render::{Problem, ProblemKind, codes, floor_char_boundary};
use crate::rule_yaml;
use std::collections::HashSet;
use std::fs;
use std::io::{self, IsTerminal, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One thing to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Stdin,
    /// Query text given on the command line.
    Inline(String),
}

/// The extensions a directory is searched for.
const QUERY_EXTENSIONS: &[&str] = &["kql", "yaml", "yml"];

/// What to check, in order: the `-q` text, else each PATH (directories
/// searched recursively, sorted), else stdin. A missing path is a usage error,
/// reported before anything is checked.
pub fn collect(paths: &[PathBuf], inline: Option<String>) -> Result<Vec<Input>, String> {
    if let Some(text) = inline {
        return Ok(vec![Input::Inline(text)]);
    }
    if paths.is_empty() {
        return Ok(vec![Input::Stdin]);
    }
    let mut inputs = Vec::new();
    let mut stdin_seen = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_seen {
                return Err("`-` (stdin) can be given only once".to_string());
            }
            stdin_seen = true;
            inputs.push(Input::Stdin);
            continue;
        }
        let metadata = fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => format!("{}: no such file or directory", path.display()),
            _ => format!("{}: {}", path.display(), e),
        })?;
        if metadata.is_dir() {
            let mut found = Vec::new();
            let mut visited = HashSet::new();
            walk(path, &mut found, &mut visited)
                .map_err(|(dir, e)| format!("{}: cannot read directory: {e}", dir.display()))?;
            if found.is_empty() {
                eprintln!(
                    "note: {}: no .kql, .yaml or .yml files in this directory",
                    path.display()
                );
            }
            found.sort();
            inputs.extend(found.into_iter().map(Input::File));
        } else {
            // A file named explicitly is checked whatever its extension:
            // YAML if it ends in .yaml/.yml, KQL text otherwise.
            inputs.push(Input::File(path.clone()));
        }
    }
    Ok(inputs)
}

/// Adds the query files under `dir` to `found`. Hidden entries (`.git`...)
/// are skipped; symlinks are followed, each directory visited once.
fn walk(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), (PathBuf, io::Error)> {
    let fail = |e| (dir.to_path_buf(), e);
    let canonical = fs::canonicalize(dir).map_err(fail)?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    for entry in fs::read_dir(dir).map_err(fail)? {
        let path = entry.map_err(fail)?.path();
        let hidden = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, found, visited)?,
            // A broken link with a query extension is kept: reading it
            // reports the problem under its name.
            // Detection tests (`*.test.yaml`) are `kqlite test`'s, not rules.
            _ if is_detection_test(&path) => {}
            _ if has_extension(&path, QUERY_EXTENSIONS) => found.push(path),
            _ => {}
        }
    }
    Ok(())
}

fn is_detection_test(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|n| n.ends_with(".test.yaml") || n.ends_with(".test.yml"))
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| extensions.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// A query to check, and the text its positions are reported against.
#[derive(Debug, Clone)]
pub struct QueryText {
    /// How the input is named in output: a path, `<stdin>` or `<query>`.
    pub name: String,
    /// The input as the user wrote it (without a byte-order mark).
    source: String,
    /// The query, when it is only part of `source` (a rule's `query:` field).
    embedded: Option<Embedded>,
}

#[derive(Debug, Clone)]
struct Embedded {
    query: String,
    /// For each byte offset of `query` (and one past its end), the byte
    /// offset in `source` it was read from.
    offsets: Vec<usize>,
}

impl QueryText {
    /// A query that is the whole input.
    pub fn whole(name: impl Into<String>, source: String) -> QueryText {
        QueryText {
            name: name.into(),
            source,
            embedded: None,
        }
    }

    /// A query read from a part of `source`; `offsets` maps each byte offset
    /// of the query (and its end) to one in `source`.
    pub fn embedded(
        name: impl Into<String>,
        source: String,
        query: String,
        offsets: Vec<usize>,
    ) -> QueryText {
        debug_assert_eq!(offsets.len(), query.len() + 1);
        QueryText {
            name: name.into(),
            source,
            embedded: Some(Embedded { query, offsets }),
        }
    }

    pub fn query(&self) -> &str {
        match &self.embedded {
            Some(embedded) => &embedded.query,
            None => &self.source,
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where a span of the query sits in the source.
    pub fn source_range(&self, span: Range<usize>) -> Range<usize> {
        let Some(embedded) = &self.embedded else {
            return span;
        };
        let query = embedded.query.as_str();
        let at = |offset: usize| {
            embedded
                .offsets
                .get(offset)
                .copied()
                .unwrap_or(self.source.len())
        };
        let start = floor_char_boundary(query, span.start);
        let end = floor_char_boundary(query, span.end).max(start);
        if end == start {
            let at = at(start);
            return at..at;
        }
        // The end is just after the span's last character, which may sit on
        // another line than the character that follows it.
        let last = floor_char_boundary(query, end - 1);
        let last_len = query[last..].chars().next().map_or(0, char::len_utf8);
        let start = at(start);
        start..(at(last) + last_len).max(start)
    }
}

/// Reads one input. A file ending in .yaml/.yml is a rule file: its `query`
/// field is the query.
pub fn load(input: &Input) -> Result<QueryText, Problem> {
    match input {
        Input::Inline(text) => Ok(QueryText::whole("<query>", text.clone())),
        Input::Stdin => {
            let name = "<stdin>";
            let mut stdin = io::stdin();
            if stdin.is_terminal() {
                eprintln!("reading a query from stdin (end it with Ctrl-D)");
            }
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .map_err(|e| unreadable(name, &e))?;
            Ok(QueryText::whole(name, decode(name, bytes)?))
        }
        Input::File(path) => {
            let name = path.display().to_string();
            let bytes = fs::read(path).map_err(|e| unreadable(&name, &e))?;
            let text = decode(&name, bytes)?;
            if has_extension(path, &["yaml", "yml"]) {
                rule_yaml::extract(name, text)
            } else {
                Ok(QueryText::whole(name, text))
            }
        }
    }
}

fn unreadable(name: &str, error: &io::Error) -> Problem {
    Problem::new(
        name,
        ProblemKind::Unreadable,
        codes::UNREADABLE,
        format!("cannot read: {error}"),
    )
}

/// The text of a file, which must be UTF-8. A byte-order mark is dropped.
fn decode(name: &str, bytes: Vec<u8>) -> Result<String, Problem> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(e) => {
            let bad = e.utf8_error();
            let at = bad.valid_up_to();
            let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let byte = e.as_bytes().get(at).copied().unwrap_or_default();
            // The invalid sequence is shown as one replacement character.
            let span = at..at + char::REPLACEMENT_CHARACTER.len_utf8();
            Err(Problem::new(
                name,
                ProblemKind::Invalid,
                codes::NOT_UTF8,
                format!("the file is not valid UTF-8 (byte 0x{byte:02X})"),
            )
            .with_help("save the file as UTF-8")
            .with_span(shown, span, "not UTF-8"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_ranges_end_after_the_last_character() {
        // "ab\ncd" read from "  ab\n  cd\n".
        let q = QueryText::embedded(
            "r.yaml",
            "  ab\n  cd\n".into(),
            "ab\ncd".into(),
            vec![2, 3, 4, 7, 8, 9],
        );
        assert_eq!(q.source_range(0..2), 2..4);
        assert_eq!(q.source_range(0..3), 2..5);
        assert_eq!(q.source_range(3..5), 7..9);
        assert_eq!(q.source_range(5..5), 9..9);
        assert_eq!(q.source_range(9..12), 9..9);
    }

    #[test]
    fn invalid_utf8_is_located() {
        let problem = decode("x.kql", b"T\n| where a == \"\xff\"".to_vec()).unwrap_err();
        assert_eq!(
            problem.summary(),
            "x.kql:2:15: error: the file is not valid UTF-8 (byte 0xFF)"
        );
    }

    #[test]
    fn bom_is_dropped() {
        assert_eq!(decode("x.kql", b"\xef\xbb\xbfT".to_vec()).unwrap(), "T");
    }
}
