//! Baselines: the findings of an earlier JSON report (schema [`JSON_SCHEMA_ID`]), so a scan can
//! report only what is new. The library parses text; the caller reads the file.

use std::collections::HashSet;

use crate::JSON_SCHEMA_ID;

/// Why a text is not a usable baseline (each message reads after the baseline's name).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The text is not JSON.
    #[error("is not JSON")]
    NotJson(#[source] serde_json::Error),
    /// The JSON is not a palisade scan report of schema [`JSON_SCHEMA_ID`].
    #[error("is not a palisade JSON report (schema {JSON_SCHEMA_ID})")]
    WrongSchema,
    /// The report has no `findings` array.
    #[error("has no findings array")]
    NoFindings,
}

/// The fingerprints of the findings in a JSON report (`findings[].fingerprint`).
pub fn read_baseline(text: &str) -> Result<HashSet<String>, BaselineError> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(BaselineError::NotJson)?;
    if doc.get("schema").and_then(|s| s.as_str()) != Some(JSON_SCHEMA_ID) {
        return Err(BaselineError::WrongSchema);
    }
    let findings = doc
        .get("findings")
        .and_then(|f| f.as_array())
        .ok_or(BaselineError::NoFindings)?;
    Ok(findings
        .iter()
        .filter_map(|f| {
            f.get("fingerprint")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_of_a_report() {
        let text = format!(
            r#"{{"schema": "{JSON_SCHEMA_ID}", "findings": [{{"fingerprint": "a"}}, {{"fingerprint": "b"}}, {{}}]}}"#
        );
        let known = read_baseline(&text).unwrap();
        assert_eq!(known, HashSet::from(["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(matches!(
            read_baseline("not json"),
            Err(BaselineError::NotJson(_))
        ));
        assert!(matches!(
            read_baseline(r#"{"schema": "other/v1", "findings": []}"#),
            Err(BaselineError::WrongSchema)
        ));
        let no_findings = format!(r#"{{"schema": "{JSON_SCHEMA_ID}"}}"#);
        assert!(matches!(
            read_baseline(&no_findings),
            Err(BaselineError::NoFindings)
        ));
    }
}
