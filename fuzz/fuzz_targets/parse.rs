//! No input may make the parser or the printer panic, and every accepted
//! query must print to text that parses back to the same tree.
//!
//! `cargo fuzz run parse` (from the repository root; needs cargo-fuzz).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(script) = kqlite_syntax::parse(text) {
        let printed = script.to_string();
        let again = kqlite_syntax::parse(&printed)
            .unwrap_or_else(|d| panic!("printed query does not parse: {}\n{printed}", d.message));
        assert_eq!(script, again, "round trip changed the tree:\n{printed}");
    }
});
