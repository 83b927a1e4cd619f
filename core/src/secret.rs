//! One type for every secret Ringside handles: refresh tokens, app
//! passwords, OAuth client secrets. Core, the extension and the host all use
//! it, so the rules hold everywhere:
//!
//! - `Debug` prints `[redacted]`: a secret cannot reach a log through `{:?}`
//!   of a struct that holds it.
//! - The bytes are overwritten with zeros when the value is dropped
//!   (`zeroize`, whose writes the compiler may not optimise away). Copies the
//!   type cannot see are not covered: the JSON frame a secret arrived in, or
//!   a string a library made from [`Secret::expose`].
//! - `Serialize` writes the plain string: the wire protocol carries secrets
//!   between the extension and the host (an app password on its way to the
//!   OS store), and their JSON is unchanged by this type.
//!
//! Reading the value is an explicit [`Secret::expose`], easy to search for.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// A secret string. See the module documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

/// Its only field is `Zeroizing`, which zeroes the string when dropped.
impl zeroize::ZeroizeOnDrop for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret::new(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    //! Redaction in Debug (also inside structs and options), the unchanged
    //! wire form, and the zeroing on drop.
    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    struct Holder {
        user: String,
        password: Secret,
        token: Option<Secret>,
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-abcdefgh");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s:#?}"), "[redacted]");
        let h = Holder {
            user: "ana@example.com".into(),
            password: s.clone(),
            token: Some(Secret::new("1//refresh")),
        };
        let text = format!("{h:?} {h:#?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("1//refresh"), "{text}");
        assert!(text.contains("ana@example.com"), "{text}");
        assert!(text.contains("password: [redacted]"), "{text}");
    }

    #[test]
    fn the_wire_form_is_the_plain_string() {
        let h = Holder {
            user: "u".into(),
            password: Secret::new("p w"),
            token: None,
        };
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, r#"{"user":"u","password":"p w","token":null}"#);
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.password.expose(), "p w");
        assert_eq!(back.password, Secret::new("p w"));
        assert_ne!(back.password, Secret::new("other"));
        assert!(serde_json::from_str::<Holder>(r#"{"user":"u","password":5}"#).is_err());
    }

    #[test]
    fn dropping_zeroes_the_bytes() {
        // Zeroing on drop is zeroize's (tested there; reading freed memory
        // here would need unsafe). What holds here: Secret is ZeroizeOnDrop
        // through its only field, and a clone is a second zeroed buffer.
        fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let s = Secret::new("app-password-16c");
        zeroized_on_drop(&s);
        zeroized_on_drop(&s.0);
        let c = s.clone();
        assert_ne!(c.expose().as_ptr(), s.expose().as_ptr());
    }
}
