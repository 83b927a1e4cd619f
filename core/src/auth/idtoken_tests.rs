//! Tokens signed here with the repository's development RSA key, exactly
//! as a provider would sign them.
use super::*;
use rsa::RsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;

const PEM: &str = include_str!("../../../keys/dev-extension-key.pem");
const ISS: &str = "https://accounts.google.com";
const CLIENT: &str = "123.apps.googleusercontent.com";
const NOW: u64 = 1_763_800_000;

fn key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(PEM).unwrap()
}

fn jwks(kid: &str) -> Jwks {
    let public = key().to_public_key();
    Jwks {
        keys: vec![Jwk {
            kty: "RSA".into(),
            kid: Some(kid.into()),
            alg: Some("RS256".into()),
            use_: Some("sig".into()),
            n: Some(URL_SAFE_NO_PAD.encode(public.n().to_bytes_be())),
            e: Some(URL_SAFE_NO_PAD.encode(public.e().to_bytes_be())),
            crv: None,
            x: None,
            y: None,
        }],
    }
}

fn sign(header: serde_json::Value, claims: serde_json::Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key()
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(input.as_bytes()),
        )
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn claims() -> serde_json::Value {
    serde_json::json!({
        "iss": ISS, "sub": "110169484474386276334", "aud": CLIENT, "azp": CLIENT,
        "exp": NOW + 3600, "iat": NOW - 5, "nonce": "n-123",
        "email": "ana@example.com", "email_verified": true, "name": "Ana Ruiz",
        "hd": "example.com",
    })
}

fn expect(domains: &[String]) -> Expectations<'_> {
    Expectations {
        kind: ProviderKind::Google,
        issuer: ISS,
        client_id: CLIENT,
        nonce: "n-123",
        now: NOW,
        allowed_domains: domains,
        tenant: None,
    }
}

fn with(change: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut c = claims();
    change(&mut c);
    sign(serde_json::json!({"alg": "RS256", "kid": "k1"}), c)
}

#[test]
fn a_good_token_verifies() {
    let domains = vec!["example.com".to_owned()];
    let t = with(|_| {});
    let c = verify(&t, &jwks("k1"), &expect(&domains)).unwrap();
    assert_eq!(c.login_email(), Some("ana@example.com"));
    assert_eq!(c.name.as_deref(), Some("Ana Ruiz"));
}

#[test]
fn each_refusal_is_its_own_error() {
    let domains = vec!["example.com".to_owned()];
    let x = expect(&domains);
    let k = jwks("k1");
    let check = |t: String| verify(&t, &k, &x).unwrap_err();
    // Tampered payload: signature no longer verifies.
    let good = with(|_| {});
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(
        claims()
            .to_string()
            .replace("ana@example.com", "eve@example.com"),
    );
    assert_eq!(check(parts.join(".")), IdTokenError::BadSignature);
    assert_eq!(
        check(sign(
            serde_json::json!({"alg": "RS256", "kid": "k2"}),
            claims()
        )),
        IdTokenError::UnknownKey("k2".into())
    );
    assert_eq!(
        check(sign(
            serde_json::json!({"alg": "HS256", "kid": "k1"}),
            claims()
        )),
        IdTokenError::UnsupportedAlg("HS256".into())
    );
    assert!(matches!(
        check(with(|c| c["iss"] = "https://evil.example".into())),
        IdTokenError::WrongIssuer { .. }
    ));
    assert_eq!(
        check(with(|c| c["aud"] = "other".into())),
        IdTokenError::WrongAudience
    );
    assert_eq!(
        check(with(|c| {
            c["aud"] = serde_json::json!([CLIENT, "other"]);
            c["azp"] = "other".into();
        })),
        IdTokenError::WrongAudience
    );
    assert_eq!(
        check(with(|c| c["exp"] = (NOW - 61).into())),
        IdTokenError::Expired
    );
    assert_eq!(
        check(with(|c| c["iat"] = (NOW + 120).into())),
        IdTokenError::IssuedInFuture
    );
    assert_eq!(
        check(with(|c| c["nonce"] = "replayed".into())),
        IdTokenError::NonceMismatch
    );
    assert_eq!(
        check(with(|c| c["email_verified"] = false.into())),
        IdTokenError::EmailNotVerified
    );
    assert!(matches!(
        check(with(|c| c["hd"] = "other.com".into())),
        IdTokenError::WrongDomain { .. }
    ));
    let Err(IdTokenError::WrongDomain { got, .. }) = verify(
        &with(|c| {
            c.as_object_mut().unwrap().remove("hd");
        }),
        &k,
        &x,
    ) else {
        panic!("a personal account must be refused");
    };
    assert_eq!(got, "a personal account");
    // Within the skew, still fine; "true" as a string counts.
    assert!(verify(&with(|c| c["exp"] = (NOW - 30).into()), &k, &x).is_ok());
    assert!(verify(&with(|c| c["email_verified"] = "true".into()), &k, &x).is_ok());
    assert!(matches!(check("a.b".into()), IdTokenError::Malformed(_)));
    assert!(matches!(
        check("!!.!!.!!".into()),
        IdTokenError::Malformed(_)
    ));
}

#[test]
fn generic_oidc_checks_allowed_domains_on_the_verified_email() {
    // Okta, Keycloak, Auth0 and Ping send no `hd`: the domain is the
    // verified email's, and an `hd` a provider happens to send counts for
    // nothing (it is Google's claim).
    let domains = vec!["example.com".to_owned()];
    let x = Expectations {
        kind: ProviderKind::Oidc,
        ..expect(&domains)
    };
    let k = jwks("k1");
    let no_hd = |email: &str| {
        let email = email.to_owned();
        with(move |c| {
            c.as_object_mut().unwrap().remove("hd");
            c["email"] = email.into();
        })
    };
    assert!(verify(&no_hd("ana@example.com"), &k, &x).is_ok());
    assert!(verify(&no_hd("Ana@EXAMPLE.com"), &k, &x).is_ok());
    for (email, got) in [
        ("eve@evil.example", "evil.example"),
        ("eve@example.com.evil.example", "example.com.evil.example"),
        ("eve@sub.example.com", "sub.example.com"),
    ] {
        let Err(IdTokenError::WrongDomain { got: g, .. }) = verify(&no_hd(email), &k, &x) else {
            panic!("{email} must be refused");
        };
        assert_eq!(g, got);
    }
    let forged_hd = with(|c| c["email"] = "eve@evil.example".into());
    assert!(matches!(
        verify(&forged_hd, &k, &x),
        Err(IdTokenError::WrongDomain { .. })
    ));
}

#[test]
fn microsoft_tokens_check_the_tenant_not_email_verified() {
    let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let issuer = crate::auth::provider::microsoft_issuer("organizations");
    let x = Expectations {
        kind: ProviderKind::Microsoft,
        issuer: &issuer,
        client_id: CLIENT,
        nonce: "n-123",
        now: NOW,
        allowed_domains: &[],
        tenant: Some(tid),
    };
    let token = |tenant: &str| {
        sign(
            serde_json::json!({"alg": "RS256", "kid": "k1"}),
            serde_json::json!({
                "iss": crate::auth::provider::microsoft_issuer(tenant), "sub": "s", "aud": CLIENT,
                "exp": NOW + 3600, "iat": NOW, "nonce": "n-123", "tid": tenant,
                "oid": "00000000-0000-0000-66f3-3332eca7ea81",
                "preferred_username": "ana@contoso.com",
            }),
        )
    };
    let c = verify(&token(tid), &jwks("k1"), &x).unwrap();
    assert_eq!(c.login_email(), Some("ana@contoso.com"));
    assert_eq!(
        c.oid.as_deref(),
        Some("00000000-0000-0000-66f3-3332eca7ea81")
    );
    assert!(matches!(
        verify(&token("other-tenant"), &jwks("k1"), &x),
        Err(IdTokenError::WrongTenant { .. })
    ));
}

#[test]
fn microsoft_tokens_need_tid_and_oid() {
    let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let issuer = crate::auth::provider::microsoft_issuer(tid);
    let claims = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut c = serde_json::json!({
            "iss": issuer, "sub": "s", "aud": CLIENT, "exp": NOW + 3600, "iat": NOW,
            "nonce": "n-123", "tid": tid, "oid": "o-1", "email": "ana@contoso.com",
        });
        edit(&mut c);
        serde_json::from_value::<Claims>(c).unwrap()
    };
    for tenant in [Some(tid), None] {
        let x = Expectations {
            kind: ProviderKind::Microsoft,
            issuer: &issuer,
            client_id: CLIENT,
            nonce: "n-123",
            now: NOW,
            allowed_domains: &[],
            tenant,
        };
        assert_eq!(check_claims(&claims(&|_| {}), &x), Ok(()));
        for missing in ["tid", "oid"] {
            let e = check_claims(
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove(missing);
                }),
                &x,
            )
            .unwrap_err();
            assert_eq!(e, IdTokenError::MissingClaim(missing));
            assert_eq!(e.message_key(), "signinTokenInvalid");
        }
        let blank = check_claims(&claims(&|c| c["oid"] = "".into()), &x);
        assert_eq!(blank, Err(IdTokenError::MissingClaim("oid")));
    }
}

#[test]
fn cache_control_max_age() {
    assert_eq!(
        max_age("public, max-age=19204, must-revalidate, no-transform"),
        Some(19204)
    );
    assert_eq!(max_age("no-store"), None);
    assert_eq!(max_age("max-age=abc"), None);
}

/// A predictable generator for PSS salts in tests.
struct Counter(u8);
impl rsa::rand_core::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rsa::rand_core::CryptoRng for Counter {}

fn input(alg: &str) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": alg, "kid": "k1"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    )
}

fn ps256() -> String {
    let input = input("PS256");
    let sig = key()
        .sign_with_rng(
            &mut Counter(0),
            Pss::new::<Sha256>(),
            &Sha256::digest(input.as_bytes()),
        )
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn ec_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()
}

fn es256() -> String {
    use p256::ecdsa::signature::Signer as _;
    let input = input("ES256");
    let sig: p256::ecdsa::Signature = ec_key().sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn ec_jwks(alg: Option<&str>) -> Jwks {
    let point = ec_key().verifying_key().to_encoded_point(false);
    Jwks {
        keys: vec![Jwk {
            kty: "EC".into(),
            kid: Some("k1".into()),
            alg: alg.map(str::to_owned),
            use_: Some("sig".into()),
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: point.x().map(|x| URL_SAFE_NO_PAD.encode(x)),
            y: point.y().map(|y| URL_SAFE_NO_PAD.encode(y)),
        }],
    }
}

fn with_alg(mut j: Jwks, alg: Option<&str>) -> Jwks {
    j.keys[0].alg = alg.map(str::to_owned);
    j
}

#[test]
fn ps256_verifies_with_an_rsa_key_pinned_to_it_or_to_nothing() {
    for alg in [Some("PS256"), None] {
        let c = verify(&ps256(), &with_alg(jwks("k1"), alg), &expect(&[])).unwrap();
        assert_eq!(c.email.as_deref(), Some("ana@example.com"));
    }
    // A key published for RS256 does not verify PS256, nor the reverse.
    assert_eq!(
        verify(&ps256(), &jwks("k1"), &expect(&[])),
        Err(IdTokenError::UnknownKey("k1".into()))
    );
    let rs256 = sign(serde_json::json!({"alg": "RS256", "kid": "k1"}), claims());
    assert_eq!(
        verify(&rs256, &with_alg(jwks("k1"), Some("PS256")), &expect(&[])),
        Err(IdTokenError::UnknownKey("k1".into()))
    );
    // PKCS#1 v1.5 bytes under a PS256 header do not verify.
    let forged = format!("{}.{}", input("PS256"), rs256.rsplit('.').next().unwrap());
    assert_eq!(
        verify(&forged, &with_alg(jwks("k1"), None), &expect(&[])),
        Err(IdTokenError::BadSignature)
    );
}

#[test]
fn es256_verifies_with_a_p256_key() {
    for alg in [Some("ES256"), None] {
        let c = verify(&es256(), &ec_jwks(alg), &expect(&[])).unwrap();
        assert_eq!(c.sub, "110169484474386276334");
    }
    let mut tampered = es256();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        verify(&tampered, &ec_jwks(None), &expect(&[])),
        Err(IdTokenError::BadSignature)
    );
    // An RSA key under the same kid is not a P-256 key.
    assert_eq!(
        verify(&es256(), &with_alg(jwks("k1"), None), &expect(&[])),
        Err(IdTokenError::UnknownKey("k1".into()))
    );
    // Nor is an EC key pinned to another algorithm.
    assert_eq!(
        verify(&es256(), &ec_jwks(Some("ES384")), &expect(&[])),
        Err(IdTokenError::UnknownKey("k1".into()))
    );
}

#[test]
fn none_and_hmac_are_never_accepted_other_algorithms_are_a_setup_matter() {
    for alg in ["none", "HS256", "RS512", "EdDSA"] {
        let token = format!("{}.", input(alg));
        assert_eq!(
            verify(&token, &jwks("k1"), &expect(&[])),
            Err(IdTokenError::UnsupportedAlg(alg.into()))
        );
    }
    assert!(forbidden_alg("none") && forbidden_alg("HS256") && forbidden_alg("hs512"));
    assert!(!forbidden_alg("RS512") && !forbidden_alg("EdDSA"));
}

#[test]
fn aud_and_email_verified_decode_in_each_form_providers_send() {
    let aud = |t: &str| serde_json::from_str::<Audience>(t).map_err(|e| e.to_string());
    assert_eq!(aud(r#""app""#), Ok(Audience::One("app".into())));
    assert_eq!(
        aud(r#"["app","api"]"#),
        Ok(Audience::Many(vec!["app".into(), "api".into()]))
    );
    assert_eq!(aud("[]"), Ok(Audience::Many(vec![])));
    for bad in ["1", "true", "null", r#"{"a":1}"#, r#"["app",2]"#] {
        assert!(aud(bad).is_err(), "{bad}");
    }
    let flag = |t: &str| serde_json::from_str::<Flag>(t).map_err(|e| e.to_string());
    assert_eq!(flag("true"), Ok(Flag::Bool(true)));
    assert_eq!(flag(r#""true""#), Ok(Flag::Text("true".into())));
    assert!(flag(r#""TRUE""#).unwrap().is_true());
    for bad in ["1", "null", "[true]"] {
        assert!(flag(bad).is_err(), "{bad}");
    }
    // Encoded as before (untagged): the value alone.
    assert_eq!(
        serde_json::to_string(&Audience::Many(vec!["a".into()])).unwrap(),
        r#"["a"]"#
    );
    assert_eq!(serde_json::to_string(&Flag::Bool(false)).unwrap(), "false");
}
