//! Golden KQL tests: testdata/golden/*.test, each case's expected rows taken
//! from the KQL reference page cited above it.
//!
//! File format (blank lines separate cases; `#` lines are comments):
//!
//! ```text
//! # print-operator page: "print 0 + 1 + 2 + 3 + 4 + 5, x = "Wow!"" -> 15, Wow!
//! query now=2024-01-01T00:00:00Z
//! print 0 + 1 + 2 + 3 + 4 + 5, x = "Wow!"
//! ----
//! {"print_0":15,"x":"Wow!"}
//!
//! error unknown column
//! print y
//! ```
//!
//! Expected rows are NDJSON in output order (`query rowsort` compares them
//! sorted). `error TEXT` expects the query to fail with TEXT in the message.

use kqlite_engine::{Error, Session, output};
use std::path::{Path, PathBuf};

struct Case {
    file: String,
    line: usize,
    header: String,
    query: String,
    expected: Vec<String>,
}

fn parse_file(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).expect("golden file is readable");
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cases = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        assert!(
            t.starts_with("query") || t.starts_with("error"),
            "{file}:{}: expected `query` or `error`, found `{t}`",
            n + 1
        );
        let mut query = Vec::new();
        let mut expected = Vec::new();
        let mut in_expected = false;
        while let Some((_, l)) = lines.peek() {
            if l.trim().is_empty() {
                break;
            }
            let (_, l) = lines.next().expect("peeked");
            if l.trim() == "----" {
                in_expected = true;
            } else if in_expected {
                expected.push(l.trim().to_string());
            } else {
                query.push(l);
            }
        }
        cases.push(Case {
            file: file.clone(),
            line: n + 1,
            header: t.to_string(),
            query: query.join("\n"),
            expected,
        });
    }
    cases
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/golden")
}

fn run_case(c: &Case) -> Result<(), String> {
    let mut session = Session::new().map_err(|e| e.to_string())?;
    let mut words = c.header.split_whitespace();
    let kind = words.next().unwrap_or_default();
    let mut rowsort = false;
    let mut error_text = Vec::new();
    for w in words {
        if let Some(t) = w.strip_prefix("now=") {
            let nanos = kqlite_engine::datetime::parse_datetime(t).ok_or("bad now=")?;
            session.set_now(nanos);
        } else if w == "rowsort" {
            rowsort = true;
        } else if kind == "error" {
            error_text.push(w);
        } else {
            return Err(format!("unknown option `{w}`"));
        }
    }
    let result = session.query(&c.query);
    if kind == "error" {
        let want = error_text.join(" ");
        return match result {
            Ok(_) => Err(format!(
                "expected an error containing `{want}`, the query succeeded"
            )),
            Err(Error::Query(d)) if d.message.contains(&want) => Ok(()),
            Err(e) => Err(format!("expected an error containing `{want}`, got `{e}`")),
        };
    }
    let result = result.map_err(|e| format!("query failed: {e}"))?;
    let mut buf = Vec::new();
    output::write_ndjson(&result, &mut buf).map_err(|e| e.to_string())?;
    let text = String::from_utf8(buf).map_err(|e| e.to_string())?;
    let mut got: Vec<String> = text.lines().map(str::to_string).collect();
    let mut want = c.expected.clone();
    if rowsort {
        got.sort();
        want.sort();
    }
    if got != want {
        return Err(format!(
            "rows differ\n  want:\n    {}\n  got:\n    {}",
            want.join("\n    "),
            got.join("\n    ")
        ));
    }
    Ok(())
}

#[test]
fn golden_files() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("testdata/golden exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut total = 0;
    for f in &files {
        let cases = parse_file(f);
        let mut passed = 0;
        for c in &cases {
            total += 1;
            match run_case(c) {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!("{}:{}: {e}\n{}", c.file, c.line, c.query)),
            }
        }
        println!(
            "golden: {:<28} {passed}/{} cases",
            f.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            cases.len()
        );
    }
    println!(
        "golden: {} cases in {} files, {} failed",
        total,
        files.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
