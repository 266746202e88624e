//! Errors say what happened, fast (issue 9, item 7): the real binary against a `sandbox serve`
//! child. Refused credentials and a missing project or hosting stop `plan`, `drift` and
//! `apply` at once with what to fix; an API that cannot be reached is retried for about 10 s,
//! then named with its cause. None of them reads as "unknown scope, plan again".

use crate::cli::ServedSandbox;
use crate::e2e::{Run, Workspace, DEFAULTS, HOSTING, HOSTING_MANIFESTS, PROJECT};
use crate::support::http;
use reconcile::sandbox::{DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SERVICE: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata:
  name: orders-db
spec:
  engine: mongodb
  version: "7.0"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
"#;

/// Well under any retry: a refused key must not be retried or waited on.
const AT_ONCE: Duration = Duration::from_secs(5);

fn sandbox() -> ServedSandbox {
    ServedSandbox::start(&["--project", PROJECT, "--hosting", HOSTING])
}

fn workspace(endpoint: &str) -> Workspace {
    Workspace::new(
        endpoint,
        &[
            ("reconcile.yaml", DEFAULTS),
            ("databases.yaml", SERVICE),
            ("web/hosting.yml", HOSTING_MANIFESTS),
        ],
    )
}

/// A consumer key requested with `rules` (method, path); validated unless `validate` is false.
async fn consumer_key(endpoint: &str, rules: &[(&str, &str)], validate: bool) -> String {
    let rules: Vec<Value> = rules
        .iter()
        .map(|(method, path)| json!({ "method": method, "path": path }))
        .collect();
    let requested: Value = http()
        .post(format!("{endpoint}/auth/credential"))
        .header("X-Ovh-Application", DEFAULT_APPLICATION_KEY)
        .json(&json!({ "accessRules": rules }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    if validate {
        let url = requested["validationUrl"].as_str().unwrap();
        assert_eq!(http().get(url).send().await.unwrap().status(), 200);
    }
    requested["consumerKey"].as_str().unwrap().to_owned()
}

/// `plan`, `drift` and `apply --yes` with `credentials`: each exits 1 within `AT_ONCE`, its
/// `error:` line starting with `starts` and saying nothing of planning again; drift's report
/// says `error` with an error of `kind`.
fn assert_stops(ws: &Workspace, credentials: [&str; 3], starts: &str, kind: &str) {
    for args in [
        &["plan", "manifests"][..],
        &["drift", "manifests"],
        &["apply", "manifests", "--yes"],
    ] {
        let started = Instant::now();
        let run = Run::of(&mut ws.command_as(args, credentials));
        let elapsed = started.elapsed();
        let case = format!("{credentials:?} {args:?}: {run:?}");
        assert_eq!(run.code, Some(1), "{case}");
        assert!(elapsed < AT_ONCE, "took {elapsed:?}: {case}");
        let error = run
            .stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line: {case}"));
        assert!(error.starts_with(&format!("error: {starts}")), "{case}");
        for never in ["plan again", "incomplete", "could not be read", "retrying"] {
            assert!(!run.stderr.contains(never), "{never:?}: {case}");
        }
        if args[0] == "drift" {
            let report: Value = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(report["status"], "error", "{case}");
            assert_eq!(report["errors"][0]["kind"], kind, "{case}");
        }
    }
}

/// Regression: a wrong secret, an unknown or unvalidated key, a route the key may not call
/// made their scopes "unknown: plan again once the API answers" and exited after the plan.
#[tokio::test]
async fn credentials_refused_stop_at_once_saying_what_to_fix() {
    let sb = sandbox();
    let ws = workspace(&sb.endpoint);
    let all = consumer_key(&sb.endpoint, &[("GET", "/*")], true).await;
    let pending = consumer_key(&sb.endpoint, &[("GET", "/*")], false).await;
    let no_hosting = consumer_key(&sb.endpoint, &[("GET", "/cloud/*")], true).await;
    let key = DEFAULT_APPLICATION_KEY;
    let secret = DEFAULT_APPLICATION_SECRET;

    let cases = [
        (
            [key, "not-the-secret", all.as_str()],
            "credentials: the signature was refused; check that the application secret",
        ),
        (
            ["not-an-application", secret, all.as_str()],
            "credentials: the application key is unknown on this endpoint",
        ),
        (
            [key, secret, "not-a-consumer-key"],
            "credentials: the consumer key is unknown, not validated yet",
        ),
        (
            [key, secret, pending.as_str()],
            "credentials: the consumer key is unknown, not validated yet",
        ),
        (
            [key, secret, no_hosting.as_str()],
            "credentials: the consumer key's access rules do not allow GET /hosting/web/",
        ),
    ];
    // The sandbox is a child process: blocking here holds nothing up.
    for (credentials, starts) in cases {
        assert_stops(&ws, credentials, starts, "credentials");
    }
}

/// Regression: a project or a hosting that does not exist read as an unknown scope.
#[test]
fn a_project_or_hosting_that_does_not_exist_is_named() {
    let sb = sandbox();
    let ws = workspace(&sb.endpoint);
    let credentials = [
        DEFAULT_APPLICATION_KEY,
        DEFAULT_APPLICATION_SECRET,
        reconcile::sandbox::DEFAULT_CONSUMER_KEY,
    ];
    ws.write(
        "reconcile.yaml",
        "project: nope\nhosting: shop.cluster021.hosting.ovh.net\n",
    );
    assert_stops(
        &ws,
        credentials,
        "project nope (or its mongodb databases) does not exist on http://127.0.0.1:",
        "notFound",
    );
    ws.write("reconcile.yaml", "project: p1\nhosting: gone.example.net\n");
    assert_stops(
        &ws,
        credentials,
        "hosting gone.example.net does not exist on http://127.0.0.1:",
        "notFound",
    );
}

/// A loopback port nothing listens on.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Regression: connection refused gave 86 s of WARN lines for plan and 102 s for drift, and
/// drift said `incomplete`. Now: about 10 s of retries across all calls, then exit 1 "cannot
/// reach ENDPOINT: cause"; drift says `error` / `connection`. A TLS failure is the same.
#[test]
fn an_api_that_cannot_be_reached_is_named_after_a_few_seconds() {
    let sb = sandbox();
    let refused = format!("http://127.0.0.1:{}/1.0", refused_port());
    let not_tls = sb.endpoint.replace("http://", "https://");
    let cases = [
        (refused.clone(), "plan", "Connection refused"),
        (refused.clone(), "drift", "Connection refused"),
        (refused.clone(), "apply", "Connection refused"),
        (not_tls.clone(), "plan", ""),
    ];
    std::thread::scope(|threads| {
        for (endpoint, command, cause) in &cases {
            threads.spawn(move || {
                let ws = workspace(endpoint);
                let started = Instant::now();
                let mut args = vec!["-v", command, "manifests"];
                if *command == "apply" {
                    args.push("--yes");
                }
                let run = Run::of(&mut ws.command(&args));
                let elapsed = started.elapsed();
                let case = format!("{endpoint} {command}: {run:?}");
                assert_eq!(run.code, Some(1), "{case}");
                // A guard only: the budget is 10 s of retries; the attempts are what count.
                assert!(
                    elapsed < Duration::from_secs(30),
                    "took {elapsed:?}: {case}"
                );
                let attempts = run.stderr.matches("ovh api call failed").count();
                assert!((1..=12).contains(&attempts), "{attempts} attempts: {case}");
                let error = format!("error: cannot reach {endpoint}: {cause}");
                assert!(run.stderr.contains(&error), "{case}");
                assert!(!run.stderr.contains("plan again"), "{case}");
                if *command == "drift" {
                    let report: Value = serde_json::from_str(&run.stdout).unwrap();
                    assert_eq!(report["status"], "error", "{case}");
                    assert_eq!(report["errors"][0]["kind"], "connection", "{case}");
                }
            });
        }
    });
}
