//! [`RawObject`]: a Kubernetes object carried as its JSON text.
//!
//! A snapshot holds tens of thousands of objects that central stores as text and parses only
//! when a graph or who-can question needs them. Parsing them into `serde_json::Value` trees on
//! receipt (and cloning trees on the sender) cost several times their size in memory; the text
//! is passed through as it is instead.

use std::borrow::Cow;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// One JSON object, kept as text. Equal when the texts are equal.
#[derive(Debug, Clone)]
pub struct RawObject(Text);

/// Where the text lives.
#[derive(Debug, Clone)]
enum Text {
    /// Its own copy (read from JSON or written from a tree).
    Owned(Box<RawValue>),
    /// A text shared with the holder of the object (a sensor's watch store), checked to be
    /// JSON when shared.
    Shared(Arc<str>),
}

impl RawObject {
    /// The object's JSON text.
    pub fn from_value(value: &serde_json::Value) -> RawObject {
        RawObject(Text::Owned(
            serde_json::value::to_raw_value(value)
                .expect("a serde_json::Value always serializes to JSON"),
        ))
    }

    /// An object whose JSON text is already held elsewhere, shared instead of copied; an
    /// error when `text` is not one JSON value.
    pub fn shared(text: Arc<str>) -> Result<RawObject, serde_json::Error> {
        serde_json::from_str::<&RawValue>(&text)?;
        Ok(RawObject(Text::Shared(text)))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        match &self.0 {
            Text::Owned(raw) => raw.get(),
            Text::Shared(text) => text,
        }
    }

    /// Parses the text into a tree.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.get()).expect("a RawObject holds valid JSON")
    }
}

impl Serialize for RawObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Text::Owned(raw) => raw.serialize(serializer),
            // Checked when shared; borrowing it as a `RawValue` writes it through unchanged.
            Text::Shared(text) => serde_json::from_str::<&RawValue>(text)
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawObject, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(|raw| RawObject(Text::Owned(raw)))
    }
}

impl From<serde_json::Value> for RawObject {
    fn from(value: serde_json::Value) -> RawObject {
        RawObject::from_value(&value)
    }
}

impl PartialEq for RawObject {
    fn eq(&self, other: &RawObject) -> bool {
        self.get() == other.get()
    }
}

impl JsonSchema for RawObject {
    fn schema_name() -> Cow<'static, str> {
        "KubernetesObject".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "A Kubernetes object as read (Secret `data` and `stringData` removed)."
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn passes_the_text_through_unchanged() {
        let text = r#"{"kind":"Pod","metadata":{"name":"a","labels":{"z":"1","a":"2"}}}"#;
        let raw: RawObject = serde_json::from_str(text).unwrap();
        assert_eq!(raw.get(), text);
        assert_eq!(serde_json::to_string(&raw).unwrap(), text);
        assert_eq!(raw.to_value()["metadata"]["name"], "a");
        assert_eq!(
            RawObject::from(json!({"kind": "Pod"})).get(),
            r#"{"kind":"Pod"}"#
        );
        assert_ne!(raw, RawObject::from(json!({"kind": "Pod"})));
    }

    #[test]
    fn a_shared_text_is_written_as_its_own_copy_is() {
        let text = r#"{"kind":"Pod","metadata":{"name":"a","labels":{"z":"1","a":"2"}}}"#;
        let shared = RawObject::shared(Arc::from(text)).unwrap();
        let owned: RawObject = serde_json::from_str(text).unwrap();
        assert_eq!(shared, owned);
        assert_eq!(shared.get(), text);
        assert_eq!(
            serde_json::to_string(&vec![shared.clone(), owned]).unwrap(),
            format!("[{text},{text}]")
        );
        assert_eq!(shared.to_value()["metadata"]["labels"]["z"], "1");
        for not_one_value in ["", "{", r#"{"a":1} {"b":2}"#, "nul"] {
            assert!(
                RawObject::shared(Arc::from(not_one_value)).is_err(),
                "{not_one_value:?}"
            );
        }
    }
}
