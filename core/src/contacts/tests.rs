//! The contact store's rules: parsing People answers, the sync state machine
//! (full runs, sweeps, sync tokens, expiry, resuming), search and the merge
//! rule for edits.

use serde_json::json;

use super::merge::{Draft, DraftError, Field, changed_fields, is_stale_etag, merge, person_body};
use super::search::{Index, fold};
use super::sync::{Page, Step, SyncFailure, SyncState, classify_failure, parse_page};
use super::*;
use crate::context::ApiRoots;
use crate::context::google::ApiFailure;

fn person(id: &str, name: &str, phones: &[(&str, Option<&str>)], emails: &[&str]) -> Value {
    json!({
        "resourceName": format!("people/{id}"),
        "etag": format!("%E{id}"),
        "names": [{"displayName": name, "metadata": {"primary": true}}],
        "phoneNumbers": phones.iter().map(|(v, c)| match c {
            Some(c) => json!({"value": v, "canonicalForm": c}),
            None => json!({"value": v}),
        }).collect::<Vec<_>>(),
        "emailAddresses": emails.iter().map(|e| json!({"value": e})).collect::<Vec<_>>(),
        "organizations": [{"name": "Acme"}],
    })
}

fn stored(
    source: Source,
    id: &str,
    name: &str,
    phones: &[(&str, Option<&str>)],
    emails: &[&str],
) -> StoredContact {
    from_person(source, &person(id, name, phones, emails)).expect("a person")
}

#[test]
fn phones_keep_e164_from_the_source_and_the_raw_text_when_it_does_not_parse() {
    let c = stored(
        Source::Google,
        "c1",
        "Ana Ruiz",
        &[
            ("612 34 56 78", Some("+34612345678")),
            ("+34 612 34 56 78", None),
            ("ext. 12", None),
            ("+44 20 7946 0958", None),
        ],
        &["Ana@Example.com", "ana@example.com"],
    );
    assert_eq!(c.id, "google:people/c1");
    assert_eq!(c.etag, "%Ec1");
    assert_eq!(
        c.phones,
        vec![
            Phone {
                raw: "612 34 56 78".into(),
                e164: Some("+34612345678".into()),
                kind: None
            },
            Phone {
                raw: "ext. 12".into(),
                e164: None,
                kind: None
            },
            Phone {
                raw: "+44 20 7946 0958".into(),
                e164: Some("+442079460958".into()),
                kind: None
            },
        ],
        "the same number written twice counts once; an unparsable one is kept as written"
    );
    assert_eq!(
        c.emails,
        vec!["Ana@Example.com"],
        "emails compared case-insensitively"
    );
    assert_eq!(c.organization.as_deref(), Some("Acme"));
    assert!(is_e164("+34612345678"));
    assert!(!is_e164("+0612345678") && !is_e164("612345678") && !is_e164("+34 612"));
}

#[test]
fn deleted_or_nameless_people() {
    let gone = json!({"resourceName": "people/c9", "etag": "x", "metadata": {"deleted": true}});
    assert_eq!(from_person(Source::Google, &gone), None);
    assert_eq!(from_person(Source::Google, &json!({"names": []})), None);
    let only_email = json!({"resourceName": "people/c2", "emailAddresses": [{"value": "x@y.com"}],
        "photos": [{"url": "http://insecure/p.jpg"}]});
    let c = from_person(Source::Directory, &only_email).expect("kept");
    assert_eq!(c.name, "x@y.com");
    assert_eq!(c.photo, None, "only https photos");
    assert!(!c.source.editable());
}

fn roots() -> ApiRoots {
    ApiRoots::under("http://127.0.0.1:9/googleapis")
}

#[test]
fn a_full_run_pages_then_sweeps_what_it_did_not_see() {
    let mut s = SyncState::default();
    s.begin();
    assert!(s.full && s.running);
    assert_eq!(s.generation, 1);
    let url = s.url(&roots(), Source::Google);
    assert!(url.starts_with("http://127.0.0.1:9/googleapis/people/v1/people/me/connections?personFields=names,emailAddresses,phoneNumbers,organizations,photos,metadata&pageSize=1000&requestSyncToken=true"), "{url}");
    assert!(!url.contains("&syncToken=") && !url.contains("pageToken="));

    let body = json!({"connections": [person("c1", "Ana", &[], &[])], "nextPageToken": "p/2+", "totalPeople": 2, "totalItems": 2});
    let mut page = parse_page(Source::Google, &roots(), &body.to_string()).expect("parses");
    assert_eq!(s.apply(&mut page, 10), Step::More);
    assert_eq!(page.upserts[0].generation, 1);
    assert_eq!((s.fetched, s.total), (1, Some(2)));
    assert!(
        s.url(&roots(), Source::Google)
            .ends_with("&pageToken=p%2F2%2B"),
        "tokens are encoded"
    );

    let body = json!({"connections": [person("c2", "Bob", &[], &[])], "nextSyncToken": "sync-1"});
    let mut page = parse_page(Source::Google, &roots(), &body.to_string()).expect("parses");
    assert_eq!(
        s.apply(&mut page, 20),
        Step::Done {
            sweep_below: Some(1)
        }
    );
    assert!(!s.running);
    assert_eq!(s.sync_token.as_deref(), Some("sync-1"));
    assert_eq!(s.completed_ms, Some(20));

    // The next run is incremental and never sweeps.
    s.begin();
    assert!(!s.full);
    assert_eq!(s.generation, 1);
    assert!(
        s.url(&roots(), Source::Google)
            .contains("&syncToken=sync-1")
    );
    let body = json!({"connections": [
        {"resourceName": "people/c1", "etag": "e", "metadata": {"deleted": true}},
        person("c2", "Bob Smith", &[], &[]),
    ], "nextSyncToken": "sync-2"});
    let mut page = parse_page(Source::Google, &roots(), &body.to_string()).expect("parses");
    assert_eq!(page.deletions, vec!["google:people/c1"]);
    assert_eq!(s.apply(&mut page, 30), Step::Done { sweep_below: None });
    assert_eq!(s.sync_token.as_deref(), Some("sync-2"));
}

#[test]
fn an_expired_token_restarts_as_a_full_run_and_an_interrupted_run_resumes() {
    let mut s = SyncState {
        sync_token: Some("old".into()),
        generation: 4,
        ..SyncState::default()
    };
    s.begin();
    let expired = json!({"error": {"code": 400, "message": "Sync token is expired. Clear local cache and retry call without the sync token.",
        "status": "FAILED_PRECONDITION",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "EXPIRED_SYNC_TOKEN", "domain": "people.googleapis.com"}]}});
    assert_eq!(
        classify_failure(Source::Google, 400, &expired.to_string(), None),
        SyncFailure::ExpiredToken
    );
    s.expired();
    assert!(s.full && s.running && s.sync_token.is_none());
    assert_eq!(
        s.generation, 5,
        "a new generation: the sweep removes what the full run does not see"
    );

    // A first page, then a 429: the run keeps its page token and resumes there.
    let mut page = Page {
        next_page_token: Some("p2".into()),
        ..Page::default()
    };
    assert_eq!(s.apply(&mut page, 1), Step::More);
    assert_eq!(
        classify_failure(Source::Google, 429, "{}", Some("2")),
        SyncFailure::Api(ApiFailure::RateLimited {
            retry_after: Some(2)
        })
    );
    s.begin();
    assert_eq!(
        s.page_token.as_deref(),
        Some("p2"),
        "begin() while running resumes"
    );
    assert_eq!(s.generation, 5);
}

#[test]
fn failures_that_tell_the_agent_something() {
    let disabled = json!({"error": {"code": 403, "message": "People API has not been used in project 123 before or it is disabled.",
        "status": "PERMISSION_DENIED", "details": [{"reason": "SERVICE_DISABLED"}]}});
    assert!(
        matches!(classify_failure(Source::Google, 403, &disabled.to_string(), None), SyncFailure::NoAccess { message } if message.starts_with("People API"))
    );
    let scope = json!({"error": {"code": 403, "status": "PERMISSION_DENIED", "details": [{"reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}});
    assert_eq!(
        classify_failure(Source::Google, 403, &scope.to_string(), None),
        SyncFailure::Api(ApiFailure::InsufficientScope)
    );
    assert!(matches!(
        classify_failure(Source::Google, 503, "", None),
        SyncFailure::Api(ApiFailure::Server { status: 503, .. })
    ));
}

#[test]
fn the_directory_lists_people_and_its_own_url() {
    let mut s = SyncState::default();
    s.begin();
    let url = s.url(&roots(), Source::Directory);
    assert!(
        url.contains("/people/v1/people:listDirectoryPeople?readMask="),
        "{url}"
    );
    assert!(url.contains("sources=DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE"));
    let body = json!({"people": [person("d1", "Carla", &[("+33 1 23 45 67 89", Some("+33123456789"))], &["carla@corp.example"])], "nextSyncToken": "d"});
    let page = parse_page(Source::Directory, &roots(), &body.to_string()).expect("parses");
    assert_eq!(page.upserts[0].id, "directory:people/d1");
    assert_eq!(parse_page(Source::Directory, &roots(), "not json"), None);
}

fn sample() -> Vec<StoredContact> {
    vec![
        stored(
            Source::Google,
            "c1",
            "Ana Ruiz",
            &[("612 34 56 78", Some("+34612345678"))],
            &["ana@example.com"],
        ),
        stored(
            Source::Google,
            "c2",
            "Élodie Martin",
            &[("01 23 45 67 89", Some("+33123456789"))],
            &["elodie@example.fr"],
        ),
        stored(
            Source::Google,
            "c3",
            "Bob Anders",
            &[("n/a", None)],
            &["bob@corp.example"],
        ),
        // The same person as c1, from the directory.
        stored(
            Source::Directory,
            "d1",
            "Ana Ruiz García",
            &[],
            &["ANA@example.com"],
        ),
        stored(
            Source::Directory,
            "d2",
            "Zoe Anaya",
            &[("+49 30 123456", None)],
            &["zoe@corp.example"],
        ),
    ]
}

fn ids(i: &Index, q: &str) -> Vec<String> {
    i.search(q, 10).into_iter().map(|h| h.id).collect()
}

#[test]
fn search_by_name_fragment_ignores_case_and_accents() {
    let i = Index::new(&sample());
    assert_eq!(fold("Élodie ŒUVRE Straße"), "elodie oeuvre strasse");
    assert_eq!(ids(&i, "elo"), vec!["google:people/c2"]);
    assert_eq!(ids(&i, "MART"), vec!["google:people/c2"]);
    // "ana": Ana Ruiz (name prefix) before Zoe Anaya (word prefix); Ana Ruiz
    // García in the directory is the same person (same email): listed once.
    assert_eq!(
        ids(&i, "ana"),
        vec!["google:people/c1", "directory:people/d2"]
    );
    assert_eq!(
        ids(&i, "ruiz ana"),
        vec!["google:people/c1"],
        "every word must start a name word"
    );
    assert_eq!(
        ids(&i, "an"),
        vec![
            "google:people/c1",
            "google:people/c3",
            "directory:people/d2"
        ]
    );
    assert!(ids(&i, "xyz").is_empty() && ids(&i, "  ").is_empty());
}

#[test]
fn search_by_number_fragment_and_email() {
    let i = Index::new(&sample());
    assert_eq!(
        ids(&i, "612 34"),
        vec!["google:people/c1"],
        "formatting ignored"
    );
    assert_eq!(ids(&i, "+34 612"), vec!["google:people/c1"]);
    assert_eq!(
        ids(&i, "6789"),
        vec!["google:people/c2"],
        "digits anywhere in the number"
    );
    assert_eq!(
        ids(&i, "30 123"),
        vec!["directory:people/d2"],
        "raw numbers are searchable too"
    );
    assert_eq!(
        ids(&i, "12"),
        Vec::<String>::new(),
        "fewer than 3 digits match nothing"
    );
    assert_eq!(ids(&i, "bob@"), vec!["google:people/c3"]);
    assert_eq!(
        ids(&i, "corp.example"),
        vec!["google:people/c3", "directory:people/d2"]
    );
    assert_eq!(i.by_number("+34612345678"), Some("google:people/c1"));
    assert_eq!(i.by_number("+4930123456"), Some("directory:people/d2"));
    assert_eq!(i.by_number("+1555"), None);
    assert_eq!(
        i.by_email("Ana@Example.com"),
        Some("google:people/c1"),
        "the agent's own contact first"
    );
}

#[test]
fn the_index_follows_upserts_and_removals() {
    let mut i = Index::new(&sample());
    i.remove("google:people/c1");
    assert_eq!(
        ids(&i, "ana"),
        vec!["directory:people/d1", "directory:people/d2"]
    );
    i.remove("google:people/nope");
    let mut bob = sample()[2].clone();
    bob.name = "Robert Anders".into();
    i.upsert(&bob);
    assert_eq!(ids(&i, "rob"), vec!["google:people/c3"]);
    assert!(ids(&i, "bob a").is_empty());
    assert_eq!(i.len(), 4);
}

#[test]
fn a_short_query_over_many_contacts_gives_the_best_first() {
    let many: Vec<StoredContact> = (0..3000)
        .map(|n| {
            stored(
                Source::Google,
                &format!("c{n}"),
                &format!("Name{n:04} Person"),
                &[],
                &[],
            )
        })
        .collect();
    let i = Index::new(&many);
    let got = ids(&i, "n");
    let want: Vec<String> = (0..10).map(|n| format!("google:people/c{n}")).collect();
    assert_eq!(got, want);
}

fn draft(name: &str, phones: &[&str], emails: &[&str]) -> Draft {
    Draft {
        name: name.into(),
        phones: phones.iter().map(|s| s.to_string()).collect(),
        emails: emails.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn drafts_are_cleaned_and_checked() {
    let d = draft(
        "  Ana   Ruiz ",
        &["+34 612 34 56 78", "+34612345678", " "],
        &["a@b.com", "A@B.com"],
    );
    assert_eq!(
        d.cleaned(),
        Ok(draft("Ana Ruiz", &["+34 612 34 56 78"], &["a@b.com"]))
    );
    assert_eq!(draft("", &[], &[" "]).cleaned(), Err(DraftError::Empty));
    assert_eq!(
        draft("x", &[], &["nope"]).cleaned(),
        Err(DraftError::BadEmail("nope".into()))
    );
    assert_eq!(
        draft("x", &["call me"], &[]).cleaned(),
        Err(DraftError::BadPhone("call me".into()))
    );
    let body = person_body(&draft("Ana", &["1234"], &[]), Some("%E1"), &|p: &str| {
        (p == "1234").then(|| "work".to_owned())
    });
    assert_eq!(
        body["phoneNumbers"][0]["type"], "work",
        "a number keeps its label"
    );
    assert_eq!(
        changed_fields(&draft("Ana", &["1"], &[]), &draft("Ana", &["1", "2"], &[])),
        "phoneNumbers"
    );
    assert_eq!(
        changed_fields(&draft("Ana", &[], &[]), &draft("Ana", &[], &[])),
        ""
    );
    assert_eq!(body["etag"], "%E1");
    assert_eq!(body["names"][0]["unstructuredName"], "Ana");
    assert_eq!(body["phoneNumbers"][0]["value"], "1234");
}

#[test]
fn merging_an_edit_with_a_newer_version_at_the_source() {
    let base = draft("Ana Ruiz", &["+34 612 34 56 78"], &["ana@example.com"]);
    // The agent renamed and added a number; the source added an email.
    let mine = draft(
        "Ana Ruiz García",
        &["+34 612 34 56 78", "+34 699 00 00 00"],
        &["ana@example.com"],
    );
    let theirs = draft(
        "Ana Ruiz",
        &["+34612345678"],
        &["ana@example.com", "ana@work.example"],
    );
    let m = merge(&base, &mine, &theirs);
    assert_eq!(m.lost, vec![]);
    assert_eq!(
        m.draft,
        draft(
            "Ana Ruiz García",
            &["+34612345678", "+34 699 00 00 00"],
            &["ana@example.com", "ana@work.example"]
        )
    );

    // Both renamed: the source's name stays and the agent is told.
    let theirs = draft("Ana R.", &["+34 612 34 56 78"], &["ana@example.com"]);
    let m = merge(&base, &mine, &theirs);
    assert_eq!(m.lost, vec![Field::Name]);
    assert_eq!(m.draft.name, "Ana R.");

    // The agent removed a number the source kept; the source removed the email.
    let mine = draft("Ana Ruiz", &[], &["ana@example.com"]);
    let theirs = draft("Ana Ruiz", &["+34 612 34 56 78"], &[]);
    assert_eq!(
        merge(&base, &mine, &theirs).draft,
        draft("Ana Ruiz", &[], &[])
    );
}

#[test]
fn a_stale_etag_answer_is_recognised() {
    let body = json!({"error": {"code": 400, "message": "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.", "status": "FAILED_PRECONDITION"}});
    assert!(is_stale_etag(400, &body.to_string()));
    assert!(!is_stale_etag(400, "{}"));
    assert!(!is_stale_etag(412, &body.to_string()));
}

#[test]
fn national_numbers_take_the_hosts_e164_only_when_it_spans_the_whole_text() {
    use crate::protocol::{DetectResult, TextHit};
    let mut contacts = vec![
        crate::contacts::graph::from_contact(&json!({"id": "a", "displayName": "A",
            "mobilePhone": "06 12 34 56 78", "businessPhones": ["+33 1 40 00 00 00", "01 40 00 00 01 ext. 12", "n/a"]}))
        .expect("kept"),
    ];
    let (texts, at) = crate::contacts::unnormalized(&contacts);
    assert_eq!(texts, ["06 12 34 56 78", "01 40 00 00 01 ext. 12", "n/a"]);
    let hit = |i: u32, start: u32, end: u32, e164: &str, ext: Option<&str>| TextHit {
        i,
        start,
        end,
        e164: e164.into(),
        extension: ext.map(str::to_owned),
    };
    let found = DetectResult {
        texts: vec![
            hit(0, 0, 14, "+33612345678", None),
            hit(1, 0, 22, "+33140000001", Some("12")),
        ],
        links: vec![],
    };
    let found = serde_json::to_value(found).expect("serializes");
    crate::contacts::apply_normalized(&mut contacts, &texts, &at, &found);
    let e164: Vec<_> = contacts[0]
        .phones
        .iter()
        .map(|p| p.e164.as_deref())
        .collect();
    assert_eq!(
        e164,
        [Some("+33612345678"), Some("+33140000000"), None, None],
        "an extension or no match keeps the raw text only"
    );
}

#[test]
fn contacts_are_normalized_when_the_source_types_numbers_or_one_lacks_e164() {
    let parsed = stored(
        Source::Google,
        "c1",
        "Ana",
        &[("612 34 56 78", Some("+34612345678"))],
        &[],
    );
    let national = stored(Source::Google, "c2", "Bo", &[("01 23 45 67 89", None)], &[]);
    let google = backend::of(Source::Google);
    assert!(!must_normalize(google, std::slice::from_ref(&parsed)));
    assert!(!must_normalize(google, &[]));
    assert!(must_normalize(google, &[parsed.clone(), national]));
    // Outlook gives every number as typed: always normalised, even when a
    // number looks like E.164 already.
    assert!(must_normalize(backend::of(Source::Outlook), &[parsed]));
}
