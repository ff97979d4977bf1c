//! `admission.k8s.io/v1` AdmissionReview: the request the API server sends and the response it
//! expects, as our own serde structs (the fields the webhook reads or writes).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The only AdmissionReview version the webhook speaks.
pub const API_VERSION: &str = "admission.k8s.io/v1";
/// The kind of the review envelope.
pub const KIND: &str = "AdmissionReview";

/// `metav1.GroupVersionKind` as admission requests carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct GroupVersionKind {
    /// API group (`""` for the core group).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

impl GroupVersionKind {
    /// `apiVersion` as written in objects: `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// `metav1.GroupVersionResource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct GroupVersionResource {
    /// API group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Resource (plural, lower case).
    pub resource: String,
}

/// The operation being admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// Create.
    Create,
    /// Update.
    Update,
    /// Delete.
    Delete,
    /// Connect (exec, attach, port-forward, proxy).
    Connect,
}

impl Operation {
    /// Upper-case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// `authenticationv1.UserInfo` of the requester.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// User UID.
    pub uid: String,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
    /// Extra attributes from the authenticator.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// `admissionv1.AdmissionRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// Identifies this admission call; the response must echo it.
    pub uid: String,
    /// Fully-qualified kind of the object (as converted for this webhook).
    pub kind: GroupVersionKind,
    /// Resource being requested.
    pub resource: GroupVersionResource,
    /// Subresource (`status`, `scale`, `ephemeralcontainers`, …), if any.
    #[serde(default)]
    pub sub_resource: Option<String>,
    /// Kind of the original request, before conversion.
    #[serde(default)]
    pub request_kind: Option<GroupVersionKind>,
    /// Object name (may be empty on CREATE with `generateName`).
    #[serde(default)]
    pub name: Option<String>,
    /// Namespace of namespaced objects.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Operation.
    pub operation: Operation,
    /// Who asks.
    #[serde(default)]
    pub user_info: UserInfo,
    /// The new object (CREATE, UPDATE, CONNECT). A key twice in one of its mappings is refused
    /// (the API server never sends one; "last value wins" would let a crafted object show one
    /// reader a field another does not see).
    #[serde(
        default,
        deserialize_with = "palisade_ingest::json::deserialize_option"
    )]
    pub object: Option<serde_json::Value>,
    /// The existing object (UPDATE, DELETE), with keys unique as in `object`.
    #[serde(
        default,
        deserialize_with = "palisade_ingest::json::deserialize_option"
    )]
    pub old_object: Option<serde_json::Value>,
    /// Whether this is a dry run: the webhook must have no side effects.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

impl AdmissionRequest {
    /// Whether the API server marked the request as a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run == Some(true)
    }
}

/// The review envelope the API server posts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReviewRequest {
    /// Must be `admission.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// Must be `AdmissionReview`.
    #[serde(default)]
    pub kind: String,
    /// The request.
    #[serde(default)]
    pub request: Option<AdmissionRequest>,
}

/// `metav1.Status` of a refused request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Always `Failure` when present.
    pub status: &'static str,
    /// Human-readable explanation shown to the user.
    pub message: String,
    /// Machine-readable reason (`Forbidden`, `BadRequest`).
    pub reason: &'static str,
    /// HTTP-style code returned to the client (403, 400).
    pub code: u16,
}

/// `admissionv1.AdmissionResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    /// The request's `uid`.
    pub uid: String,
    /// Whether the request is admitted.
    pub allowed: bool,
    /// Why it is refused (only when not allowed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Warnings returned to the client (kubectl prints them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Audit annotations; the API server prefixes each key with the webhook's name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
}

/// The review envelope the webhook answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReviewResponse {
    /// `admission.k8s.io/v1`.
    pub api_version: &'static str,
    /// `AdmissionReview`.
    pub kind: &'static str,
    /// The response.
    pub response: AdmissionResponse,
}

impl AdmissionReviewResponse {
    /// Wraps a response in the v1 envelope.
    pub fn new(response: AdmissionResponse) -> Self {
        AdmissionReviewResponse {
            api_version: API_VERSION,
            kind: KIND,
            response,
        }
    }

    /// Serialized as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings, bools and maps of strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Why a body is not an AdmissionReview the webhook can answer (the server replies 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Not JSON, or a field of the wrong type.
    #[error("body is not a valid AdmissionReview: {0}")]
    Malformed(String),
    /// Some other apiVersion/kind.
    #[error(
        "body is {api_version:?} {kind:?}, expected {API_VERSION} {KIND} (set admissionReviewVersions: [v1])"
    )]
    WrongType {
        /// The `apiVersion` received.
        api_version: String,
        /// The `kind` received.
        kind: String,
    },
    /// The envelope has no `request`.
    #[error("AdmissionReview has no request")]
    NoRequest,
    /// The request has an empty `uid`.
    #[error("AdmissionReview request.uid is empty")]
    NoUid,
}

/// Parses a request body into an [`AdmissionRequest`]. Errors name the offending field. A field
/// of the envelope given twice, or a key given twice in one mapping of `object` or `oldObject`,
/// is malformed.
pub fn parse_review(body: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    let review: AdmissionReviewRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(first) => {
            // Error path only: a body of another type is reported as such, not as a field error.
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct TypeMeta {
                #[serde(default)]
                api_version: String,
                #[serde(default)]
                kind: String,
            }
            if let Ok(t) = serde_json::from_slice::<TypeMeta>(body)
                && (t.api_version != API_VERSION || t.kind != KIND)
            {
                return Err(ReviewError::WrongType {
                    api_version: t.api_version,
                    kind: t.kind,
                });
            }
            // Parse again, tracking the path, only to explain the error.
            let de = &mut serde_json::Deserializer::from_slice(body);
            let message = match serde_path_to_error::deserialize::<_, AdmissionReviewRequest>(de) {
                Err(e) if !e.path().to_string().is_empty() && e.path().to_string() != "." => {
                    format!("{}: {}", e.path(), e.inner())
                }
                _ => first.to_string(),
            };
            return Err(ReviewError::Malformed(message));
        }
    };
    if review.api_version != API_VERSION || review.kind != KIND {
        return Err(ReviewError::WrongType {
            api_version: review.api_version,
            kind: review.kind,
        });
    }
    let request = review.request.ok_or(ReviewError::NoRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::NoUid);
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REVIEW: &str = r#"{
      "apiVersion": "admission.k8s.io/v1",
      "kind": "AdmissionReview",
      "request": {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "name": "my-deployment",
        "namespace": "my-namespace",
        "operation": "UPDATE",
        "userInfo": {"username": "admin", "uid": "014fbff9a07c", "groups": ["system:authenticated", "my-admin-group"], "extra": {"some-key": ["some-value1"]}},
        "object": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "my-deployment"}},
        "oldObject": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "my-deployment"}},
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "UpdateOptions"},
        "dryRun": false
      }
    }"#;

    #[test]
    fn parses_the_documented_v1_request() {
        let r = parse_review(REVIEW.as_bytes()).unwrap();
        assert_eq!(r.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(r.kind.api_version(), "apps/v1");
        assert_eq!(r.kind.kind, "Deployment");
        assert_eq!(r.operation, Operation::Update);
        assert_eq!(r.namespace.as_deref(), Some("my-namespace"));
        assert_eq!(r.user_info.groups[1], "my-admin-group");
        assert!(!r.is_dry_run());
        assert!(r.old_object.is_some());
    }

    #[test]
    fn response_has_the_v1_shape() {
        let resp = AdmissionReviewResponse::new(AdmissionResponse {
            uid: "u-1".into(),
            allowed: false,
            status: Some(Status {
                status: "Failure",
                message: "no".into(),
                reason: "Forbidden",
                code: 403,
            }),
            warnings: vec!["w".into()],
            audit_annotations: BTreeMap::from([("decision".into(), "denied".into())]),
        });
        let v: serde_json::Value = serde_json::from_slice(&resp.to_json()).unwrap();
        assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(v["kind"], "AdmissionReview");
        assert_eq!(v["response"]["uid"], "u-1");
        assert_eq!(v["response"]["allowed"], false);
        assert_eq!(v["response"]["status"]["code"], 403);
        assert_eq!(v["response"]["warnings"][0], "w");
        assert_eq!(v["response"]["auditAnnotations"]["decision"], "denied");
    }

    #[test]
    fn bad_bodies_are_explained() {
        assert!(matches!(
            parse_review(b"{not json"),
            Err(ReviewError::Malformed(_))
        ));
        let e = parse_review(
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"PATCH","kind":{},"resource":{}}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("request.operation"), "{e}");
        let e = parse_review(
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#,
        )
        .unwrap_err();
        assert!(matches!(e, ReviewError::WrongType { .. }), "{e}");
        assert!(e.to_string().contains("v1beta1"));
        let e = parse_review(br#"{"apiVersion":"v1","kind":"Pod"}"#).unwrap_err();
        assert!(matches!(e, ReviewError::WrongType { .. }));
        let e = parse_review(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#)
            .unwrap_err();
        assert_eq!(e, ReviewError::NoRequest);
        assert!(matches!(
            parse_review(b"[1,2]"),
            Err(ReviewError::Malformed(_))
        ));
        assert!(matches!(parse_review(b""), Err(ReviewError::Malformed(_))));
    }

    /// "Last value wins" would let a crafted review show the policy one value of a field while
    /// another reader of the same bytes takes the other: a repeated key is refused, in the
    /// envelope and at any depth of the objects.
    #[test]
    fn duplicate_keys_are_refused() {
        let with = |object: &str| {
            format!(
                r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","kind":{{}},"resource":{{}},"operation":"UPDATE",{object}}}}}"#
            )
        };
        let privileged = r#"{"spec":{"containers":[{"name":"c","securityContext":{"privileged":true,"privileged":false}}]}}"#;
        for body in [
            with(&format!(r#""object":{privileged}"#)),
            with(&format!(r#""object":{{}},"oldObject":{privileged}"#)),
        ] {
            let e = parse_review(body.as_bytes()).unwrap_err();
            assert!(matches!(e, ReviewError::Malformed(_)), "{e}");
            assert!(
                e.to_string()
                    .contains("duplicate mapping key \"privileged\""),
                "{e}"
            );
        }
        let e = parse_review(with(r#""object":{"kind":"Pod","kind":"ConfigMap"}"#).as_bytes())
            .unwrap_err();
        assert!(
            e.to_string().contains("duplicate mapping key \"kind\""),
            "{e}"
        );
        // The envelope's own fields (serde refuses a repeated struct field).
        let e = parse_review(with(r#""uid":"v""#).as_bytes()).unwrap_err();
        assert!(e.to_string().contains("duplicate field `uid`"), "{e}");
        // Unique keys, the same key in different objects, and null objects still parse.
        let r = parse_review(
            with(r#""object":{"metadata":{"name":"a"},"spec":{"name":"b"}},"oldObject":null"#)
                .as_bytes(),
        )
        .expect("valid");
        assert_eq!(r.object.unwrap()["spec"]["name"], "b");
        assert!(r.old_object.is_none());
    }
}
