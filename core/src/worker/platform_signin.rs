//! Sign-in the phone platform does itself, as a conversation like
//! [`super::signin`]: with the agent's email and password (the platform's
//! password grant), or through the platform's SSO broker (the platform runs
//! SAML with the company's identity provider and redirects back with a
//! one-time code, exchanged with PKCE for a platform session). Either way the
//! outcome is a platform session, with no provider token: it lasts as long as
//! the browser's session, is revoked through the platform's event stream and
//! is deleted at the platform on sign-out.
//!
//! The password lives in the popup's field and in the one request built
//! here, never in the flow itself (which keeps only the email), storage, a
//! URL or a log: [`Step`]'s `Debug` leaves the request's body out.

use serde_json::{Value, json};

use super::http::{HttpAnswer, HttpRequest};
use crate::auth::pkce::RequestSecrets;
use crate::auth::provider::{self, ProviderKind, RedirectError, SetupProblem};
use crate::auth::session::{
    self, Notice, PlatformAgent, PlatformRefusal, Profile, SignInFailure, TokenHome,
};
use crate::secret::Secret;
use crate::settings::{Settings, SignInMethod};

/// Whether the popup offers "Sign in with password": the platform is known
/// (from policy) and the company signs in with passwords, or policy lists
/// privileged users (who may use a password whatever the method).
pub fn password_offered(settings: &Settings) -> bool {
    settings.platform_url.is_some()
        && (settings.sign_in_method == Some(SignInMethod::Password)
            || !settings.privileged_users.is_empty())
}

/// Whether the popup offers "Sign in with your company's SSO": the platform
/// is known and the company's method is its SSO broker.
pub fn sso_offered(settings: &Settings) -> bool {
    settings.platform_url.is_some() && settings.sign_in_method == Some(SignInMethod::Sso)
}

/// Whether `email` may sign in with a password: everyone when the company
/// signs in with passwords, else only the privileged users policy lists.
/// Checked before the password leaves the popup's request.
pub fn password_allowed(settings: &Settings, email: &str) -> Result<(), PlatformRefusal> {
    let email = email.trim().to_lowercase();
    if settings.sign_in_method == Some(SignInMethod::Password)
        || settings.privileged_users.contains(&email)
    {
        return Ok(());
    }
    Err(PlatformRefusal::PasswordPrivilegedOnly)
}

/// What the worker does next.
#[derive(Clone, PartialEq)]
pub enum Step {
    /// Open the broker's window (`launchWebAuthFlow`) at this URL; tell
    /// [`PlatformSignIn::redirected`].
    OpenWindow(String),
    /// Send this to the platform; tell [`PlatformSignIn::answered`].
    Session(HttpRequest),
    /// Signed in.
    Done(Box<PlatformSignedIn>),
    /// Not signed in: why, and the email (for the message).
    Failed(SignInFailure, String),
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::OpenWindow(u) => f.debug_tuple("OpenWindow").field(u).finish(),
            // The body may carry the password.
            Step::Session(r) => f.debug_tuple("Session").field(&r.url).finish(),
            Step::Done(d) => f.debug_tuple("Done").field(d).finish(),
            Step::Failed(e, m) => f.debug_tuple("Failed").field(e).field(m).finish(),
        }
    }
}

/// A platform session: the agent's profile and the session.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformSignedIn {
    pub profile: Profile,
    /// The session id (the bearer of platform requests and the event stream).
    pub session: String,
    /// Seconds the session lasts.
    pub expires_in: u64,
}

/// A platform sign-in in progress.
#[derive(Debug, Clone)]
pub struct PlatformSignIn {
    kind: ProviderKind,
    base: String,
    email: String,
    /// The SSO request's state and PKCE verifier.
    secrets: Option<RequestSecrets>,
    redirect_uri: String,
}

/// `{platform}/v1/sessions`.
fn sessions_url(base: &str) -> String {
    format!("{}/v1/sessions", base.trim_end_matches('/'))
}

impl PlatformSignIn {
    fn new(kind: ProviderKind, settings: &Settings) -> (PlatformSignIn, Option<Step>) {
        let base = settings.platform_url.clone().unwrap_or_default();
        let flow = PlatformSignIn {
            kind,
            base,
            email: String::new(),
            secrets: None,
            redirect_uri: String::new(),
        };
        // The platform URL is policy's alone (settings validated it: https,
        // or loopback in the emulator build).
        let refused = flow.base.is_empty().then(|| {
            Step::Failed(
                SignInFailure::Setup(SetupProblem::NoProvider),
                String::new(),
            )
        });
        (flow, refused)
    }

    /// Email and password: the one request that carries the password.
    pub fn password(settings: &Settings, email: &str, password: &Secret) -> (PlatformSignIn, Step) {
        let (mut flow, refused) = Self::new(ProviderKind::Password, settings);
        flow.email = email.trim().to_lowercase();
        if let Some(step) = refused {
            return (flow, step);
        }
        if flow.email.is_empty() || password.expose().is_empty() {
            let step = flow.fail(PlatformRefusal::MissingCredentials);
            return (flow, step);
        }
        if let Err(r) = password_allowed(settings, &flow.email) {
            let step = flow.fail(r);
            return (flow, step);
        }
        let body = json!({
            "grant_type": "password",
            "login_email": flow.email,
            "password": password.expose(),
        });
        let step = Step::Session(HttpRequest::post_json(sessions_url(&flow.base), body));
        (flow, step)
    }

    /// The SSO broker: its start page with the redirect URI, `state` and the
    /// PKCE S256 challenge.
    pub fn sso(
        settings: &Settings,
        secrets: RequestSecrets,
        redirect_uri: String,
    ) -> (PlatformSignIn, Step) {
        let (mut flow, refused) = Self::new(ProviderKind::Sso, settings);
        if let Some(step) = refused {
            return (flow, step);
        }
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", &secrets.state)
            .append_pair("code_challenge", &secrets.challenge)
            .append_pair("code_challenge_method", "S256");
        let url = format!(
            "{}/sso/start?{}",
            flow.base.trim_end_matches('/'),
            q.finish()
        );
        flow.secrets = Some(secrets);
        flow.redirect_uri = redirect_uri;
        (flow, Step::OpenWindow(url))
    }

    /// The broker's window closed: the URL it redirected to (checked like
    /// an OpenID provider's: our redirect URI, our `state`), or why not.
    pub fn redirected(&mut self, answer: Result<String, String>) -> Step {
        let Some(secrets) = self.secrets.clone() else {
            return Step::Failed(SignInFailure::Replay, String::new());
        };
        let url = match answer {
            Ok(url) => url,
            Err(e) => return Step::Failed(provider::window_failure(&e).into(), String::new()),
        };
        if !url.starts_with(&self.redirect_uri) || self.redirect_uri.is_empty() {
            return Step::Failed(SignInFailure::Replay, String::new());
        }
        let code = match provider::parse_redirect(&url, &secrets.state) {
            Ok(code) => code,
            Err(RedirectError::Provider { error, .. }) if error == "sso_not_configured" => {
                return self.fail(PlatformRefusal::SsoNotConfigured);
            }
            Err(e) => return Step::Failed(e.into(), String::new()),
        };
        let body = json!({
            "grant_type": "sso_code",
            "code": code,
            "code_verifier": secrets.verifier,
            "redirect_uri": self.redirect_uri,
        });
        Step::Session(HttpRequest::post_json(sessions_url(&self.base), body))
    }

    /// The platform's answer to the session request.
    pub fn answered(&mut self, answer: Result<HttpAnswer, String>) -> Step {
        let url = sessions_url(&self.base);
        let a = match answer {
            Ok(a) => a,
            Err(e) => return self.fail(PlatformRefusal::Other(format!("{url}: {e}"))),
        };
        let expires_in = serde_json::from_str::<Value>(&a.body)
            .ok()
            .and_then(|v| v["session"]["expires_in"].as_u64())
            .unwrap_or(8 * 3600);
        match session::platform_session(a.status, &a.body) {
            Ok((agent, Some(id))) => {
                let profile = platform_profile(agent, self.kind, &self.base);
                Step::Done(Box::new(PlatformSignedIn {
                    profile,
                    session: id,
                    expires_in,
                }))
            }
            Ok((_, None)) => self.fail(PlatformRefusal::Other(format!("{url}: no session"))),
            Err(r) => self.fail(r),
        }
    }

    fn fail(&self, r: PlatformRefusal) -> Step {
        Step::Failed(SignInFailure::Platform(r), self.email.clone())
    }
}

/// The profile of a platform session: the platform's agent, keyed on the
/// login email; no provider token, so it lasts with the browser's session.
pub fn platform_profile(agent: PlatformAgent, kind: ProviderKind, base: &str) -> Profile {
    let email = agent.login_email.trim().to_lowercase();
    Profile {
        name: if agent.name.is_empty() {
            email.clone()
        } else {
            agent.name.clone()
        },
        email: email.clone(),
        picture: None,
        provider: kind,
        issuer: base.trim_end_matches('/').to_owned(),
        client_id: String::new(),
        subject: email,
        home: TokenHome::Browser,
        agent: Some(agent),
        entra: None,
    }
}

/// Whether `profile` is a platform session (password or SSO).
pub fn is_platform(profile: &Profile) -> bool {
    matches!(profile.provider, ProviderKind::Password | ProviderKind::Sso)
}

/// The storage.session record of a platform session: when it ends (no
/// token: the platform session id is kept under its own key).
pub fn token_record(expires_in: u64, now_ms: f64) -> (Value, f64) {
    let expires_at = now_ms + expires_in as f64 * 1000.0;
    (
        json!({ super::session_store::KEY_TOKENS: { "expires_at": expires_at } }),
        expires_at,
    )
}

/// Sign-out of a platform session: `DELETE {platform}/v1/sessions/current`
/// with the session as bearer (None: no session to delete).
pub fn sign_out_request(base: &str, session: Option<&str>) -> Option<HttpRequest> {
    let id = session?;
    Some(
        HttpRequest::get(format!("{}/current", sessions_url(base)))
            .with_method("DELETE")
            .with_header("Authorization", format!("Bearer {id}")),
    )
}

/// What the sign-out tells the agent: signed out, or signed out here while
/// the platform could not be told (it may still list the session).
pub fn sign_out_notice(base: &str, answer: &Result<HttpAnswer, String>) -> Notice {
    match answer {
        // 401: the session had already ended at the platform.
        Ok(a) if (200..300).contains(&a.status) || a.status == 401 => Notice::new("signedOut", &[]),
        _ => Notice::new("signedOutNotRevoked", &[&sessions_url(base)]),
    }
}

#[cfg(test)]
#[path = "platform_signin_tests.rs"]
mod tests;
