//! The OpenAPI 3.1 document (`/api/v1/openapi.json`), built from the route table and from the
//! JSON Schemas of the `palisade-api` types (derived with schemars, so a field is described
//! where it is declared and the document cannot drift from the code).

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema, json_schema};
use serde_json::{Map, Value, json};

use palisade_api as api;

use crate::graph::{NetworkGraph, NetworkQuery, WhoCan, WhoCanQuery};
use crate::routes::endpoints;

/// Where the document keeps its named schemas.
const DEFINITIONS: &str = "#/components/schemas/";

/// The OpenAPI 3.1 document of every endpoint in [`crate::routes::table`].
pub fn document() -> Value {
    let mut schemas = Schemas::new();
    let parameters = schemas.query_parameters();
    let mut paths = Map::new();
    for e in endpoints() {
        let mut params: Vec<Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(e.query.iter().map(|name| {
            let schema = parameters
                .get(*name)
                .cloned()
                .unwrap_or_else(|| json!({"type": "string"}));
            json!({"name": name, "in": "query", "required": false, "schema": schema})
        }));
        let mut op = json!({
            "summary": e.summary,
            "description": format!("Roles: {}.", e.roles),
            "parameters": params,
            "responses": {
                "200": {"description": "Success", "content": schemas.content(e.response)},
                "default": {"description": "Error", "content": schemas.content("ErrorBody")},
            },
        });
        if e.roles == "none" {
            op["security"] = json!([]);
        }
        if let Some(body) = e.body {
            op["requestBody"] = json!({"required": true, "content": schemas.content(body)});
        }
        let path = paths
            .entry(e.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        path[e.method.as_str().to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Palisade central",
            "version": "v1",
            "description": "Scans, sensors, admission webhooks and runtime agents push; analysts query. Bodies are the types of the palisade-api crate; errors are ErrorBody (400 names the field).",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas.into_definitions(),
        },
    })
}

/// The schema generator and what it has registered so far.
struct Schemas {
    generator: SchemaGenerator,
}

impl Schemas {
    fn new() -> Schemas {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = DEFINITIONS.into();
        });
        Schemas {
            generator: settings.into_generator(),
        }
    }

    /// The `content` object of a body named in the route table (`X[]` is an array of X).
    fn content(&mut self, name: &str) -> Value {
        match name {
            "Metrics" => json!({"text/plain; version=0.0.4": {"schema": {
                "type": "string",
                "description": "Prometheus text exposition format",
            }}}),
            "Empty" => json!({}),
            // A snapshot also comes as a stream (`palisade_api::stream`), stored as it arrives.
            "Snapshot" => {
                let whole = self.schema(name).to_value();
                let header = self.schema("SnapshotHeader").to_value();
                json!({
                    "application/json": {"schema": whole},
                    "application/x-ndjson": {"schema": {
                        "type": "string",
                        "description": "A snapshot stream: one JSON object per line. The first line is {\"header\": SnapshotHeader} (its counts say how many records follow); each other line is one record, {\"finding\": FindingRecord}, {\"object\": KubernetesObject}, {\"diagnostic\": Diagnostic}, {\"workload\": WorkloadRecord} or {\"image\": ImageRecord}, in any order. Central stores the records while the body arrives and commits once it ended and the counts matched; a bad line is a 400 naming it (`line N: path`).",
                        "x-header-schema": header,
                    }},
                })
            }
            _ => json!({"application/json": {"schema": self.schema(name).to_value()}}),
        }
    }

    /// The schema (usually a `$ref`) of a type named in the route table.
    fn schema(&mut self, name: &str) -> Schema {
        if let Some(item) = name.strip_suffix("[]") {
            let items = self.schema(item).to_value();
            return json_schema!({"type": "array", "items": items});
        }
        let g = &mut self.generator;
        match name {
            "Snapshot" => g.subschema_for::<api::Snapshot>(),
            "SnapshotHeader" => g.subschema_for::<api::SnapshotHeader>(),
            "AlertBatch" => g.subschema_for::<api::AlertBatch>(),
            "FlowBatch" => g.subschema_for::<api::FlowBatch>(),
            "BaselineBatch" => g.subschema_for::<api::BaselineBatch>(),
            "AdmissionBatch" => g.subschema_for::<api::AdmissionBatch>(),
            "ResponseBatch" => g.subschema_for::<api::ResponseBatch>(),
            "ResponseView" => g.subschema_for::<api::ResponseView>(),
            "Delta" => g.subschema_for::<api::Delta>(),
            "IngestAck" => g.subschema_for::<api::IngestAck>(),
            "ErrorBody" => g.subschema_for::<api::ErrorBody>(),
            "ClusterView" => g.subschema_for::<api::ClusterView>(),
            "ExceptionCreate" => g.subschema_for::<api::ExceptionCreate>(),
            "ExceptionView" => g.subschema_for::<api::ExceptionView>(),
            "TokenCreate" => g.subschema_for::<api::TokenCreate>(),
            "TokenCreated" => g.subschema_for::<api::TokenCreated>(),
            "TokenInfo" => g.subschema_for::<api::TokenInfo>(),
            "Page<AlertView>" => g.subschema_for::<api::Page<api::AlertView>>(),
            "Page<AuditEntry>" => g.subschema_for::<api::Page<api::AuditEntry>>(),
            "Page<FindingView>" => g.subschema_for::<api::Page<api::FindingView>>(),
            "Page<ImageView>" => g.subschema_for::<api::Page<api::ImageView>>(),
            "Page<WorkloadView>" => g.subschema_for::<api::Page<api::WorkloadView>>(),
            "NetworkGraph" => g.subschema_for::<NetworkGraph>(),
            "WhoCan" => g.subschema_for::<WhoCan>(),
            "RuntimePolicy" => json_schema!({
                "type": "object",
                "description": "A RuntimePolicy document (apiVersion palisade.dev/v1alpha1, kind RuntimePolicy), the same document `palisade agent export-policy` writes: per image a verdict (deny, warn) with the alert rules and counts behind it, and locked process allowlists per workload and container (docs/runtime.md)",
            }),
            "Status" => json_schema!({
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string", "enum": ["ok", "ready"]}},
            }),
            "OpenApi" => json_schema!({
                "type": "object",
                "description": "This document (OpenAPI 3.1)",
            }),
            other => unknown(other),
        }
    }

    /// The schema of every query parameter, by name, from the query types' fields (one name
    /// means one thing across endpoints).
    fn query_parameters(&mut self) -> Map<String, Value> {
        let mut parameters = Map::new();
        let roots = [
            api::FindingQuery::json_schema(&mut self.generator),
            api::WorkloadQuery::json_schema(&mut self.generator),
            api::AlertQuery::json_schema(&mut self.generator),
            api::ResponseQuery::json_schema(&mut self.generator),
            api::ImageQuery::json_schema(&mut self.generator),
            NetworkQuery::json_schema(&mut self.generator),
            WhoCanQuery::json_schema(&mut self.generator),
        ];
        for root in roots {
            let Some(properties) = root.get("properties").and_then(Value::as_object) else {
                continue;
            };
            for (name, schema) in properties {
                parameters
                    .entry(name.clone())
                    .or_insert_with(|| schema.clone());
            }
        }
        parameters
    }

    /// Every named schema referenced so far.
    fn into_definitions(mut self) -> Map<String, Value> {
        self.generator.take_definitions(true)
    }
}

/// A route names a body this module does not know: a programming error the document test
/// catches; in a running server the document says so instead of failing.
fn unknown(name: &str) -> Schema {
    debug_assert!(false, "the route table names an unknown schema {name:?}");
    json_schema!({"description": format!("undocumented: {name}")})
}

/// Schema of `palisade netpol reach -o json`'s document, which central returns as is.
pub(crate) fn reachability_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "The exact reachability document of `palisade netpol reach -o json` (palisade-netpol's Connectivity): endpoints, allowed connections with ports and the policy rules that allow them",
    })
}

/// Schema of allowed connections, as `palisade netpol reach -o json` lists them.
pub(crate) fn connections_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "type": "object",
            "description": "One allowed connection (source, destination, ports, the rules that allow it), as in the `connections` of `palisade netpol reach -o json`",
        },
    })
}

/// Schema of one RBAC access, as `palisade rbac who-can -o json` writes it.
pub(crate) fn access_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "type": "object",
            "description": "One subject granted the request, with the binding, the role and the rule that grant it (as `palisade rbac who-can -o json` writes it)",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_once_with_its_parameters() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let table = endpoints();
        let documented: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|methods| methods.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, table.len());
        for e in &table {
            let op = &doc["paths"][e.path][e.method.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{} {}", e.method, e.path);
            let params = op["parameters"].as_array().unwrap();
            for name in e.query {
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == *name && p["in"] == "query")
                );
            }
            if e.path.contains("{cluster}") {
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == "cluster" && p["in"] == "path")
                );
            }
        }
        // Only /healthz goes without a token.
        let open: Vec<_> = table.iter().filter(|e| e.roles == "none").collect();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].path, "/healthz");
    }

    #[test]
    fn every_reference_resolves_and_no_schema_is_a_placeholder() {
        let doc = document();
        let text = doc.to_string();
        assert!(!text.contains("undocumented"), "{text}");
        for reference in text.split(DEFINITIONS).skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
        // The snapshot's schema describes its fields, not just "an object".
        let snapshot = &doc["components"]["schemas"]["Snapshot"];
        for field in ["id", "scanned_at", "workloads", "findings"] {
            assert!(
                snapshot["required"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(field)),
                "{field}"
            );
        }
        // Query parameters take their types from the query structs.
        let findings = &doc["paths"]["/api/v1/findings"]["get"]["parameters"];
        let severity = findings
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "severity")
            .unwrap();
        assert_ne!(severity["schema"], json!({"type": "string"}), "{severity}");
    }
}
