use super::*;

#[test]
fn app_passwords_are_16_letters_spaces_ignored() {
    assert_eq!(
        normalize_app_password("abcd efgh ijkl mnop"),
        ("abcdefghijklmnop".into(), None)
    );
    assert_eq!(
        normalize_app_password("hunter2").1,
        Some(AppPasswordWarning::Length { got: 7 })
    );
    assert_eq!(
        normalize_app_password("abcd efgh ijkl mn0p").1,
        Some(AppPasswordWarning::NotLetters)
    );
}

#[test]
fn gmail_answers_map_to_what_the_agent_can_do() {
    let wrong = "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)";
    assert_eq!(classify_login(wrong, false), MailFailure::WrongPassword);
    assert_eq!(classify_login(wrong, true), MailFailure::Revoked);
    assert!(MailFailure::Revoked.disconnects());
    let alert = "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)";
    assert_eq!(
        classify_login(alert, false),
        MailFailure::AppPasswordRequired
    );
    assert_eq!(
        classify_login("NO [UNAVAILABLE] try later", false),
        MailFailure::Other
    );
    for f in [
        MailFailure::WrongPassword,
        MailFailure::AppPasswordRequired,
        MailFailure::Revoked,
        MailFailure::ConnectionRefused,
        MailFailure::TlsInvalid,
        MailFailure::Timeout,
        MailFailure::Other,
        MailFailure::HostMissing,
        MailFailure::NoPassword,
        MailFailure::ServerChanged,
    ] {
        assert!(MESSAGE_KEYS.contains(&f.message_key()));
    }
}

#[test]
fn the_search_ors_every_address_and_refuses_injection() {
    let q = search_criteria(&["ana@example.com".into()]).unwrap();
    assert_eq!(
        q,
        r#"OR OR FROM "ana@example.com" TO "ana@example.com" CC "ana@example.com""#
    );
    let two = search_criteria(&["a@x.com".into(), "b@y.com".into()]).unwrap();
    assert_eq!(two.matches("OR ").count(), 5);
    assert_eq!(
        search_criteria(&["x\" OR ALL \"@evil".into(), "not-an-address".into()]),
        None
    );
    assert!(gmail_search_url(&["ana@example.com".into()]).starts_with(
        "https://mail.google.com/mail/u/0/#search/from%3Aana%40example.com+OR+to%3Aana%40example.com"
    ));
}

#[test]
fn host_answers_become_what_the_agent_is_told() {
    use crate::protocol::{ErrorBody, ErrorCode};
    let e = ErrorBody::new(ErrorCode::MailFailed, "login refused").with_detail(
        serde_json::json!({"failure": "revoked", "detail": "NO [AUTHENTICATIONFAILED] Invalid credentials"}),
    );
    assert_eq!(
        failure_of(&e),
        (
            MailFailure::Revoked,
            "NO [AUTHENTICATIONFAILED] Invalid credentials".into()
        )
    );
    let missing = ErrorBody::new(ErrorCode::Internal, "the native host is not connected");
    assert_eq!(failure_of(&missing).0, MailFailure::HostMissing);
    let old = ErrorBody::new(ErrorCode::UnknownType, "unknown type mail.connect");
    assert_eq!(failure_of(&old).0, MailFailure::HostMissing);

    let mut view = MailView::default();
    view.connected("ana@example.com".into(), MailServer::default());
    view.failed(MailFailure::Timeout, "timed out".into());
    assert_eq!(view.connected.as_deref(), Some("ana@example.com"));
    view.failed(MailFailure::Revoked, "NO".into());
    assert_eq!(
        format!("{:?}", AppPassword::new("abcdefghijklmnop")),
        "[redacted]"
    );
    assert_eq!(view.connected, None, "a revoked password disconnects");
    assert_eq!(view.failure, Some(MailFailure::Revoked));
}

fn server(host: &str, port: u16) -> MailServer {
    MailServer {
        host: host.into(),
        port,
    }
}

#[test]
fn the_password_is_keyed_by_address_host_and_port() {
    let gmail = MailServer::default();
    assert_eq!(
        secret_account(" Ana@Example.com ", &gmail),
        "imap ana@example.com imap.gmail.com:993"
    );
    // Another host, or the same host on another port: another entry.
    assert_ne!(
        secret_account("ana@example.com", &gmail),
        secret_account("ana@example.com", &server("imap.evil.example", 993))
    );
    assert_ne!(
        secret_account("ana@example.com", &server("localhost", 1993)),
        secret_account("ana@example.com", &server("localhost", 1994))
    );
    // DNS names are case-insensitive: the same server.
    assert_eq!(
        secret_account("ana@example.com", &server("IMAP.Gmail.com", 993)),
        secret_account("ana@example.com", &gmail)
    );
    // The old entry (address alone) is a different account, never looked up.
    assert_eq!(
        legacy_secret_account("Ana@example.com"),
        "imap ana@example.com"
    );
    assert_ne!(
        legacy_secret_account("ana@example.com"),
        secret_account("ana@example.com", &gmail)
    );
    assert_eq!(MailServer::or_default(None), gmail);
}

#[test]
fn a_changed_server_disconnects_the_source_and_says_so() {
    let a = server("localhost", 1993);
    let b = server("localhost", 1994);
    let mut view = MailView::default();
    assert_eq!(view.follow_server(&b), ServerCheck::Same, "not connected");
    view.connected("ana@example.com".into(), a.clone());
    assert_eq!(
        view.follow_server(&server("LOCALHOST", 1993)),
        ServerCheck::Same
    );
    assert_eq!(view.connected.as_deref(), Some("ana@example.com"));

    assert_eq!(
        view.follow_server(&b),
        ServerCheck::Changed {
            forget: Some(a.clone())
        }
    );
    assert_eq!(view.connected, None, "the connect form is shown again");
    assert_eq!(view.server, None);
    assert_eq!(view.failure, Some(MailFailure::ServerChanged));
    assert_eq!(view.detail.as_deref(), Some("localhost:1994"));
    assert_eq!(
        view.reconnect_needed(),
        Some((MailFailure::ServerChanged, "localhost:1994".into()))
    );
    assert_eq!(
        MailFailure::ServerChanged.message_key(),
        "mailServerChanged"
    );
    // Checked again: nothing more to do.
    assert_eq!(view.follow_server(&b), ServerCheck::Same);

    // A source saved before passwords were tied to servers records none:
    // it is not trusted with any server.
    let mut old = MailView {
        connected: Some("ana@example.com".into()),
        ..MailView::default()
    };
    assert_eq!(
        old.follow_server(&MailServer::default()),
        ServerCheck::Changed { forget: None }
    );
    assert_eq!(old.connected, None);
    assert_eq!(old.failure, Some(MailFailure::NoPassword));

    // The host has no password for the server: disconnected, connect again.
    let mut v = MailView::default();
    v.connected("ana@example.com".into(), a);
    v.failed(MailFailure::NoPassword, "none".into());
    assert_eq!(
        v.reconnect_needed().map(|r| r.0),
        Some(MailFailure::NoPassword)
    );
    assert_eq!((v.connected.clone(), v.server.clone()), (None, None));
    // Connected again: nothing to ask.
    v.connected("ana@example.com".into(), b);
    assert_eq!(v.reconnect_needed(), None);
}

#[test]
fn the_saved_source_comes_back_with_its_server_or_none() {
    let gmail = MailServer::default();
    let mut v = MailView::default();
    assert!(v.restore(&saved_source("ana@example.com", &gmail)));
    assert_eq!(v.connected.as_deref(), Some("ana@example.com"));
    assert_eq!(v.server, Some(gmail));
    let mut old = MailView::default();
    assert!(old.restore(&serde_json::json!({"email": "ana@example.com"})));
    assert_eq!(old.server, None, "saved by an older version: no server");
    assert!(!MailView::default().restore(&serde_json::Value::Null));
}

#[test]
fn connecting_cleans_the_address_and_password_and_clears_the_last_failure() {
    let mut v = MailView {
        failure: Some(MailFailure::WrongPassword),
        detail: Some("no".into()),
        ..MailView::default()
    };
    let p = v.connecting(
        " Ana@Example.com ",
        &AppPassword::new("abcd efgh ijkl mnop"),
        server("imap.example.com", 993),
    );
    assert_eq!(p.email, "ana@example.com");
    assert_eq!(p.password.expose(), "abcdefghijklmnop");
    assert_eq!(p.server, Some(server("imap.example.com", 993)));
    assert_eq!(v.connecting.as_deref(), Some("ana@example.com"));
    assert_eq!((v.failure, v.detail), (None, None));
}

#[test]
fn searches_and_forgets_name_the_sources_own_server() {
    let mut v = MailView::default();
    assert!(v.search_params(vec![], 5).is_err());
    assert_eq!(v.forget_params(), None);
    v.connected("ana@example.com".into(), server("imap.example.com", 993));
    let p = v.search_params(vec!["bob@x.com".into()], 5).unwrap();
    assert_eq!(p.server, Some(server("imap.example.com", 993)));
    assert_eq!(p.limit, 5);
    assert_eq!(
        v.forget_params().unwrap().server,
        Some(server("imap.example.com", 993))
    );
    // After a server change: the old one's password, else the current
    // server's entry (the old way).
    let old = Some(server("old.example.com", 993));
    let cur = server("new.example.com", 993);
    assert_eq!(
        forget_after_change("a".into(), old.clone(), cur.clone()).server,
        old
    );
    assert_eq!(
        forget_after_change("a".into(), None, cur.clone()).server,
        Some(cur)
    );
}

#[test]
fn the_search_answer_is_read_or_said() {
    let ok = search_answer(Ok(serde_json::json!({"messages": [], "see_all": "u"})));
    assert_eq!(ok.unwrap().see_all, "u");
    let bad = search_answer(Ok(serde_json::json!(3)));
    assert_eq!(bad.unwrap_err().0, MailFailure::Other);
    let missing = search_answer(Err(crate::protocol::ErrorBody::new(
        crate::protocol::ErrorCode::Internal,
        "the native host is not connected",
    )));
    assert_eq!(missing.unwrap_err().0, MailFailure::HostMissing);
}
