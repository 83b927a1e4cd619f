//! The real `ringside-host` binary as a browser and a person use it: launched
//! with an origin, fed frames on stdin; and its install/doctor commands.
//! Each test gets its own HOME so nothing touches the machine's config.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ringside-host");
const DEV_ORIGIN: &str = "chrome-extension://fempdkhheodefkjhkbekalfieneojckb/";

fn frame(body: &str) -> Vec<u8> {
    let mut v = (body.len() as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(body.as_bytes());
    v
}

/// Splits stdout into frames; fails if any byte is not part of a frame.
fn frames(mut out: &[u8]) -> Vec<serde_json::Value> {
    let mut v = vec![];
    while !out.is_empty() {
        assert!(out.len() >= 4, "stray bytes on stdout: {out:?}");
        let n = u32::from_ne_bytes([out[0], out[1], out[2], out[3]]) as usize;
        assert!(out.len() >= 4 + n, "truncated frame on stdout");
        v.push(serde_json::from_slice(&out[4..4 + n]).expect("frame is JSON"));
        out = &out[4 + n..];
    }
    v
}

fn cmd(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("RINGSIDE_LOG");
    c
}

fn install(home: &Path) {
    let out = cmd(home)
        .args(["install", "--browser", "chromium", "--dev", "--profile-dir"])
        .arg(home.join("profile"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(home: &Path, origin: &str, input: &[u8]) -> Output {
    let mut child = cmd(home)
        .arg(origin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write from a thread: the host answers while we are still writing.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
        // Dropping stdin closes it: the browser went away.
    });
    let mut stdout = vec![];
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    writer.join().unwrap();
    let mut out = child.wait_with_output().unwrap();
    out.stdout = stdout;
    out
}

const HELLO: &str = r#"{"id":1,"type":"hello","params":{"versions":[1]}}"#;

#[test]
fn allowed_origin_gets_hello_with_its_own_pid() {
    let home = tempfile::tempdir().unwrap();
    install(home.path());
    let out = run(home.path(), DEV_ORIGIN, &frame(HELLO));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = frames(&out.stdout);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["result"]["version"], 1);
    assert!(f[0]["result"]["pid"].as_u64().unwrap() > 0);
    assert_eq!(f[0]["result"]["host_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn unknown_origin_is_refused_with_a_frame_and_a_log_line() {
    let home = tempfile::tempdir().unwrap();
    install(home.path());
    let stranger = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/";
    let out = run(home.path(), stranger, &frame(HELLO));
    assert_eq!(out.status.code(), Some(1));
    let f = frames(&out.stdout);
    assert_eq!(f.len(), 1, "only the refusal, no hello answer");
    assert_eq!(f[0]["event"], "host.error");
    assert_eq!(f[0]["data"]["code"], 1008);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains(&format!("refusing caller {stranger}")),
        "{log}"
    );
    assert!(log.contains("ringside-host install"), "{log}");
}

#[test]
fn large_last_reply_is_not_lost_when_stdin_closes() {
    // The `native_messaging` crate's failure mode: the tail of a big reply to the
    // last request is dropped when stdin hits EOF. Here every byte must arrive.
    let home = tempfile::tempdir().unwrap();
    install(home.path());
    let payload = "x".repeat(1_000_000);
    let ping = format!(r#"{{"id":2,"type":"ping","params":{{"payload":"{payload}"}}}}"#);
    let mut input = frame(HELLO);
    input.extend(frame(&ping));
    let out = run(home.path(), DEV_ORIGIN, &input);
    let f = frames(&out.stdout);
    assert_eq!(f.len(), 2);
    assert_eq!(f[1]["id"], 2);
    assert_eq!(f[1]["result"]["payload"].as_str().unwrap().len(), 1_000_000);
}

#[test]
fn frame_garbage_ends_cleanly_without_panic() {
    let home = tempfile::tempdir().unwrap();
    install(home.path());
    for garbage in [
        vec![0xff, 0xff, 0xff, 0xff],
        ((1024 * 1024 + 1) as u32).to_ne_bytes().to_vec(),
        vec![7, 0],
        {
            let mut v = frame(r#"{"id":9,"type":"ping"}"#);
            v.truncate(10);
            v
        },
    ] {
        let mut input = frame(HELLO);
        input.extend(&garbage);
        let out = run(home.path(), DEV_ORIGIN, &input);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(!log.contains("panicked"), "{log}");
        assert!(log.contains("ending the session"), "{log}");
        let f = frames(&out.stdout);
        assert_eq!(f[0]["id"], 1, "the hello before the garbage was answered");
    }
}

#[test]
fn install_doctor_uninstall() {
    let home = tempfile::tempdir().unwrap();
    let doctor = |h: &Path| cmd(h).arg("doctor").output().unwrap();
    let before = doctor(home.path());
    assert_eq!(before.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&before.stdout).contains("not registered with any browser"));

    install(home.path());
    let manifest = home
        .path()
        .join("profile/NativeMessagingHosts/com.ringside.host.json");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(m["type"], "stdio");
    assert_eq!(
        Path::new(m["path"].as_str().unwrap()),
        std::fs::canonicalize(BIN).unwrap()
    );
    let ok = doctor(home.path());
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{text}");
    assert!(text.contains("[ok] Chromium (profile)"), "{text}");
    assert!(text.contains(DEV_ORIGIN), "{text}");

    let json = cmd(home.path())
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["registrations"][0]["health"], "ok");

    let un = cmd(home.path())
        .args(["uninstall", "--browser", "chromium", "--profile-dir"])
        .arg(home.path().join("profile"))
        .output()
        .unwrap();
    assert!(un.status.success());
    assert!(!manifest.exists());
    assert_eq!(doctor(home.path()).status.code(), Some(1));
}

#[test]
fn bad_extension_id_is_explained() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path())
        .args(["install", "--extension-id", "not-an-id"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 letters from a to p"));
}

#[test]
fn install_without_an_extension_id_needs_dev() {
    let home = tempfile::tempdir().unwrap();
    let out = cmd(home.path())
        .args(["install", "--browser", "chromium", "--profile-dir"])
        .arg(home.path().join("profile"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--extension-id <id>") && err.contains("--dev"),
        "{err}"
    );
    assert!(
        !home.path().join("profile/NativeMessagingHosts").exists(),
        "nothing is registered"
    );
    assert!(!home.path().join(".config/ringside/host.json").exists());
}

#[test]
fn detect_prints_one_json_object_per_match() {
    let home = tempfile::tempdir().unwrap();
    let mut child = cmd(home.path())
        .args(["detect", "--region", "FR"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("Tél. 01 23 45 67 89 poste 12, le 12/05/2024, ou +44 20 7946 0018.".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines[0],
        serde_json::json!({"start": 6, "end": 29, "text": "01 23 45 67 89 poste 12", "e164": "+33123456789", "extension": "12"})
    );
    assert_eq!(lines[1]["e164"], "+442079460018");
    assert_eq!(lines[1]["extension"], serde_json::Value::Null);

    let bad = cmd(home.path())
        .args(["detect", "--region", "XYZ"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a region code"));
}
