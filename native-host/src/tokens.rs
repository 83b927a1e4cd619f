//! OAuth in the host: the authorization-code exchange, refresh and revocation
//! (the oauth2 crate builds and parses the requests), with the refresh token
//! kept in the OS secret store. The refresh token never goes back to the
//! browser; a client secret, when the provider needs one, comes from the
//! host's admin configuration.
//!
//! Endpoints come from the issuer's own discovery document (fetched here, not
//! taken from the extension), so a client secret is only ever sent to the
//! token endpoint its issuer names.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthorizationCode, Client, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    ExtraTokenFields, HttpRequest, HttpResponse, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use ringside_core::auth::provider::{self, Discovery};
use ringside_core::protocol::{
    AuthAccount, AuthExchangeParams, AuthForgetParams, AuthRefreshParams, ErrorBody, ErrorCode,
    ForgetResult, TokenGrant,
};
use serde::{Deserialize, Serialize};

use crate::secrets::{self, Secret, SecretError, SecretStore};

/// How long one call to a provider may take.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

/// A confidential client in the host's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfiguredClient {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
}

/// OpenID's `id_token` beside the standard token response fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct IdFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdFields {}

type Tokens = StandardTokenResponse<IdFields, BasicTokenType>;

type OidcClient = Client<
    BasicErrorResponse,
    Tokens,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The provider's last non-success answer, kept whole: oauth2's typed error
/// drops fields the session rules need (Google's `error_subtype`,
/// Microsoft's `error_codes`, `Retry-After`).
#[derive(Debug, Clone)]
struct RawAnswer {
    status: u16,
    body: String,
    retry_after: Option<String>,
}

/// One request on its way through [`Auth::transport`].
type Sending = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<HttpResponse, reqwest::Error>> + Send>,
>;

/// The host's OAuth work for one connection.
#[derive(Debug)]
pub struct Auth {
    /// Built on first use: loading the TLS roots costs host start-up time.
    /// Kept with its failure, which every provider request then reports.
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    store: Arc<dyn SecretStore>,
    clients: Vec<ConfiguredClient>,
    discovered: tokio::sync::Mutex<HashMap<String, Discovery>>,
}

fn err(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, message)
}

fn store_error(e: &SecretError) -> ErrorBody {
    err(ErrorCode::SecretStoreUnavailable, e.to_string())
}

/// An error with its causes (reqwest's own text is often just "builder error").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

fn unreachable(what: &str, e: &reqwest::Error) -> ErrorBody {
    let why = if e.is_timeout() {
        "it did not answer in time".to_owned()
    } else if e.is_connect() {
        "the connection failed (network down, or TLS certificate not trusted)".to_owned()
    } else {
        e.to_string()
    };
    err(
        ErrorCode::ProviderUnreachable,
        format!("cannot reach the {what}: {why}"),
    )
}

impl Auth {
    pub fn new(store: Arc<dyn SecretStore>, clients: Vec<ConfiguredClient>) -> Auth {
        Auth {
            http: std::sync::OnceLock::new(),
            store,
            clients,
            discovered: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The HTTP client for providers. A client that cannot be built (the
    /// platform TLS failed to load) is an error that says so, never a
    /// default client: that one would follow redirects, and a redirect could
    /// carry the client secret elsewhere.
    fn http(&self) -> Result<&reqwest::Client, ErrorBody> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    // Token endpoints must not redirect (a redirect could carry
                    // the client secret elsewhere).
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(PROVIDER_TIMEOUT)
                    .build()
                    .map_err(|e| error_chain(&e))
            })
            .as_ref()
            .map_err(|why| {
                err(
                    ErrorCode::ProviderUnreachable,
                    format!(
                        "the host cannot set up HTTPS to reach the identity provider ({why}); \
                         the platform TLS library did not load: on Linux install OpenSSL \
                         (Debian: apt-get install libssl3), then run `ringside-host doctor`"
                    ),
                )
            })
    }

    async fn discovery(&self, issuer: &str) -> Result<Discovery, ErrorBody> {
        let issuer = issuer.trim_end_matches('/');
        if let Some(d) = self.discovered.lock().await.get(issuer) {
            return Ok(d.clone());
        }
        if !provider::issuer_is_acceptable(issuer) {
            return Err(err(
                ErrorCode::ProviderMisconfigured,
                format!("the issuer `{issuer}` is not an https URL"),
            ));
        }
        let url = provider::discovery_url(issuer);
        let answer = self
            .http()?
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable("provider's discovery document", &e))?;
        let status = answer.status();
        let body = answer
            .text()
            .await
            .map_err(|e| unreachable("provider's discovery document", &e))?;
        if !status.is_success() {
            return Err(err(
                ErrorCode::ProviderMisconfigured,
                format!("{url} answered HTTP {}", status.as_u16()),
            ));
        }
        let d = provider::parse_discovery(&body, issuer)
            .map_err(|p| err(ErrorCode::ProviderMisconfigured, p.to_string()))?;
        self.discovered
            .lock()
            .await
            .insert(issuer.to_owned(), d.clone());
        Ok(d)
    }

    async fn client(&self, account: &AuthAccount) -> Result<OidcClient, ErrorBody> {
        let d = self.discovery(&account.issuer).await?;
        let bad = |e: oauth2::url::ParseError| err(ErrorCode::ProviderMisconfigured, e.to_string());
        let mut client = Client::new(ClientId::new(account.client_id.clone()))
            .set_token_uri(TokenUrl::new(d.token_endpoint).map_err(bad)?)
            // Google and Microsoft both take the secret in the body.
            .set_auth_type(AuthType::RequestBody);
        if let Some(c) = self.configured(account) {
            client = client.set_client_secret(ClientSecret::new(c.client_secret.expose().into()));
        }
        Ok(client)
    }

    fn configured(&self, account: &AuthAccount) -> Option<&ConfiguredClient> {
        let issuer = account.issuer.trim_end_matches('/');
        self.clients
            .iter()
            .find(|c| c.issuer.trim_end_matches('/') == issuer && c.client_id == account.client_id)
    }

    /// An oauth2 HTTP client that remembers the last non-2xx answer.
    fn transport(
        &self,
        last: Arc<Mutex<Option<RawAnswer>>>,
    ) -> Result<impl Fn(HttpRequest) -> Sending + use<>, ErrorBody> {
        let http = self.http()?.clone();
        Ok(move |req: HttpRequest| -> Sending {
            let http = http.clone();
            let last = last.clone();
            Box::pin(async move {
                let (parts, body) = req.into_parts();
                let answer = http
                    .request(parts.method, parts.uri.to_string())
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await?;
                let status = answer.status();
                let headers = answer.headers().clone();
                let bytes = answer.bytes().await?.to_vec();
                if !status.is_success() {
                    let raw = RawAnswer {
                        status: status.as_u16(),
                        body: String::from_utf8_lossy(&bytes).into_owned(),
                        retry_after: headers
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                    };
                    *last
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(raw);
                }
                let mut out = HttpResponse::new(bytes);
                *out.status_mut() = status;
                *out.headers_mut() = headers;
                Ok(out)
            })
        })
    }

    fn refused<T: oauth2::ErrorResponse>(
        what: &str,
        e: RequestTokenError<reqwest::Error, T>,
        last: &Mutex<Option<RawAnswer>>,
    ) -> ErrorBody {
        let raw = last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match (e, raw) {
            (RequestTokenError::Request(e), _) => unreachable(what, &e),
            (_, Some(raw)) => err(
                ErrorCode::ProviderRefused,
                format!("the {what} answered HTTP {}", raw.status),
            )
            .with_detail(serde_json::json!({
                "status": raw.status,
                "body": raw.body,
                "retry_after": raw.retry_after,
            })),
            (other, None) => err(
                ErrorCode::ProviderRefused,
                format!("the {what} answered something unusable: {other}"),
            ),
        }
    }

    async fn keep(&self, key: String, token: &RefreshToken) -> Result<(), SecretError> {
        let secret = Secret::new(token.secret().as_str());
        secrets::blocking(&self.store, move |s| s.set(&key, &secret)).await
    }

    async fn stored(&self, key: String) -> Result<Option<Secret>, SecretError> {
        secrets::blocking(&self.store, move |s| s.get(&key)).await
    }

    fn grant(tokens: &Tokens, stored: bool, store_error: Option<String>) -> TokenGrant {
        TokenGrant {
            access_token: tokens.access_token().secret().clone(),
            id_token: tokens.extra_fields().id_token.clone(),
            expires_in: tokens.expires_in().map(|d| d.as_secs()),
            scope: tokens
                .scopes()
                .map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ")),
            stored,
            store_error,
        }
    }

    /// `auth.exchange`: code + verifier → tokens; the refresh token is stored.
    pub async fn exchange(&self, p: AuthExchangeParams) -> Result<TokenGrant, ErrorBody> {
        let client = self.client(&p.account).await?;
        let redirect = RedirectUrl::new(p.redirect_uri.clone())
            .map_err(|e| err(ErrorCode::InvalidMessage, format!("redirect_uri: {e}")))?;
        let last = Arc::new(Mutex::new(None));
        let http = self.transport(last.clone())?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(p.code))
            .set_pkce_verifier(PkceCodeVerifier::new(p.code_verifier))
            .set_redirect_uri(Cow::Owned(redirect))
            .request_async(&http)
            .await
            .map_err(|e| Self::refused("token endpoint", e, &last))?;
        let key = p.account.key();
        let (stored, store_error) = match tokens.refresh_token() {
            Some(rt) => match self.keep(key, rt).await {
                Ok(()) => (true, None),
                Err(e) => {
                    tracing::warn!("refresh token not stored: {e}");
                    (false, Some(e.to_string()))
                }
            },
            // No new refresh token (the provider reuses the earlier grant):
            // the one already stored, if any, still stands.
            None => (matches!(self.stored(key).await, Ok(Some(_))), None),
        };
        tracing::info!(issuer = %p.account.issuer, stored, "signed in");
        Ok(Self::grant(&tokens, stored, store_error))
    }

    /// `auth.refresh`: a new access token from the stored refresh token;
    /// a rotated refresh token replaces the stored one.
    pub async fn refresh(&self, p: AuthRefreshParams) -> Result<TokenGrant, ErrorBody> {
        let key = p.account.key();
        let Some(secret) = self
            .stored(key.clone())
            .await
            .map_err(|e| store_error(&e))?
        else {
            return Err(err(
                ErrorCode::NoRefreshToken,
                "no refresh token in the OS secret store for this account",
            ));
        };
        let client = self.client(&p.account).await?;
        let last = Arc::new(Mutex::new(None));
        let http = self.transport(last.clone())?;
        let refresh = RefreshToken::new(secret.expose().to_owned());
        let mut request = client.exchange_refresh_token(&refresh);
        for s in p.scope.iter().flat_map(|s| s.split_whitespace()) {
            request = request.add_scope(Scope::new(s.to_owned()));
        }
        let tokens = request
            .request_async(&http)
            .await
            .map_err(|e| Self::refused("token endpoint", e, &last))?;
        let mut store_error = None;
        if let Some(rotated) = tokens.refresh_token()
            && let Err(e) = self.keep(key, rotated).await
        {
            store_error = Some(e.to_string());
        }
        Ok(Self::grant(&tokens, store_error.is_none(), store_error))
    }

    /// `auth.forget`: revoke at the provider when asked, then delete the entry.
    pub async fn forget(&self, p: AuthForgetParams) -> Result<ForgetResult, ErrorBody> {
        let key = p.account.key();
        let secret = self
            .stored(key.clone())
            .await
            .map_err(|e| store_error(&e))?;
        let mut revoked = false;
        let mut revoke_error = None;
        // The refresh token when one is stored, otherwise the access token
        // the extension holds (a provider that issued no refresh token).
        let to_revoke = match (&secret, &p.access_token) {
            (Some(s), _) => Some((s, "refresh_token")),
            (None, Some(a)) => Some((a, "access_token")),
            (None, None) => None,
        };
        if let (true, Some((secret, hint))) = (p.revoke, to_revoke) {
            match self.revoke(&p.account, secret, hint).await {
                Ok(()) => revoked = true,
                Err(e) => revoke_error = Some(e.message),
            }
        }
        let deleted = secrets::blocking(&self.store, move |s| s.delete(&key))
            .await
            .map_err(|e| store_error(&e))?;
        tracing::info!(issuer = %p.account.issuer, revoked, deleted, "signed out");
        Ok(ForgetResult {
            revoked,
            deleted,
            revoke_error,
        })
    }

    /// RFC 7009 revocation of the refresh token. Done with reqwest rather
    /// than oauth2's `revoke_token`, which refuses any non-https endpoint,
    /// loopback included, while the rest of the host allows loopback http
    /// (local providers, the emulator). Same form as oauth2 would send.
    async fn revoke(
        &self,
        account: &AuthAccount,
        secret: &Secret,
        hint: &str,
    ) -> Result<(), ErrorBody> {
        let d = self.discovery(&account.issuer).await?;
        let Some(url) = d.revocation_endpoint else {
            return Err(err(
                ErrorCode::ProviderMisconfigured,
                "the provider has no revocation endpoint",
            ));
        };
        let mut form = vec![
            ("token", secret.expose().to_owned()),
            ("token_type_hint", hint.to_owned()),
            ("client_id", account.client_id.clone()),
        ];
        if let Some(c) = self.configured(account) {
            form.push(("client_secret", c.client_secret.expose().to_owned()));
        }
        let answer = self
            .http()?
            .post(&url)
            .form(&form)
            .send()
            .await
            .map_err(|e| unreachable("revocation endpoint", &e))?;
        let status = answer.status().as_u16();
        if answer.status().is_success() {
            return Ok(());
        }
        let body = answer.text().await.unwrap_or_default();
        Err(err(
            ErrorCode::ProviderRefused,
            format!("the revocation endpoint answered HTTP {status}"),
        )
        .with_detail(serde_json::json!({"status": status, "body": body})))
    }
}
