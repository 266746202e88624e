//! The JSON Schema of the manifests, generated once by schemars from the model types: the
//! schema `reconcile schema` prints, and the one `compile` turns into rules.

use crate::manifest::model::*;
use schemars::generate::SchemaSettings;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The JSON Schema of a manifest file's document: a `reconcile/v1` document (`apiVersion`,
/// `kind`, `metadata.name`, `spec` checked per kind) or the `ProjectDefaults` of
/// `reconcile.yaml`. Draft 2020-12.
pub fn json_schema() -> Value {
    schemas().root.clone()
}

pub(super) struct Schemas {
    pub(super) root: Value,
    /// `#/$defs/...` reference of each kind's spec.
    pub(super) specs: BTreeMap<Kind, Value>,
    /// `{ "$ref": "#/$defs/{name}" }` for each `$defs` entry, by name.
    pub(super) refs: BTreeMap<String, Value>,
    /// `{}`: any value (a list whose schema has no `items`).
    pub(super) any: Value,
}

pub(super) fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(build)
}

fn build() -> Schemas {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut specs = BTreeMap::new();
    for kind in Kind::ALL {
        let schema = crate::family::of_kind(kind).spec_schema(kind, &mut generator);
        specs.insert(kind, schema.to_value());
    }
    let kind = generator.subschema_for::<Kind>().to_value();
    let metadata = generator.subschema_for::<Metadata>().to_value();
    let defaults = generator.subschema_for::<ProjectDefaults>().to_value();
    let mut defs = generator.take_definitions(true);

    let per_kind: Vec<Value> = specs
        .iter()
        .map(|(kind, spec)| {
            json!({
                "if": { "properties": { "kind": { "const": kind.as_str() } }, "required": ["kind"] },
                "then": { "properties": { "spec": spec } }
            })
        })
        .collect();
    defs.insert(
        "Document".into(),
        json!({
            "description": "A reconcile/v1 document: one resource, named by `kind` and `metadata.name`.",
            "type": "object",
            "additionalProperties": false,
            "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {
                "apiVersion": { "const": API_VERSION },
                "kind": kind,
                "metadata": metadata,
                "spec": { "type": "object", "description": "The resource's desired state; its fields depend on `kind`." }
            },
            "allOf": per_kind
        }),
    );
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "reconcile manifest",
        "description": "A document of a reconcile manifest file, or reconcile.yaml (project defaults). `${VAR}` and `${VAR:-default}` in string values are read from the environment.",
        "oneOf": [ { "$ref": "#/$defs/Document" }, defaults ],
        "$defs": defs,
    });
    let refs = root["$defs"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| (name.clone(), json!({ "$ref": format!("#/$defs/{name}") })))
        .collect();
    Schemas {
        root,
        specs,
        refs,
        any: json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_one_document_or_the_defaults() {
        let schema = json_schema();
        assert_eq!(schema["oneOf"][0]["$ref"], "#/$defs/Document");
        assert_eq!(schema["oneOf"][1]["$ref"], "#/$defs/ProjectDefaults");
        let doc = &schema["$defs"]["Document"];
        assert_eq!(doc["properties"]["apiVersion"]["const"], "reconcile/v1");
        assert_eq!(doc["allOf"].as_array().unwrap().len(), Kind::ALL.len());
        let service = &schema["$defs"]["DatabaseServiceSpec"];
        assert_eq!(service["additionalProperties"], false);
        assert!(service["properties"]["ipRestrictions"].is_object());
        assert!(schema["$defs"]["Metadata"]["properties"]["name"]["pattern"].is_string());
    }

    /// `reconcile schema` prints this text, which editors use: each family now gives its kinds'
    /// schemas (`Family::spec_schema`), and the document must not change a byte.
    #[test]
    fn the_printed_schema_is_pinned() {
        insta::assert_snapshot!(serde_json::to_string_pretty(&json_schema()).unwrap());
    }
}
