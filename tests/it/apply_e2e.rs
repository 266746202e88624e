//! `reconcile apply`, the real binary against a `sandbox serve` child: from an empty project to
//! convergence, in-place updates, saved plans (and stale ones), the safety gates, faults
//! (5xx, 429, latency, "500 but created"), wait budgets (exit 5, then a re-run resumes), runs
//! killed with SIGKILL at several points, and secrets that never reach an output.
//!
//! Every test ends by counting the objects through the API: exactly one per manifest, whatever
//! happened on the way.

use crate::campaign::{get, Census};
use crate::cli::ServedSandbox;
use crate::e2e::{
    api, Run, Workspace, DB, DEFAULTS, ENV_PASSWORD, HOSTING, HOSTING_MANIFESTS, PROJECT, WEB,
};
use reconcile::ovh::{Client, Method};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The hosting database password of `fromFile` (with `ENV_PASSWORD`): in no output.
const FILE_PASSWORD: &str = "FilePassw0rdZr4Mn";

pub(crate) const DATABASES: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata:
  name: orders-db
spec:
  engine: mongodb
  version: "7.0"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
  ipRestrictions:
    - { ip: 203.0.113.0/24, description: office }
    - { ip: 198.51.100.7/32, description: vpn }
---
apiVersion: reconcile/v1
kind: DatabaseService
metadata:
  name: billing-db
spec:
  engine: postgresql
  version: "16"
  plan: business
  nodes: { flavor: db1-7, region: GRA, count: 2 }
---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata:
  name: orders-app
spec:
  service: orders-db
  username: app
  roles: [readWrite@orders]
---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata:
  name: orders-report
spec:
  service: orders-db
  username: report
  roles: [read@orders]
"#;

/// What only apply's tests run.
impl Workspace {
    /// Starts `reconcile ARGS` without waiting for it (to kill it).
    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("reconcile starts")
    }

    /// `apply manifests --yes ARGS`, run again while it exits 4 (some steps failed: CI re-runs)
    /// up to `attempts` times; the last run.
    fn apply_until_done(&self, args: &[&str], attempts: usize) -> Run {
        let mut all = vec!["apply", "manifests", "--yes"];
        all.extend_from_slice(args);
        let mut run = self.run(&all);
        for _ in 1..attempts {
            if run.code != Some(4) {
                break;
            }
            run = self.run(&all);
        }
        run
    }

    /// `plan --detailed-exitcode` exits 0: the live state matches the manifests.
    pub(crate) fn assert_in_sync(&self) {
        let run = self.run(&["plan", "manifests", "--detailed-exitcode"]);
        assert_eq!(run.code, Some(0), "not in sync: {run:?}");
    }
}

async fn put(api: &Client, path: &str, body: Value) {
    api.call(Method::PUT, path, Some(&body))
        .await
        .unwrap_or_else(|e| panic!("PUT {path}: {e}"));
}

/// One object per manifest of `DATABASES` + `HOSTING_MANIFESTS`.
pub(crate) fn everything() -> Census {
    Census::of(&[
        "domain/www.shop.example",
        "hostingDatabase/shopdb",
        "mongodb/orders-db",
        "mongodb/orders-db/user/app@admin",
        "mongodb/orders-db/user/report@admin",
        "postgresql/billing-db",
    ])
}

pub(crate) fn sandbox(extra: &[&str]) -> ServedSandbox {
    let mut args = vec!["--project", PROJECT, "--hosting", HOSTING];
    args.extend_from_slice(extra);
    ServedSandbox::start(&args)
}

pub(crate) fn full_workspace(endpoint: &str) -> Workspace {
    Workspace::new(
        endpoint,
        &[
            ("reconcile.yaml", DEFAULTS),
            ("databases.yaml", DATABASES),
            ("web/hosting.yml", HOSTING_MANIFESTS),
        ],
    )
}

/// The index of the first stderr line containing all of `parts`.
fn line_of(stderr: &str, parts: &[&str]) -> usize {
    stderr
        .lines()
        .position(|line| parts.iter().all(|p| line.contains(p)))
        .unwrap_or_else(|| panic!("no line with {parts:?} in:\n{stderr}"))
}

#[tokio::test]
async fn apply_converges_updates_in_place_and_the_gates_refuse_before_any_write() {
    let sandbox = sandbox(&["--ready-after", "300ms"]);
    let ws = full_workspace(&sandbox.endpoint);
    let api = api(&sandbox.endpoint, 20);

    // stdin is not a terminal and no --yes: the plan is shown, nothing is done.
    let run = ws.run(&["apply", "manifests"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run
        .stdout
        .contains("Plan: 6 to create, 0 to update, 0 to delete."));
    assert!(
        run.stderr
            .contains("error: stdin is not a terminal: pass --yes"),
        "{run:?}"
    );
    assert_eq!(Census::take(&api).await, Census::default());

    // From an empty project: converged, and a plan right after has nothing to do.
    let run = ws.run(&["apply", "manifests", "--yes", "--out-report", "report.json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("Apply: 6 done, 0 failed, 0 skipped, 0 in progress."),
        "{run:?}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path("report.json")).unwrap()).unwrap();
    assert_eq!(
        (
            &report["status"],
            &report["exitCode"],
            &report["counts"]["done"]
        ),
        (&"converged".into(), &0.into(), &6.into()),
        "{report:#}"
    );
    ws.assert_in_sync();
    assert_eq!(Census::take(&api).await, everything());
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .ends_with("No changes. Live state matches the manifests.\n"),
        "{run:?}"
    );

    // In place: a flavor, the IP list, a user's roles, a domain's path.
    let edited = DATABASES
        .replace("flavor: db2-4", "flavor: db2-8")
        .replace(
            "{ ip: 198.51.100.7/32, description: vpn }",
            "{ ip: 192.0.2.0/28, description: lab }",
        )
        .replace(
            "roles: [readWrite@orders]",
            "roles: [read@orders, readWrite@stats]",
        );
    ws.write("databases.yaml", &edited);
    ws.write(
        "web/hosting.yml",
        &HOSTING_MANIFESTS.replace("path: www", "path: public"),
    );
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("Plan: 0 to create, 3 to update, 0 to delete."),
        "{run:?}"
    );
    ws.assert_in_sync();
    let domain = get(&api, &format!("{WEB}/attachedDomain/www.shop.example")).await;
    assert_eq!(domain["path"], "public");

    // A saved plan: applied as saved when nothing moved...
    let billing_on_15 = edited.replace("flavor: db1-7", "flavor: db1-15");
    ws.write("databases.yaml", &billing_on_15);
    let run = ws.run(&["plan", "manifests", "--out", "plan.json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = ws.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("Plan: 0 to create, 1 to update"),
        "{run:?}"
    );
    ws.assert_in_sync();

    // ... and refused (7) when a live object changed by hand since, naming it.
    ws.write("databases.yaml", &edited);
    let run = ws.run(&["plan", "manifests", "--out", "plan.json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let orders = service_id(&api, "mongodb", "orders-db").await;
    put(
        &api,
        &format!("{DB}/mongodb/{orders}"),
        serde_json::json!({ "flavor": "db2-15" }),
    )
    .await;
    let run = ws.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, Some(7), "{run:?}");
    assert!(
        run.stderr.contains("is stale")
            && run.stderr.contains(&format!(
                "database/p1/mongodb/{orders} (DatabaseService/orders-db)"
            )),
        "{run:?}"
    );
    let billing = service_id(&api, "postgresql", "billing-db").await;
    let billing_flavor = get(&api, &format!("{DB}/postgresql/{billing}")).await["flavor"].clone();
    // Nothing was written: billing-db keeps db1-15 although the saved plan moves it back.
    assert_eq!(billing_flavor, "db1-15");
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    ws.assert_in_sync();

    // Deletion protection: never replaced (nor deleted), and the refusal says how to lift it.
    let protected = edited.replace(
        "nodes: { flavor: db1-7, region: GRA, count: 2 }",
        "nodes: { flavor: db1-7, region: GRA, count: 2 }\n  deletionProtection: true",
    );
    ws.write("databases.yaml", &protected);
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    ws.write(
        "databases.yaml",
        &protected.replace("db1-7, region: GRA", "db1-7, region: SBG"),
    );
    let run = ws.run(&["apply", "manifests", "--yes", "--allow-replace"]);
    assert_eq!(run.code, Some(6), "{run:?}");
    assert!(
        run.stderr
            .contains("DatabaseService/billing-db has deletionProtection on")
            && run.stderr.contains("set `deletionProtection: false`"),
        "{run:?}"
    );
    assert_eq!(service_id(&api, "postgresql", "billing-db").await, billing);

    // A replace of a database service needs --allow-replace.
    ws.write(
        "databases.yaml",
        &edited.replace("region: GRA, count: 3", "region: SBG, count: 3"),
    );
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(6), "{run:?}");
    assert!(
        run.stderr
            .contains("DatabaseService/orders-db must be replaced")
            && run.stderr.contains("--allow-replace"),
        "{run:?}"
    );
    assert_eq!(service_id(&api, "mongodb", "orders-db").await, orders);

    // Prune, children first: the report user goes before its service is replaced. Two
    // deletes (the user, the replace) are over the default --max-deletes 1.
    ws.write(
        "databases.yaml",
        &edited
            .replace("region: GRA, count: 3", "region: SBG, count: 3")
            .split("---")
            .filter(|doc| !doc.contains("name: orders-report"))
            .collect::<Vec<_>>()
            .join("---"),
    );
    let prune = ["apply", "manifests", "--yes", "--prune", "--allow-replace"];
    let run = ws.run(&prune);
    assert_eq!(run.code, Some(6), "{run:?}");
    assert!(
        run.stderr.contains("more than --max-deletes 1") && run.stderr.contains("--max-deletes 2"),
        "{run:?}"
    );
    let run = ws.run(&[&prune[..], &["--max-deletes", "2"]].concat());
    assert_eq!(run.code, Some(0), "{run:?}");
    let user_deleted = line_of(&run.stderr, &["- DatabaseUser/", "report", "deleted in"]);
    let service_replaced = line_of(&run.stderr, &["-/+ DatabaseService/orders-db: replacing"]);
    assert!(user_deleted < service_replaced, "{}", run.stderr);
    ws.assert_in_sync();
    assert_eq!(
        Census::take(&api).await,
        Census::of(&[
            "domain/www.shop.example",
            "hostingDatabase/shopdb",
            "mongodb/orders-db",
            "mongodb/orders-db/user/app@admin",
            "postgresql/billing-db",
        ])
    );
}

/// The id of the service of `engine` described `name` (exactly one).
async fn service_id(api: &Client, engine: &str, name: &str) -> String {
    let mut found = Vec::new();
    for id in get(api, &format!("{DB}/{engine}"))
        .await
        .as_array()
        .unwrap()
    {
        let id = id.as_str().unwrap();
        if get(api, &format!("{DB}/{engine}/{id}")).await["description"] == name {
            found.push(id.to_string());
        }
    }
    assert_eq!(found.len(), 1, "{engine} services named {name}: {found:?}");
    found.pop().unwrap()
}

#[tokio::test]
async fn faults_do_not_stop_convergence_nor_duplicate_anything() {
    // 10% of requests answered 500, a rate limit answering 429, latency.
    let flaky = sandbox(&[
        "--ready-after",
        "300ms",
        "--fail-rate",
        "0.1",
        "--rate-limit",
        "30",
        "--latency",
        "20ms",
    ]);
    let ws = full_workspace(&flaky.endpoint);
    let run = ws.apply_until_done(&[], 3);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(Census::take(&api(&flaky.endpoint, 20)).await, everything());
    drop(flaky);

    // Every create answered 500 after it happened: found by identity and adopted.
    let lying = sandbox(&["--ready-after", "300ms", "--created-but-500", "1.0"]);
    let ws = full_workspace(&lying.endpoint);
    let run = ws.apply_until_done(&[], 3);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("(adopted)"), "{run:?}");
    ws.assert_in_sync();
    assert_eq!(Census::take(&api(&lying.endpoint, 20)).await, everything());
}

#[tokio::test]
async fn a_spent_wait_budget_exits_5_and_the_next_run_resumes_without_duplicates() {
    // Creates take 6 s: long enough that the second run still finds billing-db CREATING on a
    // loaded machine (with 2 s, a slow first run let it reach READY before the second plan,
    // which then had nothing to resume).
    let sandbox = sandbox(&["--ready-after", "6s", "--stuck-pending", "198.51.100.7/32"]);
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[("reconcile.yaml", DEFAULTS), ("databases.yaml", DATABASES)],
    );

    // A budget shorter than the creates: exit 5, what is in progress listed, users skipped.
    let started = Instant::now();
    let run = ws.run(&["apply", "manifests", "--yes", "--timeout", "1s"]);
    assert_eq!(run.code, Some(5), "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        run.stderr
            .contains("the wait budget (--timeout 1s) is spent")
            && run.stderr.contains("DatabaseService/billing-db (CREATING)")
            && run.stderr.contains("DatabaseService/orders-db (CREATING)")
            && run
                .stderr
                .contains("hint: run apply again: it finds them in progress"),
        "{run:?}"
    );

    // The next run waits for them rather than creating them again. billing-db converges and
    // the users are created; the IP entry stuck in PENDING holds orders-db until the budget is
    // spent again (https://github.com/ovh/terraform-provider-ovh/issues/533): exit 5 naming the entry,
    // and still no duplicate.
    let run = ws.run(&["apply", "manifests", "--yes", "--timeout", "12s"]);
    assert_eq!(run.code, Some(5), "{run:?}");
    assert!(
        run.stderr
            .contains("~ DatabaseService/billing-db (resumed)")
            && run.stderr.contains(
                "~ DatabaseService/orders-db: READY, ipRestrictions 198.51.100.7/32 PENDING"
            ),
        "{run:?}"
    );
    assert_eq!(
        Census::take(&api(&sandbox.endpoint, 20)).await,
        Census::of(&[
            "mongodb/orders-db",
            "mongodb/orders-db/user/app@admin",
            "mongodb/orders-db/user/report@admin",
            "postgresql/billing-db",
        ])
    );
}

/// Starts `apply ARGS`, kills it with SIGKILL after `after`.
fn kill_after(ws: &Workspace, args: &[&str], after: Duration) {
    let mut child = ws.spawn(args);
    std::thread::sleep(after);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_run_killed_at_any_point_is_finished_by_the_next_without_duplicates() {
    let sandbox = sandbox(&["--ready-after", "2s"]);
    let ws = full_workspace(&sandbox.endpoint);
    let api = api(&sandbox.endpoint, 20);
    let apply = ["apply", "manifests", "--yes"];

    // Killed during the creates, then during the waits.
    kill_after(&ws, &apply, Duration::from_millis(300));
    kill_after(&ws, &apply, Duration::from_millis(2500));
    assert_ne!(
        Census::take(&api).await,
        Census::default(),
        "killed before any write"
    );
    let run = ws.run(&apply);
    assert_eq!(run.code, Some(0), "{run:?}");
    ws.assert_in_sync();
    assert_eq!(Census::take(&api).await, everything());

    // Killed during a prune's deletes (a user, a hosting database).
    let without_report: String = DATABASES
        .split("---")
        .filter(|doc| !doc.contains("name: orders-report"))
        .collect::<Vec<_>>()
        .join("---");
    ws.write("databases.yaml", &without_report);
    let without_shop_db: String = HOSTING_MANIFESTS
        .split("---")
        .filter(|doc| !doc.contains("name: shop-db"))
        .collect::<Vec<_>>()
        .join("---");
    ws.write("web/hosting.yml", &without_shop_db);
    let prune = [
        "apply",
        "manifests",
        "--yes",
        "--prune",
        "--max-deletes",
        "2",
    ];
    kill_after(&ws, &prune, Duration::from_millis(1000));
    let run = ws.run(&prune);
    assert_eq!(run.code, Some(0), "{run:?}");
    ws.assert_in_sync();
    assert_eq!(
        Census::take(&api).await,
        Census::of(&[
            "domain/www.shop.example",
            "mongodb/orders-db",
            "mongodb/orders-db/user/app@admin",
            "postgresql/billing-db",
        ])
    );
}

/// Every string value under `value`, at any depth, with its key.
fn strings<'v>(value: &'v Value, key: &str, out: &mut Vec<(String, &'v str)>) {
    match value {
        Value::String(s) => out.push((key.to_string(), s)),
        Value::Array(items) => items.iter().for_each(|v| strings(v, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| strings(v, k, out)),
        _ => {}
    }
}

/// The passwords in the secrets files under `dir` (at any depth: the sink is keyed by
/// endpoint, resource and object id), each file checked to be mode 0600.
pub(crate) fn generated_passwords(dir: &Path) -> BTreeMap<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut passwords = BTreeMap::new();
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
        let secret: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut found = Vec::new();
        strings(&secret, "", &mut found);
        let password = found
            .iter()
            .find(|(key, _)| key == "password")
            .unwrap_or_else(|| panic!("no password in {}", path.display()))
            .1;
        assert!(password.len() >= 8, "{}", path.display());
        passwords.insert(path, password.to_string());
    }
    passwords
}

#[tokio::test]
async fn secrets_reach_no_output_and_their_files_are_0600() {
    let sandbox = sandbox(&["--ready-after", "300ms"]);
    let second_database = format!(
        "{HOSTING_MANIFESTS}---
apiVersion: reconcile/v1
kind: HostingDatabase
metadata:
  name: shop-files
spec:
  capability: sqlPerso
  type: mysql
  user: shopfiles
  password: {{ fromFile: shop-files.password }}
"
    );
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[
            ("reconcile.yaml", DEFAULTS),
            ("databases.yaml", DATABASES),
            ("web/hosting.yml", &second_database),
            ("web/shop-files.password", &format!("{FILE_PASSWORD}\n")),
        ],
    );
    let loud = [("RUST_LOG", "trace")];
    let plan = ws.run_with(&["-v", "plan", "manifests", "--out", "plan.json"], &loud);
    assert_eq!(plan.code, Some(0), "{plan:?}");
    let first = ws.run_with(
        &[
            "-v",
            "apply",
            "manifests",
            "--yes",
            "--out-report",
            "first.json",
        ],
        &loud,
    );
    assert_eq!(first.code, Some(0), "{first:?}");
    let secrets = ws.path(".reconcile/secrets");
    let generated = generated_passwords(&secrets);
    assert_eq!(generated.len(), 2, "{generated:?}");
    for path in generated.keys() {
        assert!(first
            .stderr
            .contains(path.file_name().unwrap().to_str().unwrap()));
    }

    // A rotation on purpose: a new password, in the same file.
    let rotated = ws.run_with(
        &[
            "-v",
            "apply",
            "manifests",
            "--yes",
            "--rotate",
            "DatabaseUser/orders-app",
            "--out-report",
            "rotated.json",
        ],
        &loud,
    );
    assert_eq!(rotated.code, Some(0), "{rotated:?}");
    let after = generated_passwords(&secrets);
    let app = generated
        .keys()
        .find(|p| p.to_string_lossy().contains("/DatabaseUser-orders-app/"))
        .expect("a secrets file for orders-app");
    assert_ne!(after[app], generated[app], "not rotated");

    let mut outputs = vec![
        ("plan stdout", plan.stdout.clone()),
        ("plan stderr", plan.stderr.clone()),
        (
            "plan.json",
            std::fs::read_to_string(ws.path("plan.json")).unwrap(),
        ),
    ];
    for (name, run, report) in [
        ("first", &first, "first.json"),
        ("rotated", &rotated, "rotated.json"),
    ] {
        outputs.push((name, run.stdout.clone()));
        outputs.push((name, run.stderr.clone()));
        outputs.push((report, std::fs::read_to_string(ws.path(report)).unwrap()));
    }
    let mut secrets: Vec<&str> = generated
        .values()
        .chain(after.values())
        .map(String::as_str)
        .collect();
    secrets.extend([ENV_PASSWORD, FILE_PASSWORD]);
    for (name, text) in &outputs {
        assert!(!text.is_empty(), "{name} is empty");
        for secret in &secrets {
            assert!(!text.contains(secret), "a secret in {name}:\n{text}");
        }
    }
    assert!(first.stderr.contains("POST"), "no HTTP call logged with -v");
}
