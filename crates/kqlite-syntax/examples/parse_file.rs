//! Parses the given files N times (for profiling): `parse_file N FILE...`.
fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let texts: Vec<String> = args
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let start = std::time::Instant::now();
    let mut errors = 0;
    for _ in 0..n {
        for t in &texts {
            if kqlite_syntax::parse(t).is_err() {
                errors += 1;
            }
        }
    }
    let bytes: usize = texts.iter().map(String::len).sum::<usize>() * n;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{bytes} bytes in {secs:.3}s = {:.2} MB/s, {errors} errors",
        bytes as f64 / secs / 1e6
    );
}
