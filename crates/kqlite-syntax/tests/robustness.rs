//! Hostile and broken input: every case must give a result or an error,
//! never a panic or a stack overflow.

use kqlite_syntax::{MAX_NESTING, parse};
use std::path::Path;

fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/queries");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: ../shared/corpus not found");
        return Vec::new();
    };
    let mut files: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.file_name()?.to_string_lossy().into_owned(), text))
        })
        .collect()
}

/// Prefixes cut at every line break of one corpus query in 8, and at every
/// byte of one query in 100. (All byte prefixes of all queries — 2.7 GB of
/// parsing — run in `every_byte_prefix_of_every_query`, ignored by default:
/// `cargo test --release -p kqlite-syntax --test robustness -- --ignored`.)
#[test]
fn prefixes_of_corpus_queries_never_panic() {
    let mut parsed = 0usize;
    for (i, (_, q)) in corpus().iter().enumerate() {
        let every_byte = i % 100 == 0;
        if !every_byte && i % 8 != 0 {
            continue;
        }
        for (pos, c) in q.char_indices() {
            if every_byte || c == '\n' {
                let _ = parse(&q[..pos]);
                parsed += 1;
            }
        }
    }
    println!("parsed {parsed} prefixes without a panic");
}

#[test]
#[ignore = "2.7 GB of parsing; run with --release"]
fn every_byte_prefix_of_every_query() {
    let queries = corpus();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parsed: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let queries = &queries;
                s.spawn(move || {
                    let mut parsed = 0usize;
                    for (_, q) in queries.iter().skip(t).step_by(threads) {
                        for (pos, _) in q.char_indices() {
                            let _ = parse(&q[..pos]);
                            parsed += 1;
                        }
                    }
                    parsed
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .sum()
    });
    println!("parsed {parsed} prefixes without a panic");
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = (rng.next() % 200) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text);
    }
}

#[test]
fn random_kql_tokens_never_panic() {
    const TOKENS: &[&str] = &[
        "T",
        "|",
        "where",
        "x",
        "==",
        "\"a\"",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ";",
        "let",
        "=",
        "summarize",
        "count()",
        "by",
        "bin(",
        "1h",
        "join",
        "kind=inner",
        "on",
        "$left.a",
        "mv-expand",
        "dynamic([1,2])",
        "datetime(2024-01-01)",
        "has",
        "!in",
        "in~",
        "between",
        "..",
        "-",
        "*",
        "project",
        "extend",
        "'",
        "@'x'",
        "```",
        "//c\n",
        "typeof(string)",
        "datatable(a:long)[1]",
        ".",
        "and",
        "or",
        "not(",
        "toscalar(",
        "materialize(",
        "parse",
        "with",
        "*",
        "\\",
    ];
    let mut rng = Rng(42);
    for _ in 0..5000 {
        let n = (rng.next() % 30) as usize;
        let text: Vec<&str> = (0..n)
            .map(|_| TOKENS[(rng.next() % TOKENS.len() as u64) as usize])
            .collect();
        let _ = parse(&text.join(" "));
    }
}

#[test]
fn hundred_thousand_nested_parentheses_is_an_error() {
    let n = 100_000;
    let q = format!("print {}1{}", "(".repeat(n), ")".repeat(n));
    let err = parse(&q).expect_err("too deep");
    assert!(err.message.contains("nested"), "{}", err.message);
    let q = format!("T | where x in {}", "[".repeat(n));
    assert!(parse(&q).is_err());
    let q = format!("print dynamic({})", "[".repeat(n));
    assert!(parse(&q).is_err());
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let n = MAX_NESTING - 1;
    let q = format!("print {}1{}", "(".repeat(n), ")".repeat(n));
    parse(&q).expect("nesting within the limit parses");
}

#[test]
fn long_operator_chains_are_bounded() {
    let q = format!("print {}", vec!["1"; 200_000].join(" + "));
    let err = parse(&q).expect_err("too many operators");
    assert!(err.message.contains("operators"), "{}", err.message);
    let q = format!("print x{}", ".a".repeat(100_000));
    assert!(parse(&q).is_err());
    let q = format!("print {}1", "- ".repeat(100_000));
    assert!(parse(&q).is_err());
}
