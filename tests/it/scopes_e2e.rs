//! Managed scopes, twins and objects still moving, the real binary against a `sandbox serve`
//! child (issue 9, items 1 to 3 and 5):
//! - twins of a service (two runs at once) are duplicates of the oldest, not an ambiguous scope
//!   that blocks every plan; `--prune` deletes them, never the managed one;
//! - a scope does not shrink when its last manifest goes: the only service of an engine, the
//!   last user of a service, the only domain of a hosting (`manages:`) and a service of an
//!   engine no manifest names are listed, and deleted under `--prune`;
//! - a service an earlier run left CREATING is "in progress" for plan and drift (exit 2 with
//!   `--detailed-exitcode`), and apply waits for it instead of exiting 0 at once.

use crate::cli::ServedSandbox;
use crate::e2e::{api, Workspace, DB, HOSTING, PROJECT, WEB};
use reconcile::ovh::{Client, Method};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

const ANALYTICS: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata:
  name: analytics-db
spec:
  engine: mongodb
  version: "7.0"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
"#;

const ANALYTICS_APP: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseUser
metadata:
  name: analytics-app
spec:
  service: analytics-db
  username: app
  roles: [readWrite@analytics]
"#;

const BILLING: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata:
  name: billing-db
spec:
  engine: postgresql
  version: "16"
  plan: business
  nodes: { flavor: db1-7, region: GRA, count: 2 }
"#;

const WWW: &str = r#"
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata:
  name: shop-www
spec:
  domain: www.shop.example
  path: www
"#;

/// The create `ANALYTICS` plans, as another run (or a person) sends it.
fn analytics_creation() -> Value {
    json!({
        "description": "analytics-db",
        "plan": "production",
        "version": "7.0",
        "nodesPattern": { "flavor": "db2-4", "number": 3, "region": "GRA" },
    })
}

fn sandbox(ready_after: &str) -> ServedSandbox {
    ServedSandbox::start(&[
        "--project",
        PROJECT,
        "--hosting",
        HOSTING,
        "--ready-after",
        ready_after,
    ])
}

async fn call(api: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    api.call(method.clone(), path, body.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
        .body
}

/// Polls `path` until its status is `want`.
async fn wait_status(api: &Client, path: &str, want: &str) {
    let start = Instant::now();
    loop {
        let body = call(api, Method::GET, path, None).await;
        if body["status"] == want {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "{path} never {want}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The live services of `engine`, as (id, createdAt), oldest first by the planner's rule
/// (createdAt, then id).
async fn services(api: &Client, engine: &str) -> Vec<(String, String)> {
    let ids = call(api, Method::GET, &format!("{DB}/{engine}"), None).await;
    let mut out = Vec::new();
    for id in ids.as_array().unwrap() {
        let id = id.as_str().unwrap();
        let service = call(api, Method::GET, &format!("{DB}/{engine}/{id}"), None).await;
        if service["status"] != "DELETING" {
            out.push((
                id.to_owned(),
                service["createdAt"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    out
}

/// Two runs at once left a twin of every service: every plan after exited 1 ("ambiguous: 2
/// live services are named ...") and `plan --prune` planned a delete in the scope it listed
/// as unknown.
#[tokio::test]
async fn twins_are_duplicates_of_the_oldest_and_prune_deletes_only_them() {
    let sandbox = sandbox("1s");
    let api = api(&sandbox.endpoint, 50);
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[
            ("reconcile.yaml", "project: p1\n"),
            ("databases.yaml", &format!("{ANALYTICS}---{ANALYTICS_APP}")),
        ],
    );
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");

    // A second run's create, as another machine would send it.
    let twin = call(
        &api,
        Method::POST,
        &format!("{DB}/mongodb"),
        Some(analytics_creation()),
    )
    .await;
    let twin_path = format!("{DB}/mongodb/{}", twin["id"].as_str().unwrap());
    wait_status(&api, &twin_path, "READY").await;
    let live = services(&api, "mongodb").await;
    assert_eq!(live.len(), 2);
    let ((managed, managed_at), (duplicate, _)) = (&live[0], &live[1]);

    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(
        run.code,
        Some(0),
        "without --prune nothing is to apply: {run:?}"
    );
    let listed = format!("DatabaseService \"analytics-db\" (id {duplicate}, created at ");
    let of = format!(
        "duplicate of DatabaseService/analytics-db (id {managed}, created at {managed_at})"
    );
    assert!(
        run.stdout.contains(&listed) && run.stdout.contains(&of),
        "{run:?}"
    );
    assert!(!run.stdout.contains("Unknown scopes"), "{run:?}");
    assert!(
        !run.stdout.contains("No changes. Live state matches"),
        "{run:?}"
    );

    let (code, plan) = ws.run_json(&["plan", "manifests", "--format", "json"]);
    assert_eq!(code, Some(0));
    assert_eq!(plan["duplicates"][0]["id"], json!(duplicate));
    assert_eq!(plan["duplicates"][0]["ofId"], json!(managed));
    assert_eq!(plan["counts"]["duplicates"], json!(1));

    let run = ws.run(&["plan", "manifests", "--prune", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "- DatabaseService/analytics-db#{duplicate} will be destroyed ({of})"
        )),
        "{run:?}"
    );
    assert!(
        !run.stdout.contains(&format!("id {managed}) will"))
            && run
                .stdout
                .contains("Plan: 0 to create, 0 to update, 1 to delete."),
        "only the twin is deleted: {run:?}"
    );

    // Through the usual gates: --max-deletes 0 refuses, then it goes.
    let run = ws.run(&[
        "apply",
        "manifests",
        "--yes",
        "--prune",
        "--max-deletes",
        "0",
    ]);
    assert_eq!(run.code, Some(6), "{run:?}");
    let run = ws.run(&["apply", "manifests", "--yes", "--prune"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let live = services(&api, "mongodb").await;
    assert_eq!(live, vec![(managed.clone(), managed_at.clone())]);
    let run = ws.run(&["plan", "manifests", "--prune", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{run:?}");
}

/// Removing the last manifest of a scope left its object alive and unlisted: `plan --prune
/// --detailed-exitcode` exited 0 with "No changes. Live state matches the manifests.".
#[tokio::test]
async fn a_scope_keeps_its_objects_when_its_last_manifest_goes() {
    let sandbox = sandbox("1s");
    let api = api(&sandbox.endpoint, 50);
    let defaults = format!("project: p1\nhosting: {HOSTING}\nmanages:\n  hostings: [{HOSTING}]\n");
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[
            ("reconcile.yaml", &defaults),
            ("analytics.yaml", &format!("{ANALYTICS}---{ANALYTICS_APP}")),
            ("billing.yaml", BILLING),
            ("web.yaml", WWW),
        ],
    );
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = ws.run(&["plan", "manifests", "--prune", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run
        .stdout
        .contains("No changes. Live state matches the manifests."));

    // The last DatabaseUser of a service.
    ws.write("analytics.yaml", ANALYTICS);
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains("DatabaseUser ")
            && run.stdout.contains("app@admin on analytics-db")
            && !run.stdout.contains("No changes"),
        "{run:?}"
    );
    let run = ws.run(&["plan", "manifests", "--prune", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stdout
            .contains("- DatabaseUser/analytics-db/app will be destroyed (no manifest names it"),
        "{run:?}"
    );

    // The only mongodb service of the project (postgresql still managed) and the only domain
    // of the hosting (declared under `manages:`).
    ws.write("analytics.yaml", "");
    ws.write("web.yaml", "");
    let run = ws.run(&["plan", "manifests", "--prune", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    for line in [
        "- DatabaseService/analytics-db will be destroyed",
        "- DatabaseUser/analytics-db/app will be destroyed",
        "- HostingAttachedDomain/www.shop.example will be destroyed",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run:?}");
    }

    // A service of an engine no manifest names, in a managed project.
    let redis = call(
        &api,
        Method::POST,
        &format!("{DB}/redis"),
        Some(json!({
            "description": "cache", "plan": "essential", "version": "7.2",
            "nodesPattern": { "flavor": "db1-4", "number": 1, "region": "GRA" },
        })),
    )
    .await;
    let redis_id = redis["id"].as_str().unwrap();
    let run = ws.run(&["plan", "manifests"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "DatabaseService \"cache\" (id {redis_id}) in database redis in project p1"
        )),
        "{run:?}"
    );
    let run = ws.run(&[
        "apply",
        "manifests",
        "--yes",
        "--prune",
        "--max-deletes",
        "4",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = ws.run(&["plan", "manifests", "--prune", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(services(&api, "mongodb").await.is_empty());
    assert!(services(&api, "redis").await.is_empty());
    assert_eq!(services(&api, "postgresql").await.len(), 1);
    let domains = call(&api, Method::GET, &format!("{WEB}/attachedDomain"), None).await;
    assert!(
        !domains.to_string().contains("www.shop.example"),
        "{domains}"
    );
}

/// After a killed run, a re-run with nothing to write exited 0 in about a second while the
/// service that run created was still CREATING (plan and drift exited 0 too).
#[tokio::test]
async fn a_service_left_creating_is_in_progress_and_apply_waits_for_it() {
    let sandbox = sandbox("4s");
    let api = api(&sandbox.endpoint, 50);
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[
            ("reconcile.yaml", "project: p1\n"),
            ("analytics.yaml", ANALYTICS),
        ],
    );
    // What the killed run left: the service created, still CREATING.
    let created = call(
        &api,
        Method::POST,
        &format!("{DB}/mongodb"),
        Some(analytics_creation()),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("{DB}/mongodb/{id}");

    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stdout
            .contains(&format!("DatabaseService/analytics-db (id {id}): CREATING"))
            && run.stdout.contains("1 object still in progress"),
        "{run:?}"
    );
    let (code, report) = ws.run_json(&["drift", "manifests"]);
    assert_eq!(code, Some(2), "{report}");
    assert_eq!(report["status"], "inProgress");
    assert_eq!(report["inProgress"][0]["id"], json!(id));
    let run = ws.run(&["plan", "manifests", "--format", "markdown"]);
    assert!(run.stdout.contains("#### In progress"), "{run:?}");

    let started = Instant::now();
    let run = ws.run(&["apply", "manifests", "--yes", "--timeout", "30s"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("(resumed)"), "{run:?}");
    let status = call(&api, Method::GET, &path, None).await["status"].clone();
    assert_eq!(status, "READY", "apply returned at {:?}", started.elapsed());
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(services(&api, "mongodb").await.len(), 1);
}
