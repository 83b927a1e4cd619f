//! The contact save, one test per rule: each source, each refusal, the
//! scope, each conflict outcome.

use serde_json::{Value, json};

use super::*;
use crate::contacts::from_person;
use crate::contacts::graph::from_contact;

const PEOPLE_SCOPE: &str = "openid https://www.googleapis.com/auth/contacts";
const GRAPH_SCOPE: &str = "openid Contacts.ReadWrite";

fn roots() -> ApiRoots {
    ApiRoots::under("http://api.test")
}

fn person(name: &str, etag: &str, phones: &[&str]) -> Value {
    json!({
        "resourceName": "people/c1",
        "etag": etag,
        "names": [{"displayName": name, "metadata": {"primary": true}}],
        "phoneNumbers": phones.iter().map(|p| json!({"value": p, "type": "mobile"})).collect::<Vec<_>>(),
        "emailAddresses": [{"value": "mateo@example.com"}],
    })
}

fn stored_person(name: &str, etag: &str) -> StoredContact {
    from_person(Source::Google, &person(name, etag, &["+34600000001"])).unwrap()
}

fn outlook(name: &str, etag: &str, phone: &str) -> Value {
    json!({
        "id": "AAMk1",
        "@odata.etag": etag,
        "displayName": name,
        "businessPhones": [phone],
        "emailAddresses": [{"address": "olivia@example.com"}],
    })
}

fn stored_outlook(name: &str, etag: &str) -> StoredContact {
    from_contact(&outlook(name, etag, "06 12 34 56 78")).unwrap()
}

fn draft(name: &str, phones: &[&str], emails: &[&str]) -> Draft {
    Draft {
        name: name.into(),
        phones: phones.iter().map(|p| (*p).to_owned()).collect(),
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
    }
}

fn edit(stored: &StoredContact, d: Draft) -> SaveRequest {
    SaveRequest {
        id: Some(stored.id.clone()),
        base: Some(Draft::of(stored)),
        etag: Some(stored.etag.clone()),
        draft: d,
    }
}

fn ok(status: u16, body: Value) -> Result<HttpAnswer, Unanswered> {
    Ok(HttpAnswer::new(status, body.to_string()))
}

fn stale_people() -> Result<HttpAnswer, Unanswered> {
    ok(
        400,
        json!({"error": {"code": 400, "status": "FAILED_PRECONDITION",
            "message": "Request person.etag is different than the current person.etag. Clear local cache and get the latest person."}}),
    )
}

fn sent(step: &SaveStep) -> &HttpRequest {
    match step {
        SaveStep::Send(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn done(step: SaveStep) -> SaveDone {
    match step {
        SaveStep::Done(d) => d,
        other => panic!("expected the end, got {other:?}"),
    }
}

fn start(
    kind: ProviderKind,
    req: SaveRequest,
    stored: Option<StoredContact>,
    granted: &str,
) -> (Option<ContactSave>, SaveStep) {
    ContactSave::start(kind, req, stored, granted, roots())
}

#[test]
fn another_provider_has_no_contacts_to_write() {
    let (flow, step) = start(ProviderKind::Oidc, SaveRequest::default(), None, "");
    assert!(flow.is_none());
    assert_eq!(done(step).answer, SaveAnswer::SignedOut);
}

#[test]
fn an_invalid_draft_is_answered_before_anything_is_sent() {
    let req = SaveRequest {
        draft: draft("", &[], &["not-an-email"]),
        ..SaveRequest::default()
    };
    let (_, step) = start(ProviderKind::Google, req, None, PEOPLE_SCOPE);
    assert_eq!(
        done(step).answer,
        SaveAnswer::Invalid {
            key: "contactInvalidEmail".into(),
            subs: vec!["not-an-email".into()]
        }
    );
}

#[test]
fn a_contact_no_longer_stored_is_gone() {
    let req = SaveRequest {
        id: Some("google:people/c9".into()),
        draft: draft("X", &[], &[]),
        ..SaveRequest::default()
    };
    let (_, step) = start(ProviderKind::Google, req, None, PEOPLE_SCOPE);
    assert_eq!(done(step).answer, SaveAnswer::Gone);
}

#[test]
fn a_directory_entry_or_another_sources_contact_is_read_only() {
    let mut dir = stored_person("Dir Entry", "%E1");
    dir.source = Source::Directory;
    let (_, step) = start(
        ProviderKind::Google,
        edit(&dir, draft("New", &[], &[])),
        Some(dir.clone()),
        PEOPLE_SCOPE,
    );
    assert_eq!(done(step).answer, SaveAnswer::ReadOnly);
    // A Microsoft agent cannot write a Google contact.
    let google = stored_person("Mateo", "%E1");
    let (_, step) = start(
        ProviderKind::Microsoft,
        edit(&google, draft("New", &[], &[])),
        Some(google),
        GRAPH_SCOPE,
    );
    assert_eq!(done(step).answer, SaveAnswer::ReadOnly);
}

#[test]
fn the_write_scope_is_asked_once_when_missing() {
    let req = SaveRequest {
        draft: draft("Nina", &["+34600000002"], &[]),
        ..SaveRequest::default()
    };
    let (flow, step) = start(ProviderKind::Google, req.clone(), None, "openid email");
    assert_eq!(
        step,
        SaveStep::AddScope("https://www.googleapis.com/auth/contacts")
    );
    let mut flow = flow.unwrap();
    let step = flow.scope_added(Ok(()));
    assert!(sent(&step).url.contains("people:createContact"));
    // Microsoft's scope for a Microsoft agent.
    let (_, step) = start(ProviderKind::Microsoft, req, None, "openid");
    assert_eq!(step, SaveStep::AddScope("Contacts.ReadWrite"));
}

#[test]
fn a_refused_scope_is_the_answer() {
    let req = SaveRequest {
        draft: draft("Nina", &[], &["nina@example.com"]),
        ..SaveRequest::default()
    };
    let (flow, _) = start(ProviderKind::Google, req, None, "openid");
    let step = flow.unwrap().scope_added(Err(Notice {
        key: "signInCancelled".into(),
        subs: vec!["a".into(), "b".into()],
    }));
    assert_eq!(
        done(step).answer,
        SaveAnswer::Failed {
            key: "signInCancelled".into(),
            detail: "a b".into()
        }
    );
}

#[test]
fn a_new_google_contact_is_created_and_kept() {
    let req = SaveRequest {
        draft: draft("Mateo", &["+34600000001"], &["mateo@example.com"]),
        ..SaveRequest::default()
    };
    let (flow, step) = start(ProviderKind::Google, req, None, PEOPLE_SCOPE);
    let r = sent(&step);
    assert_eq!(r.method, None, "a POST");
    assert_eq!(
        r.url,
        format!(
            "http://api.test/people/v1/people:createContact?personFields={}",
            crate::contacts::sync::PERSON_FIELDS
        )
    );
    let mut flow = flow.unwrap();
    let d = done(flow.answer(ok(200, person("Mateo", "%E1", &["+34600000001"]))));
    let kept = d.keep.expect("kept");
    assert_eq!(kept.id, "google:people/c1");
    assert!(matches!(d.answer, SaveAnswer::Saved { ref lost, .. } if lost.is_empty()));
}

#[test]
fn a_google_number_people_could_not_parse_is_normalised_before_it_is_kept() {
    // People answers with no `canonicalForm` for a national number: it
    // goes through the worker's normalisation, as Outlook's do.
    let req = SaveRequest {
        draft: draft("Claire", &["01 23 45 67 89"], &[]),
        ..SaveRequest::default()
    };
    let (flow, _) = start(ProviderKind::Google, req, None, PEOPLE_SCOPE);
    let mut flow = flow.unwrap();
    let step = flow.answer(ok(200, person("Claire", "%E1", &["01 23 45 67 89"])));
    let SaveStep::Normalize(mut c) = step else {
        panic!("expected normalisation, got {step:?}");
    };
    c.phones[0].e164 = Some("+33123456789".into());
    let kept = done(flow.normalized(c)).keep.unwrap();
    assert_eq!(kept.phones[0].e164.as_deref(), Some("+33123456789"));
}

#[test]
fn a_failed_create_says_its_status() {
    let req = SaveRequest {
        draft: draft("Mateo", &[], &["mateo@example.com"]),
        ..SaveRequest::default()
    };
    let (flow, _) = start(ProviderKind::Google, req, None, PEOPLE_SCOPE);
    let d = done(flow.unwrap().answer(ok(500, json!({}))));
    assert_eq!(
        d.answer,
        SaveAnswer::Failed {
            key: "contactSaveFailed".into(),
            detail: "HTTP 500".into()
        }
    );
    assert_eq!(d.keep, None);
}

#[test]
fn no_answer_is_signed_out_or_a_network_failure() {
    let req = SaveRequest {
        draft: draft("Mateo", &[], &["mateo@example.com"]),
        ..SaveRequest::default()
    };
    let (flow, _) = start(ProviderKind::Google, req.clone(), None, PEOPLE_SCOPE);
    assert_eq!(
        done(flow.unwrap().answer(Err(Unanswered::SignedOut))).answer,
        SaveAnswer::SignedOut
    );
    let (flow, _) = start(ProviderKind::Google, req, None, PEOPLE_SCOPE);
    assert_eq!(
        done(
            flow.unwrap()
                .answer(Err(Unanswered::Network("offline".into())))
        )
        .answer,
        SaveAnswer::Failed {
            key: "contactSaveFailed".into(),
            detail: "offline".into()
        }
    );
}

#[test]
fn an_edit_sends_only_the_changed_fields_with_the_editors_etag() {
    let s = stored_person("Mateo", "%E1");
    let (flow, step) = start(
        ProviderKind::Google,
        edit(
            &s,
            draft("Mateo Ruiz", &["+34600000001"], &["mateo@example.com"]),
        ),
        Some(s.clone()),
        PEOPLE_SCOPE,
    );
    let r = sent(&step);
    assert_eq!(r.method.as_deref(), Some("PATCH"));
    assert!(
        r.url
            .contains("people/c1:updateContact?updatePersonFields=names&")
    );
    let body = r.json.as_ref().unwrap();
    assert_eq!(body["etag"], "%E1");
    // The number keeps its label.
    assert_eq!(body["phoneNumbers"][0]["type"], "mobile");
    let d = done(
        flow.unwrap()
            .answer(ok(200, person("Mateo Ruiz", "%E2", &["+34600000001"]))),
    );
    assert_eq!(d.keep.unwrap().etag, "%E2");
}

#[test]
fn an_edit_that_changes_nothing_sends_nothing() {
    let s = stored_person("Mateo", "%E1");
    let (_, step) = start(
        ProviderKind::Google,
        edit(&s, Draft::of(&s)),
        Some(s.clone()),
        PEOPLE_SCOPE,
    );
    let d = done(step);
    assert_eq!(d.keep, None);
    assert!(matches!(d.answer, SaveAnswer::Saved { ref contact, .. } if contact.name == "Mateo"));
}

#[test]
fn a_contact_deleted_at_the_source_is_gone_and_dropped() {
    let s = stored_person("Mateo", "%E1");
    let (flow, _) = start(
        ProviderKind::Google,
        edit(&s, draft("New", &["+34600000001"], &["mateo@example.com"])),
        Some(s.clone()),
        PEOPLE_SCOPE,
    );
    let d = done(flow.unwrap().answer(ok(404, json!({}))));
    assert_eq!(d.answer, SaveAnswer::Gone);
    assert_eq!(d.forget.as_deref(), Some("google:people/c1"));
}

#[test]
fn a_refusal_that_is_not_a_conflict_is_a_failure() {
    let s = stored_person("Mateo", "%E1");
    let (flow, _) = start(
        ProviderKind::Google,
        edit(&s, draft("New", &["+34600000001"], &["mateo@example.com"])),
        Some(s.clone()),
        PEOPLE_SCOPE,
    );
    let d = done(
        flow.unwrap()
            .answer(ok(403, json!({"error": {"status": "PERMISSION_DENIED"}}))),
    );
    assert_eq!(
        d.answer,
        SaveAnswer::Failed {
            key: "contactSaveFailed".into(),
            detail: "HTTP 403".into()
        }
    );
}

/// The agent renamed and added a number; meanwhile the source renamed too.
fn conflicted_people() -> ContactSave {
    let s = stored_person("Mateo", "%E1");
    let (flow, _) = start(
        ProviderKind::Google,
        edit(
            &s,
            draft(
                "Mateo Mine",
                &["+34600000001", "+34600000009"],
                &["mateo@example.com"],
            ),
        ),
        Some(s.clone()),
        PEOPLE_SCOPE,
    );
    flow.unwrap()
}

#[test]
fn a_stale_etag_rereads_merges_and_sends_once_more() {
    let mut flow = conflicted_people();
    let get = flow.answer(stale_people());
    let r = sent(&get);
    assert_eq!(r.method, None);
    assert!(r.url.ends_with(&format!(
        "/people/c1?personFields={}",
        crate::contacts::sync::PERSON_FIELDS
    )));
    let again = flow.answer(ok(
        200,
        person("Mateo Theirs", "%E2", &["+34600000001", "+34600000005"]),
    ));
    let r = sent(&again);
    // The source's name stays; the agent's number is added to theirs.
    assert!(r.url.contains("updatePersonFields=phoneNumbers&"));
    let body = r.json.as_ref().unwrap();
    assert_eq!(body["etag"], "%E2");
    let numbers: Vec<&str> = body["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["+34600000001", "+34600000005", "+34600000009"]);
    let d = done(flow.answer(ok(
        200,
        person(
            "Mateo Theirs",
            "%E3",
            &["+34600000001", "+34600000005", "+34600000009"],
        ),
    )));
    assert!(
        matches!(d.answer, SaveAnswer::Saved { ref lost, .. } if lost == &vec![Field::Name]),
        "the agent is told their name was not applied: {:?}",
        d.answer
    );
}

#[test]
fn a_merge_that_leaves_nothing_to_send_is_saved_without_a_write() {
    let s = stored_person("Mateo", "%E1");
    let (flow, _) = start(
        ProviderKind::Google,
        edit(
            &s,
            draft("Mateo Same", &["+34600000001"], &["mateo@example.com"]),
        ),
        Some(s.clone()),
        PEOPLE_SCOPE,
    );
    let mut flow = flow.unwrap();
    flow.answer(stale_people());
    // The source made the same rename meanwhile.
    let d = done(flow.answer(ok(200, person("Mateo Same", "%E2", &["+34600000001"]))));
    assert_eq!(d.keep, None);
    assert!(
        matches!(d.answer, SaveAnswer::Saved { ref contact, .. } if contact.name == "Mateo Same")
    );
}

#[test]
fn stale_again_after_the_merge_says_it_changed_again() {
    let mut flow = conflicted_people();
    flow.answer(stale_people());
    flow.answer(ok(200, person("Mateo Theirs", "%E2", &["+34600000001"])));
    let d = done(flow.answer(stale_people()));
    assert_eq!(
        d.answer,
        SaveAnswer::Failed {
            key: "contactChangedAgain".into(),
            detail: String::new()
        }
    );
}

#[test]
fn deleted_while_merging_is_gone() {
    let mut flow = conflicted_people();
    flow.answer(stale_people());
    let d = done(flow.answer(ok(404, json!({}))));
    assert_eq!(d.answer, SaveAnswer::Gone);
    assert_eq!(d.forget.as_deref(), Some("google:people/c1"));
}

#[test]
fn an_unreadable_reread_is_a_failure() {
    let mut flow = conflicted_people();
    flow.answer(stale_people());
    let d = done(flow.answer(ok(503, json!({}))));
    assert_eq!(
        d.answer,
        SaveAnswer::Failed {
            key: "contactSaveFailed".into(),
            detail: "HTTP 503".into()
        }
    );
}

#[test]
fn outlook_edits_go_to_graph_with_if_match_and_merge_on_412() {
    let s = stored_outlook("Olivia", "W/\"1\"");
    let (flow, step) = start(
        ProviderKind::Microsoft,
        edit(
            &s,
            draft("Olivia Mine", &["06 12 34 56 78"], &["olivia@example.com"]),
        ),
        Some(s.clone()),
        GRAPH_SCOPE,
    );
    let r = sent(&step);
    assert_eq!(r.method.as_deref(), Some("PATCH"));
    assert_eq!(
        r.url,
        format!("{}/me/contacts/AAMk1", crate::api::GRAPH_ROOT)
    );
    assert_eq!(
        r.headers,
        vec![("If-Match".to_owned(), "W/\"1\"".to_owned())]
    );
    let body = r.json.as_ref().unwrap();
    // Only the name changed: the lists are not sent.
    assert_eq!(body["displayName"], "Olivia Mine");
    assert!(body.get("businessPhones").is_none());
    assert!(body.get("emailAddresses").is_none());
    let mut flow = flow.unwrap();
    let get = flow.answer(ok(
        412,
        json!({"error": {"code": "ErrorIrresolvableConflict"}}),
    ));
    assert!(sent(&get).url.contains("/me/contacts/AAMk1?$select="));
    let again = flow.answer(ok(
        200,
        outlook("Olivia Theirs", "W/\"2\"", "06 12 34 56 78"),
    ));
    // Both renamed: nothing of the agent's is left to send.
    let d = done(again);
    assert!(matches!(d.answer, SaveAnswer::Saved { ref lost, .. } if lost == &vec![Field::Name]));
}

#[test]
fn a_graph_409_conflict_is_stale_too() {
    let s = stored_outlook("Olivia", "W/\"1\"");
    let (flow, _) = start(
        ProviderKind::Microsoft,
        edit(
            &s,
            draft(
                "Olivia",
                &["06 12 34 56 78", "+34600000003"],
                &["olivia@example.com"],
            ),
        ),
        Some(s.clone()),
        GRAPH_SCOPE,
    );
    let mut flow = flow.unwrap();
    let step = flow.answer(ok(
        409,
        json!({"error": {"code": "ErrorIrresolvableConflict"}}),
    ));
    assert_eq!(sent(&step).method, None, "a GET of the current version");
    let step = flow.answer(ok(409, json!({"error": {"code": "Other"}})));
    assert!(
        matches!(done(step).answer, SaveAnswer::Failed { .. }),
        "a 409 while reading is a failure"
    );
}

#[test]
fn saved_outlook_numbers_go_through_the_host_before_they_are_kept() {
    let req = SaveRequest {
        draft: draft("Olivia", &["06 12 34 56 78"], &[]),
        ..SaveRequest::default()
    };
    let (flow, step) = start(ProviderKind::Microsoft, req, None, GRAPH_SCOPE);
    assert_eq!(
        sent(&step).url,
        format!("{}/me/contacts", crate::api::GRAPH_ROOT)
    );
    let mut flow = flow.unwrap();
    let step = flow.answer(ok(201, outlook("Olivia", "W/\"1\"", "06 12 34 56 78")));
    let SaveStep::Normalize(mut c) = step else {
        panic!("expected normalisation, got {step:?}");
    };
    c.phones[0].e164 = Some("+33612345678".into());
    let d = done(flow.normalized(c));
    let kept = d.keep.unwrap();
    assert_eq!(kept.phones[0].e164.as_deref(), Some("+33612345678"));
    assert!(
        matches!(d.answer, SaveAnswer::Saved { ref contact, .. } if contact.phones[0].dial == "+33612345678")
    );
}

#[test]
fn outlooks_limits_are_said_before_sending() {
    let req = SaveRequest {
        draft: draft("Olivia", &[], &["a@x.com", "b@x.com", "c@x.com", "d@x.com"]),
        ..SaveRequest::default()
    };
    let (_, step) = start(ProviderKind::Microsoft, req, None, GRAPH_SCOPE);
    assert_eq!(
        done(step).answer,
        SaveAnswer::Invalid {
            key: "contactTooManyEmailsOutlook".into(),
            subs: vec![]
        }
    );
}

#[test]
fn a_store_that_cannot_be_read_is_said() {
    assert_eq!(
        store_failed(),
        SaveAnswer::Failed {
            key: "contactsStoreFailed".into(),
            detail: String::new()
        }
    );
    assert_eq!(source_for(ProviderKind::Google), Some(Source::Google));
    assert_eq!(source_for(ProviderKind::Microsoft), Some(Source::Outlook));
}
