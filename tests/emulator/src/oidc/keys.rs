//! The provider's signing keys: RS256 signatures of ID tokens, their check
//! (for the platform, a relying party), and the JWKS endpoint.

use super::*;

impl Provider {
    pub(super) fn current_key(&self) -> (String, RsaPrivateKey) {
        let mut inner = self.lock();
        if inner.keys.is_empty() {
            inner.keys.push(new_key());
        }
        let k = &inner.keys[inner.keys.len() - 1];
        (k.kid.clone(), k.key.clone())
    }

    /// Signs claims as an RS256 JWT with the current key.
    pub fn sign(&self, claims: &Value) -> String {
        let (kid, key) = self.current_key();
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = key
            .sign(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(input.as_bytes()),
            )
            .unwrap_or_default();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    /// The claims of a token this provider signed (with any of its current
    /// keys) that has not expired; None otherwise. What a relying party (the
    /// phone platform) checks.
    pub fn verify(&self, token: &str) -> Option<Value> {
        let (input, sig) = token.rsplit_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        let digest = Sha256::digest(input.as_bytes());
        let signed = self.lock().keys.iter().any(|k| {
            RsaPublicKey::from(&k.key)
                .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
                .is_ok()
        });
        if !signed {
            return None;
        }
        let payload = input.split('.').nth(1)?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims["exp"].as_u64()? > now()).then_some(claims)
    }
}

pub(super) async fn certs(State(p): State<Provider>) -> Response {
    let _ = p.current_key();
    let keys: Vec<Value> = p
        .lock()
        .keys
        .iter()
        .map(|k| {
            let public = RsaPublicKey::from(&k.key);
            json!({
                "kty": "RSA", "alg": "RS256", "use": "sig", "kid": k.kid,
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            })
        })
        .collect();
    (
        [(
            header::CACHE_CONTROL,
            "public, max-age=3600, must-revalidate, no-transform",
        )],
        Json(json!({ "keys": keys })),
    )
        .into_response()
}
