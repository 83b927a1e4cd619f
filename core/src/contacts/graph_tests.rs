use serde_json::json;

use super::*;
use crate::contacts::sync::{Step, SyncState};
use crate::context::ApiRoots;

const ROOT: &str = "http://127.0.0.1:9/graph/v1.0";

fn roots() -> ApiRoots {
    let mut r = ApiRoots::under("http://127.0.0.1:9/googleapis");
    r.graph = ROOT.into();
    r
}

fn contact(id: &str, name: &str) -> Value {
    json!({"@odata.etag": format!("W/\"{id}-1\""), "id": id, "displayName": name,
        "givenName": name, "surname": null,
        "emailAddresses": [{"name": name, "address": format!("{id}@contoso.com")}],
        "businessPhones": ["+1 425 555 0100"], "homePhones": [], "mobilePhone": "0612345678",
        "companyName": "Contoso"})
}

#[test]
fn a_graph_contact_keeps_each_number_with_its_slot() {
    let c = from_contact(&contact("AAMk1", "Ana Ruiz")).expect("kept");
    assert_eq!(c.id, "outlook:AAMk1");
    assert_eq!((c.source, c.resource.as_str()), (Source::Outlook, "AAMk1"));
    assert_eq!(c.etag, "W/\"AAMk1-1\"");
    assert_eq!(c.name, "Ana Ruiz");
    assert_eq!(c.emails, ["AAMk1@contoso.com"]);
    assert_eq!(c.organization.as_deref(), Some("Contoso"));
    let phones: Vec<_> = c
        .phones
        .iter()
        .map(|p| (p.raw.as_str(), p.e164.as_deref(), p.kind.as_deref()))
        .collect();
    assert_eq!(
        phones,
        [
            ("0612345678", None, Some("mobile")),
            ("+1 425 555 0100", Some("+14255550100"), Some("work")),
        ],
        "a national number is kept raw, an international one is E.164"
    );
    // No display name: the name parts, then the first email.
    let parts = json!({"id": "x", "givenName": "Bo", "surname": "Li"});
    assert_eq!(from_contact(&parts).expect("kept").name, "Bo Li");
    let only_email = json!({"id": "y", "emailAddresses": [{"address": "z@contoso.com"}]});
    assert_eq!(
        from_contact(&only_email).expect("kept").name,
        "z@contoso.com"
    );
    assert_eq!(from_contact(&json!({"displayName": "no id"})), None);
}

#[test]
fn a_first_run_finds_the_folder_then_follows_graphs_links() {
    let mut s = SyncState::default();
    s.begin();
    assert!(s.needs_folder(Source::Outlook));
    assert_eq!(
        s.url(&roots(), Source::Outlook),
        format!("{ROOT}/me/contacts?$top=1&$select=parentFolderId")
    );
    let folder = json!({"value": [{"id": "c1", "parentFolderId": "AQMk/folder=="}]});
    assert_eq!(
        parse_folder(&folder.to_string()),
        Some(Some("AQMk/folder==".into()))
    );
    assert_eq!(parse_folder(r#"{"value": []}"#), Some(None), "empty");
    assert_eq!(parse_folder("<html>"), None);
    s.folder = Some("AQMk/folder==".into());
    assert!(!s.needs_folder(Source::Outlook));
    let first = s.url(&roots(), Source::Outlook);
    assert_eq!(
        first,
        format!("{ROOT}/me/contactFolders/AQMk%2Ffolder%3D%3D/contacts/delta?$select={SELECT}")
    );

    let next = format!("{ROOT}/me/contactFolders/f/contacts/delta?$skiptoken=abc");
    let body = json!({"value": [contact("a", "Ana")], "@odata.nextLink": next});
    let mut page = parse_page(&body.to_string());
    assert_eq!(s.apply(&mut page, 10), Step::More);
    assert_eq!(
        s.url(&roots(), Source::Outlook),
        next,
        "the next link as is"
    );

    let delta = format!("{ROOT}/me/contactFolders/f/contacts/delta?$deltatoken=d1");
    let body = json!({"value": [contact("b", "Bob"), {"id": "gone", "@removed": {"reason": "deleted"}}],
        "@odata.deltaLink": delta});
    let mut page = parse_page(&body.to_string());
    assert_eq!(page.deletions, ["outlook:gone"]);
    assert_eq!(
        s.apply(&mut page, 20),
        Step::Done {
            sweep_below: Some(1)
        }
    );
    // The next run is incremental, from the delta link.
    s.begin();
    assert!(!s.full);
    assert_eq!(s.url(&roots(), Source::Outlook), delta);
    // An expired delta link: a full run over the same folder.
    s.expired();
    assert!(s.full && s.generation == 2);
    assert_eq!(s.url(&roots(), Source::Outlook), first);
}

fn parse_page(body: &str) -> Page {
    crate::contacts::sync::parse_page(Source::Outlook, &roots(), body).expect("parses")
}

#[test]
fn links_outside_the_graph_root_are_refused() {
    assert!(link_is_under(ROOT, &format!("{ROOT}/me/x?$skiptoken=1")));
    assert!(!link_is_under(ROOT, "https://evil.example/v1.0/me/x"));
    assert!(!link_is_under(ROOT, &format!("{ROOT}.evil.example/me")));
    assert!(!link_is_under(ROOT, "http://127.0.0.1:99/graph/v1.0/me"));
    assert!(!link_is_under(ROOT, &format!("{ROOT}/../../elsewhere")));
    assert!(!link_is_under(ROOT, &format!("{ROOT}/%2E%2E/elsewhere")));
    assert!(!link_is_under(ROOT, &format!("{ROOT}/..\\x")));
    // A root without a path: the host must still end where the root's does.
    let bare = "https://graph.microsoft.com";
    assert!(link_is_under(bare, "https://graph.microsoft.com/v1.0/me/x"));
    assert!(!link_is_under(
        bare,
        "https://graph.microsoft.com.evil.example/v1.0"
    ));
    assert!(!link_is_under(
        bare,
        "https://graph.microsoft.com@evil.example/v1.0"
    ));
    assert!(!link_is_under(
        bare,
        "https://graph.microsoft.com:8443/v1.0"
    ));
    assert!(!link_is_under(
        bare,
        "https://graph.microsoft.com\\@evil.example/"
    ));
    let body = json!({"value": [], "@odata.nextLink": "https://evil.example/steal"});
    assert_eq!(parse_delta_page(ROOT, &body.to_string()), None);
    let no_link = json!({"value": []});
    assert_eq!(
        parse_delta_page(ROOT, &no_link.to_string()),
        None,
        "a page with neither link is not a delta answer"
    );
}

#[test]
fn graph_failures_say_what_to_do() {
    let gone =
        json!({"error": {"code": "SyncStateNotFound", "message": "The sync state is not found."}});
    assert_eq!(
        classify_failure(410, &gone.to_string(), None),
        SyncFailure::ExpiredToken
    );
    let expired = json!({"error": {"code": "syncStateNotFound", "message": "The sync state generation is not found. The delta token is expired and data must be synchronized again."}});
    assert_eq!(
        classify_failure(400, &expired.to_string(), None),
        SyncFailure::ExpiredToken
    );
    let denied = json!({"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}});
    assert_eq!(
        classify_failure(403, &denied.to_string(), None),
        SyncFailure::Api(ApiFailure::InsufficientScope)
    );
    let no_mailbox = json!({"error": {"code": "MailboxNotEnabledForRESTAPI", "message": "The mailbox is either inactive, soft-deleted, or is hosted on-premise."}});
    assert!(matches!(
        classify_failure(404, &no_mailbox.to_string(), None),
        SyncFailure::NoAccess { message } if message.contains("on-premise")
    ));
    let throttled =
        json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}});
    assert_eq!(
        classify_failure(429, &throttled.to_string(), Some("3")),
        SyncFailure::Api(ApiFailure::RateLimited {
            retry_after: Some(3)
        })
    );
    assert!(mailbox_unavailable(401, &no_mailbox.to_string()));
    assert!(!mailbox_unavailable(
        401,
        r#"{"error": {"code": "InvalidAuthenticationToken"}}"#
    ));
    assert!(matches!(
        classify_failure(401, &no_mailbox.to_string(), None),
        SyncFailure::NoAccess { .. }
    ));
    let missing = json!({"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}});
    assert!(folder_gone(404, &missing.to_string()));
    assert!(!folder_gone(404, &no_mailbox.to_string()));
}

#[test]
fn an_outlook_edit_keeps_slots_and_at_most_three_emails() {
    let d = Draft {
        name: "Ana Ruiz".into(),
        phones: vec!["0612".into(), "+34 1".into(), "+34 2".into()],
        emails: vec!["a@x.com".into()],
    };
    let kinds = |raw: &str| match raw {
        "0612" => Some("mobile".to_owned()),
        "+34 1" => Some("home".to_owned()),
        _ => None,
    };
    let body = contact_body(&d, &kinds).expect("fits");
    assert_eq!(body["mobilePhone"], "0612");
    assert_eq!(body["homePhones"], json!(["+34 1"]));
    assert_eq!(
        body["businessPhones"],
        json!(["+34 2"]),
        "new numbers are work numbers"
    );
    assert_eq!(body["emailAddresses"][0]["address"], "a@x.com");
    let four = Draft {
        emails: vec!["1@x".into(), "2@x".into(), "3@x".into(), "4@x".into()],
        ..d
    };
    assert_eq!(
        contact_body(&four, &kinds),
        Err(OutlookLimit::TooManyEmails)
    );
}

#[test]
fn new_numbers_fill_outlooks_free_slots_and_a_sixth_is_refused() {
    let none = |_: &str| None;
    let draft = |n: usize| Draft {
        name: "Ana".into(),
        phones: (1..=n).map(|k| format!("+34 60{k}")).collect(),
        emails: vec![],
    };
    let body = contact_body(&draft(5), &none).expect("fits");
    assert_eq!(body["businessPhones"], json!(["+34 601", "+34 602"]));
    assert_eq!(body["homePhones"], json!(["+34 603", "+34 604"]));
    assert_eq!(body["mobilePhone"], "+34 605");
    assert_eq!(
        contact_body(&draft(6), &none),
        Err(OutlookLimit::TooManyPhones)
    );
    // A third work number spills into a home slot rather than being lost.
    let work = |_: &str| Some("work".to_owned());
    let body = contact_body(&draft(3), &work).expect("fits");
    assert_eq!(body["businessPhones"], json!(["+34 601", "+34 602"]));
    assert_eq!(body["homePhones"], json!(["+34 603"]));
}

#[test]
fn a_saved_link_under_an_old_graph_root_is_dropped_for_a_full_run() {
    let mut s = SyncState::default();
    s.begin();
    s.folder = Some("f".into());
    let delta = format!("{ROOT}/me/contactFolders/f/contacts/delta?$deltatoken=d1");
    let mut page = parse_page(&json!({"value": [], "@odata.deltaLink": delta}).to_string());
    s.apply(&mut page, 1);
    s.begin();
    assert!(!s.rebase(&roots(), Source::Outlook), "same root: kept");
    assert_eq!(s.url(&roots(), Source::Outlook), delta);
    let mut moved = roots();
    moved.graph = "https://graph.microsoft.us/v1.0".into();
    assert!(s.rebase(&moved, Source::Outlook));
    assert!(s.full && s.running && s.sync_token.is_none() && s.folder.is_none());
    assert_eq!(
        s.url(&moved, Source::Outlook),
        "https://graph.microsoft.us/v1.0/me/contacts?$top=1&$select=parentFolderId"
    );
    assert!(
        !s.rebase(&moved, Source::Google),
        "People tokens are not links"
    );
}
