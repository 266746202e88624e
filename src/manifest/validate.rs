//! The rules a schema cannot say, over checked documents: unique names, defaults from
//! reconcile.yaml, IP blocks, the maintenance time, secret references (one source, present in
//! the environment or on disk), SSL certificate and key, references between documents, and one
//! manifest per live object (users, domains, SSL, hosting databases, pinned stacks). Every finding
//! is a diagnostic at the field at fault; nothing stops early.

use super::diagnostic::{did_you_mean, Diagnostic};
use super::env::is_name;
use super::load::Parsed;
use super::model::*;
use super::schema::quoted_list;
use crate::family::database::username;
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
        match &mut spec {
            Spec::DatabaseService(service) => {
                self.default(
                    doc,
                    &mut service.project,
                    defaults.project.as_ref(),
                    "project",
                );
                if let Some(list) = &service.ip_restrictions {
                    self.ip_restrictions(doc, list);
                }
                if let Some(time) = &service.maintenance_time {
                    if !is_time_of_day(time) {
                        self.error(
                            doc,
                            "spec.maintenanceTime",
                            format!("`{time}` is not a time of day"),
                            "write HH:MM:SS, e.g. \"03:00:00\"",
                        );
                    }
                }
            }
            Spec::DatabaseUser(user) => {
                if user.username.trim().is_empty() {
                    self.error(
                        doc,
                        "spec.username",
                        "the username is empty",
                        "name the user",
                    );
                }
            }
            Spec::HostingAttachedDomain(domain) => {
                self.default(
                    doc,
                    &mut domain.hosting,
                    defaults.hosting.as_ref(),
                    "hosting",
                );
            }
            Spec::HostingSsl(ssl) => {
                self.default(doc, &mut ssl.hosting, defaults.hosting.as_ref(), "hosting");
                let failed = ["spec.certificate", "spec.key", "spec.chain"]
                    .iter()
                    .any(|f| doc.failed(f));
                match (&ssl.certificate, &ssl.key) {
                    _ if failed => {}
                    (Some(_), None) => self.error(
                        doc,
                        "spec.certificate",
                        "a custom `certificate` needs its `key`",
                        "add `key: { fromFile: ... }` with the certificate's private key",
                    ),
                    (None, Some(_)) => self.error(
                        doc,
                        "spec.key",
                        "`key` without `certificate`",
                        "add the `certificate`, or remove `key` and `chain` for the free Let's Encrypt certificate",
                    ),
                    _ => {}
                }
                if ssl.certificate.is_none() && ssl.chain.is_some() && !failed {
                    self.error(
                        doc,
                        "spec.chain",
                        "`chain` without `certificate`",
                        "add the `certificate` and its `key`, or remove `chain`",
                    );
                }
                for (field, secret) in [
                    ("spec.certificate", &mut ssl.certificate),
                    ("spec.key", &mut ssl.key),
                    ("spec.chain", &mut ssl.chain),
                ] {
                    if let Some(secret) = secret {
                        self.secret(doc, field, secret);
                    }
                }
            }
            Spec::HostingDatabase(database) => {
                self.default(
                    doc,
                    &mut database.hosting,
                    defaults.hosting.as_ref(),
                    "hosting",
                );
                self.secret(doc, "spec.password", &mut database.password);
            }
            Spec::ManagedStackMysql(stack) => {
                if let Some(nodes) = stack.nodes {
                    if nodes != 2 && nodes != 3 {
                        self.error(
                            doc,
                            "spec.nodes",
                            format!("a stack has 2 or 3 nodes, not {nodes}"),
                            "2 (the default) or 3",
                        );
                    }
                }
            }
        }
        for (field, value) in path_segments(&spec) {
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

    /// `spec.{field}` from reconcile.yaml when absent; an error when neither gives one.
    fn default(
        &mut self,
        doc: &Parsed,
        value: &mut Option<String>,
        default: Option<&String>,
        field: &str,
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
                    let what = if field == "project" {
                        "Public Cloud project"
                    } else {
                        "Web Hosting service"
                    };
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

    fn ip_restrictions(&mut self, doc: &Parsed, list: &[IpRestrictionSpec]) {
        // By block, for a lookup per entry: a scan per entry was quadratic in the list.
        let mut seen: std::collections::HashMap<ipnet::IpNet, usize> =
            std::collections::HashMap::with_capacity(list.len());
        for (i, entry) in list.iter().enumerate() {
            let field = format!("spec.ipRestrictions[{i}].ip");
            let Some(block) = entry.block() else {
                let (message, hint) = bad_block(&entry.ip);
                self.error(doc, &field, message, hint);
                continue;
            };
            if block != block.trunc() {
                self.error(
                    doc,
                    &field,
                    format!("`{}` has host bits set", entry.ip.trim()),
                    format!(
                        "write the block `{}`, or `{}/{}` for the one address",
                        block.trunc(),
                        block.addr(),
                        block.max_prefix_len()
                    ),
                );
                continue;
            }
            match seen.get(&block).copied() {
                Some(j) => {
                    let first = doc.span(&format!("spec.ipRestrictions[{j}].ip"));
                    self.error(
                        doc,
                        &field,
                        format!("`{block}` is listed twice"),
                        format!(
                            "also at spec.ipRestrictions[{j}] (line {}); remove one of them",
                            first.line
                        ),
                    );
                }
                None => {
                    seen.insert(block, i);
                }
            }
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
        let engines: BTreeMap<&str, &str> = docs
            .iter()
            .filter_map(|d| match &d.spec {
                Some(Spec::DatabaseService(s)) => {
                    Some((d.address.name.as_str(), s.engine.as_str()))
                }
                _ => None,
            })
            .collect();
        let mut owners: BTreeMap<(Kind, String, String), &Parsed> = BTreeMap::new();
        for doc in docs {
            let Some(spec) = &doc.spec else { continue };
            let (field, scope, identity) = match spec {
                Spec::DatabaseUser(user) => {
                    let engine = engines.get(user.service.as_str()).copied();
                    let name = username(engine.unwrap_or_default(), &user.username);
                    ("spec.username", user.service.clone(), name)
                }
                Spec::HostingAttachedDomain(domain) => (
                    "spec.domain",
                    domain.hosting.clone().unwrap_or_default(),
                    crate::family::hosting::domain(&domain.domain),
                ),
                Spec::HostingSsl(ssl) => (
                    "spec.hosting",
                    ssl.hosting.clone().unwrap_or_default(),
                    String::new(),
                ),
                Spec::HostingDatabase(database) => (
                    "spec.user",
                    database.hosting.clone().unwrap_or_default(),
                    database.user.clone(),
                ),
                Spec::ManagedStackMysql(stack) => match &stack.id {
                    Some(id) => ("spec.id", String::new(), id.to_string()),
                    None => continue,
                },
                Spec::DatabaseService(_) => continue,
            };
            let identity_fields = [
                "spec.service",
                "spec.username",
                "spec.domain",
                "spec.hosting",
                "spec.user",
                "spec.id",
            ];
            if identity_fields.iter().any(|f| doc.failed(f)) {
                continue;
            }
            match owners.entry((doc.address.kind, scope, identity)) {
                Entry::Vacant(vacant) => {
                    vacant.insert(doc);
                }
                Entry::Occupied(occupied) => {
                    let first = *occupied.get();
                    let mut hint = format!(
                        "{} manages it already ({}); one live object, one manifest",
                        first.address,
                        first.span(field)
                    );
                    if let (Spec::DatabaseUser(a), Some(Spec::DatabaseUser(b))) =
                        (spec, &first.spec)
                    {
                        if a.username != b.username {
                            hint.push_str(&format!(
                                "; mongodb users live in `admin`: `{}` and `{}` are the same user",
                                b.username, a.username
                            ));
                        }
                    }
                    let what = managed_object(spec);
                    self.error(doc, field, format!("{what} is already managed"), hint);
                }
            }
        }
    }
}

/// The live object a manifest manages, for "... is already managed".
/// The fields of `spec` whose values go into API paths, with their values (defaults filled).
fn path_segments(spec: &Spec) -> Vec<(&'static str, &str)> {
    let fields: Vec<(&'static str, Option<&String>)> = match spec {
        Spec::DatabaseService(s) => vec![
            ("spec.project", s.project.as_ref()),
            ("spec.engine", Some(&s.engine)),
        ],
        Spec::DatabaseUser(u) => vec![("spec.username", Some(&u.username))],
        Spec::HostingAttachedDomain(d) => vec![
            ("spec.hosting", d.hosting.as_ref()),
            ("spec.domain", Some(&d.domain)),
        ],
        Spec::HostingSsl(ssl) => vec![("spec.hosting", ssl.hosting.as_ref())],
        Spec::HostingDatabase(db) => vec![
            ("spec.hosting", db.hosting.as_ref()),
            ("spec.user", Some(&db.user)),
        ],
        // An integer id: never a dot segment.
        Spec::ManagedStackMysql(_) => Vec::new(),
    };
    fields
        .into_iter()
        .filter_map(|(field, value)| Some((field, value?.as_str())))
        .collect()
}

fn managed_object(spec: &Spec) -> String {
    match spec {
        Spec::DatabaseUser(user) => format!(
            "user `{}` of DatabaseService/{}",
            user.username, user.service
        ),
        Spec::HostingAttachedDomain(domain) => format!(
            "domain `{}` of hosting `{}`",
            domain.domain,
            domain.hosting.as_deref().unwrap_or("")
        ),
        Spec::HostingSsl(ssl) => format!(
            "the SSL certificate of hosting `{}`",
            ssl.hosting.as_deref().unwrap_or("")
        ),
        Spec::HostingDatabase(database) => format!(
            "database user `{}` of hosting `{}`",
            database.user,
            database.hosting.as_deref().unwrap_or("")
        ),
        Spec::ManagedStackMysql(stack) => match stack.id {
            Some(id) => format!("stack `{id}`"),
            None => "stack".to_owned(),
        },
        Spec::DatabaseService(_) => String::new(),
    }
}

/// Why `text` is not an IP block, and what to write instead.
fn bad_block(text: &str) -> (String, String) {
    let example =
        "write an IPv4 or IPv6 address or block, e.g. `203.0.113.0/24` or `2001:db8::/32`";
    if let Some((addr, prefix)) = text.trim().split_once('/') {
        if let Ok(addr) = addr.parse::<std::net::IpAddr>() {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            return (
                format!("`{text}` has a bad prefix length `/{prefix}`"),
                format!(
                    "the prefix length of an IPv{} block is 0 to {max}",
                    if addr.is_ipv4() { 4 } else { 6 }
                ),
            );
        }
    }
    (
        format!("`{text}` is not an IP address or CIDR block"),
        example.into(),
    )
}

/// `HH:MM:SS`, 24-hour.
fn is_time_of_day(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    let field = |s: &str, max: u32| {
        s.len() == 2
            && s.chars().all(|c| c.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    parts.len() == 3 && field(parts[0], 23) && field(parts[1], 59) && field(parts[2], 59)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert!(is_time_of_day("03:00:00"));
        assert!(is_time_of_day("23:59:59"));
        for bad in [
            "3:00:00",
            "24:00:00",
            "03:60:00",
            "03:00",
            "03:00:00Z",
            "aa:bb:cc",
        ] {
            assert!(!is_time_of_day(bad), "{bad}");
        }
    }

    #[test]
    fn bad_blocks_say_why() {
        assert_eq!(
            bad_block("10.0.0.0/33").0,
            "`10.0.0.0/33` has a bad prefix length `/33`"
        );
        assert_eq!(
            bad_block("10.0.0.300").0,
            "`10.0.0.300` is not an IP address or CIDR block"
        );
    }
}
