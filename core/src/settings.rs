//! Click-to-call settings: what policy (managed storage) and the options page
//! say, merged with policy winning, validated, and the site rules derived from
//! them. Invalid values are reported (key and reason) and ignored; nothing here
//! panics on any JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::provider::{ProviderConfig, ProviderKind, SetupProblem};
pub use crate::dialers::DialerSetting;
use crate::phone::Detector;
use crate::protocol::DialerConfig;

/// Keys of the settings, as they appear in managed storage, in the options
/// page's storage and in the managed schema.
pub const KEY_DIALER: &str = "dialer";
pub const KEY_REGION: &str = "defaultRegion";
pub const KEY_ALLOW: &str = "siteAllowList";
pub const KEY_BLOCK: &str = "siteBlockList";
pub const KEY_PLATFORM: &str = "platformUrl";
pub const KEY_PROVIDERS: &str = "identityProviders";
pub const KEY_SIGN_IN_METHOD: &str = "signInMethod";
pub const KEY_PRIVILEGED: &str = "privilegedUsers";
pub const KEY_GRACE: &str = "signOutGraceMinutes";
pub const KEY_IMAP: &str = "imapServer";
pub const KEY_GOOGLE_API_ROOT: &str = "googleApiRoot";
pub const KEY_LANGUAGE: &str = "language";
pub const KEY_CONTACTS_DIRECTORY: &str = "contactsDirectory";
pub const KEY_GRAPH_API_ROOT: &str = "graphApiRoot";
pub const KEY_URL_SCHEMES: &str = "dialerUrlSchemes";
pub const KEY_DND_ALLOWED: &str = "dndAllowed";
pub const KEY_DTMF_PAUSE: &str = "dtmfPauseMs";

/// Every key, in the order the options page and the policy reference list them.
pub const ALL_KEYS: [&str; 17] = [
    KEY_DIALER,
    KEY_URL_SCHEMES,
    KEY_REGION,
    KEY_ALLOW,
    KEY_BLOCK,
    KEY_PLATFORM,
    KEY_PROVIDERS,
    KEY_SIGN_IN_METHOD,
    KEY_PRIVILEGED,
    KEY_GRACE,
    KEY_IMAP,
    KEY_GOOGLE_API_ROOT,
    KEY_GRAPH_API_ROOT,
    KEY_LANGUAGE,
    KEY_CONTACTS_DIRECTORY,
    KEY_DND_ALLOWED,
    KEY_DTMF_PAUSE,
];

/// Pause between a call being established and its extension's DTMF, when
/// neither policy nor the agent sets one.
pub const DEFAULT_DTMF_PAUSE_MS: u32 = 2000;
/// The longest pause allowed.
pub const MAX_DTMF_PAUSE_MS: u32 = 30_000;

/// The languages Ringside ships (`_locales/<code>`); a forced language is one of them.
pub const LANGUAGES: [&str; 3] = ["en", "fr", "de"];

/// Sign-out grace period when policy is silent (the sign-in method changed).
pub const DEFAULT_GRACE_MINUTES: u32 = 60;
/// The longest grace period policy may set (one week).
pub const MAX_GRACE_MINUTES: u32 = 7 * 24 * 60;

/// How the company's agents sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Google,
    Microsoft,
    /// The phone platform's own email and password.
    Password,
    /// The phone platform's SSO broker (SAML with the company's provider).
    Sso,
}

/// The merged settings the service worker acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub dialer: Option<DialerConfig>,
    /// Schemes the `url` dialer's template may use (empty: https only).
    #[serde(default)]
    pub dialer_url_schemes: Vec<String>,
    /// Default region for numbers without `+`; None: from the browser locale.
    pub default_region: Option<String>,
    pub site_allow_list: Vec<String>,
    pub site_block_list: Vec<String>,
    /// Base URL of the phone platform's API (wrap-ups go there when set).
    pub platform_url: Option<String>,
    /// Identity providers agents may sign in with.
    pub identity_providers: Vec<ProviderConfig>,
    /// The company's sign-in method; None: any configured provider.
    pub sign_in_method: Option<SignInMethod>,
    /// Emails (lower case) of privileged users, who may also use a password.
    pub privileged_users: Vec<String>,
    /// Minutes between a sign-in method change and everyone's sign-out.
    pub sign_out_grace_minutes: Option<u32>,
    /// The IMAP server for "Gmail with an app password"; None: Gmail's.
    #[serde(default)]
    pub imap_server: Option<crate::mail::MailServer>,
    /// Where Google's APIs are (a Private Google Access gateway, or the
    /// emulator); None: Google's own hosts.
    #[serde(default)]
    pub google_api_root: Option<String>,
    /// Where Microsoft Graph is (a gateway, or the emulator); None: Graph's
    /// own `https://graph.microsoft.com/v1.0`.
    #[serde(default)]
    pub graph_api_root: Option<String>,
    /// A language forced by policy (one of `LANGUAGES`); None: the browser's.
    #[serde(default)]
    pub language: Option<String>,
    /// Whether Workspace agents keep a local copy of the company directory
    /// (People `listDirectoryPeople`) beside their own contacts.
    #[serde(default)]
    pub contacts_directory: bool,
    /// Whether agents may switch on do not disturb; None: allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnd_allowed: Option<bool>,
    /// Pause before an extension is sent as DTMF; None: the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf_pause_ms: Option<u32>,
    /// Keys set by policy: shown locked in the options page.
    pub locked: Vec<String>,
    /// Values that were ignored, and why.
    pub problems: Vec<Problem>,
}

/// An ignored setting (or, for a list, an ignored entry of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub key: String,
    /// "policy" or "options".
    pub source: String,
    pub message: String,
    /// A value saved in the browser for a key only policy may set: the
    /// options page says "set by your administrator only".
    #[serde(default)]
    pub admin_only: bool,
}

/// Who may set a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The options page's own keys: the agent's choice, unless policy sets
    /// (and so locks) them.
    Agent,
    /// Keys that route tokens, passwords or calls, or decide who may sign in
    /// (and the forced language, which the options page does not offer):
    /// policy only. Browser storage is writable by any content-script
    /// context, so a value saved there is ignored and reported.
    Admin,
}

/// The owner of a settings key.
pub fn owner(key: &str) -> Owner {
    match key {
        KEY_DIALER | KEY_REGION | KEY_DTMF_PAUSE => Owner::Agent,
        _ => Owner::Admin,
    }
}

/// The problem reported for a browser-storage value of a policy-only key.
pub const ADMIN_ONLY: &str =
    "set by your administrator only; the value saved in this browser is ignored";

/// Where a value comes from: policy (managed storage) or the options page
/// (browser storage, which a content-script context can write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Policy,
    Options,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Policy => "policy",
            Source::Options => "options",
        }
    }
}

fn validate_region(v: &Value) -> Result<String, String> {
    let s = v.as_str().ok_or("expected a two-letter region code")?;
    Detector::new(s)
        .map(|d| d.region())
        .map_err(|e| e.to_string())
}

/// A list whose bad entries are reported (one message each) and skipped, the
/// rest kept; `Err` when the value is not a list at all.
fn each<T>(
    v: &Value,
    what: &str,
    check: impl Fn(&Value) -> Result<T, String>,
) -> Result<(Vec<T>, Vec<String>), String> {
    let list = v
        .as_array()
        .ok_or_else(|| format!("expected a list of {what}"))?;
    let mut kept = vec![];
    let mut skipped = vec![];
    for (i, entry) in list.iter().enumerate() {
        match check(entry) {
            Ok(t) => kept.push(t),
            Err(m) => skipped.push(format!("entry {} was skipped: {m}", i + 1)),
        }
    }
    Ok((kept, skipped))
}

fn check_site(v: &Value) -> Result<String, String> {
    let p = v.as_str().ok_or("every entry must be text")?;
    SitePattern::parse(p).map(|_| p.trim().to_owned())
}

fn check_provider(v: &Value, loopback_http: bool) -> Result<ProviderConfig, String> {
    let p: ProviderConfig =
        crate::json::from_value(v.clone()).map_err(|e| format!("not a provider: {e}"))?;
    if matches!(p.kind, ProviderKind::Password | ProviderKind::Sso) {
        return Err("password and sso are sign-in methods (signInMethod), not providers".into());
    }
    // A missing client id is kept: it is a setup warning, not a bad value.
    p.issuer_for(loopback_http).map_err(|e| e.to_string())?;
    Ok(p)
}

fn check_email(v: &Value) -> Result<String, String> {
    let e = v
        .as_str()
        .ok_or("every entry must be text")?
        .trim()
        .to_lowercase();
    let ok = e
        .split_once('@')
        .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'));
    if ok {
        Ok(e)
    } else {
        Err(format!("`{e}` is not an email address"))
    }
}

fn validate_grace(v: &Value) -> Result<u32, String> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n <= MAX_GRACE_MINUTES)
        .ok_or_else(|| format!("expected whole minutes from 0 to {MAX_GRACE_MINUTES}"))
}

fn validate_imap(v: &Value) -> Result<crate::mail::MailServer, String> {
    let server: crate::mail::MailServer = crate::json::from_value(v.clone())
        .map_err(|_| "expected {\"host\": \"imap.example.com\", \"port\": 993}".to_owned())?;
    let host = server.host.trim();
    let bad = host.is_empty() || host.contains(|c: char| c.is_whitespace() || "/@:".contains(c));
    if bad && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(format!("`{host}` is not a host name"));
    }
    if server.port == 0 {
        return Err("the port must be from 1 to 65535".into());
    }
    Ok(crate::mail::MailServer {
        host: host.to_owned(),
        port: server.port,
    })
}

fn validate_language(v: &Value) -> Result<String, String> {
    let s = v.as_str().ok_or("expected a language code: en, fr or de")?;
    // "fr-CA" and "de_AT" force the language they belong to.
    let primary = s
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    LANGUAGES
        .iter()
        .find(|l| **l == primary)
        .map(|l| (*l).to_owned())
        .ok_or_else(|| format!("`{s}` is not a language Ringside ships (en, fr, de)"))
}

/// A URL that receives tokens or calls: https (plain http on loopback only in
/// the emulator build, see `auth::provider::url_is_acceptable`).
fn validate_url(v: &Value, loopback_http: bool) -> Result<String, String> {
    let s = v.as_str().ok_or("expected a URL")?.trim();
    if !crate::auth::provider::url_is_acceptable(s, loopback_http) {
        return Err(if loopback_http {
            format!("`{s}` is not an https URL (plain http only on 127.0.0.1, [::1] or localhost)")
        } else {
            format!("`{s}` is not an https URL")
        });
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// The part of a policy that may be kept in `storage.local` for the seconds
/// at browser start before managed storage answers: the site lists only.
/// That copy can be forged by any content-script context, and the site lists
/// only ever narrow where call buttons appear; nothing that routes tokens,
/// passwords or calls is ever read from it (a full copy lives in
/// `storage.session`, trusted contexts only, for worker restarts).
pub fn site_rules_only(policy: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in [KEY_ALLOW, KEY_BLOCK] {
        if let Some(v) = policy.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

/// Merges policy (`managed`) and the options page (`local`) under the rules
/// of this build (see [`merge_for`]).
pub fn merge(managed: &Value, local: &Value) -> Settings {
    merge_for(managed, local, crate::EMULATOR_BUILD)
}

/// Merges policy and the options page. Keys have owners ([`owner`]):
/// - a valid policy value always wins and locks the key;
/// - the options page's own keys (dialer, region) come from options when
///   policy does not set them validly; a dialer from options must control a
///   softphone on this computer (loopback);
/// - every other key comes from policy only: an options value is ignored and
///   reported ([`ADMIN_ONLY`]); an invalid policy value is reported and the
///   key keeps its safe default (unset, empty), never the options value;
/// - a list's bad entries are reported one by one and skipped, the rest kept;
/// - URLs are https; `loopback_http` (the emulator build) also accepts plain
///   http on loopback hosts.
pub fn merge_for(managed: &Value, local: &Value, loopback_http: bool) -> Settings {
    let mut out = Settings::default();
    for key in ALL_KEYS {
        let from_policy = managed.get(key).filter(|v| !v.is_null());
        let from_options = local.get(key).filter(|v| !v.is_null());
        let mut set_by_policy = false;
        if let Some(v) = from_policy {
            set_by_policy = out.apply(key, v, Source::Policy, loopback_http);
            if set_by_policy {
                out.locked.push(key.to_owned());
            }
        }
        match (owner(key), from_options) {
            (_, None) => {}
            (Owner::Admin, Some(_)) => out.problems.push(Problem {
                key: key.to_owned(),
                source: Source::Options.name().to_owned(),
                message: ADMIN_ONLY.to_owned(),
                admin_only: true,
            }),
            (Owner::Agent, Some(v)) => {
                if !set_by_policy {
                    out.apply(key, v, Source::Options, loopback_http);
                }
            }
        }
    }
    crate::dialers::check_merged(&mut out);
    out
}

impl Settings {
    fn report(&mut self, key: &str, source: Source, message: String) {
        self.problems.push(Problem {
            key: key.to_owned(),
            source: source.name().to_owned(),
            message,
            admin_only: false,
        });
    }

    /// Checks and applies one value; false (and the problem reported) when it
    /// is unusable as a whole. A list keeps its good entries and reports the
    /// others.
    fn apply(&mut self, key: &str, v: &Value, source: Source, loopback_http: bool) -> bool {
        let mut skipped = vec![];
        let result = self.apply_checked(key, v, source, loopback_http, &mut skipped);
        for m in skipped {
            self.report(key, source, m);
        }
        match result {
            Ok(()) => true,
            Err(m) => {
                self.report(key, source, m);
                false
            }
        }
    }

    fn apply_checked(
        &mut self,
        key: &str,
        v: &Value,
        source: Source,
        loopback_http: bool,
        skipped: &mut Vec<String>,
    ) -> Result<(), String> {
        match key {
            KEY_DIALER => {
                let from_options = source == Source::Options;
                self.dialer = Some(crate::dialers::validate_dialer(
                    v,
                    from_options,
                    loopback_http,
                )?);
            }
            KEY_URL_SCHEMES => {
                let (schemes, bad) = each(v, "URL schemes", crate::dialers::check_scheme_entry)?;
                *skipped = bad;
                self.dialer_url_schemes = schemes;
            }
            KEY_REGION => self.default_region = Some(validate_region(v)?),
            KEY_ALLOW | KEY_BLOCK => {
                let (sites, bad) = each(v, "sites", check_site)?;
                *skipped = bad;
                if key == KEY_ALLOW {
                    self.site_allow_list = sites;
                } else {
                    self.site_block_list = sites;
                }
            }
            KEY_PLATFORM => self.platform_url = Some(validate_url(v, loopback_http)?),
            KEY_PROVIDERS => {
                let (providers, bad) = each(v, "providers", |p| check_provider(p, loopback_http))?;
                *skipped = bad;
                self.identity_providers = providers;
            }
            KEY_SIGN_IN_METHOD => {
                self.sign_in_method = Some(
                    crate::json::from_value::<SignInMethod>(v.clone())
                        .map_err(|_| "expected google, microsoft, password or sso".to_owned())?,
                );
            }
            KEY_PRIVILEGED => {
                let (emails, bad) = each(v, "email addresses", check_email)?;
                *skipped = bad;
                self.privileged_users = emails;
            }
            KEY_GRACE => self.sign_out_grace_minutes = Some(validate_grace(v)?),
            KEY_IMAP => self.imap_server = Some(validate_imap(v)?),
            KEY_GOOGLE_API_ROOT => self.google_api_root = Some(validate_url(v, loopback_http)?),
            KEY_GRAPH_API_ROOT => self.graph_api_root = Some(validate_url(v, loopback_http)?),
            KEY_LANGUAGE => self.language = Some(validate_language(v)?),
            KEY_CONTACTS_DIRECTORY => {
                self.contacts_directory = v.as_bool().ok_or("expected true or false")?;
            }
            KEY_DND_ALLOWED => {
                self.dnd_allowed = Some(v.as_bool().ok_or("expected true or false")?);
            }
            KEY_DTMF_PAUSE => {
                self.dtmf_pause_ms = Some(
                    v.as_u64()
                        .filter(|n| *n <= u64::from(MAX_DTMF_PAUSE_MS))
                        .ok_or(format!(
                            "expected a whole number of milliseconds from 0 to {MAX_DTMF_PAUSE_MS}"
                        ))? as u32,
                );
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the agent may switch on do not disturb (policy `dndAllowed`).
    pub fn dnd_allowed(&self) -> bool {
        self.dnd_allowed != Some(false)
    }

    /// The pause before an extension is sent as DTMF.
    pub fn dtmf_pause(&self) -> u32 {
        self.dtmf_pause_ms.unwrap_or(DEFAULT_DTMF_PAUSE_MS)
    }

    /// Where the side panel's Google API calls, and the contact sync's
    /// Google and Graph calls, go.
    pub fn api_roots(&self) -> crate::context::ApiRoots {
        let mut roots: crate::context::ApiRoots = self
            .google_api_root
            .as_deref()
            .map(crate::context::ApiRoots::under)
            .unwrap_or_default();
        if let Some(g) = &self.graph_api_root {
            roots.graph = g.clone();
        }
        roots
    }

    /// The grace period before a sign-in method change signs everyone out.
    pub fn grace_minutes(&self) -> u32 {
        self.sign_out_grace_minutes.unwrap_or(DEFAULT_GRACE_MINUTES)
    }

    /// Whether the signed-in agent is one of `privilegedUsers`
    /// (case-insensitive). A Google (or generic OIDC) agent is matched by the
    /// `email` its ID token carried, which sign-in checked is verified. A
    /// Microsoft agent's `email` claim is not verified, so a Microsoft agent
    /// is matched by sign-in name (`preferred_username`, the UPN, whose
    /// domain must be one the tenant verified), and only when the token's
    /// tenant is the one configured for the Microsoft provider: without a
    /// configured tenant (`organizations`), no Microsoft agent is privileged.
    pub fn is_privileged(&self, agent: &crate::auth::session::Profile) -> bool {
        let listed = |name: &str| {
            let name = name.trim().to_lowercase();
            !name.is_empty() && self.privileged_users.contains(&name)
        };
        match agent.provider {
            ProviderKind::Google
            | ProviderKind::Oidc
            | ProviderKind::Password
            | ProviderKind::Sso => listed(&agent.email),
            ProviderKind::Microsoft => {
                let Some(entra) = &agent.entra else {
                    return false;
                };
                let tenant_configured = self.identity_providers.iter().any(|p| {
                    p.kind == ProviderKind::Microsoft
                        && p.tenant
                            .as_deref()
                            .is_some_and(|t| t.trim().eq_ignore_ascii_case(entra.tenant.trim()))
                });
                tenant_configured && entra.username.as_deref().is_some_and(listed)
            }
        }
    }

    /// The providers the sign-in buttons offer: all configured ones, or only
    /// the company's method when one is set.
    pub fn offered_providers(&self) -> Vec<&ProviderConfig> {
        self.identity_providers
            .iter()
            .filter(|p| match self.sign_in_method {
                Some(SignInMethod::Google) => p.kind == ProviderKind::Google,
                Some(SignInMethod::Microsoft) => p.kind == ProviderKind::Microsoft,
                // Password sign-in: providers stay available to privileged users only.
                Some(SignInMethod::Password | SignInMethod::Sso) | None => true,
            })
            .collect()
    }

    /// Whether `agent` may sign in with their provider under the company's
    /// sign-in method: any provider when none is set; otherwise the method's
    /// own provider, or any provider for privileged users ([`Self::is_privileged`]).
    /// `Err` names the method.
    pub fn method_allows(&self, agent: &crate::auth::session::Profile) -> Result<(), SignInMethod> {
        let kind = agent.provider;
        let Some(method) = self.sign_in_method else {
            return Ok(());
        };
        let same = matches!(
            (method, kind),
            (SignInMethod::Google, ProviderKind::Google)
                | (SignInMethod::Microsoft, ProviderKind::Microsoft)
                | (SignInMethod::Password, ProviderKind::Password)
                | (SignInMethod::Sso, ProviderKind::Sso)
        );
        if same || self.is_privileged(agent) {
            Ok(())
        } else {
            Err(method)
        }
    }

    /// Whether the company signs in at the phone platform itself (its
    /// password, or its SSO broker) and policy says where the platform is.
    pub fn platform_sign_in(&self) -> bool {
        self.platform_url.is_some()
            && matches!(
                self.sign_in_method,
                Some(SignInMethod::Password | SignInMethod::Sso)
            )
    }

    /// What an admin must fix before anyone can sign in with `kind` (None:
    /// any provider), for the warning in the popup and the options page.
    pub fn setup_problem(&self, kind: Option<ProviderKind>) -> Option<SetupProblem> {
        if kind.is_none() && self.platform_sign_in() {
            // Everyone signs in at the platform: no provider is needed.
            return None;
        }
        let candidates: Vec<&ProviderConfig> = self
            .offered_providers()
            .into_iter()
            .filter(|p| kind.is_none_or(|k| p.kind == k))
            .collect();
        if candidates.is_empty() {
            return Some(SetupProblem::NoProvider);
        }
        if candidates.iter().all(|p| p.client_id().is_err()) {
            return candidates[0].client_id().err();
        }
        None
    }
}

// The site lists' rules (patterns, the decision for an origin).
#[path = "settings_sites.rs"]
mod sites;
pub use sites::{SiteDecision, SitePattern, site_decision};

#[cfg(test)]
#[path = "settings_method_tests.rs"]
mod method_tests;

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
