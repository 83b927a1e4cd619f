//! The session as kept in browser storage and what the host's answers about
//! it mean, one test per rule.

use serde_json::json;

use super::*;
use crate::auth::provider::ProviderKind;
use crate::auth::session::TokenHome;
use crate::auth::token::RevokeReason;

fn grant(scope: Option<&str>, expires_in: Option<u64>) -> TokenGrant {
    TokenGrant {
        access_token: "at-1".into(),
        id_token: None,
        expires_in,
        scope: scope.map(str::to_owned),
        stored: true,
        store_error: None,
    }
}

#[test]
fn the_token_record_keeps_the_known_scopes_when_the_grant_does_not_say() {
    let (record, expires) = token_record(&grant(None, Some(60)), None, Some("a b".into()), 1_000.0);
    assert_eq!(expires, 61_000.0);
    assert_eq!(
        record,
        json!({"tokens": {"access_token": "at-1", "expires_at": 61_000.0, "scope": "a b"}})
    );
    let (record, _) = token_record(&grant(Some("c"), None), None, Some("a b".into()), 0.0);
    assert_eq!(token_field(&record, "scope"), Some("c"));
    assert_eq!(record["tokens"]["expires_at"], json!(3_600_000.0));
}

#[test]
fn only_a_browser_session_keeps_a_refresh_token_and_it_is_what_sign_out_revokes() {
    let (with_host, _) = token_record(&grant(None, None), None, None, 0.0);
    assert_eq!(token_field(&with_host, "refresh_token"), None);
    assert_eq!(token_to_revoke(&with_host), Some("at-1"));
    let (browser, _) = token_record(&grant(None, None), Some("rt-1"), None, 0.0);
    assert_eq!(token_to_revoke(&browser), Some("rt-1"));
    assert_eq!(token_to_revoke(&json!({})), None);
    // No refresh token (a provider that issued none): the access token is
    // what the host revokes; with one, the refresh token is revoked instead.
    assert_eq!(access_token_only(&with_host), Some("at-1"));
    assert_eq!(access_token_only(&browser), None);
    assert_eq!(access_token_only(&json!({})), None);
}

fn agent() -> Profile {
    Profile {
        name: "Agent".into(),
        email: "agent@example.com".into(),
        picture: Some("https://pic.example/a".into()),
        provider: ProviderKind::Google,
        issuer: "https://accounts.example".into(),
        client_id: "client".into(),
        subject: "sub".into(),
        home: TokenHome::Host,
        agent: None,
        entra: None,
    }
}

#[test]
fn a_worker_start_resumes_refreshes_or_ends_a_browser_only_session() {
    let host = agent();
    let browser = Profile {
        home: TokenHome::Browser,
        ..agent()
    };
    let now = 1_000_000.0;
    let fresh = now + REFRESH_MARGIN_MS + 1.0;
    assert_eq!(start(&host, fresh, now), Start::Resume);
    assert_eq!(start(&browser, fresh, now), Start::Resume);
    assert_eq!(start(&host, now, now), Start::Refresh);
    assert_eq!(start(&host, 0.0, now), Start::Refresh);
    assert_eq!(start(&browser, 0.0, now), Start::EndedWithBrowser);
}

#[test]
fn userinfo_updates_the_name_and_an_https_picture_of_the_same_agent_only() {
    let p = agent();
    let body = json!({"sub": "sub", "name": "New Name", "picture": "https://pic.example/b"});
    let updated = updated_profile(&p, &body.to_string()).expect("the same agent");
    assert_eq!(updated.name, "New Name");
    assert_eq!(updated.picture.as_deref(), Some("https://pic.example/b"));
    assert_eq!(updated.email, p.email);
    let plain = json!({"sub": "sub", "picture": "http://pic.example/c"}).to_string();
    let kept = updated_profile(&p, &plain).expect("the same agent");
    assert_eq!(
        (kept.name, kept.picture),
        (p.name.clone(), p.picture.clone())
    );
    let other = json!({"sub": "someone", "name": "X"}).to_string();
    assert_eq!(updated_profile(&p, &other), None);
    assert_eq!(updated_profile(&p, "<html>"), None);
}

#[test]
fn a_worker_start_reads_what_was_kept_and_skips_what_it_cannot_read() {
    let profile = Profile {
        name: "Agent".into(),
        email: "agent@example.com".into(),
        picture: None,
        provider: ProviderKind::Google,
        issuer: "https://accounts.example".into(),
        client_id: "client".into(),
        subject: "sub".into(),
        home: TokenHome::Host,
        agent: None,
        entra: None,
    };
    let account = AuthAccount {
        issuer: "https://accounts.example".into(),
        client_id: "client".into(),
    };
    let mut local = purge_record(&account, true);
    local[KEY_PROFILE] = serde_json::to_value(&profile).expect("a profile");
    local[KEY_PENDING] = json!({"at_ms": 5, "message_key": "k", "revoke_at_provider": false});
    let session = json!({"tokens": {"expires_at": 99.0}, "platformSession": "ps-1"});
    let f = found(&local, &session);
    assert_eq!(f.profile, Some(profile));
    assert_eq!(f.expires_at_ms, 99.0);
    assert_eq!(f.platform_session.as_deref(), Some("ps-1"));
    assert_eq!(f.purge, Some((account, true)));
    assert_eq!(f.pending.map(|p| p.at_ms), Some(5));
    let junk = json!({"profile": {"name": 1}, "pendingSignOut": "soon", "purgePending": 3});
    let f = found(&junk, &json!({"tokens": "x"}));
    assert_eq!(
        (
            f.profile,
            f.expires_at_ms,
            f.platform_session,
            f.purge,
            f.pending
        ),
        (None, 0.0, None, None, None)
    );
}

fn refused(status: u16, body: &str) -> ErrorBody {
    ErrorBody::new(ErrorCode::ProviderRefused, "refused")
        .with_detail(json!({"status": status, "body": body}))
}

#[test]
fn which_refused_refresh_ends_the_session() {
    let empty = ErrorBody::new(ErrorCode::NoRefreshToken, "none");
    assert_eq!(refresh_cause(&empty), Some(Cause::SecretStoreEmpty));
    let locked = ErrorBody::new(ErrorCode::SecretStoreUnavailable, "locked");
    assert_eq!(refresh_cause(&locked), Some(Cause::SecretStoreLocked));
    let revoked = refused(
        400,
        r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
    );
    assert_eq!(
        refresh_cause(&revoked),
        Some(Cause::GrantRevoked {
            reason: RevokeReason::ExpiredOrRevoked
        })
    );
    let mfa = refused(400, r#"{"error":"interaction_required"}"#);
    assert_eq!(refresh_cause(&mfa), Some(Cause::ClaimsChallengeFailed));
    let client = refused(401, r#"{"error":"invalid_client"}"#);
    assert_eq!(refresh_cause(&client), Some(Cause::Unauthorized));
    // Busy or down: try again later; the host itself failing too.
    assert_eq!(refresh_cause(&refused(503, "")), None);
    let internal = ErrorBody::new(ErrorCode::Internal, "gone");
    assert_eq!(refresh_cause(&internal), None);
}

#[test]
fn a_sign_out_says_when_the_provider_did_not_revoke() {
    assert_eq!(
        host_sign_out_notice(&Ok(json!({"revoked": true}))),
        Notice::new("signedOut", &[])
    );
    assert_eq!(
        host_sign_out_notice(&Ok(json!({"revoked": false, "revoke_error": "HTTP 500"}))),
        Notice::new("signedOutNotRevoked", &["HTTP 500"])
    );
    let gone = ErrorBody::new(ErrorCode::Internal, "the native host is not connected");
    assert_eq!(
        host_sign_out_notice(&Err(gone)),
        Notice::new("signedOutNotRevoked", &["the native host is not connected"])
    );
}
