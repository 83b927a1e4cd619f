//! The baresip dialer against two real baresip softphones on loopback: the
//! agent's (ctrl_tcp) and the remote party's (auto-answer, ctrl_tcp too, so the
//! test can assert from the remote side's own events).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ringside_core::dial::{CallEvent, SipSettings, sip_uri_for};
use ringside_host::dialer::DialerError;
use ringside_host::dialer::baresip::Baresip;
use tokio::sync::mpsc::Receiver;

/// A port p with p (UDP+TCP) and p+1 (baresip's TLS listener) free.
fn free_sip_port() -> u16 {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        drop(l);
        if p < 65000
            && UdpSocket::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("127.0.0.1", p + 1)).is_ok()
        {
            return p;
        }
    }
    panic!("no free port pair");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Softphone {
    child: Child,
    sip: u16,
    ctrl: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Softphone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_softphone(user: &str, auto_answer: bool) -> Softphone {
    let dir = tempfile::tempdir().unwrap();
    let sip = free_sip_port();
    let ctrl = free_port();
    let config = format!(
        "poll_method epoll\nsip_listen 127.0.0.1:{sip}\nnet_interface 127.0.0.1\n\
         audio_player aubridge,nil\naudio_source aubridge,nil\naudio_alert aubridge,nil\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aubridge.so\n\
         module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n\
         ctrl_tcp_listen 127.0.0.1:{ctrl}\n"
    );
    std::fs::write(dir.path().join("config"), config).unwrap();
    let answer = if auto_answer {
        ";answermode=auto"
    } else {
        ";answermode=manual"
    };
    std::fs::write(
        dir.path().join("accounts"),
        format!("<sip:{user}@127.0.0.1:{sip}>;regint=0{answer}\n"),
    )
    .unwrap();
    let child = Command::new("baresip")
        .arg("-f")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("baresip is installed (scripts/setup installs baresip-core)");
    let phone = Softphone {
        child,
        sip,
        ctrl,
        _dir: dir,
    };
    wait_listening(phone.ctrl);
    phone
}

fn wait_listening(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // ctrl_tcp takes one client at a time; that probe has closed again.
            std::thread::sleep(Duration::from_millis(50));
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("baresip did not open ctrl_tcp on {port}");
}

async fn next_event(rx: &mut Receiver<CallEvent>, want: fn(&CallEvent) -> bool) -> CallEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("timed out waiting for a call event")
            .expect("event stream ended");
        if want(&ev) {
            return ev;
        }
    }
}

#[tokio::test]
async fn dial_reaches_the_remote_softphone_and_hangup_ends_it() {
    let agent = start_softphone("agent", false);
    // The remote party answers as the E.164 number being dialled.
    let remote = start_softphone("+33123456789", true);
    let (mut dialer, mut events) = Baresip::connect(&format!("127.0.0.1:{}", agent.ctrl))
        .await
        .unwrap();
    let (_observer, mut remote_events) = Baresip::connect(&format!("127.0.0.1:{}", remote.ctrl))
        .await
        .unwrap();

    let uri = sip_uri_for(
        "+33123456789",
        &SipSettings {
            domain: format!("127.0.0.1:{}", remote.sip),
            prefix: String::new(),
        },
    )
    .unwrap();
    dialer.dial(&uri).await.unwrap();
    // The remote party's own softphone sees the call from the agent connect
    // (auto-answer reports CALL_ESTABLISHED without a CALL_INCOMING first).
    let remote_call = next_event(&mut remote_events, |e| {
        matches!(e, CallEvent::Established { .. })
    })
    .await;
    let CallEvent::Established { peer, outgoing, .. } = &remote_call else {
        unreachable!()
    };
    assert!(peer.starts_with("sip:agent@127.0.0.1"), "{peer}");
    assert!(!outgoing);
    let ours = next_event(&mut events, |e| matches!(e, CallEvent::Established { .. })).await;
    assert!(matches!(
        ours,
        CallEvent::Established { outgoing: true, .. }
    ));

    dialer.hangup().await.unwrap();
    let closed = next_event(&mut remote_events, |e| {
        matches!(e, CallEvent::Closed { .. })
    })
    .await;
    assert_eq!(closed.call_id(), remote_call.call_id());
    next_event(&mut events, |e| matches!(e, CallEvent::Closed { .. })).await;
}

#[tokio::test]
async fn softphone_down_is_a_clear_error() {
    let port = free_port();
    let err = Baresip::connect(&format!("127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(matches!(err, DialerError::Unreachable { .. }));
    let msg = err.to_string();
    assert!(msg.contains("not reachable"), "{msg}");
    assert!(msg.contains("start it"), "{msg}");
}

#[tokio::test]
async fn dangerous_targets_never_reach_baresip() {
    let agent = start_softphone("agent", false);
    let (mut dialer, _events) = Baresip::connect(&format!("127.0.0.1:{}", agent.ctrl))
        .await
        .unwrap();
    for target in ["sip:a@b;transport=tcp", "123 ; hangup", "", "sip:x@y\nquit"] {
        assert!(
            matches!(
                dialer.dial(target).await,
                Err(DialerError::InvalidTarget(_))
            ),
            "{target:?}"
        );
    }
    // The connection is still good after the refusals: baresip answers.
    let r = dialer.command("reginfo", None).await;
    assert!(
        !matches!(r, Err(DialerError::Closed | DialerError::Timeout { .. })),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_killed_softphone_fails_pending_commands_as_closed() {
    let mut agent = start_softphone("agent", false);
    let (mut dialer, _events) = Baresip::connect(&format!("127.0.0.1:{}", agent.ctrl))
        .await
        .unwrap();
    agent.child.kill().unwrap();
    agent.child.wait().unwrap();
    let err = dialer.hangup().await.unwrap_err();
    assert!(matches!(err, DialerError::Closed), "{err}");
}

/// `ringside-host` as the browser runs it, driving the agent's softphone:
/// configure, dial, call events on stdout, hang up.
#[tokio::test]
async fn the_host_dials_through_baresip_and_relays_call_events() {
    use std::io::{Read, Write};
    let agent = start_softphone("agent", false);
    let remote = start_softphone("+442079460018", true);
    let (_observer, mut remote_events) = Baresip::connect(&format!("127.0.0.1:{}", remote.ctrl))
        .await
        .unwrap();

    let home = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_ringside-host");
    let env = |c: &mut Command| {
        c.env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"));
    };
    let mut install = Command::new(bin);
    env(&mut install);
    assert!(
        install
            .args(["install", "--browser", "chromium", "--dev", "--profile-dir"])
            .arg(home.path().join("p"))
            .output()
            .unwrap()
            .status
            .success()
    );
    let mut host = Command::new(bin);
    env(&mut host);
    let mut host = host
        .arg("chrome-extension://fempdkhheodefkjhkbekalfieneojckb/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = host.stdin.take().unwrap();
    let mut stdout = host.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        loop {
            let mut len = [0u8; 4];
            if stdout.read_exact(&mut len).is_err() {
                return;
            }
            let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
            stdout.read_exact(&mut body).unwrap();
            let _ = tx.send(serde_json::from_slice(&body).unwrap());
        }
    });
    let mut send = |v: serde_json::Value| {
        let b = v.to_string();
        stdin.write_all(&(b.len() as u32).to_ne_bytes()).unwrap();
        stdin.write_all(b.as_bytes()).unwrap();
    };
    let next = |pred: &dyn Fn(&serde_json::Value) -> bool| loop {
        let v = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("a frame from the host");
        if pred(&v) {
            return v;
        }
    };
    send(serde_json::json!({"id": 1, "type": "hello", "params": {"versions": [1]}}));
    next(&|v| v["id"] == 1);
    send(
        serde_json::json!({"id": 2, "type": "dialer.configure", "params": {
            "adapter": "baresip",
            "address": format!("127.0.0.1:{}", agent.ctrl),
            "sip": {"domain": format!("127.0.0.1:{}", remote.sip)}
        }}),
    );
    assert_eq!(next(&|v| v["id"] == 2)["result"], serde_json::json!({}));
    send(serde_json::json!({"id": 3, "type": "dial", "params": {"number": "+442079460018"}}));
    assert_eq!(next(&|v| v["id"] == 3)["result"]["accepted"], true);

    // The remote softphone has the call; the host reports it established.
    let remote_call = next_event(&mut remote_events, |e| {
        matches!(e, CallEvent::Established { .. })
    })
    .await;
    let established = next(&|v| v["event"] == "call" && v["data"]["state"] == "established");
    assert_eq!(established["data"]["outgoing"], true);
    assert!(
        established["data"]["peer"]
            .as_str()
            .unwrap()
            .starts_with("sip:+442079460018@")
    );

    send(serde_json::json!({"id": 4, "type": "hangup"}));
    assert_eq!(next(&|v| v["id"] == 4)["result"]["accepted"], true);
    let closed = next_event(&mut remote_events, |e| {
        matches!(e, CallEvent::Closed { .. })
    })
    .await;
    assert_eq!(closed.call_id(), remote_call.call_id());
    next(&|v| v["event"] == "call" && v["data"]["state"] == "closed");
    drop(stdin);
    assert!(host.wait().unwrap().success());

    // The host recorded the dialer, so `doctor` checks the softphone.
    let mut doctor = Command::new(bin);
    env(&mut doctor);
    let out = doctor.arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "softphone (baresip at 127.0.0.1:{}): reachable",
            agent.ctrl
        )),
        "{text}"
    );
    assert!(out.status.success(), "{text}");
}
