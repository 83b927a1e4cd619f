//! Chromium extension ids: derived from the public key in the manifest's `key`.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The id of the development build, fixed by the `key` in manifest.json
/// (keys/dev-extension-key.pem). A store or enterprise build has its own.
pub const DEV_EXTENSION_ID: &str = "fempdkhheodefkjhkbekalfieneojckb";

/// Computes an extension id from the base64 DER public key of a manifest `key`:
/// the first 32 hex digits of its SHA-256, with 0-f mapped to a-p.
pub fn from_manifest_key(key_b64: &str) -> Result<String, base64::DecodeError> {
    let der = base64::engine::general_purpose::STANDARD.decode(key_b64.trim())?;
    let digest = Sha256::digest(&der);
    Ok(digest
        .iter()
        .take(16)
        .flat_map(|b| [b >> 4, b & 0x0f])
        .map(|n| char::from(b'a' + n))
        .collect())
}

/// True for a syntactically valid Chromium extension id.
pub fn is_valid(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// `chrome-extension://<id>/`, the origin a host sees in argv[1].
pub fn origin(id: &str) -> String {
    format!("chrome-extension://{id}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_key_gives_the_dev_id() {
        let manifest: serde_json::Value =
            serde_json::from_str(include_str!("../../manifest.json")).unwrap();
        let key = manifest["key"].as_str().unwrap();
        assert_eq!(from_manifest_key(key).unwrap(), DEV_EXTENSION_ID);
        assert!(is_valid(DEV_EXTENSION_ID));
    }

    #[test]
    fn validity() {
        assert!(!is_valid("fempdkhheodefkjhkbekalfieneojck"));
        assert!(!is_valid("fempdkhheodefkjhkbekalfieneojckz"));
        assert!(from_manifest_key("not base64!").is_err());
    }
}
