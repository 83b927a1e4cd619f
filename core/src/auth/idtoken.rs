//! ID token validation (OpenID Connect Core §3.1.3.7): the RS256, PS256 or
//! ES256 signature (the key pinned to its algorithm; never `none` or HMAC)
//! against the provider's JWKS, then iss, aud, azp, exp and iat with a small
//! skew, nonce, email_verified, and the Workspace domain (`hd`) or Entra
//! tenant (`tid`). Each refusal is its own error, so the agent is told which.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier as _;
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::provider::ProviderKind;

/// Clock skew tolerated on exp and iat.
pub const SKEW_SECONDS: u64 = 60;

/// One key of a JWKS document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    /// EC keys: the curve and the point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// `aud` is a string or a list of strings.
///
/// Decoded by hand rather than with `#[serde(untagged)]`, which buffers the
/// value in serde's `Content` and compiles a second decoder for it (bytes in
/// the worker's wasm module, issue 19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seen;
        impl<'de> serde::de::Visitor<'de> for Seen {
            type Value = Audience;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Audience, E> {
                Ok(Audience::One(s.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Audience, A::Error> {
                let mut all = vec![];
                while let Some(a) = seq.next_element::<String>()? {
                    all.push(a);
                }
                Ok(Audience::Many(all))
            }
        }
        d.deserialize_any(Seen)
    }
}

impl Audience {
    fn contains(&self, id: &str) -> bool {
        match self {
            Audience::One(a) => a == id,
            Audience::Many(v) => v.iter().any(|a| a == id),
        }
    }
    fn len(&self) -> usize {
        match self {
            Audience::One(_) => 1,
            Audience::Many(v) => v.len(),
        }
    }
}

/// `email_verified` is a boolean, but some providers send the string "true".
/// Decoded by hand, as `Audience`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    Text(String),
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seen;
        impl serde::de::Visitor<'_> for Seen {
            type Value = Flag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a boolean or a string")
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Flag, E> {
                Ok(Flag::Bool(b))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Flag, E> {
                Ok(Flag::Text(s.to_owned()))
            }
        }
        d.deserialize_any(Seen)
    }
}

impl Flag {
    fn is_true(&self) -> bool {
        match self {
            Flag::Bool(b) => *b,
            Flag::Text(t) => t.eq_ignore_ascii_case("true"),
        }
    }
}

/// The claims Ringside reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    #[serde(default)]
    pub azp: Option<String>,
    pub exp: u64,
    pub iat: u64,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<Flag>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    /// Google Workspace domain.
    #[serde(default)]
    pub hd: Option<String>,
    /// Entra tenant id.
    #[serde(default)]
    pub tid: Option<String>,
    /// Entra object id of the user: with `tid`, who the agent is (email and
    /// name can be changed, or set to anything in another tenant).
    #[serde(default)]
    pub oid: Option<String>,
    /// Entra's sign-in name (its tokens may lack `email`).
    #[serde(default)]
    pub preferred_username: Option<String>,
}

/// The identity claims a provider may give at its userinfo endpoint
/// instead of in the ID token (OpenID Connect Core §5.4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<Flag>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
}

impl Claims {
    /// Whether an identity claim (email, email_verified, name, picture) is
    /// missing, to be asked of userinfo.
    pub fn lacks_identity(&self) -> bool {
        self.email.is_none()
            || self.email_verified.is_none()
            || self.name.is_none()
            || self.picture.is_none()
    }

    /// Whether what the checks need (email and email_verified) is missing.
    pub fn lacks_email(&self) -> bool {
        self.email.is_none() || self.email_verified.is_none()
    }

    /// Fills the identity claims the ID token lacks from a userinfo answer;
    /// those in the token stay. The answer must be about the same `sub`
    /// (OpenID Connect Core §5.3.2): anything else is refused.
    pub fn merge_userinfo(&mut self, body: &str) -> Result<(), IdTokenError> {
        let info: UserInfo = serde_json::from_str(body)
            .map_err(|e| IdTokenError::Malformed(format!("the userinfo answer: {e}")))?;
        if info.sub != self.sub {
            return Err(IdTokenError::UserinfoSubject {
                got: info.sub,
                expected: self.sub.clone(),
            });
        }
        // The email and its verification come together: a token that names
        // an email vouches for that one only.
        if self.email.is_none() {
            self.email = info.email;
            self.email_verified = info.email_verified;
        } else if self.email_verified.is_none() && info.email == self.email {
            self.email_verified = info.email_verified;
        }
        self.name = self.name.take().or(info.name);
        self.picture = self.picture.take().or(info.picture);
        Ok(())
    }

    /// The address the agent signed in with.
    pub fn login_email(&self) -> Option<&str> {
        self.email.as_deref().or(self.preferred_username.as_deref())
    }
}

/// What the token must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations<'a> {
    pub kind: ProviderKind,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Seconds since the epoch.
    pub now: u64,
    /// Allowed Workspace domains; empty: any (Google).
    pub allowed_domains: &'a [String],
    /// Required Entra tenant (Microsoft).
    pub tenant: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the ID token is signed with {0}; Ringside verifies RS256, PS256 and ES256")]
    UnsupportedAlg(String),
    /// The caller refetches the JWKS once (keys rotate) before giving up.
    #[error("no key `{0}` in the provider's JWKS")]
    UnknownKey(String),
    #[error("the ID token's signature does not verify")]
    BadSignature,
    #[error("the ID token was issued by `{got}`, not `{expected}`")]
    WrongIssuer { got: String, expected: String },
    #[error("the ID token is not meant for this app (aud/azp)")]
    WrongAudience,
    #[error("the ID token expired")]
    Expired,
    #[error("the ID token is issued in the future (check this computer's clock)")]
    IssuedInFuture,
    #[error("the ID token does not answer this sign-in (nonce)")]
    NonceMismatch,
    #[error("the account's email address is not verified")]
    EmailNotVerified,
    #[error("accounts from `{got}` may not sign in here (allowed: {allowed})")]
    WrongDomain { got: String, allowed: String },
    #[error("this Microsoft account belongs to another organization (tenant `{got}`)")]
    WrongTenant { got: String },
    /// A Microsoft token without `tid` or `oid`: the agent cannot be identified.
    #[error("the Microsoft ID token has no `{0}` claim")]
    MissingClaim(&'static str),
    /// Userinfo answered about another subject than the ID token's.
    #[error("the userinfo endpoint answered for `{got}`, not the ID token's `{expected}`")]
    UserinfoSubject { got: String, expected: String },
}

impl IdTokenError {
    /// `_locales` key of what the agent is told.
    pub fn message_key(&self) -> &'static str {
        match self {
            IdTokenError::Malformed(_)
            | IdTokenError::UnsupportedAlg(_)
            | IdTokenError::UnknownKey(_)
            | IdTokenError::BadSignature
            | IdTokenError::WrongIssuer { .. }
            | IdTokenError::WrongAudience
            | IdTokenError::MissingClaim(_)
            | IdTokenError::UserinfoSubject { .. } => "signinTokenInvalid",
            IdTokenError::Expired | IdTokenError::IssuedInFuture => "signinClock",
            IdTokenError::NonceMismatch => "signinReplay",
            IdTokenError::EmailNotVerified => "signinEmailUnverified",
            IdTokenError::WrongDomain { .. } => "signinWrongDomain",
            IdTokenError::WrongTenant { .. } => "signinWrongTenant",
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, IdTokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| IdTokenError::Malformed(format!("{what}: {e}")))
}

/// Decodes the claims without checking anything (for diagnostics only).
pub fn peek_claims(token: &str) -> Result<Claims, IdTokenError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| IdTokenError::Malformed("no payload".into()))?;
    serde_json::from_slice(&b64(payload, "payload")?)
        .map_err(|e| IdTokenError::Malformed(format!("claims: {e}")))
}

/// The `alg` of a token's header.
pub fn peek_alg(token: &str) -> Result<String, IdTokenError> {
    let header = token.split('.').next().unwrap_or_default();
    let h: Header = serde_json::from_slice(&b64(header, "header")?)
        .map_err(|e| IdTokenError::Malformed(format!("header: {e}")))?;
    Ok(h.alg)
}

/// The `kid` of a token's header (which key to look up before verifying).
pub fn peek_kid(token: &str) -> Result<String, IdTokenError> {
    let header = token.split('.').next().unwrap_or_default();
    let h: Header = serde_json::from_slice(&b64(header, "header")?)
        .map_err(|e| IdTokenError::Malformed(format!("header: {e}")))?;
    Ok(h.kid.unwrap_or_default())
}

/// Verifies the signature, then the claims.
pub fn verify(token: &str, jwks: &Jwks, expect: &Expectations<'_>) -> Result<Claims, IdTokenError> {
    let claims = verify_signature(token, jwks)?;
    check_claims(&claims, expect)?;
    Ok(claims)
}

/// Verifies the signature and reads the claims, checking none of them (the
/// caller runs [`check_token`], then [`check_identity`] once the identity
/// claims are complete: from userinfo for the `oidc` kind).
pub fn verify_signature(token: &str, jwks: &Jwks) -> Result<Claims, IdTokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(IdTokenError::Malformed(format!(
            "{} parts instead of 3",
            parts.len()
        )));
    };
    let h: Header = serde_json::from_slice(&b64(header, "header")?)
        .map_err(|e| IdTokenError::Malformed(format!("header: {e}")))?;
    let kty = match h.alg.as_str() {
        "RS256" | "PS256" => "RSA",
        "ES256" => "EC",
        // Never `none` or HMAC (a public client has no shared secret).
        _ => return Err(IdTokenError::UnsupportedAlg(h.alg)),
    };
    let kid = h.kid.unwrap_or_default();
    // The key is pinned to its algorithm: a key published for RS256 does
    // not verify a PS256 token, nor an RSA key an EC one.
    let jwk = jwks
        .keys
        .iter()
        .find(|k| {
            k.kty == kty
                && k.kid.as_deref().unwrap_or("") == kid
                && k.use_.as_deref() != Some("enc")
                && k.alg.as_deref().is_none_or(|a| a == h.alg)
        })
        .ok_or_else(|| IdTokenError::UnknownKey(kid.clone()))?;
    let signed = format!("{header}.{payload}");
    let signature = b64(signature, "signature")?;
    let verified = match h.alg.as_str() {
        "ES256" => es256_key(jwk)
            .ok_or_else(|| IdTokenError::UnknownKey(kid.clone()))?
            .verify(
                signed.as_bytes(),
                &p256::ecdsa::Signature::from_slice(&signature)
                    .map_err(|_| IdTokenError::BadSignature)?,
            )
            .is_ok(),
        alg => {
            let (Some(n), Some(e)) = (&jwk.n, &jwk.e) else {
                return Err(IdTokenError::UnknownKey(kid));
            };
            let key = RsaPublicKey::new(
                BigUint::from_bytes_be(&b64(n, "jwk n")?),
                BigUint::from_bytes_be(&b64(e, "jwk e")?),
            )
            .map_err(|_| IdTokenError::UnknownKey(kid))?;
            let digest = Sha256::digest(signed.as_bytes());
            if alg == "PS256" {
                key.verify(Pss::new::<Sha256>(), &digest, &signature)
            } else {
                key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature)
            }
            .is_ok()
        }
    };
    if !verified {
        return Err(IdTokenError::BadSignature);
    }
    serde_json::from_slice(&b64(payload, "payload")?)
        .map_err(|e| IdTokenError::Malformed(format!("claims: {e}")))
}

/// A P-256 public key from its JWK (`crv`, `x`, `y`).
fn es256_key(jwk: &Jwk) -> Option<p256::ecdsa::VerifyingKey> {
    if jwk.crv.as_deref() != Some("P-256") {
        return None;
    }
    let x = URL_SAFE_NO_PAD.decode(jwk.x.as_deref()?).ok()?;
    let y = URL_SAFE_NO_PAD.decode(jwk.y.as_deref()?).ok()?;
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let point = p256::EncodedPoint::from_affine_coordinates(
        p256::FieldBytes::from_slice(&x),
        p256::FieldBytes::from_slice(&y),
        false,
    );
    p256::ecdsa::VerifyingKey::from_encoded_point(&point).ok()
}

/// The ID token signatures Ringside verifies.
pub const SUPPORTED_ALGS: &[&str] = &["RS256", "PS256", "ES256"];

/// Whether an algorithm is never accepted, whatever the provider says:
/// `none` and HMAC (its key would be the client secret, which an extension
/// cannot keep). Other algorithms Ringside does not verify are a setup
/// matter for the admin.
pub fn forbidden_alg(alg: &str) -> bool {
    alg.eq_ignore_ascii_case("none") || alg.to_ascii_uppercase().starts_with("HS")
}

/// The claim checks, in the order OpenID Connect lists them.
pub fn check_claims(c: &Claims, x: &Expectations<'_>) -> Result<(), IdTokenError> {
    check_token(c, x)?;
    check_identity(c, x)
}

/// What makes the token this sign-in's: iss, aud, azp, exp, iat, nonce.
pub fn check_token(c: &Claims, x: &Expectations<'_>) -> Result<(), IdTokenError> {
    // Entra's multi-tenant issuer names the tenant; compare with it filled in.
    let expected_issuer = match (&c.tid, x.kind) {
        (Some(tid), ProviderKind::Microsoft) => x
            .issuer
            .replacen("/organizations/", &format!("/{tid}/"), 1)
            .replacen("/common/", &format!("/{tid}/"), 1),
        _ => x.issuer.to_owned(),
    };
    if c.iss.trim_end_matches('/') != expected_issuer.trim_end_matches('/') {
        return Err(IdTokenError::WrongIssuer {
            got: c.iss.clone(),
            expected: expected_issuer,
        });
    }
    if !c.aud.contains(x.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    if c.aud.len() > 1 && c.azp.as_deref() != Some(x.client_id) {
        return Err(IdTokenError::WrongAudience);
    }
    if let Some(azp) = &c.azp
        && azp != x.client_id
    {
        return Err(IdTokenError::WrongAudience);
    }
    if c.exp + SKEW_SECONDS <= x.now {
        return Err(IdTokenError::Expired);
    }
    if c.iat > x.now + SKEW_SECONDS {
        return Err(IdTokenError::IssuedInFuture);
    }
    if c.nonce.as_deref() != Some(x.nonce) {
        return Err(IdTokenError::NonceMismatch);
    }
    Ok(())
}

/// Who the agent is and whether they may sign in: the Entra tenant and
/// object id, or a verified email in an allowed domain.
pub fn check_identity(c: &Claims, x: &Expectations<'_>) -> Result<(), IdTokenError> {
    match x.kind {
        ProviderKind::Microsoft => {
            // Entra tokens carry no email_verified, and `email` is whatever
            // the account's tenant put there: the agent is tid + oid.
            for (claim, value) in [("tid", &c.tid), ("oid", &c.oid)] {
                if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                    return Err(IdTokenError::MissingClaim(claim));
                }
            }
            if let Some(t) = x.tenant
                && c.tid.as_deref() != Some(t)
            {
                return Err(IdTokenError::WrongTenant {
                    got: c.tid.clone().unwrap_or_default(),
                });
            }
        }
        ProviderKind::Google | ProviderKind::Oidc | ProviderKind::Password | ProviderKind::Sso => {
            if !c.email_verified.as_ref().is_some_and(Flag::is_true) {
                return Err(IdTokenError::EmailNotVerified);
            }
            if !x.allowed_domains.is_empty() {
                // Google names a Workspace account's domain in `hd` (a
                // personal account has none). Other providers have no such
                // claim: there the domain is the verified email's.
                let hd = match x.kind {
                    ProviderKind::Google => c.hd.clone().unwrap_or_default(),
                    _ => c
                        .email
                        .as_deref()
                        .and_then(|e| e.rsplit_once('@'))
                        .map(|(_, d)| d.to_ascii_lowercase())
                        .unwrap_or_default(),
                };
                if !x
                    .allowed_domains
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&hd))
                {
                    return Err(IdTokenError::WrongDomain {
                        got: if hd.is_empty() {
                            "a personal account".into()
                        } else {
                            hd
                        },
                        allowed: x.allowed_domains.join(", "),
                    });
                }
            }
        }
    }
    Ok(())
}

/// `max-age` of a Cache-Control header (how long a JWKS may be cached).
pub fn max_age(cache_control: &str) -> Option<u64> {
    cache_control.split(',').find_map(|d| {
        let (k, v) = d.trim().split_once('=')?;
        k.eq_ignore_ascii_case("max-age")
            .then(|| v.trim().trim_matches('"').parse().ok())
            .flatten()
    })
}

#[cfg(test)]
#[path = "idtoken_tests.rs"]
mod tests;
