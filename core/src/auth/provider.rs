//! Identity providers: their configuration (policy or options), OpenID
//! discovery, the authorization request, and what comes back on the redirect,
//! including the errors that mean an admin must change something.

use serde::{Deserialize, Serialize};

use super::pkce::RequestSecrets;

pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Microsoft's v2.0 issuer for a tenant (`organizations` for any work account).
pub fn microsoft_issuer(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/v2.0")
}

/// Google's read-only contacts scope, asked at sign-in (the sidebar's Gmail,
/// Drive and Calendar scopes are asked later, one by one).
pub const GOOGLE_CONTACTS_SCOPE: &str = "https://www.googleapis.com/auth/contacts.readonly";
/// Read access to the rest of the agent's contacts: "other contacts" (people
/// they emailed) and, for Workspace accounts, the company directory.
pub const GOOGLE_OTHER_CONTACTS_SCOPE: &str =
    "https://www.googleapis.com/auth/contacts.other.readonly";
pub const GOOGLE_DIRECTORY_SCOPE: &str = "https://www.googleapis.com/auth/directory.readonly";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Google,
    Microsoft,
    Oidc,
    /// A session the phone platform issued for the agent's email and
    /// password (never an entry of `identityProviders`).
    Password,
    /// A session the phone platform issued after its SSO broker (SAML with
    /// the company's identity provider; never an entry of `identityProviders`).
    Sso,
}

/// One identity provider as an admin configures it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// Defaults: Google's issuer; Microsoft's for `tenant` (or `organizations`).
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Google Workspace domains (`hd`) allowed to sign in; empty: any.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Entra tenant id (`tid`) allowed to sign in.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// What is wrong with a provider's setup, for the admin warning (popup and
/// options page show it with the redirect URI to register).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum SetupProblem {
    #[error("no identity provider is configured")]
    NoProvider,
    #[error("the {kind:?} provider has no client id")]
    NoClientId { kind: ProviderKind },
    #[error("the issuer `{issuer}` is not an https URL")]
    BadIssuer { issuer: String },
    #[error("the provider's discovery document is unusable: {reason}")]
    BadDiscovery { reason: String },
    #[error(
        "the provider does not know this client (the client id is wrong or the app was deleted): {detail}"
    )]
    InvalidClient { detail: String },
    #[error("the provider refused the redirect URI; register it exactly: {detail}")]
    RedirectUriMismatch { detail: String },
    /// The provider signs ID tokens only with algorithms Ringside does not
    /// verify (from discovery, or the token's header).
    #[error(
        "the provider signs ID tokens with {alg}; Ringside verifies RS256, PS256 and ES256: choose one of them for the app"
    )]
    UnsupportedAlgorithm { alg: String },
    /// The browser could not load the provider's page: it answered the
    /// authorization request with an error page (unknown client, redirect
    /// URI not registered), which Chromium does not show.
    #[error(
        "the provider's sign-in page could not be loaded ({detail}): check the client id and register the redirect URI"
    )]
    AuthPageNotLoaded { detail: String },
}

impl SetupProblem {
    /// `_locales` key of the admin warning.
    pub fn message_key(&self) -> &'static str {
        match self {
            SetupProblem::NoProvider => "setupNoProvider",
            SetupProblem::NoClientId { .. } => "setupNoClientId",
            SetupProblem::BadIssuer { .. } | SetupProblem::BadDiscovery { .. } => {
                "setupBadDiscovery"
            }
            SetupProblem::InvalidClient { .. } => "setupInvalidClient",
            SetupProblem::RedirectUriMismatch { .. } => "setupRedirectMismatch",
            SetupProblem::AuthPageNotLoaded { .. } => "setupAuthPageNotLoaded",
            SetupProblem::UnsupportedAlgorithm { .. } => "setupUnsupportedAlg",
        }
    }
}

impl ProviderConfig {
    /// The issuer to discover: configured, else the provider's default;
    /// https only (plain http on loopback in the emulator build).
    pub fn issuer(&self) -> Result<String, SetupProblem> {
        self.issuer_for(crate::EMULATOR_BUILD)
    }

    /// [`Self::issuer`] with the build's http rule given (`loopback_http`:
    /// the emulator build), so both flavours can be tested.
    pub fn issuer_for(&self, loopback_http: bool) -> Result<String, SetupProblem> {
        let issuer = match (&self.issuer, self.kind) {
            (Some(i), _) if !i.trim().is_empty() => i.trim().trim_end_matches('/').to_owned(),
            (_, ProviderKind::Google) => GOOGLE_ISSUER.to_owned(),
            (_, ProviderKind::Microsoft) => {
                microsoft_issuer(self.tenant.as_deref().unwrap_or("organizations"))
            }
            (_, ProviderKind::Oidc | ProviderKind::Password | ProviderKind::Sso) => {
                return Err(SetupProblem::BadIssuer {
                    issuer: String::new(),
                });
            }
        };
        if !url_is_acceptable(&issuer, loopback_http) {
            return Err(SetupProblem::BadIssuer { issuer });
        }
        Ok(issuer)
    }

    pub fn client_id(&self) -> Result<&str, SetupProblem> {
        self.client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or(SetupProblem::NoClientId { kind: self.kind })
    }

    /// Scopes asked at sign-in: identity, contacts (read), offline access.
    pub fn sign_in_scopes(&self) -> Vec<&'static str> {
        match self.kind {
            ProviderKind::Google => vec![
                "openid",
                "email",
                "profile",
                GOOGLE_CONTACTS_SCOPE,
                GOOGLE_OTHER_CONTACTS_SCOPE,
                GOOGLE_DIRECTORY_SCOPE,
            ],
            ProviderKind::Microsoft => {
                vec![
                    "openid",
                    "email",
                    "profile",
                    "offline_access",
                    "Contacts.Read",
                ]
            }
            ProviderKind::Oidc => vec!["openid", "email", "profile", "offline_access"],
            ProviderKind::Password | ProviderKind::Sso => vec![],
        }
    }
}

/// The parts of an OpenID Provider Configuration document Ringside uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// Empty: not advertised.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// The ID token signature algorithms; empty: not advertised.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
}

impl Discovery {
    /// Whether an ID token signed with `alg` is what this provider
    /// advertises (anything, when it advertises nothing).
    pub fn advertises_alg(&self, alg: &str) -> bool {
        self.id_token_signing_alg_values_supported.is_empty()
            || self
                .id_token_signing_alg_values_supported
                .iter()
                .any(|a| a == alg)
    }

    /// Set up so that Ringside cannot verify its ID tokens: it advertises
    /// only algorithms Ringside does not verify.
    pub fn unverifiable_algs(&self) -> Option<SetupProblem> {
        let algs = &self.id_token_signing_alg_values_supported;
        (!algs.is_empty()
            && !algs
                .iter()
                .any(|a| super::idtoken::SUPPORTED_ALGS.contains(&a.as_str())))
        .then(|| SetupProblem::UnsupportedAlgorithm {
            alg: algs.join(", "),
        })
    }

    /// Whether the provider may issue refresh tokens for `offline_access`:
    /// it lists the scope, or lists no scopes at all (RECOMMENDED only).
    pub fn offers_offline_access(&self) -> bool {
        self.scopes_supported.is_empty()
            || self.scopes_supported.iter().any(|s| s == "offline_access")
    }
}

/// Parses a discovery document and checks it belongs to `issuer` (OpenID
/// Connect Discovery §4.3). Microsoft's multi-tenant documents carry a
/// `{tenantid}` placeholder in `issuer`; that is accepted for `organizations`
/// and `common`, and the ID token's `tid` is then checked instead.
pub fn parse_discovery(body: &str, issuer: &str) -> Result<Discovery, SetupProblem> {
    let bad = |reason: String| SetupProblem::BadDiscovery { reason };
    let d: Discovery = serde_json::from_str(body).map_err(|e| bad(e.to_string()))?;
    let same = d.issuer.trim_end_matches('/') == issuer.trim_end_matches('/');
    let templated = d.issuer.contains("{tenantid}")
        && (issuer.contains("/organizations/") || issuer.contains("/common/"));
    if !same && !templated {
        return Err(bad(format!(
            "it says issuer `{}`, expected `{issuer}`",
            d.issuer
        )));
    }
    if !d.code_challenge_methods_supported.is_empty()
        && !d
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
    {
        return Err(bad("the provider does not support PKCE S256".into()));
    }
    // The endpoints get the code, the PKCE verifier and (in the host) the
    // client secret: the same https rule as the issuer.
    let endpoints = [
        Some(&d.authorization_endpoint),
        Some(&d.token_endpoint),
        Some(&d.jwks_uri),
        d.userinfo_endpoint.as_ref(),
        d.revocation_endpoint.as_ref(),
        d.end_session_endpoint.as_ref(),
    ];
    if let Some(e) = endpoints
        .into_iter()
        .flatten()
        .find(|e| !url_is_acceptable(e, crate::EMULATOR_BUILD))
    {
        return Err(bad(format!("the endpoint `{e}` is not an https URL")));
    }
    Ok(d)
}

/// An issuer Ringside talks to: https; plain http only on a loopback host and
/// only in a build made for the emulator ([`crate::EMULATOR_BUILD`]). Checked by
/// the extension and again by the host, which fetches discovery itself.
pub fn issuer_is_acceptable(issuer: &str) -> bool {
    url_is_acceptable(issuer, crate::EMULATOR_BUILD)
}

/// The rule for every URL that receives a token, a password or a call
/// (issuers, API roots, the platform URL): `https://host[:port]/...`, or
/// `http://` on a loopback host (127.0.0.0/8, `localhost`, `[::1]`) when
/// `loopback_http` (the emulator build) allows it.
///
/// The authority is read whole, so `http://localhost:1@evil.example/` (a
/// user-info trick) is refused. (No `url` crate: it would weigh on the wasm.)
pub fn url_is_acceptable(url: &str, loopback_http: bool) -> bool {
    let (secure, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains(['@', ' ', '\\'])
        || url.contains(char::is_whitespace)
    {
        return false;
    }
    // host, then an optional :port of digits; an IPv6 host is bracketed.
    let (host, port) = match authority.find(']') {
        Some(end) if authority.starts_with('[') => authority.split_at(end + 1),
        _ => authority.split_at(authority.find(':').unwrap_or(authority.len())),
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if host.is_empty() || !port_ok {
        return false;
    }
    secure || (loopback_http && is_loopback_host(host))
}

/// 127.0.0.0/8 (dotted quad), `localhost` or `[::1]` (case-insensitive).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts[0] == "127"
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u8>().is_ok()
        })
}

/// The URL of the discovery document for an issuer.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The authorization request URL (code flow, PKCE S256, state, nonce).
pub fn authorization_url(
    cfg: &ProviderConfig,
    discovery: &Discovery,
    redirect_uri: &str,
    secrets: &RequestSecrets,
    login_hint: Option<&str>,
) -> Result<String, SetupProblem> {
    authorization_url_with_claims(cfg, discovery, redirect_uri, secrets, login_hint, None)
}

/// [`authorization_url`] answering a claims challenge (Microsoft continuous
/// access evaluation): the decoded `claims` JSON goes in the `claims`
/// parameter, as Entra expects.
pub fn authorization_url_with_claims(
    cfg: &ProviderConfig,
    discovery: &Discovery,
    redirect_uri: &str,
    secrets: &RequestSecrets,
    login_hint: Option<&str>,
    claims: Option<&str>,
) -> Result<String, SetupProblem> {
    authorization_url_with(
        cfg,
        discovery,
        redirect_uri,
        secrets,
        &Extras {
            login_hint,
            claims,
            incremental: None,
        },
    )
}

/// What an authorization request adds to a plain sign-in.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    pub login_hint: Option<&'a str>,
    pub claims: Option<&'a str>,
    /// Incremental authorization: ask for this scope alone (with `openid
    /// email` for the ID token that proves who came back); Google adds it
    /// to what was granted before (`include_granted_scopes`).
    pub incremental: Option<&'a str>,
}

pub fn authorization_url_with(
    cfg: &ProviderConfig,
    discovery: &Discovery,
    redirect_uri: &str,
    secrets: &RequestSecrets,
    extras: &Extras<'_>,
) -> Result<String, SetupProblem> {
    let Extras {
        login_hint,
        claims,
        incremental,
    } = *extras;
    let scope = match incremental {
        // Microsoft issues a refresh token only with offline_access.
        Some(extra) if cfg.kind == ProviderKind::Microsoft => {
            format!("openid email offline_access {extra}")
        }
        Some(extra) => format!("openid email {extra}"),
        // A provider that lists its scopes without offline_access would
        // refuse the request (Okta: invalid_scope).
        None => cfg
            .sign_in_scopes()
            .into_iter()
            .filter(|s| {
                *s != "offline_access"
                    || cfg.kind != ProviderKind::Oidc
                    || discovery.offers_offline_access()
            })
            .collect::<Vec<_>>()
            .join(" "),
    };
    // OpenID Connect Core §11: offline_access is ignored unless the
    // request asks for consent.
    let offline = scope.split(' ').any(|s| s == "offline_access");
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", cfg.client_id()?)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &scope)
        .append_pair("state", &secrets.state)
        .append_pair("nonce", &secrets.nonce)
        .append_pair("code_challenge", &secrets.challenge)
        .append_pair("code_challenge_method", "S256");
    match cfg.kind {
        ProviderKind::Google => {
            // A refresh token, and later scopes added to the same grant.
            q.append_pair("access_type", "offline")
                .append_pair("include_granted_scopes", "true")
                .append_pair("prompt", "consent");
            if let Some(d) = cfg
                .allowed_domains
                .first()
                .filter(|_| cfg.allowed_domains.len() == 1)
            {
                q.append_pair("hd", d);
            }
        }
        ProviderKind::Microsoft => {
            q.append_pair("response_mode", "query");
        }
        ProviderKind::Oidc if offline => {
            q.append_pair("prompt", "consent");
        }
        ProviderKind::Oidc | ProviderKind::Password | ProviderKind::Sso => {}
    }
    if let Some(h) = login_hint {
        q.append_pair("login_hint", h);
    }
    if let Some(c) = claims {
        q.append_pair("claims", c);
    }
    let sep = if discovery.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(format!(
        "{}{sep}{}",
        discovery.authorization_endpoint,
        q.finish()
    ))
}

/// Why a redirect did not bring a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// The provider refused; `setup` is set when an admin must act.
    #[error("the provider answered {error}: {description}")]
    Provider {
        error: String,
        description: String,
        setup: Option<SetupProblem>,
    },
    /// The agent closed the window or declined consent.
    #[error("sign-in was cancelled")]
    Cancelled,
    #[error("the answer does not belong to this sign-in (state mismatch)")]
    StateMismatch,
    #[error("the provider's answer has no code")]
    MissingCode,
}

/// Why `launchWebAuthFlow` rejected, from its message: Chromium says "The
/// user did not approve access." when the agent closed the window, and
/// "Authorization page could not be loaded." at once when the provider
/// answered with an error page (HTTP 4xx/5xx: an unknown client or a
/// redirect URI it does not know). Anything else counts as closed.
pub fn window_failure(message: &str) -> RedirectError {
    if message.to_ascii_lowercase().contains("could not be loaded") {
        return RedirectError::Provider {
            error: "page_not_loaded".into(),
            description: message.to_owned(),
            setup: Some(SetupProblem::AuthPageNotLoaded {
                detail: message.to_owned(),
            }),
        };
    }
    RedirectError::Cancelled
}

/// Reads the redirect URL `launchWebAuthFlow` returns: the code, after
/// checking `state`.
pub fn parse_redirect(url: &str, expected_state: &str) -> Result<String, RedirectError> {
    let query = url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(q))
        .unwrap_or("");
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = String::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = v.into_owned(),
            _ => {}
        }
    }
    if let Some(error) = error {
        let setup = classify_provider_error(&error, &description);
        // Declined consent (Google: bare access_denied; Microsoft: AADSTS65004).
        if error == "access_denied" && setup.is_none() {
            return Err(RedirectError::Cancelled);
        }
        return Err(RedirectError::Provider {
            error,
            description,
            setup,
        });
    }
    if state.as_deref() != Some(expected_state) {
        return Err(RedirectError::StateMismatch);
    }
    code.filter(|c| !c.is_empty())
        .ok_or(RedirectError::MissingCode)
}

/// Provider errors (OAuth `error` plus description) that an admin must fix.
/// Google answers `invalid_client` / `redirect_uri_mismatch`; Microsoft puts
/// AADSTS codes in the description.
pub fn classify_provider_error(error: &str, description: &str) -> Option<SetupProblem> {
    let detail = if description.is_empty() {
        error.to_owned()
    } else {
        description.to_owned()
    };
    let aad = |code: &str| description.contains(code);
    if error == "redirect_uri_mismatch" || aad("AADSTS50011") || aad("AADSTS500113") {
        Some(SetupProblem::RedirectUriMismatch { detail })
    } else if error == "invalid_client"
        || error == "unauthorized_client"
        || aad("AADSTS700016")
        || aad("AADSTS7000215")
        || aad("AADSTS90002")
    {
        Some(SetupProblem::InvalidClient { detail })
    } else {
        None
    }
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
