//! The structural check of a located YAML tree against the compiled schema: every problem a
//! diagnostic at its key or value, a placeholder where a value is bad so the check goes on,
//! inline secrets refused and masked, `${VAR}` interpolated.

use super::compile::{compiled, type_names, Form, RuleId, Typed};
use super::generate::schemas;
use crate::manifest::diagnostic::{did_you_mean, Diagnostic};
use crate::manifest::env::{self, interpolate};
use crate::manifest::model::*;
use crate::manifest::yaml::{Node, Place, Style, Value as Yaml};
use serde_json::{Map, Value};
use std::fmt;

/// Where secrets were written inline, to mask in the source kept for rendering.
#[derive(Debug, Default)]
pub struct Masks(pub Vec<crate::manifest::Span>);

/// Checks located YAML against the schema; collects diagnostics instead of stopping.
///
/// A check keeps going past a bad value so that the rules of `validate.rs` still see the rest
/// of the document: a bad optional value is left out, a bad or missing required one replaced by
/// a placeholder of the right type, and either way its path goes into `failed`, which those
/// rules consult so that a placeholder never causes a second, made-up problem.
pub struct Checker<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub masks: Masks,
    /// Paths (`spec.nodes.count`) of values that were bad or missing, since the last `take`.
    pub failed: Vec<String>,
}

/// Keys whose string value is a secret, wherever they appear.
fn is_secret_key(key: &str) -> bool {
    // Case-insensitive `contains`, without lowercasing a copy of every key.
    ["password", "passwd", "secret", "token"].iter().any(|s| {
        key.as_bytes()
            .windows(s.len())
            .any(|w| w.eq_ignore_ascii_case(s.as_bytes()))
    })
}

/// A field's path in the document (`spec.ipRestrictions[1].ip`), kept as its parts and
/// written out only when a diagnostic or `failed` needs it.
#[derive(Clone, Copy)]
enum FieldPath<'a> {
    Root(&'a str),
    /// `parent.key` (just `key` under an empty parent).
    Key(&'a FieldPath<'a>, &'a str),
    /// `parent[index]`.
    Index(&'a FieldPath<'a>, usize),
}

impl FieldPath<'_> {
    fn is_empty(&self) -> bool {
        match self {
            FieldPath::Root(path) => path.is_empty(),
            FieldPath::Key(parent, key) => parent.is_empty() && key.is_empty(),
            FieldPath::Index(..) => false,
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldPath::Root(path) => f.write_str(path),
            FieldPath::Key(parent, key) if parent.is_empty() => f.write_str(key),
            FieldPath::Key(parent, key) => write!(f, "{parent}.{key}"),
            FieldPath::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

fn expected(types: &[&str]) -> String {
    let words: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "object" => "a map",
            "array" => "a list",
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "true or false",
            _ => "a value",
        })
        .collect();
    match words.len() {
        0 => "a value".into(),
        _ => words.join(" or "),
    }
}

/// The first paragraph of a schema description, for hints.
fn about(schema: &Value) -> Option<String> {
    let text = schema.get("description")?.as_str()?;
    let first = text.split("\n\n").next()?.replace('\n', " ");
    let first = first.trim().trim_end_matches('.');
    (!first.is_empty()).then(|| first.to_string())
}

impl<'a> Checker<'a> {
    pub fn new(env: &'a dyn Fn(&str) -> Option<String>) -> Checker<'a> {
        Checker {
            env,
            diagnostics: Vec::new(),
            masks: Masks::default(),
            failed: Vec::new(),
        }
    }

    /// Checks the `spec` of a `kind`; `at` is where the `spec` key is (for missing fields).
    /// None only when the spec is not even a map.
    pub fn spec(&mut self, kind: Kind, node: &Node, at: &Place) -> Option<Value> {
        let value = self.check(node, compiled().specs[&kind], &FieldPath::Root("spec"), at);
        if value.is_none() {
            self.failed.push("spec".into());
        }
        value
    }

    /// Checks a node against the named `$defs` entry (`Metadata`, `ProjectDefaults`).
    pub fn def(&mut self, name: &str, node: &Node, path: &str, at: &Place) -> Option<Value> {
        match compiled().refs.get(name) {
            Some(rule) => self.check(node, *rule, &FieldPath::Root(path), at),
            // A reference to no definition: the node as it is.
            None => Some(plain(node)),
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// `node` checked against `rule`: the plain value for serde, or None when it cannot be
    /// used (every reason is in `diagnostics`). `at` is the key holding `node`, where a missing
    /// field is reported.
    fn check(&mut self, node: &Node, rule: RuleId, path: &FieldPath, at: &Place) -> Option<Value> {
        let typed = match &compiled().rules[rule].form {
            Form::Ref { secret, target } => {
                if *secret {
                    if let Yaml::Scalar(s) = &node.value {
                        if !s.is_null() {
                            self.inline_secret(node, &s.text, path);
                            return None;
                        }
                    }
                }
                return match target {
                    Some(target) => self.check(node, *target, path, at),
                    None => Some(plain(node)),
                };
            }
            Form::Union { nullable, others } => {
                return self.union(node, *nullable, others, path, at)
            }
            Form::Const(value) => return self.constant(node, value, path),
            Form::Typed(typed) => typed,
        };
        if node.is_null() {
            if typed.allows("null") {
                return Some(Value::Null);
            }
            self.push(
                Diagnostic::new(
                    node.span.clone(),
                    path.to_string(),
                    format!("expected {}, found nothing", expected(&typed.types)),
                )
                .with_hint("give a value, or remove the key if the field is optional"),
            );
            return None;
        }
        match &node.value {
            Yaml::Map(_) if typed.allows("object") => self.object(node, typed, path, at),
            Yaml::Seq(items) if typed.allows("array") => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let item_path = FieldPath::Index(path, i);
                    match self.check(item, typed.items, &item_path, &item.span) {
                        Some(v) => out.push(v),
                        None => {
                            // Keep the indices of the typed list equal to the source's.
                            out.push(placeholder(compiled().rules[typed.items].schema));
                            self.failed.push(item_path.to_string());
                        }
                    }
                }
                Some(Value::Array(out))
            }
            Yaml::Scalar(s) => {
                let text = self.interpolated(node, &s.text, path)?;
                if let Some(allowed) = typed.allowed {
                    return self.one_of(node, &text, allowed, path);
                }
                self.scalar(node, s.style, text, typed, path)
            }
            _ => {
                self.push(Diagnostic::new(
                    node.span.clone(),
                    path.to_string(),
                    format!(
                        "expected {}, found {}",
                        expected(&typed.types),
                        node.describe()
                    ),
                ));
                None
            }
        }
    }

    fn union(
        &mut self,
        node: &Node,
        nullable: bool,
        others: &[RuleId],
        path: &FieldPath,
        at: &Place,
    ) -> Option<Value> {
        if node.is_null() && nullable {
            return Some(Value::Null);
        }
        if let [only] = others {
            return self.check(node, *only, path, at);
        }
        for branch in others {
            let mut trial = Checker::new(self.env);
            if let Some(value) = trial.check(node, *branch, path, at) {
                if trial.diagnostics.is_empty() {
                    self.masks.0.extend(trial.masks.0);
                    return Some(value);
                }
            }
        }
        self.push(Diagnostic::new(
            node.span.clone(),
            path.to_string(),
            "this value matches none of the forms allowed here",
        ));
        None
    }

    fn object(
        &mut self,
        node: &Node,
        typed: &Typed,
        path: &FieldPath,
        at: &Place,
    ) -> Option<Value> {
        let rules = &compiled().rules;
        let entries = node.as_map().unwrap_or_default();
        let required = &typed.required;
        let mut out = Map::new();
        for entry in entries {
            let field = FieldPath::Key(path, &entry.key);
            let property = typed.property(&entry.key);
            if is_secret_key(&entry.key) {
                if let Yaml::Scalar(s) = &entry.value.value {
                    if !s.is_null() && !matches!(entry.value.describe(), "a boolean" | "an integer")
                    {
                        self.inline_secret(&entry.value, &s.text, &field);
                        if let Some(property) =
                            property.filter(|_| required.contains(&entry.key.as_str()))
                        {
                            out.insert(entry.key.clone(), placeholder(rules[property].schema));
                        }
                        self.failed.push(field.to_string());
                        continue;
                    }
                }
            }
            match property {
                Some(property) => match self.check(&entry.value, property, &field, &entry.key_span)
                {
                    Some(value) => {
                        out.insert(entry.key.clone(), value);
                    }
                    None => {
                        if required.contains(&entry.key.as_str()) {
                            out.insert(entry.key.clone(), placeholder(rules[property].schema));
                        }
                        self.failed.push(field.to_string());
                    }
                },
                None if !typed.closed => {
                    out.insert(entry.key.clone(), plain(&entry.value));
                }
                None => {
                    let known: Vec<&str> = typed.properties.iter().map(|(name, _)| *name).collect();
                    let hint = match did_you_mean(&entry.key, &known) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None if known.is_empty() => "this map takes no fields".into(),
                        None => format!("allowed here: {}", quoted_list(&known)),
                    };
                    self.push(
                        Diagnostic::new(
                            entry.key_span.clone(),
                            field.to_string(),
                            format!("unknown field `{}`", entry.key),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
        for name in required {
            if !entries.iter().any(|e| e.key == *name) {
                let field = FieldPath::Key(path, name).to_string();
                let mut diagnostic =
                    Diagnostic::new(at.clone(), field.clone(), format!("missing field `{name}`"));
                let property = typed.property(name);
                if let Some(about) = property.and_then(|p| about(rules[p].schema)) {
                    diagnostic = diagnostic.with_hint(format!("add `{name}:` ({about})"));
                }
                self.push(diagnostic);
                if let Some(property) = property {
                    out.insert(name.to_string(), placeholder(rules[property].schema));
                }
                self.failed.push(field);
            }
        }
        Some(Value::Object(out))
    }

    fn constant(&mut self, node: &Node, value: &Value, path: &FieldPath) -> Option<Value> {
        let text = match &node.value {
            Yaml::Scalar(s) => Some(s.text.as_str()),
            _ => None,
        };
        if text.is_some() && text == value.as_str() {
            return Some(value.clone());
        }
        self.push(
            Diagnostic::new(
                node.span.clone(),
                path.to_string(),
                format!("expected `{}`", value.as_str().unwrap_or_default()),
            )
            .with_hint(format!("write `{}`", value.as_str().unwrap_or_default())),
        );
        None
    }

    fn one_of(
        &mut self,
        node: &Node,
        text: &str,
        allowed: &[Value],
        path: &FieldPath,
    ) -> Option<Value> {
        let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
        if names.contains(&text) {
            return Some(Value::String(text.to_string()));
        }
        let hint = match did_you_mean(text, &names) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("allowed: {}", quoted_list(&names)),
        };
        self.push(
            Diagnostic::new(
                node.span.clone(),
                path.to_string(),
                format!("`{text}` is not allowed here"),
            )
            .with_hint(hint),
        );
        None
    }

    fn scalar(
        &mut self,
        node: &Node,
        style: Style,
        text: String,
        typed: &Typed,
        path: &FieldPath,
    ) -> Option<Value> {
        let plain = style == Style::Plain;
        if typed.allows("integer") && plain {
            if let Ok(n) = text.parse::<i128>() {
                return self.integer(node, n, typed, path);
            }
        }
        if typed.allows("number") && plain {
            if let Ok(n) = text.parse::<f64>() {
                if let Some(n) = serde_json::Number::from_f64(n) {
                    return Some(Value::Number(n));
                }
            }
        }
        if typed.allows("boolean") && plain {
            match text.as_str() {
                "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
                "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
                _ => {}
            }
        }
        if typed.allows("string") {
            return Some(Value::String(text));
        }
        let found = if plain { node.describe() } else { "a string" };
        let mut diagnostic = Diagnostic::new(
            node.span.clone(),
            path.to_string(),
            format!("expected {}, found {found}", expected(&typed.types)),
        );
        let unquoted =
            !plain && (text.parse::<i128>().is_ok() || matches!(text.as_str(), "true" | "false"));
        if unquoted && (typed.allows("integer") || typed.allows("boolean")) {
            diagnostic = diagnostic.with_hint(format!("remove the quotes: `{text}`"));
        } else if typed.allows("boolean") {
            diagnostic = diagnostic.with_hint("write `true` or `false`");
        } else if typed.allows("object") && typed.lists_properties {
            let keys: Vec<&str> = typed.properties.iter().map(|(name, _)| *name).collect();
            diagnostic = diagnostic.with_hint(format!("write a map with {}", quoted_list(&keys)));
        }
        self.push(diagnostic);
        None
    }

    fn integer(&mut self, node: &Node, n: i128, typed: &Typed, path: &FieldPath) -> Option<Value> {
        let (minimum, maximum) = (typed.minimum, typed.maximum);
        if n < minimum {
            self.push(Diagnostic::new(
                node.span.clone(),
                path.to_string(),
                format!("must be at least {minimum}, found {n}"),
            ));
            return None;
        }
        if n > maximum {
            self.push(Diagnostic::new(
                node.span.clone(),
                path.to_string(),
                format!("must be at most {maximum}, found {n}"),
            ));
            return None;
        }
        match i64::try_from(n) {
            Ok(n) => Some(Value::from(n)),
            Err(_) => Some(Value::from(n as u64)),
        }
    }

    /// The scalar's text with `${...}` resolved; None (and diagnostics) when it cannot be.
    fn interpolated(&mut self, node: &Node, text: &str, path: &FieldPath) -> Option<String> {
        if !env::has_references(text) {
            return Some(text.to_string());
        }
        match interpolate(text, self.env) {
            Ok(text) => Some(text),
            Err(errors) => {
                for error in errors {
                    self.push(
                        Diagnostic::new(node.span.clone(), path.to_string(), error.message())
                            .with_hint(error.hint()),
                    );
                }
                None
            }
        }
    }

    fn inline_secret(&mut self, node: &Node, text: &str, path: &FieldPath) {
        let path = path.to_string();
        let key = path.rsplit('.').next().unwrap_or(&path);
        let key = key.split('[').next().unwrap_or(key);
        let hint = match env::sole_reference(text) {
            Some(name) => format!(
                "write `{key}: {{ fromEnv: {name} }}`: a secret is read when it is needed, never interpolated into a manifest"
            ),
            None => {
                self.masks.0.push(node.span.clone().into());
                format!(
                    "keep it out of the manifest: `{key}: {{ fromEnv: NAME }}` (an environment variable) or `{key}: {{ fromFile: path }}` (a file, relative to this manifest)"
                )
            }
        };
        self.push(
            Diagnostic::new(node.span.clone(), &path, "secret written inline").with_hint(hint),
        );
    }
}

/// `a`, `b` and `c` quoted for messages.
pub fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value that `schema` accepts, standing in for a bad or missing one so that the rest of a
/// document can still be typed and checked (its path is in `Checker::failed`).
fn placeholder(schema: &Value) -> Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/").unwrap_or(reference);
        return match schemas().root["$defs"].get(name) {
            Some(def) => placeholder(def),
            None => Value::Null,
        };
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    let types = type_names(schema);
    if types.contains(&"null") || schema.get("anyOf").is_some() {
        return Value::Null;
    }
    match types.first().copied() {
        Some("string") => Value::String(String::new()),
        Some("integer") | Some("number") => {
            let min = schema
                .get("minimum")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .max(0);
            Value::from(min)
        }
        Some("boolean") => Value::Bool(false),
        Some("array") => Value::Array(Vec::new()),
        Some("object") => {
            let mut out = Map::new();
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = name.as_str() else { continue };
                if let Some(property) = properties.and_then(|p| p.get(name)) {
                    out.insert(name.to_string(), placeholder(property));
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

/// A node as a plain JSON value, without checks (fields the schema leaves open).
fn plain(node: &Node) -> Value {
    match &node.value {
        Yaml::Scalar(s) if s.is_null() => Value::Null,
        Yaml::Scalar(s) => Value::String(s.text.clone()),
        Yaml::Seq(items) => Value::Array(items.iter().map(plain).collect()),
        Yaml::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), plain(&e.value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml;
    use std::path::Path;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn check_spec(kind: Kind, text: &str) -> (Option<Value>, Vec<String>) {
        let (docs, diags) = yaml::parse(Path::new("t.yaml"), text);
        assert!(diags.is_empty(), "{diags:?}");
        let root = &docs[0].root;
        let mut checker = Checker::new(&no_env);
        let value = checker.spec(kind, root, &root.span);
        let lines = checker
            .diagnostics
            .iter()
            .map(|d| {
                let hint = d
                    .hint
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                format!(
                    "{}:{} {}: {}{hint}",
                    d.span.line, d.span.column, d.field, d.message
                )
            })
            .collect();
        (value, lines)
    }

    #[test]
    fn secret_keys_are_found_in_any_case() {
        for key in [
            "password",
            "dbPassword",
            "PASSWD",
            "clientSecret",
            "apiToken",
            "x_token_y",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["user", "pass", "tok", "secre", "", "passwórd"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn field_paths_read_as_joined() {
        let spec = FieldPath::Root("spec");
        let ips = FieldPath::Key(&spec, "ipRestrictions");
        let second = FieldPath::Index(&ips, 1);
        assert_eq!(
            FieldPath::Key(&second, "ip").to_string(),
            "spec.ipRestrictions[1].ip"
        );
        let top = FieldPath::Root("");
        assert_eq!(FieldPath::Key(&top, "name").to_string(), "name");
        let empty_key = FieldPath::Key(&top, "");
        assert_eq!(FieldPath::Key(&empty_key, "x").to_string(), "x");
        assert_eq!(FieldPath::Index(&top, 0).to_string(), "[0]");
    }

    #[test]
    fn a_valid_spec_becomes_the_typed_value() {
        let (value, problems) = check_spec(
            Kind::DatabaseService,
            "engine: mongodb\nversion: 7.0\nplan: production\nnodes: { flavor: db2-4, region: GRA, count: 3 }\nstorage: 40\nmaintenanceTime: 03:00:00\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let spec: DatabaseServiceSpec = serde_json::from_value(value.unwrap()).unwrap();
        assert_eq!(spec.version, "7.0");
        assert_eq!(spec.storage, Some(40));
        assert_eq!(spec.maintenance_time.as_deref(), Some("03:00:00"));
    }

    #[test]
    fn every_structural_problem_is_reported() {
        let (value, problems) = check_spec(
            Kind::DatabaseService,
            "engine: mongodb\nplan: production\nnodes: { flavor: db2-4, region: GRA, count: \"3\" }\nstorage: -1\nipRestriction: []\ndeletionProtection: yes\n",
        );
        // Still typed, so the rules of validate.rs can check the rest of the document.
        let spec: DatabaseServiceSpec = serde_json::from_value(value.unwrap()).unwrap();
        assert_eq!(spec.nodes.count, 1);
        insta::assert_snapshot!(problems.join("\n"), @r#"
        3:45 spec.nodes.count: expected an integer, found a string (remove the quotes: `3`)
        4:10 spec.storage: must be at least 1, found -1
        5:1 spec.ipRestriction: unknown field `ipRestriction` (did you mean `ipRestrictions`?)
        6:21 spec.deletionProtection: expected true or false, found a string (write `true` or `false`)
        1:1 spec.version: missing field `version` (add `version:` (Engine version, e.g. "7.0", "16". A string: quote it in YAML))
        "#);
    }

    #[test]
    fn a_secret_as_a_string_is_refused_and_masked() {
        let (_, problems) = check_spec(
            Kind::HostingDatabase,
            "capability: sqlPerso\ntype: mysql\nuser: demo1\npassword: hunter2\n",
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("4:11 spec.password: secret written inline"),
            "{problems:?}"
        );
        assert!(!problems[0].contains("hunter2"));
    }
}
