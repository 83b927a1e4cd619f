//! Google API shapes: bodies as Google documents them.

use super::*;

fn roots() -> ApiRoots {
    ApiRoots::default()
}

#[test]
fn people_answers_become_contacts_with_e164_phones() {
    let body = r#"{"results":[{"person":{"resourceName":"people/c1","etag":"%E",
        "names":[{"metadata":{"primary":true},"displayName":"Bob Stone"}],
        "emailAddresses":[{"value":"bob@contoso.com"}],
        "phoneNumbers":[{"value":"+34 612 34 56 78","canonicalForm":"+34612345678"},{"value":"0612"}],
        "organizations":[{"name":"Contoso","title":"Buyer"}],
        "photos":[{"url":"https://lh3.googleusercontent.com/a/bob"}]}}]}"#;
    let people = parse_people(body);
    assert_eq!(people.len(), 1);
    let bob = &people[0];
    assert_eq!(bob.name, "Bob Stone");
    assert_eq!(bob.phones, vec!["+34612345678", "0612"]);
    assert_eq!(bob.organization.as_deref(), Some("Contoso"));
    assert_eq!(bob.title.as_deref(), Some("Buyer"));
    assert_eq!(
        bob.photo.as_deref(),
        Some("https://lh3.googleusercontent.com/a/bob")
    );
    // The directory's shape; a non-https photo is dropped.
    let dir = r#"{"people":[{"resourceName":"people/1","emailAddresses":[{"value":"carol@example.com"}],
        "photos":[{"url":"javascript:alert(1)"}]}],"totalSize":1}"#;
    let carol = &parse_people(dir)[0];
    assert_eq!(carol.name, "carol@example.com", "no name: the email");
    assert_eq!(carol.photo, None);
    assert!(parse_people("not json").is_empty());
    let urls = people_urls(&roots(), &ContactQuery::Phone("+34612345678".into()));
    assert!(urls[0].starts_with(
        "https://people.googleapis.com/v1/people:searchContacts?query=%2B34612345678&readMask="
    ));
    assert!(urls[1].contains("/otherContacts:search?query=%2B34612345678"));
    assert!(
        urls[2].contains("searchDirectoryPeople")
            && urls[2].contains("DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE")
    );
}

#[test]
fn gmail_searches_from_or_to_and_reads_two_headers() {
    let url = gmail_list_url(&roots(), &["bob@contoso.com".into()], 5);
    assert_eq!(
        url,
        "https://gmail.googleapis.com/gmail/v1/users/me/messages?q=from%3Abob%40contoso.com+OR+to%3Abob%40contoso.com&maxResults=5"
    );
    assert_eq!(
        parse_gmail_ids(
            r#"{"messages":[{"id":"a1","threadId":"t"},{"id":"b2","threadId":"t"}],"resultSizeEstimate":2}"#
        ),
        vec!["a1", "b2"]
    );
    assert!(parse_gmail_ids(r#"{"resultSizeEstimate":0}"#).is_empty());
    let m = parse_gmail_message(
        r#"{"id":"a1","internalDate":"1788000000000","payload":{"headers":[{"name":"Date","value":"x"},{"name":"Subject","value":"<b>Order</b>"}]}}"#,
    )
    .unwrap();
    assert_eq!(m.subject, "<b>Order</b>", "kept as text, rendered as text");
    assert_eq!(m.date_ms, 1_788_000_000_000);
    assert!(gmail_message_url(&roots(), "a1").ends_with(
        "/users/me/messages/a1?format=metadata&metadataHeaders=Subject&metadataHeaders=Date"
    ));
}

#[test]
fn drive_asks_either_direction_newest_first() {
    let url = drive_url(&roots(), &["o'neil@contoso.com".into()], 3);
    let q = url.split("q=").nth(1).unwrap().split('&').next().unwrap();
    let decoded: String = form_urlencoded::parse(format!("q={q}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        decoded,
        r"('o\'neil@contoso.com' in readers or 'o\'neil@contoso.com' in writers or 'o\'neil@contoso.com' in owners) and trashed = false"
    );
    assert!(url.contains("orderBy=modifiedTime+desc&pageSize=3"));
    let docs = parse_drive(
        r#"{"files":[{"id":"d1","name":"Q3 plan","modifiedTime":"2026-09-01T10:00:00.000Z","webViewLink":"https://docs.google.com/document/d/d1/edit"}]}"#,
    );
    assert_eq!(docs[0].title, "Q3 plan");
    assert_eq!(
        docs[0].link.as_deref(),
        Some("https://docs.google.com/document/d/d1/edit")
    );
}

#[test]
fn events_are_the_ones_both_attend_recent_and_upcoming() {
    let body = r#"{"items":[
      {"id":"e1","summary":"Kickoff","start":{"dateTime":"2026-09-01T09:00:00+02:00"},"end":{"dateTime":"2026-09-01T10:00:00+02:00"},"attendees":[{"email":"ana@example.com","self":true},{"email":"Bob@contoso.com"}]},
      {"id":"e2","summary":"Other","start":{"dateTime":"2026-09-02T09:00:00Z"},"end":{"dateTime":"2026-09-02T10:00:00Z"},"attendees":[{"email":"carol@example.com"}]},
      {"id":"e3","summary":"Gone","status":"cancelled","start":{"dateTime":"2026-09-03T09:00:00Z"},"end":{"dateTime":"2026-09-03T10:00:00Z"},"attendees":[{"email":"bob@contoso.com"}]},
      {"id":"e4","summary":"Offsite","start":{"date":"2026-09-10"},"end":{"date":"2026-09-11"},"organizer":{"email":"bob@contoso.com"}}
    ]}"#;
    let events = parse_events(body, "bob@contoso.com");
    assert_eq!(
        events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        vec!["e1", "e4"]
    );
    assert!(events[1].all_day);
    let now = rfc3339_ms("2026-09-05T00:00:00Z").unwrap();
    let picked = pick_events(events.clone(), now, 1, 1);
    assert_eq!(
        picked.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        vec!["e1", "e4"]
    );
    assert_eq!(pick_events(events, now, 0, 0), vec![]);
    let url = events_url(
        &roots(),
        "bob@contoso.com",
        "2026-08-01T00:00:00Z",
        "2026-10-01T00:00:00Z",
    );
    assert!(url.starts_with("https://www.googleapis.com/calendar/v3/calendars/primary/events?q=bob%40contoso.com&timeMin=2026-08-01T00%3A00%3A00Z"));
}

#[test]
fn presence_says_busy_with_the_name_only_when_the_agent_may_see_it() {
    let now = rfc3339_ms("2026-09-01T10:30:00Z").unwrap();
    let fb = r#"{"kind":"calendar#freeBusy","calendars":{"bob@contoso.com":{"busy":[{"start":"2026-09-01T10:00:00Z","end":"2026-09-01T11:00:00Z"}]}}}"#;
    assert_eq!(
        presence(fb, "bob@contoso.com", now, &[]),
        Some(Presence::InMeeting {
            until: "2026-09-01T11:00:00Z".into(),
            event: None
        })
    );
    let shared = vec![SharedEvent {
        id: "e".into(),
        name: "Contract review".into(),
        start: "2026-09-01T12:00:00+02:00".into(),
        end: "2026-09-01T13:00:00+02:00".into(),
        all_day: false,
    }];
    assert_eq!(
        presence(fb, "bob@contoso.com", now, &shared),
        Some(Presence::InMeeting {
            until: "2026-09-01T11:00:00Z".into(),
            event: Some("Contract review".into())
        })
    );
    let later = rfc3339_ms("2026-09-01T11:00:00Z").unwrap();
    assert_eq!(
        presence(fb, "bob@contoso.com", later, &shared),
        Some(Presence::Free)
    );
    let hidden = r#"{"calendars":{"bob@contoso.com":{"errors":[{"domain":"global","reason":"notFound"}],"busy":[]}}}"#;
    assert_eq!(presence(hidden, "bob@contoso.com", now, &[]), None);
    let body = freebusy_body(&["bob@contoso.com".into()], now, 1);
    assert_eq!(body["timeMin"], "2026-09-01T10:30:00Z");
    assert_eq!(body["timeMax"], "2026-09-01T10:31:00Z");
}
