//! The sandbox's Web Hosting routes: every answer checked against the real OpenAPI schema
//! (`tests/fixtures/webhosting.json`, strictly: no invented property, every declared one present), then the
//! life of attached domains, SSL, hosting databases and tasks, and the exact error bodies.

use crate::openapi::{OpenApi, Strictness};
use crate::support::{Answer, TestSandbox};
use reconcile::sandbox::hosting::ROUTES;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

const H: &str = "h1.cluster021.hosting.ovh.net";
const BASE: &str = "/hosting/web/h1.cluster021.hosting.ovh.net";
/// The OVH Web Hosting OpenAPI export, vendored (origin in `tests/fixtures/README.md`).
const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/webhosting.json"
);
const DEADLINE: Duration = Duration::from_secs(10);

fn api() -> &'static OpenApi {
    static API: OnceLock<OpenApi> = OnceLock::new();
    API.get_or_init(|| OpenApi::load(SCHEMA))
}

/// Calls routes, checks each 200 answer against the schema, and remembers which operations
/// were checked.
struct Walk<'a> {
    ts: &'a TestSandbox,
    checked: BTreeSet<(String, String)>,
    problems: Vec<String>,
}

impl<'a> Walk<'a> {
    fn new(ts: &'a TestSandbox) -> Self {
        Walk {
            ts,
            checked: BTreeSet::new(),
            problems: Vec::new(),
        }
    }

    /// A call that must answer 200 with a valid body.
    async fn ok(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = self.ts.call(method, path, body).await;
        assert_eq!(answer.status, 200, "{method} {path}: {}", answer.body);
        self.check(method, path, &answer);
        answer.body
    }

    /// A read of an object that may have just gone away (404 is skipped, not checked).
    async fn maybe(&mut self, path: &str) -> Option<Value> {
        let answer = self.ts.call("GET", path, None).await;
        match answer.status {
            200 => {
                self.check("GET", path, &answer);
                Some(answer.body)
            }
            404 => None,
            other => panic!("GET {path}: {other} {}", answer.body),
        }
    }

    fn check(&mut self, method: &str, path: &str, answer: &Answer) {
        let route = path.split('?').next().unwrap_or(path);
        match api().validate_response(method, route, &answer.body, Strictness::EVERY_PROPERTY) {
            Ok(template) => {
                self.checked.insert((method.to_string(), template));
            }
            Err(violations) => {
                let lines: Vec<String> = violations.iter().map(|v| format!("    {v}")).collect();
                self.problems
                    .push(format!("{method} {path}:\n{}", lines.join("\n")));
            }
        }
    }

    /// Every GET route, in whatever state the hosting is.
    async fn read_everything(&mut self) {
        self.ok("GET", "/hosting/web", None).await;
        self.ok("GET", BASE, None).await;
        self.ok(
            "GET",
            "/hosting/web/attachedDomain?domain=www.example.com",
            None,
        )
        .await;
        self.ok("GET", &format!("{BASE}/attachedDomain"), None)
            .await;
        self.ok(
            "GET",
            &format!("{BASE}/attachedDomain?domain=%25example.com&path=www"),
            None,
        )
        .await;
        let domains = self
            .ok("GET", &format!("{BASE}/attachedDomain"), None)
            .await;
        for domain in domains.as_array().unwrap() {
            let domain = domain.as_str().unwrap();
            self.maybe(&format!("{BASE}/attachedDomain/{domain}")).await;
            self.maybe(&format!("{BASE}/attachedDomain/{domain}/digStatus"))
                .await;
        }
        self.maybe(&format!("{BASE}/ssl")).await;
        self.maybe(&format!("{BASE}/ssl/domains")).await;
        self.maybe(&format!("{BASE}/ssl/report")).await;
        self.ok(
            "GET",
            &format!("{BASE}/database?type=mysql&user=h1%25&mode=classic"),
            None,
        )
        .await;
        let databases = self.ok("GET", &format!("{BASE}/database"), None).await;
        for name in databases.as_array().unwrap() {
            self.maybe(&format!("{BASE}/database/{}", name.as_str().unwrap()))
                .await;
        }
        self.ok("GET", &format!("{BASE}/databaseCreationCapabilities"), None)
            .await;
        self.ok("GET", &format!("{BASE}/databaseAvailableType"), None)
            .await;
        for engine in ["mysql", "mariadb", "postgresql", "redis"] {
            self.ok(
                "GET",
                &format!("{BASE}/databaseAvailableVersion?type={engine}"),
                None,
            )
            .await;
        }
        self.ok(
            "GET",
            &format!("{BASE}/tasks?function=attachedDomain%2F%25&status=doing"),
            None,
        )
        .await;
        let tasks = self.ok("GET", &format!("{BASE}/tasks"), None).await;
        for id in tasks.as_array().unwrap() {
            self.maybe(&format!("{BASE}/tasks/{id}")).await;
        }
    }
}

/// Polls `path` until `field` is `want`; fails the test at the deadline.
async fn settle(ts: &TestSandbox, path: &str, field: &str, want: &str) -> Value {
    let body = ts.wait_for(path, field, want, DEADLINE).await;
    assert_eq!(
        body[field], want,
        "{path} never reached {field}={want}: {body}"
    );
    body
}

/// Polls `path` until it answers 404; returns that answer's body.
async fn gone(ts: &TestSandbox, path: &str) -> Value {
    let start = ts.now();
    loop {
        let answer = ts.call("GET", path, None).await;
        if answer.status == 404 {
            return answer.body;
        }
        assert!(
            ts.elapsed(start) < DEADLINE,
            "{path} is still there: {}",
            answer.body
        );
        ts.let_pass(Duration::from_millis(20)).await;
    }
}

/// Asserts an error answer, status and exact body.
fn assert_error(answer: &Answer, status: u16, class: &str, message: &str) {
    assert_eq!(
        (answer.status, &answer.body),
        (status, &json!({ "class": class, "message": message })),
    );
}

#[tokio::test]
async fn every_hosting_route_answers_what_the_real_schema_declares() {
    let ts = TestSandbox::paused(Duration::from_millis(300)).await;
    let mut walk = Walk::new(&ts);
    walk.ok("PUT", BASE, Some(json!({ "displayName": "My site" })))
        .await;

    // Writes, then every read while their tasks run.
    let attach = json!({
        "domain": "www.example.com", "path": "www", "ssl": true, "cdn": "active", "firewall": "active",
        "ownLog": "www.example.com", "runtimeId": 1, "ipLocation": "FR", "bypassDNSConfiguration": false,
    });
    walk.ok("POST", &format!("{BASE}/attachedDomain"), Some(attach))
        .await;
    let database = json!({
        "capabilitie": "sqlPerso", "type": "mysql", "user": "h1blog", "password": "Sandbox2024", "version": "8.0",
    });
    walk.ok("POST", &format!("{BASE}/database"), Some(database))
        .await;
    walk.ok("POST", &format!("{BASE}/ssl"), Some(json!({})))
        .await;
    walk.read_everything().await;

    // Settled.
    let domain = format!("{BASE}/attachedDomain/www.example.com");
    let db = format!("{BASE}/database/h1blog.mysql.db");
    let ssl = format!("{BASE}/ssl");
    settle(&ts, &domain, "status", "created").await;
    settle(&ts, &db, "status", "created").await;
    settle(&ts, &ssl, "status", "created").await;
    walk.read_everything().await;

    // Every other write.
    walk.ok("PUT", &domain, Some(json!({ "path": "blog", "ssl": true })))
        .await;
    settle(&ts, &domain, "status", "created").await;
    walk.ok("POST", &format!("{domain}/restart"), None).await;
    walk.ok("POST", &format!("{domain}/purgeCache"), None).await;
    walk.ok(
        "POST",
        &format!("{db}/changePassword"),
        Some(json!({ "password": "Another2025" })),
    )
    .await;
    walk.ok("POST", &format!("{ssl}/regenerate"), None).await;
    walk.read_everything().await;
    settle(&ts, &domain, "status", "created").await;
    settle(&ts, &db, "status", "created").await;
    settle(&ts, &ssl, "status", "created").await;
    walk.ok("DELETE", &db, None).await;
    walk.ok(
        "DELETE",
        &format!("{domain}?bypassDNSConfiguration=true"),
        None,
    )
    .await;
    walk.ok("DELETE", &ssl, None).await;
    walk.read_everything().await;

    assert!(
        walk.problems.is_empty(),
        "answers that break the schema:\n{}",
        walk.problems.join("\n")
    );
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let unchecked: Vec<_> = served.difference(&walk.checked).collect();
    assert!(
        unchecked.is_empty(),
        "routes the walk never checked: {unchecked:?}"
    );
    let unknown: Vec<_> = walk.checked.difference(&served).collect();
    assert!(
        unknown.is_empty(),
        "checked routes missing from ROUTES: {unknown:?}"
    );
}

#[tokio::test]
async fn the_hosting_service_is_derived_from_its_name() {
    let ts = TestSandbox::paused(Duration::from_millis(300)).await;
    assert_eq!(ts.call("GET", "/hosting/web", None).await.body, json!([H]));
    let service = ts.call("GET", BASE, None).await.body;
    assert_eq!(service["serviceName"], H);
    assert_eq!(service["cluster"], "cluster021");
    assert_eq!(service["primaryLogin"], "h1");
    assert_eq!(service["state"], "active");
    assert_eq!(service["hasHostedSsl"], false);
    assert_eq!(service["defaultAttachedDomain"], H);
    assert!(
        service["home"].as_str().unwrap().ends_with("/h1"),
        "{service}"
    );
    // The default domain is attached from the start and cannot be detached.
    assert_eq!(
        ts.call("GET", &format!("{BASE}/attachedDomain"), None)
            .await
            .body,
        json!([H])
    );
    let refused = ts
        .call("DELETE", &format!("{BASE}/attachedDomain/{H}"), None)
        .await;
    assert_error(
        &refused,
        403,
        "Client::Forbidden",
        &format!("{H} is the default attached domain of this hosting and cannot be detached"),
    );
    let put = ts
        .call("PUT", BASE, Some(json!({ "cluster": "cluster001" })))
        .await;
    assert_error(
        &put,
        400,
        "Client::BadRequest",
        "[cluster] Property is read-only",
    );
}

#[tokio::test]
async fn attaching_a_domain_runs_a_task_todo_doing_done_then_404() {
    let ts = TestSandbox::paused(Duration::from_millis(600)).await;
    let task = ts
        .call(
            "POST",
            &format!("{BASE}/attachedDomain"),
            Some(json!({ "domain": "shop.example.com", "path": "shop" })),
        )
        .await;
    assert_eq!(task.status, 200, "{}", task.body);
    let task = task.body;
    assert_eq!(task["function"], "attachedDomain/create");
    assert_eq!(task["objectType"], "AttachedDomain");
    assert_eq!(task["objectId"], "shop.example.com");
    assert_eq!(task["status"], "todo");
    assert_eq!(task["doneDate"], Value::Null);
    let id = task["id"].as_u64().unwrap();

    let domain = ts
        .call(
            "GET",
            &format!("{BASE}/attachedDomain/shop.example.com"),
            None,
        )
        .await
        .body;
    assert_eq!(domain["status"], "creating");
    assert_eq!(domain["taskId"], id);
    assert_eq!(domain["path"], "shop");
    assert_eq!(
        (&domain["ssl"], &domain["cdn"], &domain["firewall"]),
        (&json!(false), &json!("none"), &json!("none"))
    );
    let listed = ts
        .call(
            "GET",
            &format!("{BASE}/tasks?function=attachedDomain/create"),
            None,
        )
        .await
        .body;
    assert_eq!(listed, json!([id]));

    // Watch the task until it is gone: todo -> doing -> done -> 404.
    let task_path = format!("{BASE}/tasks/{id}");
    let mut seen = vec!["todo".to_string()];
    let start = ts.now();
    let last = loop {
        let answer = ts.call("GET", &task_path, None).await;
        if answer.status == 404 {
            break answer;
        }
        let status = answer.body["status"].as_str().unwrap().to_string();
        if status == "done" {
            assert!(answer.body["doneDate"].is_string(), "{}", answer.body);
            let domain = ts
                .call(
                    "GET",
                    &format!("{BASE}/attachedDomain/shop.example.com"),
                    None,
                )
                .await
                .body;
            assert_eq!(
                (&domain["status"], &domain["taskId"]),
                (&json!("created"), &Value::Null)
            );
        }
        if seen.last() != Some(&status) {
            seen.push(status);
        }
        assert!(ts.elapsed(start) < DEADLINE, "task stuck: {}", answer.body);
        ts.let_pass(Duration::from_millis(20)).await;
    };
    assert_eq!(seen, ["todo", "doing", "done"]);
    assert_error(
        &last,
        404,
        "Client::NotFound",
        &format!("The requested object (id = {id}) does not exist"),
    );
    assert_eq!(
        ts.call("GET", &format!("{BASE}/tasks"), None).await.body,
        json!([])
    );
    let found = ts
        .call(
            "GET",
            "/hosting/web/attachedDomain?domain=shop.example.com",
            None,
        )
        .await
        .body;
    assert_eq!(found, json!([H]));
}

#[tokio::test]
async fn a_put_updates_in_a_task_and_answers_null() {
    let ts = TestSandbox::paused(Duration::from_millis(600)).await;
    let path = format!("{BASE}/attachedDomain/blog.example.com");
    let created = ts
        .call(
            "POST",
            &format!("{BASE}/attachedDomain"),
            Some(json!({ "domain": "blog.example.com" })),
        )
        .await;
    assert_eq!(created.status, 200);
    // A write while the create task runs is refused.
    let busy = ts.call("PUT", &path, Some(json!({ "path": "blog" }))).await;
    assert_eq!(
        (busy.status, &busy.body["class"]),
        (409, &json!("Client::Conflict::TaskInProgress"))
    );
    let message = busy.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Attached domain blog.example.com is busy with task "),
        "{message}"
    );
    assert!(message.contains("(attachedDomain/create, "), "{message}");

    settle(&ts, &path, "status", "created").await;
    let put = ts
        .call(
            "PUT",
            &path,
            Some(json!({ "path": "blog", "firewall": "active", "ipLocation": "DE" })),
        )
        .await;
    assert_eq!((put.status, &put.body), (200, &Value::Null));
    let updating = ts.call("GET", &path, None).await.body;
    assert_eq!(updating["status"], "updating");
    assert_eq!(updating["path"], "blog");
    assert_eq!(updating["ipLocation"], "DE");
    let id = updating["taskId"].as_u64().expect("taskId while updating");
    let listed = ts
        .call(
            "GET",
            &format!("{BASE}/tasks?function=attachedDomain/update"),
            None,
        )
        .await
        .body;
    assert_eq!(listed, json!([id]));
    let task = ts
        .call("GET", &format!("{BASE}/tasks/{id}"), None)
        .await
        .body;
    assert_eq!(
        (&task["function"], &task["objectId"]),
        (&json!("attachedDomain/update"), &json!("blog.example.com"))
    );
    let done = settle(&ts, &path, "status", "created").await;
    assert_eq!(
        (&done["path"], &done["firewall"], &done["taskId"]),
        (&json!("blog"), &json!("active"), &Value::Null)
    );
    let filtered = ts
        .call("GET", &format!("{BASE}/attachedDomain?path=blog"), None)
        .await
        .body;
    assert_eq!(filtered, json!(["blog.example.com"]));

    // Renaming through a PUT is refused; a delete goes deleting -> gone.
    let rename = ts
        .call("PUT", &path, Some(json!({ "domain": "other.example.com" })))
        .await;
    assert_eq!(rename.status, 400, "{}", rename.body);
    let deleted = ts
        .call(
            "DELETE",
            &format!("{path}?bypassDNSConfiguration=true"),
            None,
        )
        .await;
    assert_eq!(
        (&deleted.body["function"], &deleted.body["status"]),
        (&json!("attachedDomain/delete"), &json!("todo"))
    );
    assert_eq!(ts.call("GET", &path, None).await.body["status"], "deleting");
    let body = gone(&ts, &path).await;
    assert_eq!(
        body,
        json!({ "class": "Client::NotFound", "message": "The requested object (domain = blog.example.com) does not exist" })
    );
}

#[tokio::test]
async fn the_certificate_covers_the_ssl_domains_it_was_issued_for() {
    let ts = TestSandbox::paused(Duration::from_millis(400)).await;
    let ssl = format!("{BASE}/ssl");
    assert_error(
        &ts.call("GET", &ssl, None).await,
        404,
        "Client::NotFound",
        "This hosting has no SSL certificate",
    );
    for (domain, on) in [("a.example.com", true), ("b.example.com", false)] {
        let body = json!({ "domain": domain, "path": "www", "ssl": on });
        assert_eq!(
            ts.call("POST", &format!("{BASE}/attachedDomain"), Some(body))
                .await
                .status,
            200
        );
    }
    let ordered = ts.call("POST", &ssl, None).await.body;
    assert_eq!(
        (&ordered["status"], &ordered["provider"], &ordered["type"]),
        (&json!("creating"), &json!("LETSENCRYPT"), &json!("DV"))
    );
    assert!(ordered["taskId"].is_u64(), "{ordered}");
    assert_eq!(
        ts.call("GET", &format!("{ssl}/domains"), None).await.body,
        json!([])
    );
    let again = ts.call("POST", &ssl, None).await;
    assert_eq!(again.status, 409, "{}", again.body);
    settle(&ts, &ssl, "status", "created").await;
    assert_eq!(
        ts.call("GET", &format!("{ssl}/domains"), None).await.body,
        json!(["a.example.com"])
    );
    assert_eq!(ts.call("GET", BASE, None).await.body["hasHostedSsl"], true);
    assert_eq!(
        ts.call("GET", &format!("{ssl}/report"), None).await.body["domainControlValidationStatus"],
        "completed"
    );

    // Turning ssl on for b needs a regeneration before the certificate covers it.
    let b = format!("{BASE}/attachedDomain/b.example.com");
    settle(&ts, &b, "status", "created").await;
    assert_eq!(
        ts.call("PUT", &b, Some(json!({ "ssl": true })))
            .await
            .status,
        200
    );
    settle(&ts, &b, "status", "created").await;
    assert_eq!(
        ts.call("GET", &format!("{ssl}/domains"), None).await.body,
        json!(["a.example.com"])
    );
    let regenerating = ts
        .call("POST", &format!("{ssl}/regenerate"), None)
        .await
        .body;
    assert_eq!(regenerating["status"], "regenerating");
    assert_eq!(regenerating["regenerable"], false);
    let tasks = ts
        .call(
            "GET",
            &format!("{BASE}/tasks?function=hostedssl/regenerate"),
            None,
        )
        .await
        .body;
    assert_eq!(tasks, json!([regenerating["taskId"]]));
    let busy = ts.call("DELETE", &ssl, None).await;
    assert_eq!(
        (busy.status, &busy.body["class"]),
        (409, &json!("Client::Conflict::TaskInProgress"))
    );
    assert_eq!(
        ts.call("GET", &format!("{ssl}/domains"), None).await.body,
        json!(["a.example.com"])
    );
    settle(&ts, &ssl, "status", "created").await;
    assert_eq!(
        ts.call("GET", &format!("{ssl}/domains"), None).await.body,
        json!(["a.example.com", "b.example.com"])
    );

    let deleting = ts.call("DELETE", &ssl, None).await.body;
    assert_eq!(deleting["status"], "deleting");
    let body = gone(&ts, &ssl).await;
    assert_eq!(
        body,
        json!({ "class": "Client::NotFound", "message": "This hosting has no SSL certificate" })
    );
    assert_eq!(ts.call("GET", BASE, None).await.body["hasHostedSsl"], false);

    // An import needs a certificate and a key.
    let half = ts.call("POST", &ssl, Some(json!({ "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----" }))).await;
    assert_eq!(half.status, 400, "{}", half.body);
    let pem = |kind: &str| format!("-----BEGIN {kind}-----\nMIIB\n-----END {kind}-----\n");
    let imported = ts
        .call(
            "POST",
            &ssl,
            Some(json!({ "certificate": pem("CERTIFICATE"), "key": pem("PRIVATE KEY") })),
        )
        .await
        .body;
    assert_eq!(
        (&imported["status"], &imported["provider"]),
        (&json!("importing"), &json!("CUSTOM"))
    );
}

#[tokio::test]
async fn a_hosting_database_is_created_changed_and_deleted_in_tasks() {
    let ts = TestSandbox::paused(Duration::from_millis(400)).await;
    let capabilities = ts
        .call("GET", &format!("{BASE}/databaseCreationCapabilities"), None)
        .await
        .body;
    let sql_perso = |caps: &Value| {
        caps.as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "sqlPerso")
            .unwrap()["available"]
            .clone()
    };
    assert_eq!(sql_perso(&capabilities), 3);
    let versions = ts
        .call(
            "GET",
            &format!("{BASE}/databaseAvailableVersion?type=mysql"),
            None,
        )
        .await
        .body;
    assert_eq!(
        versions,
        json!({ "default": "8.0", "list": ["5.7", "8.0", "8.4"] })
    );

    let body = json!({ "capabilitie": "sqlPerso", "type": "mysql", "user": "h1shop", "password": "Sandbox2024" });
    let task = ts
        .call("POST", &format!("{BASE}/database"), Some(body.clone()))
        .await
        .body;
    assert_eq!(
        (&task["function"], &task["objectId"], &task["objectType"]),
        (
            &json!("database/create"),
            &json!("h1shop.mysql.db"),
            &json!("Database")
        )
    );
    let path = format!("{BASE}/database/h1shop.mysql.db");
    let creating = ts.call("GET", &path, None).await.body;
    assert_eq!(
        (&creating["status"], &creating["taskId"]),
        (&json!("creating"), &task["id"])
    );
    assert_eq!(
        (&creating["version"], &creating["server"], &creating["port"]),
        (&json!("8.0"), &json!("h1shop.mysql.db"), &json!(3306))
    );
    assert!(creating.get("password").is_none(), "{creating}");
    assert_eq!(
        sql_perso(
            &ts.call("GET", &format!("{BASE}/databaseCreationCapabilities"), None)
                .await
                .body
        ),
        2
    );
    let twice = ts
        .call("POST", &format!("{BASE}/database"), Some(body))
        .await;
    assert_error(
        &twice,
        409,
        "Client::Conflict",
        "The database h1shop.mysql.db already exists",
    );
    let listed = ts
        .call(
            "GET",
            &format!("{BASE}/database?user=h1%25&type=mysql"),
            None,
        )
        .await
        .body;
    assert_eq!(listed, json!(["h1shop.mysql.db"]));
    assert_eq!(
        ts.call("GET", &format!("{BASE}/database?type=postgresql"), None)
            .await
            .body,
        json!([])
    );

    let created = settle(&ts, &path, "status", "created").await;
    assert_eq!(
        (&created["state"], &created["taskId"]),
        (&json!("ok"), &Value::Null)
    );
    assert!(created["lastCheck"].is_string(), "{created}");

    let weak = ts
        .call(
            "POST",
            &format!("{path}/changePassword"),
            Some(json!({ "password": "weak" })),
        )
        .await;
    assert_error(&weak, 400, "Client::BadRequest", "[password] The password must be 8 to 30 characters long, with at least one lower-case letter, one upper-case letter and one digit, and no space, quote or backslash");
    let change = ts
        .call(
            "POST",
            &format!("{path}/changePassword"),
            Some(json!({ "password": "Another2025" })),
        )
        .await
        .body;
    assert_eq!(change["function"], "database/changePassword");
    assert_eq!(ts.call("GET", &path, None).await.body["status"], "updating");
    let busy = ts.call("DELETE", &path, None).await;
    assert_eq!(
        (busy.status, &busy.body["class"]),
        (409, &json!("Client::Conflict::TaskInProgress"))
    );
    settle(&ts, &path, "status", "created").await;

    let delete = ts.call("DELETE", &path, None).await.body;
    assert_eq!(delete["function"], "database/delete");
    assert_eq!(ts.call("GET", &path, None).await.body["status"], "deleting");
    let body = gone(&ts, &path).await;
    assert_eq!(
        body,
        json!({ "class": "Client::NotFound", "message": "The requested object (name = h1shop.mysql.db) does not exist" })
    );
    assert_eq!(
        ts.call("GET", &format!("{BASE}/database"), None).await.body,
        json!([])
    );

    // postgresql comes from the privateDatabase capability, named after the engine.
    let pg = json!({ "capabilitie": "privateDatabase", "type": "postgresql", "user": "h1pg" });
    assert_eq!(
        ts.call("POST", &format!("{BASE}/database"), Some(pg))
            .await
            .body["objectId"],
        "h1pg.postgres.db"
    );
}

#[tokio::test]
async fn refused_requests_answer_the_real_error_bodies() {
    let ts = TestSandbox::paused(Duration::from_millis(300)).await;
    let no_service =
        |a: &Answer| assert_error(a, 404, "Client::NotFound", "This service does not exist");
    no_service(&ts.call("GET", "/hosting/web/nope.example.com", None).await);
    no_service(
        &ts.call("GET", "/hosting/web/nope.example.com/attachedDomain", None)
            .await,
    );
    no_service(
        &ts.call(
            "POST",
            "/hosting/web/nope.example.com/attachedDomain",
            Some(json!({ "bad": 1 })),
        )
        .await,
    );
    no_service(
        &ts.call("GET", "/hosting/web/nope.example.com/tasks/1", None)
            .await,
    );

    let attach_path = format!("{BASE}/attachedDomain");
    let attach = |body: Value| ts.call("POST", &attach_path, Some(body));
    let bad = "Client::BadRequest";
    assert_error(
        &attach(json!({ "domain": "www.example.com", "colour": "red" })).await,
        400,
        bad,
        "Received not described parameters: (colour) while calling creation handler",
    );
    assert_error(
        &attach(json!({ "path": "www" })).await,
        400,
        bad,
        "[domain] Property is mandatory",
    );
    assert_error(
        &attach(json!({ "domain": "bad_domain.com" })).await,
        400,
        bad,
        "[domain] bad_domain.com is not a valid domain name: each label is 1 to 63 letters, digits or inner hyphens",
    );
    assert_error(
        &attach(json!({ "domain": "www.example.com", "cdn": "yes" })).await,
        400,
        bad,
        "[cdn] Given data (yes) does not belong to the hosting.web.attachedDomain.CdnEnum enumeration",
    );
    assert_error(
        &attach(json!({ "domain": "www.example.com", "ssl": "yes" })).await,
        400,
        bad,
        "Body parameter ssl isn't formated correctly",
    );
    assert_error(
        &attach(json!({ "domain": "www.example.com", "ownLog": "elsewhere.example.com" })).await,
        400,
        bad,
        "[ownLog] elsewhere.example.com is not a domain attached to this hosting",
    );
    assert_eq!(
        attach(json!({ "domain": "www.example.com" })).await.status,
        200
    );
    assert_error(
        &attach(json!({ "domain": "www.example.com" })).await,
        409,
        "Client::Conflict",
        "The domain www.example.com is already attached to this hosting",
    );
    assert_error(
        &ts.call(
            "GET",
            &format!("{BASE}/attachedDomain/nope.example.com"),
            None,
        )
        .await,
        404,
        "Client::NotFound",
        "The requested object (domain = nope.example.com) does not exist",
    );
    let purge = ts
        .call(
            "POST",
            &format!("{BASE}/attachedDomain/www.example.com/purgeCache"),
            None,
        )
        .await;
    assert_eq!(purge.status, 400, "{}", purge.body);

    let database_path = format!("{BASE}/database");
    let create = |body: Value| ts.call("POST", &database_path, Some(body));
    assert_error(
        &create(json!({ "type": "mysql", "user": "h1a" })).await,
        400,
        bad,
        "[capabilitie] Property is mandatory",
    );
    assert_error(
        &create(json!({ "capabilitie": "sqlPerso", "type": "oracle", "user": "h1a" })).await,
        400,
        bad,
        "[type] Given data (oracle) does not belong to the hosting.web.database.DatabaseCreationTypeEnum enumeration",
    );
    assert_error(
        &create(json!({ "capabilitie": "sqlPerso", "type": "mysql", "user": "blog" })).await,
        400,
        bad,
        "[user] The user blog must begin with your hosting login (h1)",
    );
    assert_error(
        &create(json!({ "capabilitie": "sqlPerso", "type": "mysql", "user": "H1blog" })).await,
        400,
        bad,
        "[user] The user H1blog must be in lower case",
    );
    assert_error(
        &create(json!({ "capabilitie": "sqlPerso", "type": "postgresql", "user": "h1a" })).await,
        400,
        bad,
        "[type] A sqlPerso database cannot be postgresql (possible: mysql)",
    );
    assert_error(
        &create(json!({ "capabilitie": "sqlPerso", "type": "mysql", "user": "h1a", "quota": 100 }))
            .await,
        400,
        bad,
        "[quota] Only extraSqlPerso databases take a quota",
    );
    assert_error(
        &create(json!({ "capabilitie": "extraSqlPerso", "type": "mysql", "user": "h1a", "quota": 30 })).await,
        400,
        bad,
        "[quota] Given data (30) does not belong to the hosting.web.database.ExtraSqlQuotaEnum enumeration",
    );
    assert_error(
        &create(
            json!({ "capabilitie": "sqlPerso", "type": "mysql", "user": "h1a", "version": "5.6" }),
        )
        .await,
        400,
        bad,
        "[version] Version 5.6 is not available for mysql (available: 5.7, 8.0, 8.4)",
    );
    assert_error(
        &create(json!({ "capabilitie": "sqlPro", "type": "mysql", "user": "h1a" })).await,
        400,
        bad,
        "[capabilitie] This hosting cannot create sqlPro databases (it offers sqlPerso, extraSqlPerso, privateDatabase)",
    );
    for user in ["h1a", "h1b", "h1c"] {
        let body = json!({ "capabilitie": "sqlPerso", "type": "mysql", "user": user });
        assert_eq!(create(body).await.status, 200);
    }
    assert_error(
        &create(json!({ "capabilitie": "sqlPerso", "type": "mysql", "user": "h1d" })).await,
        403,
        "Client::Forbidden",
        "This hosting has no sqlPerso database left (3 in use)",
    );
    assert_error(
        &ts.call("GET", &format!("{BASE}/databaseAvailableVersion"), None)
            .await,
        400,
        bad,
        "[type] Property is mandatory",
    );
    assert_error(
        &ts.call("GET", &format!("{BASE}/tasks?status=running"), None).await,
        400,
        bad,
        "[status] Given data (running) does not belong to the hosting.web.task.StatusEnum enumeration",
    );
}
