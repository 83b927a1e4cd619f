//! The auth session: the one place that changes the sign-in phase, the
//! notice, the pending sign-out and the platform session. The worker tells
//! [`AuthSession::apply`] what happened; it changes the view every surface
//! renders and returns what the worker must carry out ([`AuthEffect`]).
//!
//! The countdown of a pending sign-out is a timer the worker arms with a
//! generation number; a timer whose generation is not the current one does
//! nothing, so a sign-out (manual or not), a new sign-in or a cancelled
//! change can never be followed by an old timer signing out the next
//! session.

use crate::auth::provider::ProviderKind;
use crate::auth::revocation::{self, CallState, Cause, Context, PendingSignOut};
use crate::auth::session::{AuthView, Notice, Phase, Profile, SignInFailure, TokenHome};
use crate::protocol::AuthAccount;

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthEvent {
    /// The agent asked to sign in (popup, options page).
    SignInStarted { provider: ProviderKind },
    /// The flow ended with this profile (a first sign-in, or the same agent
    /// back from a claims challenge or an added scope). `notice` says where
    /// the tokens live when that needs saying.
    SignedIn {
        profile: Profile,
        expires_at_ms: f64,
        notice: Option<Notice>,
    },
    /// The sign-in the agent asked for failed.
    SignInFailed {
        failure: SignInFailure,
        email: String,
    },
    /// After a worker start: the stored profile and the access token's expiry.
    Restored {
        profile: Profile,
        expires_at_ms: f64,
    },
    /// The stored session is being renewed (the host refreshes the token).
    Restoring,
    /// The worker restarted within the browser session: the token is valid.
    Resumed,
    /// A new access token (the refresh took `ms`).
    Refreshed {
        profile: Profile,
        expires_at_ms: f64,
        ms: u32,
        now_ms: u64,
    },
    /// Name and photo refreshed from userinfo.
    ProfileUpdated(Profile),
    /// A browser-only session found after the browser restarted.
    EndedWithBrowser,
    /// The agent signed out (the revocation result as a notice).
    SignedOut { notice: Notice },
    /// A reason the session may end.
    Cause {
        cause: Cause,
        call: CallState,
        now_ms: u64,
        grace_minutes: u32,
        privileged: bool,
    },
    /// A countdown timer fired.
    CountdownDue { generation: u64, call: CallState },
    /// After a worker start: a sign-out that was waiting before.
    PendingFound {
        pending: PendingSignOut,
        call: CallState,
        now_ms: u64,
    },
    /// The platform accepted the agent: its session id (the bearer of
    /// platform requests and the event stream's key).
    PlatformSession(String),
}

/// What the worker must carry out, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthEffect {
    /// Tell every surface (the view changed).
    Broadcast,
    /// Persist the pending sign-out (storage.local: survives a restart).
    StorePending(PendingSignOut),
    /// Remove the persisted pending sign-out.
    ClearPending,
    /// Call [`AuthEvent::CountdownDue`] with this generation at `at_ms`.
    ArmCountdown { generation: u64, at_ms: u64 },
    /// Drop the agent's local data: tokens, profile, contacts, the platform
    /// session.
    ForgetLocally,
    /// Delete the host's secret store entry (and revoke at the provider),
    /// remembered until the host did it.
    PurgeInHost { account: AuthAccount, revoke: bool },
    /// Keep the platform session for this browser session and follow its
    /// event stream.
    StorePlatformSession(String),
    /// Send the wrap-ups this agent wrote while signed out.
    FlushOutbox,
}

/// The session's state.
#[derive(Debug, Clone, Default)]
pub struct AuthSession {
    view: AuthView,
    /// Milliseconds since the epoch when the access token expires.
    expires_at_ms: f64,
    platform_session: Option<String>,
    /// The countdown armed last; 0: none.
    countdown: u64,
    generations: u64,
}

impl AuthSession {
    pub fn new(redirect_uri: String) -> AuthSession {
        let mut s = AuthSession::default();
        s.view.redirect_uri = redirect_uri;
        s
    }

    pub fn view(&self) -> &AuthView {
        &self.view
    }

    pub fn profile(&self) -> Option<&Profile> {
        self.view.profile.as_ref()
    }

    pub fn expires_at_ms(&self) -> f64 {
        self.expires_at_ms
    }

    pub fn platform_session(&self) -> Option<&str> {
        self.platform_session.as_deref()
    }

    pub fn signing_in(&self) -> bool {
        matches!(self.view.phase, Phase::SigningIn { .. })
    }

    /// Applies one event; returns the effects to carry out.
    pub fn apply(&mut self, event: AuthEvent) -> Vec<AuthEffect> {
        use AuthEffect::*;
        match event {
            AuthEvent::SignInStarted { provider } => {
                if self.signing_in() {
                    return vec![];
                }
                self.view.phase = Phase::SigningIn { provider };
                self.view.notice = None;
                self.view.setup = None;
                vec![Broadcast]
            }
            AuthEvent::SignedIn {
                profile,
                expires_at_ms,
                notice,
            } => {
                let first =
                    self.view.profile.as_ref().map(|p| &p.subject) != Some(&profile.subject);
                self.view.profile = Some(profile);
                self.expires_at_ms = expires_at_ms;
                self.view.phase = Phase::SignedIn;
                self.view.call_note = None;
                self.view.setup = None;
                if notice.is_some() || first {
                    self.view.notice = notice;
                }
                vec![Broadcast, FlushOutbox]
            }
            AuthEvent::SignInFailed { failure, email } => {
                // A challenge or added scope that fails leaves the session as
                // it was; only a sign-in from signed out shows the failure.
                if !self.signing_in() {
                    return vec![];
                }
                self.view.phase = Phase::SignedOut;
                (self.view.setup, self.view.notice) = match &failure {
                    SignInFailure::Setup(p) => (Some(p.clone()), None),
                    SignInFailure::Cancelled => (
                        None,
                        Some(Notice::new("signinCancelled", &[&self.view.redirect_uri])),
                    ),
                    other => (None, Some(other.notice(&email))),
                };
                vec![Broadcast]
            }
            AuthEvent::Restored {
                profile,
                expires_at_ms,
            } => {
                self.view.profile = Some(profile);
                self.expires_at_ms = expires_at_ms;
                vec![]
            }
            AuthEvent::Restoring => {
                self.view.phase = Phase::Restoring;
                vec![Broadcast]
            }
            AuthEvent::Resumed => {
                self.view.phase = Phase::SignedIn;
                vec![Broadcast]
            }
            AuthEvent::Refreshed {
                profile,
                expires_at_ms,
                ms,
                now_ms,
            } => {
                if self.view.profile.as_ref().map(|p| &p.subject) != Some(&profile.subject) {
                    // Signed out (or someone else signed in) meanwhile.
                    return vec![];
                }
                self.view.profile = Some(profile);
                self.expires_at_ms = expires_at_ms;
                let restored = self.view.phase == Phase::Restoring;
                self.view.phase = Phase::SignedIn;
                self.view.last_refresh_ms = Some(ms);
                self.view.last_refresh_at = Some(now_ms);
                // Restored after a browser restart with a new platform
                // session: the wrap-ups saved meanwhile go now.
                if restored && self.platform_session.is_some() {
                    vec![Broadcast, FlushOutbox]
                } else {
                    vec![Broadcast]
                }
            }
            AuthEvent::ProfileUpdated(profile) => {
                if self.view.profile.as_ref().map(|p| &p.subject) != Some(&profile.subject) {
                    return vec![];
                }
                self.view.profile = Some(profile);
                vec![Broadcast]
            }
            AuthEvent::EndedWithBrowser => {
                self.end(Notice::new("sessionEndedWithBrowser", &[]), None);
                vec![ForgetLocally, ClearPending, Broadcast]
            }
            AuthEvent::SignedOut { notice } => {
                if self.view.profile.is_none() {
                    return vec![];
                }
                self.end(notice, None);
                vec![Broadcast, ForgetLocally, ClearPending]
            }
            AuthEvent::Cause {
                cause,
                call,
                now_ms,
                grace_minutes,
                privileged,
            } => {
                let Some(profile) = self.view.profile.clone() else {
                    return vec![];
                };
                let cx = Context {
                    now_ms,
                    grace_minutes,
                    provider: profile.provider,
                    privileged: privileged || profile.agent.as_ref().is_some_and(|a| a.privileged),
                };
                let outcome = revocation::decide(&cause, call, &cx);
                match outcome.sign_out_at_ms {
                    None => {
                        // The change does not concern this sign-in; a pending
                        // one is cancelled.
                        self.view.pending_sign_out = None;
                        self.countdown = 0;
                        self.view.notice = Some(Notice::new(outcome.message_key, &[]));
                        vec![ClearPending, Broadcast]
                    }
                    Some(at) if at <= now_ms => self.sign_out_now(
                        &profile,
                        outcome.message_key,
                        outcome.call_key,
                        outcome.revoke_at_provider,
                    ),
                    Some(at) => {
                        let pending = PendingSignOut {
                            at_ms: at,
                            message_key: outcome.message_key.to_owned(),
                            revoke_at_provider: outcome.revoke_at_provider,
                        };
                        let mut fx = vec![StorePending(pending.clone())];
                        fx.extend(self.arm(pending));
                        fx
                    }
                }
            }
            AuthEvent::CountdownDue { generation, call } => {
                if generation == 0 || generation != self.countdown {
                    return vec![];
                }
                let (Some(profile), Some(pending)) = (
                    self.view.profile.clone(),
                    self.view.pending_sign_out.clone(),
                ) else {
                    return vec![];
                };
                self.sign_out_now(
                    &profile,
                    &pending.message_key,
                    revocation::call_note(call),
                    pending.revoke_at_provider,
                )
            }
            AuthEvent::PendingFound {
                pending,
                call,
                now_ms,
            } => match self.view.profile.clone() {
                None => vec![ClearPending],
                Some(profile) if pending.due(now_ms) => self.sign_out_now(
                    &profile,
                    &pending.message_key,
                    revocation::call_note(call),
                    pending.revoke_at_provider,
                ),
                Some(_) => self.arm(pending),
            },
            AuthEvent::PlatformSession(id) => {
                self.platform_session = Some(id.clone());
                // Signed in already (resumed after a browser restart, the
                // platform session renewed afterwards): the wrap-ups saved
                // while it was missing go now. During a sign-in, `SignedIn`
                // sends them.
                if self.view.phase == Phase::SignedIn {
                    vec![StorePlatformSession(id), FlushOutbox]
                } else {
                    vec![StorePlatformSession(id)]
                }
            }
        }
    }

    /// Restores the platform session kept in storage.session (no effect:
    /// it is already stored).
    pub fn restore_platform_session(&mut self, id: Option<String>) {
        self.platform_session = id;
    }

    fn arm(&mut self, pending: PendingSignOut) -> Vec<AuthEffect> {
        self.generations += 1;
        self.countdown = self.generations;
        let at_ms = pending.at_ms;
        self.view.pending_sign_out = Some(pending);
        vec![
            AuthEffect::ArmCountdown {
                generation: self.countdown,
                at_ms,
            },
            AuthEffect::Broadcast,
        ]
    }

    /// Signed out, for any reason: no profile, no countdown, no token, no
    /// platform session.
    fn end(&mut self, notice: Notice, call_note: Option<&str>) {
        self.platform_session = None;
        self.view.phase = Phase::SignedOut;
        self.view.profile = None;
        self.view.pending_sign_out = None;
        self.view.notice = Some(notice);
        self.view.call_note = call_note.map(str::to_owned);
        self.countdown = 0;
        self.expires_at_ms = 0.0;
    }

    /// The sign-out takes effect: every surface first (new calls are refused
    /// from this moment), then the purge; the call and wrap-ups are kept.
    fn sign_out_now(
        &mut self,
        profile: &Profile,
        message_key: &str,
        call_key: Option<&str>,
        revoke: bool,
    ) -> Vec<AuthEffect> {
        self.end(Notice::new(message_key, &[]), call_key);
        let mut fx = vec![
            AuthEffect::Broadcast,
            AuthEffect::ForgetLocally,
            AuthEffect::ClearPending,
        ];
        if profile.home == TokenHome::Host {
            fx.push(AuthEffect::PurgeInHost {
                account: AuthAccount {
                    issuer: profile.issuer.clone(),
                    client_id: profile.client_id.clone(),
                },
                revoke,
            });
        }
        fx
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
