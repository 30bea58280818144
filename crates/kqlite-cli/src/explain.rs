//! `kqlite explain`: show a query's plan, annotated with the KQL it came from.

use crate::inputs::{self, Input};
use crate::render::Renderer;
use crate::{DataArgs, Outcome, QueryTextArgs};
use clap::Args;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub text: QueryTextArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Pin `now()` (RFC 3339), as for `kqlite query`.
    #[arg(long, value_name = "T")]
    pub now: Option<String>,
    /// Also run the query and show the metrics of each operator.
    #[arg(long)]
    pub analyze: bool,
}

pub fn run(args: ExplainArgs) -> Outcome {
    let input = match (&args.text.query, &args.text.file) {
        (Some(q), _) => Input::Inline(q.clone()),
        (None, Some(f)) => Input::File(f.clone()),
        (None, None) => Input::Stdin,
    };
    let renderer = Renderer::for_stderr();
    let text = match inputs::load(&input) {
        Ok(t) => t,
        Err(problem) => {
            eprint!("{}", renderer.render(&problem));
            return Outcome::Usage;
        }
    };
    let mut session = match crate::data::session_reading(&args.data.data) {
        Ok((s, _)) => s,
        Err(outcome) => return outcome,
    };
    if let Some(now) = &args.now {
        match kqlite_engine::datetime::parse_datetime(now) {
            Some(nanos) => session.set_now(nanos),
            None => {
                eprintln!(
                    "error: --now `{now}` is not an RFC 3339 time such as 2024-05-01T12:00:00Z"
                );
                return Outcome::Usage;
            }
        }
    }
    match session.explain_with(text.query(), args.analyze) {
        Ok(plan) => {
            println!("{plan}");
            Outcome::Success
        }
        Err(e) => crate::query::report(&renderer, &text, e),
    }
}
