//! One sign-in as a conversation: the worker starts it with what it knows
//! (settings, a cached discovery document, whether the host is connected)
//! and then tells it each answer — the discovery document, the provider's
//! window, the code exchange (through the host, or here as a public client
//! when there is no host), the key set, userinfo when the ID token lacks the
//! identity claims (the `oidc` kind), the platform's session — and it says
//! what to do next. Every refusal and check is here: which provider is
//! offered, the state and nonce, the ID token, the company's sign-in method,
//! the same subject when answering a challenge, the platform's refusal; a
//! failure after tokens were issued first makes the worker forget them.
//!
//! The same flow answers a claims challenge and adds a scope (incremental
//! authorization) for the agent already signed in: [`Challenge`] says who
//! must come back.

use serde_json::Value;

use super::http::{HttpAnswer, HttpRequest};
use crate::auth::idtoken::{self, Claims, Expectations, IdTokenError, Jwks};
use crate::auth::pkce::RequestSecrets;
use crate::auth::provider::{self, Discovery, ProviderConfig, ProviderKind, SetupProblem};
use crate::auth::session::{
    self, Notice, PlatformAgent, PlatformRefusal, Profile, SignInFailure, TokenHome,
};
use crate::auth::token;
use crate::protocol::{AuthAccount, AuthExchangeParams, ErrorBody, ErrorCode, TokenGrant};
use crate::secret::Secret;
use crate::settings::Settings;

/// The flow again for the agent already signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// A claims challenge to answer (Microsoft continuous access evaluation).
    pub claims: Option<String>,
    /// One more scope to add (the side panel's Connect).
    pub scope: Option<&'static str>,
    pub login_hint: String,
    /// Who must come back.
    pub subject: String,
    /// The platform's view of the agent (kept when a scope is added).
    pub agent: Option<PlatformAgent>,
}

/// What the worker does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Fetch the discovery document; tell [`SignIn::discovered`].
    Discover(HttpRequest),
    /// Open the provider's window at this URL; tell [`SignIn::redirected`].
    OpenWindow(String),
    /// The code exchange through the host; tell [`SignIn::exchanged_in_host`].
    ExchangeInHost(AuthExchangeParams),
    /// The code exchange here (public client); tell [`SignIn::exchanged_here`].
    ExchangeHere(HttpRequest),
    /// The key set with this key id (from the cache, or fetched); tell
    /// [`SignIn::keys`].
    Keys { jwks_uri: String, kid: String },
    /// The identity claims the ID token lacks, from the provider's userinfo
    /// endpoint (the request carries the access token); tell
    /// [`SignIn::userinfo`].
    Userinfo(HttpRequest),
    /// Present the ID token to the platform; tell [`SignIn::platform_answered`].
    PlatformSession(HttpRequest),
    /// Tokens were issued but the sign-in fails: delete the host's secret
    /// store entry (revoking the grant), then the sign-in ends with
    /// [`Step::Failed`] (call [`SignIn::forgotten`]).
    Forget(AuthAccount),
    /// Signed in.
    Done(Box<SignedIn>),
    /// Not signed in: why, and the email the provider named (for the message).
    Failed(SignInFailure, String),
}

/// A successful sign-in: what the worker keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub profile: Profile,
    pub grant: TokenGrant,
    /// The refresh token when there is no host (kept in storage.session).
    pub refresh_token: Option<Secret>,
    /// The platform's session id (the bearer of platform requests).
    pub platform_session: Option<String>,
    /// Where the tokens live, when that needs saying.
    pub notice: Option<Notice>,
    /// The discovery document (the worker caches it by issuer).
    pub discovery: Discovery,
}

/// A sign-in in progress.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// None: the provider is not offered (the flow failed at its start).
    cfg: Option<ProviderConfig>,
    issuer: String,
    client_id: String,
    challenge: Option<Challenge>,
    secrets: RequestSecrets,
    redirect_uri: String,
    host: bool,
    method: Settings,
    platform_url: Option<String>,
    discovery: Option<Discovery>,
    grant: Option<TokenGrant>,
    refresh_token: Option<Secret>,
    home: TokenHome,
    email: String,
    profile: Option<Profile>,
    failure: Option<SignInFailure>,
    /// The ID token's claims, verified, while userinfo is asked.
    claims: Option<Claims>,
    /// Seconds since the epoch, as told with the keys.
    now_s: u64,
}

impl SignIn {
    /// Starts a sign-in with `kind`. `discovery`: the issuer's document when
    /// cached. `host`: whether the native host is connected (it exchanges
    /// the code and keeps the refresh token).
    pub fn start(
        kind: ProviderKind,
        settings: &Settings,
        challenge: Option<Challenge>,
        secrets: RequestSecrets,
        redirect_uri: String,
        host: bool,
        discovery: impl FnOnce(&str) -> Option<Discovery>,
    ) -> (SignIn, Step) {
        let cfg = settings
            .offered_providers()
            .into_iter()
            .find(|p| p.kind == kind)
            .cloned();
        let setup = |p: SetupProblem| Step::Failed(SignInFailure::Setup(p), String::new());
        let mut flow = SignIn {
            cfg: cfg.clone(),
            issuer: String::new(),
            client_id: String::new(),
            // Adding a scope keeps the session the platform already knows.
            platform_url: settings
                .platform_url
                .clone()
                .filter(|_| challenge.as_ref().is_none_or(|c| c.scope.is_none())),
            challenge,
            secrets,
            redirect_uri,
            host,
            method: settings.clone(),
            discovery: None,
            grant: None,
            refresh_token: None,
            home: TokenHome::Browser,
            email: String::new(),
            profile: None,
            failure: None,
            claims: None,
            now_s: 0,
        };
        let Some(cfg) = cfg else {
            return (flow, setup(SetupProblem::NoProvider));
        };
        let issuer = match cfg.issuer() {
            Ok(i) => i,
            Err(p) => return (flow, setup(p)),
        };
        let client_id = match cfg.client_id() {
            Ok(c) => c.to_owned(),
            Err(p) => return (flow, setup(p)),
        };
        flow.issuer = issuer;
        flow.client_id = client_id;
        let step = match discovery(&flow.issuer) {
            Some(d) => flow.with_discovery(d),
            None => Step::Discover(HttpRequest::get(provider::discovery_url(&flow.issuer))),
        };
        (flow, step)
    }

    fn account(&self) -> AuthAccount {
        AuthAccount {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
        }
    }

    /// The discovery document's answer (or why there is none).
    pub fn discovered(&mut self, answer: Result<HttpAnswer, String>) -> Step {
        let url = provider::discovery_url(&self.issuer);
        let a = match answer {
            Ok(a) => a,
            Err(e) => return self.fail(SignInFailure::Unreachable(format!("{url}: {e}"))),
        };
        if a.status != 200 {
            return self.fail(SignInFailure::Setup(SetupProblem::BadDiscovery {
                reason: format!("{url} answered HTTP {}", a.status),
            }));
        }
        match provider::parse_discovery(&a.body, &self.issuer) {
            Ok(d) => self.with_discovery(d),
            Err(p) => self.fail(SignInFailure::Setup(p)),
        }
    }

    fn with_discovery(&mut self, d: Discovery) -> Step {
        let Some(cfg) = &self.cfg else {
            return self.fail(SignInFailure::Setup(SetupProblem::NoProvider));
        };
        let c = self.challenge.as_ref();
        let extras = provider::Extras {
            login_hint: c.map(|c| c.login_hint.as_str()),
            claims: c.and_then(|c| c.claims.as_deref()),
            incremental: c.and_then(|c| c.scope),
        };
        if let Some(p) = d.unverifiable_algs() {
            return self.fail(SignInFailure::Setup(p));
        }
        let url =
            provider::authorization_url_with(cfg, &d, &self.redirect_uri, &self.secrets, &extras);
        self.discovery = Some(d);
        match url {
            Ok(url) => Step::OpenWindow(url),
            Err(p) => self.fail(SignInFailure::Setup(p)),
        }
    }

    /// The provider's window closed: the URL it redirected to, or
    /// `launchWebAuthFlow`'s rejection (the agent closed it, or the page
    /// could not be loaded: a setup matter).
    pub fn redirected(&mut self, answer: Result<String, String>) -> Step {
        let url = match answer {
            Ok(url) => url,
            Err(e) => return self.fail(SignInFailure::from(provider::window_failure(&e))),
        };
        let code = match provider::parse_redirect(&url, &self.secrets.state) {
            Ok(code) => code,
            Err(e) => return self.fail(SignInFailure::from(e)),
        };
        let Some(d) = &self.discovery else {
            return self.fail(SignInFailure::Exchange("no discovery document".into()));
        };
        if self.host {
            return Step::ExchangeInHost(AuthExchangeParams {
                account: self.account(),
                code,
                code_verifier: self.secrets.verifier.clone(),
                redirect_uri: self.redirect_uri.clone(),
            });
        }
        Step::ExchangeHere(HttpRequest::post_form(
            d.token_endpoint.clone(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", &self.secrets.verifier),
                ("client_id", &self.client_id),
                ("redirect_uri", &self.redirect_uri),
            ],
        ))
    }

    /// The host's answer to the code exchange.
    pub fn exchanged_in_host(&mut self, answer: Result<Value, ErrorBody>) -> Step {
        let grant = answer
            .map_err(|e| match (e.kind(), &e.detail) {
                (Some(ErrorCode::ProviderRefused), Some(d)) => session::exchange_failure(
                    d["status"].as_u64().unwrap_or(400) as u16,
                    d["body"].as_str().unwrap_or_default(),
                ),
                (Some(ErrorCode::ProviderMisconfigured), _) => {
                    SignInFailure::Setup(SetupProblem::BadDiscovery { reason: e.message })
                }
                _ => SignInFailure::Unreachable(e.message),
            })
            .and_then(|v| {
                crate::json::from_value::<TokenGrant>(v)
                    .map_err(|e| SignInFailure::Exchange(e.to_string()))
            });
        match grant {
            Ok(grant) => {
                self.home = if grant.stored {
                    TokenHome::Host
                } else {
                    TokenHome::Browser
                };
                self.granted(grant)
            }
            Err(f) => self.fail(f),
        }
    }

    /// The token endpoint's answer to the exchange made here.
    pub fn exchanged_here(&mut self, answer: Result<HttpAnswer, String>) -> Step {
        let a = match answer {
            Ok(a) => a,
            Err(e) => return self.fail(SignInFailure::Unreachable(e)),
        };
        if a.status != 200 {
            return self.fail(session::exchange_failure(a.status, &a.body));
        }
        let t = match token::parse_tokens(&a.body) {
            Ok(t) => t,
            Err(e) => return self.fail(SignInFailure::Exchange(e)),
        };
        self.home = TokenHome::Browser;
        self.refresh_token = t.refresh_token;
        self.granted(TokenGrant {
            access_token: t.access_token.expose().to_owned(),
            id_token: t.id_token.as_ref().map(|s| s.expose().to_owned()),
            expires_in: t.expires_in,
            scope: t.scope,
            stored: false,
            store_error: None,
        })
    }

    fn granted(&mut self, grant: TokenGrant) -> Step {
        let id_token = grant.id_token.clone();
        self.grant = Some(grant);
        let Some(id_token) = id_token else {
            return self.fail(SignInFailure::Exchange("no id_token".into()));
        };
        self.email = idtoken::peek_claims(&id_token)
            .ok()
            .and_then(|c| c.login_email().map(str::to_owned))
            .unwrap_or_default();
        let kid = match idtoken::peek_kid(&id_token) {
            Ok(kid) => kid,
            Err(e) => return self.fail(SignInFailure::IdToken(e)),
        };
        let jwks_uri = self
            .discovery
            .as_ref()
            .map(|d| d.jwks_uri.clone())
            .unwrap_or_default();
        Step::Keys { jwks_uri, kid }
    }

    /// The provider's keys (or why they could not be had), and the time now
    /// in seconds since the epoch.
    pub fn keys(&mut self, keys: Result<Jwks, SignInFailure>, now_s: u64) -> Step {
        let jwks = match keys {
            Ok(k) => k,
            Err(f) => return self.fail(f),
        };
        let Some(cfg) = self.cfg.clone() else {
            return self.fail(SignInFailure::Setup(SetupProblem::NoProvider));
        };
        self.now_s = now_s;
        let id_token = self.id_token();
        // Each key is pinned to its algorithm (idtoken), not to what a cached
        // discovery document advertised: it may predate a switch of algorithm.
        let claims = idtoken::verify_signature(&id_token, &jwks)
            .and_then(|c| idtoken::check_token(&c, &self.expectations(&cfg)).map(|()| c));
        let claims = match claims {
            Ok(c) => c,
            // An algorithm Ringside cannot verify is the admin's to change
            // (`none` and HMAC are refused as invalid tokens).
            Err(IdTokenError::UnsupportedAlg(alg)) if !idtoken::forbidden_alg(&alg) => {
                return self.fail(SignInFailure::Setup(SetupProblem::UnsupportedAlgorithm {
                    alg,
                }));
            }
            Err(e) => return self.fail(SignInFailure::IdToken(e)),
        };
        // OpenID Connect Core §5.4: a provider may give the identity claims
        // only at userinfo, to the access token.
        let userinfo = self
            .discovery
            .as_ref()
            .and_then(|d| d.userinfo_endpoint.clone());
        let access = self.grant.as_ref().map(|g| g.access_token.clone());
        if let (ProviderKind::Oidc, true, Some(url), Some(access)) =
            (cfg.kind, claims.lacks_identity(), userinfo, access)
        {
            self.claims = Some(claims);
            return Step::Userinfo(
                HttpRequest::get(url).with_header("Authorization", format!("Bearer {access}")),
            );
        }
        self.identified(claims)
    }

    /// The userinfo endpoint's answer: the identity claims the ID token
    /// lacked (same `sub`), then every check on the merged claims.
    pub fn userinfo(&mut self, answer: Result<HttpAnswer, String>) -> Step {
        let Some(mut claims) = self.claims.take() else {
            return self.fail(SignInFailure::Exchange("no ID token".into()));
        };
        let answer = match answer {
            Ok(a) if a.status == 200 => Ok(a.body),
            Ok(a) => Err(format!("HTTP {}", a.status)),
            Err(e) => Err(e),
        };
        match answer {
            Ok(body) => {
                if let Err(e) = claims.merge_userinfo(&body) {
                    return self.fail(SignInFailure::IdToken(e));
                }
            }
            // Only name or picture missing: the token alone will do.
            Err(e) if claims.lacks_email() => {
                let url = self
                    .discovery
                    .as_ref()
                    .and_then(|d| d.userinfo_endpoint.clone())
                    .unwrap_or_default();
                return self.fail(SignInFailure::Unreachable(format!("{url}: {e}")));
            }
            Err(_) => {}
        }
        if let Some(e) = claims.login_email() {
            self.email = e.to_owned();
        }
        self.identified(claims)
    }

    fn id_token(&self) -> String {
        self.grant
            .as_ref()
            .and_then(|g| g.id_token.clone())
            .unwrap_or_default()
    }

    fn expectations<'a>(&'a self, cfg: &'a ProviderConfig) -> Expectations<'a> {
        Expectations {
            kind: cfg.kind,
            issuer: &self.issuer,
            client_id: &self.client_id,
            nonce: &self.secrets.nonce,
            now: self.now_s,
            allowed_domains: &cfg.allowed_domains,
            tenant: cfg.tenant.as_deref(),
        }
    }

    /// The identity checks (verified email, allowed domain, Entra tenant).
    fn identified(&mut self, claims: Claims) -> Step {
        let Some(cfg) = self.cfg.clone() else {
            return self.fail(SignInFailure::Setup(SetupProblem::NoProvider));
        };
        if let Err(e) = idtoken::check_identity(&claims, &self.expectations(&cfg)) {
            return self.fail(SignInFailure::IdToken(e));
        }
        let id_token = self.id_token();
        self.verified(claims, cfg.kind, id_token)
    }

    fn verified(&mut self, claims: Claims, kind: ProviderKind, id_token: String) -> Step {
        let mut profile =
            Profile::from_claims(&claims, kind, &self.issuer, &self.client_id, self.home);
        if let Err(method) = self.method.method_allows(&profile) {
            let method = crate::json::to_value(method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            return self.fail(SignInFailure::Platform(PlatformRefusal::MethodNotAllowed {
                method,
            }));
        }
        if let Some(c) = &self.challenge {
            if c.subject != claims.sub {
                // Someone else signed in to answer the challenge: not this session.
                return self.fail(SignInFailure::Exchange("another account".into()));
            }
            if c.scope.is_some() {
                profile.agent = c.agent.clone();
            }
        }
        self.profile = Some(profile);
        match &self.platform_url {
            Some(base) => Step::PlatformSession(HttpRequest::post_json(
                format!("{}/v1/sessions", base.trim_end_matches('/')),
                session::platform_session_request(
                    &id_token,
                    self.grant.as_ref().map_or("", |g| g.access_token.as_str()),
                ),
            )),
            None => self.done(None),
        }
    }

    /// The platform's answer to the session request.
    pub fn platform_answered(&mut self, answer: Result<HttpAnswer, String>) -> Step {
        let url = self.platform_url.clone().unwrap_or_default();
        let a = match answer {
            Ok(a) => a,
            Err(e) => {
                return self.fail(SignInFailure::Platform(PlatformRefusal::Other(format!(
                    "{url}/v1/sessions: {e}"
                ))));
            }
        };
        match session::platform_session(a.status, &a.body) {
            Ok((agent, id)) => {
                if let Some(p) = self.profile.as_mut() {
                    p.agent = Some(agent);
                }
                self.done(id)
            }
            Err(r) => self.fail(SignInFailure::Platform(r)),
        }
    }

    fn done(&mut self, platform_session: Option<String>) -> Step {
        let (Some(profile), Some(grant), Some(discovery)) = (
            self.profile.take(),
            self.grant.take(),
            self.discovery.clone(),
        ) else {
            return self.fail(SignInFailure::Exchange("incomplete sign-in".into()));
        };
        let notice = match (&grant.store_error, self.home) {
            (Some(e), _) => Some(Notice::new("signinStoreUnavailable", &[e])),
            // The helper is there: the provider issued no refresh token.
            (None, TokenHome::Browser) if self.host => {
                Some(Notice::new("signinNoRefreshToken", &[]))
            }
            (None, TokenHome::Browser) => Some(Notice::new("signinBrowserOnly", &[])),
            (None, TokenHome::Host) => None,
        };
        Step::Done(Box::new(SignedIn {
            profile,
            grant,
            refresh_token: self.refresh_token.take(),
            platform_session,
            notice,
            discovery,
        }))
    }

    /// A failure: tokens kept by the host are forgotten first.
    fn fail(&mut self, failure: SignInFailure) -> Step {
        if self.grant.is_some() && self.home == TokenHome::Host {
            self.failure = Some(failure);
            self.grant = None;
            return Step::Forget(self.account());
        }
        Step::Failed(failure, self.email.clone())
    }

    /// The host forgot the tokens of a failed sign-in.
    pub fn forgotten(&mut self) -> Step {
        let failure = self
            .failure
            .take()
            .unwrap_or_else(|| SignInFailure::Exchange("failed".into()));
        Step::Failed(failure, self.email.clone())
    }

    /// The discovery document, once known (the worker caches it).
    pub fn discovery(&self) -> Option<&Discovery> {
        self.discovery.as_ref()
    }
}

#[cfg(test)]
#[path = "signin_oidc_tests.rs"]
mod oidc_tests;
#[cfg(test)]
#[path = "signin_tests.rs"]
mod tests;
