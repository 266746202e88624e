//! The live reader (`reconcile::live::read`) against the sandbox and wiremock: exactly the
//! scopes the manifests touch, the minimum calls the API forces (1 list + N gets per scope,
//! users only where a manifest needs them, 1 availability per project), unknown scopes and
//! unknown users when a read fails, objects gone between list and get skipped, and reads that
//! run concurrently within the `parallelism` bound.

use crate::support::{http, runabove_of, unix_now, TestSandbox};
use reconcile::family::stack::RUNABOVE;
use reconcile::live::{self, LiveScope, LiveService, LiveState, Scope, ScopeState, UsersState};
use reconcile::manifest::{
    Address, DatabaseServiceSpec, DatabaseUserSpec, HostingAttachedDomainSpec, Kind,
    ManagedStackMysqlSpec, ManifestSet, NodesSpec, ProjectDefaults, Resource, Span, Spec,
};
use reconcile::ovh::{Client, ClientConfig, Credentials, Endpoint, Method};
use reconcile::sandbox::{
    SandboxConfig, DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOSTING: &str = "h1.cluster021.hosting.ovh.net";
const DB: &str = "/cloud/project/p1/database";
const DEADLINE: Duration = Duration::from_secs(10);
const PARALLELISM: usize = 32;

// ---------------------------------------------------------------------------------------------
// Manifests, built directly.

fn resource(kind: Kind, name: &str, spec: Spec) -> Resource {
    Resource {
        address: Address {
            kind,
            name: name.into(),
        },
        span: Span {
            file: "manifests/test.yaml".into(),
            line: 1,
            column: 1,
            offset: 0,
            len: 0,
        },
        spec,
    }
}

fn service(name: &str, project: &str, engine: &str) -> Resource {
    resource(
        Kind::DatabaseService,
        name,
        Spec::DatabaseService(DatabaseServiceSpec {
            project: Some(project.into()),
            engine: engine.into(),
            version: "7.0".into(),
            plan: "production".into(),
            nodes: NodesSpec {
                flavor: "db2-4".into(),
                region: "GRA".into(),
                count: 3,
            },
            storage: None,
            network: None,
            ip_restrictions: None,
            maintenance_time: None,
            deletion_protection: None,
        }),
    )
}

fn user(name: &str, service: &str) -> Resource {
    resource(
        Kind::DatabaseUser,
        name,
        Spec::DatabaseUser(DatabaseUserSpec {
            service: service.into(),
            username: "app".into(),
            roles: vec!["readWrite@orders".into()],
        }),
    )
}

fn attached_domain(hosting: &str, domain: &str) -> Resource {
    resource(
        Kind::HostingAttachedDomain,
        domain,
        Spec::HostingAttachedDomain(HostingAttachedDomainSpec {
            hosting: Some(hosting.into()),
            domain: domain.into(),
            path: "www".into(),
            ssl: Some(true),
            cdn: None,
            firewall: None,
            own_log: None,
            runtime_id: None,
        }),
    )
}

fn stack(name: &str) -> Resource {
    resource(
        Kind::ManagedStackMysql,
        name,
        Spec::ManagedStackMysql(ManagedStackMysqlSpec {
            id: None,
            nodes: None,
        }),
    )
}

fn manifests(resources: Vec<Resource>) -> ManifestSet {
    ManifestSet {
        defaults: ProjectDefaults::default(),
        resources,
    }
}

fn database_scope(project: &str, engine: &str) -> Scope {
    Scope::Database {
        project: project.into(),
        engine: engine.into(),
    }
}

fn hosting_scope(hosting: &str) -> Scope {
    Scope::Hosting {
        hosting: hosting.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Clients and live objects.

fn client_for(endpoint: &str, consumer_key: &str) -> Client {
    let runabove = Endpoint::parse(&runabove_of(endpoint)).unwrap();
    let endpoint = Endpoint::parse(endpoint).unwrap();
    let mut config = ClientConfig::new(
        endpoint,
        Credentials::application(
            DEFAULT_APPLICATION_KEY,
            DEFAULT_APPLICATION_SECRET,
            consumer_key,
        ),
    );
    config.max_retries = 1;
    config.retry_min_delay = Duration::from_millis(5);
    config.retry_max_delay = Duration::from_millis(20);
    config.apis = vec![(&RUNABOVE, runabove)];
    Client::new(config).unwrap()
}

fn client(sb: &TestSandbox) -> Client {
    client_for(&sb.endpoint, DEFAULT_CONSUMER_KEY)
}

async fn sandbox(config: SandboxConfig) -> TestSandbox {
    TestSandbox::start_with(SandboxConfig {
        projects: vec!["p1".into(), "p2".into()],
        hostings: vec![HOSTING.into()],
        ready_after: Duration::from_millis(50),
        ..config
    })
    .await
}

/// Creates a mongodb service in `project` described `description`, waits for READY, returns
/// its id.
async fn mongodb(sb: &TestSandbox, project: &str, description: &str) -> String {
    let base = format!("/cloud/project/{project}/database/mongodb");
    let created = sb
        .call(
            "POST",
            &base,
            Some(json!({
                "description": description,
                "plan": "production",
                "version": "7.0",
                "nodesPattern": { "flavor": "db2-4", "number": 3, "region": "GRA" },
                "disk": { "size": 40 },
                "ipRestrictions": [{ "ip": "203.0.113.0/24", "description": "office" }],
            })),
        )
        .await;
    assert_eq!(created.status, 200, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_string();
    let ready = sb
        .wait_for(&format!("{base}/{id}"), "status", "READY", DEADLINE)
        .await;
    assert_eq!(ready["status"], "READY", "{ready}");
    id
}

async fn add_mongodb_user(sb: &TestSandbox, service_id: &str, name: &str) {
    let answer = sb
        .call(
            "POST",
            &format!("{DB}/mongodb/{service_id}/user"),
            Some(json!({ "name": name, "roles": ["readWrite@orders"] })),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

async fn create_stacks(sb: &TestSandbox, count: usize) {
    let creates = (0..count).map(|_| sb.runabove("POST", "/stackMysql", None));
    for answer in futures::future::join_all(creates).await {
        assert_eq!(answer.status, 200, "{answer:?}");
    }
}

/// A consumer key allowed exactly `rules` (`(method, path)`), requested and validated like a
/// user would.
async fn consumer_key_with(sb: &TestSandbox, rules: &[(&str, &str)]) -> String {
    let rules: Vec<Value> = rules
        .iter()
        .map(|(m, p)| json!({ "method": m, "path": p }))
        .collect();
    let body = json!({ "accessRules": rules, "redirection": "https://example.com/ok" });
    let requested = client(sb)
        .call_unsigned(Method::POST, "/auth/credential", Some(&body))
        .await
        .unwrap();
    let validation_url = requested.body["validationUrl"].as_str().unwrap();
    let page = http().get(validation_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    requested.body["consumerKey"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Reading what was read.

fn known<'a>(state: &'a LiveState, scope: &Scope) -> &'a LiveScope {
    match &state.scopes[scope] {
        ScopeState::Known(live) => live,
        ScopeState::Unknown { reason } => panic!("{scope} is unknown: {reason}"),
    }
}

fn unknown_reason<'a>(state: &'a LiveState, scope: &Scope) -> &'a str {
    match &state.scopes[scope] {
        ScopeState::Unknown { reason } => reason,
        ScopeState::Known(live) => panic!("{scope} should be unknown, read {live:?}"),
    }
}

fn services<'a>(state: &'a LiveState, scope: &Scope) -> &'a [LiveService] {
    match known(state, scope) {
        LiveScope::Database { services } => services,
        other => panic!("{scope} read as {other:?}"),
    }
}

fn usernames(service: &LiveService) -> Vec<&str> {
    match &service.users {
        Some(UsersState::Known { users }) => users.iter().map(|u| u.username.as_str()).collect(),
        other => panic!("{}: users {other:?}", service.description),
    }
}

fn scope_set(state: &LiveState) -> BTreeSet<Scope> {
    state.scopes.keys().cloned().collect()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reads_exactly_the_touched_scopes_with_the_minimum_calls() {
    let sb = sandbox(SandboxConfig::default()).await;
    // p1/mongodb: a managed service with a user manifest, and an unmanaged one.
    let orders = mongodb(&sb, "p1", "orders-db").await;
    mongodb(&sb, "p1", "scratch-db").await;
    add_mongodb_user(&sb, &orders, "app").await;
    // p1/postgresql: a managed service no user manifest names.
    let billing = sb
        .call(
            "POST",
            &format!("{DB}/postgresql"),
            Some(json!({
                "description": "billing-db", "plan": "business", "version": "16",
                "nodesList": [{ "flavor": "db1-7", "region": "SBG" }, { "flavor": "db1-7", "region": "SBG" }],
            })),
        )
        .await;
    assert_eq!(billing.status, 200, "{billing:?}");
    // p2/mongodb: no manifest touches it, so it is never read.
    mongodb(&sb, "p2", "elsewhere-db").await;
    // The hosting: a second attached domain, a database, the free certificate.
    let base = format!("/hosting/web/{HOSTING}");
    let attach = sb
        .call(
            "POST",
            &format!("{base}/attachedDomain"),
            Some(json!({ "domain": "www.example.com", "path": "www", "ssl": true })),
        )
        .await;
    assert_eq!(attach.status, 200, "{attach:?}");
    let database = sb.call("POST", &format!("{base}/database"), Some(json!({
        "capabilitie": "sqlPerso", "type": "mysql", "user": "h1blog", "password": "Sandbox2024", "version": "8.0",
    }))).await;
    assert_eq!(database.status, 200, "{database:?}");
    let ssl = sb
        .call("POST", &format!("{base}/ssl"), Some(json!({})))
        .await;
    assert_eq!(ssl.status, 200, "{ssl:?}");
    let ssl = sb
        .wait_for(&format!("{base}/ssl"), "status", "created", DEADLINE)
        .await;
    assert_eq!(ssl["status"], "created", "{ssl}");
    create_stacks(&sb, 2).await;

    let set = manifests(vec![
        service("orders-db", "p1", "mongodb"),
        user("orders-app", "orders-db"),
        service("billing-db", "p1", "postgresql"),
        attached_domain(HOSTING, "www.example.com"),
        stack("shop"),
    ]);
    let expected_scopes: BTreeSet<Scope> = [
        database_scope("p1", "mongodb"),
        database_scope("p1", "postgresql"),
        hosting_scope(HOSTING),
        Scope::StackMysql,
    ]
    .into_iter()
    .collect();
    assert_eq!(live::scopes(&set), expected_scopes);

    let state = live::read(&client(&sb), &set, PARALLELISM)
        .await
        .expect("the live read");
    assert_eq!(scope_set(&state), expected_scopes);

    // Databases: both p1/mongodb services, users read for orders-db only.
    let mongo = services(&state, &database_scope("p1", "mongodb"));
    let described: Vec<&str> = mongo.iter().map(|s| s.description.as_str()).collect();
    assert_eq!(described, ["orders-db", "scratch-db"]);
    let orders_db = &mongo[0];
    assert_eq!(orders_db.id, orders);
    assert_eq!(
        (
            orders_db.engine.as_str(),
            orders_db.status.as_str(),
            orders_db.plan.as_str(),
            orders_db.version.as_str(),
            orders_db.flavor.as_str(),
            orders_db.node_count,
            orders_db.region.as_str(),
            orders_db.storage,
        ),
        (
            "mongodb",
            "READY",
            "production",
            "7.0",
            "db2-4",
            3,
            "GRA",
            Some(40)
        )
    );
    assert_eq!(orders_db.ip_restrictions.len(), 1);
    assert_eq!(orders_db.ip_restrictions[0].ip, "203.0.113.0/24");
    assert_eq!(orders_db.ip_restrictions[0].description, "office");
    assert_eq!(usernames(orders_db), ["admin@admin", "app@admin"]);
    assert_eq!(mongo[1].users, None, "no manifest needs scratch-db's users");
    let postgres = services(&state, &database_scope("p1", "postgresql"));
    assert_eq!(postgres.len(), 1);
    assert_eq!(
        (
            postgres[0].description.as_str(),
            postgres[0].region.as_str(),
            postgres[0].node_count
        ),
        ("billing-db", "SBG", 2)
    );
    // Named by a manifest: its users are read even though no DatabaseUser names it, so a
    // user whose last manifest was removed is listed (issue 9, item 3).
    assert_eq!(usernames(&postgres[0]), ["avnadmin"]);

    // One catalogue, for the one project.
    assert_eq!(
        state.catalogues.keys().collect::<Vec<_>>(),
        ["p1"],
        "p2 is not touched"
    );
    let offers = &state.catalogues["p1"].offers;
    assert!(
        offers.iter().any(|o| o.engine == "mongodb"
            && o.version == "7.0"
            && o.plan == "production"
            && o.flavor == "db2-4"
            && o.region == "GRA"
            && o.min_nodes <= 3
            && o.max_nodes >= 3),
        "{} offers, none for mongodb 7.0 production db2-4 GRA",
        offers.len()
    );

    // The hosting.
    let LiveScope::Hosting(hosting) = known(&state, &hosting_scope(HOSTING)) else {
        panic!("not a hosting scope")
    };
    assert_eq!(hosting.primary_login, "h1");
    let domains: Vec<&str> = hosting
        .attached_domains
        .iter()
        .map(|d| d.domain.as_str())
        .collect();
    assert!(domains.contains(&"www.example.com"), "{domains:?}");
    let www = hosting
        .attached_domains
        .iter()
        .find(|d| d.domain == "www.example.com")
        .unwrap();
    assert_eq!((www.path.as_str(), www.ssl), ("www", Some(true)));
    let ssl = hosting.ssl.as_ref().expect("the certificate was ordered");
    assert_eq!(
        (ssl.provider.as_str(), ssl.status.as_str()),
        ("LETSENCRYPT", "created")
    );
    assert!(
        ssl.domains.contains(&"www.example.com".to_string()),
        "{:?}",
        ssl.domains
    );
    assert_eq!(hosting.databases.len(), 1);
    let blog = &hosting.databases[0];
    assert_eq!(
        (
            blog.user.as_str(),
            blog.engine.as_str(),
            blog.version.as_deref()
        ),
        ("h1blog", "mysql", Some("8.0"))
    );
    let quota_mb = blog.raw["quotaSize"]["value"].as_f64().unwrap() as u32;
    assert_eq!(blog.quota, Some(quota_mb));

    // The stacks, in the listing's order, read on RunAbove's endpoint.
    let LiveScope::StackMysql { stacks } = known(&state, &Scope::StackMysql) else {
        panic!("not a stack scope")
    };
    assert_eq!(stacks.len(), 2);
    let ids: Vec<&str> = stacks.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1001", "1002"]);
    assert_eq!(
        (stacks[0].nodes, stacks[0].raw["product_id"].clone()),
        (2, json!(1001))
    );

    // The minimum the API forces, each call once.
    let mongodb_calls = 1 + mongo.len() + (1 + usernames(orders_db).len());
    let postgresql_calls = 1 + postgres.len() + (1 + usernames(&postgres[0]).len());
    let catalogue_calls = 1;
    // The project's index of every engine's services (every id already read: no get).
    let index_calls = 1;
    let hosting_calls = 1 // the service
        + 1 + hosting.attached_domains.len()
        + 1 + 1 // ssl, ssl/domains
        + 1 + hosting.databases.len();
    let stack_calls = 1 + stacks.len();
    let minimum = mongodb_calls
        + postgresql_calls
        + catalogue_calls
        + index_calls
        + hosting_calls
        + stack_calls;
    assert_eq!((mongodb_calls, postgresql_calls), (6, 4));
    assert_eq!(state.calls, minimum);
    assert_eq!(state.calls, 23, "the measured count of this world");
}

/// With `Answers` (apply's run), a read asks only for what they do not hold: the same read
/// again costs nothing and gives the same state; after a create in a list (which forgets the
/// list), only the list and the new member are asked for.
#[tokio::test]
async fn a_read_with_answers_asks_only_for_what_they_do_not_hold() {
    let sb = sandbox(SandboxConfig::default()).await;
    let orders = mongodb(&sb, "p1", "orders-db").await;
    add_mongodb_user(&sb, &orders, "orders-app").await;
    let set = manifests(vec![
        service("orders-db", "p1", "mongodb"),
        user("orders-app", "orders-db"),
    ]);
    let client = client(&sb);
    let answers = live::Answers::default();
    let first = live::read_with(&client, &set, PARALLELISM, false, Some(&answers))
        .await
        .expect("the live read");
    // A list, a get, the user list, its users (admin + orders-app), the availability, the
    // project's index.
    assert_eq!(first.calls, 7);
    let again = live::read_with(&client, &set, PARALLELISM, false, Some(&answers))
        .await
        .expect("the live read");
    assert_eq!(again.calls, 0);
    assert_eq!(again.scopes, first.scopes);
    assert_eq!(again.catalogues, first.catalogues);

    mongodb(&sb, "p1", "other-db").await;
    answers.forget_after(&Method::POST, &format!("{DB}/mongodb"));
    let after = live::read_with(&client, &set, PARALLELISM, false, Some(&answers))
        .await
        .expect("the live read");
    assert_eq!(
        after.calls, 3,
        "the list, the new service and the project's index (a create forgets it)"
    );
    let scope = database_scope("p1", "mongodb");
    assert_eq!(services(&after, &scope).len(), 2);
    assert_eq!(usernames(&services(&after, &scope)[0]).len(), 2);
}

/// Regression (issue 9, item 7): a route the consumer key may not call made its scope
/// "unknown, plan again", as if waiting could help. It stops the read with what to fix.
#[tokio::test]
async fn a_route_the_credentials_may_not_call_stops_the_read_with_what_to_fix() {
    let sb = sandbox(SandboxConfig::default()).await;
    mongodb(&sb, "p1", "orders-db").await;
    create_stacks(&sb, 1).await;
    // A consumer key for databases and stacks, not for web hosting.
    let ck = consumer_key_with(&sb, &[("GET", "/cloud/*"), ("GET", "/stackMysql*")]).await;
    let set = manifests(vec![
        service("orders-db", "p1", "mongodb"),
        attached_domain(HOSTING, "www.example.com"),
        stack("shop"),
    ]);

    let failure = live::read(&client_for(&sb.endpoint, &ck), &set, PARALLELISM)
        .await
        .expect_err("a refused route stops the read");

    assert!(
        matches!(failure, live::ReadFailure::Credentials { .. }),
        "{failure:?}"
    );
    let shown = failure.to_string();
    assert!(
        shown.starts_with(
            "credentials: the consumer key's access rules do not allow GET /hosting/web/"
        ),
        "{shown}"
    );
    let cause = std::error::Error::source(&failure).unwrap().to_string();
    for part in ["returned 403", "NOT_GRANTED_CALL", "(query id "] {
        assert!(cause.contains(part), "{part:?} not in {cause:?}");
    }
}

/// Regression (issue 9, item 7): a project or hosting that does not exist made its scope
/// unknown ("plan again"); it stops the read naming it.
#[tokio::test]
async fn a_project_or_hosting_that_does_not_exist_stops_the_read_naming_it() {
    let sb = sandbox(SandboxConfig::default()).await;
    for (set, named) in [
        (
            manifests(vec![service("orders-db", "nope", "mongodb")]),
            "project nope",
        ),
        (
            manifests(vec![attached_domain("gone.example.net", "www.example.com")]),
            "hosting gone.example.net",
        ),
    ] {
        let failure = live::read(&client(&sb), &set, PARALLELISM)
            .await
            .expect_err("a missing scope root stops the read");
        assert!(
            matches!(failure, live::ReadFailure::NotFound { .. }),
            "{failure:?}"
        );
        let shown = failure.to_string();
        assert!(shown.starts_with(named), "{shown}");
        assert!(
            shown.contains("does not exist on http://127.0.0.1:"),
            "{shown}"
        );
    }
}

/// The users of one service behind a refused route stop the read too: a partial answer would
/// plan their creation again.
#[tokio::test]
async fn users_the_credentials_may_not_read_stop_the_read() {
    let sb = sandbox(SandboxConfig::default()).await;
    let readable = mongodb(&sb, "p1", "readable-db").await;
    let locked = mongodb(&sb, "p1", "locked-db").await;
    let base = format!("{DB}/mongodb");
    let readable_users = format!("{base}/{readable}/user*");
    let readable_service = format!("{base}/{readable}");
    let locked_service = format!("{base}/{locked}");
    let ck = consumer_key_with(
        &sb,
        &[
            ("GET", base.as_str()),
            ("GET", readable_service.as_str()),
            ("GET", readable_users.as_str()),
            ("GET", locked_service.as_str()),
            ("GET", "/cloud/project/p1/database/availability"),
            ("GET", "/cloud/project/p1/database/service"),
        ],
    )
    .await;
    let set = manifests(vec![
        service("readable-db", "p1", "mongodb"),
        user("readable-app", "readable-db"),
        service("locked-db", "p1", "mongodb"),
        user("locked-app", "locked-db"),
    ]);

    let failure = live::read(&client_for(&sb.endpoint, &ck), &set, PARALLELISM)
        .await
        .expect_err("a refused route stops the read");

    let cause = std::error::Error::source(&failure).unwrap().to_string();
    let path = format!("GET {base}/{locked}/user returned 403 NOT_GRANTED_CALL");
    assert!(cause.contains(&path), "{cause}");
}

#[tokio::test]
async fn a_failing_api_makes_every_scope_unknown_and_leaves_the_catalogue_out() {
    let sb = sandbox(SandboxConfig {
        fail_rate: 1.0,
        ..SandboxConfig::default()
    })
    .await;
    let set = manifests(vec![
        service("orders-db", "p1", "mongodb"),
        attached_domain(HOSTING, "www.example.com"),
        stack("shop"),
    ]);

    let state = live::read(&client(&sb), &set, PARALLELISM)
        .await
        .expect("the live read");

    // Every scope, and the engines no manifest names in p1 (its index could not be read).
    let mut expected = live::scopes(&set);
    expected.insert(database_scope("p1", live::ANY_ENGINE));
    assert_eq!(scope_set(&state), expected);
    for scope in state.scopes.keys() {
        let reason = unknown_reason(&state, scope);
        assert!(reason.contains("returned 500"), "{scope}: {reason}");
    }
    assert!(state.catalogues.is_empty(), "{:?}", state.catalogues);
}

#[tokio::test]
async fn reads_run_concurrently() {
    const LATENCY: Duration = Duration::from_millis(100);
    const STACKS: usize = 20;
    let sb = sandbox(SandboxConfig {
        latency: LATENCY,
        ..SandboxConfig::default()
    })
    .await;
    create_stacks(&sb, STACKS).await;
    let set = manifests(vec![stack("shop")]);

    // The client's rate limit spaces requests evenly (no burst): lift it, this test is about
    // concurrency, not the budget.
    let mut config = ClientConfig::new(
        Endpoint::parse(&sb.endpoint).unwrap(),
        Credentials::application(
            DEFAULT_APPLICATION_KEY,
            DEFAULT_APPLICATION_SECRET,
            DEFAULT_CONSUMER_KEY,
        ),
    );
    config.rate_limit_per_sec = 1_000;
    config.apis = vec![(&RUNABOVE, Endpoint::parse(&sb.runabove_endpoint).unwrap())];
    let fast = Client::new(config).unwrap();
    let started = Instant::now();
    let state = live::read(&fast, &set, PARALLELISM)
        .await
        .expect("the live read");
    let elapsed = started.elapsed();

    let LiveScope::StackMysql { stacks } = known(&state, &Scope::StackMysql) else {
        panic!("not a stack scope")
    };
    assert_eq!(stacks.len(), STACKS);
    assert_eq!(state.calls, 1 + STACKS);
    // One after the other, the list and the gets would take at least calls x latency.
    let serial = LATENCY * state.calls as u32;
    assert!(
        elapsed < serial / 2,
        "{} calls took {elapsed:?}; one after the other they take at least {serial:?}",
        state.calls
    );
}

#[tokio::test]
async fn parallelism_bounds_the_requests_in_flight() {
    const LATENCY: Duration = Duration::from_millis(100);
    let sb = sandbox(SandboxConfig {
        latency: LATENCY,
        ..SandboxConfig::default()
    })
    .await;
    create_stacks(&sb, 4).await;
    let set = manifests(vec![stack("shop")]);

    let started = Instant::now();
    let state = live::read(&client(&sb), &set, 1)
        .await
        .expect("the live read");
    let elapsed = started.elapsed();

    assert_eq!(state.calls, 5);
    assert!(
        elapsed >= LATENCY * 5,
        "5 calls one at a time took only {elapsed:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Races the sandbox cannot stage on demand: wiremock answers exactly what a race looks like.

const QUERY_ID: &str = "EU.ext-3.63ac85b6.10528.27b4f1fc-7be3-4da2-bdd0-ce044c421e61";

async fn mock_api() -> MockServer {
    let server = MockServer::start().await;
    let now = unix_now();
    Mock::given(method("GET"))
        .and(path("/1.0/auth/time"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(now)))
        .mount(&server)
        .await;
    server
}

/// Mounts `GET /1.0{route}` answering `status` with `body`, expected exactly once.
async fn once(server: &MockServer, route: &str, status: u16, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/1.0{route}")))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("X-Ovh-Queryid", QUERY_ID)
                .set_body_json(body),
        )
        .expect(1)
        .named(route)
        .mount(server)
        .await;
}

fn not_found(message: &str) -> Value {
    json!({ "class": "Client::NotFound", "message": message })
}

#[tokio::test]
async fn objects_gone_between_list_and_get_are_skipped_and_no_certificate_is_none() {
    let server = mock_api().await;
    let h = "/hosting/web/h.example.net";
    once(&server, h, 200, json!({ "primaryLogin": "hexample" })).await;
    once(
        &server,
        &format!("{h}/attachedDomain"),
        200,
        json!(["a.example", "gone.example"]),
    )
    .await;
    once(
        &server,
        &format!("{h}/attachedDomain/a.example"),
        200,
        json!({ "domain": "a.example", "path": "a", "ssl": false, "status": "created" }),
    )
    .await;
    once(
        &server,
        &format!("{h}/attachedDomain/gone.example"),
        404,
        not_found("The requested object (domain = gone.example) does not exist"),
    )
    .await;
    once(
        &server,
        &format!("{h}/ssl"),
        404,
        not_found("This hosting has no SSL certificate"),
    )
    .await;
    once(
        &server,
        &format!("{h}/database"),
        200,
        json!(["gone.mysql.db"]),
    )
    .await;
    once(
        &server,
        &format!("{h}/database/gone.mysql.db"),
        404,
        not_found("gone"),
    )
    .await;
    let set = manifests(vec![attached_domain("h.example.net", "a.example")]);

    let client = client_for(&format!("{}/1.0", server.uri()), "ck");
    let state = live::read(&client, &set, PARALLELISM)
        .await
        .expect("the live read");

    let LiveScope::Hosting(hosting) = known(&state, &hosting_scope("h.example.net")) else {
        panic!("not a hosting scope")
    };
    assert_eq!(hosting.primary_login, "hexample");
    let domains: Vec<&str> = hosting
        .attached_domains
        .iter()
        .map(|d| d.domain.as_str())
        .collect();
    assert_eq!(domains, ["a.example"]);
    assert_eq!(
        hosting.ssl, None,
        "no ssl/domains call without a certificate"
    );
    assert!(hosting.databases.is_empty());
    assert_eq!(state.calls, 7);
    server.verify().await;
}

#[tokio::test]
async fn one_failed_get_makes_the_whole_scope_unknown_with_the_error() {
    let server = mock_api().await;
    let base = "/cloud/project/p9/database/postgresql";
    once(&server, base, 200, json!(["s1", "s2"])).await;
    once(
        &server,
        &format!("{base}/s1"),
        200,
        json!({ "id": "s1", "description": "billing-db", "status": "READY", "nodes": [] }),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("/1.0{base}/s2")))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("X-Ovh-Queryid", QUERY_ID)
                .set_body_json(json!({ "class": "Server::ServiceUnavailable", "message": "Service unavailable" })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/cloud/project/p9/database/availability"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({ "class": "Server::InternalServerError", "message": "Internal server error" }),
        ))
        .mount(&server)
        .await;
    let set = manifests(vec![service("billing-db", "p9", "postgresql")]);

    let client = client_for(&format!("{}/1.0", server.uri()), "ck");
    let state = live::read(&client, &set, PARALLELISM)
        .await
        .expect("the live read");

    let reason = unknown_reason(&state, &database_scope("p9", "postgresql"));
    assert!(
        reason.starts_with(&format!(
            "GET {base}/s2 returned 503 Server::ServiceUnavailable: \"Service unavailable\" (query id {QUERY_ID})"
        )),
        "{reason}"
    );
    assert!(
        state.catalogues.is_empty(),
        "a failed availability read leaves the catalogue out"
    );
}

/// Regression: a pruning plan deleted an unmanaged service without its users, because the
/// users of services no manifest names were never read. Under prune they are, and the plan
/// deletes them first (child-first), while a plain read still skips them.
#[tokio::test]
async fn under_prune_the_users_of_unnamed_services_are_read_and_deleted_first() {
    let sb = sandbox(SandboxConfig::default()).await;
    mongodb(&sb, "p1", "orders-db").await;
    let legacy = mongodb(&sb, "p1", "legacy-db").await;
    add_mongodb_user(&sb, &legacy, "old-app").await;
    let set = manifests(vec![service("orders-db", "p1", "mongodb")]);
    let client = client(&sb);
    let scope = database_scope("p1", "mongodb");

    let plain = live::read(&client, &set, 8).await.expect("the live read");
    let legacy_plain = services(&plain, &scope)
        .iter()
        .find(|s| s.description == "legacy-db")
        .unwrap();
    assert!(legacy_plain.users.is_none(), "{legacy_plain:#?}");

    let pruning = live::read_for(&client, &set, 8, true)
        .await
        .expect("the live read");
    let legacy_read = services(&pruning, &scope)
        .iter()
        .find(|s| s.description == "legacy-db")
        .unwrap();
    assert!(
        usernames(legacy_read).contains(&"old-app@admin"),
        "{legacy_read:#?}"
    );
    let orders = services(&pruning, &scope)
        .iter()
        .find(|s| s.description == "orders-db")
        .unwrap();
    assert_eq!(
        usernames(orders),
        ["admin@admin"],
        "a named service without user manifests has its users read too"
    );

    let plan = reconcile::plan::plan(
        &set,
        &pruning,
        &reconcile::plan::PlanOptions { prune: true },
    );
    let deletes: Vec<(usize, String)> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, reconcile::plan::Action::Delete { .. }))
        .map(|c| (c.wave, c.address.to_string()))
        .collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    let user_wave = deletes
        .iter()
        .find(|(_, a)| a.starts_with("DatabaseUser/"))
        .unwrap()
        .0;
    let service_wave = deletes
        .iter()
        .find(|(_, a)| a.starts_with("DatabaseService/"))
        .unwrap()
        .0;
    assert!(user_wave < service_wave, "{deletes:?}");
}
