//! `reconcile plan` and `reconcile drift`, the real binary against a `sandbox serve` child:
//! an empty project plans every create; the same objects created by another client plan no
//! changes; hand edits (an IP removed, a flavor changed, a user deleted, a description changed)
//! are named exactly, by the text plan, the JSON and Markdown plans and the drift report. Also
//! the failures: invalid manifests make no API call and still give a drift report; a scope that
//! cannot be read is never "in sync".

use crate::cli::ServedSandbox;
use crate::e2e::{
    api, Workspace, DB, DEFAULTS, ENV_PASSWORD, HOSTING, HOSTING_MANIFESTS, PROJECT, WEB,
};
use crate::support::unix_now;
use reconcile::ovh::{Client, Method};
use reconcile::plan::Plan;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(15);

const DATABASES: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata:
  name: orders-db
spec:
  engine: mongodb
  version: "7.0"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
  storage: 40
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

async fn call(api: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    api.call(method.clone(), path, body.as_ref())
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
        .body
}

/// Polls `path` until `done` says yes about its body.
async fn wait_until(api: &Client, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let body = call(api, Method::GET, path, None).await;
        if done(&body) {
            return body;
        }
        assert!(start.elapsed() < DEADLINE, "{path} never settled: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A service READY with every IP entry READY.
async fn wait_service(api: &Client, path: &str) {
    wait_until(api, path, |s| {
        s["status"] == "READY"
            && s["ipRestrictions"]
                .as_array()
                .is_none_or(|ips| ips.iter().all(|ip| ip["status"] == "READY"))
    })
    .await;
}

/// Creates, through the API, what the manifests describe; returns (orders-db id, billing-db
/// id, the report user's id).
async fn create_like_the_manifests(api: &Client) -> (String, String, String) {
    let orders = call(
        api,
        Method::POST,
        &format!("{DB}/mongodb"),
        Some(json!({
            "description": "orders-db",
            "plan": "production",
            "version": "7.0",
            "nodesPattern": { "flavor": "db2-4", "number": 3, "region": "GRA" },
            "disk": { "size": 40 },
            "ipRestrictions": [
                { "ip": "203.0.113.0/24", "description": "office" },
                { "ip": "198.51.100.7/32", "description": "vpn" },
            ],
        })),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let billing = call(
        api,
        Method::POST,
        &format!("{DB}/postgresql"),
        Some(json!({
            "description": "billing-db",
            "plan": "business",
            "version": "16",
            "nodesList": [
                { "flavor": "db1-7", "region": "GRA" },
                { "flavor": "db1-7", "region": "GRA" },
            ],
        })),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        api,
        Method::POST,
        &format!("{WEB}/attachedDomain"),
        Some(json!({ "domain": "www.shop.example", "path": "www", "ssl": true, "firewall": "active" })),
    )
    .await;
    call(
        api,
        Method::POST,
        &format!("{WEB}/database"),
        Some(json!({
            "capabilitie": "sqlPerso", "type": "mysql", "user": "shopdb",
            "password": ENV_PASSWORD, "version": "8.0",
        })),
    )
    .await;

    let orders_path = format!("{DB}/mongodb/{orders}");
    wait_service(api, &orders_path).await;
    wait_service(api, &format!("{DB}/postgresql/{billing}")).await;
    let mut report = String::new();
    for (name, role) in [("app", "readWrite@orders"), ("report", "read@orders")] {
        let user = call(
            api,
            Method::POST,
            &format!("{orders_path}/user"),
            Some(json!({ "name": name, "roles": [role] })),
        )
        .await;
        let id = user["id"].as_str().unwrap().to_string();
        wait_until(api, &format!("{orders_path}/user/{id}"), |u| {
            u["status"] == "READY"
        })
        .await;
        if name == "report" {
            report = id;
        }
    }
    wait_until(
        api,
        &format!("{WEB}/attachedDomain/www.shop.example"),
        |d| d["status"] == "created",
    )
    .await;
    let databases = call(api, Method::GET, &format!("{WEB}/database"), None).await;
    for name in databases.as_array().unwrap() {
        let path = format!("{WEB}/database/{}", name.as_str().unwrap());
        wait_until(api, &path, |d| d["status"] == "created").await;
    }
    (orders, billing, report)
}

/// The hand edits: the vpn IP removed and the flavor changed on orders-db, the report user
/// deleted, billing-db renamed (its description is its identity).
async fn edit_by_hand(api: &Client, orders: &str, billing: &str, report: &str) {
    let orders_path = format!("{DB}/mongodb/{orders}");
    call(
        api,
        Method::DELETE,
        &format!("{orders_path}/ipRestriction/198.51.100.7%2F32"),
        None,
    )
    .await;
    wait_service(api, &orders_path).await;
    call(
        api,
        Method::PUT,
        &orders_path,
        Some(json!({ "flavor": "db2-8" })),
    )
    .await;
    wait_service(api, &orders_path).await;
    call(
        api,
        Method::DELETE,
        &format!("{orders_path}/user/{report}"),
        None,
    )
    .await;
    call(
        api,
        Method::PUT,
        &format!("{DB}/postgresql/{billing}"),
        Some(json!({ "description": "billing-db-renamed" })),
    )
    .await;
    let users = format!("{orders_path}/user");
    wait_until(api, &users, |ids| {
        !ids.as_array().unwrap().iter().any(|id| id == report)
    })
    .await;
}

/// (resource, action type) of every change in a JSON plan or drift report.
fn changes(report: &Value) -> BTreeSet<(String, String)> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap().to_string(),
                c["action"]["type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn plan_and_drift_from_an_empty_project_to_hand_edits() {
    let sandbox = ServedSandbox::start(&[
        "--project",
        PROJECT,
        "--hosting",
        HOSTING,
        "--ready-after",
        "300ms",
    ]);
    let ws = Workspace::new(
        &sandbox.endpoint,
        &[
            ("reconcile.yaml", DEFAULTS),
            ("databases.yaml", DATABASES),
            ("web/hosting.yml", HOSTING_MANIFESTS),
        ],
    );

    // (a) An empty project: every create, with the calls apply would make; exit 2 only with
    // --detailed-exitcode.
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode", "--show-calls"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    insta::assert_snapshot!(run.stdout, @r#"
    reconcile will perform the following actions:

    Wave 1 of 2:

      + DatabaseService/billing-db will be created
          + spec.engine: "postgresql"
          + spec.nodes.count: 2
          + spec.nodes.flavor: "db1-7"
          + spec.nodes.region: "GRA"
          + spec.plan: "business"
          + spec.project: "p1"
          + spec.version: "16"
          calls:
            POST /cloud/project/p1/database/postgresql {"description":"billing-db","plan":"business","version":"16","nodesPattern":{"flavor":"db1-7","number":2,"region":"GRA"}}

      + DatabaseService/orders-db will be created
          + spec.engine: "mongodb"
          + spec.ipRestrictions[198.51.100.7/32]: "vpn"
          + spec.ipRestrictions[203.0.113.0/24]: "office"
          + spec.nodes.count: 3
          + spec.nodes.flavor: "db2-4"
          + spec.nodes.region: "GRA"
          + spec.plan: "production"
          + spec.project: "p1"
          + spec.storage: 40
          + spec.version: "7.0"
          calls:
            POST /cloud/project/p1/database/mongodb {"description":"orders-db","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"disk":{"size":40},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"},{"ip":"198.51.100.7/32","description":"vpn"}]}

      + HostingAttachedDomain/shop-www will be created
          + spec.domain: "www.shop.example"
          + spec.firewall: "active"
          + spec.hosting: "shop.cluster021.hosting.ovh.net"
          + spec.path: "www"
          + spec.ssl: true
          calls:
            POST /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain {"domain":"www.shop.example","path":"www","ssl":true,"firewall":"active"}

      + HostingDatabase/shop-db will be created
          + spec.capability: "sqlPerso"
          + spec.hosting: "shop.cluster021.hosting.ovh.net"
          + spec.type: "mysql"
          + spec.user: "shopdb"
          + spec.version: "8.0"
          + spec.password: (sensitive)
          calls:
            POST /hosting/web/shop.cluster021.hosting.ovh.net/database {"capabilitie":"sqlPerso","type":"mysql","user":"shopdb","version":"8.0","password":"***"}

    Wave 2 of 2:

      + DatabaseUser/orders-app will be created
          + spec.roles: ["readWrite@orders"]
          + spec.service: "orders-db"
          + spec.username: "app"
          calls:
            POST /cloud/project/p1/database/mongodb/{id}/user {"name":"app","roles":["readWrite@orders"]}

      + DatabaseUser/orders-report will be created
          + spec.roles: ["read@orders"]
          + spec.service: "orders-db"
          + spec.username: "report"
          calls:
            POST /cloud/project/p1/database/mongodb/{id}/user {"name":"report","roles":["read@orders"]}

    Plan: 6 to create, 0 to update, 0 to delete.
    "#);
    let run = ws.run(&["plan", "manifests"]);
    assert_eq!(run.code, Some(0), "{run:?}");

    // (b) The same objects, created by another client: no changes, in sync.
    let api = api(&sandbox.endpoint, 1000);
    let (orders, billing, report) = create_like_the_manifests(&api).await;
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .ends_with("\nNo changes. Live state matches the manifests.\n"),
        "{run:?}"
    );
    let (code, in_sync) = ws.run_json(&["drift", "manifests"]);
    assert_eq!(code, Some(0), "{in_sync:#}");
    assert_eq!(
        (&in_sync["status"], &in_sync["drift"], &in_sync["changes"]),
        (&json!("inSync"), &json!(false), &json!([]))
    );
    assert_eq!(in_sync["counts"]["unchanged"], 6, "{in_sync:#}");

    // (c) Hand edits: the plan and the drift report name exactly those changes.
    edit_by_hand(&api, &orders, &billing, &report).await;
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    let shown = run
        .stdout
        .replace(&billing, "[billing-db id]")
        .replace(&orders, "[orders-db id]");
    insta::assert_snapshot!(shown, @r#"
    reconcile will perform the following actions:

    Wave 1 of 2:

      + DatabaseService/billing-db will be created
          + spec.engine: "postgresql"
          + spec.nodes.count: 2
          + spec.nodes.flavor: "db1-7"
          + spec.nodes.region: "GRA"
          + spec.plan: "business"
          + spec.project: "p1"
          + spec.version: "16"

      ~ DatabaseService/orders-db will be updated in place
          + spec.ipRestrictions[198.51.100.7/32]: "vpn"
          ~ spec.nodes.flavor: "db2-8" -> "db2-4"

    Wave 2 of 2:

      + DatabaseUser/orders-report will be created
          + spec.roles: ["read@orders"]
          + spec.service: "orders-db"
          + spec.username: "report"

    3 resources unchanged.

    Unmanaged objects (live, named by no manifest; kept unless --prune):
      * DatabaseService "billing-db-renamed" (id [billing-db id]) in database postgresql in project p1

    Plan: 2 to create, 1 to update, 0 to delete.
    "#);

    let (code, drift) = ws.run_json(&["drift", "manifests", "--out", "drift.json"]);
    assert_eq!(code, Some(2), "{drift:#}");
    assert_eq!(
        (&drift["status"], &drift["drift"]),
        (&json!("drift"), &json!(true))
    );
    assert_eq!(
        changes(&drift),
        set(&[
            ("DatabaseService/billing-db", "create"),
            ("DatabaseService/orders-db", "update"),
            ("DatabaseUser/orders-report", "create"),
        ])
    );
    let update = drift["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == "DatabaseService/orders-db")
        .unwrap();
    let fields: BTreeSet<&str> = update["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["spec.ipRestrictions[198.51.100.7/32]", "spec.nodes.flavor"]),
        "{update:#}"
    );
    let field = |path: &str| {
        let field = update["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .unwrap();
        (field["old"].clone(), field["new"].clone())
    };
    assert_eq!(field("spec.nodes.flavor"), (json!("db2-8"), json!("db2-4")));
    assert_eq!(
        field("spec.ipRestrictions[198.51.100.7/32]"),
        (Value::Null, json!("vpn"))
    );
    let unmanaged: Vec<(&Value, &Value)> = drift["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (&u["kind"], &u["label"]))
        .collect();
    assert_eq!(
        unmanaged,
        [(&json!("DatabaseService"), &json!("billing-db-renamed"))]
    );
    assert_eq!(drift["errors"], json!([]));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path("drift.json")).unwrap()).unwrap();
    assert_eq!(saved, drift);

    // The three formats carry the same content; --out saves the plan with its digests.
    let (code, plan_json) = ws.run_json(&[
        "plan",
        "manifests",
        "--format",
        "json",
        "--out",
        "plan.json",
    ]);
    assert_eq!(code, Some(0));
    same_content(
        &plan_json,
        &run.stdout,
        &ws.run(&["plan", "manifests", "--format", "markdown"])
            .stdout,
    );
    let saved = std::fs::read_to_string(ws.path("plan.json")).unwrap();
    let saved: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved, plan_json);
    assert_eq!(saved["format"], reconcile::plan::PLAN_FORMAT);
    let digests = saved["digests"].as_object().unwrap();
    assert!(
        digests.keys().any(|key| key.contains(&orders)),
        "no digest of orders-db: {digests:#?}"
    );
    let plan: Plan = serde_json::from_value(saved).unwrap();
    assert_eq!(plan.counts(), (2, 1, 0));
}

/// The JSON, text and Markdown plans name the same changes, counts and unmanaged objects.
fn same_content(json: &Value, text: &str, markdown: &str) {
    let summary = json["summary"].as_str().unwrap();
    assert!(text.ends_with(&format!("{summary}\n")), "{text}");
    assert!(
        markdown.starts_with(&format!("**{summary}**\n")),
        "{markdown}"
    );
    let unchanged = json["counts"]["unchanged"].as_u64().unwrap();
    let counted = format!("{unchanged} resources unchanged.");
    assert!(text.contains(&counted) && markdown.contains(&counted));
    for change in json["changes"].as_array().unwrap() {
        let resource = change["resource"].as_str().unwrap();
        assert!(
            text.contains(&format!(" {resource} will be ")),
            "{resource}: {text}"
        );
        assert!(
            markdown.contains(&format!("| `{resource}` |")),
            "{resource}: {markdown}"
        );
        for field in change["fields"].as_array().unwrap() {
            let path = field["path"].as_str().unwrap();
            assert!(text.contains(path) && markdown.contains(path), "{path}");
        }
    }
    for object in json["unmanaged"].as_array().unwrap() {
        let label = object["label"].as_str().unwrap();
        assert!(text.contains(label) && markdown.contains(label), "{label}");
    }
}

#[tokio::test]
async fn invalid_manifests_make_no_call_and_an_unreadable_scope_is_never_in_sync() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    // Invalid manifests: diagnostics on stderr, exit 1, not one request; drift still reports.
    let silent = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&silent)
        .await;
    let bad = DATABASES.replace("plan: production", "plna: production");
    let ws = Workspace::new(
        &format!("{}/1.0", silent.uri()),
        &[("reconcile.yaml", DEFAULTS), ("databases.yaml", &bad)],
    );
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("databases.yaml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("nothing was read from the API"),
        "{}",
        run.stderr
    );
    let (code, report) = ws.run_json(&["drift", "manifests", "--out", "drift.json"]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        (&report["status"], &report["drift"]),
        (&json!("error"), &json!(null))
    );
    let error = &report["errors"][0];
    assert_eq!(error["kind"], "validation", "{report:#}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("databases.yaml:"),
        "{report:#}"
    );
    assert!(ws.path("drift.json").exists());
    let markdown = ws.run(&["drift", "manifests", "--format", "markdown"]);
    assert_eq!(markdown.code, Some(1));
    assert!(
        markdown.stdout.starts_with("### reconcile drift: failed\n"),
        "{markdown:?}"
    );
    silent.verify().await;

    // A scope that cannot be read (503, retried at once as `Retry-After: 0` asks): the plan
    // says so and exits 1; drift is "incomplete". (A 403 stops the run instead: see
    // errors::credentials_refused_stop_at_once_saying_what_to_fix.)
    let forbidden = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.0/auth/time"))
        .respond_with(ResponseTemplate::new(200).set_body_json(unix_now()))
        .mount(&forbidden)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("Retry-After", "0")
                .set_body_json(json!({
                    "class": "Server::ServiceUnavailable",
                    "message": "Service unavailable",
                })),
        )
        .mount(&forbidden)
        .await;
    let ws = Workspace::new(
        &format!("{}/1.0", forbidden.uri()),
        &[("reconcile.yaml", DEFAULTS), ("databases.yaml", DATABASES)],
    );
    let run = ws.run(&["plan", "manifests", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stdout.contains("Unknown scopes"), "{run:?}");
    assert!(
        run.stderr.contains("error: the plan is incomplete"),
        "{run:?}"
    );
    let (code, report) = ws.run_json(&["drift", "manifests"]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["status"], "incomplete", "{report:#}");
    assert!(report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] == "unknownScope" && e["message"].is_string()));
    assert!(!report["unknown"].as_array().unwrap().is_empty());
}
