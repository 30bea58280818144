//! Problems found in the user's input, and how they are shown.
//!
//! A [`Problem`] is shown twice: as one grep-able line on stdout
//! (`PATH:LINE:COL: error: MESSAGE`), and drawn with miette on stderr, with
//! the source line and a caret under the span. Positions are byte offsets
//! into the text shown (the file as written), so a query embedded in a rule
//! YAML is reported at its place in the YAML file.

use crate::inputs::QueryText;
use kqlite_syntax::Diagnostic;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use std::fmt;
use std::io::IsTerminal;
use std::ops::Range;

/// How bad a problem is for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The input is not a valid query or rule file (exit code 1).
    Invalid,
    /// The input could not be read at all (exit code 2, like a missing file).
    Unreadable,
}

/// Codes of the problems found by the command line itself; the query's own
/// problems carry the codes of the stage that found them (`KQL...`).
pub mod codes {
    pub const UNREADABLE: &str = "kqlite::unreadable";
    pub const NOT_UTF8: &str = "kqlite::not_utf8";
}

/// One problem with one input.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The input's name: a path, `<stdin>` or `<query>`.
    pub name: String,
    pub kind: ProblemKind,
    pub code: &'static str,
    /// One line, plain words.
    pub message: String,
    pub help: Option<String>,
    /// Where in the input, when the problem has a place.
    place: Option<Box<Place>>,
}

#[derive(Debug, Clone)]
struct Place {
    /// The text the spans point into: the input as the user wrote it.
    source: String,
    /// The byte offset the stdout line points at.
    at: usize,
    /// Labelled spans in `source`; the first is the primary one.
    labels: Vec<(Range<usize>, String)>,
}

impl Problem {
    pub fn new(
        name: impl Into<String>,
        kind: ProblemKind,
        code: &'static str,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            name: name.into(),
            kind,
            code,
            message: message.into(),
            help: None,
            place: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }

    /// Shows the problem against `source`, pointing at `span` (byte offsets).
    pub fn with_span(mut self, source: String, span: Range<usize>, label: &str) -> Problem {
        let start = floor_char_boundary(&source, span.start);
        let end = floor_char_boundary(&source, span.end).max(start);
        self.place = Some(Box::new(Place {
            at: start,
            labels: vec![(start..end, label.to_string())],
            source,
        }));
        self
    }

    /// A problem the parser (or a later stage) found in a query.
    pub fn from_diagnostic(query: &QueryText, diagnostic: Diagnostic) -> Problem {
        let text = query.query();
        let to_source = |span: kqlite_syntax::Span| {
            let span = clamp_to_content(text, span.start..span.end);
            query.source_range(span)
        };
        let labels: Vec<(Range<usize>, String)> = diagnostic
            .labels
            .iter()
            .map(|label| (to_source(label.span), label.text.clone()))
            .collect();
        // A diagnostic without a place is reported at the start of the query.
        let at = labels
            .first()
            .map(|(span, _)| span.start)
            .unwrap_or_else(|| query.source_range(0..0).start);
        Problem {
            name: query.name.clone(),
            kind: ProblemKind::Invalid,
            code: diagnostic.code,
            message: diagnostic.message,
            help: diagnostic.help,
            place: Some(Box::new(Place {
                source: query.source().to_string(),
                at,
                labels,
            })),
        }
    }

    /// The stdout line: `NAME:LINE:COL: error: MESSAGE`, or `NAME: error:
    /// MESSAGE` when the problem has no place.
    pub fn summary(&self) -> String {
        let message = one_line(&self.message);
        match &self.place {
            Some(place) => {
                let (line, col) = kqlite_syntax::line_col(&place.source, place.at);
                format!("{}:{line}:{col}: error: {message}", self.name)
            }
            None => format!("{}: error: {message}", self.name),
        }
    }
}

/// Draws problems for stderr.
pub struct Renderer {
    handler: GraphicalReportHandler,
}

impl Renderer {
    /// Colours only for a terminal, and never when `NO_COLOR` is set, so that
    /// captured output (tests, CI logs) holds no escape codes.
    pub fn for_stderr() -> Renderer {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Renderer::new(!no_color && std::io::stderr().is_terminal())
    }

    pub fn new(color: bool) -> Renderer {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Renderer {
            handler: GraphicalReportHandler::new_themed(theme)
                .with_links(false)
                .with_width(100),
        }
    }

    pub fn render(&self, problem: &Problem) -> String {
        // The drawing cannot show a line longer than the renderer's column
        // limit (a one-line rule with a long IOC list): such a report goes
        // without the source drawing; its stdout/summary line has the place.
        const LONGEST_DRAWN_LINE: usize = 10_000;
        let drawable = problem.place.as_ref().is_none_or(|place| {
            place.labels.iter().all(|(span, _)| {
                let start = span.start.min(place.source.len());
                let line_start = place.source[..start].rfind('\n').map_or(0, |k| k + 1);
                let line_end = place.source[start..]
                    .find('\n')
                    .map_or(place.source.len(), |k| start + k);
                line_end - line_start <= LONGEST_DRAWN_LINE
            })
        });
        if !drawable {
            return format!("{}\n", problem.summary());
        }
        let view = View {
            problem,
            source: problem.place.as_ref().map(|place| {
                let mut text = place.source.clone();
                // miette draws no label at the very end of the text ("expected
                // an expression, found the end of the query"): give it a blank
                // to stand under.
                if place
                    .labels
                    .iter()
                    .any(|(span, _)| span.start >= text.len())
                {
                    text.push(' ');
                }
                NamedSource::new(&problem.name, text)
            }),
        };
        let mut out = String::new();
        if self.handler.render_report(&mut out, &view).is_err() {
            // Rendering into a String cannot fail short of a bug in miette;
            // the stdout line has already said what is wrong.
            out = format!("error: {}\n", problem.message);
        }
        out
    }
}

/// A problem as miette sees it.
struct View<'a> {
    problem: &'a Problem,
    source: Option<NamedSource<String>>,
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.problem, f)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.problem.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let place = self.problem.place.as_ref()?;
        if place.labels.is_empty() {
            return None;
        }
        let labels = place.labels.iter().enumerate().map(|(i, (span, text))| {
            let text = (!text.is_empty()).then(|| text.clone());
            let span = (span.start, span.len());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        });
        Some(Box::new(labels))
    }
}

/// A span that starts in trailing whitespace ("unexpected end of query")
/// is moved to just after the last token: the end of a file, or the line
/// after a YAML block, is no place to point at.
fn clamp_to_content(text: &str, span: Range<usize>) -> Range<usize> {
    let content_end = text.trim_end().len();
    let start = span.start.min(content_end);
    let end = span.end.min(content_end).max(start);
    floor_char_boundary(text, start)..floor_char_boundary(text, end)
}

/// The largest char boundary at or before `offset`, within `text`.
pub fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn one_line(message: &str) -> String {
    message.trim().lines().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_moves_end_of_input_spans_to_the_last_token() {
        assert_eq!(clamp_to_content("T | where\n", 10..10), 9..9);
        assert_eq!(clamp_to_content("T | where\n\n  ", 9..13), 9..9);
        assert_eq!(clamp_to_content("T | wehre x", 4..9), 4..9);
        assert_eq!(clamp_to_content("", 0..0), 0..0);
        assert_eq!(clamp_to_content("   ", 3..3), 0..0);
    }

    #[test]
    fn summary_lines() {
        let p = Problem::new(
            "a.yaml",
            ProblemKind::Invalid,
            "kqlite::no_query",
            "no query",
        );
        assert_eq!(p.summary(), "a.yaml: error: no query");
        let p = p.with_span("x: 1\ny: [\n".into(), 8..9, "here");
        assert_eq!(p.summary(), "a.yaml:2:4: error: no query");
        let p = Problem::new("q", ProblemKind::Invalid, "c", "two\nlines");
        assert_eq!(p.summary(), "q: error: two lines");
    }

    /// A diagnostic as the parser makes them, shown for a .kql file and for
    /// the same query inside a rule YAML.
    fn typo() -> Diagnostic {
        Diagnostic::new("KQL005", "unknown operator `summarise`")
            .with_label(kqlite_syntax::Span::new(16, 25), "not a tabular operator")
            .with_help("did you mean `summarize`?")
    }

    #[test]
    fn rendered_for_a_kql_file() {
        let query = QueryText::whole("hunt.kql", "SecurityAlert\n| summarise count()\n".into());
        let problem = Problem::from_diagnostic(&query, typo());
        assert_eq!(
            problem.summary(),
            "hunt.kql:2:3: error: unknown operator `summarise`"
        );
        insta::assert_snapshot!(Renderer::new(false).render(&problem), @"
        KQL005

          × unknown operator `summarise`
           ╭─[hunt.kql:2:3]
         1 │ SecurityAlert
         2 │ | summarise count()
           ·   ────┬────
           ·       ╰── not a tabular operator
           ╰────
          help: did you mean `summarize`?
        ");
    }

    #[test]
    fn rendered_for_a_rule_file() {
        let yaml = "name: x\nquery: |\n  SecurityAlert\n  | summarise count()\nkind: Scheduled\n";
        let query = crate::rule_yaml::extract("rule.yaml".into(), yaml.into()).unwrap();
        let problem = Problem::from_diagnostic(&query, typo());
        assert_eq!(
            problem.summary(),
            "rule.yaml:4:5: error: unknown operator `summarise`"
        );
        insta::assert_snapshot!(Renderer::new(false).render(&problem), @"
        KQL005

          × unknown operator `summarise`
           ╭─[rule.yaml:4:5]
         3 │   SecurityAlert
         4 │   | summarise count()
           ·     ────┬────
           ·         ╰── not a tabular operator
         5 │ kind: Scheduled
           ╰────
          help: did you mean `summarize`?
        ");
    }
}
