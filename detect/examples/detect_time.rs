//! Times `ringside_detect::detect` on a `detect` request read from a JSON
//! file (`{"region":…,"texts":[…],"links":[…]}`), the same shape the
//! extension's detection module takes: a native stand-in for profiling the
//! engine (the browser figures are scripts/bench's). Usage:
//! `cargo run --release -p ringside-detect --example detect_time -- request.json [runs]`
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a developer's timing tool: a bad file is a crash, and stdout is its output"
)]

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a request file");
    let runs: usize = args.next().map_or(20, |r| r.parse().unwrap());
    let text = std::fs::read_to_string(path).unwrap();
    let mut times = vec![];
    let mut found = 0;
    let mut digest = 0u64;
    for _ in 0..=runs {
        let t0 = Instant::now();
        let params: ringside_detect::DetectParams = serde_json::from_str(&text).unwrap();
        let result = ringside_detect::detect(&params).unwrap();
        let out = serde_json::to_string(&result).unwrap();
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        found = result.texts.len();
        // FNV-1a of the answer: equal digests, equal answers.
        digest = out.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    }
    // The first run compiles the patterns; the median of the others.
    let first = times.remove(0);
    times.sort_by(f64::total_cmp);
    println!(
        "texts {} found {found} (answer digest {digest:016x}): first {first:.2} ms, median {:.2} ms",
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["texts"]
            .as_array()
            .map_or(0, Vec::len),
        times[times.len() / 2]
    );
}
