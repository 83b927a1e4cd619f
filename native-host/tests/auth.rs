//! The host's token work against the emulator's Google and Microsoft
//! providers on loopback: code exchange with PKCE, the refresh token kept in
//! a secret store (in memory here; the Secret Service in the OS-store test
//! and the end-to-end suite), refresh, revocation, and the provider's own
//! error bodies handed back whole for core to classify.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::sync::Arc;

use ringside_core::auth::pkce::{RANDOM_BYTES, RequestSecrets};
use ringside_core::auth::provider::{self, ProviderConfig, ProviderKind};
use ringside_core::auth::token::{self, RevokeReason, TokenFailure};
use ringside_core::protocol::{
    AuthAccount, AuthExchangeParams, AuthForgetParams, AuthRefreshParams, ErrorBody, ErrorCode,
};
use ringside_host::secrets::{MemoryStore, OsStore, Secret, SecretStore};
use ringside_host::tokens::{Auth, ConfiguredClient};
use serde_json::{Value, json};

const REDIRECT: &str = "https://fempdkhheodefkjhkbekalfieneojckb.chromiumapp.org/";

struct Emu {
    base: String,
    http: reqwest::Client,
}

impl Emu {
    async fn start() -> Emu {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = ringside_emulator::app(ringside_emulator::Options { pages: None });
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Emu { base, http }
    }

    async fn put(&self, path: &str, body: Value) {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Sets up one client and one user, auto-consent on.
    async fn provider(&self, control: &str, client: &str, secret: Option<&str>, email: &str) {
        self.put(
            &format!("{control}/clients"),
            json!([{"client_id": client, "redirect_uris": [REDIRECT], "secret": secret}]),
        )
        .await;
        self.put(
            &format!("{control}/users"),
            json!([{"email": email, "name": "Ana Ruiz", "hd": "example.com"}]),
        )
        .await;
        self.put(&format!("{control}/consent"), json!({"auto": email}))
            .await;
    }

    /// Runs the authorization request as the browser would; returns the
    /// code and the PKCE verifier.
    async fn authorize(&self, cfg: &ProviderConfig) -> (String, String) {
        let issuer = cfg.issuer().unwrap();
        let doc = self
            .http
            .get(provider::discovery_url(&issuer))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let d = provider::parse_discovery(&doc, &issuer).unwrap();
        let secrets = RequestSecrets::from_random(&[9u8; RANDOM_BYTES]);
        let url = provider::authorization_url(cfg, &d, REDIRECT, &secrets, None).unwrap();
        let r = self.http.get(url).send().await.unwrap();
        assert!(r.status().is_redirection(), "authorize: {}", r.status());
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let code = provider::parse_redirect(&location, &secrets.state).unwrap();
        (code, secrets.verifier.clone())
    }
}

fn google(base: &str, client: &str) -> ProviderConfig {
    ProviderConfig {
        kind: ProviderKind::Google,
        issuer: Some(format!("{base}/google")),
        client_id: Some(client.into()),
        allowed_domains: vec![],
        tenant: None,
    }
}

fn account(cfg: &ProviderConfig) -> AuthAccount {
    AuthAccount {
        issuer: cfg.issuer().unwrap(),
        client_id: cfg.client_id().unwrap().into(),
    }
}

fn classify(e: &ErrorBody) -> TokenFailure {
    let d = e
        .detail
        .as_ref()
        .expect("provider_refused carries the answer");
    token::classify(
        d["status"].as_u64().unwrap() as u16,
        d["body"].as_str().unwrap(),
        d["retry_after"].as_str(),
    )
}

async fn sign_in(
    emu: &Emu,
    auth: &Auth,
    cfg: &ProviderConfig,
) -> ringside_core::protocol::TokenGrant {
    let (code, verifier) = emu.authorize(cfg).await;
    auth.exchange(AuthExchangeParams {
        account: account(cfg),
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT.into(),
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_keeps_the_refresh_token_in_the_store_refresh_and_sign_out_revoke_it() {
    let emu = Emu::start().await;
    emu.provider("/control/oidc", "ringside-web", None, "ana@example.com")
        .await;
    let store = Arc::new(MemoryStore::default());
    let auth = Auth::new(store.clone(), vec![]);
    let cfg = google(&emu.base, "ringside-web");

    let grant = sign_in(&emu, &auth, &cfg).await;
    assert!(grant.stored);
    assert!(
        grant
            .id_token
            .as_deref()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    assert!(grant.expires_in.is_some_and(|s| s > 0));
    let kept = store
        .get(&account(&cfg).key())
        .unwrap()
        .expect("refresh token stored");
    // What goes back to the browser never contains the refresh token.
    let wire = serde_json::to_string(&grant).unwrap();
    assert!(!wire.contains(kept.expose()));
    assert!(!wire.contains("refresh_token"));

    let again = auth
        .refresh(AuthRefreshParams {
            account: account(&cfg),
            scope: None,
        })
        .await
        .unwrap();
    assert_ne!(again.access_token, grant.access_token);

    let out = auth
        .forget(AuthForgetParams {
            access_token: None,
            account: account(&cfg),
            revoke: true,
        })
        .await
        .unwrap();
    assert!(out.revoked && out.deleted, "{out:?}");
    let revoked = emu.get("/control/oidc/revocations").await;
    assert_eq!(revoked, json!([kept.expose()]));
    assert_eq!(store.get(&account(&cfg).key()).unwrap(), None);

    let e = refresh_fails(&auth, account(&cfg)).await;
    assert_eq!(e.kind(), Some(ErrorCode::NoRefreshToken));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_client_gets_its_secret_from_the_host_config_only() {
    let emu = Emu::start().await;
    emu.provider(
        "/control/oidc",
        "ringside-conf",
        Some("s3cr3t"),
        "ana@example.com",
    )
    .await;
    let cfg = google(&emu.base, "ringside-conf");

    let without = Auth::new(Arc::new(MemoryStore::default()), vec![]);
    let (code, verifier) = emu.authorize(&cfg).await;
    let e = without
        .exchange(AuthExchangeParams {
            account: account(&cfg),
            code,
            code_verifier: verifier,
            redirect_uri: REDIRECT.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), Some(ErrorCode::ProviderRefused));
    assert!(
        matches!(classify(&e), TokenFailure::InvalidClient(_)),
        "{e:?}"
    );

    let configured = ConfiguredClient {
        issuer: format!("{}/google/", emu.base),
        client_id: "ringside-conf".into(),
        client_secret: Secret::new("s3cr3t"),
    };
    let with = Auth::new(Arc::new(MemoryStore::default()), vec![configured]);
    assert!(sign_in(&emu, &with, &cfg).await.stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_comes_back_as_the_providers_own_answer() {
    let emu = Emu::start().await;
    emu.provider("/control/oidc", "ringside-web", None, "ana@example.com")
        .await;
    let auth = Auth::new(Arc::new(MemoryStore::default()), vec![]);
    let cfg = google(&emu.base, "ringside-web");
    sign_in(&emu, &auth, &cfg).await;
    let r = emu
        .http
        .post(format!("{}/control/oidc/revoke-user", emu.base))
        .json(&json!({"email": "ana@example.com"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let e = refresh_fails(&auth, account(&cfg)).await;
    assert_eq!(e.kind(), Some(ErrorCode::ProviderRefused));
    assert_eq!(
        classify(&e),
        TokenFailure::GrantRevoked(RevokeReason::ExpiredOrRevoked)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft_refresh_token_works_through_the_same_path() {
    let emu = Emu::start().await;
    emu.provider(
        "/control/oidc-microsoft",
        "ringside-ms",
        None,
        "ana@contoso.com",
    )
    .await;
    let auth = Auth::new(Arc::new(MemoryStore::default()), vec![]);
    let cfg = ProviderConfig {
        kind: ProviderKind::Microsoft,
        issuer: Some(format!(
            "{}/microsoft/{}/v2.0",
            emu.base,
            ringside_emulator::oidc::DEFAULT_TENANT
        )),
        client_id: Some("ringside-ms".into()),
        allowed_domains: vec![],
        tenant: None,
    };
    let grant = sign_in(&emu, &auth, &cfg).await;
    assert!(grant.stored, "{grant:?}");
    auth.refresh(AuthRefreshParams {
        account: account(&cfg),
        scope: None,
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_issuers_and_dead_providers_are_told_apart() {
    let at = |issuer: &str| AuthAccount {
        issuer: issuer.into(),
        client_id: "c".into(),
    };
    let empty = Auth::new(Arc::new(MemoryStore::default()), vec![]);
    let none = refresh_fails(&empty, at("http://127.0.0.1:9")).await;
    assert_eq!(none.kind(), Some(ErrorCode::NoRefreshToken));

    // With something to refresh, the provider is actually asked.
    let auth = Auth::new(
        seeded(&["http://example.com", "http://127.0.0.1:9"]),
        vec![],
    );
    let plain = refresh_fails(&auth, at("http://example.com")).await;
    assert_eq!(
        plain.kind(),
        Some(ErrorCode::ProviderMisconfigured),
        "{plain:?}"
    );
    let dead = refresh_fails(&auth, at("http://127.0.0.1:9")).await;
    assert_eq!(
        dead.kind(),
        Some(ErrorCode::ProviderUnreachable),
        "{dead:?}"
    );
}

/// A refresh that must fail, and its error.
async fn refresh_fails(auth: &Auth, account: AuthAccount) -> ErrorBody {
    auth.refresh(AuthRefreshParams {
        account,
        scope: None,
    })
    .await
    .unwrap_err()
}

fn seeded(issuers: &[&str]) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::default());
    for i in issuers {
        let a = AuthAccount {
            issuer: (*i).into(),
            client_id: "c".into(),
        };
        store.set(&a.key(), &Secret::new("rt")).unwrap();
    }
    store
}

/// The real Secret Service, when the test runs under `scripts/with-keyring`
/// (scripts/test does): the entry is where `secret-tool` looks for it.
#[test]
fn the_os_store_round_trips_through_the_secret_service() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        assert!(
            std::env::var_os("RINGSIDE_REQUIRE_KEYRING").is_none(),
            "RINGSIDE_REQUIRE_KEYRING is set but there is no D-Bus session"
        );
        eprintln!("skipped: no D-Bus session (run under scripts/with-keyring)");
        return;
    }
    let store = OsStore;
    let key = format!("test {}", std::process::id());
    store.set(&key, &Secret::new("1//refresh-abc")).unwrap();
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "ringside", "username", &key])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1//refresh-abc");
    assert_eq!(store.get(&key).unwrap().unwrap().expose(), "1//refresh-abc");
    assert!(store.delete(&key).unwrap());
    assert_eq!(store.get(&key).unwrap(), None);
}
