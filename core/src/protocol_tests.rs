//! Tests of the wire protocol (`protocol.rs`).
//! Parsing rules for each malformed body; the byte-exact frames live in tests/golden.rs.
use super::*;

fn code_of(body: &[u8]) -> (Option<u64>, u16) {
    let f = parse_request(body).unwrap_err();
    (f.id, f.error.code)
}

#[test]
fn codes_are_unique_and_round_trip() {
    let mut seen = std::collections::HashSet::new();
    for c in ErrorCode::ALL {
        assert!(seen.insert(c.code()), "duplicate code {}", c.code());
        assert_eq!(ErrorCode::from_code(c.code()), Some(*c));
    }
    assert_eq!(ErrorCode::from_code(1), None);
}

#[test]
fn parses_hello_and_ping() {
    let e = parse_request(br#"{"id":1,"type":"hello","params":{"versions":[1]}}"#).unwrap();
    assert_eq!(e.id, 1);
    assert_eq!(
        e.request,
        Request::Hello(HelloParams {
            versions: vec![1],
            client: None
        })
    );
    let e = parse_request(br#"{"id":2,"type":"ping"}"#).unwrap();
    assert_eq!(
        e.request,
        Request::Ping(PingParams {
            payload: Value::Null
        })
    );
}

#[test]
fn malformed_bodies_have_their_codes() {
    assert_eq!(code_of(b""), (None, 1001));
    assert_eq!(code_of(b"\xff\xfe{}"), (None, 1002));
    assert_eq!(code_of(b"{\"id\":1,"), (None, 1003));
    assert_eq!(code_of(b"[1,2]"), (None, 1004));
    assert_eq!(code_of(br#"{"type":"ping"}"#), (None, 1004));
    assert_eq!(code_of(br#"{"id":-1,"type":"ping"}"#), (None, 1004));
    assert_eq!(code_of(br#"{"id":"x","type":"ping"}"#), (None, 1004));
    assert_eq!(code_of(br#"{"id":3}"#), (Some(3), 1004));
    assert_eq!(code_of(br#"{"id":3,"type":7}"#), (Some(3), 1004));
    assert_eq!(code_of(br#"{"id":4,"type":"fly"}"#), (Some(4), 1005));
    assert_eq!(
        code_of(br#"{"id":5,"type":"hello","params":{}}"#),
        (Some(5), 1004)
    );
    assert_eq!(
        code_of(br#"{"id":6,"type":"hello","params":{"versions":"1"}}"#),
        (Some(6), 1004)
    );
}

#[test]
fn unknown_type_is_truncated_in_message() {
    let long = "x".repeat(10_000);
    let body = format!(r#"{{"id":1,"type":"{long}"}}"#);
    let f = parse_request(body.as_bytes()).unwrap_err();
    assert!(f.error.message.len() < 100, "{}", f.error.message);
}

#[test]
fn negotiation_picks_newest_common() {
    assert_eq!(negotiate(&[1]), Some(1));
    assert_eq!(negotiate(&[1, 2, 3]), Some(1));
    assert_eq!(negotiate(&[2]), None);
    assert_eq!(negotiate(&[]), None);
}

#[test]
fn incoming_distinguishes_response_and_event() {
    let r: Incoming = serde_json::from_str(r#"{"id":1,"result":{"a":1}}"#).unwrap();
    assert!(matches!(r, Incoming::Response(_)));
    let e: Incoming = serde_json::from_str(
        r#"{"event":"host.error","data":{"code":1008,"name":"origin_not_allowed","message":"m"}}"#,
    )
    .unwrap();
    let Incoming::Event(e) = e else {
        panic!("not an event")
    };
    assert_eq!(e.error().unwrap().kind(), Some(ErrorCode::OriginNotAllowed));
}

#[test]
fn into_result_reports_wrong_shapes() {
    let r = Response::ok(1, serde_json::json!({"payload": 1}));
    assert_eq!(
        r.clone().into_result::<PingResult>().unwrap().payload,
        serde_json::json!(1)
    );
    assert_eq!(
        r.into_result::<HelloResult>().unwrap_err().code,
        ErrorCode::InvalidMessage.code()
    );
}

#[test]
fn host_messages_decode_from_text_as_the_derived_decoder_reads_them() {
    let texts = [
        r#"{"id":1,"result":{"a":[1,2.5,"x"]}}"#,
        r#"{"id":2,"error":{"code":1001,"message":"bad","detail":{"status":400}}}"#,
        r#"{"id":null,"error":{"code":1001,"message":"unreadable id"}}"#,
        r#"{"id":3,"result":null}"#,
        r#"{}"#,
        r#"{"event":"call","data":{"state":"incoming","call_id":"c1","peer":"sip:a@b"}}"#,
        r#"{"event":"host.error"}"#,
        r#"{"event":"x","data":null}"#,
        // What the derived decoder refuses.
        r#"{"event":null}"#,
        r#"{"event":5}"#,
        r#"{"event":"x","id":1}"#,
        r#"{"id":1,"data":{}}"#,
        r#"{"id":-1,"result":1}"#,
        r#"{"id":1.5,"result":1}"#,
        r#"{"id":"1","result":1}"#,
        r#"{"id":1,"error":{"code":"x"}}"#,
        r#"{"id":1,"result":1,"extra":true}"#,
        r#"[]"#,
        r#"null"#,
        r#"{"id":1,"#,
    ];
    for text in texts {
        let derived = serde_json::from_str::<Incoming>(text).ok();
        assert_eq!(Incoming::from_json(text).ok(), derived, "{text}");
    }
}
