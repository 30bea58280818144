//! `-d [NAME=]PATH`: tables from exported files.

use crate::Outcome;
use kqlite_engine::Session;
use std::path::Path;

/// Splits `NAME=PATH` (NAME an identifier) from a plain path.
fn split(arg: &str) -> (Option<&str>, &str) {
    if let Some((name, path)) = arg.split_once('=') {
        let ident = !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident && !Path::new(arg).exists() {
            return (Some(name), path);
        }
    }
    (None, arg)
}

/// A new session holding the tables of every `-d` source.
pub fn session(args: &[String]) -> Result<Session, Outcome> {
    let mut session = Session::new().map_err(|e| {
        eprintln!("error: {e}");
        Outcome::Data
    })?;
    load(&mut session, args)?;
    Ok(session)
}

/// Loads every `-d` source into the session. A missing path is bad usage
/// (exit 2); an unreadable or malformed file is a data error (exit 3).
pub fn load(session: &mut Session, args: &[String]) -> Result<(), Outcome> {
    for arg in args {
        let (name, path) = split(arg);
        let path = Path::new(path);
        if !path.exists() {
            eprintln!(
                "error: -d {arg}: {}: no such file or directory",
                path.display()
            );
            return Err(Outcome::Usage);
        }
        let tables = kqlite_engine::source::load(name, path).map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Data
        })?;
        for t in tables {
            session.register_loaded(t).map_err(|e| {
                eprintln!("error: {e}");
                Outcome::Data
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn names() {
        assert_eq!(split("T=x.csv"), (Some("T"), "x.csv"));
        assert_eq!(split("x.csv"), (None, "x.csv"));
        assert_eq!(split("a/b=c.csv"), (None, "a/b=c.csv"));
    }
}
