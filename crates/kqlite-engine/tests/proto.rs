//! Plans serialise (datafusion-proto) and give the same rows after a round
//! trip: the planner lowers KQL to built-in plan nodes and named UDFs only
//! (ARCHITECTURE.md), so the same plan can run on Ballista.

use kqlite_engine::{Session, output};

fn ndjson(r: &kqlite_engine::QueryResult) -> Vec<String> {
    let mut buf = Vec::new();
    output::write_ndjson(r, &mut buf).expect("encodes");
    let mut lines: Vec<String> = String::from_utf8(buf)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

const QUERIES: &[&str] = &[
    "print x = strcat('a', 1), y = 'North America' has 'america', z = -14 % 12",
    "datatable(s:string, n:long) ['x', 1, 'y', 2, 'x', 3] | summarize total = sum(n), c = count(), d = dcount(n), set = make_set(n) by s",
    "range t from datetime(2024-01-01) to datetime(2024-01-03) step 6h | summarize count() by bin(t, 1d)",
    "datatable(a:long) [1, 2, 3] | where a between (2 .. 3) and a !in (5, 6) | extend b = iff(a > 2, 'big', 'small')",
    "datatable(k:string, v:long) ['a', 1, 'a', 5, 'b', 2] | summarize arg_max(v, *) by k",
    "let T = datatable(a:long) [1, 2]; T | where a in (T | where a > 1) | project a, s = tostring(a)",
    "datatable(j:string) ['{\"a\":{\"b\":[1,2]}}'] | extend d = parse_json(j) | project v = d.a.b[-1], n = array_length(d.a.b)",
    "print t = format_datetime(datetime(2024-02-29 13:45:00), 'yyyy-MM-dd HH:mm'), w = startofweek(datetime(2024-03-01))",
    "datatable(k:long, d:dynamic) [1, dynamic([3, 1, 2]), 2, dynamic([])] | mv-apply d to typeof(long) on (top 2 by d | summarize s = sum(d), c = count())",
    "datatable(d:dynamic) [dynamic({'Name': 'John', 'Age': 20}), dynamic({'Name': 'Dave', 'Age': 40})] | evaluate bag_unpack(d, 'p_')",
];

#[test]
fn plans_round_trip_through_protobuf() {
    let mut session = Session::new().expect("session");
    session.set_now(1_704_067_200_000_000_000);
    for q in QUERIES {
        let direct = session.query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let (bytes, columns) = session
            .plan_to_bytes(q)
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        assert!(!bytes.is_empty());
        let replayed = session
            .run_plan_bytes(&bytes, columns)
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(ndjson(&direct), ndjson(&replayed), "{q}");
        assert!(direct.row_count() > 0, "{q}: the query should return rows");
    }
}

#[test]
fn explain_shows_the_three_plans() {
    let session = Session::new().expect("session");
    let text = session
        .explain("datatable(a:long) [1, 2] | where a > 1 | summarize count()")
        .expect("explains");
    for part in [
        "KQL stages:\n  [1] datatable(a:long) [1, 2]\n  [2] where a > 1\n  [3] summarize count()",
        "logical plan (each node marked with the KQL stage that made it):",
        "[3] Aggregate",
        "[2] Filter",
        "optimized plan:",
        "physical plan:",
    ] {
        assert!(text.contains(part), "{part} missing from\n{text}");
    }
}
