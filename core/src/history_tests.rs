//! The history's rules: what a call becomes, the cap, search, per agent,
//! and sign-out.
use super::*;

fn call(id: &str, number: &str, ended_ms: f64, answered: bool, dir: Direction) -> EndedCall {
    EndedCall {
        id: id.into(),
        softphone_call_id: None,
        number: number.into(),
        display: number.into(),
        direction: dir,
        started_ms: ended_ms - 60_000.0,
        ended_ms,
        talk_seconds: if answered { 42 } else { 0 },
        answered,
        reason: "Connection reset by user".into(),
        agent: Some(AgentKey::new("https://idp", "alice")),
    }
}

const ALICE: &str = "https://idp alice";
const BOB: &str = "https://idp bob";

fn entry(i: usize) -> Entry {
    Entry::of(
        &call(
            &format!("c{i}"),
            &format!("+331234{i:05}"),
            i as f64 * 1000.0,
            true,
            Direction::Outgoing,
        ),
        None,
    )
}

#[test]
fn a_call_keeps_its_outcome_name_and_duration() {
    let e = Entry::of(
        &call("a", "+33123", 5.0, true, Direction::Incoming),
        Some("Ana".into()),
    );
    assert_eq!(
        (e.outcome, e.talk_seconds, e.name.as_deref()),
        (Outcome::Answered, 42, Some("Ana"))
    );
    let missed = Entry::of(
        &call("b", "+33123", 5.0, false, Direction::Incoming),
        Some(" ".into()),
    );
    assert_eq!((missed.outcome, missed.name), (Outcome::Missed, None));
    let unanswered = Entry::of(&call("c", "+33123", 5.0, false, Direction::Outgoing), None);
    assert_eq!(unanswered.outcome, Outcome::NoAnswer);
    assert_eq!(
        owner_of(
            call("a", "1", 1.0, true, Direction::Incoming)
                .agent
                .as_ref()
        ),
        ALICE
    );
    assert_eq!(owner_of(None), "");
}

#[test]
fn keeps_the_newest_two_hundred_and_deletes_the_rest() {
    let mut h = History::default();
    for i in 0..MAX_ENTRIES {
        let (change, _) = h.record(ALICE, Some(ALICE), entry(i)).unwrap();
        assert!(change.delete.is_empty());
    }
    let (change, reset) = h.record(ALICE, Some(ALICE), entry(MAX_ENTRIES)).unwrap();
    assert!(!reset);
    assert_eq!(change.put[0].id, format!("c{MAX_ENTRIES}"));
    assert_eq!(change.delete, vec!["c0".to_owned()]);
    assert_eq!(h.entries().len(), MAX_ENTRIES);
    assert_eq!(h.entries()[0].id, format!("c{MAX_ENTRIES}"));
    // An older call than every kept one goes straight out again.
    let (change, _) = h.record(ALICE, Some(ALICE), entry(0)).unwrap();
    assert_eq!(change.delete, vec!["c0".to_owned()]);
    // Reading more than the cap from storage keeps the newest.
    let loaded = History::load(Some(ALICE.into()), (0..250).map(entry).collect());
    assert_eq!(loaded.entries().len(), MAX_ENTRIES);
    assert_eq!(loaded.entries()[0].id, "c249");
    assert_eq!(loaded.entries()[MAX_ENTRIES - 1].id, "c50");
}

#[test]
fn a_call_recorded_twice_keeps_its_wrapup() {
    let mut h = History::default();
    h.record(ALICE, Some(ALICE), entry(1)).unwrap();
    let wrapped = Wrapped {
        tags: vec!["sales".into()],
        note: "call back".into(),
        saved_to: SavedTo::Platform,
    };
    let e = h.wrapped(ALICE, "c1", wrapped.clone()).unwrap();
    assert_eq!(e.wrapup.as_ref(), Some(&wrapped));
    let (change, _) = h.record(ALICE, Some(ALICE), entry(1)).unwrap();
    assert!(change.put.is_empty());
    assert_eq!(h.entries()[0].wrapup.as_ref(), Some(&wrapped));
    assert!(h.wrapped(ALICE, "nope", wrapped.clone()).is_none());
    assert!(h.wrapped(BOB, "c1", wrapped).is_none());
}

#[test]
fn search_finds_names_numbers_tags_and_notes() {
    let mut h = History::default();
    let mut ana = Entry::of(
        &call("1", "+33 1 23 45 67 89", 3.0, true, Direction::Incoming),
        Some("Ana Lopez".into()),
    );
    ana.wrapup = Some(Wrapped {
        tags: vec!["Billing".into()],
        note: "Wants a refund".into(),
        saved_to: SavedTo::Platform,
    });
    let bob = Entry::of(
        &call("2", "+14155550100", 2.0, false, Direction::Outgoing),
        Some("Bob".into()),
    );
    let anon = Entry::of(
        &call("3", "+442071838750", 1.0, true, Direction::Outgoing),
        None,
    );
    for e in [ana, bob, anon] {
        h.record(ALICE, Some(ALICE), e).unwrap();
    }
    let ids = |q: &str| {
        h.search(ALICE, q, MAX_ENTRIES)
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(""), ["1", "2", "3"]);
    assert_eq!(ids("ana"), ["1"]);
    assert_eq!(ids("LOPEZ ana"), ["1"]);
    assert_eq!(ids("billing"), ["1"]);
    assert_eq!(ids("refund"), ["1"]);
    // Digits match whatever the separators.
    assert_eq!(ids("4567"), ["1"]);
    assert_eq!(ids("415-555"), ["2"]);
    assert_eq!(ids("+44 2071"), ["3"]);
    assert!(ids("zzz").is_empty());
    assert!(ids("ana bob").is_empty());
    // Nobody else reads Alice's calls.
    assert!(h.search(BOB, "", MAX_ENTRIES).is_empty());
    assert!(h.search("", "", MAX_ENTRIES).is_empty());
}

#[test]
fn each_agent_has_their_own_history() {
    let mut h = History::load(Some(ALICE.into()), vec![entry(1)]);
    // Bob's call while Alice is signed in (his pending wrap-up) is not written.
    assert!(h.record(BOB, Some(ALICE), entry(2)).is_none());
    // Nor while nobody is known yet (the session is being restored).
    assert!(h.record(BOB, None, entry(2)).is_none());
    assert_eq!(h.entries().len(), 1);
    // Bob signed in: his first call starts his own history, Alice's is gone.
    let (change, reset) = h.record(BOB, Some(BOB), entry(3)).unwrap();
    assert!(reset);
    assert_eq!(change.put.len(), 1);
    assert_eq!(h.owner.as_deref(), Some(BOB));
    assert_eq!(h.search(BOB, "", MAX_ENTRIES).len(), 1);
    assert!(h.search(ALICE, "", MAX_ENTRIES).is_empty());
    // Without sign-in (nobody, "") calls are kept too.
    let mut anon = History::default();
    assert!(anon.record("", Some(""), entry(1)).unwrap().1);
    assert_eq!(anon.search("", "", MAX_ENTRIES).len(), 1);
}

#[test]
fn sign_out_clears_it() {
    let mut h = History::load(Some(ALICE.into()), (0..3).map(entry).collect());
    h.clear();
    assert_eq!(h, History::default());
    assert!(h.search(ALICE, "", MAX_ENTRIES).is_empty());
    // Alice's next call after signing in again starts afresh.
    assert!(h.record(ALICE, Some(ALICE), entry(9)).unwrap().1);
}

#[test]
fn an_incoming_call_is_called_back_on_the_callers_number() {
    let mut c = call(
        "a",
        "sip:+33123456789@127.0.0.1",
        5.0,
        false,
        Direction::Incoming,
    );
    c.display = crate::calls::caller_display(&c.number);
    let e = Entry::of(&c, None);
    assert_eq!(e.dial.as_deref(), Some("+33123456789"));
    // The address's host is not part of the number a search matches.
    let mut h = History::default();
    h.record(ALICE, Some(ALICE), e).unwrap();
    assert!(h.search(ALICE, "127", MAX_ENTRIES).is_empty());
    assert_eq!(h.search(ALICE, "3312", MAX_ENTRIES).len(), 1);
    c.number = "sip:alice@pbx.example".into();
    assert_eq!(Entry::of(&c, None).dial, None);
}

#[test]
fn outcomes_have_messages() {
    for o in [Outcome::Answered, Outcome::Missed, Outcome::NoAnswer] {
        assert!(o.message_key().starts_with("history"));
    }
}

#[test]
fn who_has_a_history_now() {
    let alice = AgentKey::new("https://idp", "alice");
    assert_eq!(me(Some(&alice), true).as_deref(), Some(ALICE));
    assert_eq!(me(None, false).as_deref(), Some(""));
    assert_eq!(me(None, true), None);
}

#[test]
fn an_entry_reads_back_from_its_record() {
    let mut e = Entry::of(
        &call(
            "1700000000000-3",
            "sip:+33123456789@127.0.0.1",
            1_700_000_060_000.0,
            true,
            Direction::Incoming,
        ),
        Some("Ana Lopez".into()),
    );
    assert_eq!(Entry::from_record(&e.record()), Some(e.clone()));
    e.wrapup = Some(Wrapped {
        tags: vec!["billing".into(), "vip".into()],
        note: "line one\nline two".into(),
        saved_to: SavedTo::AfterSignIn,
    });
    assert_eq!(Entry::from_record(&e.record()), Some(e.clone()));
    // Separators typed by the agent do not break the record.
    e.wrapup.as_mut().unwrap().note = "a\u{1f}b\u{1e}c".into();
    let back = Entry::from_record(&e.record()).unwrap();
    assert_eq!(back.wrapup.unwrap().note, "a b c");
    let none = Entry::of(
        &call("2", "+14155550100", 65_000.0, false, Direction::Outgoing),
        None,
    );
    assert_eq!(Entry::from_record(&none.record()), Some(none));
    assert_eq!(Entry::from_record("garbage"), None);
    assert_eq!(Entry::from_record(""), None);
}

#[test]
fn the_popup_gets_the_newest_matches_first_and_at_most_a_page() {
    let h = History::load(Some(ALICE.into()), (0..MAX_ENTRIES).map(entry).collect());
    let shown = h.search(ALICE, "", SHOWN);
    assert_eq!(shown.len(), SHOWN);
    assert_eq!(shown[0].id, format!("c{}", MAX_ENTRIES - 1));
    // The oldest call is still found by what was typed.
    assert_eq!(h.search(ALICE, "00000", SHOWN)[0].id, "c0");
}
