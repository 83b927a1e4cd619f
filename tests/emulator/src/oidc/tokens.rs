//! The token endpoint (code exchange and refresh), revocation and userinfo
//! of the shared provider (`super`), in a file of their own.

use super::*;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn tokens(
    p: &Provider,
    iss: &str,
    client_id: &str,
    email: &str,
    scope: &str,
    nonce: Option<&str>,
    refresh: Option<String>,
) -> Response {
    let user = p.lock().users.iter().find(|u| u.email == email).cloned();
    let Some(user) = user else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request");
    };
    let t = now();
    let mut claims = match p.flavor {
        Flavor::Google => json!({
            "iss": iss, "azp": client_id, "aud": client_id, "sub": user.sub(),
            "email": user.email, "email_verified": user.email_verified,
            "name": user.name, "iat": t, "exp": t + TOKEN_SECONDS,
        }),
        Flavor::Microsoft => {
            let tid = user
                .tid
                .clone()
                .unwrap_or_else(|| DEFAULT_TENANT.to_owned());
            let host = iss.split("/microsoft/").next().unwrap_or(iss);
            json!({
                "ver": "2.0", "iss": format!("{host}/microsoft/{tid}/v2.0"), "aud": client_id,
                "sub": user.sub(), "oid": user.sub(), "tid": tid,
                "preferred_username": user.email, "email": user.email, "name": user.name,
                "iat": t, "nbf": t, "exp": t + TOKEN_SECONDS,
            })
        }
    };
    if let Some(hd) = &user.hd {
        claims["hd"] = json!(hd);
    }
    if let Some(pic) = &user.picture {
        claims["picture"] = json!(pic);
    }
    if p.lock().behaviour.claims_at_userinfo
        && let Some(o) = claims.as_object_mut()
    {
        o.retain(|k, _| ["iss", "azp", "aud", "sub", "iat", "exp"].contains(&k.as_str()));
    }
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    let access = random_token("ya29.");
    {
        let mut inner = p.lock();
        inner.access.insert(access.clone(), email.to_owned());
        inner.access_scope.insert(access.clone(), scope.to_owned());
    }
    let fault = p.lock().id_token_fault.clone();
    if fault.as_deref() == Some("wrong_nonce") {
        claims["nonce"] = json!("a-nonce-from-another-request");
    }
    let mut id_token = p.sign(&claims);
    if fault.as_deref() == Some("tamper") {
        // Same header and claims, one signature character changed.
        if let Some(dot) = id_token.rfind('.') {
            let first = &id_token[dot + 1..dot + 2];
            let flip = if first == "A" { "B" } else { "A" };
            id_token.replace_range(dot + 1..dot + 2, flip);
        }
    }
    let mut body = json!({
        "access_token": access,
        "expires_in": TOKEN_SECONDS,
        "scope": scope,
        "token_type": "Bearer",
        "id_token": id_token,
    });
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    Json(body).into_response()
}

pub(super) async fn token(
    State(p): State<Provider>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    token_in(&p, &headers, f, None)
}

pub(super) fn token_in(
    p: &Provider,
    headers: &HeaderMap,
    f: HashMap<String, String>,
    tenant: Option<&str>,
) -> Response {
    let p = p.clone();
    let ms = p.flavor == Flavor::Microsoft;
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let client_id = get("client_id");
    let client = p
        .lock()
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .cloned();
    let Some(client) = client else {
        if ms {
            return ms_error(
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'.",
                    tenant.unwrap_or("")
                ),
            );
        }
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    };
    if let Some(secret) = &client.secret
        && f.get("client_secret") != Some(secret)
    {
        if ms {
            return ms_error(
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
            );
        }
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    let iss = issuer(&p, headers, tenant);
    let bad_code = || {
        if ms {
            ms_error(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            )
        } else {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request")
        }
    };
    match get("grant_type").as_str() {
        "authorization_code" => {
            let grant = p.lock().codes.remove(&get("code"));
            let Some(g) = grant else {
                return bad_code();
            };
            if g.client_id != client_id || g.redirect_uri != get("redirect_uri") {
                return bad_code();
            }
            let verifier = get("code_verifier");
            if verifier.is_empty() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Missing code verifier.",
                );
            }
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != g.challenge {
                if ms {
                    return ms_error(
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    );
                }
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid code verifier.",
                );
            }
            let b = p.lock().behaviour;
            if b.no_refresh_tokens || (b.offline_needs_consent && !g.offline_consented) {
                return tokens(
                    &p,
                    &iss,
                    &client_id,
                    &g.email,
                    &g.scope,
                    g.nonce.as_deref(),
                    None,
                );
            }
            let refresh = random_token(if ms { "0.A" } else { "1//0g" });
            p.lock().refresh.insert(
                refresh.clone(),
                Refresh {
                    client_id: client_id.clone(),
                    email: g.email.clone(),
                    scope: g.scope.clone(),
                    nonce: g.nonce.clone(),
                    revoked: false,
                },
            );
            tokens(
                &p,
                &iss,
                &client_id,
                &g.email,
                &g.scope,
                g.nonce.as_deref(),
                Some(refresh),
            )
        }
        "refresh_token" => {
            let r = p.lock().refresh.get(&get("refresh_token")).cloned();
            match r {
                Some(r) if !r.revoked && r.client_id == client_id => {
                    // Neither puts the nonce in refreshed ID tokens. Microsoft
                    // rotates the refresh token; Google keeps it.
                    let _ = r.nonce;
                    let rotated = ms.then(|| {
                        let new = random_token("0.A");
                        let mut inner = p.lock();
                        if let Some(old) = inner.refresh.get_mut(&get("refresh_token")) {
                            old.revoked = true;
                        }
                        inner.refresh.insert(
                            new.clone(),
                            Refresh {
                                revoked: false,
                                ..r.clone()
                            },
                        );
                        new
                    });
                    tokens(&p, &iss, &client_id, &r.email, &r.scope, None, rotated)
                }
                _ if ms => ms_error(
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '2026-11-22T00:00:00Z' and the TokensValidFrom date (before which tokens are not valid) for this user is '2026-11-22T00:00:00Z'.",
                ),
                _ => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Token has been expired or revoked.",
                ),
            }
        }
        other => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

pub(super) async fn revoke(
    State(p): State<Provider>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let token = f.get("token").cloned().unwrap_or_default();
    let mut inner = p.lock();
    let known = if let Some(r) = inner.refresh.get_mut(&token) {
        r.revoked = true;
        // Google revokes the grant as a whole: every scope goes.
        let whose = (r.client_id.clone(), r.email.clone());
        inner.granted.remove(&whose);
        true
    } else {
        inner.access.remove(&token).is_some()
    };
    if !known {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        );
    }
    inner.revocations.push(token);
    (StatusCode::OK, Json(json!({}))).into_response()
}

pub(super) async fn userinfo(State(p): State<Provider>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let inner = p.lock();
    let Some(user) = inner
        .access
        .get(bearer)
        .and_then(|email| inner.users.iter().find(|u| &u.email == email))
    else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            Json(json!({"error": "invalid_request", "error_description": "Invalid Credentials"})),
        )
            .into_response();
    };
    Json(json!({
        "sub": user.sub(), "email": user.email, "email_verified": user.email_verified,
        "name": user.name, "picture": user.picture, "hd": user.hd,
    }))
    .into_response()
}
