//! The rules a schema cannot say, over checked documents: unique names, each kind's own rules
//! (its family's `Family::check_spec`: defaults from reconcile.yaml, secret references, IP
//! blocks, ...), no `.` or `..` where a value becomes a path segment, references between
//! documents, and one manifest per live object (`Family::managed_object`). Every finding is a
//! diagnostic at the field at fault; nothing stops early. No rule here names a kind: the
//! families say what their kinds need, through `SpecCheck`.

use super::diagnostic::{did_you_mean, Diagnostic};
use super::env::is_name;
use super::load::Parsed;
use super::model::*;
use super::schema::quoted_list;
use crate::family::of_kind;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Checks `docs`, fills in defaults, and returns the valid resources (in document order),
/// their specs moved out of `docs`.
pub(crate) fn validate(
    docs: &mut [Parsed],
    defaults: &ProjectDefaults,
    defaults_failed: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<Diagnostic>,
) -> Vec<Resource> {
    let mut rules = Rules {
        env,
        out,
        defaults_failed,
    };
    let first = rules.unique_names(docs);
    for &i in &first {
        rules.document(&mut docs[i], defaults);
    }
    let firsts: Vec<&Parsed> = first.iter().map(|&i| &docs[i]).collect();
    rules.references(&firsts);
    rules.one_manifest_per_object(&firsts);
    // Moved out, not cloned: the checked documents are not used after this.
    first
        .into_iter()
        .filter_map(|i| {
            let doc = &mut docs[i];
            Some(Resource {
                spec: doc.spec.take()?,
                address: doc.address.clone(),
                span: Span::from(&doc.root.span),
            })
        })
        .collect()
}

struct Rules<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    out: &'a mut Vec<Diagnostic>,
    /// Fields of reconcile.yaml that were bad (and reported).
    defaults_failed: &'a [String],
}

impl Rules<'_> {
    /// Reports a problem at `field`, unless that field was already found bad or missing (its
    /// value is then a placeholder, not what the user wrote).
    fn error(
        &mut self,
        doc: &Parsed,
        field: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        if doc.failed(field) {
            return;
        }
        self.out
            .push(Diagnostic::new(doc.span(field), field, message).with_hint(hint));
    }

    /// Names are unique per kind; the indices of the documents that define a name first, in
    /// document order.
    fn unique_names(&mut self, docs: &[Parsed]) -> Vec<usize> {
        // Sorted by address, then position: each run of one address starts with its first.
        let mut order: Vec<usize> = (0..docs.len()).collect();
        order.sort_unstable_by(|&a, &b| docs[a].address.cmp(&docs[b].address).then(a.cmp(&b)));
        let mut first = Vec::with_capacity(docs.len());
        for run in order.chunk_by(|&a, &b| docs[a].address == docs[b].address) {
            let j = run[0];
            first.push(j);
            for &i in &run[1..] {
                let doc = &docs[i];
                self.out.push(
                    Diagnostic::new(
                        doc.name_span.clone(),
                        "metadata.name",
                        format!("duplicate name: `{}` is already defined", doc.address),
                    )
                    .with_hint(format!(
                        "first defined at {}; names are unique per kind, rename one of them",
                        docs[j].name_span
                    )),
                );
            }
        }
        first.sort_unstable();
        first
    }

    /// Rules within one document.
    fn document(&mut self, doc: &mut Parsed, defaults: &ProjectDefaults) {
        let Some(mut spec) = doc.spec.take() else {
            return;
        };
        let family = of_kind(spec.kind());
        family.check_spec(
            &mut spec,
            &mut SpecCheck {
                rules: self,
                doc,
                defaults,
            },
        );
        for (field, value) in family.path_fields(&spec) {
            self.path_segment(doc, field, value);
        }
        doc.spec = Some(spec);
    }

    /// A value that becomes one segment of an API path cannot be `.` or `..`: it would climb
    /// the path (`project: ".."` made `POST /1.0/cloud/database/mongodb`).
    fn path_segment(&mut self, doc: &Parsed, field: &str, value: &str) {
        if value != "." && value != ".." {
            return;
        }
        let written = doc.root.at(field).is_some();
        let origin = if written {
            String::new()
        } else {
            format!(" (from {})", super::load::DEFAULTS_FILE)
        };
        if doc.failed(field) {
            return;
        }
        self.out.push(
            Diagnostic::new(
                doc.span(field),
                field,
                format!("`{value}` cannot be a name{origin}: it becomes a path segment of the API"),
            )
            .with_hint("give the real name; `.` and `..` name nothing on the API"),
        );
    }

    /// `spec.{field}` from reconcile.yaml when absent; an error, naming `what` is missing,
    /// when neither gives one.
    fn default(
        &mut self,
        doc: &Parsed,
        value: &mut Option<String>,
        default: Option<&String>,
        field: &str,
        what: &str,
    ) {
        let path = format!("spec.{field}");
        if doc.failed(&path) {
            return;
        }
        if value.is_none() {
            match default {
                Some(default) => *value = Some(default.clone()),
                None if self.defaults_failed.iter().any(|f| f == field) => return,
                None => {
                    self.out.push(
                        Diagnostic::new(doc.spec_at.clone(), path, format!("no {what}: `{field}` is not set"))
                            .with_hint(format!(
                                "set `{field}:` in this spec, or `{field}:` in {} at the root of the manifests",
                                super::load::DEFAULTS_FILE
                            )),
                    );
                    return;
                }
            }
        }
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            let at = if doc.root.at(&path).is_some() {
                doc.span(&path)
            } else {
                Span::from(&doc.spec_at)
            };
            self.out.push(
                Diagnostic::new(at, path, format!("`{field}` is empty"))
                    .with_hint("an empty value usually comes from an empty environment variable"),
            );
        }
    }

    /// One source, that exists; a file path is resolved against the manifest's directory.
    fn secret(&mut self, doc: &Parsed, field: &str, secret: &mut SecretRef) {
        if doc.failed(field) {
            return;
        }
        let key = field.rsplit('.').next().unwrap_or(field);
        match (&secret.from_env, &secret.from_file) {
            (Some(_), Some(_)) => self.error(
                doc,
                field,
                "a secret comes from `fromEnv` or `fromFile`, not both",
                "keep one of them",
            ),
            (None, None) => self.error(
                doc,
                field,
                "a secret reference needs `fromEnv` or `fromFile`",
                format!("`{key}: {{ fromEnv: NAME }}` or `{key}: {{ fromFile: path }}`"),
            ),
            (Some(name), None) => {
                let at = format!("{field}.fromEnv");
                if !is_name(name) {
                    self.error(
                        doc,
                        &at,
                        format!("`{name}` is not an environment variable name"),
                        "letters, digits and `_`, not starting with a digit",
                    );
                } else {
                    match (self.env)(name) {
                        None => self.error(
                            doc,
                            &at,
                            format!("environment variable `{name}` is not set"),
                            format!("export {name} before running reconcile; the secret itself never goes in a manifest"),
                        ),
                        Some(value) if value.is_empty() => self.error(
                            doc,
                            &at,
                            format!("environment variable `{name}` is empty"),
                            format!("give {name} the secret's value"),
                        ),
                        Some(_) => {}
                    }
                }
            }
            (None, Some(path)) => {
                let at = format!("{field}.fromFile");
                let dir = doc.file.parent().unwrap_or(Path::new(""));
                let resolved = dir.join(path);
                match std::fs::metadata(&resolved) {
                    Err(_) => self.error(
                        doc,
                        &at,
                        format!("secret file `{}` does not exist", path.display()),
                        format!(
                            "`fromFile` is relative to the manifest's directory: looked for `{}`",
                            resolved.display()
                        ),
                    ),
                    Ok(m) if !m.is_file() => self.error(
                        doc,
                        &at,
                        format!("`{}` is not a file", path.display()),
                        "point `fromFile` at the file holding the secret",
                    ),
                    Ok(m) if m.len() == 0 => self.error(
                        doc,
                        &at,
                        format!("secret file `{}` is empty", path.display()),
                        "write the secret into it",
                    ),
                    Ok(_) => secret.from_file = Some(resolved),
                }
            }
        }
    }

    /// Every reference names a resource of these manifests.
    fn references(&mut self, docs: &[&Parsed]) {
        let known: BTreeSet<&Address> = docs.iter().map(|d| &d.address).collect();
        for doc in docs {
            let Some(spec) = &doc.spec else { continue };
            for (field, target) in spec.references() {
                if known.contains(&target) || doc.failed(field) {
                    continue;
                }
                let names: Vec<&str> = known
                    .iter()
                    .filter(|a| a.kind == target.kind)
                    .map(|a| a.name.as_str())
                    .collect();
                let hint = match did_you_mean(&target.name, &names) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None if names.is_empty() => {
                        format!(
                            "these manifests define no {}; add one named `{}`",
                            target.kind, target.name
                        )
                    }
                    None => format!("{} names here: {}", target.kind, quoted_list(&names)),
                };
                self.error(
                    doc,
                    field,
                    format!("no {} is named `{}`", target.kind, target.name),
                    hint,
                );
            }
        }
    }

    /// Two manifests must not manage the same live object.
    fn one_manifest_per_object(&mut self, docs: &[&Parsed]) {
        let specs: BTreeMap<&Address, &Spec> = docs
            .iter()
            .filter_map(|d| Some((&d.address, d.spec.as_ref()?)))
            .collect();
        let lookup = |address: &Address| specs.get(address).copied();
        let mut owners: BTreeMap<(Kind, String, String), &Parsed> = BTreeMap::new();
        for doc in docs {
            let Some(spec) = &doc.spec else { continue };
            let family = of_kind(spec.kind());
            let Some(object) = family.managed_object(spec, &lookup) else {
                continue;
            };
            if object.fields.iter().any(|f| doc.failed(f)) {
                continue;
            }
            let (scope, identity) = object.key;
            match owners.entry((doc.address.kind, scope, identity)) {
                Entry::Vacant(vacant) => {
                    vacant.insert(doc);
                }
                Entry::Occupied(occupied) => {
                    let first = *occupied.get();
                    let mut hint = format!(
                        "{} manages it already ({}); one live object, one manifest",
                        first.address,
                        first.span(object.field)
                    );
                    let note = first
                        .spec
                        .as_ref()
                        .and_then(|first| family.same_object_note(first, spec));
                    if let Some(note) = note {
                        hint.push_str("; ");
                        hint.push_str(&note);
                    }
                    let message = format!("{} is already managed", object.what);
                    self.error(doc, object.field, message, hint);
                }
            }
        }
    }
}

/// The live object a document manages (`Family::managed_object`): two documents of one kind
/// with equal keys manage the same object, and the second is an error.
pub(crate) struct ManagedObject {
    /// The field the second document's error points at (and the first's location in the hint).
    pub field: &'static str,
    /// The fields that name the object: when one of them was found bad (and reported), the
    /// check is skipped, its value being a placeholder.
    pub fields: &'static [&'static str],
    /// Where it lives and what it is called there, as the API knows it (identity rules
    /// applied: a domain's case, MongoDB's `@admin`).
    pub key: (String, String),
    /// How the message names it: "user `app` of DatabaseService/db".
    pub what: String,
}

/// What a family's `check_spec` is handed: the rules' reporting and shared checks, at one
/// document.
pub(crate) struct SpecCheck<'r, 'a> {
    rules: &'r mut Rules<'a>,
    doc: &'r Parsed,
    defaults: &'r ProjectDefaults,
}

impl SpecCheck<'_, '_> {
    /// The defaults of reconcile.yaml.
    pub fn defaults(&self) -> &ProjectDefaults {
        self.defaults
    }

    /// Reports a problem at `field` (`spec.nodes`), unless that field was already found bad
    /// or missing (its value is then a placeholder, not what the user wrote).
    pub fn error(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.rules.error(self.doc, field, message, hint);
    }

    /// True when `field` was already found bad or missing.
    pub fn failed(&self, field: &str) -> bool {
        self.doc.failed(field)
    }

    /// Where `field` was written (its parent's place when it was not).
    pub fn span(&self, field: &str) -> Span {
        self.doc.span(field)
    }

    /// `spec.{field}` from reconcile.yaml's `default` when absent; an error saying no `what`
    /// (`Public Cloud project`) is set when neither gives one, or when it is empty.
    pub fn default(
        &mut self,
        value: &mut Option<String>,
        default: Option<&String>,
        field: &str,
        what: &str,
    ) {
        self.rules.default(self.doc, value, default, field, what);
    }

    /// A secret reference at `field`: one source, that exists (an environment variable set
    /// and not empty, a file not empty); a file path is resolved against the manifest's
    /// directory.
    pub fn secret(&mut self, field: &str, secret: &mut SecretRef) {
        self.rules.secret(self.doc, field, secret);
    }
}
