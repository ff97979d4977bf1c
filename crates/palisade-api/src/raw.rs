//! [`RawObject`]: a Kubernetes object carried as its JSON text.
//!
//! A snapshot holds tens of thousands of objects that central stores as text and parses only
//! when a graph or who-can question needs them. Parsing them into `serde_json::Value` trees on
//! receipt (and cloning trees on the sender) cost several times their size in memory; the text
//! is passed through as it is instead.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One JSON object, kept as text. Equal when the texts are equal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawObject(Box<RawValue>);

impl RawObject {
    /// The object's JSON text.
    pub fn from_value(value: &serde_json::Value) -> RawObject {
        RawObject(
            serde_json::value::to_raw_value(value)
                .expect("a serde_json::Value always serializes to JSON"),
        )
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the text into a tree.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).expect("a RawValue holds valid JSON")
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
}
