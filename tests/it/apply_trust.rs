//! Issue 9, "trust": what happens around a run, the real binary against a `sandbox serve`
//! child. Two applies at once (a fresh lookup before each create, the run lock, secrets files
//! keyed by endpoint and object id), passwords never silently lost (intents), a verification
//! that reads what the run changed (an SSL regeneration), and saved plans that belong to one
//! API and one account.

use crate::apply_e2e::{everything, full_workspace, sandbox, DATABASES};
use crate::campaign::{get, Census};
use crate::e2e::{api, Workspace, DB, DEFAULTS, WEB};
use std::time::{Duration, Instant};

const SHOP_WWW: &str = r#"
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata: { name: shop-www }
spec: { domain: www.shop.example, path: www, ssl: true }
---
apiVersion: reconcile/v1
kind: HostingSsl
metadata: { name: shop-ssl }
spec: {}
"#;

const SHOP_APEX: &str = r#"
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata: { name: shop-apex }
spec: { domain: shop.example, path: www, ssl: true }
"#;

/// Issue 9 item 6: after `POST .../ssl/regenerate`, apply's verification compared the SSL
/// domains with the answer read before the write and exited 1 "did not converge", while a
/// plan right after exited 0.
#[tokio::test]
async fn the_verification_reads_the_ssl_domains_a_regeneration_changed() {
    let sandbox = sandbox(&["--ready-after", "300ms"]);
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[("reconcile.yaml", DEFAULTS), ("web/shop.yaml", SHOP_WWW)],
    );
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");

    // A second domain with ssl: the certificate no longer covers it and is regenerated.
    ws.write("web/apex.yaml", SHOP_APEX);
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert!(
        run.stdout.contains("~ HostingSsl/shop-ssl"),
        "no regeneration planned: {run:?}"
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.contains("did not converge"), "{run:?}");
    ws.assert_in_sync();
    let domains = get(&api(&sandbox.endpoint, 20), &format!("{WEB}/ssl/domains")).await;
    assert_eq!(
        domains,
        serde_json::json!(["shop.example", "www.shop.example"]),
        "{domains}"
    );
    let census = Census::take(&api(&sandbox.endpoint, 20)).await;
    assert_eq!(
        census,
        Census::of(&["domain/shop.example", "domain/www.shop.example"])
    );
}

/// Issue 9 item 8: `plan --out plan.json` against one API, then `apply plan.json` against
/// another created everything there (exit 0). A saved plan records the endpoint and the
/// credential (and the account when `/auth/details` says it); elsewhere it is refused, exit 7.
#[tokio::test]
async fn a_saved_plan_is_refused_on_another_api_or_with_another_credential() {
    let here = sandbox(&["--ready-after", "300ms"]);
    let elsewhere = sandbox(&["--ready-after", "300ms"]);
    let files = [("reconcile.yaml", DEFAULTS), ("web/shop.yaml", SHOP_WWW)];
    let ws = Workspace::new(&here.endpoint, &files);
    let run = ws.run(&["plan", "manifests", "--out", "plan.json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path("plan.json")).unwrap()).unwrap();
    assert_eq!(
        saved["identity"]["endpoint"],
        here.endpoint.trim_end_matches('/'),
        "{saved:#}"
    );
    assert_eq!(
        saved["identity"]["applicationKey"],
        reconcile::sandbox::DEFAULT_APPLICATION_KEY
    );

    // The same manifests and plan, applied against the other API.
    let other = Workspace::new(&elsewhere.endpoint, &files);
    std::fs::copy(ws.path("plan.json"), other.path("plan.json")).unwrap();
    let run = other.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, Some(7), "{run:?}");
    assert!(
        run.stderr.contains("belongs to another API or account")
            && run.stderr.contains(&format!(
                "the plan was made against {}, this run talks to {}",
                here.endpoint.trim_end_matches('/'),
                elsewhere.endpoint.trim_end_matches('/')
            )),
        "{run:?}"
    );
    assert_eq!(
        Census::take(&api(&elsewhere.endpoint, 20)).await,
        Census::default(),
        "written to the other API"
    );

    // Another credential (here, the recorded key edited): refused, naming both.
    let mut edited = saved.clone();
    edited["identity"]["applicationKey"] = "another-application".into();
    std::fs::write(ws.path("plan.json"), edited.to_string()).unwrap();
    let run = ws.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, Some(7), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "the plan was made with application key another-application, this run uses application key {}",
            reconcile::sandbox::DEFAULT_APPLICATION_KEY
        )),
        "{run:?}"
    );

    // Where it was made, it applies.
    std::fs::write(ws.path("plan.json"), saved.to_string()).unwrap();
    let run = ws.run(&["apply", "plan.json", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    ws.assert_in_sync();
}

/// Waits (up to 10 s) until `path` exists.
fn wait_for_file(path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 9 item 1: a second apply in the same directory while one runs fails at once (exit 1)
/// naming the holder, or waits for it with `--lock-timeout`; a holder killed with SIGKILL is
/// detected (its pid is gone on this host) and its lock taken over.
#[tokio::test]
async fn the_run_lock_makes_a_second_apply_fail_or_wait_and_survives_a_kill() {
    let sandbox = sandbox(&["--ready-after", "1500ms"]);
    let ws = full_workspace(&sandbox.endpoint);
    let lock = ws.path(".reconcile/lock");
    let mut first = ws.spawn(&["apply", "manifests", "--yes"]);
    wait_for_file(&lock);

    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "error: another apply holds the run lock .reconcile/lock: pid {} on host ",
            first.id()
        )) && run.stderr.contains("--lock-timeout"),
        "{run:?}"
    );
    assert!(
        run.stdout.is_empty(),
        "planned under someone else's lock: {run:?}"
    );

    let run = ws.run(&["apply", "manifests", "--yes", "--lock-timeout", "60s"]);
    assert!(
        run.stderr.contains("waiting up to 1m for the run lock"),
        "{run:?}"
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .ends_with("No changes. Live state matches the manifests.\n"),
        "the second ran before the first ended: {run:?}"
    );
    assert!(first.wait().unwrap().success());
    assert!(!lock.exists(), "the lock outlived its run");
    assert_eq!(
        Census::take(&api(&sandbox.endpoint, 20)).await,
        everything()
    );

    // Killed while holding the lock: the next run takes it over.
    ws.write("databases.yaml", &DATABASES.replace("db1-7", "db1-15"));
    let mut killed = ws.spawn(&["apply", "manifests", "--yes"]);
    wait_for_file(&lock);
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(lock.exists());
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    ws.assert_in_sync();
}

/// Issue 9 item 1: two applies at once on the same manifests against one API (a merge pipeline
/// and a scheduled run, each in its own checkout, so the run lock cannot serialise them) left
/// 2 of every service and user: each create trusted its plan's read. A create now lists its
/// scope right before its `POST`, so the second run adopts what the first created.
#[tokio::test]
async fn two_applies_at_once_in_two_checkouts_make_one_of_everything() {
    for round in 0..3 {
        let sandbox = sandbox(&["--ready-after", "300ms"]);
        let one = full_workspace(&sandbox.endpoint);
        let two = full_workspace(&sandbox.endpoint);
        let apply = ["apply", "manifests", "--yes"];
        let (first, second) = std::thread::scope(|s| {
            let first = s.spawn(|| one.run(&apply));
            let second = s.spawn(|| two.run(&apply));
            (first.join().unwrap(), second.join().unwrap())
        });
        let census = Census::take(&api(&sandbox.endpoint, 20)).await;
        assert_eq!(census, everything(), "round {round}: {first:?} {second:?}");
        assert_eq!(
            (first.code, second.code),
            (Some(0), Some(0)),
            "round {round}: {first:?} {second:?}"
        );
        one.assert_in_sync();
    }
}

const ORDERS: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata: { name: orders-db }
spec:
  engine: mongodb
  version: "7.0"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata: { name: orders-app }
spec: { service: orders-db, username: app, roles: [readWrite@orders] }
"#;

/// The ids of the users named `username` (MongoDB's `@admin` added) on the services of
/// `engine` in the project.
async fn user_ids(api: &reconcile::ovh::Client, engine: &str, username: &str) -> Vec<String> {
    let mut found = Vec::new();
    for service in get(api, &format!("{DB}/{engine}"))
        .await
        .as_array()
        .unwrap()
    {
        let users = format!("{DB}/{engine}/{}/user", service.as_str().unwrap());
        for user in get(api, &users).await.as_array().unwrap() {
            let user = get(api, &format!("{users}/{}", user.as_str().unwrap())).await;
            if user["username"] == username {
                found.push(user["id"].as_str().unwrap().to_string());
            }
        }
    }
    found
}

/// The files under `dir`, relative, sorted.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Issue 9 item 4: a user create answered 500 although it happened, and the run killed before
/// it adopted the user and reset its password: the next run exited 0, "No changes", no
/// secrets file, no word. The intent recorded before the POST makes the next run reset the
/// password and store it, and say so; a user with no stored password and no intent is named
/// with the exact `--rotate` command.
#[tokio::test]
async fn a_password_lost_with_a_killed_run_is_reset_by_the_next_and_never_silently() {
    let sandbox = sandbox(&["--created-but-500", "1", "--ready-after", "3s"]);
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[("reconcile.yaml", DEFAULTS), ("orders.yaml", ORDERS)],
    );
    let api = api(&sandbox.endpoint, 20);
    let mut killed = ws.spawn(&["apply", "manifests", "--yes"]);
    // Killed as soon as the user exists: its create was answered 500, its password is lost.
    let deadline = Instant::now() + Duration::from_secs(20);
    while user_ids(&api, "mongodb", "app@admin").await.is_empty() {
        assert!(Instant::now() < deadline, "the user was never created");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    killed.kill().unwrap();
    killed.wait().unwrap();
    let secrets = ws.path(".reconcile/secrets");
    let user = user_ids(&api, "mongodb", "app@admin").await.remove(0);
    let endpoint_dir = files_under(&secrets)
        .first()
        .map(|f| f.split('/').next().unwrap().to_string())
        .expect("no intent recorded");
    assert_eq!(
        files_under(&secrets),
        [format!(
            "{endpoint_dir}/DatabaseUser-orders-app/intent.json"
        )],
    );

    let plan = ws.run(&["plan", "manifests"]);
    assert!(
        plan.stderr.contains(
            "warning: DatabaseUser/orders-app exists and no password for it is stored in .reconcile/secrets: an earlier run created it"
        ),
        "{plan:?}"
    );
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("~ DatabaseUser/orders-app: resetting the password (its password reached nobody)")
            && run.stderr.contains("DatabaseUser/orders-app: an earlier run created it and stopped before storing its password: it was reset and stored"),
        "{run:?}"
    );
    let stored = format!("{endpoint_dir}/DatabaseUser-orders-app/{user}.json");
    assert_eq!(files_under(&secrets), std::slice::from_ref(&stored));
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(secrets.join(&stored)).unwrap()).unwrap();
    assert_eq!(file["userId"], user.as_str());
    assert!(file["password"].as_str().unwrap().len() >= 8);
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.contains("warning"), "{run:?}");

    // No stored password and no intent (another checkout, a lost directory): named with the
    // command that resets it, never reset behind anyone's back.
    std::fs::remove_dir_all(&secrets).unwrap();
    let hint = "warning: DatabaseUser/orders-app exists and no password for it is stored in .reconcile/secrets: to get one, run reconcile apply manifests --rotate DatabaseUser/orders-app";
    let plan = ws.run(&["plan", "manifests"]);
    assert!(plan.stderr.contains(hint), "{plan:?}");
    let run = ws.run(&["apply", "manifests", "--yes"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains(hint), "{run:?}");
    assert!(!secrets.exists(), "reset without --rotate");
}
