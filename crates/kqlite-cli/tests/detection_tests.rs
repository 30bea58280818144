//! `kqlite test`: detection unit tests, their diffs, exit codes and JUnit.

mod common;
use common::kqlite;

fn examples() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples").to_string()
}

#[test]
fn the_example_tests_pass() {
    let run = kqlite(&["test", &examples()]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stdout.contains("30 passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn a_wrong_expectation_fails_with_a_diff_exit_4_and_junit() {
    let dir = std::env::temp_dir().join(format!("kqlite-dt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("mutated.test.yaml");
    let query = format!("{}/queries/purview-sensitive-data-access.kql", examples());
    std::fs::write(
        &file,
        format!(
            "query_file: {query}\nnow: 2024-06-01T00:00:00Z\n\
             data:\n  PurviewAuditLogs:\n    rows:\n      - {{Timestamp: 2024-05-31T09:00:00Z, EventAction: DataAccess, UserPrincipalName: eve@contoso.com, SensitivityLabel: Confidential, DataAsset: Payroll.xlsx}}\n\
             tests:\n  - name: right\n    expect: {{count: 1}}\n  - name: wrong count\n    expect: {{count: 2}}\n  - name: wrong value\n    expect: {{contains: [{{DataAsset: Other.xlsx}}]}}\n"
        ),
    )
    .expect("write test");
    let junit = dir.join("junit.xml");
    let run = kqlite(&[
        "test",
        file.to_str().unwrap_or_default(),
        "--junit",
        junit.to_str().unwrap_or_default(),
    ]);
    assert_eq!(run.code, 4, "{}", run.transcript());
    assert!(run.stdout.contains("ok    "), "{}", run.stdout);
    assert!(run.stdout.contains("FAIL  "), "{}", run.stdout);
    assert!(
        run.stdout.contains("expected 2 rows, got 1:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("no row has {\"DataAsset\":\"Other.xlsx\"}"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 passed, 2 failed"), "{}", run.stdout);
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("<testsuites"), "{xml}");
    assert!(xml.contains("tests=\"3\""), "{xml}");
    assert!(xml.contains("failures=\"2\""), "{xml}");
    assert!(xml.contains("<failure"), "{xml}");
    // Balanced tags: every opened element is closed.
    for tag in ["testsuites", "testsuite", "testcase"] {
        let opened =
            xml.matches(&format!("<{tag} ")).count() + xml.matches(&format!("<{tag}>")).count();
        let closed = xml.matches(&format!("</{tag}>")).count() + count_self_closed(&xml, tag);
        assert_eq!(opened, closed, "{tag} in {xml}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn count_self_closed(xml: &str, tag: &str) -> usize {
    xml.split(&format!("<{tag} "))
        .skip(1)
        .filter(|rest| {
            let end = rest.find('>').unwrap_or(0);
            rest[..end].ends_with('/')
        })
        .count()
}

#[test]
fn a_broken_test_file_is_a_failure_not_a_crash() {
    let dir = std::env::temp_dir().join(format!("kqlite-dt-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.test.yaml");
    std::fs::write(&file, "tests:\n  - name: x\n    expct: {count: 1}\n").expect("write");
    let run = kqlite(&["test", file.to_str().unwrap_or_default()]);
    assert_eq!(run.code, 4, "{}", run.transcript());
    assert!(
        run.stdout.contains("not a valid test file"),
        "{}",
        run.stdout
    );
    let run = kqlite(&["test", "/no/such/dir"]);
    assert_eq!(run.code, 2);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn alert_expectations_check_entities_and_details() {
    let dir = std::env::temp_dir().join(format!("kqlite-dt-alerts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rule = format!(
        "{}/rules/purview-unauthorized-confidential-access.yaml",
        examples()
    );
    let row = "{TimeGenerated: 2024-06-01T11:30:00Z, EventAction: PolicyViolation, ViolationType: UnauthorizedAccess, SensitivityLabel: Confidential, UserPrincipalName: m@contoso.com, DataAsset: P.xlsx, ClientIP: 203.0.113.7}";
    let file = dir.join("alerts.test.yaml");
    std::fs::write(
        &file,
        format!(
            "rule: {rule}\nnow: 2024-06-01T12:00:00Z\ndata:\n  PurviewAuditLogs:\n    rows: [{row}, {row}, {row}]\n\
             tests:\n  - name: right\n    expect: {{alerts: 1, entities: [{{Type: account, FullName: m@contoso.com}}], custom_details: {{Attempts: 3}}}}\n\
             \x20 - name: wrong entity\n    expect: {{entities: [{{Type: account, FullName: x@contoso.com}}]}}\n\
             \x20 - name: wrong detail\n    expect: {{custom_details: {{Attempts: 4}}}}\n\
             \x20 - name: wrong count\n    expect: {{alerts: 2}}\n"
        ),
    )
    .expect("write");
    let run = kqlite(&["test", file.to_str().unwrap_or_default()]);
    assert_eq!(run.code, 4, "{}", run.transcript());
    for part in [
        "ok    ",
        "no alert has the entity {\"Type\":\"account\",\"FullName\":\"x@contoso.com\"}",
        "no alert has the custom detail Attempts = 4",
        "expected 2 alerts, got 1",
        "1 passed, 3 failed",
    ] {
        assert!(
            run.stdout.contains(part),
            "`{part}` missing:\n{}",
            run.stdout
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
