//! The native host's sign-in requests (`auth.exchange`, `auth.refresh`,
//! `auth.forget`) and their results, as they cross the native port. Codes,
//! verifiers and tokens never reach a log through Debug.

use serde::{Deserialize, Serialize};

/// Which stored sign-in a token request is about: the provider and the
/// OAuth client. The host keys its secret store entry on both
/// ([`AuthAccount::key`]) and finds the endpoints through the issuer's discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthAccount {
    pub issuer: String,
    pub client_id: String,
}

impl AuthAccount {
    /// The secret store's account name (`username` attribute).
    pub fn key(&self) -> String {
        format!("{} {}", self.issuer.trim_end_matches('/'), self.client_id)
    }
}

/// `auth.exchange`: the authorization code from the redirect and its PKCE verifier.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthExchangeParams {
    #[serde(flatten)]
    pub account: AuthAccount,
    pub code: String,
    pub code_verifier: String,
    pub redirect_uri: String,
}

/// `auth.refresh`: a new access token from the stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRefreshParams {
    #[serde(flatten)]
    pub account: AuthAccount,
    /// Ask for these scopes only (space-separated); absent: what was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// `auth.forget`: sign out; revoke at the provider (when asked) and delete the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthForgetParams {
    #[serde(flatten)]
    pub account: AuthAccount,
    #[serde(default)]
    pub revoke: bool,
    /// The session's access token, when the provider issued no refresh token
    /// (nothing stored): the host revokes it instead, with the client secret
    /// it may hold and without the browser's CORS rules, so the grant does
    /// not outlive the sign-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<crate::secret::Secret>,
}

/// What `auth.exchange` and `auth.refresh` return. The refresh token never
/// leaves the host.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Whether a refresh token is now in the OS secret store.
    pub stored: bool,
    /// Why it is not, when the store failed (the session then ends with the browser).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
}

// Codes, verifiers and tokens never reach a log through Debug.
impl std::fmt::Debug for AuthExchangeParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthExchangeParams")
            .field("account", &self.account)
            .field("code", &"[redacted]")
            .field("code_verifier", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("access_token", &"[redacted]")
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("stored", &self.stored)
            .field("store_error", &self.store_error)
            .finish()
    }
}

/// What `auth.forget` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetResult {
    /// The provider confirmed the revocation.
    pub revoked: bool,
    /// There was an entry and it is gone.
    pub deleted: bool,
    /// Why the revocation did not happen, when asked for and not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_error: Option<String>,
}
