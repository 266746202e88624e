//! The sandbox's RunAbove Managed Stacks (`/stackMysql` on RunAbove's endpoint), answering the
//! five calls of RunAbove's guide exactly as it shows them (docs/sandbox-stackmysql.md).

use crate::support::TestSandbox;
use serde_json::{json, Value};
use std::time::Duration;

/// Every probe result of a `/status` answer (`{probe: {node addr: result}}`).
fn results(status: &Value) -> Vec<String> {
    status
        .as_object()
        .unwrap()
        .values()
        .flat_map(|per_node| per_node.as_object().unwrap().values())
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_guides_five_calls_answer_as_the_guide_shows() {
    let ts = TestSandbox::paused(Duration::from_millis(600)).await;
    assert!(ts.runabove_endpoint.ends_with("/runabove/1.0"));

    // Create: no body, no id in the answer.
    let created = ts.runabove("POST", "/stackMysql", None).await;
    assert_eq!(
        (created.status, created.body),
        (200, json!({ "msg": "cluster created" }))
    );

    // Get your cluster's id.
    let listed = ts.runabove("GET", "/stackMysql", None).await;
    assert_eq!(listed.body, json!({ "products": [{ "id": 1001 }] }));
    let path = "/stackMysql/1001";

    // Informations: not active yet, two nodes.
    let cluster = ts.runabove("GET", path, None).await.body;
    assert_eq!(
        cluster,
        json!({
            "active": false,
            "nodes": [
                { "addr": "10.3.233.11", "product_id": 1001 },
                { "addr": "10.3.233.12", "product_id": 1001 }
            ],
            "product_id": 1001
        })
    );

    // Monitoring: probes pass one after the other, then the cluster is active.
    let status = ts.runabove("GET", &format!("{path}/status"), None).await;
    assert_eq!(status.status, 200);
    let mut probes: Vec<&String> = status.body.as_object().unwrap().keys().collect();
    probes.sort();
    assert_eq!(probes, ["mysqld", "replication"]);
    assert!(
        results(&status.body).iter().all(|r| r == "pending"),
        "{status:?}"
    );
    let start = ts.now();
    let mut saw_partial = false;
    loop {
        let status = ts
            .runabove("GET", &format!("{path}/status"), None)
            .await
            .body;
        let r = results(&status);
        saw_partial |= r.contains(&"ok".into()) && r.contains(&"pending".into());
        if r.iter().all(|r| r == "ok") {
            break;
        }
        assert!(
            ts.elapsed(start) < Duration::from_secs(10),
            "probes stuck: {status}"
        );
        ts.let_pass(Duration::from_millis(20)).await;
    }
    assert!(saw_partial, "mysqld passes before replication");
    assert_eq!(ts.runabove("GET", path, None).await.body["active"], true);

    // Delete: gone at once.
    let deleted = ts.runabove("DELETE", path, None).await;
    assert_eq!(
        (deleted.status, deleted.body),
        (200, json!({ "msg": "cluster deleted" }))
    );
    let gone = ts.runabove("GET", path, None).await;
    assert_eq!(
        (gone.status, gone.body),
        (
            404,
            json!({ "class": "Client::NotFound", "message": "The requested object (id = 1001) does not exist" })
        )
    );
    let listed = ts.runabove("GET", "/stackMysql", None).await;
    assert_eq!(listed.body, json!({ "products": [] }));
    // Ids are never reused.
    ts.runabove("POST", "/stackMysql", None).await;
    let listed = ts.runabove("GET", "/stackMysql", None).await;
    assert_eq!(listed.body, json!({ "products": [{ "id": 1002 }] }));
}

/// What broke: `POST /stackMysql` with no body was refused ("[region] Property is mandatory")
/// and the routes lived on the OVH endpoint.
#[tokio::test]
async fn a_bare_post_is_accepted_and_the_routes_are_runabove_only() {
    let ts = TestSandbox::paused(Duration::from_millis(300)).await;
    for body in [None, Some(json!({})), Some(Value::Null)] {
        let answer = ts.runabove("POST", "/stackMysql", body).await;
        assert_eq!(
            (answer.status, answer.body),
            (200, json!({ "msg": "cluster created" }))
        );
    }
    let on_ovh = ts.call("GET", "/stackMysql", None).await;
    assert_eq!(on_ovh.status, 404, "{:?}", on_ovh.body);
}

#[tokio::test]
async fn the_optional_create_parameter_is_validated() {
    let ts = TestSandbox::paused(Duration::from_millis(300)).await;
    let post = |body: Value| ts.runabove("POST", "/stackMysql", Some(body));
    let bad = |message: &str| json!({ "class": "Client::BadRequest", "message": message });
    let answer = post(json!({ "nodes": 3 })).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let three = ts.runabove("GET", "/stackMysql/1001", None).await.body;
    assert_eq!(three["nodes"].as_array().unwrap().len(), 3);
    let answer = post(json!({ "nodes": 1 })).await;
    assert_eq!(
        (answer.status, answer.body),
        (400, bad("[nodes] A MySQL cluster has 2 or 3 nodes, not 1"))
    );
    let answer = post(json!({ "region": "SBG-1" })).await;
    assert_eq!(
        (answer.status, answer.body),
        (
            400,
            bad("Received not described parameters: (region) while calling creation handler")
        )
    );
    for id in ["nope", "9999"] {
        let missing = ts
            .runabove("GET", &format!("/stackMysql/{id}/status"), None)
            .await;
        assert_eq!(
            (missing.status, missing.body),
            (
                404,
                json!({ "class": "Client::NotFound", "message": format!("The requested object (id = {id}) does not exist") })
            )
        );
    }
    let twice = ts.runabove("DELETE", "/stackMysql/9999", None).await;
    assert_eq!(twice.status, 404);
}
