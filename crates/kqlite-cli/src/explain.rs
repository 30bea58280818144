//! `kqlite explain`: show a query's plans, every node labelled with the KQL
//! pipe stage it came from; `--analyze` adds each operator's metrics.

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
    /// Also run the query and show each physical operator's rows out,
    /// compute time and memory.
    #[arg(long)]
    pub analyze: bool,
    /// Show every plan node in full and, with --analyze, DataFusion's own
    /// metrics of each operator.
    #[arg(long)]
    pub verbose: bool,
}

pub fn run(args: ExplainArgs) -> Outcome {
    let renderer = Renderer::for_stderr();
    let text = match crate::query::read_query(&args.text, &renderer) {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let (mut session, reads) = match crate::data::session_reading(&args.data) {
        Ok(read) => read,
        Err(outcome) => return outcome,
    };
    if let Err(outcome) = crate::query::pin_now(&mut session, args.now.as_deref()) {
        return outcome;
    }
    let options = kqlite_engine::explain::ExplainOptions {
        analyze: args.analyze,
    };
    match session.explain_plans(text.query(), options) {
        Ok(plans) => {
            print!("{}", plans.render(args.verbose));
            crate::data::report_skipped_while_reading(&reads, "");
            Outcome::Success
        }
        Err(e) => crate::query::report(&renderer, &text, e),
    }
}
