//! Who may sign in with which provider under the company's sign-in method.
use super::*;

use crate::auth::session::{EntraIdentity, Profile, TokenHome};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn google(email: &str) -> Profile {
    Profile {
        name: "A".into(),
        email: email.into(),
        picture: None,
        provider: ProviderKind::Google,
        issuer: "https://accounts.google.com".into(),
        client_id: "c".into(),
        subject: "s".into(),
        home: TokenHome::Host,
        agent: None,
        entra: None,
    }
}

/// A Microsoft agent whose token said `email`, `tid` = `tenant`, and the
/// sign-in name `upn`.
fn microsoft(email: &str, tenant: &str, upn: &str) -> Profile {
    Profile {
        provider: ProviderKind::Microsoft,
        issuer: crate::auth::provider::microsoft_issuer(tenant),
        entra: Some(EntraIdentity {
            tenant: tenant.into(),
            object_id: "o-1".into(),
            username: Some(upn.into()),
        }),
        ..google(email)
    }
}

fn with_microsoft_tenant(tenant: Option<&str>) -> Settings {
    Settings {
        privileged_users: vec!["boss@contoso.com".into()],
        identity_providers: vec![crate::auth::provider::ProviderConfig {
            kind: ProviderKind::Microsoft,
            issuer: None,
            client_id: Some("c".into()),
            allowed_domains: vec![],
            tenant: tenant.map(str::to_owned),
        }],
        ..Settings::default()
    }
}

#[test]
fn password_companies_let_only_privileged_users_use_a_provider() {
    let s = Settings {
        sign_in_method: Some(SignInMethod::Password),
        privileged_users: vec!["boss@example.com".into()],
        ..Settings::default()
    };
    assert_eq!(
        s.method_allows(&google("ana@example.com")),
        Err(SignInMethod::Password)
    );
    assert_eq!(s.method_allows(&google("Boss@Example.com ")), Ok(()));
    let g = Settings {
        sign_in_method: Some(SignInMethod::Google),
        ..Settings::default()
    };
    assert_eq!(g.method_allows(&google("ana@example.com")), Ok(()));
    assert_eq!(
        g.method_allows(&microsoft("ana@example.com", TENANT, "ana@example.com")),
        Err(SignInMethod::Google)
    );
    let oidc = Profile {
        provider: ProviderKind::Oidc,
        ..google("x@y")
    };
    assert_eq!(Settings::default().method_allows(&oidc), Ok(()));
}

#[test]
fn microsoft_agents_are_privileged_by_sign_in_name_in_the_configured_tenant_only() {
    let s = with_microsoft_tenant(Some(TENANT));
    // The admin's own tenant: the UPN decides.
    assert!(s.is_privileged(&microsoft("x@y", TENANT, "Boss@Contoso.com")));
    assert!(s.is_privileged(&microsoft(
        "x@y",
        &TENANT.to_uppercase(),
        "boss@contoso.com"
    )));
    // An `email` claim saying the boss's address is not enough: in any
    // tenant (its admin sets `email` freely), not in the configured one.
    let other = "11111111-2222-3333-4444-555555555555";
    assert!(!s.is_privileged(&microsoft("boss@contoso.com", other, "boss@contoso.com")));
    assert!(!s.is_privileged(&microsoft("boss@contoso.com", TENANT, "eve@contoso.com")));
    // No Entra identity (an older stored profile): not privileged.
    let mut old = microsoft("boss@contoso.com", TENANT, "boss@contoso.com");
    old.entra = None;
    assert!(!s.is_privileged(&old));
    // No tenant configured (any work account may sign in): nobody is
    // privileged through Microsoft.
    let any = with_microsoft_tenant(None);
    assert!(!any.is_privileged(&microsoft("boss@contoso.com", TENANT, "boss@contoso.com")));
    // A Google agent with that verified email is, as before.
    assert!(any.is_privileged(&google("boss@contoso.com")));
    // And under a Google-only method, the rule decides who may still use Microsoft.
    let method = Settings {
        sign_in_method: Some(SignInMethod::Google),
        ..with_microsoft_tenant(Some(TENANT))
    };
    assert_eq!(
        method.method_allows(&microsoft("boss@contoso.com", other, "boss@contoso.com")),
        Err(SignInMethod::Google)
    );
    assert_eq!(
        method.method_allows(&microsoft("x@y", TENANT, "boss@contoso.com")),
        Ok(())
    );
}
