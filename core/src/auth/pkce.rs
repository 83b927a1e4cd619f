//! PKCE (RFC 7636, S256), and the state and nonce of an authorization request.
//!
//! Core does no I/O, so randomness comes in from the caller (the service
//! worker's `crypto.getRandomValues`, the host's OS RNG).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Random bytes an authorization request needs: 32 for the verifier, 16 each
/// for state and nonce.
pub const RANDOM_BYTES: usize = 64;

/// The secrets of one authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSecrets {
    /// PKCE code verifier: 43 characters of base64url (256 bits).
    pub verifier: String,
    /// `code_challenge` = base64url(SHA-256(verifier)).
    pub challenge: String,
    pub state: String,
    pub nonce: String,
}

impl RequestSecrets {
    pub fn from_random(random: &[u8; RANDOM_BYTES]) -> RequestSecrets {
        let verifier = URL_SAFE_NO_PAD.encode(&random[..32]);
        RequestSecrets {
            challenge: challenge_s256(&verifier),
            verifier,
            state: URL_SAFE_NO_PAD.encode(&random[32..48]),
            nonce: URL_SAFE_NO_PAD.encode(&random[48..64]),
        }
    }
}

/// The S256 code challenge of a verifier.
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether a verifier has the form RFC 7636 §4.1 requires (the emulator and
/// the host check what they receive).
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        // The verifier and challenge printed in RFC 7636, Appendix B.
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn secrets_are_distinct_and_well_formed() {
        let mut random = [0u8; RANDOM_BYTES];
        for (i, b) in random.iter_mut().enumerate() {
            *b = (i * 37 % 251) as u8;
        }
        let s = RequestSecrets::from_random(&random);
        assert_eq!(s.verifier.len(), 43);
        assert!(valid_verifier(&s.verifier));
        assert_eq!(s.challenge, challenge_s256(&s.verifier));
        assert_ne!(s.state, s.nonce);
        assert_eq!(s.state.len(), 22);
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
    }
}
