//! The signed-in agent as every surface sees it, and what each way a sign-in
//! can fail tells the agent. The service worker runs the flow (discovery,
//! launchWebAuthFlow, the exchange through the host or as a public client,
//! the ID token check, the platform) and records the outcome here.

use serde::{Deserialize, Serialize};

use super::idtoken::{Claims, IdTokenError};
use super::provider::{ProviderKind, RedirectError, SetupProblem, classify_provider_error};
use super::token::{TokenFailure, classify};

/// Where the session's tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenHome {
    /// The refresh token is in the OS secret store (through the native host).
    Host,
    /// No host: tokens in storage.session only; the session ends with the browser.
    Browser,
}

/// The agent as the phone platform knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformAgent {
    pub login_email: String,
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub privileged: bool,
}

/// Who is signed in. Not secret: kept in storage.local so the popup can show
/// it at once after a browser restart while the host refreshes the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub picture: Option<String>,
    pub provider: ProviderKind,
    pub issuer: String,
    pub client_id: String,
    pub subject: String,
    pub home: TokenHome,
    #[serde(default)]
    pub agent: Option<PlatformAgent>,
    /// A Microsoft agent's Entra identity, from the verified ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entra: Option<EntraIdentity>,
}

/// Who a Microsoft agent is. `email` in an Entra token is not verified (any
/// tenant's admin, or a user of some tenants, can set it to any address), so
/// Ringside keys the agent on the tenant and the object id, and trusts a
/// sign-in name only within the tenant the admin configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntraIdentity {
    /// `tid`: the agent's tenant.
    pub tenant: String,
    /// `oid`: the user's object id in that tenant.
    pub object_id: String,
    /// `preferred_username`: the UPN, whose domain the tenant has verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl Profile {
    pub fn from_claims(
        c: &Claims,
        provider: ProviderKind,
        issuer: &str,
        client_id: &str,
        home: TokenHome,
    ) -> Profile {
        let email = c.login_email().unwrap_or_default().to_owned();
        Profile {
            name: c.name.clone().unwrap_or_else(|| email.clone()),
            email,
            picture: c.picture.clone().filter(|p| p.starts_with("https://")),
            provider,
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            subject: c.sub.clone(),
            home,
            agent: None,
            entra: match (provider, &c.tid, &c.oid) {
                (ProviderKind::Microsoft, Some(tenant), Some(object_id)) => Some(EntraIdentity {
                    tenant: tenant.clone(),
                    object_id: object_id.clone(),
                    username: c.preferred_username.clone(),
                }),
                _ => None,
            },
        }
    }

    /// Whose local contact store this agent's is: a Google agent by email
    /// (verified: `email_verified` is checked), a Microsoft agent by tenant
    /// and object id (`microsoft:<tid>:<oid>`). None for an agent who has no
    /// store (a generic OIDC provider, or a Microsoft profile kept by an older
    /// version, without tid/oid, until the agent signs in again).
    pub fn store_owner(&self) -> Option<String> {
        match self.provider {
            ProviderKind::Google => Some(self.email.trim().to_lowercase()),
            ProviderKind::Microsoft => self.entra.as_ref().map(|e| {
                format!(
                    "microsoft:{}:{}",
                    e.tenant.to_lowercase(),
                    e.object_id.to_lowercase()
                )
            }),
            ProviderKind::Oidc | ProviderKind::Password | ProviderKind::Sso => None,
        }
    }
}

/// Where the sign-in is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    #[default]
    SignedOut,
    /// The flow runs (the provider's window is open, or tokens are being checked).
    SigningIn {
        provider: ProviderKind,
    },
    /// After a restart: the profile is known, the host is refreshing the token.
    Restoring,
    SignedIn,
}

/// A message for the agent: a `_locales` key and its substitutions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub key: String,
    #[serde(default)]
    pub subs: Vec<String>,
}

impl Notice {
    pub fn new(key: &str, subs: &[&str]) -> Notice {
        Notice {
            key: key.to_owned(),
            subs: subs.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// The sign-in part of the state every surface renders.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuthView {
    #[serde(flatten)]
    pub phase: Phase,
    pub profile: Option<Profile>,
    /// Why the last attempt failed, or why the session ended.
    pub notice: Option<Notice>,
    /// A provider-side setup problem found during a sign-in (the admin warning).
    pub setup: Option<SetupProblem>,
    /// `chrome.identity.getRedirectURL()`: what the admin registers.
    pub redirect_uri: String,
    /// How long the last token refresh through the host took (diagnostics).
    #[serde(default)]
    pub last_refresh_ms: Option<u32>,
    /// When it finished (milliseconds since the epoch).
    #[serde(default)]
    pub last_refresh_at: Option<u64>,
    /// A sign-out that waits for its time (the countdown).
    #[serde(default)]
    pub pending_sign_out: Option<super::revocation::PendingSignOut>,
    /// What the last sign-out means for the call (`_locales` key).
    #[serde(default)]
    pub call_note: Option<String>,
}

impl AuthView {
    pub fn signed_in(&self) -> bool {
        self.phase == Phase::SignedIn || self.phase == Phase::Restoring
    }
}

/// Why a sign-in did not complete. Each has its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInFailure {
    /// The provider rejected the app's registration: the admin must act.
    Setup(SetupProblem),
    /// The agent closed the provider's window.
    Cancelled,
    /// The provider said no (access_denied and the like).
    Provider(String),
    /// The redirect did not match the request (state).
    Replay,
    IdToken(IdTokenError),
    /// The token endpoint refused for another reason.
    Exchange(String),
    Unreachable(String),
    /// The phone platform refused the agent.
    Platform(PlatformRefusal),
}

/// The platform's answers to `POST /v1/sessions` that are not a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformRefusal {
    NotInvited,
    EmailMismatch {
        login_email: String,
    },
    MethodNotAllowed {
        method: String,
    },
    /// Email and password sign-in: no email or no password typed.
    MissingCredentials,
    /// Password sign-in is for the privileged users policy lists.
    PasswordPrivilegedOnly,
    /// The platform refused the email and password; how many attempts are
    /// left before the lockout, when it says.
    WrongPassword {
        remaining: Option<u64>,
    },
    /// Too many wrong passwords: try again in this many minutes (None: the
    /// platform did not say).
    LockedOut {
        minutes: Option<u64>,
    },
    /// The platform has no SSO set up for this company.
    SsoNotConfigured,
    /// Anything else: the platform's own words, or its status.
    Other(String),
}

impl SignInFailure {
    /// The `_locales` key and substitutions.
    pub fn notice(&self, email: &str) -> Notice {
        match self {
            SignInFailure::Setup(p) => Notice::new(p.message_key(), &[]),
            SignInFailure::Cancelled => Notice::new("signinCancelled", &[]),
            SignInFailure::Provider(d) => Notice::new("signinProviderSaid", &[d]),
            SignInFailure::Replay => Notice::new("signinReplay", &[]),
            SignInFailure::IdToken(IdTokenError::WrongDomain { allowed, .. }) => {
                Notice::new("signinWrongDomain", &[allowed])
            }
            SignInFailure::IdToken(e) => Notice::new(e.message_key(), &[email]),
            SignInFailure::Exchange(d) => Notice::new("signinExchangeFailed", &[d]),
            SignInFailure::Unreachable(d) => Notice::new("signinUnreachable", &[d]),
            SignInFailure::Platform(PlatformRefusal::NotInvited) => {
                Notice::new("signinNotInvited", &[email])
            }
            SignInFailure::Platform(PlatformRefusal::EmailMismatch { login_email }) => {
                Notice::new("signinEmailMismatch", &[email, login_email])
            }
            SignInFailure::Platform(PlatformRefusal::MethodNotAllowed { method }) => {
                Notice::new("signinMethodNotAllowed", &[method])
            }
            SignInFailure::Platform(PlatformRefusal::MissingCredentials) => {
                Notice::new("signinPasswordMissing", &[])
            }
            SignInFailure::Platform(PlatformRefusal::PasswordPrivilegedOnly) => {
                Notice::new("signinPasswordPrivilegedOnly", &[])
            }
            SignInFailure::Platform(PlatformRefusal::WrongPassword { remaining: None }) => {
                Notice::new("signinWrongPassword", &[])
            }
            SignInFailure::Platform(PlatformRefusal::WrongPassword { remaining: Some(n) }) => {
                Notice::new("signinWrongPasswordRemaining", &[&n.to_string()])
            }
            SignInFailure::Platform(PlatformRefusal::LockedOut { minutes: None }) => {
                Notice::new("signinLockedOut", &[])
            }
            SignInFailure::Platform(PlatformRefusal::LockedOut { minutes: Some(m) }) => {
                Notice::new("signinLockedOutMinutes", &[&m.to_string()])
            }
            SignInFailure::Platform(PlatformRefusal::SsoNotConfigured) => {
                Notice::new("signinSsoNotConfigured", &[])
            }
            SignInFailure::Platform(PlatformRefusal::Other(d)) => {
                Notice::new("signinPlatformFailed", &[d])
            }
        }
    }
}

impl From<RedirectError> for SignInFailure {
    fn from(e: RedirectError) -> Self {
        match e {
            RedirectError::Cancelled => SignInFailure::Cancelled,
            RedirectError::StateMismatch => SignInFailure::Replay,
            RedirectError::MissingCode => SignInFailure::Provider("no code".into()),
            RedirectError::Provider {
                error,
                description,
                setup,
            } => match setup.or_else(|| classify_provider_error(&error, &description)) {
                Some(p) => SignInFailure::Setup(p),
                None if description.is_empty() => SignInFailure::Provider(error),
                None => SignInFailure::Provider(description),
            },
        }
    }
}

/// A token endpoint's refusal (status and body as the provider sent them) at
/// sign-in: a bad client or redirect is the admin's to fix.
pub fn exchange_failure(status: u16, body: &str) -> SignInFailure {
    if let Ok(b) = serde_json::from_str::<super::token::ErrorBody>(body)
        && let Some(p) =
            classify_provider_error(&b.error, b.error_description.as_deref().unwrap_or_default())
    {
        return SignInFailure::Setup(p);
    }
    match classify(status, body, None) {
        TokenFailure::InvalidClient(d) => {
            SignInFailure::Setup(SetupProblem::InvalidClient { detail: d })
        }
        TokenFailure::Transient { .. } => SignInFailure::Unreachable(format!("HTTP {status}")),
        TokenFailure::GrantRevoked(_) => SignInFailure::Exchange("invalid_grant".into()),
        TokenFailure::InteractionRequired { .. } => {
            SignInFailure::Exchange("interaction_required".into())
        }
        TokenFailure::Other(d) => SignInFailure::Exchange(d),
    }
}

/// The body of `POST /v1/sessions`: the ID token, and the access token too
/// when the ID token names nobody (no email: a provider that gives identity
/// claims only at userinfo, OpenID Connect Core §5.4), so the platform can
/// read userinfo itself with it and check the same `sub`. The platform never
/// takes identity claims from the extension. Otherwise the access token
/// stays here: it may carry more than the platform needs (contacts).
pub fn platform_session_request(id_token: &str, access_token: &str) -> serde_json::Value {
    let anonymous = super::idtoken::peek_claims(id_token).map_or(true, |c| c.lacks_email());
    if anonymous && !access_token.is_empty() {
        serde_json::json!({ "id_token": id_token, "access_token": access_token })
    } else {
        serde_json::json!({ "id_token": id_token })
    }
}

/// Reads the platform's answer to `POST /v1/sessions`: the agent and the
/// platform session id (for its event stream).
pub fn platform_session(
    status: u16,
    body: &str,
) -> Result<(PlatformAgent, Option<String>), PlatformRefusal> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    if (200..300).contains(&status) {
        let agent = crate::json::from_value(v["agent"].clone())
            .map_err(|e| PlatformRefusal::Other(format!("unreadable answer: {e}")))?;
        let session = v["session"]["id"].as_str().map(str::to_owned);
        return Ok((agent, session));
    }
    let code = v["error"]["code"].as_str().unwrap_or_default();
    let message = v["error"]["message"].as_str().unwrap_or_default();
    match code {
        "user_not_invited" => Err(PlatformRefusal::NotInvited),
        "email_mismatch" => Err(PlatformRefusal::EmailMismatch {
            login_email: v["login_email"].as_str().unwrap_or_default().to_owned(),
        }),
        "method_not_allowed" => Err(PlatformRefusal::MethodNotAllowed {
            method: v["method"].as_str().unwrap_or_default().to_owned(),
        }),
        "invalid_credentials" => Err(PlatformRefusal::WrongPassword {
            remaining: v["remaining_attempts"].as_u64(),
        }),
        "locked_out" => Err(PlatformRefusal::LockedOut {
            minutes: v["retry_after"].as_u64().map(|s| s.div_ceil(60).max(1)),
        }),
        "sso_not_configured" => Err(PlatformRefusal::SsoNotConfigured),
        _ if !message.is_empty() => Err(PlatformRefusal::Other(message.to_owned())),
        _ => Err(PlatformRefusal::Other(format!("HTTP {status}"))),
    }
}

/// The strings of the sign-in part of the popup and options page.
pub const UI_KEYS: &[&str] = &[
    "accountTitle",
    "signInGoogle",
    "signInMicrosoft",
    "signInOidc",
    "signingIn",
    "signedInWith",
    "providerGoogle",
    "providerMicrosoft",
    "providerOidc",
    "signInPassword",
    "providerPassword",
    "signInSso",
    "providerSso",
    "passwordEmailLabel",
    "passwordLabel",
    "passwordFormTitle",
    "passwordPrivilegedHint",
    "signingInPassword",
    "restoringSession",
    "setupTitle",
    "redirectUriLabel",
    "signOut",
    "refreshSession",
    "lastRefresh",
    "platformAgent",
    "tokenHomeHost",
    "tokenHomeBrowser",
    "signInPrompt",
];

/// The button label and provider name keys of a provider kind.
pub fn provider_keys(kind: ProviderKind) -> (&'static str, &'static str) {
    match kind {
        ProviderKind::Google => ("signInGoogle", "providerGoogle"),
        ProviderKind::Microsoft => ("signInMicrosoft", "providerMicrosoft"),
        ProviderKind::Oidc => ("signInOidc", "providerOidc"),
        ProviderKind::Password => ("signInPassword", "providerPassword"),
        ProviderKind::Sso => ("signInSso", "providerSso"),
    }
}

/// Every `_locales` key this module hands out.
pub const MESSAGE_KEYS: &[&str] = &[
    "signinCancelled",
    "signinProviderSaid",
    "signinExchangeFailed",
    "signinUnreachable",
    "signinNotInvited",
    "signinEmailMismatch",
    "signinMethodNotAllowed",
    "signinPlatformFailed",
    "signinPasswordMissing",
    "signinPasswordPrivilegedOnly",
    "signinWrongPassword",
    "signinWrongPasswordRemaining",
    "signinLockedOut",
    "signinLockedOutMinutes",
    "signinSsoNotConfigured",
    // Handed out by the service worker around these.
    "signinStoreUnavailable",
    "signinBrowserOnly",
    "signinNoRefreshToken",
    "sessionStoreEmpty",
    "sessionStoreLocked",
    "sessionRevoked",
    "sessionEndedWithBrowser",
    "signedOut",
    "signedOutNotRevoked",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: serde_json::Value) -> Claims {
        let mut base = serde_json::json!({
            "iss": "https://issuer", "sub": "s-1", "aud": "c", "exp": 2, "iat": 1,
        });
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        crate::json::from_value(base).unwrap()
    }

    fn unsigned(claims: serde_json::Value) -> String {
        use base64::Engine as _;
        let enc = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(serde_json::json!({"alg": "RS256"})),
            enc(claims)
        )
    }

    #[test]
    fn the_platform_gets_the_access_token_only_for_an_id_token_that_names_nobody() {
        let base =
            serde_json::json!({"iss": "https://i", "sub": "s-1", "aud": "c", "exp": 2, "iat": 1});
        let sub_only = unsigned(base.clone());
        let mut with_email = base;
        with_email["email"] = "ana@example.com".into();
        with_email["email_verified"] = true.into();
        let named = unsigned(with_email);
        assert_eq!(
            platform_session_request(&sub_only, "at-1"),
            serde_json::json!({"id_token": sub_only, "access_token": "at-1"})
        );
        // An ID token with the email: the access token (which may reach
        // contacts) stays in the extension.
        assert_eq!(
            platform_session_request(&named, "at-1"),
            serde_json::json!({"id_token": named})
        );
        assert_eq!(
            platform_session_request(&sub_only, ""),
            serde_json::json!({"id_token": sub_only})
        );
    }

    #[test]
    fn microsoft_agents_are_keyed_on_tenant_and_object_id_not_email() {
        let tid = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
        let ana = claims(serde_json::json!({
            "tid": tid, "oid": "OID-1", "email": "ana@contoso.com",
            "preferred_username": "ana@contoso.com",
        }));
        let p = Profile::from_claims(&ana, ProviderKind::Microsoft, "i", "c", TokenHome::Host);
        assert_eq!(
            p.store_owner().as_deref(),
            Some("microsoft:72f988bf-86f1-41af-91ab-2d7cd011db47:oid-1")
        );
        let e = p.entra.as_ref().unwrap();
        assert_eq!(e.username.as_deref(), Some("ana@contoso.com"));
        // Someone in another tenant whose `email` says Ana's address gets
        // another store; the same person under a new address keeps hers.
        let mallory = claims(serde_json::json!({
            "tid": "11111111-2222-3333-4444-555555555555", "oid": "OID-9", "email": "ana@contoso.com",
        }));
        let m = Profile::from_claims(&mallory, ProviderKind::Microsoft, "i", "c", TokenHome::Host);
        assert_eq!(m.email, p.email);
        assert_ne!(m.store_owner(), p.store_owner());
        let renamed = claims(
            serde_json::json!({"tid": tid, "oid": "OID-1", "email": "ana.ruiz@contoso.com"}),
        );
        let r = Profile::from_claims(&renamed, ProviderKind::Microsoft, "i", "c", TokenHome::Host);
        assert_eq!(r.store_owner(), p.store_owner());
        // A profile an older version stored (no tid/oid) has no store until
        // the agent signs in again.
        let old: Profile = crate::json::from_value(serde_json::json!({
            "name": "Ana", "email": "ana@contoso.com", "provider": "microsoft", "issuer": "i",
            "clientId": "c", "subject": "s", "home": "host",
        }))
        .unwrap();
        assert_eq!(old.store_owner(), None);
        // Google: the verified email, lower case; no Entra identity.
        let g = Profile::from_claims(
            &claims(serde_json::json!({"email": "Ana@Example.com", "tid": tid, "oid": "x"})),
            ProviderKind::Google,
            "i",
            "c",
            TokenHome::Host,
        );
        assert_eq!(g.entra, None);
        assert_eq!(g.store_owner().as_deref(), Some("ana@example.com"));
        let o = Profile::from_claims(&ana, ProviderKind::Oidc, "i", "c", TokenHome::Host);
        assert_eq!(o.store_owner(), None);
    }

    #[test]
    fn platform_refusals_are_told_apart() {
        assert_eq!(
            platform_session(
                403,
                r#"{"error":{"code":"user_not_invited","message":"x"}}"#
            ),
            Err(PlatformRefusal::NotInvited)
        );
        assert_eq!(
            platform_session(
                403,
                r#"{"error":{"code":"method_not_allowed","message":"x"},"method":"microsoft"}"#
            ),
            Err(PlatformRefusal::MethodNotAllowed {
                method: "microsoft".into()
            })
        );
        let ok = platform_session(
            200,
            r#"{"agent":{"login_email":"ana@example.com","name":"Ana","role":"agent","privileged":false}}"#,
        )
        .unwrap();
        assert_eq!(ok.0.login_email, "ana@example.com");
        assert_eq!(
            platform_session(502, "<html>bad gateway</html>"),
            Err(PlatformRefusal::Other("HTTP 502".into()))
        );
    }

    #[test]
    fn a_bad_client_at_the_token_endpoint_is_the_admins_to_fix() {
        let google = r#"{"error":"invalid_client","error_description":"Unauthorized"}"#;
        assert!(matches!(
            exchange_failure(401, google),
            SignInFailure::Setup(SetupProblem::InvalidClient { .. })
        ));
        let ms = r#"{"error":"invalid_request","error_description":"AADSTS50011: The redirect URI does not match"}"#;
        assert!(matches!(
            exchange_failure(400, ms),
            SignInFailure::Setup(SetupProblem::RedirectUriMismatch { .. })
        ));
        assert_eq!(
            exchange_failure(503, ""),
            SignInFailure::Unreachable("HTTP 503".into())
        );
    }

    #[test]
    fn redirect_errors_map_to_their_messages() {
        let f: SignInFailure = RedirectError::Provider {
            error: "access_denied".into(),
            description: String::new(),
            setup: None,
        }
        .into();
        assert_eq!(f.notice("a@b").key, "signinProviderSaid");
        let f: SignInFailure = RedirectError::Provider {
            error: "unauthorized_client".into(),
            description: String::new(),
            setup: None,
        }
        .into();
        assert!(matches!(f, SignInFailure::Setup(_)));
        assert_eq!(
            SignInFailure::from(RedirectError::Cancelled).notice("").key,
            "signinCancelled"
        );
    }

    #[test]
    fn every_key_is_listed() {
        let all = [
            SignInFailure::Cancelled,
            SignInFailure::Provider("x".into()),
            SignInFailure::Exchange("x".into()),
            SignInFailure::Unreachable("x".into()),
            SignInFailure::Platform(PlatformRefusal::NotInvited),
            SignInFailure::Platform(PlatformRefusal::EmailMismatch {
                login_email: "x".into(),
            }),
            SignInFailure::Platform(PlatformRefusal::MethodNotAllowed { method: "x".into() }),
            SignInFailure::Platform(PlatformRefusal::Other("x".into())),
        ];
        for f in all {
            let k = f.notice("a@b").key;
            assert!(
                MESSAGE_KEYS.contains(&k.as_str())
                    || super::super::MESSAGE_KEYS.contains(&k.as_str()),
                "{k}"
            );
        }
    }
}
