//! The official Terraform provider (`ovh/ovh` 2.19.0) against the sandbox binary, unchanged:
//! init, plan, apply (a mongodb and a postgresql service with IP restrictions, a user on each),
//! a plan with no changes, an update (one more IP, other roles), destroy, and a plan with
//! nothing left. After each apply, `reconcile plan` on manifests written to match sees no
//! change either: both tools see the same world.
//!
//! Terraform is found on `PATH`; the provider through `RECONCILE_TF_PROVIDER_OVH` (the
//! `terraform-provider-ovh` binary, or its `.xz`). When either is missing the test prints
//! `skipped: terraform interop (why)` and passes; `.ci/run` sets both. Terraform never reaches
//! the network: its CLI configuration names only a filesystem mirror holding the provider, and
//! `CHECKPOINT_DISABLE=1` turns off its version check.

use crate::e2e::{self, Workspace};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The environment variable naming the provider binary (or its `.xz`).
const PROVIDER_ENV: &str = "RECONCILE_TF_PROVIDER_OVH";
const PROVIDER_VERSION: &str = "2.19.0";
const PROJECT: &str = "tf-project";
/// How long one terraform command may run: the provider waits 30 s before its first look at a
/// new service and polls every 10 s after, whatever the sandbox's timings.
const COMMAND_DEADLINE: Duration = Duration::from_secs(300);

/// Where the test finds what it needs, or why it cannot run.
struct Peers {
    terraform: PathBuf,
    provider: PathBuf,
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn peers() -> Result<Peers, String> {
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err("the provider peer is built for linux_amd64 only".into());
    }
    let terraform = find_on_path("terraform").ok_or_else(|| "no terraform on PATH".to_string())?;
    let provider = std::env::var_os(PROVIDER_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| format!("{PROVIDER_ENV} is not set"))?;
    if !provider.is_file() {
        return Err(format!(
            "{PROVIDER_ENV}={} is not a file",
            provider.display()
        ));
    }
    Ok(Peers {
        terraform,
        provider,
    })
}

/// A filesystem mirror holding the provider, and the CLI configuration that names only it.
fn install_provider(provider: &Path, dir: &Path) -> PathBuf {
    let mirror = dir.join("mirror");
    let platform_dir = mirror.join(format!(
        "registry.terraform.io/ovh/ovh/{PROVIDER_VERSION}/linux_amd64"
    ));
    std::fs::create_dir_all(&platform_dir).unwrap();
    let binary = platform_dir.join(format!("terraform-provider-ovh_v{PROVIDER_VERSION}"));
    if provider.extension().is_some_and(|e| e == "xz") {
        let status = Command::new("xz")
            .arg("-dc")
            .arg(provider)
            .stdout(File::create(&binary).unwrap())
            .status()
            .unwrap_or_else(|e| panic!("cannot run xz to unpack {}: {e}", provider.display()));
        assert!(status.success(), "xz -dc {} failed", provider.display());
    } else {
        std::fs::copy(provider, &binary).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let rc = dir.join("terraformrc");
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/ovh/ovh\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap();
    rc
}

/// `reconcile sandbox serve` on a free port with fast timings, killed when dropped.
struct ServedSandbox {
    child: Child,
    endpoint: String,
    stderr: PathBuf,
}

impl ServedSandbox {
    fn start(dir: &Path) -> ServedSandbox {
        let stderr = dir.join("sandbox.stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_reconcile"))
            .args(["sandbox", "serve", "--listen", "127.0.0.1:0"])
            .args(["--project", PROJECT, "--ready-after", "1s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .expect("the reconcile binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(endpoint) = line.strip_prefix("endpoint=") {
                    let _ = tx.send(endpoint.to_string());
                }
            }
        });
        let mut sandbox = ServedSandbox {
            child,
            endpoint: String::new(),
            stderr,
        };
        sandbox.endpoint = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the sandbox printed no endpoint= line\n{}", sandbox.log()));
        sandbox
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for ServedSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Terraform working directory wired to the mirror, with a clean environment.
struct Terraform {
    binary: PathBuf,
    dir: PathBuf,
    rc: PathBuf,
}

impl Terraform {
    /// Runs `terraform ARGS` and returns its exit code; panics with its output when the code
    /// is not `want` or it outlives [`COMMAND_DEADLINE`].
    fn run(&self, args: &[&str], want: i32, sandbox: &ServedSandbox) -> String {
        let name = args[0];
        let out = self.dir.join(format!("{name}.out"));
        let mut child = Command::new(&self.binary)
            .args(args)
            .args(["-no-color", "-input=false"])
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("TF_CLI_CONFIG_FILE", &self.rc)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(Stdio::from(
                File::options().append(true).open(&out).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run terraform: {e}"));
        let start = Instant::now();
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if start.elapsed() > COMMAND_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let output = std::fs::read_to_string(&out).unwrap_or_default();
        assert_eq!(
            code,
            Some(want),
            "terraform {} (after {:?})\n--- terraform output ---\n{output}\n--- sandbox stderr ---\n{}",
            args.join(" "),
            start.elapsed(),
            sandbox.log()
        );
        eprintln!(
            "terraform {}: exit {want} after {:?}",
            args.join(" "),
            start.elapsed()
        );
        output
    }
}

/// The Terraform configuration: two services and a user on each.
fn configuration(
    endpoint: &str,
    ips: &[(&str, &str)],
    mongo_roles: &str,
    pg_roles: &str,
) -> String {
    let restrictions: String = ips
        .iter()
        .map(|(ip, description)| {
            format!("  ip_restrictions {{\n    ip          = \"{ip}\"\n    description = \"{description}\"\n  }}\n")
        })
        .collect();
    format!(
        r#"terraform {{
  required_providers {{
    ovh = {{
      source  = "ovh/ovh"
      version = "{PROVIDER_VERSION}"
    }}
  }}
}}

provider "ovh" {{
  endpoint           = "{endpoint}"
  application_key    = "{ak}"
  application_secret = "{as_}"
  consumer_key       = "{ck}"
}}

resource "ovh_cloud_project_database" "orders" {{
  service_name = "{PROJECT}"
  description  = "orders-db"
  engine       = "mongodb"
  version      = "7.0"
  plan         = "discovery"
  flavor       = "db2-2"
  nodes {{ region = "GRA" }}
  nodes {{ region = "GRA" }}
  nodes {{ region = "GRA" }}
{restrictions}}}

resource "ovh_cloud_project_database" "analytics" {{
  service_name = "{PROJECT}"
  description  = "analytics-db"
  engine       = "postgresql"
  version      = "16"
  plan         = "essential"
  flavor       = "db1-4"
  nodes {{ region = "GRA" }}
{restrictions}}}

resource "ovh_cloud_project_database_mongodb_user" "app" {{
  service_name = "{PROJECT}"
  cluster_id   = ovh_cloud_project_database.orders.id
  name         = "app"
  roles        = {mongo_roles}
}}

resource "ovh_cloud_project_database_postgresql_user" "report" {{
  service_name = "{PROJECT}"
  cluster_id   = ovh_cloud_project_database.analytics.id
  name         = "report"
  roles        = {pg_roles}
}}
"#,
        ak = reconcile::sandbox::DEFAULT_APPLICATION_KEY,
        as_ = reconcile::sandbox::DEFAULT_APPLICATION_SECRET,
        ck = reconcile::sandbox::DEFAULT_CONSUMER_KEY,
    )
}

/// The same objects as reconcile manifests.
fn manifests(ips: &[(&str, &str)], mongo_roles: &str, pg_roles: &str) -> String {
    let restrictions: String = ips
        .iter()
        .map(|(ip, description)| format!("    - {{ ip: {ip}, description: {description} }}\n"))
        .collect();
    format!(
        r#"apiVersion: reconcile/v1
kind: DatabaseService
metadata: {{ name: orders-db }}
spec:
  engine: mongodb
  version: "7.0"
  plan: discovery
  nodes: {{ flavor: db2-2, region: GRA, count: 3 }}
  ipRestrictions:
{restrictions}---
apiVersion: reconcile/v1
kind: DatabaseService
metadata: {{ name: analytics-db }}
spec:
  engine: postgresql
  version: "16"
  plan: essential
  nodes: {{ flavor: db1-4, region: GRA, count: 1 }}
  ipRestrictions:
{restrictions}---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata: {{ name: orders-app }}
spec:
  service: orders-db
  username: app
  roles: {mongo_roles}
---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata: {{ name: analytics-report }}
spec:
  service: analytics-db
  username: report
  roles: {pg_roles}
"#
    )
}

/// `reconcile plan --detailed-exitcode` on `manifests`: exit 0, no change.
fn reconcile_sees_no_change(workspace: &Workspace, manifests: &str) {
    workspace.write("databases.yaml", manifests);
    let run = workspace.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(
        run.code,
        Some(0),
        "reconcile plan sees a difference where terraform sees none\n{run:?}"
    );
}

#[test]
fn terraform_with_the_official_provider_and_reconcile_see_the_same_sandbox() {
    let peers = match peers() {
        Ok(peers) => peers,
        Err(why) => {
            println!("skipped: terraform interop ({why})");
            eprintln!("skipped: terraform interop ({why})");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let rc = install_provider(&peers.provider, dir.path());
    let sandbox = ServedSandbox::start(dir.path());
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let tf = Terraform {
        binary: peers.terraform,
        dir: work.clone(),
        rc,
    };
    let workspace = Workspace::new(
        &sandbox.endpoint,
        &[("reconcile.yaml", &format!("project: {PROJECT}\n"))],
    );
    let write = |text: String| std::fs::write(work.join("main.tf"), text).unwrap();

    let office = [("203.0.113.0/24", "office")];
    write(configuration(
        &sandbox.endpoint,
        &office,
        r#"["readWrite@orders"]"#,
        "[]",
    ));
    tf.run(&["init"], 0, &sandbox);
    tf.run(&["plan", "-detailed-exitcode"], 2, &sandbox);
    tf.run(&["apply", "-auto-approve"], 0, &sandbox);
    tf.run(&["plan", "-detailed-exitcode"], 0, &sandbox);
    reconcile_sees_no_change(&workspace, &manifests(&office, "[readWrite@orders]", "[]"));

    // One more IP on both services, other roles on both users.
    let office_and_ci = [
        ("203.0.113.0/24", "office"),
        ("198.51.100.7/32", "ci runner"),
    ];
    write(configuration(
        &sandbox.endpoint,
        &office_and_ci,
        r#"["read@orders"]"#,
        r#"["replication"]"#,
    ));
    let plan = tf.run(&["plan", "-detailed-exitcode"], 2, &sandbox);
    assert!(plan.contains("4 to change"), "{plan}");
    tf.run(&["apply", "-auto-approve"], 0, &sandbox);
    tf.run(&["plan", "-detailed-exitcode"], 0, &sandbox);
    reconcile_sees_no_change(
        &workspace,
        &manifests(&office_and_ci, "[read@orders]", "[replication]"),
    );

    tf.run(&["destroy", "-auto-approve"], 0, &sandbox);
    let last = tf.run(&["plan", "-destroy", "-detailed-exitcode"], 0, &sandbox);
    assert!(last.contains("No changes"), "{last}");
    let services = tokio::runtime::Runtime::new().unwrap().block_on(async {
        e2e::api(&sandbox.endpoint, 50)
            .get::<serde_json::Value>(&format!("/cloud/project/{PROJECT}/database/service"))
            .await
            .expect("the sandbox lists the project's services")
    });
    assert_eq!(
        services,
        serde_json::json!([]),
        "terraform destroy left services behind"
    );
}
