//! The sandbox's Public Cloud database routes over HTTP, with signed calls: a service's whole
//! life, catalogue validation with the real error bodies, users per engine, IP restrictions by
//! both mechanisms, the stuck-PENDING and 500-but-created faults, and persistence.

use crate::support::{paused_config, Answer, TestSandbox};
use reconcile::sandbox::SandboxConfig;
use serde_json::{json, Value};
use std::time::Duration;

const READY_AFTER: Duration = Duration::from_millis(300);
const DEADLINE: Duration = Duration::from_secs(10);
const DB: &str = "/cloud/project/p1/database";

fn mongodb_body() -> Value {
    json!({
        "description": "orders-db",
        "plan": "production",
        "version": "7.0",
        "nodesPattern": { "flavor": "db2-4", "number": 3, "region": "GRA" },
        "disk": { "size": 40 },
        "ipRestrictions": [{ "ip": "203.0.113.7", "description": "office" }],
    })
}

fn postgresql_body() -> Value {
    json!({
        "description": "billing-db",
        "plan": "business",
        "version": "16",
        "nodesList": [
            { "flavor": "db1-7", "region": "SBG" },
            { "flavor": "db1-7", "region": "SBG" },
        ],
    })
}

fn error(class: &str, message: &str) -> Value {
    json!({ "class": class, "message": message })
}

/// Asserts an answer's status and body.
#[track_caller]
fn assert_answer(answer: &Answer, status: u16, body: Value) {
    assert_eq!((answer.status, &answer.body), (status, &body), "{answer:?}");
}

/// Creates a service and returns its id.
async fn create(sb: &TestSandbox, engine: &str, body: Value) -> String {
    let answer = sb.call("POST", &format!("{DB}/{engine}"), Some(body)).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["status"], "CREATING");
    answer.body["id"].as_str().unwrap().to_string()
}

async fn wait_ready(sb: &TestSandbox, path: &str) -> Value {
    let body = sb.wait_for(path, "status", "READY", DEADLINE).await;
    assert_eq!(body["status"], "READY", "{path}: {body}");
    body
}

/// Polls `path` until it answers 404 and returns that answer.
async fn wait_gone(sb: &TestSandbox, path: &str) -> Answer {
    let start = sb.now();
    loop {
        let answer = sb.call("GET", path, None).await;
        if answer.status == 404 || sb.elapsed(start) > DEADLINE {
            return answer;
        }
        sb.let_pass(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_mongodb_service_lives_from_create_to_delete() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let created = sb
        .call("POST", &format!("{DB}/mongodb"), Some(mongodb_body()))
        .await;
    assert_eq!(created.status, 200, "{created:?}");
    let service = &created.body;
    let id = service["id"].as_str().unwrap().to_string();
    let path = format!("{DB}/mongodb/{id}");
    assert_eq!(service["engine"], "mongodb");
    assert_eq!(service["category"], "operational");
    assert_eq!(service["status"], "CREATING");
    assert_eq!(service["nodeNumber"], 3);
    assert_eq!(service["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(service["nodes"][0]["status"], "CREATING");
    assert_eq!(
        service["disk"],
        json!({ "size": 40, "type": "high-speed-gen2" })
    );
    assert_eq!(
        service["storage"]["size"],
        json!({ "unit": "GB", "value": 40 })
    );
    assert_eq!(service["maintenanceTime"], "22:00:00");
    assert_eq!(service["networkType"], "public");
    assert_eq!(
        service["ipRestrictions"],
        json!([{ "ip": "203.0.113.7/32", "description": "office", "status": "PENDING" }])
    );
    let srv = &service["endpoints"][1];
    assert_eq!(srv["component"], "mongodbSrv");
    assert!(srv["uri"]
        .as_str()
        .unwrap()
        .starts_with("mongodb+srv://<username>:<password>@mongodb-"));

    // The cross-engine index finds it.
    let index = sb.call("GET", &format!("{DB}/service"), None).await;
    assert_answer(&index, 200, json!([id]));
    let by_id = sb.call("GET", &format!("{DB}/service/{id}"), None).await;
    assert_eq!(by_id.body["engine"], "mongodb");
    let streaming = sb
        .call("GET", &format!("{DB}/service?category=streaming"), None)
        .await;
    assert_answer(&streaming, 200, json!([]));

    // Nothing can change while it is being created.
    let early = sb
        .call("PUT", &path, Some(json!({ "description": "x" })))
        .await;
    let not_ready = error(
        "Client::Conflict::ServiceNotReady",
        &format!("Service {id} is not in state READY"),
    );
    assert_answer(&early, 409, not_ready);

    let ready = wait_ready(&sb, &path).await;
    assert_eq!(ready["ipRestrictions"][0]["status"], "READY");
    assert!(ready["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["status"] == "READY"));

    // Sending back what was read changes nothing.
    let same = sb.call("PUT", &path, Some(ready.clone())).await;
    assert_answer(
        &same,
        400,
        error("Client::BadRequest::NoUpdate", "No update required"),
    );

    // A flavor change recycles the nodes.
    let scaled = sb
        .call("PUT", &path, Some(json!({ "flavor": "db2-8" })))
        .await;
    assert_eq!(scaled.status, 200, "{scaled:?}");
    assert_eq!(scaled.body["status"], "UPDATING");
    assert_eq!(scaled.body["flavor"], "db2-8");
    assert_eq!(scaled.body["disk"]["size"], 40);
    let ready = wait_ready(&sb, &path).await;
    let node_ids = sb.call("GET", &format!("{path}/node"), None).await;
    assert_eq!(node_ids.body.as_array().unwrap().len(), 3);
    let node_id = node_ids.body[0].as_str().unwrap();
    let node = sb
        .call("GET", &format!("{path}/node/{node_id}"), None)
        .await;
    assert_eq!(node.body["flavor"], "db2-8");
    assert_eq!(node.body["region"], "GRA");
    assert_eq!(node.body["port"], 27017);
    assert_eq!(node.body["status"], "READY");
    assert_eq!(ready["nodes"][0], node.body);

    // IP restrictions through the service: the whole list is replaced.
    let ips = json!([
        { "ip": "203.0.113.7/32", "description": "office" },
        { "ip": "198.51.100.1/24", "description": "vpn" },
    ]);
    let put = sb
        .call("PUT", &path, Some(json!({ "ipRestrictions": ips })))
        .await;
    assert_eq!(put.status, 200, "{put:?}");
    assert_eq!(put.body["status"], "UPDATING");
    assert_eq!(
        put.body["ipRestrictions"],
        json!([
            { "ip": "203.0.113.7/32", "description": "office", "status": "READY" },
            { "ip": "198.51.100.0/24", "description": "vpn", "status": "PENDING" },
        ])
    );
    let ready = wait_ready(&sb, &path).await;
    assert_eq!(ready["ipRestrictions"][1]["status"], "READY");

    // ...and through the deprecated per-IP routes, which edit the same list.
    let listed = sb.call("GET", &format!("{path}/ipRestriction"), None).await;
    assert_answer(&listed, 200, json!(["203.0.113.7/32", "198.51.100.0/24"]));
    let added = sb
        .call(
            "POST",
            &format!("{path}/ipRestriction"),
            Some(json!({ "ip": "192.0.2.1", "description": "ci" })),
        )
        .await;
    assert_answer(
        &added,
        200,
        json!({ "ip": "192.0.2.1/32", "description": "ci", "status": "PENDING" }),
    );
    let ip_path = format!("{path}/ipRestriction/192.0.2.1%2F32");
    wait_ready(&sb, &ip_path).await;
    wait_ready(&sb, &path).await;
    let again = sb
        .call(
            "POST",
            &format!("{path}/ipRestriction"),
            Some(json!({ "ip": "192.0.2.1/32", "description": "ci" })),
        )
        .await;
    assert_answer(
        &again,
        404,
        error(
            "Client::NotFound::IpRestrictionAlreadyExists",
            "Ip restriction 192.0.2.1/32 is set on your service",
        ),
    );
    let renamed = sb
        .call(
            "PUT",
            &ip_path,
            Some(json!({ "description": "ci runners" })),
        )
        .await;
    assert_answer(
        &renamed,
        200,
        json!({ "ip": "192.0.2.1/32", "description": "ci runners", "status": "READY" }),
    );
    let service = sb.call("GET", &path, None).await;
    assert_eq!(
        service.body["ipRestrictions"][2]["description"],
        "ci runners"
    );
    let deleted = sb.call("DELETE", &ip_path, None).await;
    assert_answer(&deleted, 200, Value::Null);
    let gone = sb.call("GET", &ip_path, None).await;
    assert_answer(
        &gone,
        404,
        error(
            "Client::NotFound::IpRestrictionNotFound",
            "Ip restriction 192.0.2.1/32 does not exist",
        ),
    );
    let ready = wait_ready(&sb, &path).await;
    assert_eq!(ready["ipRestrictions"].as_array().unwrap().len(), 2);

    // Users: admin@admin is there from the start; names gain @admin; passwords only on POST/reset.
    let users = sb.call("GET", &format!("{path}/user"), None).await;
    assert_eq!(users.body.as_array().unwrap().len(), 1);
    let admin_id = users.body[0].as_str().unwrap().to_string();
    let admin = sb
        .call("GET", &format!("{path}/user/{admin_id}"), None)
        .await;
    assert_eq!(admin.body["username"], "admin@admin");
    let user = sb
        .call(
            "POST",
            &format!("{path}/user"),
            Some(json!({ "name": "app", "roles": ["readWrite@orders"] })),
        )
        .await;
    assert_eq!(user.status, 200, "{user:?}");
    assert_eq!(user.body["username"], "app@admin");
    assert_eq!(user.body["roles"], json!(["readWrite@orders"]));
    assert_eq!(user.body["status"], "CREATING");
    let password = user.body["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 16, "{password}");
    let user_path = format!("{path}/user/{}", user.body["id"].as_str().unwrap());
    let read = wait_ready(&sb, &user_path).await;
    assert!(read.get("password").is_none(), "{read}");
    let duplicate = sb
        .call(
            "POST",
            &format!("{path}/user"),
            Some(json!({ "name": "app", "roles": [] })),
        )
        .await;
    assert_answer(
        &duplicate,
        409,
        error(
            "Client::Conflict::MongodbUserAlreadyExist",
            "user \"app@admin\" already exist",
        ),
    );
    let bad_role = sb
        .call(
            "POST",
            &format!("{path}/user"),
            Some(json!({ "name": "x", "roles": ["readWrite"] })),
        )
        .await;
    assert_answer(
        &bad_role,
        404,
        error(
            "Client::NotFound::RoleNotFound",
            "Role readWrite does not exist",
        ),
    );
    let reset = sb
        .call("POST", &format!("{user_path}/credentials/reset"), None)
        .await;
    assert_eq!(reset.status, 200, "{reset:?}");
    assert_ne!(reset.body["password"].as_str().unwrap(), password);
    let roles = sb
        .call("PUT", &user_path, Some(json!({ "roles": ["read@orders"] })))
        .await;
    assert_eq!(roles.body["status"], "UPDATING", "{roles:?}");
    wait_ready(&sb, &user_path).await;
    let protected = sb
        .call("DELETE", &format!("{path}/user/{admin_id}"), None)
        .await;
    assert_eq!(
        (protected.status, &protected.body["class"]),
        (403, &json!("Client::Forbidden::UserDeletionForbidden"))
    );
    let removed = sb.call("DELETE", &user_path, None).await;
    assert_answer(&removed, 200, Value::Null);
    assert_eq!(
        sb.call("GET", &user_path, None).await.body["status"],
        "DELETING"
    );
    let user_id = user.body["id"].as_str().unwrap();
    let gone = wait_gone(&sb, &user_path).await;
    assert_answer(
        &gone,
        404,
        error(
            "Client::NotFound::UserNotFound",
            &format!("User {user_id} does not exist"),
        ),
    );

    // Deleting: DELETING, then gone.
    let deleted = sb.call("DELETE", &path, None).await;
    assert_answer(&deleted, 200, Value::Null);
    assert_eq!(sb.call("GET", &path, None).await.body["status"], "DELETING");
    let gone = wait_gone(&sb, &path).await;
    assert_answer(
        &gone,
        404,
        error(
            "Client::NotFound::ServiceNotFound",
            &format!("Service {id} does not exist"),
        ),
    );
    assert_answer(
        &sb.call("GET", &format!("{DB}/mongodb"), None).await,
        200,
        json!([]),
    );
}

#[tokio::test]
async fn creation_is_validated_against_the_catalogue() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let post = |body: Value| {
        let sb = &sb;
        async move { sb.call("POST", &format!("{DB}/mongodb"), Some(body)).await }
    };
    let with = |patch: Value| {
        let mut body = mongodb_body();
        for (key, value) in patch.as_object().unwrap() {
            if value.is_null() {
                body.as_object_mut().unwrap().remove(key);
            } else {
                body[key] = value.clone();
            }
        }
        body
    };

    let both = post(with(
        json!({ "nodesList": [{ "flavor": "db2-4", "region": "GRA" }] }),
    ))
    .await;
    assert_answer(
        &both,
        400,
        error(
            "Client::BadRequest::OnlyNodeListOrPattern",
            "You can only specify either nodeList or nodePattern, not both",
        ),
    );
    let neither = post(with(json!({ "nodesPattern": null }))).await;
    assert_answer(
        &neither,
        400,
        error(
            "Client::BadRequest::AtLeastOneNode",
            "At least one node must be specified",
        ),
    );
    let one = post(with(
        json!({ "nodesPattern": { "flavor": "db2-4", "number": 1, "region": "GRA" } }),
    ))
    .await;
    assert_answer(
        &one,
        400,
        error(
            "Client::BadRequest::NotEnoughNodes",
            "Minimum number of nodes for your offer is 3",
        ),
    );
    let nine = post(with(
        json!({ "nodesPattern": { "flavor": "db2-4", "number": 9, "region": "GRA" } }),
    ))
    .await;
    assert_answer(
        &nine,
        400,
        error(
            "Client::BadRequest::TooManyNodes",
            "Maximum number of nodes for your offer is 8",
        ),
    );
    let free = post(with(
        json!({ "nodesPattern": { "flavor": "db2-free", "number": 3, "region": "GRA" } }),
    ))
    .await;
    assert_answer(
        &free,
        404,
        error(
            "Client::NotFound::NoMatchingAvailability",
            "No offer matches your expectations, please refer to the availability endpoint",
        ),
    );
    let version = post(with(json!({ "version": "4.4" }))).await;
    assert_answer(
        &version,
        404,
        error(
            "Client::NotFound::VersionNotFound",
            "Version 4.4 does not exist",
        ),
    );
    let plan = post(with(json!({ "plan": "business" }))).await;
    assert_answer(
        &plan,
        404,
        error(
            "Client::NotFound::PlanNotFound",
            "Plan business does not exist",
        ),
    );
    let end_of_sale = post(with(json!({ "version": "6.0" }))).await;
    assert_answer(
        &end_of_sale,
        404,
        error(
            "Client::NotFound::AvailabilityDoesNotExistAnymore",
            "Your offer is not available anymore",
        ),
    );
    let too_big = post(with(json!({ "disk": { "size": 100 } }))).await;
    assert_answer(
        &too_big,
        400,
        error(
            "Client::BadRequest::FlavorDiskSizeTooLow",
            "Requested flavor db2-4 does not offer enough disk space. It has 80 GB while at least 100 is required",
        ),
    );
    let cidr = post(with(
        json!({ "ipRestrictions": [{ "ip": "10.0.0.300/24", "description": "x" }] }),
    ))
    .await;
    assert_answer(
        &cidr,
        404,
        error(
            "Client::NotFound::IpRestrictionInvalidFormat",
            "10.0.0.300/24 is not a valid ip restriction",
        ),
    );
    let unknown = post(with(json!({ "colour": "blue" }))).await;
    assert_eq!(
        (unknown.status, &unknown.body["class"]),
        (400, &json!("Client::BadRequest"))
    );
    assert!(
        unknown.body["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{unknown:?}"
    );
    let wrong_type = post(with(json!({ "disk": { "size": "big" } }))).await;
    assert_eq!(wrong_type.status, 400, "{wrong_type:?}");
    let cassandra = sb
        .call("POST", &format!("{DB}/cassandra"), Some(mongodb_body()))
        .await;
    assert_answer(
        &cassandra,
        404,
        error(
            "Client::NotFound::EngineNameNotFound",
            "Engine cassandra does not exist",
        ),
    );

    // An engine outside the EngineEnum is an unknown path.
    let engine = sb
        .call("POST", &format!("{DB}/mongo"), Some(mongodb_body()))
        .await;
    assert_answer(
        &engine,
        404,
        error(
            "Client::NotFound",
            "Got an invalid (or empty) URL: POST /1.0/cloud/project/p1/database/mongo",
        ),
    );
    let engine = sb.call("GET", &format!("{DB}/mongo/abc/user"), None).await;
    assert_eq!(
        (engine.status, &engine.body["class"]),
        (404, &json!("Client::NotFound"))
    );

    // Nothing was created by the refused requests.
    assert_answer(
        &sb.call("GET", &format!("{DB}/mongodb"), None).await,
        200,
        json!([]),
    );
}

#[tokio::test]
async fn an_unknown_project_does_not_exist() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let missing = error("Client::NotFound", "This service does not exist");
    for path in [
        "/cloud/project/nope/database/mongodb",
        "/cloud/project/nope/database/capabilities",
        "/cloud/project/nope/database/availability",
        "/cloud/project/nope/database/service",
    ] {
        assert_answer(&sb.call("GET", path, None).await, 404, missing.clone());
    }
    let post = sb
        .call(
            "POST",
            "/cloud/project/nope/database/mongodb",
            Some(mongodb_body()),
        )
        .await;
    assert_answer(&post, 404, missing);
    let service = sb
        .call(
            "GET",
            &format!("{DB}/mongodb/8d1b6a3e-0000-4000-8000-000000000000"),
            None,
        )
        .await;
    assert_answer(
        &service,
        404,
        error(
            "Client::NotFound::ServiceNotFound",
            "Service 8d1b6a3e-0000-4000-8000-000000000000 does not exist",
        ),
    );
}

#[tokio::test]
async fn capabilities_and_availability_have_the_real_shape() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let caps = sb.call("GET", &format!("{DB}/capabilities"), None).await;
    assert_eq!(caps.status, 200);
    let keys: Vec<_> = caps.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["disks", "engines", "flavors", "options", "plans", "regions"]
    );
    let mongodb = caps.body["engines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "mongodb")
        .unwrap();
    assert_eq!(mongodb["versions"], json!(["6.0", "7.0", "8.0"]));
    assert_eq!(mongodb["category"], "operational");

    let all = sb.call("GET", &format!("{DB}/availability"), None).await;
    let rows = all.body.as_array().unwrap();
    assert_eq!(rows.len(), 384);
    let row = rows
        .iter()
        .find(|r| {
            r["engine"] == "mongodb"
                && r["version"] == "7.0"
                && r["plan"] == "production"
                && r["region"] == "GRA"
        })
        .unwrap();
    assert_eq!(
        row["specifications"]["nodes"],
        json!({ "minimum": 3, "maximum": 8 })
    );
    assert_eq!(
        row["specifications"]["storage"]["step"],
        json!({ "unit": "GB", "value": 10 })
    );
    assert_eq!(row["lifecycle"]["status"], "STABLE");
    assert_eq!(row["minNodeNumber"], 3);
    assert!(rows
        .iter()
        .any(|r| r["lifecycle"]["status"] == "END_OF_SALE"));
    assert!(rows
        .iter()
        .any(|r| r["lifecycle"]["status"] == "DEPRECATED"));
    let explicit = sb
        .call("GET", &format!("{DB}/availability?action=create"), None)
        .await;
    assert_eq!(explicit.body.as_array().unwrap().len(), 384);

    let id = create(&sb, "postgresql", postgresql_body()).await;
    let flavors = sb
        .call(
            "GET",
            &format!("{DB}/availability?action=update&clusterId={id}&target=flavor"),
            None,
        )
        .await;
    let flavors: Vec<_> = flavors
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["flavor"].clone())
        .collect();
    assert_eq!(flavors, [json!("db1-7"), json!("db1-15")]);
    let own = sb
        .call(
            "GET",
            &format!("{DB}/availability?action=read&clusterId={id}"),
            None,
        )
        .await;
    assert_eq!(own.body.as_array().unwrap().len(), 1);
    assert_eq!(own.body[0]["region"], "SBG");
    let no_cluster = sb
        .call("GET", &format!("{DB}/availability?action=update"), None)
        .await;
    assert_eq!(no_cluster.status, 400, "{no_cluster:?}");
    let bad = sb
        .call("GET", &format!("{DB}/availability?action=destroy"), None)
        .await;
    assert_eq!(bad.status, 400, "{bad:?}");
}

#[tokio::test]
async fn users_follow_each_engines_model() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let pg = create(&sb, "postgresql", postgresql_body()).await;
    let pg_path = format!("{DB}/postgresql/{pg}");
    let early = sb
        .call(
            "POST",
            &format!("{pg_path}/user"),
            Some(json!({ "name": "app" })),
        )
        .await;
    assert_answer(
        &early,
        409,
        error(
            "Client::Conflict::ServiceNotReady",
            &format!("Service {pg} is not in state READY"),
        ),
    );
    let valkey = create(
        &sb,
        "valkey",
        json!({
            "plan": "essential",
            "version": "8.0",
            "nodesPattern": { "flavor": "db2-4", "number": 1, "region": "DE" },
        }),
    )
    .await;
    let valkey_path = format!("{DB}/valkey/{valkey}");
    let mysql = create(
        &sb,
        "mysql",
        json!({
            "description": "m",
            "plan": "essential",
            "version": "8",
            "nodesList": [{ "flavor": "db1-4", "region": "DE" }],
        }),
    )
    .await;
    let mysql_path = format!("{DB}/mysql/{mysql}");
    for path in [&pg_path, &valkey_path, &mysql_path] {
        wait_ready(&sb, path).await;
    }

    // postgresql: {name, roles}, avnadmin built in.
    let roles = sb.call("GET", &format!("{pg_path}/roles"), None).await;
    assert_answer(&roles, 200, json!(["replication"]));
    let user = sb
        .call(
            "POST",
            &format!("{pg_path}/user"),
            Some(json!({ "name": "app", "roles": ["replication"] })),
        )
        .await;
    assert_eq!(user.body["username"], "app", "{user:?}");
    assert_eq!(user.body["roles"], json!(["replication"]));
    let duplicate = sb
        .call(
            "POST",
            &format!("{pg_path}/user"),
            Some(json!({ "name": "avnadmin" })),
        )
        .await;
    assert_answer(
        &duplicate,
        409,
        error(
            "Client::Conflict::PostgresUserAlreadyExist",
            "user \"avnadmin\" already exist",
        ),
    );
    let invalid = sb
        .call(
            "POST",
            &format!("{pg_path}/user"),
            Some(json!({ "name": "bad:name" })),
        )
        .await;
    assert_answer(
        &invalid,
        400,
        error(
            "Client::BadRequest::UserInvalidNameFormat",
            "Username cannot contain any of '@:/;'\"'",
        ),
    );

    // valkey: the redis model, `default` built in.
    let ids = sb.call("GET", &format!("{valkey_path}/user"), None).await;
    let default = sb
        .call(
            "GET",
            &format!("{valkey_path}/user/{}", ids.body[0].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(default.body["username"], "default");
    assert_eq!(default.body["keys"], json!(["*"]));
    let body = json!({
        "name": "cache",
        "categories": ["+@read"],
        "channels": [],
        "commands": ["+get"],
        "keys": ["app:*"],
    });
    let user = sb
        .call("POST", &format!("{valkey_path}/user"), Some(body))
        .await;
    assert_eq!(user.body["keys"], json!(["app:*"]), "{user:?}");
    assert!(user.body["password"].is_string());
    let duplicate = sb
        .call(
            "POST",
            &format!("{valkey_path}/user"),
            Some(json!({ "name": "default" })),
        )
        .await;
    assert_answer(
        &duplicate,
        409,
        error(
            "Client::Conflict::RedisUserAlreadyExist",
            "user \"default\" already exist",
        ),
    );

    // mysql: {name} only, no PUT and no roles.
    let user = sb
        .call(
            "POST",
            &format!("{mysql_path}/user"),
            Some(json!({ "name": "shop" })),
        )
        .await;
    assert_eq!(user.status, 200, "{user:?}");
    assert!(user.body.get("roles").is_none() && user.body["password"].is_string());
    let roles = sb
        .call(
            "POST",
            &format!("{mysql_path}/user"),
            Some(json!({ "name": "x", "roles": [] })),
        )
        .await;
    assert_eq!(roles.status, 400, "{roles:?}");
    let put = sb
        .call(
            "PUT",
            &format!("{mysql_path}/user/{}", user.body["id"].as_str().unwrap()),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (put.status, &put.body["class"]),
        (404, &json!("Client::NotFound"))
    );
}

#[tokio::test]
async fn deletion_protection_refuses_a_delete_until_it_is_lifted() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let mut body = postgresql_body();
    body["deletionProtection"] = json!(true);
    let id = create(&sb, "postgresql", body).await;
    let path = format!("{DB}/postgresql/{id}");
    let refused = sb.call("DELETE", &path, None).await;
    assert_answer(
        &refused,
        409,
        error(
            "Client::Conflict::ServiceDeletionProtected",
            &format!("Service {id} cannot be deleted while deletionProtection is enabled"),
        ),
    );
    wait_ready(&sb, &path).await;
    let lifted = sb
        .call("PUT", &path, Some(json!({ "deletionProtection": false })))
        .await;
    assert_eq!(
        (lifted.status, &lifted.body["status"]),
        (200, &json!("READY")),
        "{lifted:?}"
    );
    assert_answer(&sb.call("DELETE", &path, None).await, 200, Value::Null);
    assert_eq!(wait_gone(&sb, &path).await.status, 404);

    // A service can be deleted while it is still being created.
    let id = create(&sb, "postgresql", postgresql_body()).await;
    let path = format!("{DB}/postgresql/{id}");
    assert_answer(&sb.call("DELETE", &path, None).await, 200, Value::Null);
    assert_eq!(sb.call("GET", &path, None).await.body["status"], "DELETING");
    assert_eq!(wait_gone(&sb, &path).await.status, 404);
}

#[tokio::test]
async fn a_stuck_ip_stays_pending_without_blocking_the_service() {
    let sb = TestSandbox::start_with(SandboxConfig {
        projects: vec!["p1".into()],
        ready_after: READY_AFTER,
        stuck_pending: vec!["198.51.100.7/32".into()],
        ..paused_config()
    })
    .await;
    let mut body = mongodb_body();
    body["ipRestrictions"] = json!([
        { "ip": "198.51.100.7", "description": "stuck" },
        { "ip": "203.0.113.0/24", "description": "fine" },
    ]);
    let id = create(&sb, "mongodb", body).await;
    let path = format!("{DB}/mongodb/{id}");
    let ready = wait_ready(&sb, &path).await;
    sb.advance(READY_AFTER * 2);
    let service = sb.call("GET", &path, None).await;
    assert_eq!(service.body["status"], "READY");
    assert_eq!(
        service.body["ipRestrictions"][0]["status"], "PENDING",
        "{ready}"
    );
    assert_eq!(service.body["ipRestrictions"][1]["status"], "READY");
    let entry = sb
        .call(
            "GET",
            &format!("{path}/ipRestriction/198.51.100.7%2F32"),
            None,
        )
        .await;
    assert_eq!(entry.body["status"], "PENDING");
    let changed = sb
        .call("PUT", &path, Some(json!({ "description": "still works" })))
        .await;
    assert_eq!(changed.status, 200, "{changed:?}");
}

#[tokio::test]
async fn a_create_answered_500_still_happened() {
    let sb = TestSandbox::start_with(SandboxConfig {
        projects: vec!["p1".into()],
        ready_after: READY_AFTER,
        created_but_500: 1.0,
        ..paused_config()
    })
    .await;
    let internal = error("Server::InternalServerError", "Internal server error");
    let answer = sb
        .call("POST", &format!("{DB}/postgresql"), Some(postgresql_body()))
        .await;
    assert_answer(&answer, 500, internal.clone());
    let ids = sb.call("GET", &format!("{DB}/postgresql"), None).await;
    assert_eq!(ids.body.as_array().unwrap().len(), 1, "{ids:?}");
    let path = format!("{DB}/postgresql/{}", ids.body[0].as_str().unwrap());
    wait_ready(&sb, &path).await;

    // https://github.com/ovh/terraform-provider-ovh/issues/1306: POST user answered 500, the user
    // exists, the retry gets 409.
    let user = sb
        .call(
            "POST",
            &format!("{path}/user"),
            Some(json!({ "name": "app" })),
        )
        .await;
    assert_answer(&user, 500, internal);
    assert_eq!(
        sb.call("GET", &format!("{path}/user"), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let retry = sb
        .call(
            "POST",
            &format!("{path}/user"),
            Some(json!({ "name": "app" })),
        )
        .await;
    assert_answer(
        &retry,
        409,
        error(
            "Client::Conflict::PostgresUserAlreadyExist",
            "user \"app\" already exist",
        ),
    );
}

#[tokio::test]
async fn services_survive_a_restart_on_the_same_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        projects: vec!["p1".into()],
        ready_after: READY_AFTER,
        state_file: Some(dir.path().join("state.json")),
        ..paused_config()
    };
    let sb = TestSandbox::start_with(config.clone()).await;
    let id = create(&sb, "mongodb", mongodb_body()).await;
    let before = wait_ready(&sb, &format!("{DB}/mongodb/{id}")).await;
    drop(sb);

    let sb = TestSandbox::start_with(config).await;
    let after = sb.call("GET", &format!("{DB}/mongodb/{id}"), None).await;
    assert_eq!(after.status, 200, "{after:?}");
    assert_eq!(after.body, before);
}

#[tokio::test]
async fn node_and_plan_changes_keep_the_node_count_in_range() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let id = create(&sb, "mongodb", mongodb_body()).await;
    let path = format!("{DB}/mongodb/{id}");
    wait_ready(&sb, &path).await;

    // mongodb nodes can be added and removed one by one.
    let wrong = sb
        .call(
            "POST",
            &format!("{path}/node"),
            Some(json!({ "flavor": "db2-8", "region": "GRA" })),
        )
        .await;
    assert_answer(
        &wrong,
        400,
        error(
            "Client::BadRequest::NodesFlavorMismatch",
            "All the nodes must have the same flavor",
        ),
    );
    let node = sb
        .call(
            "POST",
            &format!("{path}/node"),
            Some(json!({ "flavor": "db2-4", "region": "GRA", "role": "ANALYTICS" })),
        )
        .await;
    assert_eq!(
        (node.status, &node.body["role"]),
        (200, &json!("ANALYTICS")),
        "{node:?}"
    );
    let service = wait_ready(&sb, &path).await;
    assert_eq!(service["nodeNumber"], 4);
    assert!(service["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["component"] == "mongodbSrvAnalytics"));
    let node_path = format!("{path}/node/{}", node.body["id"].as_str().unwrap());
    assert_answer(&sb.call("DELETE", &node_path, None).await, 200, Value::Null);
    wait_ready(&sb, &path).await;
    assert_eq!(wait_gone(&sb, &node_path).await.status, 404);

    // Other engines have no node writes.
    let pg = create(&sb, "postgresql", postgresql_body()).await;
    let pg_path = format!("{DB}/postgresql/{pg}");
    let post = sb
        .call(
            "POST",
            &format!("{pg_path}/node"),
            Some(json!({ "flavor": "db1-7", "region": "SBG" })),
        )
        .await;
    assert_eq!(post.status, 404, "{post:?}");

    // A plan upgrade moves the node count into the new plan's range; a downgrade is refused.
    wait_ready(&sb, &pg_path).await;
    let upgraded = sb
        .call(
            "PUT",
            &pg_path,
            Some(json!({ "plan": "enterprise", "flavor": "db1-15" })),
        )
        .await;
    assert_eq!(upgraded.status, 200, "{upgraded:?}");
    assert_eq!(upgraded.body["nodeNumber"], 3);
    assert_eq!(upgraded.body["disk"]["size"], 320);
    wait_ready(&sb, &pg_path).await;
    let down = sb
        .call("PUT", &pg_path, Some(json!({ "plan": "business" })))
        .await;
    assert_answer(
        &down,
        404,
        error(
            "Client::NotFound::PlanInvalidUpgrade",
            "You cannot upgrade plan enterprise to business",
        ),
    );
    let network = sb
        .call(
            "PUT",
            &pg_path,
            Some(json!({ "networkId": "2b1ab0f4-1d6a-4c43-a0a6-4a6e6a3b6d0c" })),
        )
        .await;
    assert_eq!(
        (network.status, &network.body["class"]),
        (400, &json!("Client::BadRequest"))
    );
}

/// Terraform's provider reads `advancedConfiguration` after every create of an engine other
/// than mongodb, and tainted the resource on the 404 the sandbox answered. The route now
/// exists for every engine, and a PUT validates names and values.
#[tokio::test]
async fn advanced_configuration_is_served_and_validated_for_every_engine() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let id = create(&sb, "postgresql", postgresql_body()).await;
    let path = format!("{DB}/postgresql/{id}");
    let settings = format!("{path}/advancedConfiguration");

    assert_answer(&sb.call("GET", &settings, None).await, 200, json!({}));
    let busy = sb
        .call("PUT", &settings, Some(json!({"pg.jit": "true"})))
        .await;
    assert_answer(
        &busy,
        409,
        error(
            "Client::Conflict::ServiceNotReady",
            &format!("Service {id} is not in state READY"),
        ),
    );
    wait_ready(&sb, &path).await;

    let wanted = json!({"pg.log_min_duration_statement": "1000", "pg.jit": "false"});
    assert_answer(
        &sb.call("PUT", &settings, Some(wanted.clone())).await,
        200,
        wanted.clone(),
    );
    assert_answer(&sb.call("GET", &settings, None).await, 200, wanted.clone());
    // Applied at once: the service stays READY and takes the next change straight away.
    assert_eq!(sb.call("GET", &path, None).await.body["status"], "READY");
    assert_answer(
        &sb.call("PUT", &settings, Some(wanted.clone())).await,
        200,
        wanted,
    );

    let refused = [
        (
            json!({"pg.log_min_duration_statement": "-5"}),
            "pg.log_min_duration_statement: \"-5\" is not an integer from -1 to 86400000",
        ),
        (
            json!({"pg.jit": 1}),
            "pg.jit: the value must be a JSON string, got 1",
        ),
        (
            json!({"pg.track_io_timing": "sometimes"}),
            "pg.track_io_timing: \"sometimes\" is not one of off, on",
        ),
    ];
    for (body, message) in refused {
        assert_answer(
            &sb.call("PUT", &settings, Some(body)).await,
            400,
            error("Client::BadRequest::InvalidAdvancedConfiguration", message),
        );
    }
    let unknown = sb
        .call("PUT", &settings, Some(json!({"mysql.sql_mode": "ANSI"})))
        .await;
    assert_eq!(unknown.status, 400, "{unknown:?}");
    assert!(
        unknown.body["message"].as_str().unwrap().starts_with(
            "mysql.sql_mode is not an advanced configuration property of postgresql; known: "
        ),
        "{unknown:?}"
    );
    // A refused PUT changes nothing.
    assert_eq!(
        sb.call("GET", &settings, None).await.body["pg.log_min_duration_statement"],
        "1000"
    );

    let properties = sb
        .call(
            "GET",
            &format!("{path}/capabilities/advancedConfiguration"),
            None,
        )
        .await;
    assert_eq!(properties.status, 200, "{properties:?}");
    let jit = properties
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "pg.jit");
    assert_eq!(jit.unwrap()["type"], "boolean");

    let mongodb = create(&sb, "mongodb", mongodb_body()).await;
    assert_answer(
        &sb.call(
            "GET",
            &format!("{DB}/mongodb/{mongodb}/advancedConfiguration"),
            None,
        )
        .await,
        200,
        json!({}),
    );
}

/// The routes that exist for some engines only (node changes: mongodb; user updates: not mysql;
/// roles: mongodb and postgresql) answer like unknown paths for the other engines, before the
/// body is read (a body that does not parse gets the same answer), and whether or not the
/// service exists.
#[tokio::test]
async fn engine_only_routes_are_unknown_paths_for_the_other_engines() {
    let sb = TestSandbox::paused(READY_AFTER).await;
    let id = create(&sb, "postgresql", postgresql_body()).await;
    let unknown = |method: &str, path: &str| {
        error(
            "Client::NotFound",
            &format!("Got an invalid (or empty) URL: {method} /1.0{path}"),
        )
    };
    let cases = [
        (
            "POST",
            format!("{DB}/postgresql/{id}/node"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("{DB}/postgresql/{id}/node"),
            Some(json!("not a node")),
        ),
        (
            "PUT",
            format!("{DB}/postgresql/{id}/node/n1"),
            Some(json!({})),
        ),
        ("DELETE", format!("{DB}/postgresql/{id}/node/n1"), None),
        ("PUT", format!("{DB}/mysql/absent/user/u1"), Some(json!({}))),
        ("GET", format!("{DB}/mysql/absent/roles"), None),
        ("GET", format!("{DB}/redis/absent/roles"), None),
    ];
    for (method, path, body) in cases {
        let answer = sb.call(method, &path, body).await;
        assert_answer(&answer, 404, unknown(method, &path));
    }
    // The same routes exist for mongodb: a missing service is the service's 404, not the path's.
    let missing = sb
        .call("DELETE", &format!("{DB}/mongodb/absent/node/n1"), None)
        .await;
    assert_answer(
        &missing,
        404,
        error(
            "Client::NotFound::ServiceNotFound",
            "Service absent does not exist",
        ),
    );
}
