//! Sign-in with an OpenID Connect provider (Google, Microsoft Entra, or any
//! OIDC issuer): provider configuration and discovery, the authorization
//! request with PKCE, the redirect, and ID token validation. No I/O: the
//! service worker and the host fetch, core decides.
//!
//! Foundation for the sign-in issue: the flow (launchWebAuthFlow, code
//! exchange in the host, secret store) builds on these.

pub mod idtoken;
pub mod keys;
pub mod pkce;
pub mod provider;
pub mod revocation;
pub mod session;
pub mod token;
pub mod wire;

/// Every `_locales` key this module hands to the surfaces.
pub const MESSAGE_KEYS: &[&str] = &[
    "setupNoProvider",
    "setupNoClientId",
    "setupBadDiscovery",
    "setupInvalidClient",
    "setupRedirectMismatch",
    "setupAuthPageNotLoaded",
    "setupUnsupportedAlg",
    "signinTokenInvalid",
    "signinClock",
    "signinReplay",
    "signinEmailUnverified",
    "signinWrongDomain",
    "signinWrongTenant",
];

#[cfg(test)]
mod tests {
    use super::idtoken::IdTokenError;
    use super::provider::{ProviderKind, SetupProblem};
    use super::*;

    #[test]
    fn every_key_handed_out_is_listed() {
        let setup = [
            SetupProblem::NoProvider,
            SetupProblem::NoClientId {
                kind: ProviderKind::Google,
            },
            SetupProblem::BadIssuer { issuer: "x".into() },
            SetupProblem::BadDiscovery { reason: "x".into() },
            SetupProblem::InvalidClient { detail: "x".into() },
            SetupProblem::RedirectUriMismatch { detail: "x".into() },
            SetupProblem::AuthPageNotLoaded { detail: "x".into() },
            SetupProblem::UnsupportedAlgorithm { alg: "x".into() },
        ];
        for p in setup {
            assert!(MESSAGE_KEYS.contains(&p.message_key()), "{p:?}");
        }
        let token = [
            IdTokenError::Malformed("x".into()),
            IdTokenError::UnsupportedAlg("x".into()),
            IdTokenError::UnknownKey("x".into()),
            IdTokenError::BadSignature,
            IdTokenError::WrongIssuer {
                got: "a".into(),
                expected: "b".into(),
            },
            IdTokenError::WrongAudience,
            IdTokenError::Expired,
            IdTokenError::IssuedInFuture,
            IdTokenError::NonceMismatch,
            IdTokenError::EmailNotVerified,
            IdTokenError::WrongDomain {
                got: "a".into(),
                allowed: "b".into(),
            },
            IdTokenError::WrongTenant { got: "a".into() },
        ];
        for e in token {
            assert!(MESSAGE_KEYS.contains(&e.message_key()), "{e:?}");
        }
    }
}
