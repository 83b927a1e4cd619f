//! Every message decodes from its text as the derived (internally tagged)
//! decoder reads it, and what that decoder refuses is refused.

use serde_json::json;

use super::*;
use crate::secret::Secret;

fn one_shots() -> Vec<OneShot> {
    let draft = Draft {
        name: "Ana".into(),
        phones: vec!["+34612345678".into()],
        ..Draft::default()
    };
    vec![
        OneShot::ContentHello { wasm: true },
        OneShot::State,
        OneShot::ContextContact {
            query: ContactQuery::Phone("+34612345678".into()),
        },
        OneShot::ContextSection {
            integration: Integration::Drive,
            emails: vec!["a@example.com".into()],
        },
        OneShot::ContextPresence {
            email: "a@example.com".into(),
        },
        OneShot::ContextConnect {
            integration: Integration::Gmail,
        },
        OneShot::ContextDisconnect {
            integration: Integration::Calendar,
        },
        OneShot::ContextConnected,
        OneShot::ShowContact {
            number: "01 23".into(),
        },
        OneShot::ContactsSearch { query: "an".into() },
        OneShot::ContactsSave {
            id: Some("people/c1".into()),
            draft: draft.clone(),
            base: Some(draft),
            etag: Some("e1".into()),
        },
        OneShot::HistorySearch {
            query: "ana".into(),
        },
        OneShot::Detect {
            texts: vec!["call 01 23 45 67 89".into()],
            links: vec!["tel:+33123456789".into()],
        },
        OneShot::ContentScanned {
            ms: 12.5,
            marked: 3,
        },
        OneShot::Dial {
            number: Some("+33123456789".into()),
            uri: None,
            extension: Some("12".into()),
            display: "01 23 45 67 89".into(),
        },
    ]
}

fn commands() -> Vec<UiCommand> {
    vec![
        UiCommand::Retry,
        UiCommand::Hangup,
        UiCommand::Answer,
        UiCommand::SaveWrapup {
            id: "c1".into(),
            tags: "a, b".into(),
            note: "n".into(),
        },
        UiCommand::DismissNotice,
        UiCommand::SetSite {
            origin: "https://a.test".into(),
            enabled: false,
        },
        UiCommand::SaveOptions {
            options: json!({"defaultRegion": "FR", "n": [1, 2.5]}),
        },
        UiCommand::SignIn {
            provider: ProviderKind::Microsoft,
        },
        UiCommand::SignIn {
            provider: ProviderKind::Sso,
        },
        UiCommand::SignInPassword {
            email: "boss@example.com".into(),
            password: Secret::new("pass word"),
        },
        UiCommand::SignOut,
        UiCommand::RefreshSession,
        UiCommand::ContactsSync,
        UiCommand::DialNumber {
            number: "+33123456789".into(),
        },
        UiCommand::ConfirmDial { id: "h1".into() },
        UiCommand::CancelDial { id: "h1".into() },
        UiCommand::MailConnect {
            email: "a@example.com".into(),
            password: Secret::new("abcdabcdabcdabcd"),
        },
        UiCommand::MailDisconnect,
        UiCommand::ToggleHold,
        UiCommand::ToggleMute,
        UiCommand::SendDtmf {
            digits: "12#".into(),
        },
        UiCommand::SwapCalls,
        UiCommand::EndCall {
            call_id: "9c49c51a1e2f6cd8".into(),
        },
        UiCommand::Transfer {
            target: "sip:third@127.0.0.1:5062".into(),
        },
        UiCommand::Consult {
            target: "+33987654321".into(),
        },
        UiCommand::CompleteTransfer,
        UiCommand::ReturnToCaller,
        UiCommand::SetDnd { on: true },
    ]
}

#[test]
fn every_message_decodes_as_the_derived_decoder_reads_it() {
    for m in one_shots() {
        let text = serde_json::to_string(&m).expect("encodes");
        let derived: OneShot = serde_json::from_str(&text).expect("derived decodes");
        assert_eq!(OneShot::from_json(&text).ok(), Some(derived), "{text}");
    }
    for c in commands() {
        let text = serde_json::to_string(&c).expect("encodes");
        let derived: UiCommand = serde_json::from_str(&text).expect("derived decodes");
        assert_eq!(UiCommand::from_json(&text).ok(), Some(derived), "{text}");
    }
}

#[test]
fn the_type_may_come_anywhere_and_unknown_keys_are_ignored() {
    let text = r#"{"marked": 2, "extra": {"x": 1}, "ms": 1, "type": "content.scanned"}"#;
    assert_eq!(
        OneShot::from_json(text).ok(),
        Some(OneShot::ContentScanned { ms: 1.0, marked: 2 })
    );
    let text = r#"{"type": "state", "tab": 3}"#;
    assert_eq!(OneShot::from_json(text).ok(), Some(OneShot::State));
    let text = r#"{"type": "retry", "why": "x"}"#;
    assert_eq!(UiCommand::from_json(text).ok(), Some(UiCommand::Retry));
}

#[test]
fn what_the_derived_decoder_refuses_is_refused() {
    let hostile = [
        "null",
        "[]",
        r#"{"wasm": true}"#,
        r#"{"type": 3}"#,
        r#"{"type": "nope"}"#,
        r#"{"type": "dial", "number": "1"}"#,
        r#"{"type": "content.scanned", "ms": "1", "marked": 2}"#,
        r#"{"type": "contacts.save", "draft": null}"#,
        r#"{"type": "\"}, \"state\": {"}"#,
    ];
    for text in hostile {
        assert!(serde_json::from_str::<OneShot>(text).is_err(), "{text}");
        assert!(OneShot::from_json(text).is_err(), "{text}");
        assert!(UiCommand::from_json(text).is_err(), "{text}");
    }
    let text = r#"{"type": "set_site", "origin": "https://a.test"}"#;
    assert!(serde_json::from_str::<UiCommand>(text).is_err());
    assert!(UiCommand::from_json(text).is_err());
}
