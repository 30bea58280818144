//! The grammar against the official KQL reference.
//!
//! Expected trees are written by hand from the reference pages (cited per
//! test) and from the official parser's rules (Kusto.Language QueryParser.cs),
//! as an S-expression rendering of the AST so precedence is visible.

use kqlite_syntax::ast::*;
use kqlite_syntax::{parse, parse_expression};

/// A compact S-expression of an expression tree.
fn sx(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(l) => lit(l),
        ExprKind::Name(i) => i.name.clone(),
        ExprKind::Wildcard(w) => w.clone(),
        ExprKind::Star => "*".into(),
        ExprKind::Paren(x) => format!("(paren {})", sx(x)),
        ExprKind::Unary { op, expr } => {
            format!(
                "({} {})",
                if *op == UnaryOp::Neg { "neg" } else { "pos" },
                sx(expr)
            )
        }
        ExprKind::Binary { op, left, right } => {
            format!("({} {} {})", op.as_str(), sx(left), sx(right))
        }
        ExprKind::InList { op, expr, list } => format!(
            "({} {} [{}])",
            op.as_str(),
            sx(expr),
            list.iter().map(sx).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::Between {
            negated,
            expr,
            low,
            high,
        } => format!(
            "({} {} {} {})",
            if *negated { "!between" } else { "between" },
            sx(expr),
            sx(low),
            sx(high)
        ),
        ExprKind::Member { expr, name } => format!("(. {} {})", sx(expr), name.name),
        ExprKind::Index { expr, index } => format!("([] {} {})", sx(expr), sx(index)),
        ExprKind::Call { callee, args } => {
            let mut s = format!("(call {}", sx(callee));
            for a in args {
                s.push(' ');
                if let Some(n) = &a.name {
                    s.push_str(&n.name);
                    s.push('=');
                }
                s.push_str(&sx(&a.value));
            }
            s.push(')');
            s
        }
        ExprKind::TypeOf(t) => format!("(typeof {})", t.name()),
        ExprKind::Pipe { input, ops } => format!(
            "(pipe {} {})",
            sx(input),
            ops.iter()
                .map(|o| o.kind.name())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::Source(s) => format!("(source {:?})", std::mem::discriminant(&s.kind)),
    }
}

fn lit(l: &Literal) -> String {
    match l {
        Literal::String(s) => format!("{:?}", s.value),
        Literal::Long(Some(v)) => v.to_string(),
        Literal::Real(Some(v)) => format!("{}r", v.0),
        Literal::Timespan(Some(t)) => format!("{t}ticks"),
        Literal::Bool(Some(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn e(src: &str) -> String {
    match parse_expression(src) {
        Ok(x) => sx(&x),
        Err(d) => panic!("`{src}` should parse: {}", d.message),
    }
}

fn rejects(src: &str) {
    assert!(parse(src).is_err(), "`{src}` should be rejected");
}

fn literal(src: &str) -> Literal {
    match parse_expression(src).map(|x| x.kind) {
        Ok(ExprKind::Literal(l)) => l,
        other => panic!("`{src}` should be a literal, got {other:?}"),
    }
}

// Precedence, from the official parser (QueryParser.cs): or < and < equality
// (== != in between has_any) < relational (< <= > >=) < additive <
// multiplicative < string operators (=~ has contains ...) < unary < postfix.
// logical-operators page: "The logical `and` has higher precedence than `or`".

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(e("a or b and c"), "(or a (and b c))");
    assert_eq!(e("a and b or c"), "(or (and a b) c)");
    assert_eq!(e("a or b or c"), "(or (or a b) c)");
}

#[test]
fn comparison_levels() {
    assert_eq!(e("a == 1 and b != 2"), "(and (== a 1) (!= b 2))");
    assert_eq!(e("a < b == c"), "(== (< a b) c)");
    assert_eq!(e("a == b < c"), "(== a (< b c))");
    assert_eq!(e("a + 1 > b * 2"), "(> (+ a 1) (* b 2))");
    assert_eq!(e("a + b in (1, 2)"), "(in (+ a b) [1 2])");
}

#[test]
fn string_operators_bind_tighter_than_arithmetic() {
    // The official parser puts string operators above multiplicative.
    assert_eq!(e("a + b has c"), "(+ a (has b c))");
    assert_eq!(e("a * b =~ c"), "(* a (=~ b c))");
    assert_eq!(
        e("x has \"a\" and y !contains \"b\""),
        "(and (has x \"a\") (!contains y \"b\"))"
    );
}

#[test]
fn arithmetic_is_left_associative() {
    assert_eq!(e("a - b - c"), "(- (- a b) c)");
    assert_eq!(e("a / b * c % d"), "(% (* (/ a b) c) d)");
    assert_eq!(e("a + b * c"), "(+ a (* b c))");
}

#[test]
fn non_associative_levels_reject_chains() {
    for q in [
        "print a == b == c",
        "print a < b < c",
        "print a has b has c",
        "print a in (1) == true",
        "print a == b in (1)",
    ] {
        rejects(q);
    }
    assert_eq!(e("(a == b) == c"), "(== (paren (== a b)) c)");
}

#[test]
fn unary_minus() {
    assert_eq!(e("-x"), "(neg x)");
    assert_eq!(e("1 - -1"), "(- 1 (neg 1))");
    assert_eq!(e("-a.b"), "(neg (. a b))");
    assert_eq!(e("-a * b"), "(* (neg a) b)");
    rejects("print - -x");
}

#[test]
fn postfix_forms() {
    assert_eq!(e("d.a.b"), "(. (. d a) b)");
    assert_eq!(e("d[0]"), "([] d 0)");
    assert_eq!(e("d[-1]"), "([] d (neg 1))");
    assert_eq!(e("d['x y']"), "([] d \"x y\")");
    assert_eq!(e("d.['x y']"), "(. d x y)");
    assert_eq!(e("d.[0]"), "([] d 0)");
    assert_eq!(e("parse_json(x).a[0]"), "([] (. (call parse_json x) a) 0)");
    assert_eq!(
        e("cluster('c').database('d').T"),
        "(. (call (. (call cluster \"c\") database) \"d\") T)"
    );
    assert_eq!(e("$left.A == $right.B"), "(== (. $left A) (. $right B))");
}

#[test]
fn list_and_range_operators() {
    assert_eq!(e("x in ('a', 'b')"), "(in x [\"a\" \"b\"])");
    assert_eq!(e("x !in~ ('a')"), "(!in~ x [\"a\"])");
    assert_eq!(e("x has_any (l)"), "(has_any x [l])");
    assert_eq!(e("x has_all ('a', 'b')"), "(has_all x [\"a\" \"b\"])");
    assert_eq!(e("x in (T | project y)"), "(in x [(pipe T project)])");
    assert_eq!(e("x between (1 .. 10)"), "(between x 1 10)");
    assert_eq!(e("x !between (1..10)"), "(!between x 1 10)");
    assert_eq!(
        e("t between (ago(1d) .. now())"),
        "(between t (call ago 864000000000ticks) (call now))"
    );
    // has-operator page: `has` takes one expression; the list form is has_any.
    rejects("T | where x has (\"a\", \"b\")");
    rejects("T | where x in ()");
}

#[test]
fn all_string_operators_parse() {
    // datatypes-string-operators page, with the legacy spellings of the parser.
    for op in [
        "==",
        "!=",
        "=~",
        "!~",
        "has",
        "!has",
        "has_cs",
        "!has_cs",
        "hasprefix",
        "!hasprefix",
        "hasprefix_cs",
        "!hasprefix_cs",
        "hassuffix",
        "!hassuffix",
        "hassuffix_cs",
        "!hassuffix_cs",
        "contains",
        "!contains",
        "contains_cs",
        "!contains_cs",
        "startswith",
        "!startswith",
        "startswith_cs",
        "!startswith_cs",
        "endswith",
        "!endswith",
        "endswith_cs",
        "!endswith_cs",
        "matches regex",
    ] {
        assert_eq!(e(&format!("x {op} 'a'")), format!("({op} x \"a\")"), "{op}");
    }
    assert_eq!(e("x <> 'a'"), "(!= x \"a\")");
    assert_eq!(e("x notcontains 'a'"), "(!contains x \"a\")");
    assert_eq!(e("x containscs 'a'"), "(contains_cs x \"a\")");
}

#[test]
fn keywords_do_not_eat_identifiers() {
    assert_eq!(e("whereabouts"), "whereabouts");
    assert_eq!(e("order_id + android"), "(+ order_id android)");
    assert_eq!(e("hasx"), "hasx");
    assert_eq!(e("count"), "count");
    assert_eq!(e("['where']"), "where");
    assert_eq!(e("tRue"), "tRue");
    assert_eq!(e("1abc"), "1abc");
    // Week is not a timespan unit (timespan page), so `2w` is a name.
    assert_eq!(e("2w"), "2w");
}

// ───────────── literals ─────────────

const TICK: i64 = 1;
const SECOND: i64 = 10_000_000;
const DAY: i64 = 86_400 * SECOND;

#[test]
fn timespan_literals() {
    // timespan page: 2d, 1.5h, 30m, 10s, 0.1s, 100ms, 10microsecond, 1tick,
    // time(15 seconds), time(2) (2 days), time(0.12:34:56.7).
    let cases = [
        ("2d", 2 * DAY),
        ("1.5h", 90 * 60 * SECOND),
        ("30m", 30 * 60 * SECOND),
        ("10s", 10 * SECOND),
        ("0.1s", SECOND / 10),
        ("100ms", SECOND / 10),
        ("10microsecond", 100 * TICK),
        ("1tick", TICK),
        ("5min", 5 * 60 * SECOND),
        ("2hours", 2 * 3600 * SECOND),
        ("time(15 seconds)", 15 * SECOND),
        ("time(2)", 2 * DAY),
        (
            "time(0.12:34:56.7)",
            (12 * 3600 + 34 * 60 + 56) * SECOND + 7 * SECOND / 10,
        ),
        ("time(1.02:03:04)", DAY + (2 * 3600 + 3 * 60 + 4) * SECOND),
        ("time(00:01:00)", 60 * SECOND),
        ("timespan(1d)", DAY),
        ("1000nanoseconds", 10 * TICK),
    ];
    for (src, ticks) in cases {
        assert_eq!(literal(src), Literal::Timespan(Some(ticks)), "{src}");
    }
    assert_eq!(literal("timespan(null)"), Literal::Timespan(None));
}

#[test]
fn number_literals() {
    // long page: 0xf is 15; real page: 1.0, 1e5, real(nan), real(+inf).
    assert_eq!(literal("42"), Literal::Long(Some(42)));
    assert_eq!(literal("0xf"), Literal::Long(Some(15)));
    assert_eq!(literal("1.0"), Literal::Real(Some(Real(1.0))));
    assert_eq!(literal("1."), Literal::Real(Some(Real(1.0))));
    assert_eq!(literal("1e5"), Literal::Real(Some(Real(1e5))));
    assert_eq!(literal("1.5e-3"), Literal::Real(Some(Real(1.5e-3))));
    assert_eq!(literal("long(-5)"), Literal::Long(Some(-5)));
    assert_eq!(literal("int(2)"), Literal::Int(Some(2)));
    assert_eq!(literal("int(-2)"), Literal::Int(Some(-2)));
    assert_eq!(
        literal("real(+inf)"),
        Literal::Real(Some(Real(f64::INFINITY)))
    );
    assert!(matches!(literal("real(nan)"), Literal::Real(Some(Real(v))) if v.is_nan()));
    assert_eq!(
        literal("decimal(1.0)"),
        Literal::Decimal(Some("1.0".into()))
    );
    rejects("print 99999999999999999999");
}

#[test]
fn typed_null_literals() {
    // null-values page: print bool(null), datetime(null), dynamic(null), guid(null),
    // int(null), long(null), real(null), double(null), timespan(null)
    assert_eq!(literal("bool(null)"), Literal::Bool(None));
    assert_eq!(literal("datetime(null)"), Literal::DateTime(None));
    assert_eq!(literal("dynamic(null)"), Literal::Dynamic(Dynamic::Null));
    assert_eq!(literal("guid(null)"), Literal::Guid(None));
    assert_eq!(literal("int(null)"), Literal::Int(None));
    assert_eq!(literal("long(null)"), Literal::Long(None));
    assert_eq!(literal("real(null)"), Literal::Real(None));
    assert_eq!(literal("double(null)"), Literal::Real(None));
}

#[test]
fn bool_literals() {
    // bool page and the official lexer: true/True/TRUE, false/False/FALSE.
    for t in ["true", "True", "TRUE", "bool(true)"] {
        assert_eq!(literal(t), Literal::Bool(Some(true)), "{t}");
    }
    for f in ["false", "False", "FALSE", "bool(false)"] {
        assert_eq!(literal(f), Literal::Bool(Some(false)), "{f}");
    }
}

#[test]
fn datetime_and_guid_literals_keep_their_text() {
    // datetime page: datetime(2015-12-31 23:59:59.9), datetime(2015-12-31).
    assert_eq!(
        literal("datetime(2015-12-31 23:59:59.9)"),
        Literal::DateTime(Some("2015-12-31 23:59:59.9".into()))
    );
    assert_eq!(
        literal("datetime(2024-01-01T10:00:00.1234567Z)"),
        Literal::DateTime(Some("2024-01-01T10:00:00.1234567Z".into()))
    );
    assert_eq!(
        literal("guid(74be27de-1e4e-49d9-b579-fe0b331d3642)"),
        Literal::Guid(Some("74be27de-1e4e-49d9-b579-fe0b331d3642".into()))
    );
}

fn string(src: &str) -> String {
    match literal(src) {
        Literal::String(s) => s.value,
        other => panic!("`{src}` should be a string, got {other:?}"),
    }
}

#[test]
fn string_literals() {
    // string page: escapes, verbatim strings with doubled quotes, multi-line.
    assert_eq!(string(r#""a\tb\n""#), "a\tb\n");
    assert_eq!(string(r#"'it\'s'"#), "it's");
    assert_eq!(string(r#""say \"hi\"""#), "say \"hi\"");
    assert_eq!(string(r#""Hello\u00A0World""#), "Hello\u{A0}World");
    assert_eq!(string(r#"@"C:\temp""#), r"C:\temp");
    assert_eq!(string(r#"@"a""b""#), "a\"b");
    assert_eq!(string("@'it''s'"), "it's");
    assert_eq!(string("```line1\nline2```"), "line1\nline2");
    assert_eq!(
        string("'single \"double\" inside'"),
        "single \"double\" inside"
    );
    // "strlen("Hello"', '@"world!") == 13": adjacent literals are one string.
    assert_eq!(string(r#""Hello"', '@"world!""#), "Hello, world!");
    assert_eq!(string("\"a\" // comment\n \"b\""), "ab");
    let Literal::String(s) = literal(r#"h"secret""#) else {
        panic!()
    };
    assert!(s.obfuscated);
    assert_eq!(s.value, "secret");
}

#[test]
fn invalid_strings_are_errors() {
    // The official lexer stops at an unknown escape such as \E or \d.
    rejects(r#"print "C:\Enterprise""#);
    rejects(r#"print "\d+""#);
    rejects(r#"print "\u12""#);
    rejects("print \"unclosed");
    rejects("print 'line\nbreak'");
}

#[test]
fn dynamic_literals() {
    // dynamic page: dynamic([1, 2, "hello"]), dynamic({"a":1, "b":{"a":2}}).
    let d = |src: &str| match literal(src) {
        Literal::Dynamic(d) => d,
        other => panic!("{other:?}"),
    };
    let s = |v: &str| {
        Dynamic::Scalar(Box::new(Literal::String(StringLit {
            value: v.into(),
            obfuscated: false,
        })))
    };
    let l = |v: i64| Dynamic::Scalar(Box::new(Literal::Long(Some(v))));
    assert_eq!(
        d("dynamic([1, 2, \"hello\"])"),
        Dynamic::Array(vec![l(1), l(2), s("hello")])
    );
    assert_eq!(
        d(r#"dynamic({"a":1, "b":{"a":2}})"#),
        Dynamic::Object(vec![
            ("a".into(), l(1)),
            ("b".into(), Dynamic::Object(vec![("a".into(), l(2))]))
        ])
    );
    assert_eq!(
        d("dynamic([-1, null])"),
        Dynamic::Array(vec![l(-1), Dynamic::Null])
    );
    assert_eq!(d("dynamic(4)"), l(4));
    assert_eq!(d("dynamic([])"), Dynamic::Array(vec![]));
}

// ───────────── statements and operators ─────────────

fn ops(src: &str) -> Vec<&'static str> {
    let script = parse(src).unwrap_or_else(|d| panic!("`{src}`: {}", d.message));
    let Some(Statement {
        kind: StatementKind::Query(q),
        ..
    }) = script.statements.last()
    else {
        panic!("no query in `{src}`")
    };
    match &q.kind {
        ExprKind::Pipe { ops, .. } => ops.iter().map(|o| o.kind.name()).collect(),
        _ => vec![],
    }
}

#[test]
fn every_tabular_operator_of_the_corpus_stats_parses() {
    let cases: &[(&str, &str)] = &[
        ("T | where x > 1", "where"),
        ("T | filter x > 1", "where"),
        ("T | extend y = x * 2, z = 1", "extend"),
        ("T | project a, b = c + 1", "project"),
        ("T | project-away a, b*", "project-away"),
        ("T | project-keep a, b*", "project-keep"),
        ("T | project-rename new = old", "project-rename"),
        ("T | project-reorder b, a* asc", "project-reorder"),
        (
            "T | summarize count() by bin(TimeGenerated, 1h)",
            "summarize",
        ),
        ("T | summarize by x", "summarize"),
        ("T | summarize hint.strategy=shuffle dcount(x)", "summarize"),
        ("T | sort by x desc nulls last, y asc", "sort"),
        ("T | order by x", "sort"),
        ("T | top 10 by x desc", "top"),
        ("T | take 10", "take"),
        ("T | limit 10", "take"),
        ("T | distinct a, b", "distinct"),
        ("T | distinct *", "distinct"),
        ("T | count", "count"),
        ("T | join kind=leftouter (U) on $left.a == $right.b", "join"),
        ("T | join (U | where x > 1) on a, b", "join"),
        ("T | join kind=inner hint.remote=left U on a", "join"),
        ("T | lookup kind=inner (U) on a", "lookup"),
        ("T | union U, (V | take 1)", "union"),
        (
            "T | mv-expand kind=array with_itemindex=i x to typeof(string) limit 5",
            "mv-expand",
        ),
        ("T | mvexpand x", "mv-expand"),
        (
            "T | mv-apply x to typeof(long) on (summarize sum(x))",
            "mv-apply",
        ),
        (
            "T | mv-apply with_itemindex=i e = arr on (where e > 1 | take 1)",
            "mv-apply",
        ),
        ("T | parse x with * \"a=\" a:long \", b=\" b *", "parse"),
        (
            "T | parse kind=regex flags=Ui x with \"(?<n>\\\\d+)\" n:long",
            "parse",
        ),
        ("T | parse-where x with * \"id=\" id:string", "parse-where"),
        (
            "T | parse-kv x as (a:string, b:long) with (pair_delimiter=',', kv_delimiter='=')",
            "parse-kv",
        ),
        (
            "T | make-series n=count() default=0 on t from ago(1d) to now() step 1h by k",
            "make-series",
        ),
        (
            "T | make-series n=count() on t in range(ago(1d), now(), 1h)",
            "make-series",
        ),
        ("T | evaluate bag_unpack(d, 'p_')", "evaluate"),
        ("T | evaluate pivot(k, sum(v))", "evaluate"),
        (
            "T | render timechart with (title=\"x\", ycolumns=a, b)",
            "render",
        ),
        ("T | render columnchart", "render"),
        ("T | as X", "as"),
        ("T | serialize rn = row_number()", "serialize"),
        ("T | search \"foo\"", "search"),
        ("T | invoke f(1)", "invoke"),
        ("T | getschema", "getschema"),
        ("T | sample 10", "sample"),
        ("T | sample-distinct 5 of x", "sample-distinct"),
        (
            "T | top-nested 3 of a by count(), top-nested 2 of b by sum(v) desc",
            "top-nested",
        ),
        ("T | top-hitters 5 of x by y", "top-hitters"),
        ("T | facet by a, b with (take 1)", "facet"),
        ("T | fork (take 1) (count)", "fork"),
        ("T | partition by k (top 1 by t)", "partition"),
        (
            "T | scan declare (s:long = 0) with (step s1: x > 1 => s = x;)",
            "scan",
        ),
        ("T | reduce by x with threshold=0.1", "reduce"),
        ("T | consume", "consume"),
    ];
    for (src, op) in cases {
        assert_eq!(ops(src), vec![*op], "{src}");
    }
}

#[test]
fn source_operators_parse() {
    for src in [
        "print 1",
        "print x = 1, y = 'a'",
        "range x from 1 to 10 step 1",
        "union withsource=Source isfuzzy=true Security*, Event",
        "union kind=inner T, U | take 1",
        "datatable(a:string, b:long) [\"x\", 1, \"y\", -2]",
        "externaldata(a:string) [h@\"https://example.com/x.csv\"] with (format=\"csv\", ignoreFirstRecord=true)",
        "find in (T, U) where x == 1 project a, b",
        "find where x == 1 project-smart",
        "search in (T) \"foo\"",
        "search kind=case_sensitive \"Foo\"",
        "evaluate sql_request('x')",
        "T",
        "(T | take 1)",
        "materialize(T) | count",
    ] {
        parse(src).unwrap_or_else(|d| panic!("`{src}`: {}", d.message));
    }
}

#[test]
fn statements() {
    // let-statement page: scalar, tabular, functions with typed, tabular and
    // default parameters, view; set-statement, query-parameters pages.
    let script = parse(
        "set query_now = datetime(2024-01-01);
         declare query_parameters(threshold:long = 10);
         let a = 1;
         let T2 = T | where x > a;
         let f = (x:long, s:string = 'd') { x * 2 };
         let g = (T:(*), k:string) { T | where Key == k };
         let h = (T:(a:string, b:long)) { T | count };
         let v = view () { T };
         let m = materialize(T | take 1);
         T2 | take f(a)",
    )
    .unwrap_or_else(|d| panic!("{}", d.message));
    let kinds: Vec<&str> = script
        .statements
        .iter()
        .map(|s| match &s.kind {
            StatementKind::Set(_) => "set",
            StatementKind::DeclareQueryParameters(_) => "declare",
            StatementKind::Let(LetStatement {
                value: LetValue::Function(_),
                ..
            }) => "let-fn",
            StatementKind::Let(_) => "let",
            StatementKind::Query(_) => "query",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "set", "declare", "let", "let", "let-fn", "let-fn", "let-fn", "let-fn", "let", "query"
        ]
    );
    let StatementKind::Let(LetStatement {
        value: LetValue::Function(f),
        ..
    }) = &script.statements[4].kind
    else {
        panic!()
    };
    assert_eq!(f.params.len(), 2);
    assert!(f.params[1].default.is_some());
    let StatementKind::Let(LetStatement {
        value: LetValue::Function(g),
        ..
    }) = &script.statements[5].kind
    else {
        panic!()
    };
    assert_eq!(
        g.params[0].ty,
        ParamType::Tabular {
            columns: vec![],
            wildcard: true
        }
    );
}

#[test]
fn statement_structure_errors() {
    // Real broken queries from the corpus shapes: a statement cannot start
    // with `|`, a list cannot end with `,`, brackets must balance.
    rejects("T | summarize count() by x;\n| extend y = 1");
    rejects("| let a = 1;\nT");
    rejects("T | project a, ");
    rejects("T | where (x > 1");
    rejects("T | where x > 1)");
    rejects("T | where");
    rejects("T |");
    rejects("let x = ;");
}

#[test]
fn comments_everywhere() {
    let q = "// header\nT // after name\n| where x > 1 // trailing\n// between\n| take 1 // end";
    assert_eq!(ops(q), vec!["where", "take"]);
}

#[test]
fn spans_point_into_the_text() {
    let src = "T | where Name == 'x'";
    let expr = parse_expression(src).expect("parses");
    let ExprKind::Pipe { ops, .. } = &expr.kind else {
        panic!()
    };
    assert_eq!(
        &src[ops[0].span.start..ops[0].span.end],
        "where Name == 'x'"
    );
    let OperatorKind::Where { predicate, .. } = &ops[0].kind else {
        panic!()
    };
    assert_eq!(
        &src[predicate.span.start..predicate.span.end],
        "Name == 'x'"
    );
}
