//! `kqlite explain`: show a query's plan, annotated with the KQL it came from.

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
    let renderer = Renderer::for_stderr();
    let text = match crate::query::read_query(&args.text, &renderer) {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let mut session = match crate::data::session_reading(&args.data.data) {
        Ok((s, _)) => s,
        Err(outcome) => return outcome,
    };
    if let Err(outcome) = crate::query::pin_now(&mut session, args.now.as_deref()) {
        return outcome;
    }
    match session.explain_with(text.query(), args.analyze) {
        Ok(plan) => {
            println!("{plan}");
            Outcome::Success
        }
        Err(e) => crate::query::report(&renderer, &text, e),
    }
}
