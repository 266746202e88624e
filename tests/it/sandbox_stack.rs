//! The sandbox's RunAbove Managed Stacks (`/stackMysql`), a model the sandbox designed (see
//! `docs/sandbox-stackmysql.md`): create, watch the probes pass, run, delete, 404.

use crate::support::TestSandbox;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn statuses(probes: &Value) -> Vec<String> {
    probes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["probes"].as_array().unwrap().iter())
        .map(|p| p["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_mysql_stack_is_created_probed_running_then_deleted() {
    let ts = TestSandbox::start(Duration::from_millis(600)).await;
    let created = ts
        .call(
            "POST",
            "/stackMysql",
            Some(json!({ "region": "SBG-1", "flavor": "ra.s", "nodes": 3, "name": "shop" })),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let stack = created.body;
    let id = stack["id"].as_str().unwrap().to_string();
    assert_eq!(
        stack,
        json!({
            "id": id, "name": "shop", "region": "SBG-1", "flavor": "ra.s", "nodes": 3, "version": "5.6",
            "status": "creating", "createdAt": stack["createdAt"], "endpoint": null,
        })
    );
    assert_eq!(ts.call("GET", "/stackMysql", None).await.body, json!([id]));

    let path = format!("/stackMysql/{id}");
    let probes = ts.call("GET", &format!("{path}/status"), None).await.body;
    assert_eq!(probes["status"], "creating");
    let roles: Vec<&Value> = probes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["role"])
        .collect();
    assert_eq!(
        roles,
        [&json!("primary"), &json!("replica"), &json!("replica")]
    );
    assert!(statuses(&probes).iter().all(|s| s == "pending"), "{probes}");
    assert_eq!(probes["nodes"][0]["probes"][0]["lastCheck"], Value::Null);

    // Probes go pending -> ok; the stack runs when the last one passes.
    let start = Instant::now();
    let mut saw_partial = false;
    let running = loop {
        let probes = ts.call("GET", &format!("{path}/status"), None).await.body;
        let s = statuses(&probes);
        if s.contains(&"ok".to_string()) && s.contains(&"pending".to_string()) {
            saw_partial = true;
            assert_eq!(probes["status"], "creating");
        }
        if s.iter().all(|s| s == "ok") {
            break probes;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "probes stuck: {probes}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(saw_partial, "mysqld passes before connect and replication");
    assert_eq!(running["status"], "running");
    let stack = ts.call("GET", &path, None).await.body;
    assert_eq!(stack["status"], "running");
    assert_eq!(stack["endpoint"]["port"], 3306);

    let deleting = ts.call("DELETE", &path, None).await.body;
    assert_eq!(deleting["status"], "deleting");
    assert!(
        statuses(&ts.call("GET", &format!("{path}/status"), None).await.body)
            .iter()
            .all(|s| s == "ko")
    );
    let twice = ts.call("DELETE", &path, None).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    let start = Instant::now();
    let last = loop {
        let answer = ts.call("GET", &path, None).await;
        if answer.status == 404 {
            break answer;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "stack never went away"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        last.body,
        json!({ "class": "Client::NotFound", "message": format!("The requested object (id = {id}) does not exist") })
    );
    assert_eq!(ts.call("GET", "/stackMysql", None).await.body, json!([]));
}

#[tokio::test]
async fn a_stack_request_is_validated() {
    let ts = TestSandbox::start(Duration::from_millis(300)).await;
    let post = |body: Value| ts.call("POST", "/stackMysql", Some(body));
    let refused = |status: u16, message: &str| json!({ "class": if status == 409 { "Client::Conflict" } else { "Client::BadRequest" }, "message": message });
    let answer = post(json!({ "flavor": "ra.s" })).await;
    assert_eq!(
        (answer.status, answer.body),
        (400, refused(400, "[region] Property is mandatory"))
    );
    let answer = post(json!({ "region": "GRA-1", "flavor": "ra.s" })).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            400,
            refused(
                400,
                "[region] Given data (GRA-1) does not belong to the stack.RegionEnum enumeration"
            )
        )
    );
    let answer = post(json!({ "region": "BHS-1", "flavor": "ra.s", "nodes": 2 })).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            400,
            refused(400, "[nodes] A MySQL stack has 1 or 3 nodes, not 2")
        )
    );
    let answer = post(json!({ "region": "BHS-1", "flavor": "ra.s", "description": "x" })).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            400,
            refused(
                400,
                "Received not described parameters: (description) while calling creation handler"
            )
        )
    );
    let first = post(json!({ "region": "BHS-1", "flavor": "ra.m", "name": "db" })).await;
    assert_eq!((first.status, &first.body["nodes"]), (200, &json!(1)));
    let answer = post(json!({ "region": "BHS-1", "flavor": "ra.m", "name": "db" })).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            409,
            refused(
                409,
                &format!(
                    "A stack named db already exists ({})",
                    first.body["id"].as_str().unwrap()
                )
            )
        )
    );
    let missing = ts.call("GET", "/stackMysql/nope/status", None).await;
    assert_eq!(
        (missing.status, missing.body),
        (
            404,
            json!({ "class": "Client::NotFound", "message": "The requested object (id = nope) does not exist" })
        )
    );
}
