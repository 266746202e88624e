//! Credentials and where they come from. `Credentials` is either an application key / secret /
//! consumer key triple or an OAuth2 client id / secret; secrets are `SecretString`.
//!
//! `resolve` finds the endpoint and each credential field the way python-ovh does: explicit
//! values (flags) first, then `OVH_*` environment variables, then python-ovh's ini files
//! (`/etc/ovh.conf`, `~/.ovh.conf`, `./ovh.conf`, later files overriding earlier ones), with a
//! `[default] endpoint=` key and one section per endpoint. It takes the environment as a
//! closure and the files as a list so it can be tested without touching the process.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::endpoint::Endpoint;
use super::error::OvhError;

/// How the client authenticates.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// Signed requests (`X-Ovh-Application`, `X-Ovh-Consumer`, `X-Ovh-Signature`).
    Application {
        application_key: String,
        application_secret: SecretString,
        consumer_key: SecretString,
    },
    /// OAuth2 client-credentials grant; calls carry `Authorization: Bearer`.
    OAuth2 {
        client_id: String,
        client_secret: SecretString,
    },
    /// HTTP Digest (RFC 7616): MongoDB Cloud Manager's public key as the user name and
    /// private key as the password. Never resolved from OVH's settings (`resolve`).
    Digest {
        username: String,
        password: SecretString,
    },
}

impl Credentials {
    /// Application key, application secret and consumer key.
    pub fn application(
        application_key: impl Into<String>,
        application_secret: impl Into<String>,
        consumer_key: impl Into<String>,
    ) -> Self {
        Credentials::Application {
            application_key: application_key.into(),
            application_secret: SecretString::from(application_secret.into()),
            consumer_key: SecretString::from(consumer_key.into()),
        }
    }

    /// OAuth2 client id and client secret (an OVHcloud service account).
    pub fn oauth2(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Credentials::OAuth2 {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
        }
    }

    /// HTTP Digest user name and password (Cloud Manager: public and private API key).
    pub fn digest(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Digest {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// `"application key"`, `"oauth2"` or `"http digest"`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::Application { .. } => "application key",
            Credentials::OAuth2 { .. } => "oauth2",
            Credentials::Digest { .. } => "http digest",
        }
    }
}

/// Values given explicitly, typically from command-line flags. They win over everything.
#[derive(Clone, Debug, Default)]
pub struct ExplicitCredentials {
    pub endpoint: Option<String>,
    pub application_key: Option<String>,
    pub application_secret: Option<SecretString>,
    pub consumer_key: Option<SecretString>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

/// Where one resolved value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An explicit value (a command-line flag), e.g. `--consumer-key`.
    Flag(&'static str),
    /// An environment variable, e.g. `OVH_CONSUMER_KEY`.
    Env(&'static str),
    /// A key in a section of an ini file.
    File { path: PathBuf, section: String },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => f.write_str(flag),
            Source::Env(var) => f.write_str(var),
            Source::File { path, section } => write!(f, "[{section}] in {}", path.display()),
        }
    }
}

/// The endpoint and credentials `resolve` found, and where each came from.
#[derive(Clone, Debug)]
pub struct ResolvedCredentials {
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    /// `(field, source)` for each value used, e.g. `("consumer_key", Env("OVH_CONSUMER_KEY"))`.
    pub sources: Vec<(&'static str, Source)>,
}

/// One field: its ini key (also the `OVH_*` suffix) and the flag that sets it explicitly.
#[derive(Clone, Copy)]
struct Field {
    key: &'static str,
    flag: &'static str,
    env: &'static str,
}

const ENDPOINT: Field = Field {
    key: "endpoint",
    flag: "--endpoint",
    env: "OVH_ENDPOINT",
};
const APPLICATION_KEY: Field = Field {
    key: "application_key",
    flag: "--application-key",
    env: "OVH_APPLICATION_KEY",
};
const APPLICATION_SECRET: Field = Field {
    key: "application_secret",
    flag: "--application-secret",
    env: "OVH_APPLICATION_SECRET",
};
const CONSUMER_KEY: Field = Field {
    key: "consumer_key",
    flag: "--consumer-key",
    env: "OVH_CONSUMER_KEY",
};
const CLIENT_ID: Field = Field {
    key: "client_id",
    flag: "--client-id",
    env: "OVH_CLIENT_ID",
};
const CLIENT_SECRET: Field = Field {
    key: "client_secret",
    flag: "--client-secret",
    env: "OVH_CLIENT_SECRET",
};

/// python-ovh's config files, lowest priority first: `/etc/ovh.conf`, `~/.ovh.conf` (when
/// `home` is known), `./ovh.conf`.
pub fn default_config_paths(home: Option<&Path>) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("/etc/ovh.conf")];
    if let Some(home) = home {
        paths.push(home.join(".ovh.conf"));
    }
    paths.push(PathBuf::from("ovh.conf"));
    paths
}

/// `resolve` with the process environment and `default_config_paths($HOME)`.
pub fn resolve_from_process(
    explicit: &ExplicitCredentials,
) -> Result<ResolvedCredentials, OvhError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let paths = default_config_paths(home.as_deref());
    resolve(explicit, &|name| std::env::var(name).ok(), &paths)
}

/// Finds the endpoint and credentials: `explicit` > `env(OVH_*)` > ini files.
///
/// `config_paths` are read in order, later files overriding earlier keys (python-ovh's
/// order is `default_config_paths`). Missing or unreadable files are skipped, as python does;
/// a malformed file is an error. Empty values count as unset. Each field is resolved on its
/// own, as in python-ovh; a mix of application-key fields and OAuth2 fields is an error that
/// names where each came from.
pub fn resolve(
    explicit: &ExplicitCredentials,
    env: &dyn Fn(&str) -> Option<String>,
    config_paths: &[PathBuf],
) -> Result<ResolvedCredentials, OvhError> {
    let ini = Ini::read_all(config_paths)?;
    let files_text = || {
        config_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let expose = |v: &Option<SecretString>| {
        use secrecy::ExposeSecret;
        v.as_ref().map(|s| s.expose_secret().to_owned())
    };

    // The endpoint: flag, OVH_ENDPOINT, then `[default] endpoint=`.
    let (endpoint_name, endpoint_source) = if let Some(v) = non_empty(explicit.endpoint.clone()) {
        (v, Source::Flag(ENDPOINT.flag))
    } else if let Some(v) = non_empty(env(ENDPOINT.env)) {
        (v, Source::Env(ENDPOINT.env))
    } else if let Some((v, path)) = ini.get(&["default"], ENDPOINT.key) {
        (
            v.to_owned(),
            Source::File {
                path: path.to_owned(),
                section: "default".into(),
            },
        )
    } else {
        return Err(OvhError::config(
            format!(
                "no endpoint given; looked in {}, {} and `[default] endpoint=` in {}",
                ENDPOINT.flag,
                ENDPOINT.env,
                files_text()
            ),
            format!(
                "pass {} with a region ({}) or a url",
                ENDPOINT.flag,
                Endpoint::names().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let endpoint = Endpoint::parse(&endpoint_name).map_err(|e| match e {
        OvhError::Config { message, hint } => OvhError::Config {
            message: format!("{message} (from {endpoint_source})"),
            hint,
        },
        other => other,
    })?;

    // Sections to look in: the endpoint as written, then its canonical name (for aliases).
    let mut sections = vec![endpoint_name.trim().to_owned()];
    if let Some(name) = endpoint.name() {
        if name != sections[0] {
            sections.push(name.to_owned());
        }
    }
    let section_refs: Vec<&str> = sections.iter().map(String::as_str).collect();

    let lookup = |field: Field, explicit: Option<String>| -> Option<(String, Source)> {
        if let Some(v) = non_empty(explicit) {
            return Some((v, Source::Flag(field.flag)));
        }
        if let Some(v) = non_empty(env(field.env)) {
            return Some((v, Source::Env(field.env)));
        }
        ini.get_with_section(&section_refs, field.key)
            .map(|(v, path, section)| {
                (
                    v.to_owned(),
                    Source::File {
                        path: path.to_owned(),
                        section: section.to_owned(),
                    },
                )
            })
    };
    let ak = lookup(APPLICATION_KEY, explicit.application_key.clone());
    let as_ = lookup(APPLICATION_SECRET, expose(&explicit.application_secret));
    let ck = lookup(CONSUMER_KEY, expose(&explicit.consumer_key));
    let id = lookup(CLIENT_ID, explicit.client_id.clone());
    let secret = lookup(CLIENT_SECRET, expose(&explicit.client_secret));

    let looked_in = |field: Field| {
        format!(
            "{}, {} and `{}=` in section [{}] of {}",
            field.flag,
            field.env,
            field.key,
            sections[0],
            files_text()
        )
    };
    let missing = |field: Field, hint: &str| {
        OvhError::config(
            format!(
                "no {} found; looked in {}",
                field.key.replace('_', " "),
                looked_in(field)
            ),
            hint.to_owned(),
        )
    };

    let application_side = [
        (APPLICATION_KEY, &ak),
        (APPLICATION_SECRET, &as_),
        (CONSUMER_KEY, &ck),
    ];
    let oauth2_side = [(CLIENT_ID, &id), (CLIENT_SECRET, &secret)];
    let first_present = |side: &[(Field, &Option<(String, Source)>)]| {
        side.iter()
            .find_map(|(f, v)| v.as_ref().map(|(_, src)| (f.key, src.clone())))
    };
    if let (Some((app_key, app_src)), Some((oauth_key, oauth_src))) = (
        first_present(&application_side),
        first_present(&oauth2_side),
    ) {
        return Err(OvhError::config(
            format!(
                "both application-key and oauth2 credentials are set: {app_key} from {app_src}, {oauth_key} from {oauth_src}"
            ),
            "use either an application key, application secret and consumer key, or an oauth2 client id and client secret, and unset the other".to_owned(),
        ));
    }

    let mut sources = vec![("endpoint", endpoint_source)];
    let credentials = if id.is_some() || secret.is_some() {
        let Some((client_id, id_src)) = id else {
            return Err(missing(
                CLIENT_ID,
                "an oauth2 client secret needs its client id",
            ));
        };
        let Some((client_secret, secret_src)) = secret else {
            return Err(missing(
                CLIENT_SECRET,
                "an oauth2 client id needs its client secret",
            ));
        };
        if endpoint.oauth2_token_url().is_none() {
            return Err(OvhError::config(
                format!("oauth2 is not available on endpoint {endpoint}"),
                "use ovh-eu, ovh-ca or ovh-us, or an application key, secret and consumer key"
                    .to_owned(),
            ));
        }
        sources.push(("client_id", id_src));
        sources.push(("client_secret", secret_src));
        Credentials::oauth2(client_id, client_secret)
    } else {
        let hint_app = "create an application at https://eu.api.ovh.com/createApp/ (or your region's), or use an oauth2 client id and secret";
        let Some((application_key, ak_src)) = ak else {
            if as_.is_none() && ck.is_none() {
                return Err(OvhError::config(
                    format!(
                        "no credentials found; looked in {} (or {})",
                        looked_in(APPLICATION_KEY),
                        looked_in(CLIENT_ID)
                    ),
                    format!(
                        "set {}, {} and {}, or {} and {}",
                        APPLICATION_KEY.env,
                        APPLICATION_SECRET.env,
                        CONSUMER_KEY.env,
                        CLIENT_ID.env,
                        CLIENT_SECRET.env
                    ),
                ));
            }
            return Err(missing(APPLICATION_KEY, hint_app));
        };
        let Some((application_secret, as_src)) = as_ else {
            return Err(missing(
                APPLICATION_SECRET,
                "the application secret was shown with the application key when it was created",
            ));
        };
        let Some((consumer_key, ck_src)) = ck else {
            return Err(missing(
                CONSUMER_KEY,
                "request one with POST /auth/credential (access rules for the routes you manage), then open its validation url",
            ));
        };
        sources.push(("application_key", ak_src));
        sources.push(("application_secret", as_src));
        sources.push(("consumer_key", ck_src));
        Credentials::application(application_key, application_secret, consumer_key)
    };
    Ok(ResolvedCredentials {
        endpoint,
        credentials,
        sources,
    })
}

/// The keys of python-ovh's ini files, merged across files: section -> key -> (value, file).
///
/// A subset of python's `RawConfigParser`: `[section]` headers, `key = value` or
/// `key: value`, keys case-insensitive, `#` and `;` comment lines, indented continuation
/// lines, and `[DEFAULT]` values inherited by every section.
#[derive(Default)]
struct Ini {
    sections: BTreeMap<String, BTreeMap<String, (String, PathBuf)>>,
}

impl Ini {
    fn read_all(paths: &[PathBuf]) -> Result<Self, OvhError> {
        let mut ini = Ini::default();
        for path in paths {
            match std::fs::read_to_string(path) {
                Ok(text) => ini.parse(&text, path)?,
                Err(err) => {
                    // python's ConfigParser.read skips files it cannot open.
                    tracing::debug!(path = %path.display(), error = %err, "skipping ovh config file");
                }
            }
        }
        Ok(ini)
    }

    fn parse(&mut self, text: &str, path: &Path) -> Result<(), OvhError> {
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let malformed = |what: &str| {
                OvhError::config(
                    format!("{}:{line_no}: {what}", path.display()),
                    "the file uses python-ovh's ini format: `[default]` with `endpoint=ovh-eu`, then `[ovh-eu]` with `application_key=`, `application_secret=`, `consumer_key=`".to_owned(),
                )
            };
            if raw.starts_with([' ', '\t']) {
                // A continuation of the previous value.
                let (Some(sec), Some(key)) = (&section, &last_key) else {
                    return Err(malformed("indented line outside a value"));
                };
                if let Some((value, _)) = self
                    .sections
                    .get_mut(sec)
                    .and_then(|keys| keys.get_mut(key))
                {
                    value.push('\n');
                    value.push_str(trimmed);
                }
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[') {
                let Some(name) = header.strip_suffix(']') else {
                    return Err(malformed("section header without `]`"));
                };
                section = Some(name.to_owned());
                last_key = None;
                self.sections.entry(name.to_owned()).or_default();
                continue;
            }
            let Some(sec) = &section else {
                return Err(malformed("key outside a [section]"));
            };
            let split_at = trimmed.find(['=', ':']);
            let (key, value) = match split_at {
                Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
                None => return Err(malformed("expected `key = value`")),
            };
            let key = key.trim().to_ascii_lowercase();
            self.sections
                .entry(sec.clone())
                .or_default()
                .insert(key.clone(), (value.trim().to_owned(), path.to_owned()));
            last_key = Some(key);
        }
        Ok(())
    }

    fn get(&self, sections: &[&str], key: &str) -> Option<(&str, &Path)> {
        self.get_with_section(sections, key)
            .map(|(value, path, _)| (value, path))
    }

    /// The first non-empty `key` in `sections` (then `[DEFAULT]`), with its file and section.
    fn get_with_section(&self, sections: &[&str], key: &str) -> Option<(&str, &Path, &str)> {
        sections
            .iter()
            .copied()
            .chain(std::iter::once("DEFAULT"))
            .find_map(|section| {
                let (name, keys) = self.sections.get_key_value(section)?;
                let (value, path) = keys.get(key)?;
                (!value.is_empty()).then_some((value.as_str(), path.as_path(), name.as_str()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn app(resolved: &ResolvedCredentials) -> (String, String, String) {
        match &resolved.credentials {
            Credentials::Application {
                application_key,
                application_secret,
                consumer_key,
            } => (
                application_key.clone(),
                application_secret.expose_secret().to_owned(),
                consumer_key.expose_secret().to_owned(),
            ),
            other => panic!("expected application credentials, got {other:?}"),
        }
    }

    fn source_of(resolved: &ResolvedCredentials, field: &str) -> String {
        resolved
            .sources
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, s)| s.to_string())
            .unwrap()
    }

    const ETC: &str = "[default]\nendpoint=ovh-ca\n\n[ovh-ca]\napplication_key=etc-ak\napplication_secret=etc-as\nconsumer_key=etc-ck\n[ovh-eu]\napplication_key=etc-eu-ak\napplication_secret=etc-eu-as\nconsumer_key=etc-eu-ck\n";
    const HOME: &str = "; user file\n[ovh-ca]\nconsumer_key = home-ck\n";
    const CWD: &str = "# project file\n[ovh-ca]\napplication_secret: cwd-as\n";

    #[test]
    fn later_files_override_earlier_ones_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![
            write(&dir, "etc.conf", ETC),
            write(&dir, "home.conf", HOME),
            dir.path().join("missing.conf"),
            write(&dir, "cwd.conf", CWD),
        ];
        let r = resolve(&ExplicitCredentials::default(), &env_of(&[]), &paths).unwrap();
        assert_eq!(r.endpoint.name(), Some("ovh-ca"));
        assert_eq!(
            app(&r),
            ("etc-ak".into(), "cwd-as".into(), "home-ck".into())
        );
        assert!(source_of(&r, "consumer_key").ends_with("home.conf"));
        assert_eq!(
            source_of(&r, "endpoint"),
            format!("[default] in {}", paths[0].display())
        );
    }

    #[test]
    fn env_beats_files_and_flags_beat_env() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![write(&dir, "etc.conf", ETC)];
        let env = env_of(&[
            ("OVH_ENDPOINT", "ovh-eu"),
            ("OVH_CONSUMER_KEY", "env-ck"),
            ("OVH_APPLICATION_SECRET", ""), // empty counts as unset
        ]);
        let r = resolve(&ExplicitCredentials::default(), &env, &paths).unwrap();
        assert_eq!(r.endpoint.name(), Some("ovh-eu"));
        // The section follows the endpoint that won (ovh-eu), not [default]'s.
        assert_eq!(
            app(&r),
            ("etc-eu-ak".into(), "etc-eu-as".into(), "env-ck".into())
        );
        assert_eq!(source_of(&r, "consumer_key"), "OVH_CONSUMER_KEY");

        let explicit = ExplicitCredentials {
            endpoint: Some("ovh-ca".into()),
            consumer_key: Some("flag-ck".into()),
            ..Default::default()
        };
        let r = resolve(&explicit, &env, &paths).unwrap();
        assert_eq!(r.endpoint.name(), Some("ovh-ca"));
        assert_eq!(
            app(&r),
            ("etc-ak".into(), "etc-as".into(), "flag-ck".into())
        );
        assert_eq!(source_of(&r, "consumer_key"), "--consumer-key");
        assert_eq!(source_of(&r, "endpoint"), "--endpoint");
    }

    #[test]
    fn oauth2_from_env_and_url_endpoint_sections() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![write(
            &dir,
            "ovh.conf",
            "[http://127.0.0.1:8080/1.0]\nclient_id=cid\nclient_secret=csecret\n",
        )];
        let env = env_of(&[("OVH_ENDPOINT", "http://127.0.0.1:8080/1.0")]);
        let r = resolve(&ExplicitCredentials::default(), &env, &paths).unwrap();
        match r.credentials {
            Credentials::OAuth2 {
                client_id,
                client_secret,
            } => {
                assert_eq!(client_id, "cid");
                assert_eq!(client_secret.expose_secret(), "csecret");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alias_endpoints_fall_back_to_the_canonical_section() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![write(
            &dir,
            "ovh.conf",
            "[kimsufi-eu]\napplication_key=a\napplication_secret=b\nconsumer_key=c\n",
        )];
        let env = env_of(&[("OVH_ENDPOINT", "ks-eu")]);
        let r = resolve(&ExplicitCredentials::default(), &env, &paths).unwrap();
        assert_eq!(app(&r), ("a".into(), "b".into(), "c".into()));
    }

    #[test]
    fn mixing_application_key_and_oauth2_is_refused_naming_both_sources() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![write(&dir, "etc.conf", ETC)];
        let env = env_of(&[("OVH_CLIENT_ID", "cid"), ("OVH_CLIENT_SECRET", "cs")]);
        let err = resolve(&ExplicitCredentials::default(), &env, &paths)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("both application-key and oauth2 credentials are set"),
            "{err}"
        );
        assert!(err.contains("application_key from [ovh-ca] in"), "{err}");
        assert!(err.contains("client_id from OVH_CLIENT_ID"), "{err}");
    }

    #[test]
    fn missing_credentials_name_every_place_looked() {
        let dir = tempfile::tempdir().unwrap();
        let paths = vec![dir.path().join("nope.conf")];
        let err = resolve(&ExplicitCredentials::default(), &env_of(&[]), &paths)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no endpoint given"), "{err}");
        for needle in ["--endpoint", "OVH_ENDPOINT", "nope.conf"] {
            assert!(err.contains(needle), "{needle} in {err}");
        }

        let env = env_of(&[("OVH_ENDPOINT", "ovh-eu")]);
        let err = resolve(&ExplicitCredentials::default(), &env, &paths)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no credentials found"), "{err}");
        for needle in [
            "--application-key",
            "OVH_APPLICATION_KEY",
            "--client-id",
            "OVH_CLIENT_ID",
            "[ovh-eu]",
            "nope.conf",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }

        let env = env_of(&[
            ("OVH_ENDPOINT", "ovh-eu"),
            ("OVH_APPLICATION_KEY", "ak"),
            ("OVH_APPLICATION_SECRET", "as"),
        ]);
        let err = resolve(&ExplicitCredentials::default(), &env, &paths)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no consumer key found"), "{err}");
        assert!(err.contains("--consumer-key, OVH_CONSUMER_KEY"), "{err}");
        assert!(err.contains("POST /auth/credential"), "{err}");
    }

    #[test]
    fn bad_endpoint_and_oauth2_on_kimsufi_are_refused() {
        let env = env_of(&[("OVH_ENDPOINT", "http://example.com/1.0")]);
        let err = resolve(&ExplicitCredentials::default(), &env, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("refusing plain http"), "{err}");
        assert!(err.contains("(from OVH_ENDPOINT)"), "{err}");

        let env = env_of(&[
            ("OVH_ENDPOINT", "kimsufi-eu"),
            ("OVH_CLIENT_ID", "a"),
            ("OVH_CLIENT_SECRET", "b"),
        ]);
        let err = resolve(&ExplicitCredentials::default(), &env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("oauth2 is not available on endpoint kimsufi-eu"),
            "{err}"
        );
    }

    #[test]
    fn ini_details_follow_python_configparser() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[DEFAULT]\napplication_key = shared-ak\n\n[ovh-eu]\nApplication_Secret = s\n  continued\nconsumer_key=\nconsumer_key: ck\n";
        let paths = vec![write(&dir, "a.conf", text)];
        let env = env_of(&[("OVH_ENDPOINT", "ovh-eu")]);
        let r = resolve(&ExplicitCredentials::default(), &env, &paths).unwrap();
        assert_eq!(
            app(&r),
            ("shared-ak".into(), "s\ncontinued".into(), "ck".into())
        );

        let bad = vec![write(&dir, "bad.conf", "application_key=x\n")];
        let err = resolve(&ExplicitCredentials::default(), &env, &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.conf:1: key outside a [section]"), "{err}");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::application("ak", "very-secret-as", "very-secret-ck");
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
