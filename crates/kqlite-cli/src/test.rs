//! `kqlite test`: run detection unit tests.

use crate::Outcome;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[allow(dead_code)] // Read once the test runner exists.
pub struct TestArgs {
    /// Detection test files, or directories of them.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also write the results as a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

pub fn run(_args: TestArgs) -> Outcome {
    crate::not_implemented("test")
}
