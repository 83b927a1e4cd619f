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

    fn ec_key(&self) -> p256::ecdsa::SigningKey {
        self.lock()
            .ec_key
            .get_or_insert_with(|| p256::ecdsa::SigningKey::random(&mut OsRng))
            .clone()
    }

    /// Signs claims as a JWT with the current key, in the algorithm the
    /// provider is set to (RS256 unless its behaviour says otherwise).
    pub fn sign(&self, claims: &Value) -> String {
        let alg = self.lock().behaviour.id_token_alg.unwrap_or_default();
        let (kid, key) = self.current_key();
        let kid = if alg == IdTokenAlg::ES256 {
            EC_KID.to_owned()
        } else {
            kid
        };
        let header = json!({"alg": alg.name(), "kid": kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let digest = Sha256::digest(input.as_bytes());
        let sig = match alg {
            IdTokenAlg::RS256 => key
                .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
                .unwrap_or_default(),
            IdTokenAlg::PS256 => key
                .sign_with_rng(&mut OsRng, rsa::Pss::new::<Sha256>(), &digest)
                .unwrap_or_default(),
            IdTokenAlg::ES256 => {
                use p256::ecdsa::signature::Signer as _;
                let sig: p256::ecdsa::Signature = self.ec_key().sign(input.as_bytes());
                sig.to_bytes().to_vec()
            }
        };
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

/// The kid of the provider's P-256 key.
const EC_KID: &str = "ec-1";

pub(super) async fn certs(State(p): State<Provider>) -> Response {
    let _ = p.current_key();
    let alg = p.lock().behaviour.id_token_alg.unwrap_or_default();
    let rsa_alg = if alg == IdTokenAlg::PS256 {
        "PS256"
    } else {
        "RS256"
    };
    let mut keys: Vec<Value> = p
        .lock()
        .keys
        .iter()
        .map(|k| {
            let public = RsaPublicKey::from(&k.key);
            json!({
                "kty": "RSA", "alg": rsa_alg, "use": "sig", "kid": k.kid,
                "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
            })
        })
        .collect();
    if alg == IdTokenAlg::ES256 {
        let point = p.ec_key().verifying_key().to_encoded_point(false);
        keys.push(json!({
            "kty": "EC", "alg": "ES256", "use": "sig", "kid": EC_KID, "crv": "P-256",
            "x": point.x().map(|x| URL_SAFE_NO_PAD.encode(x)),
            "y": point.y().map(|y| URL_SAFE_NO_PAD.encode(y)),
        }));
    }
    (
        [(
            header::CACHE_CONTROL,
            "public, max-age=3600, must-revalidate, no-transform",
        )],
        Json(json!({ "keys": keys })),
    )
        .into_response()
}
