//! The schema compiled for checking: each schema object `check` can reach becomes a `Rule`,
//! with what the check asks of it (types, properties, required fields, ranges) looked up once.

use super::generate::schemas;
use crate::manifest::model::Kind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The schema compiled for checking, once: one `Rule` per schema object `check` can reach
/// (from the kinds' specs and the `$defs`), each with what `check` asks of it looked up in
/// advance. Checking a document then costs no map lookup into the schema, no clone of it.
pub(super) struct Compiled {
    pub(super) rules: Vec<Rule>,
    /// The rule of each kind's spec (a `$ref`).
    pub(super) specs: BTreeMap<Kind, RuleId>,
    /// A `$ref` rule to each `$defs` entry, by name (`Checker::def`).
    pub(super) refs: BTreeMap<String, RuleId>,
}

pub(super) type RuleId = usize;

/// A schema object, compiled.
pub(super) struct Rule {
    /// The schema itself, for what is only needed on the way to a diagnostic or a placeholder.
    pub(super) schema: &'static Value,
    pub(super) form: Form,
}

/// What `check` does with a schema, in the order it looks: `$ref`, then (without `type`)
/// `anyOf`/`oneOf`, then `const`, then the type.
pub(super) enum Form {
    Ref {
        /// `#/$defs/SecretRef`: a plain string there is an inline secret.
        secret: bool,
        /// None when the `$defs` entry does not exist (the node is taken as it is).
        target: Option<RuleId>,
    },
    Union {
        /// Whether one branch is `{ "type": "null" }`.
        nullable: bool,
        /// The other branches.
        others: Vec<RuleId>,
    },
    Const(&'static Value),
    Typed(Typed),
}

pub(super) struct Typed {
    pub(super) types: Vec<&'static str>,
    /// Lists: the items' rule (`{}` when the schema has none).
    pub(super) items: RuleId,
    /// Scalars: the allowed values, when an enum.
    pub(super) allowed: Option<&'static [Value]>,
    /// Maps: every property with its rule, in the schema's order.
    pub(super) properties: Vec<(&'static str, RuleId)>,
    /// Whether the schema lists `properties` (even none), for the hint of a scalar written
    /// where a map goes.
    pub(super) lists_properties: bool,
    pub(super) required: Vec<&'static str>,
    /// `additionalProperties: false`.
    pub(super) closed: bool,
    /// Integers: the range the format and `minimum`/`maximum` allow.
    pub(super) minimum: i128,
    pub(super) maximum: i128,
}

impl Typed {
    pub(super) fn allows(&self, t: &str) -> bool {
        self.types.is_empty() || self.types.contains(&t)
    }

    pub(super) fn property(&self, key: &str) -> Option<RuleId> {
        self.properties
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, rule)| *rule)
    }
}

pub(super) fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let schemas = schemas();
        let mut compiler = Compiler {
            rules: Vec::new(),
            seen: BTreeMap::new(),
        };
        let specs = schemas
            .specs
            .iter()
            .map(|(kind, spec)| (*kind, compiler.compile(spec)))
            .collect();
        let refs = schemas
            .refs
            .iter()
            .map(|(name, reference)| (name.clone(), compiler.compile(reference)))
            .collect();
        Compiled {
            rules: compiler.rules,
            specs,
            refs,
        }
    })
}

struct Compiler {
    rules: Vec<Rule>,
    /// Schema objects already compiled, by address (they live in the `'static` `Schemas`),
    /// so that a `$defs` entry is compiled once and references may be cyclic.
    seen: BTreeMap<*const Value, RuleId>,
}

impl Compiler {
    fn compile(&mut self, schema: &'static Value) -> RuleId {
        if let Some(id) = self.seen.get(&(schema as *const Value)) {
            return *id;
        }
        let id = self.rules.len();
        self.seen.insert(schema, id);
        // A stand-in until the form is known (a reference back to it sees the id only).
        self.rules.push(Rule {
            schema,
            form: Form::Ref {
                secret: false,
                target: None,
            },
        });
        let form = self.form(schema);
        self.rules[id].form = form;
        id
    }

    fn form(&mut self, schema: &'static Value) -> Form {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix("#/$defs/").unwrap_or(reference);
            let target = schemas().root["$defs"].get(name);
            return Form::Ref {
                secret: name == "SecretRef",
                target: target.map(|def| self.compile(def)),
            };
        }
        if schema.get("type").is_none() {
            if let Some(branches) = schema
                .get("anyOf")
                .or_else(|| schema.get("oneOf"))
                .and_then(Value::as_array)
            {
                return Form::Union {
                    nullable: branches.iter().any(is_null_schema),
                    others: branches
                        .iter()
                        .filter(|b| !is_null_schema(b))
                        .map(|b| self.compile(b))
                        .collect(),
                };
            }
        }
        if let Some(value) = schema.get("const") {
            return Form::Const(value);
        }
        let items = self.compile(schema.get("items").unwrap_or(&schemas().any));
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, property)| (name.as_str(), self.compile(property)))
            .collect();
        let (minimum, maximum) = integer_range(schema);
        Form::Typed(Typed {
            types: type_names(schema),
            items,
            allowed: schema
                .get("enum")
                .and_then(Value::as_array)
                .map(Vec::as_slice),
            properties,
            lists_properties: schema.get("properties").is_some_and(Value::is_object),
            required: schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default(),
            closed: schema.get("additionalProperties") == Some(&Value::Bool(false)),
            minimum,
            maximum,
        })
    }
}

/// The integers `schema` allows: its format's range narrowed by `minimum` and `maximum`.
fn integer_range(schema: &Value) -> (i128, i128) {
    let (format_min, format_max): (i128, i128) = match schema.get("format").and_then(Value::as_str)
    {
        Some("uint8") => (0, u8::MAX.into()),
        Some("uint16") => (0, u16::MAX.into()),
        Some("uint32") => (0, u32::MAX.into()),
        Some("uint64" | "uint") => (0, u64::MAX.into()),
        Some("int8") => (i8::MIN.into(), i8::MAX.into()),
        Some("int16") => (i16::MIN.into(), i16::MAX.into()),
        Some("int32") => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN.into(), i64::MAX.into()),
    };
    let minimum = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .map(|m| m.ceil() as i128)
        .unwrap_or(format_min)
        .max(format_min);
    let maximum = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .map(|m| m.floor() as i128)
        .unwrap_or(format_max)
        .min(format_max);
    (minimum, maximum)
}

pub(super) fn type_names(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_null_schema(schema: &Value) -> bool {
    type_names(schema) == ["null"]
}
