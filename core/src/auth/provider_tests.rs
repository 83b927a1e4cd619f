use super::*;
use crate::auth::pkce::{RANDOM_BYTES, RequestSecrets};

fn google() -> ProviderConfig {
    ProviderConfig {
        kind: ProviderKind::Google,
        issuer: None,
        client_id: Some("123.apps.googleusercontent.com".into()),
        allowed_domains: vec!["example.com".into()],
        tenant: None,
    }
}

fn discovery(issuer: &str) -> String {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/certs"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "code_challenge_methods_supported": ["plain", "S256"],
    })
    .to_string()
}

#[test]
fn issuers_default_per_provider() {
    assert_eq!(google().issuer().unwrap(), GOOGLE_ISSUER);
    let ms = ProviderConfig {
        kind: ProviderKind::Microsoft,
        tenant: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
        ..google()
    };
    assert_eq!(
        ms.issuer().unwrap(),
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
    );
    let oidc = ProviderConfig {
        kind: ProviderKind::Oidc,
        ..google()
    };
    assert!(oidc.issuer().is_err());
    let plain_http = ProviderConfig {
        issuer: Some("http://idp.example.com".into()),
        ..google()
    };
    assert!(matches!(
        plain_http.issuer(),
        Err(SetupProblem::BadIssuer { .. })
    ));
    let loopback = ProviderConfig {
        issuer: Some("http://127.0.0.1:4000/google/".into()),
        ..google()
    };
    assert_eq!(
        loopback.issuer_for(true).unwrap(),
        "http://127.0.0.1:4000/google"
    );
    // A release build refuses plain http even on loopback.
    assert!(matches!(
        loopback.issuer_for(false),
        Err(SetupProblem::BadIssuer { .. })
    ));
    assert_eq!(
        loopback.issuer().is_ok(),
        crate::EMULATOR_BUILD,
        "the default follows the build"
    );
    for refused in [
        "http://localhost:1@evil.example/",
        "https://user:pw@idp.example.com",
        "ftp://idp.example.com",
        "not a url",
        "http://localhost.evil.example:80/",
        "https://",
        "https://idp.example.com:x/",
        "http://[::1]:x",
        "http://127.0.0.1.evil.example/",
        "http://128.0.0.1/",
        "http://127.0.0.256/",
        "https://idp.example.com/a b",
    ] {
        assert!(!url_is_acceptable(refused, true), "{refused}");
        assert!(!url_is_acceptable(refused, false), "{refused}");
    }
    for https in [
        "https://idp.example.com",
        "https://idp.example.com:8443/tenant?x=1",
        "https://127.0.0.1:4000",
    ] {
        assert!(url_is_acceptable(https, true), "{https}");
        assert!(url_is_acceptable(https, false), "{https}");
    }
    // Plain http: loopback in the emulator build only, never in a release build.
    for loopback in [
        "http://localhost:4000/google",
        "http://LOCALHOST:4000",
        "http://[::1]:4000",
        "http://127.0.0.1:4000",
        "http://127.10.20.30/x",
    ] {
        assert!(url_is_acceptable(loopback, true), "{loopback}");
        assert!(!url_is_acceptable(loopback, false), "{loopback}");
    }
    assert!(!url_is_acceptable("http://idp.example.com", true));
    let no_client = ProviderConfig {
        client_id: Some("  ".into()),
        ..google()
    };
    assert_eq!(
        no_client.client_id(),
        Err(SetupProblem::NoClientId {
            kind: ProviderKind::Google
        })
    );
}

#[test]
fn discovery_must_name_the_same_issuer() {
    let d = parse_discovery(&discovery(GOOGLE_ISSUER), GOOGLE_ISSUER).unwrap();
    assert_eq!(d.token_endpoint, "https://accounts.google.com/token");
    assert!(parse_discovery(&discovery("https://evil.example"), GOOGLE_ISSUER).is_err());
    assert!(parse_discovery("{}", GOOGLE_ISSUER).is_err());
    // An endpoint off https is refused, whatever the issuer says.
    let plain = discovery(GOOGLE_ISSUER).replace(
        "https://accounts.google.com/token",
        "http://accounts.google.com/token",
    );
    assert!(matches!(
        parse_discovery(&plain, GOOGLE_ISSUER),
        Err(SetupProblem::BadDiscovery { reason }) if reason.contains("http://accounts.google.com/token")
    ));
    let ms = "https://login.microsoftonline.com/organizations/v2.0";
    let templated = discovery("https://login.microsoftonline.com/{tenantid}/v2.0");
    assert!(parse_discovery(&templated, ms).is_ok());
    assert!(
        parse_discovery(&templated, &microsoft_issuer("some-tenant")).is_err(),
        "a tenant-specific issuer must match exactly"
    );
    let no_s256 = serde_json::json!({
        "issuer": GOOGLE_ISSUER, "authorization_endpoint": "a", "token_endpoint": "t",
        "jwks_uri": "j", "code_challenge_methods_supported": ["plain"],
    })
    .to_string();
    assert!(parse_discovery(&no_s256, GOOGLE_ISSUER).is_err());
}

#[test]
fn authorization_url_asks_only_for_sign_in_scopes() {
    let d = parse_discovery(&discovery(GOOGLE_ISSUER), GOOGLE_ISSUER).unwrap();
    let s = RequestSecrets::from_random(&[7u8; RANDOM_BYTES]);
    let url = authorization_url(&google(), &d, "https://id.chromiumapp.org/", &s, None).unwrap();
    let (base, query) = url.split_once('?').unwrap();
    assert_eq!(base, "https://accounts.google.com/o/oauth2/v2/auth");
    let q: std::collections::HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(
        q["scope"],
        "openid email profile https://www.googleapis.com/auth/contacts.readonly \
         https://www.googleapis.com/auth/contacts.other.readonly \
         https://www.googleapis.com/auth/directory.readonly"
    );
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"], s.challenge);
    assert_eq!(q["state"], s.state);
    assert_eq!(q["nonce"], s.nonce);
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["include_granted_scopes"], "true");
    assert_eq!(q["hd"], "example.com");
    assert_eq!(q["redirect_uri"], "https://id.chromiumapp.org/");
    assert!(
        !q.contains_key("code_verifier"),
        "the verifier never leaves"
    );
}

#[test]
fn redirects_give_the_code_or_say_who_must_act() {
    let ok = "https://id.chromiumapp.org/?state=abc&code=4%2F0Ad&scope=openid";
    assert_eq!(parse_redirect(ok, "abc").unwrap(), "4/0Ad");
    assert_eq!(parse_redirect(ok, "xyz"), Err(RedirectError::StateMismatch));
    assert_eq!(
        parse_redirect("https://id.chromiumapp.org/?state=abc", "abc"),
        Err(RedirectError::MissingCode)
    );
    assert_eq!(
        parse_redirect(
            "https://id.chromiumapp.org/?error=access_denied&state=abc",
            "abc"
        ),
        Err(RedirectError::Cancelled)
    );
    let Err(RedirectError::Provider { setup, .. }) = parse_redirect(
        "https://id.chromiumapp.org/?error=invalid_request&error_description=AADSTS50011%3A+The+redirect+URI+specified+in+the+request+does+not+match",
        "abc",
    ) else {
        panic!("expected a provider error");
    };
    assert!(matches!(
        setup,
        Some(SetupProblem::RedirectUriMismatch { .. })
    ));
    assert!(matches!(
        classify_provider_error("invalid_client", "The OAuth client was not found."),
        Some(SetupProblem::InvalidClient { .. })
    ));
    assert!(matches!(
        classify_provider_error(
            "unauthorized_client",
            "AADSTS700016: Application with identifier 'x' was not found"
        ),
        Some(SetupProblem::InvalidClient { .. })
    ));
    assert_eq!(classify_provider_error("temporarily_unavailable", ""), None);
}
