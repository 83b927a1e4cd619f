use super::*;

#[test]
fn retries_back_off_and_honour_retry_after() {
    let rate = ApiFailure::RateLimited {
        retry_after: Some(2),
    };
    assert_eq!(retry_delay_ms(&rate, 0), Some(2000));
    assert_eq!(retry_delay_ms(&rate, 2), None, "out of attempts");
    let server = ApiFailure::Server {
        status: 503,
        retry_after: None,
    };
    assert_eq!(retry_delay_ms(&server, 0), Some(500));
    assert_eq!(retry_delay_ms(&server, 1), Some(1000));
    let huge = ApiFailure::RateLimited {
        retry_after: Some(86_400),
    };
    assert_eq!(retry_delay_ms(&huge, 0), Some(MAX_DELAY_MS));
    assert_eq!(retry_delay_ms(&ApiFailure::InsufficientScope, 0), None);
}

#[test]
fn google_errors_say_what_to_do() {
    let scope = r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT","domain":"googleapis.com"}]}}"#;
    assert_eq!(classify(403, scope, None), ApiFailure::InsufficientScope);
    let quota = r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#;
    assert_eq!(
        classify(429, quota, Some("2")),
        ApiFailure::RateLimited {
            retry_after: Some(2)
        }
    );
    let user_rate = r#"{"error":{"code":403,"errors":[{"reason":"userRateLimitExceeded"}]}}"#;
    assert!(classify(403, user_rate, None).retryable());
    assert_eq!(
        classify(503, "", None),
        ApiFailure::Server {
            status: 503,
            retry_after: None
        }
    );
    assert_eq!(classify(401, "", None), ApiFailure::Unauthorized);
    let off = r#"{"error":{"code":403,"message":"People API has not been used in project 1 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"reason":"SERVICE_DISABLED"}]}}"#;
    assert!(matches!(
        classify(403, off, None),
        ApiFailure::Refused { status: 403, .. }
    ));
}

#[test]
fn dates_round_trip() {
    for (s, ms) in [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-09-01T10:00:00Z", 1_788_256_800_000),
        ("2026-09-01T12:00:00+02:00", 1_788_256_800_000),
        ("2026-09-01T10:00:00.5Z", 1_788_256_800_500),
        ("2026-09-01", 1_788_220_800_000),
    ] {
        assert_eq!(rfc3339_ms(s), Some(ms), "{s}");
    }
    assert_eq!(ms_to_rfc3339(1_788_256_800_000), "2026-09-01T10:00:00Z");
    for bad in ["", "2026-13-01", "yesterday", "2026-09-01T10:00"] {
        assert_eq!(rfc3339_ms(bad), None, "{bad}");
    }
}

#[test]
fn roots_sit_under_a_gateway_but_graph_keeps_its_own() {
    let r = ApiRoots::under("http://127.0.0.1:4000/googleapis/");
    assert_eq!(r.people, "http://127.0.0.1:4000/googleapis/people/v1");
    assert_eq!(r.calendar, "http://127.0.0.1:4000/googleapis/calendar/v3");
    assert_eq!(r.graph, GRAPH_ROOT);
    assert_eq!(ApiRoots::default().graph, GRAPH_ROOT);
}
