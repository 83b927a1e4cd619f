//! When to fetch a provider's JWKS: cached for its Cache-Control max-age, and
//! fetched again once when a token names a key the cache does not have (the
//! provider rotated its keys). A token whose key is still unknown after that
//! one refetch is refused, so a forged `kid` cannot make Ringside fetch in a
//! loop.

use super::idtoken::Jwks;

/// Cache lifetime when the provider sends no usable max-age.
pub const DEFAULT_MAX_AGE: u64 = 3600;
/// Never refetch more often than this, whatever max-age says.
pub const MIN_MAX_AGE: u64 = 60;

/// What to do before verifying a token signed with key `kid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDecision {
    /// The cached keys can be used.
    UseCached,
    /// Fetch the JWKS (none cached, expired, or `kid` unknown and not yet refetched for).
    Fetch,
    /// `kid` is unknown even in keys fetched for it: refuse the token.
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCache {
    jwks: Option<Jwks>,
    fetched_at: u64,
    max_age: u64,
    /// The kid the last fetch was made for (a rotation refetch).
    fetched_for: Option<String>,
}

impl KeyCache {
    pub fn jwks(&self) -> Option<&Jwks> {
        self.jwks.as_ref()
    }

    fn has(&self, kid: &str) -> bool {
        self.jwks
            .as_ref()
            .is_some_and(|j| j.keys.iter().any(|k| k.kid.as_deref().unwrap_or("") == kid))
    }

    /// Decides for a token's `kid` at `now` (seconds).
    pub fn decide(&self, kid: &str, now: u64) -> KeyDecision {
        let fresh = self.jwks.is_some() && now < self.fetched_at + self.max_age;
        if !fresh {
            return KeyDecision::Fetch;
        }
        if self.has(kid) {
            KeyDecision::UseCached
        } else if self.fetched_for.as_deref() == Some(kid) {
            KeyDecision::Unknown
        } else {
            KeyDecision::Fetch
        }
    }

    /// Stores a fetched JWKS with its Cache-Control header; `for_kid` is the
    /// kid that made this fetch happen.
    pub fn store(
        &mut self,
        jwks: Jwks,
        cache_control: Option<&str>,
        now: u64,
        for_kid: Option<&str>,
    ) {
        let max_age = cache_control
            .and_then(super::idtoken::max_age)
            .unwrap_or(DEFAULT_MAX_AGE)
            .max(MIN_MAX_AGE);
        self.jwks = Some(jwks);
        self.fetched_at = now;
        self.max_age = max_age;
        self.fetched_for = for_kid.map(str::to_owned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::idtoken::Jwk;

    fn jwks(kids: &[&str]) -> Jwks {
        Jwks {
            keys: kids
                .iter()
                .map(|k| Jwk {
                    kty: "RSA".into(),
                    kid: Some((*k).into()),
                    alg: None,
                    use_: None,
                    n: None,
                    e: None,
                    crv: None,
                    x: None,
                    y: None,
                })
                .collect(),
        }
    }

    #[test]
    fn fetches_when_empty_expired_or_rotated_and_only_once_per_kid() {
        let mut c = KeyCache::default();
        assert_eq!(c.decide("a", 0), KeyDecision::Fetch);
        c.store(jwks(&["a"]), Some("public, max-age=600"), 1000, Some("a"));
        assert_eq!(c.decide("a", 1599), KeyDecision::UseCached);
        assert_eq!(c.decide("a", 1600), KeyDecision::Fetch, "expired");
        // Rotation: an unknown kid fetches once ...
        assert_eq!(c.decide("b", 1100), KeyDecision::Fetch);
        c.store(jwks(&["a", "b"]), Some("max-age=600"), 1100, Some("b"));
        assert_eq!(c.decide("b", 1101), KeyDecision::UseCached);
        // ... and a kid still unknown after its own refetch is refused.
        assert_eq!(c.decide("forged", 1102), KeyDecision::Fetch);
        c.store(jwks(&["a", "b"]), Some("max-age=600"), 1102, Some("forged"));
        assert_eq!(c.decide("forged", 1103), KeyDecision::Unknown);
        assert!(c.jwks().is_some());
    }

    #[test]
    fn max_age_defaults_and_floor() {
        let mut c = KeyCache::default();
        c.store(jwks(&["a"]), None, 0, None);
        assert_eq!(c.decide("a", DEFAULT_MAX_AGE - 1), KeyDecision::UseCached);
        assert_eq!(c.decide("a", DEFAULT_MAX_AGE), KeyDecision::Fetch);
        c.store(jwks(&["a"]), Some("max-age=0"), 0, None);
        assert_eq!(c.decide("a", MIN_MAX_AGE - 1), KeyDecision::UseCached);
    }
}
