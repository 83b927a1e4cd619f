use serde_json::json;

use super::*;

fn roots() -> ApiRoots {
    let mut r = ApiRoots::under("http://127.0.0.1:9/googleapis");
    r.graph = "http://127.0.0.1:9/graph/v1.0".into();
    r
}

fn people(ids: &[&str], next: Option<&str>) -> String {
    let people: Vec<_> = ids
        .iter()
        .map(|id| json!({"resourceName": format!("people/{id}"), "names": [{"displayName": id}]}))
        .collect();
    match next {
        Some(t) => json!({"connections": people, "nextPageToken": t}),
        None => json!({"connections": people, "nextSyncToken": "s1"}),
    }
    .to_string()
}

fn page(next: Next) -> Page {
    match next {
        Next::Page(p) => p,
        other => panic!("expected a page, got {other:?}"),
    }
}

#[test]
fn a_full_run_sweeps_what_it_did_not_see_and_a_rejected_page_token_restarts_once() {
    let old = crate::contacts::from_person(
        Source::Google,
        &json!({"resourceName": "people/gone", "names": [{"displayName": "Gone"}]}),
    )
    .expect("kept");
    let mut run = Run::start(Source::Google, SyncState::default(), &roots());
    let mut p = page(run.answer(&roots(), 200, &people(&["a"], Some("p2")), None));
    let (step, deletes) = run.apply(&mut p, 1, [&old]);
    assert_eq!((step, deletes.len()), (Step::More, 0));
    assert!(run.request(&roots()).url.ends_with("&pageToken=p2"));
    // The source no longer takes the page token: the run starts over, once.
    let bad = json!({"error": {"code": 400, "message": "Page token is not valid.", "status": "INVALID_ARGUMENT"}});
    assert_eq!(
        run.answer(&roots(), 400, &bad.to_string(), None),
        Next::Again
    );
    assert!(!run.request(&roots()).url.contains("pageToken"));
    let mut p = page(run.answer(&roots(), 200, &people(&["a"], Some("p2")), None));
    run.apply(&mut p, 2, [&old]);
    assert_eq!(
        run.answer(&roots(), 400, &bad.to_string(), None),
        Next::Fail("contactsSyncFailed".into(), vec!["HTTP 400".into()])
    );
    // The last page: "gone" (an older generation, not seen) is swept. The
    // restart stamped a new generation.
    let mut p = page(run.answer(&roots(), 200, &people(&["b"], None), None));
    let (step, deletes) = run.apply(&mut p, 3, [&old]);
    assert_eq!(
        step,
        Step::Done {
            sweep_below: Some(2)
        }
    );
    assert_eq!(deletes, ["google:people/gone"]);
}

#[test]
fn an_expired_token_gives_one_full_run_and_a_second_expiry_fails() {
    let state = SyncState {
        sync_token: Some("s0".into()),
        generation: 1,
        ..SyncState::default()
    };
    let mut run = Run::start(Source::Google, state, &roots());
    assert!(run.request(&roots()).url.contains("&syncToken=s0"));
    let expired = json!({"error": {"code": 400, "status": "FAILED_PRECONDITION",
        "message": "Sync token is expired. Clear local cache and retry call without the sync token.",
        "details": [{"reason": "EXPIRED_SYNC_TOKEN"}]}})
    .to_string();
    assert_eq!(run.answer(&roots(), 400, &expired, None), Next::Again);
    assert!(run.state.full && run.state.generation == 2);
    assert!(!run.request(&roots()).url.contains("syncToken"));
    assert_eq!(
        run.answer(&roots(), 400, &expired, None),
        Next::Fail("contactsSyncFailed".into(), vec!["HTTP 400".into()]),
        "no loop"
    );
}

#[test]
fn throttling_waits_then_pauses_and_other_failures_name_the_source() {
    let mut run = Run::start(Source::Outlook, SyncState::default(), &roots());
    let busy = r#"{"error": {"code": "TooManyRequests", "message": "Please retry again later."}}"#;
    assert_eq!(run.answer(&roots(), 429, busy, Some("2")), Next::Wait(2000));
    assert_eq!(run.answer(&roots(), 503, "", None), Next::Wait(1000));
    assert_eq!(
        run.answer(&roots(), 503, "", None),
        Next::Fail("contactsSyncPausedOutlook".into(), vec!["HTTP 503".into()])
    );
    let denied = r#"{"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}}"#;
    assert_eq!(
        run.answer(&roots(), 403, denied, None),
        Next::Fail("contactsNeedsAccessOutlook".into(), vec![])
    );
    let mut dir = Run::start(Source::Directory, SyncState::default(), &roots());
    let scope = json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
        "details": [{"reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}});
    assert_eq!(
        dir.answer(&roots(), 403, &scope.to_string(), None),
        Next::Fail("contactsDirectoryNeedsAccess".into(), vec![])
    );
    assert_eq!(
        dir.answer(&roots(), 200, "<html>", None),
        Next::Fail("contactsUnreadable".into(), vec![])
    );
}

#[test]
fn outlook_finds_its_folder_first_and_again_once_if_it_was_recreated() {
    let r = roots();
    let mut run = Run::start(Source::Outlook, SyncState::default(), &r);
    let first = run.request(&r);
    assert!(
        first
            .url
            .ends_with("/me/contacts?$top=1&$select=parentFolderId")
    );
    assert!(first.headers.is_empty(), "no Prefer on the folder lookup");
    let folder = r#"{"value": [{"id": "c", "parentFolderId": "F"}]}"#;
    assert_eq!(run.answer(&r, 200, folder, None), Next::Again);
    let delta = run.request(&r);
    assert!(delta.url.contains("/me/contactFolders/F/contacts/delta"));
    assert_eq!(
        delta.headers,
        [("Prefer", "odata.maxpagesize=1000".to_owned())]
    );
    let gone = r#"{"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}"#;
    assert_eq!(run.answer(&r, 404, gone, None), Next::Again);
    assert!(run.state.folder.is_none() && run.state.full);
    assert_eq!(run.answer(&r, 200, folder, None), Next::Again);
    assert_eq!(
        run.answer(&r, 404, gone, None),
        Next::Fail("contactsSyncFailedOutlook".into(), vec!["HTTP 404".into()])
    );
    // An empty folder: an empty last page, which sweeps.
    let mut empty = Run::start(Source::Outlook, SyncState::default(), &r);
    let mut p = page(empty.answer(&r, 200, r#"{"value": []}"#, None));
    assert!(matches!(
        empty.apply(&mut p, 1, []).0,
        Step::Done {
            sweep_below: Some(1)
        }
    ));
}
