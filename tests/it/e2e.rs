//! What the end-to-end tests of the real binary share (`plan_e2e`, `apply_e2e`): the example
//! project's names and manifests, a workspace to run `reconcile` in, and an API client of
//! its own.

use reconcile::sandbox::{
    DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY,
};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const PROJECT: &str = "p1";
pub const HOSTING: &str = "shop.cluster021.hosting.ovh.net";
pub const DB: &str = "/cloud/project/p1/database";
pub const WEB: &str = "/hosting/web/shop.cluster021.hosting.ovh.net";

/// The hosting database password the manifests name (`fromEnv: SHOP_DB_PASSWORD`): it must
/// appear in no output.
pub const ENV_PASSWORD: &str = "EnvPassw0rdXq7Lk";

pub const DEFAULTS: &str = "\
project: p1
hosting: shop.cluster021.hosting.ovh.net
";

pub const HOSTING_MANIFESTS: &str = r#"
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata:
  name: shop-www
spec:
  domain: www.shop.example
  path: www
  ssl: true
  firewall: active
---
apiVersion: reconcile/v1
kind: HostingDatabase
metadata:
  name: shop-db
spec:
  capability: sqlPerso
  type: mysql
  user: shopdb
  version: "8.0"
  password: { fromEnv: SHOP_DB_PASSWORD }
"#;

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `command` to its end.
    pub fn of(command: &mut Command) -> Run {
        let out = command.output().expect("reconcile runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

/// A manifest directory (`manifests/`) and a way to run the binary on it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
}

impl Workspace {
    pub fn new(endpoint: &str, files: &[(&str, &str)]) -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().unwrap(),
            endpoint: endpoint.to_string(),
        };
        for (name, text) in files {
            ws.write(name, text);
        }
        ws
    }

    /// Writes (or, with empty text, removes) `manifests/NAME`.
    pub fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join("manifests").join(name);
        if text.is_empty() {
            let _ = std::fs::remove_file(path);
            return;
        }
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `reconcile ARGS --endpoint ... <credentials>` in the workspace, with a clean
    /// environment (no `OVH_*`, no `ovh.conf`, no colour), stdin not a terminal.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_as(
            args,
            [
                DEFAULT_APPLICATION_KEY,
                DEFAULT_APPLICATION_SECRET,
                DEFAULT_CONSUMER_KEY,
            ],
        )
    }

    /// `command` with other credentials: application key, application secret, consumer key.
    pub fn command_as(&self, args: &[&str], credentials: [&str; 3]) -> Command {
        let [application_key, application_secret, consumer_key] = credentials;
        let mut command = Command::new(env!("CARGO_BIN_EXE_reconcile"));
        command
            .args(args)
            .args(["--endpoint", &self.endpoint])
            .args(["--application-key", application_key])
            .args(["--application-secret", application_secret])
            .args(["--consumer-key", consumer_key])
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("SHOP_DB_PASSWORD", ENV_PASSWORD)
            .stdin(Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run::of(self.command(args).envs(env.iter().copied()))
    }

    /// A run whose stdout is JSON.
    pub fn run_json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let run = self.run(args);
        let value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:?}"));
        (run.code, value)
    }
}

/// Another client: the reconcile API client, signed with the sandbox's credentials.
pub use crate::campaign::api;
