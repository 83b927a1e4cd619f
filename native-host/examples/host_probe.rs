//! Bench helper for scripts/bench: `host_probe <host-binary> <origin> [runs]`.
//! Measures, with the binary launched the way a browser launches it (origin in
//! argv[1], pipes on stdin/stdout):
//! * process start to the first response (a `hello`), `runs` times;
//! * 10,000 sequential `ping` round trips straight over the pipes, which is
//!   the host's own share of a round trip through Chromium.
//!
//! Prints one JSON object on stdout.
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
    let cold = percentiles(samples);

    // Direct round trips over the pipes.
    let mut child = Command::new(bin)
        .arg(origin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut call = |body: &[u8]| {
        let mut f = (body.len() as u32).to_ne_bytes().to_vec();
        f.extend_from_slice(body);
        stdin.write_all(&f).unwrap();
        let mut len = [0u8; 4];
        stdout.read_exact(&mut len).unwrap();
        let mut reply = vec![0u8; u32::from_ne_bytes(len) as usize];
        stdout.read_exact(&mut reply).unwrap();
        reply
    };
    call(hello);
    let mut rt = vec![];
    for i in 0..10_200u32 {
        let body = format!(
            r#"{{"id":{},"type":"ping","params":{{"payload":{i}}}}}"#,
            i + 2
        );
        let t = Instant::now();
        let reply = call(body.as_bytes());
        if i >= 200 {
            rt.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        assert!(reply.starts_with(b"{\"id\":"), "unexpected reply");
    }
    drop(stdin);
    child.wait().unwrap();
    let direct = percentiles(rt);
    println!(
        "{{\"host_cold_start_ms\": {:.3}, \"host_cold_start_p90_ms\": {:.3}, \"host_cold_start_runs\": {runs}, \"host_direct_roundtrip_p50_ms\": {:.3}, \"host_direct_roundtrip_p99_ms\": {:.3}}}",
        cold(0.5),
        cold(0.9),
        direct(0.5),
        direct(0.99),
    );
}

fn percentiles(mut samples: Vec<f64>) -> impl Fn(f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    move |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize]
}
