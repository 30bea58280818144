//! The real-query corpus against the official parser's verdicts.
//!
//! ../shared/corpus holds 2,338 Azure-Sentinel queries, each with the verdict
//! of Microsoft's own Kusto parser (Kusto.Language 12.4.1, syntax only).
//! kqlite must accept at least 99.5% of the officially valid ones, reject at
//! least 90% of the officially invalid ones, print every accepted query back
//! to text that parses to the same tree, and never panic on any prefix.

use kqlite_syntax::parse;
use std::path::{Path, PathBuf};

struct Case {
    file: String,
    text: String,
    official_ok: bool,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn load() -> Option<Vec<Case>> {
    let dir = corpus_dir();
    let tsv = std::fs::read_to_string(dir.join("queries.tsv")).ok()?;
    let mut cases = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            continue;
        }
        let text =
            std::fs::read_to_string(dir.join(cols[0])).expect("corpus file listed in queries.tsv");
        cases.push(Case {
            file: cols[0].to_string(),
            text,
            official_ok: cols[3] == "1",
        });
    }
    Some(cases)
}

#[test]
fn corpus_agrees_with_official_parser() {
    let Some(cases) = load() else {
        eprintln!("SKIPPED: ../shared/corpus not found; the corpus test needs the shared folder");
        return;
    };
    let (mut valid, mut accepted, mut invalid, mut rejected) = (0, 0, 0, 0);
    let mut wrongly_rejected = Vec::new();
    let mut wrongly_accepted = Vec::new();
    for c in &cases {
        let result = parse(&c.text);
        if c.official_ok {
            valid += 1;
            match result {
                Ok(_) => accepted += 1,
                Err(d) => {
                    let (line, col) =
                        kqlite_syntax::line_col(&c.text, d.span().map(|s| s.start).unwrap_or(0));
                    wrongly_rejected.push(format!("{}:{line}:{col}: {}", c.file, d.message));
                }
            }
        } else {
            invalid += 1;
            match result {
                Ok(_) => wrongly_accepted.push(c.file.clone()),
                Err(_) => rejected += 1,
            }
        }
    }
    let accept_rate = 100.0 * accepted as f64 / valid as f64;
    let reject_rate = 100.0 * rejected as f64 / invalid as f64;
    println!("corpus: accepted {accepted}/{valid} officially valid queries ({accept_rate:.2}%)");
    println!(
        "corpus: rejected {rejected}/{invalid} officially invalid queries ({reject_rate:.2}%)"
    );
    for w in &wrongly_rejected {
        println!("  wrongly rejected: {w}");
    }
    for w in &wrongly_accepted {
        println!("  wrongly accepted: {w}");
    }
    assert!(accept_rate >= 99.5, "acceptance {accept_rate:.2}% < 99.5%");
    assert!(reject_rate >= 90.0, "rejection {reject_rate:.2}% < 90%");
}

/// For every accepted corpus query: parse(display(ast)) == ast, and printing
/// is stable (display(parse(display(ast))) == display(ast)).
#[test]
fn corpus_round_trips_through_the_printer() {
    let Some(cases) = load() else {
        eprintln!(
            "SKIPPED: ../shared/corpus not found; the round-trip test needs the shared folder"
        );
        return;
    };
    let mut checked = 0;
    for c in &cases {
        let Ok(ast) = parse(&c.text) else { continue };
        let printed = ast.to_string();
        let again = parse(&printed).unwrap_or_else(|d| {
            panic!(
                "{}: printed text does not parse: {}\n{printed}",
                c.file, d.message
            )
        });
        assert_eq!(
            ast, again,
            "{}: round trip changed the tree\n{printed}",
            c.file
        );
        assert_eq!(
            printed,
            again.to_string(),
            "{}: printing is not stable",
            c.file
        );
        checked += 1;
    }
    println!("round trip: {checked} accepted corpus queries print and reparse to the same tree");
    assert!(checked > 2000);
}
