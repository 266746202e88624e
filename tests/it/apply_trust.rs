//! Issue 9, "trust": what happens around a run, the real binary against a `sandbox serve`
//! child. Two applies at once (a fresh lookup before each create, the run lock, secrets files
//! keyed by endpoint and object id), passwords never silently lost (intents), a verification
//! that reads what the run changed (an SSL regeneration), and saved plans that belong to one
//! API and one account.

use crate::apply_e2e::{everything, full_workspace, get, sandbox, Census, DATABASES};
use crate::e2e::{api, Workspace, DEFAULTS, WEB};
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
