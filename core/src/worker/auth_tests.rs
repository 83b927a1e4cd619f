use super::*;
use crate::auth::token::RevokeReason;
use crate::settings::SignInMethod;

fn profile(sub: &str) -> Profile {
    Profile {
        name: format!("Agent {sub}"),
        email: format!("{sub}@example.com"),
        picture: None,
        provider: ProviderKind::Google,
        issuer: "https://accounts.example".into(),
        client_id: "client".into(),
        subject: sub.into(),
        home: TokenHome::Host,
        agent: None,
        entra: None,
    }
}

fn signed_in(sub: &str) -> AuthSession {
    let mut s = AuthSession::new("https://id.chromiumapp.org/".into());
    s.apply(AuthEvent::SignInStarted {
        provider: ProviderKind::Google,
    });
    s.apply(AuthEvent::SignedIn {
        profile: profile(sub),
        expires_at_ms: 10_000_000.0,
        notice: None,
    });
    s
}

/// The company moves to Microsoft sign-in with a 5-minute grace period.
fn method_change(now_ms: u64) -> AuthEvent {
    AuthEvent::Cause {
        cause: Cause::MethodChanged {
            method: SignInMethod::Microsoft,
            effective_at_ms: None,
        },
        call: CallState::Idle,
        now_ms,
        grace_minutes: 5,
        privileged: false,
    }
}

fn armed(fx: &[AuthEffect]) -> u64 {
    fx.iter()
        .find_map(|e| match e {
            AuthEffect::ArmCountdown { generation, .. } => Some(*generation),
            _ => None,
        })
        .expect("a countdown armed")
}

#[test]
fn a_manual_sign_out_during_a_countdown_cancels_it_for_the_next_session() {
    let mut s = signed_in("alice");
    let fx = s.apply(method_change(1_000));
    let generation = armed(&fx);
    assert!(fx.contains(&AuthEffect::StorePending(PendingSignOut {
        at_ms: 1_000 + 5 * 60_000,
        message_key: "revokedMethodChanged".into(),
        revoke_at_provider: true,
    })));
    assert!(s.view().pending_sign_out.is_some());

    // Alice signs out herself while the countdown runs.
    let fx = s.apply(AuthEvent::SignedOut {
        notice: Notice::new("signedOut", &[]),
    });
    assert!(
        fx.contains(&AuthEffect::ClearPending),
        "the stored one goes too"
    );
    assert_eq!(s.view().pending_sign_out, None);
    assert_eq!(s.view().phase, Phase::SignedOut);

    // Bob signs in; then Alice's old timer fires.
    s.apply(AuthEvent::SignInStarted {
        provider: ProviderKind::Google,
    });
    s.apply(AuthEvent::SignedIn {
        profile: profile("bob"),
        expires_at_ms: 10_000_000.0,
        notice: None,
    });
    let fx = s.apply(AuthEvent::CountdownDue {
        generation,
        call: CallState::Idle,
    });
    assert_eq!(fx, vec![], "the old timer does nothing");
    assert_eq!(s.view().phase, Phase::SignedIn);
    assert_eq!(s.profile().map(|p| p.subject.as_str()), Some("bob"));
}

#[test]
fn the_countdown_signs_out_when_due_and_purges_the_host() {
    let mut s = signed_in("alice");
    let generation = armed(&s.apply(method_change(1_000)));
    let fx = s.apply(AuthEvent::CountdownDue {
        generation,
        call: CallState::InCall,
    });
    assert_eq!(
        fx,
        vec![
            AuthEffect::Broadcast,
            AuthEffect::ForgetLocally,
            AuthEffect::ClearPending,
            AuthEffect::PurgeInHost {
                account: AuthAccount {
                    issuer: "https://accounts.example".into(),
                    client_id: "client".into()
                },
                revoke: true
            }
        ]
    );
    let v = s.view();
    assert_eq!(v.phase, Phase::SignedOut);
    assert_eq!(v.profile, None);
    assert_eq!(v.notice, Some(Notice::new("revokedMethodChanged", &[])));
    assert_eq!(v.call_note.as_deref(), Some("revokedCallContinues"));
    // Fired twice (a late duplicate timer): nothing more.
    assert_eq!(
        s.apply(AuthEvent::CountdownDue {
            generation,
            call: CallState::Idle
        }),
        vec![]
    );
}

#[test]
fn a_second_change_rearms_and_the_first_timer_is_void() {
    let mut s = signed_in("alice");
    let first = armed(&s.apply(method_change(1_000)));
    let second = armed(&s.apply(method_change(2_000)));
    assert_ne!(first, second);
    assert_eq!(
        s.apply(AuthEvent::CountdownDue {
            generation: first,
            call: CallState::Idle
        }),
        vec![]
    );
    assert_eq!(s.view().phase, Phase::SignedIn);
    assert!(
        !s.apply(AuthEvent::CountdownDue {
            generation: second,
            call: CallState::Idle
        })
        .is_empty()
    );
    assert_eq!(s.view().phase, Phase::SignedOut);
}

#[test]
fn a_change_back_cancels_the_countdown() {
    let mut s = signed_in("alice");
    let generation = armed(&s.apply(method_change(1_000)));
    let fx = s.apply(AuthEvent::Cause {
        cause: Cause::MethodChanged {
            method: SignInMethod::Google,
            effective_at_ms: None,
        },
        call: CallState::Idle,
        now_ms: 2_000,
        grace_minutes: 5,
        privileged: false,
    });
    assert_eq!(fx, vec![AuthEffect::ClearPending, AuthEffect::Broadcast]);
    assert_eq!(s.view().pending_sign_out, None);
    assert_eq!(s.view().notice, Some(Notice::new("methodChangedKept", &[])));
    assert_eq!(
        s.apply(AuthEvent::CountdownDue {
            generation,
            call: CallState::Idle
        }),
        vec![]
    );
}

#[test]
fn a_revoked_grant_signs_out_at_once_without_revoking_again() {
    let mut s = signed_in("alice");
    s.apply(AuthEvent::PlatformSession("ps-1".into()));
    let fx = s.apply(AuthEvent::Cause {
        cause: Cause::GrantRevoked {
            reason: RevokeReason::ExpiredOrRevoked,
        },
        call: CallState::WrapUp,
        now_ms: 5,
        grace_minutes: 5,
        privileged: false,
    });
    assert!(fx.contains(&AuthEffect::PurgeInHost {
        account: AuthAccount {
            issuer: "https://accounts.example".into(),
            client_id: "client".into()
        },
        revoke: false
    }));
    assert_eq!(s.platform_session(), None);
    assert_eq!(s.view().call_note.as_deref(), Some("revokedWrapupKept"));
}

#[test]
fn a_method_change_keeps_the_platform_session_until_it_takes_effect() {
    let mut s = signed_in("alice");
    s.apply(AuthEvent::PlatformSession("ps-1".into()));
    let fx = s.apply(method_change(1_000));
    assert!(!fx.contains(&AuthEffect::ForgetLocally));
    assert_eq!(s.platform_session(), Some("ps-1"));
    // When it takes effect, the platform session goes with the rest.
    let generation = armed(&fx);
    s.apply(AuthEvent::CountdownDue {
        generation,
        call: CallState::Idle,
    });
    assert_eq!(s.platform_session(), None);
}

#[test]
fn a_cause_while_signed_out_does_nothing() {
    let mut s = AuthSession::new(String::new());
    assert_eq!(s.apply(method_change(1)), vec![]);
    assert_eq!(
        s.apply(AuthEvent::Cause {
            cause: Cause::Unauthorized,
            call: CallState::Idle,
            now_ms: 1,
            grace_minutes: 0,
            privileged: false
        }),
        vec![]
    );
}

#[test]
fn privileged_agents_keep_their_session_on_a_method_change() {
    let mut s = signed_in("admin");
    let fx = s.apply(AuthEvent::Cause {
        cause: Cause::MethodChanged {
            method: SignInMethod::Microsoft,
            effective_at_ms: None,
        },
        call: CallState::Idle,
        now_ms: 1,
        grace_minutes: 5,
        privileged: true,
    });
    assert_eq!(fx, vec![AuthEffect::ClearPending, AuthEffect::Broadcast]);
    assert_eq!(s.view().phase, Phase::SignedIn);
}

#[test]
fn a_pending_sign_out_found_at_start_is_rearmed_or_carried_out() {
    let pending = PendingSignOut {
        at_ms: 10_000,
        message_key: "revokedMethodChanged".into(),
        revoke_at_provider: true,
    };
    let mut s = AuthSession::new(String::new());
    s.apply(AuthEvent::Restored {
        profile: profile("alice"),
        expires_at_ms: 0.0,
    });
    let fx = s.apply(AuthEvent::PendingFound {
        pending: pending.clone(),
        call: CallState::Idle,
        now_ms: 5_000,
    });
    assert!(matches!(
        fx[0],
        AuthEffect::ArmCountdown { at_ms: 10_000, .. }
    ));
    assert_eq!(s.view().pending_sign_out, Some(pending.clone()));

    let mut late = AuthSession::new(String::new());
    late.apply(AuthEvent::Restored {
        profile: profile("alice"),
        expires_at_ms: 0.0,
    });
    let fx = late.apply(AuthEvent::PendingFound {
        pending: pending.clone(),
        call: CallState::Idle,
        now_ms: 20_000,
    });
    assert!(fx.contains(&AuthEffect::ForgetLocally));
    assert_eq!(late.view().phase, Phase::SignedOut);

    let mut nobody = AuthSession::new(String::new());
    assert_eq!(
        nobody.apply(AuthEvent::PendingFound {
            pending,
            call: CallState::Idle,
            now_ms: 0
        }),
        vec![AuthEffect::ClearPending]
    );
}

#[test]
fn sign_in_failures_say_why() {
    let mut s = AuthSession::new("https://id.chromiumapp.org/".into());
    s.apply(AuthEvent::SignInStarted {
        provider: ProviderKind::Google,
    });
    // A second click while the window is open does nothing.
    assert_eq!(
        s.apply(AuthEvent::SignInStarted {
            provider: ProviderKind::Microsoft
        }),
        vec![]
    );
    s.apply(AuthEvent::SignInFailed {
        failure: SignInFailure::Cancelled,
        email: String::new(),
    });
    assert_eq!(s.view().phase, Phase::SignedOut);
    assert_eq!(
        s.view().notice,
        Some(Notice::new(
            "signinCancelled",
            &["https://id.chromiumapp.org/"]
        ))
    );
}

#[test]
fn a_failed_challenge_leaves_the_session_as_it_was() {
    let mut s = signed_in("alice");
    assert_eq!(
        s.apply(AuthEvent::SignInFailed {
            failure: SignInFailure::Cancelled,
            email: String::new()
        }),
        vec![]
    );
    assert_eq!(s.view().phase, Phase::SignedIn);
}

#[test]
fn a_refresh_for_someone_no_longer_signed_in_is_ignored() {
    let mut s = signed_in("alice");
    s.apply(AuthEvent::SignedOut {
        notice: Notice::new("signedOut", &[]),
    });
    let fx = s.apply(AuthEvent::Refreshed {
        profile: profile("alice"),
        expires_at_ms: 1.0,
        ms: 3,
        now_ms: 4,
    });
    assert_eq!(fx, vec![]);
    assert_eq!(s.view().phase, Phase::SignedOut);
    assert_eq!(s.profile(), None);
}

#[test]
fn a_refresh_renews_and_records_its_time() {
    let mut s = signed_in("alice");
    s.apply(AuthEvent::Refreshed {
        profile: profile("alice"),
        expires_at_ms: 42.0,
        ms: 12,
        now_ms: 99,
    });
    assert_eq!(s.expires_at_ms(), 42.0);
    assert_eq!(s.view().last_refresh_ms, Some(12));
    assert_eq!(s.view().last_refresh_at, Some(99));
}

#[test]
fn a_browser_only_session_ends_with_the_browser() {
    let mut s = AuthSession::new(String::new());
    s.apply(AuthEvent::Restored {
        profile: profile("alice"),
        expires_at_ms: 0.0,
    });
    let fx = s.apply(AuthEvent::EndedWithBrowser);
    assert!(fx.contains(&AuthEffect::ForgetLocally));
    assert_eq!(
        s.view().notice,
        Some(Notice::new("sessionEndedWithBrowser", &[]))
    );
}

/// Issue 22: a wrap-up saved after a browser restart, before the platform
/// session was renewed, waits in the outbox; it goes once the session is back.
#[test]
fn a_platform_session_renewed_while_signed_in_sends_the_outbox() {
    let mut s = signed_in("alice");
    let fx = s.apply(AuthEvent::PlatformSession("ps-2".into()));
    assert_eq!(
        fx,
        vec![
            AuthEffect::StorePlatformSession("ps-2".into()),
            AuthEffect::FlushOutbox
        ]
    );
    // Before sign-in completes, only `SignedIn` sends it (never twice).
    let mut fresh = AuthSession::new("https://x.chromiumapp.org/".into());
    let fx = fresh.apply(AuthEvent::PlatformSession("ps-3".into()));
    assert_eq!(fx, vec![AuthEffect::StorePlatformSession("ps-3".into())]);
}
