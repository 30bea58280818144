//! Runs the real `kqlite` binary, from the crate directory, so paths in its
//! output are the relative paths the tests pass.

use std::io::Write;
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr, in one text for a snapshot.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn kqlite(args: &[&str]) -> Run {
    kqlite_with_stdin(args, "")
}

pub fn kqlite_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kqlite"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Output must not depend on the environment the tests run in.
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kqlite binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin.as_bytes())
        .expect("stdin takes the query");
    drop(input);
    let output = child.wait_with_output().expect("kqlite finishes");
    let run = Run {
        code: output
            .status
            .code()
            .expect("kqlite exits with a code, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    // Captured output is not a terminal: no colours, whatever happens.
    assert!(
        !run.stdout.contains('\x1b'),
        "ANSI escape in stdout: {:?}",
        run.stdout
    );
    assert!(
        !run.stderr.contains('\x1b'),
        "ANSI escape in stderr: {:?}",
        run.stderr
    );
    // A panic is never an acceptable answer to user input.
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}
