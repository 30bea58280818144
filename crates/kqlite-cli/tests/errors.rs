//! Query errors as users see them (CLI.md, "Exit codes and errors"): the
//! exit code, the source line, a caret under the exact span, a one-line
//! reason and a did-you-mean hint where one helps.

mod common;

use common::kqlite;
use insta::assert_snapshot;

#[test]
fn unknown_column() {
    let run = kqlite(&[
        "query",
        "datatable(Account:string) [\"a\"] | where account == \"a\"",
    ]);
    assert_snapshot!(run.transcript(), @r#"
    exit: 1
    --- stdout
    --- stderr
    KQL102

      × unknown column `account`
       ╭─[<query>:1:41]
     1 │ datatable(Account:string) ["a"] | where account == "a"
       ·                                         ───┬───
       ·                                            ╰── no column or scalar let has this name
       ╰────
      help: did you mean `Account`?
    "#);
}

#[test]
fn unknown_table() {
    let run = kqlite(&[
        "query",
        "let Alerts = datatable(a:long) [1]; Alert | take 1",
    ]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    --- stderr
    KQL101

      × unknown table `Alert`
       ╭─[<query>:1:37]
     1 │ let Alerts = datatable(a:long) [1]; Alert | take 1
       ·                                     ──┬──
       ·                                       ╰── no table or let has this name
       ╰────
      help: did you mean `Alerts`?
    ");
}

#[test]
fn unknown_function() {
    let run = kqlite(&["query", "print x = tolowr(\"A\")"]);
    assert_snapshot!(run.transcript(), @r#"
    exit: 1
    --- stdout
    --- stderr
    KQL103

      × unknown function `tolowr`
       ╭─[<query>:1:11]
     1 │ print x = tolowr("A")
       ·           ───┬──
       ·              ╰── kqlite has no function with this name
       ╰────
      help: did you mean `tolower`?
    "#);
}

#[test]
fn type_error() {
    let run = kqlite(&["query", "print x = datetime(2024-01-01) + 1"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    --- stderr
    KQL104

      × `+` cannot be applied to datetime and long
       ╭─[<query>:1:11]
     1 │ print x = datetime(2024-01-01) + 1
       ·           ────────────┬───────────
       ·                       ╰── `+` cannot be applied to datetime and long
       ╰────
    ");
}

#[test]
fn unimplemented_operator() {
    let run = kqlite(&["query", "print a = 1 | sample 1"]);
    assert_snapshot!(run.transcript(), @"
    exit: 1
    --- stdout
    --- stderr
    KQL105

      × operator 'sample' is not supported yet
       ╭─[<query>:1:15]
     1 │ print a = 1 | sample 1
       ·               ────┬───
       ·                   ╰── operator 'sample' is not supported yet
       ╰────
    ");
}

#[test]
fn malformed_data_file_names_the_line() {
    let dir = std::env::temp_dir().join(format!("kqlite-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("Events.ndjson");
    std::fs::write(&file, "{\"a\": 1}\n{\"a\": 2\n").expect("write fixture");
    let path = file.display().to_string();
    let run = kqlite(&["query", "-d", &path, "Events | count"]);
    let text = run.transcript().replace(&path, "<file>");
    assert_snapshot!(text, @"
    exit: 3
    --- stdout
    --- stderr
    error: <file>:2:7: EOF while parsing an object
    ");
}
