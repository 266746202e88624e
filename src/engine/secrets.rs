//! Secrets: where the manifest's secrets come from when a body needs them (`secret_ref`), and
//! the secrets sink, where generated passwords go (`write_user`), with the intents that make
//! sure none is lost (`write_intent`).
//!
//! The sink is a directory (`--secrets-dir`, created `0700`) keyed by endpoint, resource and
//! object id, so that no file ever holds a password that belongs to another object (two runs
//! creating twins, a resource re-created, two APIs):
//!
//! ```text
//! .reconcile/secrets/
//!   ovh-eu/                          the endpoint (a region name, else host-port-path)
//!     DatabaseUser-orders-app/       the resource, {Kind}-{name}
//!       3c1a....json                 one file per live object id, mode 0600
//!       intent.json                  a create on its way (below)
//! ```
//!
//! Files are written atomically: a temporary file created `0600` in the same directory, synced,
//! then renamed over the old one, so a reader never sees half a file and a crash leaves the
//! previous one whole. JSON because a service has several endpoints (`mongodb`, `mongodbSrv`,
//! read replicas ...) that a flat `.env` could not hold without inventing names; `jq -r
//! .password` reads it in a script:
//!
//! ```json
//! {
//!   "resource": "DatabaseUser/orders-app",
//!   "service": "DatabaseService/orders-db",
//!   "serviceId": "0f6b...",
//!   "engine": "mongodb",
//!   "userId": "3c1a...",
//!   "username": "app@admin",
//!   "password": "...",
//!   "endpoints": [{"component": "mongodbSrv", "domain": "...", "port": null, "path": "/admin",
//!                  "scheme": "mongodb+srv", "sslMode": "required", "uri": "mongodb+srv://<username>:<password>@.../admin?..."}],
//!   "writtenAt": "2025-03-01T10:00:00Z"
//! }
//! ```
//!
//! `endpoints` are the service's, as its `GET` answers them (the API puts `<username>` and
//! `<password>` placeholders in the URIs). A password never goes anywhere else: not in a
//! report, a log line, an error or progress.
//!
//! **Intents.** Before every user `POST` the engine writes `intent.json` (the service id, the
//! username, when) and removes it once the password is in the object's file. An intent found
//! by a later run for a live user whose file is missing means the create happened and its
//! password reached nobody (an answer lost, a run killed): that run resets it into the sink.
//!
//! **Older layout.** Files written before the sink was keyed, `{dir}/{Kind}-{name}.json`, are
//! still read: when one records the id being looked up it is moved into the keyed layout.

use crate::manifest::model::{Address, SecretRef, Spec};
use crate::ovh::Endpoint;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The sink's name for an endpoint: its region name (`ovh-eu`), else its URL's host, port and
/// path with anything but letters, digits, `.` and `-` made a `-` (`127.0.0.1-8080-1.0`).
pub fn endpoint_key(endpoint: &Endpoint) -> String {
    if let Some(name) = endpoint.name() {
        return name.to_owned();
    }
    let url = endpoint.base_url();
    let url = url.split_once("://").map_or(url, |(_, rest)| rest);
    let key: String = url
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    key.trim_matches('-').to_owned()
}

/// The directory of one resource's files in the sink.
pub fn resource_dir(dir: &Path, endpoint: &Endpoint, address: &Address) -> PathBuf {
    dir.join(endpoint_key(endpoint))
        .join(format!("{}-{}", address.kind, address.name))
}

/// The file the sink keeps for the live object `id` of `address` on `endpoint`.
pub fn secrets_path(dir: &Path, endpoint: &Endpoint, address: &Address, id: &str) -> PathBuf {
    let id: String = id
        .chars()
        .map(|c| if c == '/' || c == '\\' { '-' } else { c })
        .collect();
    resource_dir(dir, endpoint, address).join(format!("{id}.json"))
}

/// Where the older layout kept `address`'s file.
fn legacy_path(dir: &Path, address: &Address) -> PathBuf {
    dir.join(format!("{}-{}.json", address.kind, address.name))
}

/// The manifest secret behind a redacted body field (`"***"` in the plan): the family's
/// (`Family::secret_ref`).
pub(crate) fn secret_ref<'s>(spec: &'s Spec, key: &str) -> Option<&'s SecretRef> {
    crate::family::of_kind(spec.kind()).secret_ref(spec, key)
}

/// What the sink records for a database user.
pub(crate) struct UserSecret<'a> {
    pub address: &'a Address,
    pub service: &'a Address,
    pub service_id: &'a str,
    pub engine: &'a str,
    pub user_id: &'a str,
    pub username: &'a str,
    pub password: &'a SecretString,
    /// The service's `endpoints`, as answered.
    pub endpoints: &'a Value,
}

/// Writes the secrets file of a database user (keyed by its id); returns its path.
pub(crate) fn write_user(
    dir: &Path,
    endpoint: &Endpoint,
    secret: &UserSecret,
) -> io::Result<PathBuf> {
    let document = json!({
        "resource": secret.address.to_string(),
        "service": secret.service.to_string(),
        "serviceId": secret.service_id,
        "engine": secret.engine,
        "userId": secret.user_id,
        "username": secret.username,
        "password": secret.password.expose_secret(),
        "endpoints": endpoints(secret.endpoints),
        "writtenAt": now(),
    });
    let mut text = serde_json::to_vec_pretty(&document).map_err(io::Error::other)?;
    text.push(b'\n');
    let path = secrets_path(dir, endpoint, secret.address, secret.user_id);
    write_private(path.parent().expect("a file in a directory"), &path, &text)?;
    Ok(path)
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// True when the sink holds a password for the live user `user_id` of `address`. A file of
/// the older layout recording this id is moved into the keyed layout first.
pub(crate) fn has_password(
    dir: &Path,
    endpoint: &Endpoint,
    address: &Address,
    user_id: &str,
) -> bool {
    let path = secrets_path(dir, endpoint, address, user_id);
    let holds = |path: &Path, id: Option<&str>| {
        let Ok(text) = fs::read(path) else {
            return false;
        };
        let Ok(document) = serde_json::from_slice::<Value>(&text) else {
            return false;
        };
        document.get("password").and_then(Value::as_str).is_some()
            && id.is_none_or(|id| document.get("userId").and_then(Value::as_str) == Some(id))
    };
    if holds(&path, None) {
        return true;
    }
    let legacy = legacy_path(dir, address);
    if !holds(&legacy, Some(user_id)) {
        return false;
    }
    let moved = path
        .parent()
        .map(|parent| create_private_dir(parent).and_then(|()| fs::rename(&legacy, &path)));
    match moved {
        Some(Ok(())) => {
            tracing::info!(from = %legacy.display(), to = %path.display(), "secrets file moved to the keyed layout")
        }
        _ => {
            tracing::warn!(path = %legacy.display(), "secrets file of the older layout could not be moved; it is read where it is")
        }
    }
    true
}

/// Removes the file of the live user `user_id` (a twin this run deleted).
pub(crate) fn remove_user(dir: &Path, endpoint: &Endpoint, address: &Address, user_id: &str) {
    let _ = fs::remove_file(secrets_path(dir, endpoint, address, user_id));
}

/// A user create on its way (`intent.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    pub resource: String,
    pub service_id: String,
    pub username: String,
    pub written_at: String,
}

fn intent_path(dir: &Path, endpoint: &Endpoint, address: &Address) -> PathBuf {
    resource_dir(dir, endpoint, address).join("intent.json")
}

/// Records, before a user `POST`, that a password for `address` is about to be generated.
pub(crate) fn write_intent(
    dir: &Path,
    endpoint: &Endpoint,
    address: &Address,
    service_id: &str,
    username: &str,
) -> io::Result<()> {
    let intent = Intent {
        resource: address.to_string(),
        service_id: service_id.to_owned(),
        username: username.to_owned(),
        written_at: now(),
    };
    let mut text = serde_json::to_vec_pretty(&intent).map_err(io::Error::other)?;
    text.push(b'\n');
    let path = intent_path(dir, endpoint, address);
    write_private(path.parent().expect("a file in a directory"), &path, &text)
}

/// The intent recorded for `address`, if any.
pub fn intent(dir: &Path, endpoint: &Endpoint, address: &Address) -> Option<Intent> {
    serde_json::from_slice(&fs::read(intent_path(dir, endpoint, address)).ok()?).ok()
}

/// The password of `address` is stored (or no longer expected): its intent goes.
pub(crate) fn clear_intent(dir: &Path, endpoint: &Endpoint, address: &Address) {
    let _ = fs::remove_file(intent_path(dir, endpoint, address));
}

/// Connection details of each endpoint (component, domain, port, path, scheme, sslMode, uri).
fn endpoints(answer: &Value) -> Value {
    let keep = [
        "component",
        "domain",
        "port",
        "path",
        "scheme",
        "sslMode",
        "uri",
    ];
    let list = answer.as_array().map(Vec::as_slice).unwrap_or_default();
    Value::Array(
        list.iter()
            .map(|endpoint| {
                let mut out = serde_json::Map::new();
                for key in keep {
                    if let Some(value) = endpoint.get(key) {
                        out.insert(key.to_owned(), value.clone());
                    }
                }
                Value::Object(out)
            })
            .collect(),
    )
}

/// `dir` created `0700` when missing; `contents` written to `path` through a `0600` temporary
/// file in `dir`, synced, then renamed into place.
fn write_private(dir: &Path, path: &Path, contents: &[u8]) -> io::Result<()> {
    create_private_dir(dir)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("secret");
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut file = open_private(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    // Make the rename itself durable where the platform allows it.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_private(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::Kind;

    fn address(kind: Kind, name: &str) -> Address {
        Address {
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn a_user_secret_is_one_private_file_per_object_replaced_atomically() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("nested/secrets");
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/1.0").unwrap();
        let user = address(Kind::DatabaseUser, "orders-app");
        let service = address(Kind::DatabaseService, "orders-db");
        let endpoints = json!([{"component": "mongodbSrv", "domain": "h", "port": null,
            "uri": "mongodb+srv://<username>:<password>@h/admin", "ssl": true, "extra": 1}]);
        let write = |password: &str, user_id: &str| {
            let password = SecretString::from(password.to_owned());
            write_user(
                &dir,
                &endpoint,
                &UserSecret {
                    address: &user,
                    service: &service,
                    service_id: "s1",
                    engine: "mongodb",
                    user_id,
                    username: "app@admin",
                    password: &password,
                    endpoints: &endpoints,
                },
            )
            .unwrap()
        };
        let path = write("first-Pa55", "u1");
        let folder = dir.join("127.0.0.1-8080-1.0/DatabaseUser-orders-app");
        assert_eq!(path, folder.join("u1.json"));
        let path = write("second-Pa55", "u1");
        // A twin's password goes beside it, never over it.
        let twin = write("twin-Pa55", "u2");
        let document: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(document["password"], "second-Pa55");
        assert_eq!(document["userId"], "u1");
        assert_eq!(document["endpoints"][0]["component"], "mongodbSrv");
        assert_eq!(document["endpoints"][0].get("extra"), None);
        let twin: Value = serde_json::from_slice(&fs::read(&twin).unwrap()).unwrap();
        assert_eq!(twin["password"], "twin-Pa55");
        assert!(has_password(&dir, &endpoint, &user, "u1"));
        assert!(!has_password(&dir, &endpoint, &user, "u3"));
        let names: Vec<_> = fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&folder), 0o700);
        }
    }

    #[test]
    fn an_older_layout_file_is_read_and_moved_for_its_own_user_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        let endpoint = Endpoint::parse("ovh-eu").unwrap();
        let user = address(Kind::DatabaseUser, "orders-app");
        fs::write(
            dir.join("DatabaseUser-orders-app.json"),
            r#"{"userId": "u1", "password": "old-Pa55"}"#,
        )
        .unwrap();
        assert!(!has_password(dir, &endpoint, &user, "u2"));
        assert!(has_password(dir, &endpoint, &user, "u1"));
        assert!(!dir.join("DatabaseUser-orders-app.json").exists());
        assert!(dir.join("ovh-eu/DatabaseUser-orders-app/u1.json").exists());
        assert!(has_password(dir, &endpoint, &user, "u1"));
    }

    #[test]
    fn an_intent_is_written_read_and_cleared() {
        let root = tempfile::tempdir().unwrap();
        let endpoint = Endpoint::parse("ovh-eu").unwrap();
        let user = address(Kind::DatabaseUser, "orders-app");
        assert_eq!(intent(root.path(), &endpoint, &user), None);
        write_intent(root.path(), &endpoint, &user, "s1", "app").unwrap();
        let found = intent(root.path(), &endpoint, &user).unwrap();
        assert_eq!(
            (found.service_id.as_str(), found.username.as_str()),
            ("s1", "app")
        );
        clear_intent(root.path(), &endpoint, &user);
        assert_eq!(intent(root.path(), &endpoint, &user), None);
    }

    #[test]
    fn redacted_fields_map_to_the_manifest_secrets() {
        use crate::manifest::model::{HostingSslSpec, SecretRef};
        let env = |name: &str| SecretRef {
            from_env: Some(name.into()),
            from_file: None,
        };
        let spec = Spec::HostingSsl(HostingSslSpec {
            hosting: None,
            certificate: Some(env("CERT")),
            key: Some(env("KEY")),
            chain: None,
        });
        assert_eq!(secret_ref(&spec, "key"), Some(&env("KEY")));
        assert_eq!(secret_ref(&spec, "chain"), None);
        assert_eq!(secret_ref(&spec, "password"), None);
    }
}
