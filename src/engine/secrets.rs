//! Secrets: where the manifest's secrets come from when a body needs them (`secret_ref`), and
//! the secrets sink, where generated passwords go (`write`).
//!
//! The sink is a directory (`--secrets-dir`, created `0700`) with one JSON file per resource,
//! `{Kind}-{name}.json` (e.g. `DatabaseUser-orders-app.json`), mode `0600`, written atomically:
//! a temporary file created `0600` in the same directory, synced, then renamed over the old one,
//! so a reader never sees half a file and a crash leaves the previous one whole. JSON because
//! a service has several endpoints (`mongodb`, `mongodbSrv`, read replicas ...) that a flat
//! `.env` could not hold without inventing names; `jq -r .password` reads it in a script:
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

use crate::manifest::model::{Address, SecretRef, Spec};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file the sink keeps for `address`.
pub fn secrets_path(dir: &Path, address: &Address) -> PathBuf {
    dir.join(format!("{}-{}.json", address.kind, address.name))
}

/// The manifest secret behind a redacted body field (`"***"` in the plan).
pub(crate) fn secret_ref<'s>(spec: &'s Spec, key: &str) -> Option<&'s SecretRef> {
    match (spec, key) {
        (Spec::HostingDatabase(db), "password") => Some(&db.password),
        (Spec::HostingSsl(ssl), "certificate") => ssl.certificate.as_ref(),
        (Spec::HostingSsl(ssl), "key") => ssl.key.as_ref(),
        (Spec::HostingSsl(ssl), "chain") => ssl.chain.as_ref(),
        _ => None,
    }
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

/// Writes the secrets file of a database user; returns its path.
pub(crate) fn write_user(dir: &Path, secret: &UserSecret) -> io::Result<PathBuf> {
    let document = json!({
        "resource": secret.address.to_string(),
        "service": secret.service.to_string(),
        "serviceId": secret.service_id,
        "engine": secret.engine,
        "userId": secret.user_id,
        "username": secret.username,
        "password": secret.password.expose_secret(),
        "endpoints": endpoints(secret.endpoints),
        "writtenAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    let mut text = serde_json::to_vec_pretty(&document).map_err(io::Error::other)?;
    text.push(b'\n');
    let path = secrets_path(dir, secret.address);
    write_private(dir, &path, &text)?;
    Ok(path)
}

/// The user id a secrets file records, if the file exists and reads.
pub(crate) fn recorded_user_id(dir: &Path, address: &Address) -> Option<String> {
    let text = fs::read(secrets_path(dir, address)).ok()?;
    let document: Value = serde_json::from_slice(&text).ok()?;
    document.get("userId")?.as_str().map(str::to_owned)
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
    fn a_user_secret_is_one_private_file_replaced_atomically() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("nested/secrets");
        let user = address(Kind::DatabaseUser, "orders-app");
        let service = address(Kind::DatabaseService, "orders-db");
        let endpoints = json!([{"component": "mongodbSrv", "domain": "h", "port": null,
            "uri": "mongodb+srv://<username>:<password>@h/admin", "ssl": true, "extra": 1}]);
        let write = |password: &str| {
            let password = SecretString::from(password.to_owned());
            write_user(
                &dir,
                &UserSecret {
                    address: &user,
                    service: &service,
                    service_id: "s1",
                    engine: "mongodb",
                    user_id: "u1",
                    username: "app@admin",
                    password: &password,
                    endpoints: &endpoints,
                },
            )
            .unwrap()
        };
        let path = write("first-Pa55");
        assert_eq!(path, dir.join("DatabaseUser-orders-app.json"));
        let path = write("second-Pa55");
        let document: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(document["password"], "second-Pa55");
        assert_eq!(document["userId"], "u1");
        assert_eq!(document["endpoints"][0]["component"], "mongodbSrv");
        assert_eq!(document["endpoints"][0].get("extra"), None);
        assert_eq!(recorded_user_id(&dir, &user).as_deref(), Some("u1"));
        assert_eq!(recorded_user_id(&dir, &service), None);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
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
