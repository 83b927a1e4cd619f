//! Token endpoint answers: the tokens, and what an error means for the
//! session. Google and Microsoft say "this grant is gone" in different words;
//! both become [`TokenFailure::GrantRevoked`] with the reason, so one state
//! machine (session revocation) can act on every cause the same way.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// A successful token response (RFC 6749 §5.1 plus OpenID's `id_token`).
/// The tokens are [`Secret`]s: Debug shows `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    #[serde(default)]
    pub id_token: Option<Secret>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// An error body (RFC 6749 §5.2 plus Google's and Microsoft's extra fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    /// Google: e.g. `invalid_rapt`.
    #[serde(default)]
    pub error_subtype: Option<String>,
    /// Microsoft: AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u64>,
    /// Microsoft: e.g. `basic_action`, `consent_required`.
    #[serde(default)]
    pub suberror: Option<String>,
    /// Microsoft: a claims challenge to pass back on re-authentication.
    #[serde(default)]
    pub claims: Option<String>,
}

/// Why a grant is gone (the sign-out message says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// Google "Token has been expired or revoked.", or a revoked Microsoft grant.
    ExpiredOrRevoked,
    /// Google `invalid_rapt`: the Workspace requires re-authentication.
    ReauthRequired,
    /// Google `admin_policy_enforced`: an admin policy blocks the app or scope.
    AdminPolicy,
    /// AADSTS50173: the password changed or the grant was revoked.
    PasswordChanged,
    /// AADSTS70043 / AADSTS700082: the refresh token expired (sign-in frequency, inactivity).
    Expired,
    /// AADSTS50057: the account is disabled.
    AccountDisabled,
}

/// What a failed token request means for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    /// The refresh token is no longer valid: signed out now.
    GrantRevoked(RevokeReason),
    /// The provider needs the agent in an interactive window (MFA, consent,
    /// conditional access); `claims` is a claims challenge to include.
    InteractionRequired { claims: Option<String> },
    /// The client itself is refused: an admin must fix the app registration.
    InvalidClient(String),
    /// 429 / 5xx / network: try again later (seconds, when the provider said).
    Transient { retry_after: Option<u64> },
    /// Anything else, with the provider's words.
    Other(String),
}

/// Parses a successful token response.
pub fn parse_tokens(body: &str) -> Result<TokenResponse, String> {
    serde_json::from_str(body).map_err(|e| format!("unreadable token response: {e}"))
}

/// Classifies a token endpoint failure from its status, body and Retry-After.
pub fn classify(status: u16, body: &str, retry_after: Option<&str>) -> TokenFailure {
    if status == 429 || status >= 500 {
        return TokenFailure::Transient {
            retry_after: retry_after.and_then(|r| r.trim().parse().ok()),
        };
    }
    let Ok(e) = serde_json::from_str::<ErrorBody>(body) else {
        return TokenFailure::Other(format!("HTTP {status}"));
    };
    let desc = e.error_description.clone().unwrap_or_default();
    let aad = |code: u64| e.error_codes.contains(&code) || desc.contains(&format!("AADSTS{code}:"));
    if e.error == "invalid_client" || e.error == "unauthorized_client" {
        return TokenFailure::InvalidClient(if desc.is_empty() { e.error } else { desc });
    }
    if e.error == "admin_policy_enforced"
        || e.error_subtype.as_deref() == Some("admin_policy_enforced")
    {
        return TokenFailure::GrantRevoked(RevokeReason::AdminPolicy);
    }
    if e.error == "interaction_required"
        || e.suberror.as_deref() == Some("basic_action")
        || e.claims.is_some()
    {
        return TokenFailure::InteractionRequired { claims: e.claims };
    }
    if e.error == "invalid_grant" {
        let reason = if e.error_subtype.as_deref() == Some("invalid_rapt")
            || desc.contains("invalid_rapt")
        {
            RevokeReason::ReauthRequired
        } else if aad(50173) {
            RevokeReason::PasswordChanged
        } else if aad(70043) || aad(700082) {
            RevokeReason::Expired
        } else if aad(50057) {
            RevokeReason::AccountDisabled
        } else if aad(50076) || aad(50079) || aad(65001) {
            return TokenFailure::InteractionRequired { claims: e.claims };
        } else {
            RevokeReason::ExpiredOrRevoked
        };
        return TokenFailure::GrantRevoked(reason);
    }
    TokenFailure::Other(if desc.is_empty() { e.error } else { desc })
}

/// A Bearer challenge from an API's `WWW-Authenticate` header (RFC 6750 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Microsoft continuous access evaluation: the decoded claims JSON.
    pub claims: Option<String>,
}

impl BearerChallenge {
    /// `insufficient_claims` with claims: re-acquire a token with them (CAE).
    pub fn is_claims_challenge(&self) -> bool {
        self.error.as_deref() == Some("insufficient_claims") && self.claims.is_some()
    }
}

/// Parses `Bearer realm="", error="insufficient_claims", claims="eyJ..."`.
/// Microsoft sends `claims` base64-encoded; it is decoded here.
pub fn parse_bearer_challenge(header: &str) -> Option<BearerChallenge> {
    let rest = header.trim().strip_prefix("Bearer")?.trim_start();
    let mut out = BearerChallenge::default();
    let mut s = rest;
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key {
            "error" => out.error = Some(value.to_owned()),
            "error_description" => out.error_description = Some(value.to_owned()),
            "claims" => {
                let decoded = STANDARD
                    .decode(value)
                    .or_else(|_| URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')))
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                out.claims = Some(decoded.unwrap_or_else(|| value.to_owned()));
            }
            _ => {}
        }
        s = next.trim_start().trim_start_matches(',').trim_start();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    //! The bodies below are the providers' own wording.
    use super::*;

    #[test]
    fn google_bodies() {
        assert_eq!(
            classify(
                400,
                r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
                None
            ),
            TokenFailure::GrantRevoked(RevokeReason::ExpiredOrRevoked)
        );
        assert_eq!(
            classify(
                400,
                r#"{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)","error_uri":"https://support.google.com/a/answer/9368756","error_subtype":"invalid_rapt"}"#,
                None
            ),
            TokenFailure::GrantRevoked(RevokeReason::ReauthRequired)
        );
        assert_eq!(
            classify(
                400,
                r#"{"error":"admin_policy_enforced","error_description":"Access denied by admin policy."}"#,
                None
            ),
            TokenFailure::GrantRevoked(RevokeReason::AdminPolicy)
        );
        assert_eq!(
            classify(
                401,
                r#"{"error":"invalid_client","error_description":"The OAuth client was not found."}"#,
                None
            ),
            TokenFailure::InvalidClient("The OAuth client was not found.".into())
        );
    }

    #[test]
    fn microsoft_bodies() {
        let ms = |code: u64, text: &str| {
            format!(
                r#"{{"error":"invalid_grant","error_description":"AADSTS{code}: {text} Trace ID: 0 Correlation ID: 0 Timestamp: 2026-11-22 07:00:00Z","error_codes":[{code}]}}"#
            )
        };
        assert_eq!(
            classify(
                400,
                &ms(
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed."
                ),
                None
            ),
            TokenFailure::GrantRevoked(RevokeReason::PasswordChanged)
        );
        assert_eq!(
            classify(
                400,
                &ms(
                    70043,
                    "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access."
                ),
                None
            ),
            TokenFailure::GrantRevoked(RevokeReason::Expired)
        );
        assert_eq!(
            classify(400, &ms(50057, "The user account is disabled."), None),
            TokenFailure::GrantRevoked(RevokeReason::AccountDisabled)
        );
        assert_eq!(
            classify(
                400,
                r#"{"error":"interaction_required","error_description":"AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.","error_codes":[50076],"suberror":"basic_action"}"#,
                None
            ),
            TokenFailure::InteractionRequired { claims: None }
        );
        assert!(matches!(
            classify(400, r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#, None),
            TokenFailure::InvalidClient(d) if d.contains("AADSTS7000215")
        ));
    }

    #[test]
    fn transient_and_odd_answers() {
        assert_eq!(
            classify(429, "", Some("7")),
            TokenFailure::Transient {
                retry_after: Some(7)
            }
        );
        assert_eq!(
            classify(503, "<html>", None),
            TokenFailure::Transient { retry_after: None }
        );
        assert_eq!(
            classify(400, "not json", None),
            TokenFailure::Other("HTTP 400".into())
        );
        assert_eq!(
            classify(400, r#"{"error":"unsupported_grant_type"}"#, None),
            TokenFailure::Other("unsupported_grant_type".into())
        );
        let t = parse_tokens(r#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer","id_token":"a.b.c"}"#).unwrap();
        assert_eq!(t.expires_in, Some(3599));
        assert_eq!(t.refresh_token, None);
        assert_eq!(t.access_token.expose(), "ya29.x");
        let with_refresh =
            parse_tokens(r#"{"access_token":"ya29.x","refresh_token":"1//rt"}"#).unwrap();
        assert_eq!(
            with_refresh.refresh_token.as_ref().map(Secret::expose),
            Some("1//rt")
        );
        let debug = format!("{with_refresh:?}");
        assert!(
            !debug.contains("ya29") && !debug.contains("1//rt"),
            "{debug}"
        );
        assert!(parse_tokens("{}").is_err());
    }

    #[test]
    fn claims_challenges() {
        let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1763800000"}}}"#;
        let header = format!(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="{}""#,
            STANDARD.encode(claims)
        );
        let c = parse_bearer_challenge(&header).unwrap();
        assert!(c.is_claims_challenge());
        assert_eq!(c.claims.as_deref(), Some(claims));
        let plain = parse_bearer_challenge(
            r#"Bearer error="invalid_token", error_description="The access token expired""#,
        )
        .unwrap();
        assert!(!plain.is_claims_challenge());
        assert_eq!(plain.error.as_deref(), Some("invalid_token"));
        assert_eq!(parse_bearer_challenge("Basic realm=x"), None);
        assert_eq!(
            parse_bearer_challenge("Bearer"),
            Some(BearerChallenge::default())
        );
    }
}
