//! The manifest kinds as typed values: what a user writes under `spec:`, shared by the parser,
//! the JSON Schema (`reconcile schema`), validation and the planner.
//!
//! Field names follow the OVH API where one exists. Every struct denies unknown fields, so a
//! typo is an error with a "did you mean" rather than a silently ignored line.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// `apiVersion` every document must carry.
pub const API_VERSION: &str = "reconcile/v1";

/// Where something was written: file, 1-based line and column, and the byte range in the file
/// (for underlining).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub offset: usize,
    pub len: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// `Kind/name`, how a resource is named everywhere: plan output, errors, `--rotate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// `metadata:` of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The resource's name, unique per kind: lower-case letters, digits and `-`, starting and
    /// ending with a letter or digit, at most 63 characters. Its identity: renaming it means
    /// deleting one resource and creating another.
    #[schemars(length(min = 1, max = 63), pattern(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub name: String,
}

/// One validated document.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub address: Address,
    /// Where the document starts.
    pub span: Span,
    pub spec: Spec,
}

/// `reconcile.yaml` at the root of the manifest directory: defaults for every document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectDefaults {
    /// Public Cloud project id used by `DatabaseService` documents that do not name one.
    pub project: Option<String>,
    /// Web Hosting service name used by hosting documents that do not name one.
    pub hosting: Option<String>,
    /// API endpoint (region name or URL) when neither `--endpoint` nor `OVH_ENDPOINT` is set.
    pub endpoint: Option<String>,
    /// Scopes this directory manages even when no manifest names anything in them any more:
    /// their live objects no manifest names are listed as unmanaged (deleted under `--prune`).
    #[serde(default, skip_serializing_if = "Manages::is_empty")]
    pub manages: Manages,
}

/// `manages:` in `reconcile.yaml`: scopes declared managed, whatever the manifests name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manages {
    /// Public Cloud projects whose database services (every engine) are all managed here.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Web Hostings whose attached domains, certificate and databases are all managed here.
    #[serde(default)]
    pub hostings: Vec<String>,
    /// `true`: every managed MySQL stack of the account is managed here.
    #[serde(default)]
    pub stack_mysql: bool,
}

impl Manages {
    pub fn is_empty(&self) -> bool {
        self == &Manages::default()
    }
}

/// Everything under a manifest directory, validated: defaults applied (every `project` and
/// `hosting` is `Some`), `${VAR}` interpolated, references checked, sorted by address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestSet {
    pub defaults: ProjectDefaults,
    pub resources: Vec<Resource>,
}

impl ManifestSet {
    /// The resource at `address`: a binary search, the resources being sorted by address
    /// (a scan for each of n lookups made planning quadratic); a set built unsorted by hand is
    /// still searched whole before `None`.
    pub fn get(&self, address: &Address) -> Option<&Resource> {
        let i = self.resources.partition_point(|r| r.address < *address);
        match self.resources.get(i) {
            Some(r) if r.address == *address => Some(r),
            _ => self.resources.iter().find(|r| r.address == *address),
        }
    }
}

/// A secret is never written in a manifest: it is read from the environment or a file when
/// it is needed, and shown as `(sensitive)`. Exactly one of `fromEnv` and `fromFile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
pub struct SecretRef {
    /// Name of an environment variable holding the value.
    pub from_env: Option<String>,
    /// Path of a file holding the value, relative to the manifest file's directory. After
    /// `load`, resolved: the manifest's directory joined with it (absolute when the manifest
    /// path given to `load` was).
    pub from_file: Option<PathBuf>,
}

impl SecretRef {
    /// The secret's value, read now: the environment variable, or the file's content without
    /// one trailing line break (`\n` or `\r\n`, as editors add). `from_file` is used as it is,
    /// so call this on a `SecretRef` from `load` (its path resolved).
    pub fn read(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<secrecy::SecretString, SecretReadError> {
        let value = match (&self.from_env, &self.from_file) {
            (Some(name), None) => {
                env(name).ok_or_else(|| SecretReadError::EnvNotSet { name: name.clone() })?
            }
            (None, Some(path)) => {
                let mut text =
                    std::fs::read_to_string(path).map_err(|source| SecretReadError::File {
                        path: path.clone(),
                        source,
                    })?;
                if text.ends_with('\n') {
                    text.pop();
                    if text.ends_with('\r') {
                        text.pop();
                    }
                }
                text
            }
            _ => return Err(SecretReadError::NotOneSource),
        };
        Ok(secrecy::SecretString::from(value))
    }
}

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretReadError {
    #[error("environment variable `{name}` is not set")]
    EnvNotSet { name: String },
    #[error("cannot read secret file `{}`", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a secret reference needs exactly one of `fromEnv` and `fromFile`")]
    NotOneSource,
}

pub use crate::family::database::spec::{
    DatabaseServiceSpec, DatabaseUserSpec, IpRestrictionSpec, NetworkSpec, NodesSpec,
};
pub use crate::family::hosting::spec::{
    ActiveOrNone, HostingAttachedDomainSpec, HostingDatabaseSpec, HostingSslSpec,
};
pub use crate::family::stack::spec::ManagedStackMysqlSpec;
/// The kinds and their specs belong to the families: `Kind` and `Spec` are declared in the
/// registry (`family`), each kind's spec struct in its family's folder
/// (`family::<family>::spec`). They are re-exported here for the code that reads manifests; a
/// new family need not add itself to this list.
pub use crate::family::{Kind, Spec};

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn user(name: &str) -> Resource {
        Resource {
            address: Address {
                kind: Kind::DatabaseUser,
                name: name.into(),
            },
            span: Span {
                file: "m.yaml".into(),
                line: 1,
                column: 1,
                offset: 0,
                len: 0,
            },
            spec: Spec::DatabaseUser(DatabaseUserSpec {
                service: "db".into(),
                username: name.into(),
                roles: vec![],
            }),
        }
    }

    #[test]
    fn get_finds_a_resource_in_a_sorted_set_and_in_one_built_unsorted() {
        let address = |name: &str| Address {
            kind: Kind::DatabaseUser,
            name: name.into(),
        };
        let sorted = ManifestSet {
            defaults: ProjectDefaults::default(),
            resources: ["a", "b", "c", "d"].map(user).into(),
        };
        let unsorted = ManifestSet {
            defaults: ProjectDefaults::default(),
            resources: ["d", "a", "c", "b"].map(user).into(),
        };
        for set in [&sorted, &unsorted] {
            for name in ["a", "b", "c", "d"] {
                let found = set.get(&address(name)).map(|r| &r.address);
                assert_eq!(found, Some(&address(name)));
            }
            assert!(set.get(&address("e")).is_none());
            let service = Address {
                kind: Kind::DatabaseService,
                name: "a".into(),
            };
            assert!(set.get(&service).is_none());
        }
    }

    #[test]
    fn a_secret_file_loses_one_trailing_line_break() {
        let dir = tempfile::tempdir().unwrap();
        let no_env = |_: &str| None;
        for (content, value) in [
            ("s3cret\n", "s3cret"),
            ("s3cret\r\n", "s3cret"),
            ("s3cret\n\n", "s3cret\n"),
            ("s3cret", "s3cret"),
        ] {
            let path = dir.path().join("secret");
            std::fs::write(&path, content).unwrap();
            let secret = SecretRef {
                from_env: None,
                from_file: Some(path),
            };
            assert_eq!(
                secret.read(&no_env).unwrap().expose_secret(),
                value,
                "{content:?}"
            );
        }
        let from_env = SecretRef {
            from_env: Some("PW".into()),
            from_file: None,
        };
        assert_eq!(
            from_env
                .read(&|n: &str| (n == "PW").then(|| "x".to_string()))
                .unwrap()
                .expose_secret(),
            "x"
        );
        assert!(matches!(
            from_env.read(&no_env),
            Err(SecretReadError::EnvNotSet { .. })
        ));
    }

    #[test]
    fn a_bare_address_is_a_single_address_block() {
        let entry = |ip: &str| IpRestrictionSpec {
            ip: ip.into(),
            description: String::new(),
        };
        assert_eq!(
            entry("198.51.100.7").block().unwrap().to_string(),
            "198.51.100.7/32"
        );
        assert_eq!(
            entry("2001:db8::1").block().unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert_eq!(
            entry("203.0.113.0/24").block().unwrap().to_string(),
            "203.0.113.0/24"
        );
        assert!(entry("203.0.113.0/33").block().is_none());
    }
}
