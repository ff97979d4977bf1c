//! JSON into `serde_json::Value` with every object's keys unique.
//!
//! serde_json keeps the last value of a repeated key, so `{"privileged": true, "privileged":
//! false}` reads as `false` here while another reader may take the first; YAML manifests with a
//! duplicate key are already an error (`yaml.rs`). [`UniqueKeys`] is serde_json's value built by
//! our own visitor, which refuses a key its object already has, with the same message as YAML.
//! Key order is kept (the workspace enables serde_json's `preserve_order`), and serde_json's
//! own recursion limit still bounds nesting.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The message for a key that appears twice in one mapping (YAML) or object (JSON).
pub(crate) fn duplicate_key_message(key: &str) -> String {
    format!("duplicate mapping key {key:?}")
}

/// A JSON value in which no object has a duplicate key: deserializing one fails with
/// `duplicate mapping key "<key>"` (serde_json adds the line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueKeys(pub Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(UniqueKeys)
    }
}

/// Reads one JSON document, refusing duplicate keys at any depth.
pub fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<UniqueKeys>(text).map(|v| v.0)
}

/// For `#[serde(deserialize_with = …)]` on an `Option<Value>` field: reads the field's value
/// (`null` is `None`), refusing duplicate keys at any depth.
pub fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Option::<UniqueKeys>::deserialize(d).map(|v| v.map(|v| v.0))
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // As serde_json's own visitor: a non-finite float (not JSON) becomes null.
        Ok(Value::from(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        UniqueKeys::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(duplicate_key_message(&key)));
            }
            let UniqueKeys(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_serde_json_reads_when_keys_are_unique() {
        let text = r#"{"b": [1, -2, 3.5, "x", null, true, {}], "a": {"z": 1, "y": {"x": []}}}"#;
        let ours = from_str(text).expect("valid");
        let theirs: Value = serde_json::from_str(text).expect("valid");
        assert_eq!(ours, theirs);
        // Key order is the document's, as with serde_json's preserve_order.
        let keys: Vec<&String> = ours.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(from_str("18446744073709551615").unwrap(), json!(u64::MAX));
    }

    #[test]
    fn a_repeated_key_at_any_depth_is_an_error_with_its_position() {
        let e = from_str("{\"a\": 1,\n \"a\": 2}").unwrap_err();
        assert_eq!(
            (
                e.line(),
                e.to_string().starts_with("duplicate mapping key \"a\"")
            ),
            (2, true),
            "{e}"
        );
        let e = from_str("{\"x\": [{\"k\": 1}, {\"k\": 1, \"k\": 1}]}").unwrap_err();
        assert!(
            e.to_string().starts_with("duplicate mapping key \"k\""),
            "{e}"
        );
        // The same key in different objects is fine.
        assert!(from_str(r#"{"k": {"k": 1}, "j": {"k": 2}}"#).is_ok());
    }

    #[test]
    fn nesting_stays_bounded_by_serde_json() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(from_str(&deep).is_err());
    }
}
