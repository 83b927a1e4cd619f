//! JSON values through one decoder and one encoder. Every type the
//! extension's wasm modules read or write is compiled once per serde
//! deserializer and serializer it meets: decoding a type both from text
//! (`serde_json::from_str`) and from a `serde_json::Value`
//! (`serde_json::from_value`) links two copies of its decoder, and the
//! `Value` deserializer's own machinery with them (docs/bench.md). So code
//! that holds a `Value` goes through its text: `from_value` and `to_value`
//! here have serde_json's signatures and use only `from_str` and
//! `to_string`. The values involved are small (storage records, host
//! answers); numbers keep their exact value through the text.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A `T` read from a JSON value, through its text.
pub fn from_value<T: DeserializeOwned>(value: Value) -> serde_json::Result<T> {
    serde_json::from_str(&value.to_string())
}

/// A JSON value written from a `T`, through its text.
pub fn to_value<T: Serialize>(value: T) -> serde_json::Result<Value> {
    serde_json::from_str(&serde_json::to_string(&value)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_read_and_write_as_serde_json_does() {
        let v = json!({"b": 1, "a": [1.5, -2, 18446744073709551615u64, null, "x"]});
        assert_eq!(to_value(&v).ok(), Some(v.clone()));
        assert_eq!(from_value::<Value>(v.clone()).ok(), Some(v));
        assert_eq!(from_value::<Vec<u64>>(json!([1, 2])).ok(), Some(vec![1, 2]));
        assert!(from_value::<Vec<u64>>(json!({"a": 1})).is_err());
        assert_eq!(to_value(3.25f64).ok(), Some(json!(3.25)));
    }
}
