//! pest's errors, said in words a KQL user knows.
//!
//! pest reports the furthest position it reached and the rules it tried
//! there. Rule names mean nothing to a user, so they are renamed into words
//! ("an expression", "`|`"), and two common cases get their own message: an
//! unknown operator after `|` (with a did-you-mean) and a broken string.

use crate::diagnostic::{Diagnostic, codes};
use crate::parser::Rule;
use crate::span::Span;
use crate::suggest::did_you_mean;

/// `expected_tokens` are the literal tokens pest tried at the failure point
/// (available from a second, detailed parse; see parser.rs).
pub(crate) fn from_pest(
    src: &str,
    e: pest::error::Error<Rule>,
    expected_tokens: &[String],
) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let pos = pos.min(src.len());
    let (positives, negatives) = match &e.variant {
        pest::error::ErrorVariant::ParsingError {
            positives,
            negatives,
        } => (positives.clone(), negatives.clone()),
        pest::error::ErrorVariant::CustomError { message } => {
            return Diagnostic::syntax(Span::new(pos, pos), message.clone());
        }
    };
    let rest = &src[pos..];
    if let Some(d) = string_problem(src, pos) {
        return d;
    }
    let word = leading_word(rest);
    let after_pipe = previous_token_is_pipe(src, pos);
    if after_pipe {
        if word.is_empty() {
            let at = token_span(src, pos);
            return Diagnostic::syntax(at, "expected a tabular operator after `|`")
                .with_help("e.g. `| where ...`, `| project ...`, `| summarize ...`");
        }
        let known = crate::TABULAR_OPERATORS.contains(&word);
        if !known {
            let at = Span::new(pos, pos + word.len());
            let mut d = Diagnostic::new(
                codes::UNKNOWN_OPERATOR,
                format!("unknown tabular operator `{word}`"),
            )
            .with_label(at, "not an operator");
            if let Some(s) = did_you_mean(word, crate::TABULAR_OPERATORS.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            return d;
        }
    }
    let mut expected: Vec<&'static str> = Vec::new();
    for r in positives.iter() {
        if let Some(w) = describe(*r)
            && !expected.contains(&w)
        {
            expected.push(w);
        }
    }
    let _ = negatives;
    // Punctuation the grammar would have accepted here (`)`, `,`, `]`...).
    for token in expected_tokens {
        // An expression may start with `(`; saying both adds nothing.
        let implied = token == "(" && expected.contains(&"an expression");
        if let Some(w) = punctuation(token)
            && !implied
            && !expected.contains(&w)
        {
            expected.push(w);
        }
    }
    let found = if rest.trim_start().is_empty() {
        "the end of the query".to_string()
    } else {
        format!("`{}`", token_text(rest))
    };
    let at = token_span(src, pos);
    let message = match expected.len() {
        0 => format!("unexpected {found}"),
        1 => format!("expected {}, found {found}", expected[0]),
        _ => {
            let shown: Vec<&str> = expected.iter().take(6).copied().collect();
            let (last, head) = shown
                .split_last()
                .map(|(l, h)| (*l, h.to_vec()))
                .unwrap_or(("", vec![]));
            format!("expected {} or {last}, found {found}", head.join(", "))
        }
    };
    let mut d = Diagnostic::syntax(at, message);
    if let Some(h) = hint(src, pos, word) {
        d = d.with_help(h);
    }
    d
}

/// Extra advice for a few mistakes seen in real queries.
fn hint(src: &str, pos: usize, word: &str) -> Option<String> {
    if src[pos..].trim_start().starts_with(',')
        && let Some(op) = operator_before_open_paren(src, pos)
    {
        return Some(format!(
            "`{op}` takes one value; to match any of several, use `has_any (...)` or `in (...)`"
        ));
    }
    let before = src[..pos].trim_end();
    if word == "let" || src[pos..].trim_start().starts_with('|') && before.ends_with(';') {
        return Some("a statement cannot start with `|`; remove the `;` before it".into());
    }
    if before.ends_with(',') && src[pos..].trim_start().is_empty() {
        return Some("remove the trailing `,`".into());
    }
    None
}

/// Punctuation tokens worth naming in "expected ..." lists.
fn punctuation(token: &str) -> Option<&'static str> {
    Some(match token {
        ")" => "`)`",
        "]" => "`]`",
        "}" => "`}`",
        "," => "`,`",
        ";" => "`;`",
        ".." => "`..`",
        "(" => "`(`",
        _ => return None,
    })
}

/// The string operator directly before the innermost unclosed `(` that
/// encloses `pos`, as in `x has ("a", "b")`.
fn operator_before_open_paren(src: &str, pos: usize) -> Option<&str> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = pos;
    while i > 0 {
        i -= 1;
        match b[i] {
            b')' => depth += 1,
            b'(' if depth == 0 => {
                let before = src[..i].trim_end();
                let start = before
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '!'))
                    .map(|j| j + 1)
                    .unwrap_or(0);
                let word = &before[start..];
                let single_value = [
                    "has",
                    "!has",
                    "has_cs",
                    "!has_cs",
                    "contains",
                    "!contains",
                    "contains_cs",
                    "!contains_cs",
                    "startswith",
                    "!startswith",
                    "endswith",
                    "!endswith",
                    "hasprefix",
                    "hassuffix",
                ];
                return single_value.contains(&word).then_some(word);
            }
            b'(' => depth -= 1,
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

/// A string literal that starts at `pos` and is not closed, or that holds a
/// bad escape (which the official lexer also treats as an unclosed string).
fn string_problem(src: &str, pos: usize) -> Option<Diagnostic> {
    let rest = &src[pos..];
    let rest_trim = rest.trim_start();
    let start = pos + (rest.len() - rest_trim.len());
    let mut chars = rest_trim.char_indices();
    let (_, first) = chars.next()?;
    let (quote, body_start) = match first {
        '"' | '\'' => (first, 1),
        'h' | 'H' => {
            let (_, q) = chars.next()?;
            if q != '"' && q != '\'' {
                return None;
            }
            (q, 2)
        }
        _ => return None,
    };
    let body = &rest_trim[body_start..];
    let mut it = body.char_indices();
    while let Some((i, c)) = it.next() {
        if c == quote {
            return None;
        }
        if c == '\n' || c == '\r' {
            break;
        }
        if c == '\\' {
            let Some((_, e)) = it.next() else { break };
            let ok = match e {
                '\\' | '\'' | '"' | 'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '0'..='7' => true,
                'u' => hex_run(&body[i + 2..], 4),
                'U' => hex_run(&body[i + 2..], 8),
                'x' => hex_run(&body[i + 2..], 2),
                _ => false,
            };
            if !ok {
                let at = start + body_start + i;
                return Some(
                    Diagnostic::new(
                        codes::STRING,
                        format!("invalid escape sequence `\\{e}` in a string literal"),
                    )
                    .with_label(Span::new(at, at + 1 + e.len_utf8()), "invalid escape")
                    .with_help(
                        "write `\\\\` for a backslash, or use a verbatim string: @\"C:\\path\"",
                    ),
                );
            }
        }
    }
    let end = rest_trim.find('\n').map(|n| start + n).unwrap_or(src.len());
    Some(
        Diagnostic::new(codes::STRING, "this string literal is not closed")
            .with_label(
                Span::new(start, end.max(start + 1).min(src.len().max(start + 1))),
                "unclosed string",
            )
            .with_help(format!(
                "add the closing {quote} on the same line, or use ``` for multi-line text"
            )),
    )
}

fn hex_run(s: &str, n: usize) -> bool {
    s.len() >= n && s.as_bytes()[..n].iter().all(u8::is_ascii_hexdigit)
}

fn leading_word(s: &str) -> &str {
    let s = s.trim_start();
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    s[..end].trim_end_matches('-')
}

fn token_text(s: &str) -> String {
    let s = s.trim_start();
    let w = leading_word(s);
    if !w.is_empty() {
        return w.to_string();
    }
    s.chars().next().map(|c| c.to_string()).unwrap_or_default()
}

fn token_span(src: &str, pos: usize) -> Span {
    let rest = &src[pos..];
    let trimmed = rest.trim_start();
    let start = pos + (rest.len() - trimmed.len());
    let len = token_text(trimmed).len().max(1);
    Span::new(start, (start + len).min(src.len().max(start)))
}

/// Whether the last token before `pos` (skipping whitespace and comments) is `|`.
fn previous_token_is_pipe(src: &str, pos: usize) -> bool {
    let mut before = &src[..pos];
    loop {
        let t = before.trim_end();
        // Strip a trailing `// comment` on the last line.
        let line_start = t.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line = &t[line_start..];
        if let Some(c) = find_comment(line) {
            before = &t[..line_start + c];
            continue;
        }
        return t.ends_with('|');
    }
}

/// Byte offset of `//` starting a comment in one line (outside strings).
fn find_comment(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match quote {
            Some(q) => {
                if b[i] == b'\\' {
                    i += 1;
                } else if b[i] == q {
                    quote = None;
                }
            }
            None => {
                if b[i] == b'"' || b[i] == b'\'' {
                    quote = Some(b[i]);
                } else if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

/// Grammar rules in words; `None` hides rules that only add noise.
fn describe(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::expr | Rule::pipe_expr | Rule::operand | Rule::postfix_expr | Rule::primary => {
            "an expression"
        }
        Rule::named_expr => "an expression",
        Rule::binary_op | Rule::list_op | Rule::between_op => "an operator",
        Rule::operator => "a tabular operator",
        Rule::ident | Rule::any_ident | Rule::raw_ident | Rule::bracket_name => "a name",
        Rule::literal | Rule::string_lit | Rule::number_lit => "a literal",
        Rule::type_name => "a type name (string, long, datetime, ...)",
        Rule::column_decl => "a column declaration `name:type`",
        Rule::statement | Rule::let_stmt | Rule::query_stmt => "a statement",
        Rule::EOI => "the end of the query",
        Rule::kw_by => "`by`",
        Rule::kw_on | Rule::join_cond => "`on`",
        Rule::kw_with => "`with`",
        Rule::kw_of => "`of`",
        Rule::kw_to => "`to`",
        Rule::kw_from => "`from`",
        Rule::kw_step => "`step`",
        Rule::kw_where => "`where`",
        Rule::sort_order => "`asc` or `desc`",
        Rule::nulls_order => "`nulls first` or `nulls last`",
        Rule::op_param => "a parameter such as `kind=...`",
        Rule::assign => "`=`",
        Rule::function_def => "a function definition",
        Rule::param => "a parameter `name:type`",
        Rule::expand_item => "a column to expand",
        Rule::parse_part => "a parse pattern element (`*`, a string or a column)",
        Rule::sort_key => "a sort key",
        Rule::rename => "`NewName = OldName`",
        Rule::property => "a property `name = value`",
        Rule::union_tables | Rule::wildcard_table => "a table",
        Rule::call_args => "`(`",
        Rule::member => "`.`",
        Rule::index => "`[`",
        Rule::json_array | Rule::json_object | Rule::json_null => "a dynamic value",
        _ => return None,
    })
}
