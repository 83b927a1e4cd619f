//! The worker's state: everything it knows except the browser's handles
//! (ports, listeners, waiters), which stay in `extension/src/sw/kernel.rs`,
//! and the decisions that read or change several parts of it at once (the
//! state pages render, settings applied, a content script's check-in, who is
//! signed in for the call desk, the contact store and the side panel).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::auth::{AuthEvent, AuthSession};
use super::panel::{PanelAgent, PanelState};
use crate::auth::keys::KeyCache;
use crate::auth::provider::{Discovery, ProviderKind};
use crate::auth::revocation::{CallState, Cause};
use crate::calls::CallDesk;
use crate::contacts::{ContactHit, ContactsView};
use crate::context::{ContactQuery, Presence};
use crate::host_link::HostLink;
use crate::mail::MailView;
use crate::outbox::AgentKey;
use crate::page_budget::PageBudget;
use crate::protocol::DetectParams;
use crate::settings::{self, Settings, SignInMethod, SiteDecision};
use crate::surface::{PageSession, UiState};

/// The sign-in flow's caches: discovery documents and key sets by issuer.
#[derive(Default)]
pub struct ProviderCache {
    pub discovered: HashMap<String, Discovery>,
    pub keys: HashMap<String, KeyCache>,
}

/// What the worker knows.
pub struct WorkerState {
    pub link: HostLink,
    pub pages: Vec<PageSession>,
    /// This extension's id and its pages' origin (`moz-extension://<uuid>`
    /// in Firefox).
    pub own: crate::surface::OwnExtension,
    pub desk: CallDesk,
    pub settings: Settings,
    /// Raw policy and options, as last read.
    pub managed: Value,
    pub options: Value,
    pub switched_off: Vec<String>,
    /// Whether the current host connection has the dialer configuration.
    pub dialer_sent: bool,
    /// Whether policy and options have been read once.
    pub settings_loaded: bool,
    /// Whether settings were applied once (later applies may be changes).
    pub settings_loaded_before: bool,
    /// Bumped by each settings read; only the newest read is applied.
    pub settings_generation: u64,
    /// The desk as last written to session storage (JSON).
    pub desk_saved: String,
    /// Who is signed in: changed only through [`super::auth`].
    pub auth: AuthSession,
    pub providers: ProviderCache,
    /// Gmail over IMAP: which address is connected (the host has the password).
    pub mail: MailView,
    /// The side panel's cache and the integrations turned off.
    pub context: PanelState,
    /// The agent's own meeting, for the popup.
    pub my_presence: Option<Presence>,
    /// The last "show contact" click, for the side panel.
    pub panel_request: Option<(u32, ContactQuery)>,
    /// `chrome.management.getSelf().installType`.
    pub install_type: Option<String>,
    /// A downloaded update waiting for the live call to end.
    pub update_pending: Option<String>,
    /// What each tab's content script may still send (`crate::page_budget`).
    pub page_budget: PageBudget,
    /// Bumped each time the call history changes (`UiState::history`).
    pub history: u64,
}

/// Why a content script's `detect` request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectRefused {
    /// The `_locales` key of the page's answer.
    pub key: &'static str,
    pub detail: String,
    /// Over its budget (worth a log line); a site that is off is not.
    pub over_budget: bool,
}

/// What applying a settings read changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsApplied {
    /// The dialer configuration changed: the host must be told again.
    pub dialer_changed: bool,
    /// The company's sign-in method changed (never on the first read).
    pub method_change: Option<SignInMethod>,
}

impl WorkerState {
    /// `client`: the hello's client name; `redirect_uri`: the identity
    /// redirect URL of this extension.
    pub fn new(
        client: &str,
        own: crate::surface::OwnExtension,
        redirect_uri: String,
    ) -> WorkerState {
        WorkerState {
            link: HostLink::new(client),
            pages: vec![],
            own,
            desk: CallDesk::default(),
            settings: Settings::default(),
            managed: json!({}),
            options: json!({}),
            switched_off: vec![],
            dialer_sent: false,
            settings_loaded: false,
            settings_loaded_before: false,
            settings_generation: 0,
            desk_saved: String::new(),
            auth: AuthSession::new(redirect_uri),
            providers: ProviderCache::default(),
            mail: MailView::default(),
            context: PanelState::default(),
            my_presence: None,
            panel_request: None,
            install_type: None,
            update_pending: None,
            page_budget: PageBudget::default(),
            history: 0,
        }
    }

    /// What every extension page renders. `contacts` and `caller` come from
    /// the contact store, which the worker keeps beside this state.
    pub fn ui_state(
        &self,
        contacts: ContactsView,
        caller: impl FnOnce(&str) -> Option<ContactHit>,
    ) -> UiState {
        UiState {
            host: self.link.status().clone(),
            stats: self.link.stats().clone(),
            pages: self.pages.clone(),
            calls: self.desk.clone(),
            settings: self.settings.clone(),
            switched_off: self.switched_off.clone(),
            raw_options: self.options.clone(),
            auth: self.auth.view().clone(),
            mail: self.mail.clone(),
            my_presence: self.my_presence.clone(),
            panel_request: self.panel_request.clone(),
            install_type: self.install_type.clone(),
            update_pending: self.update_pending.clone(),
            contacts,
            caller: self.desk.live.as_ref().and_then(|c| caller(&c.number)),
            history: self.history,
        }
    }

    /// Where the agent is in a call, for the revocation rules.
    pub fn call_state(&self) -> CallState {
        if self.desk.live.is_some() {
            CallState::InCall
        } else if !self.desk.wrapups.is_empty() {
            CallState::WrapUp
        } else {
            CallState::Idle
        }
    }

    /// Whether a click may start a call: sign-in is set up and nobody is signed in.
    pub fn sign_in_required(&self) -> bool {
        (!self.settings.identity_providers.is_empty() || self.settings.platform_sign_in())
            && !self.auth.view().signed_in()
    }

    /// The agent signed in now: calls that start are theirs, and only their
    /// outbox is sent (`crate::outbox`).
    pub fn signed_in_agent(&self) -> Option<AgentKey> {
        self.auth
            .profile()
            .filter(|_| self.auth.view().signed_in())
            .map(AgentKey::of)
    }

    /// The signed-in agent whose contacts Ringside keeps: whose store it is
    /// (`Profile::store_owner`) and their provider.
    pub fn store_agent(&self) -> Option<(String, ProviderKind)> {
        let p = self.auth.profile()?;
        let owner = p.store_owner().filter(|_| self.auth.view().signed_in())?;
        Some((owner, p.provider))
    }

    /// Who asks the side panel's flows: None when signed out.
    pub fn panel_agent(&self) -> Option<PanelAgent> {
        let p = self.auth.profile()?;
        self.auth.view().signed_in().then(|| PanelAgent {
            kind: p.provider,
            email: p.email.clone(),
        })
    }

    /// The auth session's event for a reason the session may end.
    pub fn cause(&self, cause: Cause, now_ms: u64) -> AuthEvent {
        let privileged = self
            .auth
            .profile()
            .is_some_and(|p| self.settings.is_privileged(p));
        AuthEvent::Cause {
            cause,
            call: self.call_state(),
            now_ms,
            grace_minutes: self.settings.grace_minutes(),
            privileged,
        }
    }

    /// Whether click-to-call (and the contact button) runs on `origin`.
    pub fn site(&self, origin: &str) -> SiteDecision {
        settings::site_decision(&self.settings, &self.switched_off, origin)
    }

    /// The default region: policy or options, else the browser's language.
    pub fn region(&self, ui_language: &str) -> String {
        self.settings
            .default_region
            .clone()
            .or_else(|| crate::phone::region_from_locale(ui_language))
            .unwrap_or_else(|| "US".to_owned())
    }

    /// Applies merged policy and options read by settings read `generation`;
    /// None when a newer read is under way (it applies). `whole`: `managed`
    /// is the whole policy (managed storage, or this session's copy of it),
    /// so a later read that names another sign-in method is a change; a
    /// startup copy of the site lists alone is not (it would make every
    /// browser start look like a method change, and restart a sign-out
    /// countdown that was already running).
    pub fn apply_settings(
        &mut self,
        generation: u64,
        managed: Value,
        options: Value,
        switched_off: Vec<String>,
        whole: bool,
    ) -> Option<SettingsApplied> {
        if generation != self.settings_generation {
            return None;
        }
        self.settings_loaded = true;
        let merged = settings::merge(&managed, &options);
        let dialer_changed = merged.dialer != self.settings.dialer;
        let method_change = (self.settings_loaded_before
            && merged.sign_in_method != self.settings.sign_in_method)
            .then_some(merged.sign_in_method)
            .flatten();
        if whole {
            self.settings_loaded_before = true;
        }
        self.settings = merged;
        if !self.settings.dnd_allowed() {
            self.desk.dnd = false;
        }
        self.managed = managed;
        self.options = options;
        self.switched_off = switched_off;
        if dialer_changed {
            self.dialer_sent = false;
        }
        Some(SettingsApplied {
            dialer_changed,
            method_change,
        })
    }

    /// A content script checked in: remembered for diagnostics; whether it
    /// may run on its site.
    pub fn page_hello(&mut self, page: PageSession) -> SiteDecision {
        let decision = self.site(&page.origin);
        crate::surface::record_page(&mut self.pages, page);
        decision
    }

    /// A content script's first scan: how many numbers, how long.
    pub fn page_scanned(&mut self, tab: i32, frame: i64, ms: f64, marked: u32) {
        if let Some(p) = self
            .pages
            .iter_mut()
            .find(|p| p.tab == tab && p.frame == frame)
        {
            p.marked = Some(marked);
            p.scan_ms = Some(ms.max(0.0).round() as u32);
        }
    }

    /// Each content script's frame and whether click-to-call runs there now.
    pub fn page_switches(&self) -> Vec<(i32, i64, bool)> {
        self.pages
            .iter()
            .map(|p| {
                (
                    p.tab,
                    p.frame,
                    self.site(&p.origin) == SiteDecision::Allowed,
                )
            })
            .collect()
    }

    /// The agent switched click-to-call on or off for a site: the list to save.
    pub fn switch_site(&mut self, origin: &str, enabled: bool) -> Vec<String> {
        self.switched_off
            .retain(|o| !o.eq_ignore_ascii_case(origin));
        if !enabled {
            self.switched_off.push(origin.to_owned());
        }
        self.switched_off.clone()
    }

    /// A content script's `detect` request: refused where click-to-call is
    /// off and over the tab's budget (bounded in size and rate before
    /// anything reaches the host); else what to detect, in the default region.
    pub fn admit_detect(
        &mut self,
        tab: i32,
        origin: &str,
        texts: Vec<String>,
        links: Vec<String>,
        now_ms: f64,
        ui_language: &str,
    ) -> Result<DetectParams, DetectRefused> {
        let decision = self.site(origin);
        if decision != SiteDecision::Allowed {
            return Err(DetectRefused {
                key: decision.message_key(),
                detail: "site not allowed".into(),
                over_budget: false,
            });
        }
        let params = DetectParams {
            region: self.region(ui_language),
            texts,
            links,
        };
        match self.page_budget.admit(i64::from(tab), &params, now_ms) {
            Ok(()) => Ok(params),
            Err(r) => Err(DetectRefused {
                key: r.message_key(),
                detail: r.to_string(),
                over_budget: true,
            }),
        }
    }

    /// A "show contact" click: the side panel shows that person, once.
    pub fn show_contact(&mut self, query: ContactQuery) {
        let n = self.panel_request.as_ref().map_or(1, |(n, _)| n + 1);
        self.panel_request = Some((n, query));
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
