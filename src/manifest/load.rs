//! Reading a manifest path into checked documents: which files (a directory walked recursively
//! and sorted, or one file), `reconcile.yaml` as the defaults, every document's envelope
//! (`apiVersion`, `kind`, `metadata.name`, `spec`), then `validate` for the rules across fields
//! and documents. Every problem is collected; `Err` carries them all.

use super::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use super::model::*;
use super::schema::{quoted_list, Checker};
use super::validate;
use super::yaml::{self, Node, Place, Value as Yaml};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file of project defaults at the root of a manifest directory.
pub const DEFAULTS_FILE: &str = "reconcile.yaml";

/// The largest manifest file read, in bytes; a larger one is refused before it is read.
/// With `yaml::MAX_NODES` and `yaml::MAX_DEPTH`, this keeps any file cheap to refuse.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A document whose kind and name are known; `spec` is None when it failed its checks.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub file: PathBuf,
    pub root: Node,
    pub address: Address,
    pub name_span: Place,
    /// The `spec` key, where problems about the spec as a whole are reported.
    pub spec_at: Place,
    pub spec: Option<Spec>,
    /// Paths of values that were bad or missing (already reported): `spec` holds placeholders
    /// there, which the rules must not judge.
    pub failed: Vec<String>,
}

impl Parsed {
    /// Whether `path`, a part of it or a value inside it was bad or missing.
    pub fn failed(&self, path: &str) -> bool {
        let within = |inner: &str, outer: &str| {
            inner == outer
                || inner
                    .strip_prefix(outer)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        };
        self.failed
            .iter()
            .any(|f| within(path, f) || within(f, path))
    }

    /// Where `field` (a path such as `spec.ipRestrictions[1].ip`) is written, or the closest
    /// thing that is.
    pub fn span(&self, field: &str) -> Span {
        Span::from(self.root.span_at(field, &self.root.span))
    }
}

/// See `manifest::load`.
pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<ManifestSet, Diagnostics> {
    let mut loader = Loader {
        checker: Checker::new(env),
        diagnostics: Vec::new(),
        sources: BTreeMap::new(),
    };
    let (defaults, resources) = loader.run(path, env);
    loader.diagnostics.append(&mut loader.checker.diagnostics);
    if loader.diagnostics.is_empty() {
        let mut resources = resources;
        // Addresses are unique here (a duplicate is a diagnostic), so an unstable sort gives
        // the same order, in place: a stable one allocates a buffer of half the resources.
        resources.sort_unstable_by(|a, b| a.address.cmp(&b.address));
        return Ok(ManifestSet {
            defaults,
            resources,
        });
    }
    let mut all = Diagnostics::new();
    let mut sources: BTreeMap<PathBuf, String> = loader
        .sources
        .into_iter()
        .map(|(file, text)| (file, String::from(&*text)))
        .collect();
    for mask in std::mem::take(&mut loader.checker.masks.0) {
        if let Some(text) = sources.get_mut(&mask.file) {
            mask_range(text, mask.offset, mask.len);
        }
    }
    for (file, text) in sources {
        all.add_source(&file, Arc::from(text));
    }
    for diagnostic in loader.diagnostics {
        all.push(diagnostic);
    }
    all.sort();
    Err(all)
}

/// Replaces the characters of `text[offset..offset + len]` with `*`, byte for byte (offsets
/// stay valid), keeping line breaks (line numbers stay valid).
fn mask_range(text: &mut String, offset: usize, len: usize) {
    let end = (offset + len).min(text.len());
    if offset >= end || !text.is_char_boundary(offset) || !text.is_char_boundary(end) {
        return;
    }
    let masked: String = text[offset..end]
        .chars()
        .map(|c| match c {
            '\n' | '\r' => c.to_string(),
            _ => "*".repeat(c.len_utf8()),
        })
        .collect();
    text.replace_range(offset..end, &masked);
}

struct Loader<'a> {
    checker: Checker<'a>,
    diagnostics: Vec<Diagnostic>,
    /// Every file read, for underlining.
    sources: BTreeMap<PathBuf, Arc<str>>,
}

impl Loader<'_> {
    fn run(
        &mut self,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> (ProjectDefaults, Vec<Resource>) {
        let Some((defaults_file, files)) = self.files(path) else {
            return (ProjectDefaults::default(), Vec::new());
        };
        let defaults = match defaults_file {
            Some(file) => self.defaults(&file),
            None => ProjectDefaults::default(),
        };
        // A default that was written but is bad has been reported; do not also report every
        // document that needed it.
        let defaults_failed = std::mem::take(&mut self.checker.failed);
        let mut parsed = Vec::new();
        for file in files {
            let Some(text) = self.read(&file) else {
                continue;
            };
            let (documents, problems) = yaml::parse(&file, &text);
            self.diagnostics.extend(problems);
            for document in documents {
                if document.root.is_null() {
                    continue; // an empty document, e.g. a trailing `---`
                }
                if let Some(doc) = self.document(&file, document.root) {
                    parsed.push(doc);
                }
            }
        }
        let resources = validate::validate(
            &mut parsed,
            &defaults,
            &defaults_failed,
            env,
            &mut self.diagnostics,
        );
        (defaults, resources)
    }

    /// The defaults file (if any) and the manifest files under `path`, sorted.
    fn files(&mut self, path: &Path) -> Option<(Option<PathBuf>, Vec<PathBuf>)> {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(e) => {
                self.diagnostics
                    .push(Diagnostic::at_file(path, io_reason(&e)).with_hint(
                        "give a directory of manifests (*.yaml, *.yml) or one manifest file",
                    ));
                return None;
            }
        };
        if !metadata.is_file() && !metadata.is_dir() {
            self.diagnostics.push(
                Diagnostic::at_file(
                    path,
                    format!("{}, not a manifest file", what_it_is(&metadata)),
                )
                .with_hint("give a directory of manifests (*.yaml, *.yml) or one manifest file"),
            );
            return None;
        }
        if metadata.is_file() {
            if path.file_name() == Some(DEFAULTS_FILE.as_ref()) {
                return Some((Some(path.to_path_buf()), Vec::new()));
            }
            let sibling = path
                .parent()
                .map(|p| p.join(DEFAULTS_FILE))
                .filter(|p| p.is_file());
            return Some((sibling, vec![path.to_path_buf()]));
        }
        let mut files = Vec::new();
        self.walk(path, &mut files);
        files.sort();
        let defaults = path.join(DEFAULTS_FILE);
        let defaults = files
            .iter()
            .position(|f| *f == defaults)
            .map(|i| files.remove(i));
        if files.is_empty() && defaults.is_none() {
            // Said unless the walk already reported why a file could not be taken.
            if self.diagnostics.is_empty() {
                self.diagnostics.push(
                    Diagnostic::at_file(path, "no manifests found: no *.yaml or *.yml file here")
                        .with_hint(
                            "check the path; hidden directories (.git, .reconcile) are not read",
                        ),
                );
            }
            return None;
        }
        Some((defaults, files))
    }

    /// Collects `*.yaml` and `*.yml` below `dir`, skipping hidden entries; symbolic links to
    /// files are followed, links to directories are not (no loops). A `*.yaml` that is not a
    /// regular file (a FIFO, a device, a socket), a dangling link or a link loop is reported,
    /// never skipped and never opened (a FIFO would block the read).
    fn walk(&mut self, dir: &Path, files: &mut Vec<PathBuf>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                self.diagnostics.push(Diagnostic::at_file(
                    dir,
                    format!("cannot read this directory: {}", io_reason(&e)),
                ));
                return;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if hidden {
                continue;
            }
            if file_type.is_dir() {
                self.walk(&path, files);
                continue;
            }
            if !matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                continue;
            }
            // Through a link, to what it names.
            match std::fs::metadata(&path) {
                Ok(target) if target.is_file() => files.push(path),
                // A link to a directory is not followed (no loops).
                Ok(target) if target.is_dir() => {}
                Ok(target) => self.diagnostics.push(
                    Diagnostic::at_file(&path, format!("{}, not a manifest file", what_it_is(&target)))
                        .with_hint("remove it from the manifest directory, or rename it so it does not end in .yaml or .yml"),
                ),
                Err(e) => {
                    let what = match std::fs::read_link(&path) {
                        Ok(to) if e.raw_os_error() == Some(ELOOP) => {
                            format!("a symbolic link loop (to {})", to.display())
                        }
                        Ok(to) => format!(
                            "a dangling symbolic link (to {}: {})",
                            to.display(),
                            io_reason(&e)
                        ),
                        Err(_) => format!("cannot read this file: {}", io_reason(&e)),
                    };
                    self.diagnostics.push(
                        Diagnostic::at_file(&path, what)
                            .with_hint("fix or remove the link"),
                    );
                }
            }
        }
    }

    /// The text of `file`, kept in `sources` (shared, not copied). At most `MAX_FILE_BYTES`
    /// are read: a larger file is refused (checked on the open file, so a file that grows
    /// meanwhile is cut at the limit and refused too).
    fn read(&mut self, file: &Path) -> Option<Arc<str>> {
        use std::io::Read;
        let cannot = |e: std::io::Error| {
            Diagnostic::at_file(file, format!("cannot read this file: {}", io_reason(&e)))
        };
        let mut bytes = Vec::new();
        let read = std::fs::File::open(file)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes));
        if let Err(e) = read {
            self.diagnostics.push(cannot(e));
            return None;
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            self.diagnostics.push(
                Diagnostic::at_file(
                    file,
                    format!("this file is larger than {} KiB", MAX_FILE_BYTES / 1024),
                )
                .with_hint("split the manifests into smaller files"),
            );
            return None;
        }
        match String::from_utf8(bytes) {
            Ok(text) => {
                let text: Arc<str> = Arc::from(text);
                self.sources.insert(file.to_path_buf(), Arc::clone(&text));
                Some(text)
            }
            Err(_) => {
                self.diagnostics.push(
                    Diagnostic::at_file(file, "not UTF-8 text")
                        .with_hint("save the manifest as UTF-8"),
                );
                None
            }
        }
    }

    fn defaults(&mut self, file: &Path) -> ProjectDefaults {
        let Some(text) = self.read(file) else {
            return ProjectDefaults::default();
        };
        let (documents, problems) = yaml::parse(file, &text);
        self.diagnostics.extend(problems);
        let mut documents = documents.into_iter().filter(|d| !d.root.is_null());
        let Some(first) = documents.next() else {
            return ProjectDefaults::default();
        };
        for extra in documents {
            self.diagnostics.push(
                Diagnostic::new(
                    extra.root.span.clone(),
                    "",
                    format!("{DEFAULTS_FILE} holds one document"),
                )
                .with_hint("put resources in other files; this file only sets defaults"),
            );
        }
        let root = first.root;
        match self.checker.def("ProjectDefaults", &root, "", &root.span) {
            Some(value) => match serde_json::from_value(value) {
                Ok(defaults) => defaults,
                Err(e) => {
                    self.diagnostics.push(Diagnostic::new(
                        root.span.clone(),
                        "",
                        format!("invalid defaults: {e}"),
                    ));
                    ProjectDefaults::default()
                }
            },
            None => ProjectDefaults::default(),
        }
    }

    /// A document's envelope, then its spec against the kind's schema.
    fn document(&mut self, file: &Path, root: Node) -> Option<Parsed> {
        const FIELDS: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];
        self.checker.failed.clear();
        let Some(entries) = root.as_map() else {
            self.diagnostics.push(
                Diagnostic::new(
                    root.span.clone(),
                    "",
                    format!("a document must be a map, found {}", root.describe()),
                )
                .with_hint(format!(
                    "start it with `apiVersion: {API_VERSION}` and `kind: ...`"
                )),
            );
            return None;
        };
        if root.entry("apiVersion").is_none() && root.entry("kind").is_none() {
            self.diagnostics.push(
                Diagnostic::new(root.span.clone(), "", "not a manifest: this document has no `apiVersion` and no `kind`")
                    .with_hint(format!(
                        "start each document with `apiVersion: {API_VERSION}` and `kind: ...`; keep other YAML files out of the manifest directory"
                    )),
            );
            return None;
        }
        for entry in entries {
            if !FIELDS.contains(&entry.key.as_str()) {
                let hint = match did_you_mean(&entry.key, &FIELDS) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None if SPEC_LEVEL.contains(&entry.key.as_str()) => {
                        format!("`{}` belongs under `spec:`", entry.key)
                    }
                    None => format!("a document has {}", quoted_list(&FIELDS)),
                };
                self.diagnostics.push(
                    Diagnostic::new(
                        entry.key_span.clone(),
                        entry.key.clone(),
                        format!("unknown field `{}`", entry.key),
                    )
                    .with_hint(hint),
                );
            }
        }
        let missing = |field: &str, hint: String| {
            Diagnostic::new(root.span.clone(), field, format!("missing field `{field}`"))
                .with_hint(hint)
        };

        match root.entry("apiVersion") {
            None => self.diagnostics.push(missing(
                "apiVersion",
                format!("add `apiVersion: {API_VERSION}`"),
            )),
            Some(entry) => {
                if scalar_text(&entry.value) != Some(API_VERSION) {
                    let found = scalar_text(&entry.value).unwrap_or_default();
                    self.diagnostics.push(
                        Diagnostic::new(
                            entry.value.span.clone(),
                            "apiVersion",
                            format!("unsupported apiVersion `{found}`"),
                        )
                        .with_hint(format!("write `apiVersion: {API_VERSION}`")),
                    );
                }
            }
        }

        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let kind = match root.entry("kind") {
            None => {
                self.diagnostics.push(missing(
                    "kind",
                    format!("add `kind:`, one of {}", quoted_list(&kinds)),
                ));
                None
            }
            Some(entry) => {
                let text = scalar_text(&entry.value).unwrap_or_default();
                match text.parse::<Kind>() {
                    Ok(kind) => Some(kind),
                    Err(()) => {
                        let hint = match did_you_mean(text, &kinds) {
                            Some(close) => format!("did you mean `{close}`?"),
                            None => format!("kinds: {}", quoted_list(&kinds)),
                        };
                        self.diagnostics.push(
                            Diagnostic::new(
                                entry.value.span.clone(),
                                "kind",
                                format!("unknown kind `{text}`"),
                            )
                            .with_hint(hint),
                        );
                        None
                    }
                }
            }
        };

        let name = match root.entry("metadata") {
            None => {
                self.diagnostics
                    .push(missing("metadata", "add `metadata: { name: ... }`".into()));
                None
            }
            Some(entry) => self
                .checker
                .def("Metadata", &entry.value, "metadata", &entry.key_span)
                .filter(|_| self.checker.failed.is_empty())
                .and_then(|value| {
                    value
                        .get("name")
                        .and_then(|n| n.as_str())
                        .map(str::to_string)
                })
                .map(|name| (name, entry.value.span_at("name", &entry.key_span))),
        };
        if let Some((name, span)) = &name {
            if let Some((message, hint)) = name_problem(name) {
                self.diagnostics
                    .push(Diagnostic::new(span.clone(), "metadata.name", message).with_hint(hint));
            }
        }

        let spec_entry = root.entry("spec");
        if spec_entry.is_none() {
            self.diagnostics.push(missing(
                "spec",
                "add `spec:` with the resource's fields".into(),
            ));
        }
        let kind = kind?;
        let spec_at = spec_entry.map_or_else(|| root.span.clone(), |e| e.key_span.clone());
        let spec = spec_entry
            .and_then(|entry| self.checker.spec(kind, &entry.value, &entry.key_span))
            .and_then(|value| match typed(kind, value) {
                Ok(spec) => Some(spec),
                Err(e) => {
                    self.diagnostics.push(Diagnostic::new(
                        spec_at.clone(),
                        "spec",
                        format!("invalid spec: {e}"),
                    ));
                    None
                }
            });
        let failed = std::mem::take(&mut self.checker.failed);
        let (name, name_span) = name?;
        Some(Parsed {
            file: file.to_path_buf(),
            address: Address { kind, name },
            name_span,
            spec_at,
            spec,
            root,
            failed,
        })
    }
}

/// Fields people put at the top of a document when they belong in `spec`.
const SPEC_LEVEL: [&str; 8] = [
    "engine", "project", "hosting", "domain", "service", "username", "nodes", "region",
];

fn scalar_text(node: &Node) -> Option<&str> {
    match &node.value {
        Yaml::Scalar(s) if !s.is_null() => Some(&s.text),
        _ => None,
    }
}

fn typed(kind: Kind, value: serde_json::Value) -> Result<Spec, serde_json::Error> {
    Spec::from_json(kind, value)
}

/// Names are DNS labels: lower-case letters, digits and `-`, starting and ending with a letter
/// or digit, 1 to 63 characters. What is wrong with `name`, and a hint, if anything.
pub fn name_problem(name: &str) -> Option<(String, String)> {
    const RULE: &str =
        "names are lower-case letters, digits and `-`, starting and ending with a letter or digit";
    if name.is_empty() {
        return Some(("the name is empty".into(), RULE.into()));
    }
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid_chars && !name.starts_with('-') && !name.ends_with('-') {
        if name.len() > 63 {
            return Some((
                format!("the name is {} characters long, more than 63", name.len()),
                "shorten it".into(),
            ));
        }
        return None;
    }
    let suggestion = suggest_name(name);
    let hint = if suggestion.is_empty() {
        RULE.to_string()
    } else {
        format!("{RULE}: `{suggestion}`?")
    };
    Some((format!("`{name}` is not a valid name"), hint))
}

fn suggest_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-')
        .chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The reason of an IO error without the OS error number.
/// `errno` for "too many levels of symbolic links" (Linux and the BSDs differ).
#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = 62;

/// What a path that is neither a regular file nor a directory is, for a message.
fn what_it_is(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = metadata.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = metadata;
    "not a regular file"
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_applies_defaults_resolves_secret_files_and_sorts() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("web/secrets")).unwrap();
        std::fs::write(
            root.join("reconcile.yaml"),
            "project: ${PROJECT}\nhosting: h1.cluster021.hosting.ovh.net\n",
        )
        .unwrap();
        std::fs::write(root.join("web/secrets/db.password"), "Sandbox2024\n").unwrap();
        std::fs::write(
            root.join("web/shop.yml"),
            "apiVersion: reconcile/v1\nkind: HostingDatabase\nmetadata: { name: shop-db }\nspec: { capability: sqlPerso, type: mysql, user: h1shop, password: { fromFile: secrets/db.password } }\n",
        )
        .unwrap();
        std::fs::write(
            root.join("db.yaml"),
            "apiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata: { name: app }\nspec: { service: orders-db, username: app }\n---\napiVersion: reconcile/v1\nkind: DatabaseService\nmetadata: { name: orders-db }\nspec: { engine: mongodb, version: \"7.0\", plan: production, nodes: { flavor: db2-4, region: GRA, count: 3 } }\n",
        )
        .unwrap();
        let env = |name: &str| (name == "PROJECT").then(|| "p1".to_string());
        let set = load(root, &env).unwrap();
        let addresses: Vec<String> = set
            .resources
            .iter()
            .map(|r| r.address.to_string())
            .collect();
        assert_eq!(
            addresses,
            [
                "DatabaseService/orders-db",
                "DatabaseUser/app",
                "HostingDatabase/shop-db"
            ]
        );
        assert_eq!(set.defaults.project.as_deref(), Some("p1"));
        match &set.resources[0].spec {
            Spec::DatabaseService(s) => assert_eq!(s.project.as_deref(), Some("p1")),
            other => panic!("{other:?}"),
        }
        match &set.resources[2].spec {
            Spec::HostingDatabase(d) => {
                assert_eq!(d.hosting.as_deref(), Some("h1.cluster021.hosting.ovh.net"));
                assert_eq!(
                    d.password.from_file.as_deref(),
                    Some(root.join("web/secrets/db.password").as_path())
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(set.resources[1].span.file, root.join("db.yaml"));
        assert_eq!(set.resources[1].span.line, 1);
    }

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(name_problem("orders-db"), None);
        assert_eq!(name_problem("db2"), None);
        let (message, hint) = name_problem("Orders_DB").unwrap();
        assert_eq!(message, "`Orders_DB` is not a valid name");
        assert!(hint.ends_with("`orders-db`?"), "{hint}");
        assert!(name_problem("-a").is_some());
        assert!(name_problem(&"a".repeat(64))
            .unwrap()
            .0
            .contains("more than 63"));
    }

    #[test]
    fn masking_keeps_offsets_and_lines() {
        let mut text = String::from("a: 1\npassword: |\n  héllo\n  x\nb: 2\n");
        let start = text.find('|').unwrap();
        let end = text.find("b:").unwrap();
        mask_range(&mut text, start, end - start);
        assert_eq!(text.len(), "a: 1\npassword: |\n  héllo\n  x\nb: 2\n".len());
        assert_eq!(text.lines().count(), 5);
        assert!(!text.contains("llo"));
        assert!(text.ends_with("b: 2\n"));
    }
}
