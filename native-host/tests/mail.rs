//! Gmail over IMAP, host side, against a real dovecot on loopback with TLS
//! from a test CA (openssl) and a passwd-file user; the mailbox is seeded
//! with a few hundred messages, some from or to the contact. Runs where
//! dovecot is installed (`scripts/setup` installs it); `RINGSIDE_REQUIRE_DOVECOT=1`
//! (set by `scripts/test`) turns a missing dovecot into a failure.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;

use ringside_core::mail::MailFailure;
use ringside_host::mail::{self, Mail, Server};
use ringside_host::secrets::{MemoryStore, Secret, SecretStore};

const USER: &str = "ana@example.com";
const APP_PASSWORD: &str = "abcdefghijklmnop";
const CONTACT: &str = "bob@contoso.com";
const SEEDED: usize = 300;
/// Every seventh message is from or to the contact.
const SHARED: usize = SEEDED.div_ceil(7);

struct Dovecot {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log =
                std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default();
            eprintln!("dovecot.log:\n{log}");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn certs(dir: &Path) {
    let d = |f: &str| dir.join(f);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Ringside Test CA",
        ])
        .arg("-keyout")
        .arg(d("ca.key"))
        .arg("-out")
        .arg(d("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(d("server.key"))
        .arg("-out")
        .arg(d("server.csr")));
    std::fs::write(d("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(d("server.csr"))
        .arg("-CA")
        .arg(d("ca.pem"))
        .arg("-CAkey")
        .arg(d("ca.key"))
        .arg("-out")
        .arg(d("server.pem"))
        .arg("-extfile")
        .arg(d("ext.cnf")));
}

fn seed(maildir: &Path) {
    let all = maildir.join(".All Mail").join("cur");
    std::fs::create_dir_all(&all).unwrap();
    std::fs::create_dir_all(maildir.join("cur")).unwrap();
    for i in 0..SEEDED {
        let (from, to) = match i % 7 {
            0 if i % 2 == 0 => (CONTACT.to_owned(), USER.to_owned()),
            0 => (USER.to_owned(), CONTACT.to_owned()),
            _ => (format!("someone{i}@example.org"), USER.to_owned()),
        };
        // Dates increase with i; one encoded-word subject.
        let day = 1 + (i / 24) % 28;
        let hour = i % 24;
        let subject = if i == 7 {
            "=?UTF-8?B?UsOpdW5pb24gZGUgbHVuZGk=?=".to_owned()
        } else {
            format!("Message {i}")
        };
        let msg = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, {day:02} Sep 2026 {hour:02}:00:00 +0000\r\nMessage-ID: <m{i}@test>\r\n\r\nbody {i}\r\n"
        );
        std::fs::write(all.join(format!("{}.m{i}:2,S", 1_700_000_000 + i)), msg).unwrap();
    }
}

fn start() -> Option<Dovecot> {
    let dovecot = ["/usr/sbin/dovecot", "/usr/bin/dovecot"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(dovecot) = dovecot else {
        assert!(
            std::env::var_os("RINGSIDE_REQUIRE_DOVECOT").is_none(),
            "dovecot is not installed"
        );
        eprintln!("skipped: dovecot is not installed (scripts/setup installs it)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    certs(p);
    std::fs::write(
        p.join("passwd"),
        format!("{USER}:{{PLAIN}}{APP_PASSWORD}::::::\n"),
    )
    .unwrap();
    seed(&p.join("home").join(USER).join("Maildir"));
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    // As root, dovecot's own users run the login and mail processes.
    let (internal, login, uid) = if root {
        (
            "dovecot".to_owned(),
            "dovenull".to_owned(),
            "dovecot".to_owned(),
        )
    } else {
        let me = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        (me.clone(), me.clone(), me)
    };
    if root {
        run(Command::new("chown")
            .args(["-R", "dovecot:dovecot"])
            .arg(p.join("home")));
        run(Command::new("chmod").arg("755").arg(p));
    }
    let port = free_port();
    let d = p.display();
    std::fs::write(
        p.join("dovecot.conf"),
        format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             ssl = required\nssl_cert = <{d}/server.pem\nssl_key = <{d}/server.key\n\
             default_internal_user = {internal}\ndefault_internal_group = {internal}\ndefault_login_user = {login}\n\
             auth_mechanisms = plain login\nfirst_valid_uid = 1\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={uid} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             namespace inbox {{\n  inbox = yes\n  mailbox \"All Mail\" {{\n    special_use = \\All\n    auto = create\n  }}\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = 0\n  }}\n  inet_listener imaps {{\n    port = {port}\n    ssl = yes\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        ),
    )
    .unwrap();
    let child = Command::new(dovecot)
        .arg("-F")
        .arg("-c")
        .arg(p.join("dovecot.conf"))
        .spawn()
        .unwrap();
    // Owned at once: Drop kills and waits for it, whatever happens next.
    let dc = Dovecot { dir, port, child };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            // That probe is logged (asynchronously): wait for its line, so
            // tests can count the connections that follow.
            for _ in 0..100 {
                if dc.connections() > 0 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            return Some(dc);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("dovecot did not listen on {port}");
}

impl Dovecot {
    fn server(&self) -> Server {
        Server {
            host: "localhost".into(),
            port: self.port,
        }
    }

    fn ca(&self) -> Vec<Vec<u8>> {
        vec![std::fs::read(self.dir.path().join("ca.pem")).unwrap()]
    }

    fn set_password(&self, password: &str) {
        // dovecot re-reads passwd-file when its mtime changes (whole seconds).
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(
            self.dir.path().join("passwd"),
            format!("{USER}:{{PLAIN}}{password}::::::\n"),
        )
        .unwrap();
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// dovecot's log: `imap-login:` lines for every connection it saw.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// How many connections dovecot has seen (start's readiness probe is one).
    fn connections(&self) -> usize {
        self.log().matches("imap-login:").count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_stores_the_password_and_the_search_returns_the_contacts_messages_newest_first() {
    let Some(dc) = start() else { return };
    let store = Arc::new(MemoryStore::default());
    let m = Mail::new(store.clone(), dc.ca());
    m.connect(&dc.server(), USER, &Secret::new(APP_PASSWORD))
        .await
        .unwrap();
    assert_eq!(
        store
            .get(&mail::account(USER, &dc.server()))
            .unwrap()
            .unwrap()
            .expose(),
        APP_PASSWORD
    );

    let found = m
        .search(&dc.server(), USER, &[CONTACT.into()], 5)
        .await
        .unwrap();
    assert_eq!(found.len(), 5);
    // The newest shared messages: the highest i with i % 7 == 0.
    let newest: Vec<String> = (0..SEEDED)
        .rev()
        .filter(|i| i % 7 == 0)
        .take(5)
        .map(|i| format!("<m{i}@test>"))
        .collect();
    let got: Vec<String> = found
        .iter()
        .map(|h| format!("<{}>", h.message_id))
        .collect();
    assert_eq!(got, newest, "{found:?}");
    assert!(found.windows(2).all(|w| w[0].date >= w[1].date));
    // Every shared message is found (none from others).
    let all = m
        .search(&dc.server(), USER, &[CONTACT.into()], 1000)
        .await
        .unwrap();
    assert_eq!(all.len(), SHARED);
    let decoded = all.iter().find(|h| h.message_id == "m7@test").unwrap();
    assert_eq!(decoded.subject, "Réunion de lundi");

    assert!(m.forget(&dc.server(), USER).await.unwrap());
    assert_eq!(store.get(&mail::account(USER, &dc.server())).unwrap(), None);
    assert!(store.accounts().is_empty(), "{:?}", store.accounts());
    let _ = dc.path();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_revoked_password_refused_port_and_untrusted_certificate_are_told_apart() {
    let Some(dc) = start() else { return };
    let store = Arc::new(MemoryStore::default());
    let m = Mail::new(store.clone(), dc.ca());
    let e = m
        .connect(&dc.server(), USER, &Secret::new("the-google-password"))
        .await
        .unwrap_err();
    assert_eq!(e.failure, MailFailure::WrongPassword, "{e}");
    assert!(!e.detail.contains("the-google-password"));
    assert!(store.accounts().is_empty(), "nothing stored on failure");

    // A password that worked, then changed on the server: revoked, and dropped.
    m.connect(&dc.server(), USER, &Secret::new(APP_PASSWORD))
        .await
        .unwrap();
    // A different length, so dovecot sees the file changed within the same second.
    dc.set_password("zyxwvutsrqponmlkjihg");
    let fresh = Mail::new(store.clone(), dc.ca());
    let e = fresh
        .search(&dc.server(), USER, &[CONTACT.into()], 5)
        .await
        .unwrap_err();
    assert_eq!(e.failure, MailFailure::Revoked, "{e}");
    assert_eq!(
        store.get(&mail::account(USER, &dc.server())).unwrap(),
        None,
        "the source is disconnected"
    );

    let closed = Server {
        host: "127.0.0.1".into(),
        port: free_port(),
    };
    let e = m
        .connect(&closed, USER, &Secret::new(APP_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(e.failure, MailFailure::ConnectionRefused, "{e}");

    let untrusting = Mail::new(Arc::new(MemoryStore::default()), vec![]);
    let e = untrusting
        .connect(&dc.server(), USER, &Secret::new(APP_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(e.failure, MailFailure::TlsInvalid, "{e}");
}

/// The password is tied to its server: stored under the address, host and
/// port (with `host` and `port` attributes); a search on another server (a
/// second dovecot with the same user and password) finds no password, does
/// not reuse the first server's kept connection, and that server sees no
/// connection at all until the agent connects to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_is_only_sent_to_the_server_it_was_typed_for() {
    let Some(a) = start() else { return };
    let Some(b) = start() else { return };
    // Only the readiness probe of `start` so far.
    let b_probes = b.connections();
    let store = Arc::new(MemoryStore::default());
    let m = Mail::new(store.clone(), [a.ca(), b.ca()].concat());
    m.connect(&a.server(), USER, &Secret::new(APP_PASSWORD))
        .await
        .unwrap();
    let key = mail::account(USER, &a.server());
    assert_eq!(key, format!("imap {USER} localhost:{}", a.port));
    assert_eq!(
        store.accounts(),
        vec![key.clone()],
        "one entry, for server A only"
    );
    assert_eq!(
        store.attributes(&key).unwrap(),
        vec![
            ("host".to_owned(), "localhost".to_owned()),
            ("port".to_owned(), a.port.to_string())
        ]
    );
    // A's connection is kept (warm search).
    let on_a = m
        .search(&a.server(), USER, &[CONTACT.into()], 3)
        .await
        .unwrap();
    assert_eq!(on_a.len(), 3);

    // The IMAP server setting now names B: no password, no reused connection.
    let e = m
        .search(&b.server(), USER, &[CONTACT.into()], 3)
        .await
        .unwrap_err();
    assert_eq!(e.failure, MailFailure::NoPassword, "{e}");
    assert!(e.failure.disconnects());
    assert!(e.detail.contains(&format!("localhost:{}", b.port)), "{e}");
    assert!(!e.detail.contains(APP_PASSWORD));
    assert_eq!(b.connections(), b_probes, "B saw a connection: {}", b.log());
    // A's password and connection are untouched.
    assert_eq!(
        store.get(&key).unwrap().unwrap().expose(),
        APP_PASSWORD,
        "A's entry is kept"
    );
    assert_eq!(
        m.search(&a.server(), USER, &[CONTACT.into()], 3)
            .await
            .unwrap(),
        on_a
    );
    // The same host on another port is another server too.
    let other_port = Server {
        host: "LOCALHOST".into(),
        port: b.port,
    };
    assert_eq!(
        m.search(&other_port, USER, &[CONTACT.into()], 3)
            .await
            .unwrap_err()
            .failure,
        MailFailure::NoPassword
    );
    assert_eq!(b.connections(), b_probes, "{}", b.log());

    // The agent types the password for B: now B sees the login, and both
    // servers have their own entry.
    m.connect(&b.server(), USER, &Secret::new(APP_PASSWORD))
        .await
        .unwrap();
    assert!(
        b.log().contains(&format!("Login: user=<{USER}>")),
        "{}",
        b.log()
    );
    assert_eq!(store.accounts().len(), 2);
    assert_eq!(
        m.search(&b.server(), USER, &[CONTACT.into()], 3)
            .await
            .unwrap()
            .len(),
        3
    );
    // Forgetting B leaves A's.
    assert!(m.forget(&b.server(), USER).await.unwrap());
    assert_eq!(store.accounts(), vec![key]);
}

/// An entry stored the old way (the address alone, no server) is never sent
/// to any server: the search finds no password, the server sees no
/// connection, and the old entry is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_stored_without_its_server_is_deleted_never_sent() {
    let Some(dc) = start() else { return };
    let probes = dc.connections();
    let store = Arc::new(MemoryStore::default());
    let legacy = ringside_core::mail::legacy_secret_account(USER);
    assert_eq!(legacy, format!("imap {USER}"));
    store.set(&legacy, &Secret::new(APP_PASSWORD)).unwrap();
    let m = Mail::new(store.clone(), dc.ca());
    let e = m
        .search(&dc.server(), USER, &[CONTACT.into()], 3)
        .await
        .unwrap_err();
    assert_eq!(e.failure, MailFailure::NoPassword, "{e}");
    assert_eq!(
        dc.connections(),
        probes,
        "the server saw a connection: {}",
        dc.log()
    );
    assert!(
        store.accounts().is_empty(),
        "the old entry is deleted: {:?}",
        store.accounts()
    );

    // Connecting (the agent types it again) also clears an old entry.
    store.set(&legacy, &Secret::new(APP_PASSWORD)).unwrap();
    m.connect(&dc.server(), USER, &Secret::new(APP_PASSWORD))
        .await
        .unwrap();
    assert_eq!(store.accounts(), vec![mail::account(USER, &dc.server())]);
    // So does forgetting.
    store.set(&legacy, &Secret::new(APP_PASSWORD)).unwrap();
    assert!(m.forget(&dc.server(), USER).await.unwrap());
    assert!(store.accounts().is_empty());
}

/// The same through the native messaging session: `mail.connect` with a
/// wrong password answers `mail_failed` with the failure the extension maps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_answers_mail_requests_with_the_failure_to_show() {
    use ringside_host::serve::{HostIdentity, Session};
    let Some(dc) = start() else { return };
    let store = Arc::new(MemoryStore::default());
    let mut session =
        Session::new(HostIdentity::current()).with_mail(Mail::new(store.clone(), dc.ca()));
    let hello = session
        .handle(br#"{"id":1,"type":"hello","params":{"versions":[1]}}"#)
        .await;
    assert!(hello.error.is_none());
    let frame = serde_json::json!({
        "id": 2, "type": "mail.connect",
        "params": {"email": USER, "password": "wrong-password-here", "server": {"host": "localhost", "port": dc.port}},
    });
    let r = session.handle(frame.to_string().as_bytes()).await;
    let e = r.error.unwrap();
    assert_eq!(e.name, "mail_failed");
    assert_eq!(e.detail.unwrap()["failure"], "wrong_password");
    let frame = serde_json::json!({
        "id": 3, "type": "mail.connect",
        "params": {"email": USER, "password": APP_PASSWORD, "server": {"host": "localhost", "port": dc.port}},
    });
    let r = session.handle(frame.to_string().as_bytes()).await;
    assert_eq!(r.result.unwrap()["connected"], true);
    let frame = serde_json::json!({
        "id": 4, "type": "mail.search",
        "params": {"email": USER, "addresses": [CONTACT], "limit": 3, "server": {"host": "localhost", "port": dc.port}},
    });
    let r = session
        .handle(frame.to_string().as_bytes())
        .await
        .result
        .unwrap();
    assert_eq!(r["messages"].as_array().unwrap().len(), 3);
    assert!(
        r["see_all"]
            .as_str()
            .unwrap()
            .starts_with("https://mail.google.com/")
    );
}

/// The real Secret Service, when run under `scripts/with-keyring`: the app
/// password's entry carries the server as attributes, so `secret-tool`
/// finds it by host and port, and the account name holds them too.
#[test]
fn the_secret_service_entry_names_its_server() {
    use ringside_host::secrets::OsStore;
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        assert!(
            std::env::var_os("RINGSIDE_REQUIRE_KEYRING").is_none(),
            "RINGSIDE_REQUIRE_KEYRING is set but there is no D-Bus session"
        );
        eprintln!("skipped: no D-Bus session (run under scripts/with-keyring)");
        return;
    }
    let server = Server {
        host: "imap.test-mail.example".into(),
        port: 40_000 + (std::process::id() % 20_000) as u16,
    };
    let email = format!("attr{}@example.com", std::process::id());
    let key = mail::account(&email, &server);
    let store = OsStore;
    let port = server.port.to_string();
    store
        .set_with_attributes(
            &key,
            &Secret::new(APP_PASSWORD),
            &[("host", &server.host), ("port", &port)],
        )
        .unwrap();
    let found = std::process::Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            "ringside",
            "host",
            &server.host,
            "port",
            &port,
        ])
        .output()
        .unwrap();
    let search = std::process::Command::new("secret-tool")
        .args(["search", "service", "ringside", "username", &key])
        .output()
        .unwrap();
    assert!(store.delete(&key).unwrap());
    assert_eq!(String::from_utf8_lossy(&found.stdout), APP_PASSWORD);
    // secret-tool prints the attributes on stderr, the rest on stdout.
    let listed = format!(
        "{}{}",
        String::from_utf8_lossy(&search.stdout),
        String::from_utf8_lossy(&search.stderr)
    );
    assert!(
        listed.contains(&format!("attribute.host = {}", server.host)),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("attribute.port = {port}")),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "attribute.username = imap {email} {}",
            server.label()
        )),
        "{listed}"
    );
}
