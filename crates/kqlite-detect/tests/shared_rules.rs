//! The 102 real rule files kept beside the repository (`../shared/rules`,
//! copied byte for byte from the Azure-Sentinel repository): how many load,
//! validate and bind, and why the others do not.

use kqlite_detect::{Diagnostic, Report, check};
use kqlite_engine::Session;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rules")
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rule_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        {
            out.push(path);
        }
    }
}

/// The reason category of a diagnostic, for the summary.
fn category(d: &Diagnostic) -> String {
    if d.query.is_some() {
        // "operator 'x' is not supported yet" and friends: the engine's words.
        return format!("query: {}", d.message);
    }
    let field = d.field.split(['[', '.']).next().unwrap_or_default();
    format!("{} {}", d.code, field)
}

struct Outcome {
    path: String,
    report: Report,
}

fn run_all() -> Option<Vec<Outcome>> {
    let dir = rules_dir();
    if !dir.is_dir() {
        eprintln!("note: {} is not on this machine; skipped", dir.display());
        return None;
    }
    let mut files = Vec::new();
    rule_files(&dir, &mut files);
    files.sort();
    let mut session = Session::new().expect("session");
    session.register_builtin_schemas().expect("schemas");
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("UTF-8 rule file");
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
        let path = file
            .strip_prefix(&dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let report = check(&path, &text, Some(&session));
        out.push(Outcome { path, report });
    }
    Some(out)
}

#[test]
fn shared_rules_summary() {
    let Some(outcomes) = run_all() else {
        return;
    };
    let loaded = outcomes.iter().filter(|o| o.report.load.is_empty()).count();
    let valid = outcomes
        .iter()
        .filter(|o| o.report.load.is_empty() && o.report.validate.is_empty())
        .count();
    let bound = outcomes
        .iter()
        .filter(|o| o.report.load.is_empty() && o.report.bind.is_empty())
        .count();
    let ok = outcomes.iter().filter(|o| o.report.is_ok()).count();
    println!(
        "{} files: {loaded} load, {valid} validate, {bound} bind, {ok} pass all three",
        outcomes.len()
    );
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in &outcomes {
        for d in o.report.diagnostics() {
            reasons
                .entry(category(d))
                .or_default()
                .push(format!("{}: {}", o.path, d.message));
        }
    }
    for (reason, hits) in &reasons {
        println!("\n{reason} ({}):", hits.len());
        for hit in hits {
            println!("  {hit}");
        }
    }
}
