//! Policy against the agent's options: validation, locking, problems.
use super::*;
use crate::protocol::DialerKind;
use serde_json::json;

#[test]
fn policy_wins_and_locks_valid_keys() {
    let managed = json!({
        "dialer": {"adapter": "baresip", "address": "127.0.0.1:4444", "sipDomain": "pbx.example.com"},
        "siteBlockList": ["bank.example"],
    });
    let local = json!({
        "dialer": {"adapter": "tel"},
        "defaultRegion": "fr",
    });
    let s = merge(&managed, &local);
    let d = s.dialer.unwrap();
    assert_eq!(d.adapter, DialerKind::Baresip);
    assert_eq!(d.address.as_deref(), Some("127.0.0.1:4444"));
    assert_eq!(d.sip.domain, "pbx.example.com");
    assert_eq!(s.default_region.as_deref(), Some("FR"));
    assert_eq!(s.site_block_list, vec!["bank.example"]);
    assert_eq!(s.locked, vec!["dialer", "siteBlockList"]);
    assert!(s.problems.is_empty());
}

#[test]
fn invalid_values_are_reported_and_fall_back() {
    let managed = json!({
        "dialer": {"adapter": "baresip", "address": "nohost"},
        "defaultRegion": "France",
        "siteAllowList": "crm.example.com",
        "platformUrl": "ftp://x",
    });
    let local = json!({"dialer": {"adapter": "tel"}, "defaultRegion": 7});
    let s = merge(&managed, &local);
    // The options page's own key: an invalid policy leaves the agent's choice.
    assert_eq!(s.dialer.unwrap().adapter, DialerKind::Tel);
    assert_eq!(s.default_region, None);
    assert!(s.site_allow_list.is_empty());
    let keys: Vec<_> = s
        .problems
        .iter()
        .map(|p| (p.key.as_str(), p.source.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("dialer", "policy"),
            ("defaultRegion", "policy"),
            ("defaultRegion", "options"),
            ("siteAllowList", "policy"),
            ("platformUrl", "policy"),
        ]
    );
    assert!(s.problems[0].message.contains("nohost"));
    assert!(s.locked.is_empty());
    // Anything at all: no panic, only problems.
    for v in [json!(null), json!(1), json!([1]), json!({"dialer": [1]})] {
        let _ = merge(&v, &v);
    }
    let bad_prefix = merge(
        &json!({"dialer": {"adapter": "tel", "dialPrefix": "9;x"}}),
        &json!({}),
    );
    assert!(bad_prefix.problems[0].message.contains("prefix"));
}

#[test]
fn identity_settings_and_setup_warnings() {
    let managed = json!({
        "identityProviders": [
            {"kind": "google", "clientId": "123.apps.googleusercontent.com", "allowedDomains": ["example.com"]},
            {"kind": "microsoft", "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47"},
        ],
        "signInMethod": "google",
        "privilegedUsers": ["Boss@Example.com"],
        "signOutGraceMinutes": 15,
    });
    let s = merge(&managed, &json!({}));
    assert_eq!(s.identity_providers.len(), 2);
    assert_eq!(s.sign_in_method, Some(SignInMethod::Google));
    assert_eq!(s.privileged_users, vec!["boss@example.com".to_owned()]);
    assert_eq!(s.grace_minutes(), 15);
    assert_eq!(s.offered_providers().len(), 1);
    assert_eq!(s.setup_problem(None), None);
    // Microsoft is configured but not the company's method, and has no client id.
    assert_eq!(
        s.setup_problem(Some(ProviderKind::Microsoft)),
        Some(SetupProblem::NoProvider)
    );
    let ms_only = merge(
        &json!({"identityProviders": [{"kind": "microsoft"}]}),
        &json!({}),
    );
    assert_eq!(
        ms_only.setup_problem(None),
        Some(SetupProblem::NoClientId {
            kind: ProviderKind::Microsoft
        })
    );
    assert_eq!(
        merge(&json!({}), &json!({})).setup_problem(None),
        Some(SetupProblem::NoProvider)
    );
    assert_eq!(
        merge(&json!({}), &json!({})).grace_minutes(),
        DEFAULT_GRACE_MINUTES
    );
    // Invalid values are reported, never fatal; a list's bad entries are skipped.
    let bad = merge(
        &json!({
            "identityProviders": [{"kind": "oidc", "clientId": "x"}],
            "signInMethod": "fax",
            "privilegedUsers": ["not-an-email"],
            "signOutGraceMinutes": -5,
        }),
        &json!({}),
    );
    let keys: Vec<&str> = bad.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "identityProviders",
            "signInMethod",
            "privilegedUsers",
            "signOutGraceMinutes"
        ]
    );
    assert!(bad.identity_providers.is_empty());
}

#[test]
fn site_rules() {
    let s = Settings {
        site_block_list: vec!["*.bank.example".into(), "https://evil.example".into()],
        ..Default::default()
    };
    let off = vec!["https://news.example".to_owned()];
    let d = |o: &str| site_decision(&s, &off, o);
    assert_eq!(d("https://www.bank.example"), SiteDecision::BlockedByPolicy);
    assert_eq!(d("https://bank.example"), SiteDecision::Allowed);
    assert_eq!(d("https://evil.example"), SiteDecision::BlockedByPolicy);
    assert_eq!(d("http://evil.example"), SiteDecision::Allowed);
    assert_eq!(d("https://news.example"), SiteDecision::SwitchedOff);
    let s = Settings {
        site_allow_list: vec!["crm.example.com".into()],
        ..Default::default()
    };
    assert_eq!(
        site_decision(&s, &[], "https://eu.crm.example.com:8443"),
        SiteDecision::Allowed
    );
    assert_eq!(
        site_decision(&s, &[], "https://example.com"),
        SiteDecision::NotAllowedByPolicy
    );
    assert_eq!(
        site_decision(&s, &[], "https://notcrm.example.com"),
        SiteDecision::NotAllowedByPolicy
    );
    for d in [
        SiteDecision::BlockedByPolicy,
        SiteDecision::NotAllowedByPolicy,
        SiteDecision::SwitchedOff,
    ] {
        assert!(
            crate::calls::MESSAGE_KEYS.contains(&d.message_key()),
            "{d:?}"
        );
    }
    assert!(SitePattern::parse("a b").is_err());
    assert!(SitePattern::parse("*.").is_err());
}

#[test]
fn the_imap_server_is_gmails_unless_policy_sets_a_valid_one() {
    assert_eq!(merge(&json!({}), &json!({})).imap_server, None);
    let s = merge(
        &json!({"imapServer": {"host": " localhost ", "port": 9993}}),
        &json!({}),
    );
    assert_eq!(
        s.imap_server,
        Some(crate::mail::MailServer {
            host: "localhost".into(),
            port: 9993
        })
    );
    assert_eq!(s.locked, vec!["imapServer"]);
    for bad in [
        json!({"host": "imap.example.com"}),
        json!({"host": "imap.example.com", "port": 0}),
        json!({"host": "imap.example.com", "port": 70000}),
        json!({"host": "https://imap.example.com", "port": 993}),
        json!({"host": "", "port": 993}),
        json!("imap.example.com:993"),
    ] {
        let s = merge(&json!({ "imapServer": bad }), &json!({}));
        assert_eq!(s.imap_server, None, "{bad}");
        assert_eq!(s.problems.len(), 1, "{bad}");
        assert_eq!(s.problems[0].key, "imapServer");
    }
}

/// Rule 1: keys have owners. The options page's own keys may come from the
/// browser; every key that routes tokens, passwords or calls, or decides who
/// may sign in, from policy only.
#[test]
fn keys_that_route_secrets_come_from_policy_only() {
    assert_eq!(owner(KEY_DIALER), Owner::Agent);
    assert_eq!(owner(KEY_REGION), Owner::Agent);
    let admin_only = [
        KEY_URL_SCHEMES,
        KEY_PLATFORM,
        KEY_PROVIDERS,
        KEY_SIGN_IN_METHOD,
        KEY_PRIVILEGED,
        KEY_GRACE,
        KEY_IMAP,
        KEY_GOOGLE_API_ROOT,
        KEY_GRAPH_API_ROOT,
        KEY_ALLOW,
        KEY_BLOCK,
        KEY_CONTACTS_DIRECTORY,
        KEY_LANGUAGE,
        KEY_DND_ALLOWED,
    ];
    for key in admin_only {
        assert_eq!(owner(key), Owner::Admin, "{key}");
    }
    assert_eq!(admin_only.len() + 3, ALL_KEYS.len());
    // Valid values for every key, written to browser storage by a hostile
    // content-script context: only the agent's own keys apply.
    let tampered = json!({
        "dialer": {"adapter": "tel"},
        "dialerUrlSchemes": ["https"],
        "defaultRegion": "DE",
        "platformUrl": "https://evil.example/platform",
        "identityProviders": [{"kind": "google", "issuer": "https://evil.example", "clientId": "x"}],
        "signInMethod": "password",
        "privilegedUsers": ["mallory@evil.example"],
        "signOutGraceMinutes": 0,
        "imapServer": {"host": "imap.evil.example", "port": 993},
        "googleApiRoot": "https://evil.example",
        "graphApiRoot": "https://evil.example/v1.0",
        "siteAllowList": ["evil.example"],
        "siteBlockList": ["crm.example.com"],
        "contactsDirectory": true,
        "language": "de",
        "dndAllowed": false,
    });
    for lb in [false, true] {
        let s = merge_for(&json!({}), &tampered, lb);
        assert_eq!(s.dialer.as_ref().map(|d| d.adapter), Some(DialerKind::Tel));
        assert_eq!(s.default_region.as_deref(), Some("DE"));
        let safe = Settings {
            dialer: s.dialer.clone(),
            default_region: s.default_region.clone(),
            problems: s.problems.clone(),
            ..Settings::default()
        };
        assert_eq!(s, safe, "nothing else applies");
        let reported: Vec<&str> = s.problems.iter().map(|p| p.key.as_str()).collect();
        let mut expected: Vec<&str> = ALL_KEYS
            .iter()
            .copied()
            .filter(|k| owner(k) == Owner::Admin)
            .collect();
        expected.sort_by_key(|k| ALL_KEYS.iter().position(|a| a == k));
        assert_eq!(reported, expected);
        for p in &s.problems {
            assert_eq!(p.source, "options");
            assert!(p.admin_only);
            assert_eq!(p.message, ADMIN_ONLY);
        }
    }
    // Policy still sets (and locks) them, and an options value beside it is
    // still reported, never used.
    let s = merge(
        &json!({"platformUrl": "https://phone.example.com/api", "defaultRegion": "FR"}),
        &json!({"platformUrl": "https://evil.example", "defaultRegion": "DE"}),
    );
    assert_eq!(
        s.platform_url.as_deref(),
        Some("https://phone.example.com/api")
    );
    assert_eq!(s.default_region.as_deref(), Some("FR"));
    assert_eq!(s.locked, vec!["defaultRegion", "platformUrl"]);
    assert_eq!(s.problems.len(), 1);
    assert!(s.problems[0].admin_only);
}

/// Rule 2: an invalid security policy value falls back to the safe default,
/// never to the options value, and is reported.
#[test]
fn an_invalid_security_policy_falls_back_to_the_safe_default() {
    let managed = json!({
        "platformUrl": "http://phone.example.com",
        "googleApiRoot": 7,
        "graphApiRoot": "ftp://graph.example.com",
        "imapServer": "imap.example.com",
        "identityProviders": {"kind": "google"},
        "signInMethod": "fax",
        "privilegedUsers": "boss@example.com",
        "signOutGraceMinutes": -1,
        "siteBlockList": "bank.example.com",
        "contactsDirectory": "yes",
    });
    let local = json!({
        "platformUrl": "https://evil.example",
        "googleApiRoot": "https://evil.example",
        "graphApiRoot": "https://evil.example",
        "imapServer": {"host": "imap.evil.example", "port": 993},
        "identityProviders": [{"kind": "google", "clientId": "x"}],
        "signInMethod": "google",
        "privilegedUsers": ["mallory@evil.example"],
        "signOutGraceMinutes": 5,
        "contactsDirectory": true,
    });
    let s = merge_for(&managed, &local, true);
    assert_eq!(s.platform_url, None);
    assert_eq!(s.google_api_root, None);
    assert_eq!(s.graph_api_root, None);
    assert_eq!(s.imap_server, None);
    assert!(s.identity_providers.is_empty());
    assert_eq!(s.sign_in_method, None);
    assert!(s.privileged_users.is_empty());
    assert_eq!(s.grace_minutes(), DEFAULT_GRACE_MINUTES);
    assert!(s.site_block_list.is_empty());
    assert!(!s.contacts_directory);
    assert!(s.locked.is_empty());
    for key in managed.as_object().unwrap().keys() {
        let from_policy = s
            .problems
            .iter()
            .filter(|p| &p.key == key && p.source == "policy" && !p.admin_only)
            .count();
        assert_eq!(from_policy, 1, "{key} is reported as invalid policy");
    }
    assert!(
        s.problems
            .iter()
            .filter(|p| p.source == "options")
            .all(|p| p.admin_only)
    );
}

/// Rule 3: a bad list entry is reported and skipped; the rest is kept.
#[test]
fn bad_list_entries_are_skipped_and_the_rest_kept() {
    let managed = json!({
        "siteBlockList": ["bank.example.com", "not a site", 3, "*.casino.example"],
        "siteAllowList": ["crm.example.com", "https://crm example"],
        "privilegedUsers": ["Boss@Example.com", "nobody", "it@example.com"],
        "identityProviders": [
            {"kind": "google", "clientId": "g"},
            {"kind": "google", "issuer": "http://idp.example.com", "clientId": "plain"},
            {"kind": "fax"},
            {"kind": "microsoft", "tenant": "t", "clientId": "m"},
        ],
    });
    let s = merge_for(&managed, &json!({}), false);
    assert_eq!(
        s.site_block_list,
        vec!["bank.example.com", "*.casino.example"]
    );
    assert_eq!(s.site_allow_list, vec!["crm.example.com"]);
    assert_eq!(
        s.privileged_users,
        vec!["boss@example.com", "it@example.com"]
    );
    let kinds: Vec<_> = s.identity_providers.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, vec![ProviderKind::Google, ProviderKind::Microsoft]);
    // The lists still count as set by policy (locked), with each bad entry reported.
    assert_eq!(
        s.locked,
        vec![
            "siteAllowList",
            "siteBlockList",
            "identityProviders",
            "privilegedUsers"
        ]
    );
    let reported: Vec<(&str, &str)> = s
        .problems
        .iter()
        .map(|p| (p.key.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(reported.len(), 6, "{reported:?}");
    assert!(reported.contains(&(
        "siteBlockList",
        "entry 3 was skipped: every entry must be text"
    )));
    assert!(reported.iter().any(|(k, m)| *k == "siteBlockList"
        && m.starts_with("entry 2 was skipped")
        && m.contains("not a site")));
    assert!(reported.iter().any(|(k, m)| *k == "identityProviders"
        && m.starts_with("entry 2 was skipped")
        && m.contains("http://idp.example.com")));
    assert!(
        reported
            .iter()
            .any(|(k, m)| *k == "identityProviders" && m.starts_with("entry 3 was skipped"))
    );
    assert!(
        reported
            .iter()
            .any(|(k, m)| *k == "privilegedUsers" && m.contains("nobody"))
    );
}

/// Rule 4: the softphone's control address from the options page stays on
/// this computer; any host only when policy sets the dialer.
#[test]
fn the_dialer_address_from_options_must_be_loopback() {
    let dialer = |address: &str| json!({"dialer": {"adapter": "baresip", "address": address}});
    for ok in [
        "127.0.0.1:4444",
        "127.8.9.10:4444",
        "localhost:4444",
        "[::1]:4444",
    ] {
        let s = merge(&json!({}), &dialer(ok));
        assert!(s.problems.is_empty(), "{ok}: {:?}", s.problems);
        assert_eq!(s.dialer.unwrap().address.as_deref(), Some(ok));
    }
    for bad in [
        "10.0.0.5:4444",
        "softphone.example.com:4444",
        "127.0.0.1.evil.example:4444",
        "[::2]:4444",
        "0.0.0.0:4444",
    ] {
        let s = merge(&json!({}), &dialer(bad));
        assert_eq!(s.dialer, None, "{bad}");
        assert_eq!(s.problems.len(), 1, "{bad}");
        assert_eq!(s.problems[0].source, "options");
        assert!(
            s.problems[0].message.contains("not on this computer"),
            "{bad}"
        );
        // The same address from policy is the admin's choice.
        let p = merge(&dialer(bad), &json!({}));
        assert!(p.problems.is_empty(), "{bad}: {:?}", p.problems);
        assert_eq!(p.dialer.unwrap().address.as_deref(), Some(bad));
        assert_eq!(p.locked, vec!["dialer"]);
    }
    // The tel: handler has no address to check.
    assert!(
        merge(&json!({}), &json!({"dialer": {"adapter": "tel"}}))
            .problems
            .is_empty()
    );
}

/// Rule 5: API roots, the platform URL and provider issuers are https; plain
/// http on loopback only in the emulator build, never in a release build.
#[test]
fn urls_are_https_and_loopback_http_only_in_the_emulator_build() {
    let urls = |u: &str| {
        json!({
            "platformUrl": u,
            "googleApiRoot": u,
            "graphApiRoot": u,
            "identityProviders": [{"kind": "google", "issuer": u, "clientId": "c"}],
        })
    };
    let applied = |s: &Settings| {
        [
            s.platform_url.is_some(),
            s.google_api_root.is_some(),
            s.graph_api_root.is_some(),
            !s.identity_providers.is_empty(),
        ]
    };
    for https in ["https://gw.example.com/api", "https://127.0.0.1:8443"] {
        for emulator in [false, true] {
            let s = merge_for(&urls(https), &json!({}), emulator);
            assert_eq!(applied(&s), [true; 4], "{https} {emulator}");
            assert!(s.problems.is_empty());
        }
    }
    for loopback in [
        "http://127.0.0.1:4000/x",
        "http://localhost:4000",
        "http://[::1]:4000",
    ] {
        let emulator = merge_for(&urls(loopback), &json!({}), true);
        assert_eq!(applied(&emulator), [true; 4], "{loopback}");
        let release = merge_for(&urls(loopback), &json!({}), false);
        assert_eq!(applied(&release), [false; 4], "{loopback}");
        assert_eq!(release.problems.len(), 4);
        assert!(
            release.problems[0].message.contains("is not an https URL"),
            "{:?}",
            release.problems
        );
    }
    for never in [
        "http://gw.example.com",
        "http://localhost:1@evil.example/",
        "ftp://127.0.0.1",
        "https://",
        "gw.example.com",
    ] {
        for emulator in [false, true] {
            let s = merge_for(&urls(never), &json!({}), emulator);
            assert_eq!(applied(&s), [false; 4], "{never} {emulator}");
        }
    }
    // The default merge follows the build's flavour.
    assert_eq!(
        merge(&urls("http://127.0.0.1:4000"), &json!({}))
            .platform_url
            .is_some(),
        crate::EMULATOR_BUILD
    );
}

/// The copy of the policy kept in browser storage for the start of the
/// browser holds the site lists and nothing that routes secrets.
#[test]
fn the_startup_copy_in_browser_storage_holds_only_the_site_lists() {
    let forged = json!({
        "siteBlockList": ["bank.example.com"],
        "siteAllowList": ["crm.example.com"],
        "googleApiRoot": "https://evil.example",
        "platformUrl": "https://evil.example",
        "identityProviders": [{"kind": "google", "issuer": "https://evil.example", "clientId": "x"}],
        "dialer": {"adapter": "baresip", "address": "evil.example:4444"},
    });
    let copy = site_rules_only(&forged);
    assert_eq!(
        copy,
        json!({"siteAllowList": ["crm.example.com"], "siteBlockList": ["bank.example.com"]})
    );
    let s = merge(&copy, &json!({}));
    assert_eq!(s.site_block_list, vec!["bank.example.com"]);
    assert_eq!(s.google_api_root, None);
    assert_eq!(s.platform_url, None);
    assert!(s.identity_providers.is_empty());
    assert_eq!(s.dialer, None);
    assert_eq!(site_rules_only(&json!(null)), json!({}));
}
