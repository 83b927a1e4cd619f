//! The OS secret store: refresh tokens (and, later, app passwords) live here
//! and nowhere else. A trait, so tests use [`MemoryStore`] and the binary uses
//! [`OsStore`] (keyring-core with the platform's store: the Secret Service on
//! Linux, the Credential Manager on Windows, the Keychain on macOS).
//!
//! keyring-core is synchronous (the Secret Service store runs its own D-Bus
//! executor), so callers on the tokio runtime go through `spawn_blocking`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// The `service` attribute of every entry Ringside writes
/// (`secret-tool lookup service ringside username <account>`).
pub const SERVICE: &str = "ringside";

/// A secret value. Its Debug never shows the value.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Why the store could not be used. Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No store runs, or it is locked and the user did not unlock it.
    #[error("the OS secret store is not available or is locked: {0}")]
    Unavailable(String),
    /// The store answered with an error.
    #[error("the OS secret store failed: {0}")]
    Failed(String),
}

/// Where secrets are kept, by account name.
pub trait SecretStore: Send + Sync + fmt::Debug {
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError>;
    fn set(&self, account: &str, secret: &Secret) -> Result<(), SecretError>;
    /// Deletes the entry; `Ok(false)` when there was none.
    fn delete(&self, account: &str) -> Result<bool, SecretError>;
}

/// In memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Secret>>,
}

impl MemoryStore {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        // A poisoned lock only means a test panicked while holding it.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self.entries().get(account).cloned())
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<(), SecretError> {
        self.entries().insert(account.to_owned(), secret.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<bool, SecretError> {
        Ok(self.entries().remove(account).is_some())
    }
}

/// The platform's store through keyring-core. The store is opened on first
/// use, so a host without one still serves everything else.
#[derive(Debug, Default)]
pub struct OsStore;

static OPENED: OnceLock<Result<(), SecretError>> = OnceLock::new();

fn open() -> Result<(), SecretError> {
    OPENED
        .get_or_init(|| {
            let store = platform_store()?;
            keyring_core::set_default_store(store);
            Ok(())
        })
        .clone()
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, SecretError> {
    zbus_secret_service_keyring_store::Store::new()
        .map(|s| s as std::sync::Arc<keyring_core::CredentialStore>)
        .map_err(map_error)
}

#[cfg(windows)]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, SecretError> {
    windows_native_keyring_store::Store::new()
        .map(|s| s as std::sync::Arc<keyring_core::CredentialStore>)
        .map_err(map_error)
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, SecretError> {
    apple_native_keyring_store::keychain::Store::new()
        .map(|s| s as std::sync::Arc<keyring_core::CredentialStore>)
        .map_err(map_error)
}

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, SecretError> {
    Err(SecretError::Unavailable(
        "no secret store is supported on this OS".into(),
    ))
}

fn map_error(e: keyring_core::Error) -> SecretError {
    match e {
        keyring_core::Error::NoStorageAccess(inner) => SecretError::Unavailable(inner.to_string()),
        keyring_core::Error::PlatformFailure(inner) => SecretError::Unavailable(inner.to_string()),
        keyring_core::Error::NoDefaultStore => SecretError::Unavailable("no default store".into()),
        other => SecretError::Failed(other.to_string()),
    }
}

fn entry(account: &str) -> Result<keyring_core::Entry, SecretError> {
    open()?;
    keyring_core::Entry::new(SERVICE, account).map_err(map_error)
}

impl SecretStore for OsStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, SecretError> {
        match entry(account)?.get_password() {
            Ok(p) => Ok(Some(Secret(p))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        }
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<(), SecretError> {
        entry(account)?.set_password(&secret.0).map_err(map_error)
    }

    fn delete(&self, account: &str) -> Result<bool, SecretError> {
        match entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("1//0gsecret-refresh");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
    }

    #[test]
    fn memory_store_round_trip() {
        let m = MemoryStore::default();
        assert_eq!(m.get("a").unwrap(), None);
        m.set("a", &Secret::new("x")).unwrap();
        assert_eq!(m.get("a").unwrap().unwrap().expose(), "x");
        assert!(m.delete("a").unwrap());
        assert!(!m.delete("a").unwrap());
    }
}
