//! Policy against the agent's options: validation, locking, problems.
use super::*;
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
    });
    let s = merge(&managed, &json!({"signOutGraceMinutes": 15}));
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
    // Invalid values are reported, never fatal.
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
