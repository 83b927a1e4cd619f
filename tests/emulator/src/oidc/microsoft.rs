//! The Microsoft Entra v2.0 flavour: its routes under `/microsoft/{tenant}`,
//! its discovery document and its AADSTS error pages and bodies. Codes,
//! tokens and keys are the shared provider's (`super`).

use super::*;

/// Microsoft-flavoured public routes.
pub fn microsoft_routes() -> Router<Provider> {
    Router::new()
        .route(
            "/microsoft/{tenant}/v2.0/.well-known/openid-configuration",
            get(ms_discovery),
        )
        .route(
            "/microsoft/{tenant}/oauth2/v2.0/authorize",
            get(ms_authorize),
        )
        .route("/microsoft/consent", post(consent))
        .route("/microsoft/{tenant}/oauth2/v2.0/token", post(ms_token))
        .route("/microsoft/{tenant}/discovery/v2.0/keys", get(certs))
        // Graph's OIDC userinfo (graph.microsoft.com/oidc/userinfo), here per tenant.
        .route("/microsoft/{tenant}/oidc/userinfo", get(userinfo))
}

async fn ms_discovery(Path(tenant): Path<String>, headers: HeaderMap) -> Json<Value> {
    let base = format!("http://{}/microsoft/{tenant}", host(&headers));
    // The multi-tenant documents carry a placeholder, as Microsoft's do.
    let iss_tenant = if tenant == "organizations" || tenant == "common" {
        "{tenantid}".to_owned()
    } else {
        tenant.clone()
    };
    Json(json!({
        "issuer": format!("http://{}/microsoft/{iss_tenant}/v2.0", host(&headers)),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "preferred_username", "name", "tid", "ver", "oid", "email"],
        "tenant_region_scope": "EU",
    }))
}

async fn ms_authorize(
    State(p): State<Provider>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    authorize_in(&p, q, &tenant)
}

async fn ms_token(
    State(p): State<Provider>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    token_in(&p, &headers, f, Some(&tenant))
}

/// Microsoft's error page for a bad authorization request.
pub(super) fn ms_error_page(message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head>\
         <body><h1>Sorry, but we\u{2019}re having trouble signing you in.</h1><p id=\"message\">{}</p></body></html>",
        escape(message)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

/// A Microsoft error body: the AADSTS text, its code, and the trace fields.
pub(super) fn ms_error(error: &str, code: u64, text: &str) -> Response {
    (
        if error == "unauthorized_client" || error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        },
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text} Trace ID: 00000000-0000-0000-0000-000000000000 Correlation ID: 00000000-0000-0000-0000-000000000000 Timestamp: 2026-11-22 00:00:00Z"),
            "error_codes": [code],
            "timestamp": "2026-11-22 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        })),
    )
        .into_response()
}
