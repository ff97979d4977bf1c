//! Keeping Secret values out of the inventory and out of messages.

use serde_json::Value;

/// Annotation in which `kubectl apply` keeps the whole previous object (for a Secret: its data).
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replaces every value of a Secret's `data` and `stringData` with `null` (keeping the key
/// names) and blanks the last-applied annotation, which would otherwise hold the values too.
pub fn scrub_secret(obj: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(Value::Object(map)) = obj.get_mut(field) {
            for v in map.values_mut() {
                *v = Value::Null;
            }
        } else if let Some(v) = obj.get_mut(field) {
            *v = Value::Null;
        }
    }
    if let Some(Value::Object(ann)) = obj
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        && let Some(v) = ann.get_mut(LAST_APPLIED)
    {
        *v = Value::String("<redacted>".into());
    }
}

/// Removes the offending value from a serde error message, keeping its type:
/// `invalid type: string "hunter2", expected a boolean` becomes
/// `invalid type: string, expected a boolean`. Values may be secrets.
pub(crate) fn scrub_serde_message(msg: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix)
            && let Some(idx) = rest.find(", expected")
        {
            let what = rest[..idx].split_whitespace().next().unwrap_or("value");
            return format!("{prefix}{what}{}", &rest[idx..]);
        }
    }
    msg.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_removed() {
        let mut v: Value = serde_json::json!({
            "kind": "Secret",
            "metadata": {"name": "s", "annotations": {LAST_APPLIED: "{\"data\":{\"p\":\"aHVudGVyMg==\"}}"}},
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"token": "hunter2"}
        });
        scrub_secret(&mut v);
        let text = v.to_string();
        assert!(!text.contains("aHVudGVyMg"));
        assert!(!text.contains("hunter2"));
        assert!(v["data"].get("password").is_some());
        assert!(v["stringData"].get("token").is_some());
    }

    #[test]
    fn serde_messages_lose_values() {
        assert_eq!(
            scrub_serde_message("invalid type: string \"hunter2\", expected a boolean"),
            "invalid type: string, expected a boolean"
        );
        assert_eq!(
            scrub_serde_message("invalid type: integer `12345`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            scrub_serde_message("missing field `name`"),
            "missing field `name`"
        );
    }
}
