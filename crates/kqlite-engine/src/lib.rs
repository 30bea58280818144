//! kqlite-engine: KQL on Apache DataFusion.
//!
//! ```text
//! Script (AST) --Planner--> DataFusion LogicalPlan --DataFusion--> Arrow batches --output--> JSON/CSV/table
//!                   ^
//!      table schemas (built-in Sentinel/Defender + user)
//! ```
//!
//! The planner lowers KQL to built-in plan nodes plus named UDFs, so plans
//! serialise (datafusion-proto) and can run distributed. It keeps a KQL type
//! for every column ([`schema::Column`]): Arrow alone cannot tell `dynamic` or
//! `guid` from `string`.

pub mod advice;
mod builtin_schemas;
pub mod datetime;
pub mod error;
pub mod explain;
pub mod format;
pub mod functions;
pub mod output;
mod planner;
pub mod schema;
mod session;
pub mod source;
pub mod types;

pub use builtin_schemas::Flavor;
/// The DataFusion kqlite is built on (Arrow types of query results).
pub use datafusion;
pub use error::{Error, Result};
pub use planner::{Catalog, Planner, Relation};
pub use session::{QueryResult, Session, StageTimes};
