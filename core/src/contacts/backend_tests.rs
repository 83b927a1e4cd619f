//! Each backend's requests, one per question the sync and the save ask.

use super::*;
use crate::api::GRAPH_ROOT;

fn roots() -> ApiRoots {
    ApiRoots::under("http://api.test")
}

#[test]
fn each_source_has_its_backend() {
    for s in Source::ALL {
        assert_eq!(of(s).source(), s);
    }
    assert!(of(Source::Outlook).numbers_as_typed());
    assert!(!of(Source::Google).numbers_as_typed());
    assert_eq!(
        of(Source::Google).write_scope(),
        "https://www.googleapis.com/auth/contacts"
    );
    assert_eq!(of(Source::Outlook).write_scope(), "Contacts.ReadWrite");
}

#[test]
fn people_pages_carry_their_tokens() {
    let st = SyncState {
        sync_token: Some("s/1".into()),
        page_token: Some("p 2".into()),
        ..SyncState::default()
    };
    let url = of(Source::Google).page_url(&st, &roots());
    assert!(url.starts_with("http://api.test/people/v1/people/me/connections?"));
    assert!(url.ends_with("&syncToken=s%2F1&pageToken=p+2"), "{url}");
    let url = of(Source::Directory).page_url(&SyncState::default(), &roots());
    assert!(url.contains("people:listDirectoryPeople"));
    assert!(of(Source::Google).page_headers(&st).is_empty());
}

#[test]
fn graph_finds_its_folder_then_follows_its_links_with_a_page_size() {
    let g = of(Source::Outlook);
    let st = SyncState::default();
    assert_eq!(g.page_url(&st, &roots()), graph::folder_url(GRAPH_ROOT));
    assert!(
        g.page_headers(&st).is_empty(),
        "the folder request has no page size"
    );
    let st = SyncState {
        folder: Some("F1".into()),
        ..SyncState::default()
    };
    assert_eq!(
        g.page_url(&st, &roots()),
        graph::delta_url(GRAPH_ROOT, "F1")
    );
    assert_eq!(g.page_headers(&st), vec![graph::prefer()]);
    let st = SyncState {
        sync_token: Some(format!("{GRAPH_ROOT}/delta?token=1")),
        ..st
    };
    assert_eq!(
        g.page_url(&st, &roots()),
        format!("{GRAPH_ROOT}/delta?token=1")
    );
}

#[test]
fn stale_etags_as_each_api_says_them() {
    let people = of(Source::Google);
    let stale = r#"{"error":{"status":"FAILED_PRECONDITION","message":"Request person.etag is different"}}"#;
    assert!(people.stale(400, stale));
    assert!(!people.stale(412, ""));
    let g = of(Source::Outlook);
    assert!(g.stale(412, ""));
    assert!(g.stale(409, r#"{"error":{"code":"ErrorIrresolvableConflict"}}"#));
    assert!(!g.stale(409, r#"{"error":{"code":"Other"}}"#));
    assert!(!g.stale(400, stale));
}
