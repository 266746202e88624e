//! The official clients against the real sandbox binary: python `ovh` 1.2.0 over HTTP and npm
//! `ovh` 2.0.3 over HTTPS each drive `reconcile sandbox serve` through a whole life
//! (`tests/interop/python_lifecycle.py`, `tests/interop/node_lifecycle.js`), and python `ovh`
//! runs RunAbove's Managed Stacks guide on the sandbox's RunAbove endpoint
//! (`tests/interop/python_runabove.py`). A missing python
//! package or `node_modules` fails these tests with the install command; it never skips them.
//!
//! The python peer lives in a virtual environment under the target directory (systems that
//! follow PEP 668 refuse a system-wide `pip install`): `tests/run.sh` makes
//! `target/interop-venv` and exports its interpreter as `INTEROP_PYTHON`; see [`python`].

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PROJECT: &str = "interop-project";
const HOSTING: &str = "interop.cluster021.hosting.ovh.net";
/// How long the sandbox may take to print its `endpoint=` line.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long one script may run; its own waits have 30 s deadlines.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(240);

/// Where `tests/run.sh` makes the python virtual environment, inside the target directory.
const VENV: &str = "interop-venv";
/// How to get the python peer, said by every failure that comes from a missing one.
pub const PYTHON_HINT: &str = "hint: bash tests/run.sh installs it into target/interop-venv, \
or set INTEROP_PYTHON to a python that has `pip install -r tests/interop/requirements.txt`";

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// The python that runs the interop scripts: `$INTEROP_PYTHON` when set (`tests/run.sh`
/// exports it), else the `interop-venv` of the target directory this test binary was built in
/// (`target/debug/deps/it-HASH` -> `target/interop-venv`, found even when `CARGO_TARGET_DIR`
/// moved it), else `python3` on `PATH`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("INTEROP_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(python);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // deps/, the profile directory, the target directory (a --target triple adds one level).
    exe.ancestors()
        .skip(1)
        .take(4)
        .map(|dir| dir.join(VENV).join("bin/python"))
        .find(|python| python.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// `reconcile sandbox serve` on a free port, killed when dropped.
struct ServedSandbox {
    child: Child,
    endpoint: String,
    /// The `runabove_endpoint=` line, which must come right after `endpoint=`.
    runabove_endpoint: String,
    dir: tempfile::TempDir,
}

impl ServedSandbox {
    /// Starts the binary with the interop project and hosting and fast timings, plus `extra`
    /// flags, and waits for its `endpoint=` line.
    fn start(extra: &[&str]) -> ServedSandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr = File::create(dir.path().join("sandbox.stderr")).expect("sandbox stderr file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_reconcile"))
            .args(["sandbox", "serve", "--listen", "127.0.0.1:0"])
            .args([
                "--project",
                PROJECT,
                "--hosting",
                HOSTING,
                "--ready-after",
                "600ms",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the reconcile binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, endpoint_lines) = mpsc::channel();
        std::thread::spawn(move || {
            // The first two lines: `endpoint=URL`, then `runabove_endpoint=URL`.
            let mut first = BufReader::new(stdout).lines().map_while(Result::ok);
            if let (Some(endpoint), Some(runabove)) = (first.next(), first.next()) {
                let _ = lines.send((endpoint, runabove));
            }
            first.for_each(drop);
        });
        let mut sandbox = ServedSandbox {
            child,
            endpoint: String::new(),
            runabove_endpoint: String::new(),
            dir,
        };
        let parsed = endpoint_lines
            .recv_timeout(START_DEADLINE)
            .ok()
            .and_then(|(e, r)| {
                Some((
                    e.strip_prefix("endpoint=")?.to_owned(),
                    r.strip_prefix("runabove_endpoint=")?.to_owned(),
                ))
            });
        match parsed {
            Some((endpoint, runabove)) => {
                sandbox.endpoint = endpoint;
                sandbox.runabove_endpoint = runabove;
            }
            None => panic!(
                "the sandbox printed no endpoint= then runabove_endpoint= line within {START_DEADLINE:?}\n--- sandbox stderr ---\n{}",
                sandbox.stderr()
            ),
        }
        sandbox
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("sandbox.stderr")).unwrap_or_default()
    }

    /// Runs `command` (its output captured to files), kills it after [`SCRIPT_DEADLINE`], and
    /// panics with its output and the sandbox's stderr unless it exits 0.
    fn run_script(&self, name: &str, mut command: Command) {
        let stdout_path = self.path(&format!("{name}.stdout"));
        let stderr_path = self.path(&format!("{name}.stderr"));
        let mut child = command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("SANDBOX_PROJECT", PROJECT)
            .env("SANDBOX_HOSTING", HOSTING)
            .env("PYTHONUNBUFFERED", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env_remove("INTEROP_ONLY")
            // python-ovh reads these when a constructor argument is missing (the OAuth2 client
            // has no application key): keep the developer's real credentials out of the test.
            .env_remove("OVH_ENDPOINT")
            .env_remove("OVH_APPLICATION_KEY")
            .env_remove("OVH_APPLICATION_SECRET")
            .env_remove("OVH_CONSUMER_KEY")
            .env_remove("OVH_CLIENT_ID")
            .env_remove("OVH_CLIENT_SECRET")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path).expect("script stdout file"))
            .stderr(File::create(&stderr_path).expect("script stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the script") {
                break Some(status);
            }
            if start.elapsed() > SCRIPT_DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let output = format!(
            "--- {name} stdout ---\n{}--- {name} stderr ---\n{}--- sandbox stderr ---\n{}",
            std::fs::read_to_string(&stdout_path).unwrap_or_default(),
            std::fs::read_to_string(&stderr_path).unwrap_or_default(),
            self.stderr()
        );
        match status {
            Some(status) if status.success() => eprintln!("{output}"),
            Some(status) => panic!(
                "{name} against {} failed ({status})\n{output}",
                self.endpoint
            ),
            None => panic!(
                "{name} against {} still running after {SCRIPT_DEADLINE:?}, killed\n{output}",
                self.endpoint
            ),
        }
    }
}

impl Drop for ServedSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fails (never skips) when [`python`] cannot run or lacks its `ovh` 1.2.0 package.
fn require_python_ovh() {
    let python = python();
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, ovh; print(m.version('ovh'))",
        ])
        .output();
    let python = python.display();
    match probe {
        Err(e) => {
            panic!("{python} is needed for the interop tests and cannot run: {e}\n{PYTHON_HINT}")
        }
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            panic!("{python} has no python package `ovh` ({last})\n{PYTHON_HINT}")
        }
        Ok(out) => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(
                version, "1.2.0",
                "{python} has python `ovh` {version}, the interop tests pin 1.2.0\n{PYTHON_HINT}"
            );
        }
    }
}

/// Fails (never skips) when `node` or `tests/interop/node_modules/ovh` is missing.
fn require_node_ovh() {
    let hint = "hint: npm ci --prefix tests/interop (or npm install --prefix tests/interop)";
    if let Err(e) = Command::new("node").arg("--version").output() {
        panic!("node is needed for the interop tests and cannot run: {e}\n{hint}");
    }
    let manifest = interop_dir().join("node_modules/ovh/package.json");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "the npm package `ovh` is missing ({}: {e})\n{hint}",
            manifest.display()
        )
    });
    assert!(
        text.contains("\"version\": \"2.0.3\""),
        "tests/interop/node_modules/ovh is not version 2.0.3\n{hint}"
    );
}

#[test]
fn official_python_client_drives_the_sandbox_over_http() {
    require_python_ovh();
    let sandbox = ServedSandbox::start(&[]);
    assert!(
        sandbox.endpoint.starts_with("http://127.0.0.1:"),
        "{}",
        sandbox.endpoint
    );
    let mut python = Command::new(python());
    python
        .arg(interop_dir().join("python_lifecycle.py"))
        .arg(&sandbox.endpoint);
    sandbox.run_script("python_lifecycle.py", python);
}

/// RunAbove's guide, its five calls exactly as written, through python-ovh with a `runabove`
/// endpoint pointing at the sandbox's RunAbove URL.
#[test]
fn official_python_client_runs_the_runabove_guide_as_written() {
    require_python_ovh();
    let sandbox = ServedSandbox::start(&[]);
    let root = sandbox
        .endpoint
        .strip_suffix("/1.0")
        .unwrap_or(&sandbox.endpoint);
    assert_eq!(sandbox.runabove_endpoint, format!("{root}/runabove/1.0"));
    let mut python = Command::new(python());
    python
        .arg(interop_dir().join("python_runabove.py"))
        .arg(&sandbox.runabove_endpoint);
    sandbox.run_script("python_runabove.py", python);
}

#[test]
fn official_node_client_drives_the_sandbox_over_https() {
    require_node_ovh();
    let ca = tempfile::tempdir().expect("temp dir");
    let ca_path = ca.path().join("ca.pem");
    let ca_arg = ca_path.to_str().expect("utf-8 temp path");
    let sandbox = ServedSandbox::start(&["--tls", "--tls-ca-out", ca_arg]);
    assert!(
        sandbox.endpoint.starts_with("https://127.0.0.1:"),
        "{}",
        sandbox.endpoint
    );
    let mut node = Command::new("node");
    node.arg(interop_dir().join("node_lifecycle.js"))
        .arg(&sandbox.endpoint)
        .env("NODE_EXTRA_CA_CERTS", &ca_path);
    sandbox.run_script("node_lifecycle.js", node);
}

/// Python's client speaks HTTP/1.1 over TLS and signs `https://host:port/...`.
#[test]
fn official_python_client_drives_the_sandbox_over_https() {
    require_python_ovh();
    let ca = tempfile::tempdir().expect("temp dir");
    let ca_path = ca.path().join("ca.pem");
    let ca_arg = ca_path.to_str().expect("utf-8 temp path");
    let sandbox = ServedSandbox::start(&["--tls", "--tls-ca-out", ca_arg]);
    assert!(
        sandbox.endpoint.starts_with("https://127.0.0.1:"),
        "{}",
        sandbox.endpoint
    );
    let mut python = Command::new(python());
    python
        .arg(interop_dir().join("python_lifecycle.py"))
        .arg(&sandbox.endpoint)
        // requests trusts REQUESTS_CA_BUNDLE; urllib (the validation page) SSL_CERT_FILE.
        .env("REQUESTS_CA_BUNDLE", &ca_path)
        .env("SSL_CERT_FILE", &ca_path);
    sandbox.run_script("python_lifecycle.py", python);
}

/// reqwest negotiates HTTP/2 over TLS, where requests carry no `Host` header: the sandbox
/// rebuilt the signed URL from `Host` alone and answered every call of
/// `reconcile --ca-cert ca.pem --endpoint https://...` with 400 INVALID_SIGNATURE.
#[test]
fn reconcile_plans_over_http2_against_the_tls_sandbox() {
    let ca = tempfile::tempdir().expect("temp dir");
    let ca_path = ca.path().join("ca.pem");
    let ca_arg = ca_path.to_str().expect("utf-8 temp path");
    let sandbox = ServedSandbox::start(&["--tls", "--tls-ca-out", ca_arg]);
    let workspace = crate::e2e::Workspace::new(
        &sandbox.endpoint,
        &[
            ("reconcile.yaml", &format!("project: {PROJECT}\n")),
            (
                "orders.yaml",
                "apiVersion: reconcile/v1\nkind: DatabaseService\nmetadata: { name: orders-db }\n\
                 spec:\n  engine: mongodb\n  version: \"7.0\"\n  plan: discovery\n  \
                 nodes: { flavor: db2-2, region: GRA, count: 3 }\n",
            ),
        ],
    );
    let run = workspace.run(&["plan", "manifests", "--ca-cert", ca_arg]);
    assert_eq!(
        run.code,
        Some(0),
        "{run:?}\n--- sandbox stderr ---\n{}",
        sandbox.stderr()
    );
    assert!(
        run.stdout.contains("DatabaseService/orders-db"),
        "{}",
        run.stdout
    );
}
