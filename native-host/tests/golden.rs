//! Golden frames: the exact bytes the host writes for a sequence of input frames.
//!
//! `tests/golden/*.frames` hold one session each. `-> ` lines are frames sent to
//! the host, `<- ` lines the frames it must answer with, each written as the
//! 4-byte length prefix in hex (native order, i.e. little-endian on the machines
//! we ship for) and the UTF-8 body; `-> raw <hex>` sends arbitrary bytes and
//! `-> fill <hex byte> <count>` that byte `count` times. The
//! length in the file is checked against the body, so the file cannot drift.
//! `RINGSIDE_BLESS=1 cargo test --test golden` rewrites the `<-` lines.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::path::Path;

use ringside_host::serve::{HostIdentity, serve};

fn identity() -> HostIdentity {
    HostIdentity {
        host_version: "0.1.0".into(),
        pid: 4242,
        os: "linux".into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn parse_frame_line(line: &str) -> Vec<u8> {
    if let Some(raw) = line.strip_prefix("raw ") {
        return unhex(raw.trim());
    }
    if let Some(fill) = line.strip_prefix("fill ") {
        // `fill <hex byte> <count>`: a large body without a large file.
        let (byte, count) = fill.trim().split_once(' ').unwrap();
        return vec![unhex(byte)[0]; count.parse().unwrap()];
    }
    let (len_hex, body) = line.split_once(' ').unwrap_or((line, ""));
    let len = unhex(len_hex);
    assert_eq!(len.len(), 4, "bad length in {line}");
    let declared = u32::from_ne_bytes([len[0], len[1], len[2], len[3]]) as usize;
    assert_eq!(
        declared,
        body.len(),
        "length prefix does not match body: {line}"
    );
    let mut out = len;
    out.extend_from_slice(body.as_bytes());
    out
}

fn render_output(mut bytes: &[u8]) -> String {
    let mut s = String::new();
    while bytes.len() >= 4 {
        let n = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let body = &bytes[4..4 + n];
        s.push_str(&format!(
            "<- {} {}\n",
            hex(&bytes[..4]),
            std::str::from_utf8(body).unwrap()
        ));
        bytes = &bytes[4 + n..];
    }
    assert!(bytes.is_empty(), "trailing bytes after the last frame");
    s
}

async fn run_case(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut input = vec![];
    let mut expected = vec![];
    let mut kept = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("-> ") {
            input.extend(parse_frame_line(rest));
        } else if let Some(rest) = line.strip_prefix("<- ") {
            expected.extend(parse_frame_line(rest));
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    let mut output = vec![];
    serve(&input[..], &mut output, identity()).await;
    if std::env::var_os("RINGSIDE_BLESS").is_some() {
        std::fs::write(path, format!("{kept}{}", render_output(&output))).unwrap();
        return;
    }
    assert!(
        output == expected,
        "{}: the host wrote\n{}",
        path.display(),
        render_output(&output)
    );
}

// Golden lengths are written little-endian.
#[cfg(target_endian = "little")]
#[tokio::test]
async fn golden_sessions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "frames"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "golden cases missing from {}",
        dir.display()
    );
    for case in cases {
        run_case(&case).await;
    }
}
