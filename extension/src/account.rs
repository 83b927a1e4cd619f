//! The account card of the popup and the options page: who is signed in
//! (name, email, photo, provider), the sign-in buttons, the admin warning
//! with the redirect URI, and the last sign-in message.

use ringside_core::auth::provider::ProviderKind;
use ringside_core::auth::revocation;
use ringside_core::auth::session::{self, Phase, TokenHome};
use ringside_core::secret::Secret;
use ringside_core::settings::SignInMethod;
use ringside_core::surface::{UiCommand, UiState};
use ringside_core::worker::platform_signin;
use web_sys::{Document, Element};

use crate::dom::{self, Add as _};
use crate::error::JsError;
use crate::i18n::Translate;

/// Where the card is shown: the options page adds sign-out and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Popup,
    Options,
}

fn provider_name(kind: ProviderKind, t: &dyn Translate) -> String {
    t.get(session::provider_keys(kind).1)
}

/// The admin warning: what is wrong and the redirect URI to register.
fn setup_warning(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
) -> Result<Option<Element>, JsError> {
    let problem = state
        .auth
        .setup
        .clone()
        .or_else(|| state.settings.setup_problem(None));
    let Some(problem) = problem else {
        return Ok(None);
    };
    let uri = state.auth.redirect_uri.clone();
    let card = dom::el(doc, "section", "card tone-warning setup", None)?;
    card.set_attribute("role", "alert")?;
    card.set_attribute("data-testid", "setup-warning")?;
    card.set_attribute("data-problem", problem.message_key())?;
    card.add(&dom::el(
        doc,
        "p",
        "card-title",
        Some(&t.get("setupTitle")),
    )?)?;
    card.add(&dom::el(
        doc,
        "p",
        "card-detail",
        Some(&t.message(problem.message_key(), std::slice::from_ref(&uri))),
    )?)?;
    let label = dom::el(doc, "p", "muted small", Some(&t.get("redirectUriLabel")))?;
    card.add(&label)?;
    let code = dom::el(doc, "code", "redirect-uri", Some(&uri))?;
    code.set_attribute("data-testid", "setup-redirect-uri")?;
    card.add(&code)?;
    Ok(Some(card))
}

fn notice(doc: &Document, state: &UiState, t: &dyn Translate) -> Result<Option<Element>, JsError> {
    let Some(n) = &state.auth.notice else {
        return Ok(None);
    };
    let tone = if state.auth.signed_in() || n.key == "signedOut" {
        "tone-info"
    } else {
        "tone-error"
    };
    let p = dom::el(
        doc,
        "p",
        &format!("auth-notice {tone}"),
        Some(&t.message(&n.key, &n.subs)),
    )?;
    p.set_attribute(
        "role",
        if tone == "tone-error" {
            "alert"
        } else {
            "status"
        },
    )?;
    p.set_attribute("data-testid", "auth-notice")?;
    p.set_attribute("data-key", &n.key)?;
    Ok(Some(p))
}

fn profile(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
    place: Place,
) -> Result<Option<Element>, JsError> {
    let Some(p) = &state.auth.profile else {
        return Ok(None);
    };
    let card = dom::el(doc, "div", "profile", None)?;
    card.set_attribute("data-testid", "profile")?;
    if let Some(src) = &p.picture {
        card.add(&dom::avatar(doc, src)?)?;
    }
    let who = dom::el(doc, "div", "who", None)?;
    let name = dom::el(doc, "p", "profile-name", Some(&p.name))?;
    name.set_attribute("data-testid", "profile-name")?;
    who.add(&name)?;
    let email = dom::el(doc, "p", "profile-email small", Some(&p.email))?;
    email.set_attribute("data-testid", "profile-email")?;
    who.add(&email)?;
    let via = t.message("signedInWith", &[provider_name(p.provider, t)]);
    let via = dom::el(doc, "p", "muted small", Some(&via))?;
    via.set_attribute("data-testid", "profile-provider")?;
    who.add(&via)?;
    if let Some(a) = &p.agent {
        who.add(&dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.message("platformAgent", &[a.login_email.clone(), a.role.clone()])),
        )?)?;
    }
    if state.auth.phase == Phase::Restoring {
        let r = dom::el(doc, "p", "muted small", Some(&t.get("restoringSession")))?;
        r.set_attribute("role", "status")?;
        who.add(&r)?;
    }
    if place == Place::Options {
        let home = match p.home {
            TokenHome::Host => "tokenHomeHost",
            TokenHome::Browser => "tokenHomeBrowser",
        };
        who.add(&dom::el(doc, "p", "muted small", Some(&t.get(home)))?)?;
    }
    card.add(&who)?;
    Ok(Some(card))
}

/// The sign-out countdown (a pending sign-out after a sign-in method change).
/// The popup's ticker keeps `data-countdown-at` elements current.
fn countdown(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
) -> Result<Option<Element>, JsError> {
    let Some(p) = &state.auth.pending_sign_out else {
        return Ok(None);
    };
    let now = js_sys::Date::now() as u64;
    let left = revocation::format_countdown(p.seconds_left(now));
    let el = dom::el(
        doc,
        "p",
        "countdown tone-warning",
        Some(&t.message("signOutCountdown", &[left])),
    )?;
    // A timer: read on demand, not announced every second.
    el.set_attribute("role", "timer")?;
    el.set_attribute("data-testid", "sign-out-countdown")?;
    el.set_attribute("data-countdown-at", &p.at_ms.to_string())?;
    Ok(Some(el))
}

/// Updates every countdown in the document (called once a second).
pub fn tick_countdowns(doc: &Document, t: &dyn Translate) {
    let Ok(list) = doc.query_selector_all("[data-countdown-at]") else {
        return;
    };
    let now = js_sys::Date::now() as u64;
    for i in 0..list.length() {
        let Some(el) = list
            .item(i)
            .and_then(|n| wasm_bindgen::JsCast::dyn_into::<Element>(n).ok())
        else {
            continue;
        };
        let at: u64 = el
            .get_attribute("data-countdown-at")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let left = revocation::format_countdown(at.saturating_sub(now).div_ceil(1000));
        el.set_text_content(Some(&t.message("signOutCountdown", &[left])));
    }
}

/// The account section.
pub fn card(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
    place: Place,
) -> Result<Element, JsError> {
    let s = dom::el(doc, "section", "card account", None)?;
    let h = dom::el(doc, "h2", "card-title", Some(&t.get("accountTitle")))?;
    h.set_id("account-title");
    s.set_attribute("aria-labelledby", "account-title")?;
    s.set_attribute("data-testid", "account")?;
    s.set_attribute(
        "data-phase",
        match state.auth.phase {
            Phase::SignedOut => "signed_out",
            Phase::SigningIn { .. } => "signing_in",
            Phase::Restoring => "restoring",
            Phase::SignedIn => "signed_in",
        },
    )?;
    s.add(&h)?;
    s.extend_with(profile(doc, state, t, place)?)?;
    s.extend_with(countdown(doc, state, t)?)?;
    s.extend_with(notice(doc, state, t)?)?;
    if let Some(key) = &state.auth.call_note {
        let p = dom::el(doc, "p", "muted small", Some(&t.get(key)))?;
        p.set_attribute("role", "status")?;
        p.set_attribute("data-testid", "call-note")?;
        s.add(&p)?;
    }
    match &state.auth.phase {
        Phase::SigningIn { provider } => {
            let text = match provider {
                ProviderKind::Password => t.get("signingInPassword"),
                _ => t.message("signingIn", &[provider_name(*provider, t)]),
            };
            let p = dom::el(doc, "p", "muted", Some(&text))?;
            p.set_attribute("role", "status")?;
            s.add(&p)?;
        }
        Phase::SignedOut => sign_in(doc, state, t, &s)?,
        Phase::SignedIn | Phase::Restoring if place == Place::Options => {
            session_controls(doc, state, t, &s)?;
        }
        Phase::SignedIn | Phase::Restoring => {}
    }
    Ok(s)
}

/// Signed out: the admin warning if sign-in is misconfigured, and one button
/// per provider that can be used.
fn sign_in(doc: &Document, state: &UiState, t: &dyn Translate, s: &Element) -> Result<(), JsError> {
    s.extend_with(setup_warning(doc, state, t)?)?;
    let mut offered: Vec<ProviderKind> = state
        .settings
        .offered_providers()
        .iter()
        .filter(|p| p.client_id().is_ok())
        .map(|p| p.kind)
        .collect();
    if platform_signin::sso_offered(&state.settings) {
        offered.insert(0, ProviderKind::Sso);
    }
    let password = platform_signin::password_offered(&state.settings);
    if (!offered.is_empty() || password) && state.auth.notice.is_none() {
        s.add(&dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.get("signInPrompt")),
        )?)?;
    }
    let row = dom::el(doc, "div", "button-row", None)?;
    for kind in offered {
        let b = dom::button(doc, "sign-in", &t.get(session::provider_keys(kind).0), None)?;
        b.set_class_name("button primary");
        b.set_attribute(
            "data-provider",
            match kind {
                ProviderKind::Google => "google",
                ProviderKind::Microsoft => "microsoft",
                ProviderKind::Oidc => "oidc",
                ProviderKind::Sso => "sso",
                ProviderKind::Password => "password",
            },
        )?;
        row.add(&b)?;
    }
    s.add(&row)?;
    if password {
        s.add(&password_form(doc, state, t)?)?;
    }
    Ok(())
}

thread_local! {
    /// The email of the last password attempt (never the password).
    static LAST_EMAIL: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// "Sign in with password" (the platform's own sign-in): a form so Enter
/// submits; the password field is emptied the moment it is sent.
fn password_form(doc: &Document, state: &UiState, t: &dyn Translate) -> Result<Element, JsError> {
    let form = dom::el(doc, "form", "password-form", None)?;
    form.set_attribute("data-testid", "password-signin")?;
    form.set_attribute("aria-label", &t.get("passwordFormTitle"))?;
    if state.settings.sign_in_method != Some(SignInMethod::Password) {
        form.add(&dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.get("passwordPrivilegedHint")),
        )?)?;
    }
    let email = dom::field_row(
        doc,
        t,
        &dom::Field {
            id: "signin-email",
            label_key: "passwordEmailLabel",
            kind: "email",
            autocomplete: "username",
            keep: "signin",
        },
    )?;
    // The email typed last stays for the next attempt (this page's memory).
    if let Some(input) = email.last_element_child() {
        let _ = js_sys::Reflect::set(
            &input,
            &"value".into(),
            &LAST_EMAIL.with_borrow(|e| e.clone()).into(),
        );
    }
    form.add(&email)?;
    form.add(&dom::field_row(
        doc,
        t,
        &dom::Field {
            id: "signin-password",
            label_key: "passwordLabel",
            kind: "password",
            autocomplete: "current-password",
            keep: "signin",
        },
    )?)?;
    let b = dom::button(doc, "sign-in-password", &t.get("signInPassword"), None)?;
    b.set_attribute("type", "submit")?;
    b.set_class_name("button primary");
    form.add(&b)?;
    Ok(form)
}

/// The typed email and password, the password field emptied now: the
/// value travels once, to the worker, which sends it once, to the platform.
fn password_command() -> Option<UiCommand> {
    let doc = web_sys::window()?.document()?;
    let value = |id: &str| {
        doc.get_element_by_id(id)
            .and_then(|e| js_sys::Reflect::get(&e, &"value".into()).ok())
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let email = value("signin-email").trim().to_owned();
    LAST_EMAIL.with_borrow_mut(|e| e.clone_from(&email));
    let password = Secret::new(value("signin-password"));
    if let Some(input) = doc.get_element_by_id("signin-password") {
        let _ = js_sys::Reflect::set(&input, &"value".into(), &"".into());
    }
    Some(UiCommand::SignInPassword { email, password })
}

/// Signed in, on the options page: sign out, refresh now (when the host
/// keeps the session) and how long the last refresh took.
fn session_controls(
    doc: &Document,
    state: &UiState,
    t: &dyn Translate,
    s: &Element,
) -> Result<(), JsError> {
    let row = dom::el(doc, "div", "button-row", None)?;
    row.add(&dom::button(doc, "sign-out", &t.get("signOut"), None)?)?;
    if state
        .auth
        .profile
        .as_ref()
        .is_some_and(|p| p.home == TokenHome::Host)
    {
        row.add(&dom::button(
            doc,
            "refresh-session",
            &t.get("refreshSession"),
            None,
        )?)?;
    }
    s.add(&row)?;
    if let Some(ms) = state.auth.last_refresh_ms {
        let p = dom::el(
            doc,
            "p",
            "muted small",
            Some(&t.message("lastRefresh", &[format!("{ms:.0}")])),
        )?;
        p.set_attribute("data-testid", "last-refresh")?;
        p.set_attribute("data-ms", &format!("{ms}"))?;
        s.add(&p)?;
    }
    Ok(())
}

/// The account card's buttons.
pub fn action(name: &str, el: &Element) -> Option<UiCommand> {
    Some(match name {
        "sign-in" => UiCommand::SignIn {
            provider: match el.get_attribute("data-provider")?.as_str() {
                "google" => ProviderKind::Google,
                "microsoft" => ProviderKind::Microsoft,
                "sso" => ProviderKind::Sso,
                _ => ProviderKind::Oidc,
            },
        },
        "sign-in-password" => return password_command(),
        "sign-out" => UiCommand::SignOut,
        "refresh-session" => UiCommand::RefreshSession,
        _ => return None,
    })
}
