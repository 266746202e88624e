//! A small validator for the OpenAPI 3.0 subset OVH's schema exports use (`$ref` to
//! `#/components/schemas/...`, `type`, `properties`, `required`, `enum`, `nullable`, `items`,
//! `format`, `allOf`/`oneOf`/`anyOf`, `additionalProperties`), so sandbox answers can be checked
//! against the real schema.
//!
//! It is strict where a simulator can go wrong: a property the schema does not declare is a
//! violation (a sandbox must not invent fields), and so is a missing `required` one. With
//! `Strictness::every_property` it also wants every declared property present (`null` where
//! `nullable`), which is how the real API answers: OVH's exports carry no `required` lists on
//! models, and the API always sends every property of a model.
//! Formats are checked loosely: `date-time` (RFC 3339), `date`, `ipv4`, `ipv6`, `uuid`.

#![allow(dead_code)]

use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;

/// One problem, at a JSON path like `$.records.A.type` or `$[2].quota`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Strictness {
    /// Every declared property must be present, not only the `required` ones.
    pub every_property: bool,
}

impl Strictness {
    pub const REQUIRED_ONLY: Strictness = Strictness {
        every_property: false,
    };
    pub const EVERY_PROPERTY: Strictness = Strictness {
        every_property: true,
    };
}

/// An OpenAPI 3.0 document.
pub struct OpenApi {
    doc: Value,
}

/// An operation found for a concrete request.
pub struct Operation<'a> {
    /// The path template, e.g. `/hosting/web/{serviceName}/ssl`.
    pub template: String,
    pub method: String,
    pub spec: &'a Value,
}

impl OpenApi {
    pub fn new(doc: Value) -> OpenApi {
        OpenApi { doc }
    }

    pub fn load(path: &str) -> OpenApi {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        OpenApi::new(
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}")),
        )
    }

    /// The operation serving `method` on the concrete `path` (no query string); when several
    /// templates match, the one with the most literal segments wins (`/hosting/web/attachedDomain`
    /// over `/hosting/web/{serviceName}`).
    pub fn operation(&self, method: &str, path: &str) -> Option<Operation<'_>> {
        let method = method.to_ascii_lowercase();
        let concrete: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let mut best: Option<(usize, &String, &Value)> = None;
        for (template, item) in self.doc["paths"].as_object()? {
            let Some(op) = item.get(&method) else {
                continue;
            };
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != concrete.len() {
                continue;
            }
            let mut literal = 0;
            let matches = parts.iter().zip(&concrete).all(|(t, c)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !c.is_empty()
                } else {
                    literal += 1;
                    t == c
                }
            });
            if matches && best.is_none_or(|(n, _, _)| literal > n) {
                best = Some((literal, template, op));
            }
        }
        best.map(|(_, template, spec)| Operation {
            template: template.clone(),
            method: method.to_ascii_uppercase(),
            spec,
        })
    }

    /// Checks a `200` answer of `method path` against the operation's response schema; a void
    /// operation (no content) must answer `null`.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        body: &Value,
        strict: Strictness,
    ) -> Result<String, Vec<Violation>> {
        let Some(op) = self.operation(method, path) else {
            return Err(vec![Violation {
                path: "$".into(),
                message: format!("the schema has no operation {method} {path}"),
            }]);
        };
        let response = &op.spec["responses"]["200"];
        let violations = match response.pointer("/content/application~1json/schema") {
            Some(schema) => self.validate(schema, body, strict),
            None if body.is_null() => Vec::new(),
            None => vec![Violation {
                path: "$".into(),
                message: format!("a void operation must answer null, got {body}"),
            }],
        };
        if violations.is_empty() {
            Ok(op.template)
        } else {
            Err(violations)
        }
    }

    /// Every way `value` breaks `schema`.
    pub fn validate(&self, schema: &Value, value: &Value, strict: Strictness) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check(schema, value, "$", strict, false, &mut out);
        out
    }

    /// A named schema under `components.schemas`.
    pub fn schema(&self, name: &str) -> &Value {
        &self.doc["components"]["schemas"][name]
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        for _ in 0..32 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let name = reference
                        .strip_prefix("#/components/schemas/")
                        .unwrap_or_else(|| panic!("unsupported $ref {reference}"));
                    schema = self.schema(name);
                    assert!(!schema.is_null(), "dangling $ref {reference}");
                }
                None => return schema,
            }
        }
        panic!("$ref loop")
    }

    /// The property names `schema` declares, through `$ref` and `allOf`; `None` when it admits
    /// any property (`additionalProperties`).
    fn declared(&self, schema: &Value) -> Option<BTreeSet<String>> {
        let schema = self.resolve(schema);
        if schema
            .get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false))
        {
            return None;
        }
        let mut names: BTreeSet<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for branch in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            names.extend(self.declared(branch)?);
        }
        Some(names)
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        strict: Strictness,
        in_all_of: bool,
        out: &mut Vec<Violation>,
    ) {
        let nullable_here = schema.get("nullable") == Some(&Value::Bool(true));
        let schema = self.resolve(schema);
        let mut push = |message: String| {
            out.push(Violation {
                path: path.to_string(),
                message,
            })
        };
        if value.is_null() {
            let nullable = nullable_here || schema.get("nullable") == Some(&Value::Bool(true));
            let unconstrained = schema.as_object().is_some_and(Map::is_empty);
            if !nullable && !unconstrained {
                push("null where the schema is not nullable".into());
            }
            return;
        }
        if let Some(branches) = schema.get("allOf").and_then(Value::as_array) {
            for branch in branches {
                self.check(branch, value, path, strict, true, out);
            }
        }
        let mut push = |message: String| {
            out.push(Violation {
                path: path.to_string(),
                message,
            })
        };
        for (keyword, want) in [("oneOf", Some(1)), ("anyOf", None)] {
            if let Some(branches) = schema.get(keyword).and_then(Value::as_array) {
                let passing = branches
                    .iter()
                    .filter(|b| self.validate(b, value, strict).is_empty())
                    .count();
                let ok = match want {
                    Some(n) => passing == n,
                    None => passing >= 1,
                };
                if !ok {
                    push(format!(
                        "matches {passing} of the {} {keyword} branches",
                        branches.len()
                    ));
                }
            }
        }
        let kind = schema
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| schema.get("properties").map(|_| "object"));
        if let Some(kind) = kind {
            let ok = match kind {
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                other => panic!("unsupported type {other}"),
            };
            if !ok {
                push(format!("expected {kind}, got {value}"));
                return;
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            if !values.contains(value) {
                push(format!(
                    "{value} is not one of {}",
                    Value::Array(values.clone())
                ));
            }
        }
        if let (Some(format), Some(text)) =
            (schema.get("format").and_then(Value::as_str), value.as_str())
        {
            if !format_ok(format, text) {
                push(format!("{text:?} is not a valid {format}"));
            }
        }
        if let Some(items) = schema.get("items") {
            for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                self.check(items, item, &format!("{path}[{i}]"), strict, false, out);
            }
        }
        if let Some(object) = value.as_object() {
            self.check_object(schema, object, path, strict, in_all_of, out);
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        object: &Map<String, Value>,
        path: &str,
        strict: Strictness,
        in_all_of: bool,
        out: &mut Vec<Violation>,
    ) {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, property) in properties {
            match object.get(name) {
                Some(v) => self.check(property, v, &format!("{path}.{name}"), strict, false, out),
                None if strict.every_property => out.push(Violation {
                    path: format!("{path}.{name}"),
                    message: "missing (the real API sends every property, null when empty)".into(),
                }),
                None => {}
            }
        }
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) && !strict.every_property {
                out.push(Violation {
                    path: format!("{path}.{name}"),
                    message: "missing required property".into(),
                });
            }
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(true)) => {}
            Some(extra_schema @ Value::Object(_)) => {
                for (name, v) in object.iter().filter(|(k, _)| !properties.contains_key(*k)) {
                    self.check(
                        extra_schema,
                        v,
                        &format!("{path}.{name}"),
                        strict,
                        false,
                        out,
                    );
                }
            }
            _ if in_all_of => {}
            _ => {
                let declared = self.declared(schema);
                if let Some(declared) = declared {
                    for name in object.keys().filter(|k| !declared.contains(*k)) {
                        out.push(Violation {
                            path: format!("{path}.{name}"),
                            message: "property not declared by the schema".into(),
                        });
                    }
                }
            }
        }
    }
}

fn format_ok(format: &str, text: &str) -> bool {
    match format {
        "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.parse::<std::net::Ipv6Addr>().is_ok(),
        "uuid" => {
            text.len() == 36
                && text.char_indices().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => c == '-',
                    _ => c.is_ascii_hexdigit(),
                })
        }
        _ => true,
    }
}

// The validator's own tests: it must be able to fail.

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api() -> OpenApi {
        OpenApi::new(json!({
            "openapi": "3.0.0",
            "paths": {
                "/things": { "get": { "responses": { "200": { "content": { "application/json": {
                    "schema": { "type": "array", "items": { "type": "string" } } } } } } } },
                "/things/{id}": {
                    "get": { "responses": { "200": { "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/Thing" } } } } } },
                    "put": { "responses": { "200": { "description": "void" } } }
                },
                "/things/special": { "get": { "responses": { "200": { "content": { "application/json": {
                    "schema": { "type": "integer" } } } } } } }
            },
            "components": { "schemas": {
                "Color": { "type": "string", "enum": ["red", "blue"] },
                "Thing": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": { "type": "string" },
                        "size": { "type": "integer" },
                        "weight": { "type": "number" },
                        "color": { "allOf": [{ "$ref": "#/components/schemas/Color" }], "nullable": true },
                        "at": { "type": "string", "format": "date-time", "nullable": true },
                        "ip": { "type": "string", "format": "ipv4" },
                        "ip6": { "type": "string", "format": "ipv6" },
                        "tags": { "type": "array", "items": { "$ref": "#/components/schemas/Color" } },
                        "labels": { "type": "object", "additionalProperties": { "type": "string" } }
                    }
                },
                "Named": { "type": "object", "properties": { "name": { "type": "string" } } },
                "Sized": { "type": "object", "properties": { "size": { "type": "integer" } } },
                "Both": { "allOf": [{ "$ref": "#/components/schemas/Named" }, { "$ref": "#/components/schemas/Sized" }] },
                "Either": { "oneOf": [{ "type": "string" }, { "type": "integer" }] }
            } }
        }))
    }

    fn paths(violations: Vec<Violation>) -> Vec<String> {
        violations.into_iter().map(|v| v.path).collect()
    }

    fn thing() -> Value {
        json!({
            "name": "a", "size": 2, "weight": 1.5, "color": null, "at": "2024-05-02T10:11:12+02:00",
            "ip": "192.0.2.1", "ip6": "2001:db8::1", "tags": ["red"], "labels": { "k": "v" }
        })
    }

    #[test]
    fn a_valid_value_passes_even_strictly() {
        let api = api();
        assert_eq!(
            api.validate(api.schema("Thing"), &thing(), Strictness::EVERY_PROPERTY),
            vec![]
        );
    }

    #[test]
    fn undeclared_and_missing_properties_are_violations() {
        let api = api();
        let mut value = thing();
        value["extra"] = json!(1);
        value.as_object_mut().unwrap().remove("name");
        assert_eq!(
            paths(api.validate(api.schema("Thing"), &value, Strictness::REQUIRED_ONLY)),
            ["$.name", "$.extra"]
        );
        value.as_object_mut().unwrap().remove("size");
        assert_eq!(
            paths(api.validate(api.schema("Thing"), &value, Strictness::EVERY_PROPERTY)),
            ["$.name", "$.size", "$.extra"]
        );
    }

    #[test]
    fn types_enums_nulls_and_formats_are_checked_with_paths() {
        let api = api();
        let mut value = thing();
        value["size"] = json!(1.5);
        value["weight"] = json!(2);
        value["color"] = json!("green");
        value["ip"] = json!("300.1.1.1");
        value["ip6"] = json!("2001:::1:::");
        value["at"] = json!("yesterday");
        value["tags"] = json!(["red", "pink"]);
        value["labels"] = json!({ "k": 1 });
        let violations = api.validate(api.schema("Thing"), &value, Strictness::EVERY_PROPERTY);
        assert_eq!(
            paths(violations.clone()),
            [
                "$.size",
                "$.color",
                "$.at",
                "$.ip",
                "$.ip6",
                "$.tags[1]",
                "$.labels.k"
            ],
            "{violations:?}"
        );
        value = thing();
        value["name"] = Value::Null;
        assert_eq!(
            paths(api.validate(api.schema("Thing"), &value, Strictness::EVERY_PROPERTY)),
            ["$.name"]
        );
    }

    #[test]
    fn all_of_merges_declared_properties_and_one_of_wants_exactly_one() {
        let api = api();
        let both = api.schema("Both");
        assert_eq!(
            api.validate(
                both,
                &json!({ "name": "a", "size": 1 }),
                Strictness::EVERY_PROPERTY
            ),
            vec![]
        );
        assert_eq!(
            paths(api.validate(
                both,
                &json!({ "name": "a", "size": 1, "x": 0 }),
                Strictness::REQUIRED_ONLY
            )),
            ["$.x"]
        );
        assert_eq!(
            paths(api.validate(both, &json!({ "name": "a" }), Strictness::EVERY_PROPERTY)),
            ["$.size"]
        );
        let either = api.schema("Either");
        assert!(api
            .validate(either, &json!("a"), Strictness::REQUIRED_ONLY)
            .is_empty());
        assert_eq!(
            api.validate(either, &json!(true), Strictness::REQUIRED_ONLY)
                .len(),
            1
        );
    }

    #[test]
    fn operations_prefer_literal_segments_and_void_answers_null() {
        let api = api();
        assert_eq!(
            api.operation("GET", "/things/special").unwrap().template,
            "/things/special"
        );
        assert_eq!(
            api.operation("GET", "/things/42").unwrap().template,
            "/things/{id}"
        );
        assert!(api.operation("DELETE", "/things/42").is_none());
        assert_eq!(
            api.validate_response(
                "PUT",
                "/things/42",
                &Value::Null,
                Strictness::EVERY_PROPERTY
            ),
            Ok("/things/{id}".into())
        );
        assert!(api
            .validate_response("PUT", "/things/42", &json!({}), Strictness::EVERY_PROPERTY)
            .is_err());
        assert!(api
            .validate_response(
                "GET",
                "/things",
                &json!(["a", 1]),
                Strictness::EVERY_PROPERTY
            )
            .is_err());
    }
}
