//! Bench helper for scripts/bench: `cold_start <host-binary> <origin> [runs]`.
//! Measures process start to the first response (a `hello`), with the binary
//! launched the way a browser launches it. Prints a JSON object on stdout.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a bench tool: stdout is its report, a failure aborts the run"
)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = &args[1];
    let origin = &args[2];
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50);
    let hello = br#"{"id":1,"type":"hello","params":{"versions":[1]}}"#;
    let mut frame = (hello.len() as u32).to_ne_bytes().to_vec();
    frame.extend_from_slice(hello);
    let mut samples = vec![];
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = Command::new(bin)
            .arg(origin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.as_mut().unwrap().write_all(&frame).unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut len = [0u8; 4];
        out.read_exact(&mut len).unwrap();
        let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
        out.read_exact(&mut body).unwrap();
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(body.starts_with(br#"{"id":1,"result""#), "unexpected reply");
        drop(child.stdin.take());
        child.wait().unwrap();
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    println!(
        "{{\"host_cold_start_ms\": {:.3}, \"host_cold_start_p90_ms\": {:.3}, \"host_cold_start_runs\": {}}}",
        pct(0.5),
        pct(0.9),
        samples.len()
    );
}
