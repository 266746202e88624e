//! The engine (`reconcile::engine::execute`) against the in-process sandbox, with plans built
//! the real way (manifests written to a directory, `manifest::load`, `live::read`,
//! `plan::plan`): creates from empty in dependency order, updates, prune and replace
//! child-first, adoption (by hand, after "500 but created"), partial failure, a spent wait
//! budget and the run that resumes it, secrets only in the sink. Every test ends by reading
//! the sandbox again: a fresh plan has no changes, and there is one object per manifest.

use crate::support::{runabove_of, TestSandbox};
use reconcile::engine::{self, ApplyReport, ExecuteOptions, Progress, StepOutcome, StepReport};
use reconcile::family::stack::RUNABOVE;
use reconcile::live::{self, LiveState};
use reconcile::manifest::{self, Address, Kind, ManifestSet};
use reconcile::ovh::{Client, ClientConfig, Credentials, Endpoint};
use reconcile::plan::{self, Action, Plan, PlanOptions};
use reconcile::sandbox::{
    SandboxConfig, DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const HOSTING: &str = "h1.cluster021.hosting.ovh.net";
const DB: &str = "/cloud/project/p1/database";
const WEB: &str = "/hosting/web/h1.cluster021.hosting.ovh.net";
const READY_AFTER: Duration = Duration::from_millis(300);

const DEFAULTS: &str = "project: p1\nhosting: h1.cluster021.hosting.ovh.net\n";

const ORDERS: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata: { name: orders-db }
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
kind: DatabaseUser
metadata: { name: orders-app }
spec: { service: orders-db, username: app, roles: [readWrite@orders] }
---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata: { name: orders-report }
spec: { service: orders-db, username: report, roles: [read@orders] }
"#;

const BILLING: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata: { name: billing-db }
spec:
  engine: postgresql
  version: "16"
  plan: business
  nodes: { flavor: db1-7, region: GRA, count: 2 }
---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata: { name: billing-app }
spec: { service: billing-db, username: billing }
"#;

const SHOP: &str = r#"
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata: { name: shop-www }
spec: { domain: www.shop.example, path: www, ssl: true, firewall: active }
---
apiVersion: reconcile/v1
kind: HostingAttachedDomain
metadata: { name: shop-apex }
spec: { domain: shop.example, path: www, ssl: true }
---
apiVersion: reconcile/v1
kind: HostingSsl
metadata: { name: shop-ssl }
spec: {}
---
apiVersion: reconcile/v1
kind: HostingDatabase
metadata: { name: shop-db }
spec:
  capability: sqlPerso
  type: mysql
  version: "8.0"
  user: h1shop
  password: { fromFile: shop-db.password }
---
apiVersion: reconcile/v1
kind: HostingDatabase
metadata: { name: blog-db }
spec:
  capability: sqlPerso
  type: mysql
  user: h1blog
  password: { fromEnv: BLOG_DB_PASSWORD }
"#;

const STACK: &str = r#"
apiVersion: reconcile/v1
kind: ManagedStackMysql
metadata: { name: reports-stack }
spec: { nodes: 2 }
"#;

const SHOP_DB_PASSWORD: &str = "FromFile5hopPass";
const BLOG_DB_PASSWORD: &str = "FromEnvB1ogPass";

// ---------------------------------------------------------------------------------------------
// A manifest directory, a sandbox and a client, and the plan-then-execute loop.

struct Fixture {
    sb: TestSandbox,
    client: Client,
    dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

fn fast_client(endpoint: &str) -> Client {
    let mut config = ClientConfig::new(
        Endpoint::parse(endpoint).unwrap(),
        Credentials::application(
            DEFAULT_APPLICATION_KEY,
            DEFAULT_APPLICATION_SECRET,
            DEFAULT_CONSUMER_KEY,
        ),
    );
    config.rate_limit_per_sec = 500;
    config.retry_min_delay = Duration::from_millis(10);
    config.retry_max_delay = Duration::from_millis(100);
    config.apis = vec![(&RUNABOVE, Endpoint::parse(&runabove_of(endpoint)).unwrap())];
    Client::new(config).unwrap()
}

impl Fixture {
    async fn start() -> Fixture {
        Fixture::with(SandboxConfig::default()).await
    }

    /// A sandbox with `config` (`ready_after` is `READY_AFTER` unless `config` says otherwise).
    async fn with(config: SandboxConfig) -> Fixture {
        let ready_after = if config.ready_after == SandboxConfig::default().ready_after {
            READY_AFTER
        } else {
            config.ready_after
        };
        let sb = TestSandbox::start_with(SandboxConfig {
            projects: vec!["p1".into()],
            hostings: vec![HOSTING.into()],
            ready_after,
            ..config
        })
        .await;
        let client = fast_client(&sb.endpoint);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("reconcile.yaml"), DEFAULTS).unwrap();
        std::fs::write(
            dir.path().join("shop-db.password"),
            format!("{SHOP_DB_PASSWORD}\n"),
        )
        .unwrap();
        let env = BTreeMap::from([("BLOG_DB_PASSWORD".to_owned(), BLOG_DB_PASSWORD.to_owned())]);
        Fixture {
            sb,
            client,
            dir,
            env,
        }
    }

    fn write(&self, file: &str, yaml: &str) {
        std::fs::write(self.dir.path().join(file), yaml).unwrap();
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.path().join(file)).unwrap();
    }

    fn secrets_dir(&self) -> PathBuf {
        self.dir.path().join(".reconcile/secrets")
    }

    fn options(&self) -> ExecuteOptions {
        ExecuteOptions {
            parallelism: 8,
            timeout: Duration::from_secs(30),
            secrets_dir: self.secrets_dir(),
            max_poll_interval: Duration::from_millis(200),
            answers: None,
        }
    }

    fn manifests(&self) -> ManifestSet {
        let env = |name: &str| self.env.get(name).cloned();
        manifest::load(self.dir.path(), &env).unwrap_or_else(|d| panic!("{d:?}"))
    }

    async fn plan(&self, prune: bool) -> (ManifestSet, LiveState, Plan) {
        let manifests = self.manifests();
        let live = live::read(&self.client, &manifests, 8)
            .await
            .expect("the live read");
        let plan = plan::plan(&manifests, &live, &PlanOptions { prune });
        (manifests, live, plan)
    }

    async fn execute(
        &self,
        manifests: &ManifestSet,
        live: &LiveState,
        plan: &Plan,
        options: &ExecuteOptions,
        progress: &dyn Progress,
    ) -> ApplyReport {
        let env = |name: &str| self.env.get(name).cloned();
        engine::execute(&self.client, plan, manifests, live, options, &env, progress).await
    }

    /// Plans and executes; returns the plan and the report.
    async fn apply(&self, prune: bool, progress: &dyn Progress) -> (Plan, ApplyReport) {
        let (manifests, live, plan) = self.plan(prune).await;
        assert!(plan.unknown.is_empty(), "{:#?}", plan.unknown);
        let report = self
            .execute(&manifests, &live, &plan, &self.options(), progress)
            .await;
        (plan, report)
    }

    /// A fresh read and plan has nothing left to do.
    async fn assert_converged(&self, prune: bool) {
        let (_, _, plan) = self.plan(prune).await;
        assert!(plan.unknown.is_empty(), "{:#?}", plan.unknown);
        let left: Vec<String> = plan
            .changes
            .iter()
            .map(|c| format!("{} {}", c.action.symbol(), c.address))
            .collect();
        assert!(left.is_empty(), "still to do after apply: {left:?}");
    }

    /// `GET path` through the test caller (on RunAbove's API for `/stackMysql`), again while the sandbox's faults answer 5xx or 429.
    async fn get(&self, path: &str) -> crate::support::Answer {
        for _ in 0..20 {
            let answer = if path.starts_with("/stackMysql") {
                self.sb.runabove("GET", path, None).await
            } else {
                self.sb.call("GET", path, None).await
            };
            if answer.status < 429 || (answer.status > 429 && answer.status < 500) {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("GET {path} kept failing");
    }

    /// The live services of `engine` whose description is `name`.
    async fn services_named(&self, engine: &str, name: &str) -> Vec<Value> {
        let ids = self.get(&format!("{DB}/{engine}")).await.body;
        let mut found = Vec::new();
        for id in ids.as_array().unwrap() {
            let id = id.as_str().unwrap();
            let service = self.get(&format!("{DB}/{engine}/{id}")).await.body;
            if service["description"] == name {
                found.push(service);
            }
        }
        found
    }

    /// The usernames of a service's users.
    async fn usernames(&self, engine: &str, service: &str) -> Vec<String> {
        let ids = self
            .get(&format!("{DB}/{engine}/{service}/user"))
            .await
            .body;
        let mut names = Vec::new();
        for id in ids.as_array().unwrap() {
            let id = id.as_str().unwrap();
            let user = self
                .get(&format!("{DB}/{engine}/{service}/user/{id}"))
                .await
                .body;
            names.push(user["username"].as_str().unwrap().to_owned());
        }
        names.sort();
        names
    }
}

/// Progress that records every event, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn position(&self, event: &str) -> usize {
        self.events()
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("no event {event:?} in {:#?}", self.events()))
    }
}

impl Progress for Recorder {
    fn step_started(&self, address: &Address, _: &Action) {
        self.0.lock().unwrap().push(format!("start {address}"));
    }
    fn waiting(&self, address: &Address, status: &str, elapsed: Duration) {
        self.0
            .lock()
            .unwrap()
            .push(format!("wait {address} {status} {}ms", elapsed.as_millis()));
    }
    fn step_finished(&self, report: &StepReport) {
        self.0
            .lock()
            .unwrap()
            .push(format!("finish {}", report.address));
    }
}

fn address(kind: Kind, name: &str) -> Address {
    Address {
        kind,
        name: name.into(),
    }
}

fn step<'r>(report: &'r ApplyReport, kind: Kind, name: &str) -> &'r StepReport {
    let wanted = address(kind, name);
    report
        .steps
        .iter()
        .find(|s| s.address == wanted)
        .unwrap_or_else(|| panic!("no step for {wanted} in {report:#?}"))
}

fn assert_all_done(report: &ApplyReport) {
    let not_done: Vec<String> = report
        .steps
        .iter()
        .filter(|s| s.outcome != StepOutcome::Done)
        .map(|s| format!("{}: {:?}", s.address, s.outcome))
        .collect();
    assert!(not_done.is_empty(), "steps not done: {not_done:#?}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn secret_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Creates, updates, deletes.

#[tokio::test]
async fn an_empty_project_converges_in_one_apply_parents_first() {
    let fx = Fixture::start().await;
    fx.write(
        "orders.yaml",
        &ORDERS.replace("  storage: 40", "  storage: 40\n  deletionProtection: true"),
    );
    fx.write("billing.yaml", BILLING);
    fx.write("shop.yaml", SHOP);
    fx.write("stack.yaml", STACK);
    let progress = Recorder::default();
    let started = Instant::now();
    let (plan, report) = fx.apply(false, &progress).await;
    let took = started.elapsed();

    assert_eq!(plan.counts(), (11, 0, 0), "{:#?}", plan.changes);
    assert_all_done(&report);
    assert_eq!(report.steps.len(), 11);
    assert!(report
        .steps
        .iter()
        .all(|s| !s.adopted && s.live_id.is_some()));
    assert_converged_and_single(&fx).await;

    // Parents first: users after their service is READY, the certificate after its domains.
    let order = |before: &str, after: &str| {
        assert!(
            progress.position(&format!("finish {before}"))
                < progress.position(&format!("start {after}")),
            "{before} should finish before {after} starts: {:#?}",
            progress.events()
        );
    };
    order("DatabaseService/orders-db", "DatabaseUser/orders-app");
    order("DatabaseService/billing-db", "DatabaseUser/billing-app");
    order("HostingAttachedDomain/shop-www", "HostingSsl/shop-ssl");
    order("HostingAttachedDomain/shop-apex", "HostingSsl/shop-ssl");
    assert!(progress
        .events()
        .iter()
        .any(|e| e.starts_with("wait DatabaseService/orders-db CREATING")));

    // deletionProtection went on with the PUT after READY (the `{id}` of the create).
    let orders = &fx.services_named("mongodb", "orders-db").await[0];
    assert_eq!(orders["deletionProtection"], true);
    let users = fx
        .usernames("mongodb", orders["id"].as_str().unwrap())
        .await;
    assert!(users.contains(&"app@admin".to_owned()) && users.contains(&"report@admin".to_owned()));

    // The certificate covers both domains; the databases have their passwords.
    let covered = fx.get(&format!("{WEB}/ssl/domains")).await.body;
    assert_eq!(covered, json!(["shop.example", "www.shop.example"]));

    // One secrets file per generated password.
    let mut written = report.secrets_written.clone();
    written.sort();
    let file = |name: &str| {
        engine::secrets_path(
            &fx.secrets_dir(),
            fx.client.endpoint(),
            &address(Kind::DatabaseUser, name),
            report_id(&report, name).as_deref().unwrap(),
        )
    };
    let mut expected = [
        file("billing-app"),
        file("orders-app"),
        file("orders-report"),
    ];
    expected.sort();
    assert_eq!(written, expected);
    let app = secret_file(&file("orders-app"));
    assert_eq!(app["username"], "app@admin");
    assert_eq!(app["serviceId"], orders["id"]);
    assert!(app["password"].as_str().is_some_and(|p| p.len() >= 8));
    assert!(app["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["component"] == "mongodbSrv"
            && e["uri"]
                .as_str()
                .unwrap()
                .contains(".database.cloud.ovh.net")));

    // Notice delay: a service create is its POST, then READY after READY_AFTER; the rest of the
    // step's time is how late the poll noticed.
    let service = step(&report, Kind::DatabaseService, "billing-db");
    let notice = Duration::from_millis(service.elapsed_ms).saturating_sub(READY_AFTER);
    eprintln!(
        "billing-db create took {} ms (ready after {} ms: noticed {} ms late); whole apply {} ms",
        service.elapsed_ms,
        READY_AFTER.as_millis(),
        notice.as_millis(),
        took.as_millis()
    );
    assert!(
        notice < Duration::from_millis(700),
        "noticed {notice:?} after READY"
    );
}

/// A fresh plan is empty and every manifest has exactly one live object.
async fn assert_converged_and_single(fx: &Fixture) {
    fx.assert_converged(false).await;
    let manifests = fx.manifests();
    for resource in &manifests.resources {
        if resource.address.kind == Kind::DatabaseService {
            let manifest::Spec::DatabaseService(spec) = &resource.spec else {
                unreachable!()
            };
            let found = fx
                .services_named(&spec.engine, &resource.address.name)
                .await;
            assert_eq!(found.len(), 1, "{}: {found:#?}", resource.address);
        }
    }
    let stacks = fx.get("/stackMysql").await.body;
    let wanted = manifests
        .resources
        .iter()
        .filter(|r| r.address.kind == Kind::ManagedStackMysql)
        .count();
    assert_eq!(
        stacks["products"].as_array().unwrap().len(),
        wanted,
        "{stacks}"
    );
}

#[tokio::test]
async fn an_update_of_flavor_ips_roles_and_domain_path_converges() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    fx.write(
        "shop.yaml",
        "apiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata: { name: shop-www }\nspec: { domain: www.shop.example, path: www }\n",
    );
    let (_, report) = fx.apply(false, &engine::Silent).await;
    assert_all_done(&report);

    let edited = ORDERS
        .replace("flavor: db2-4", "flavor: db2-8")
        .replace(
            "    - { ip: 198.51.100.7/32, description: vpn }",
            "    - { ip: 192.0.2.0/28, description: new office }",
        )
        .replace(
            "roles: [readWrite@orders]",
            "roles: [readWrite@orders, read@reports]",
        );
    fx.write("orders.yaml", &edited);
    fx.write(
        "shop.yaml",
        "apiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata: { name: shop-www }\nspec: { domain: www.shop.example, path: shop }\n",
    );
    let progress = Recorder::default();
    let (plan, report) = fx.apply(false, &progress).await;
    let updated: Vec<String> = plan
        .changes
        .iter()
        .map(|c| format!("{} {}", c.action.symbol(), c.address))
        .collect();
    assert_eq!(
        updated,
        [
            "~ DatabaseService/orders-db",
            "~ HostingAttachedDomain/shop-www",
            "~ DatabaseUser/orders-app",
        ]
    );
    assert_all_done(&report);
    // The user waited for the service's update (UPDATING -> READY) before its own.
    assert!(progress
        .events()
        .iter()
        .any(|e| e.starts_with("wait DatabaseService/orders-db UPDATING")));
    assert!(
        progress.position("finish DatabaseService/orders-db")
            < progress.position("start DatabaseUser/orders-app")
    );
    fx.assert_converged(false).await;
    let orders = &fx.services_named("mongodb", "orders-db").await[0];
    assert_eq!(orders["flavor"], "db2-8");
    let ips: Vec<&str> = orders["ipRestrictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ip"].as_str().unwrap())
        .collect();
    assert_eq!(ips, ["203.0.113.0/24", "192.0.2.0/28"]);
    let domain = fx
        .sb
        .call(
            "GET",
            &format!("{WEB}/attachedDomain/www.shop.example"),
            None,
        )
        .await
        .body;
    assert_eq!(
        (domain["path"].as_str(), domain["status"].as_str()),
        (Some("shop"), Some("created"))
    );
}

const LEGACY: &str = r#"
apiVersion: reconcile/v1
kind: DatabaseService
metadata: { name: legacy-db }
spec:
  engine: mongodb
  version: "7.0"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
"#;

const OLD_STACK: &str = r#"
apiVersion: reconcile/v1
kind: ManagedStackMysql
metadata: { name: old-stack }
spec: { nodes: 3 }
"#;

#[tokio::test]
async fn prune_deletes_what_no_manifest_names_and_waits_until_it_is_gone() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    fx.write("legacy.yaml", LEGACY);
    fx.write("shop.yaml", SHOP);
    fx.write("stack.yaml", STACK);
    fx.write("old-stack.yaml", OLD_STACK);
    let (_, report) = fx.apply(false, &engine::Silent).await;
    assert_all_done(&report);
    let old_stack = step(&report, Kind::ManagedStackMysql, "old-stack")
        .live_id
        .clone()
        .unwrap();

    // Keep orders-db with orders-app, the certificate and one stack: the rest of each managed
    // scope is unmanaged now, and deleted under prune.
    let kept: String = ORDERS.split("---").take(2).collect::<Vec<_>>().join("---");
    fx.write("orders.yaml", &kept);
    fx.remove("legacy.yaml");
    fx.remove("old-stack.yaml");
    fx.write(
        "shop.yaml",
        "apiVersion: reconcile/v1\nkind: HostingSsl\nmetadata: { name: shop-ssl }\nspec: {}\n",
    );
    let (plan, report) = fx.apply(true, &engine::Silent).await;
    let mut deletes: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Delete { .. }))
        .map(|c| c.address.to_string())
        .collect();
    deletes.sort();
    assert_eq!(
        deletes,
        [
            "DatabaseService/legacy-db".to_owned(),
            "DatabaseUser/orders-db/report".to_owned(),
            "HostingAttachedDomain/shop.example".to_owned(),
            "HostingAttachedDomain/www.shop.example".to_owned(),
            "HostingDatabase/h1blog.mysql.db".to_owned(),
            "HostingDatabase/h1shop.mysql.db".to_owned(),
            format!("ManagedStackMysql/{old_stack}"),
        ],
        "{:#?}",
        plan.changes
    );
    assert_all_done(&report);
    fx.assert_converged(true).await;
    // Gone, not just on the way: the steps waited for the 404s.
    assert!(fx.services_named("mongodb", "legacy-db").await.is_empty());
    let domains = fx.get(&format!("{WEB}/attachedDomain")).await.body;
    assert_eq!(domains, json!([HOSTING]));
    let databases = fx.get(&format!("{WEB}/database")).await.body;
    assert_eq!(databases, json!([]));
    let gone = fx.get(&format!("/stackMysql/{old_stack}")).await;
    assert_eq!(gone.status, 404);
    let orders = &fx.services_named("mongodb", "orders-db").await[0];
    let users = fx
        .usernames("mongodb", orders["id"].as_str().unwrap())
        .await;
    assert!(users.contains(&"app@admin".to_owned()) && !users.contains(&"report@admin".to_owned()));
}

#[tokio::test]
async fn a_replace_deletes_the_old_users_first_and_creates_them_again_on_the_new_service() {
    let fx = Fixture::start().await;
    let orders: String = ORDERS.split("---").take(2).collect::<Vec<_>>().join("---");
    fx.write("orders.yaml", &orders);
    let (_, report) = fx.apply(false, &engine::Silent).await;
    assert_all_done(&report);
    let old = fx.services_named("mongodb", "orders-db").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A user someone added by hand: prune deletes it before the service is replaced.
    let intruder = fx
        .sb
        .call(
            "POST",
            &format!("{DB}/mongodb/{old}/user"),
            Some(json!({"name": "intruder", "roles": []})),
        )
        .await;
    assert_eq!(intruder.status, 200, "{:?}", intruder.body);

    fx.write("orders.yaml", &orders.replace("region: GRA", "region: SBG"));
    let progress = Recorder::default();
    let (plan, report) = fx.apply(true, &progress).await;
    let planned: Vec<(String, usize)> = plan
        .changes
        .iter()
        .map(|c| (format!("{} {}", c.action.symbol(), c.address), c.wave))
        .collect();
    assert_eq!(
        planned,
        [
            ("- DatabaseUser/orders-db/intruder".to_owned(), 0),
            ("-/+ DatabaseService/orders-db".to_owned(), 1),
            ("+ DatabaseUser/orders-app".to_owned(), 2),
        ]
    );
    assert_all_done(&report);
    assert!(
        progress.position("finish DatabaseUser/orders-db/intruder")
            < progress.position("start DatabaseService/orders-db")
    );
    let new = step(&report, Kind::DatabaseService, "orders-db")
        .live_id
        .clone()
        .unwrap();
    assert_ne!(new, old);
    assert_eq!(
        step(&report, Kind::DatabaseUser, "orders-app").outcome,
        StepOutcome::Done
    );
    let users = fx.usernames("mongodb", &new).await;
    assert!(
        users.contains(&"app@admin".to_owned()) && !users.contains(&"intruder@admin".to_owned()),
        "{users:?}"
    );
    let gone = fx.get(&format!("{DB}/mongodb/{old}")).await;
    assert_eq!(gone.status, 404);
    fx.assert_converged(true).await;
}

// ---------------------------------------------------------------------------------------------
// Crash safety: adoption.

#[tokio::test]
async fn a_service_created_by_hand_after_the_plan_is_adopted_not_duplicated() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    let (manifests, live, plan) = fx.plan(false).await;
    assert_eq!(plan.changes[0].action, Action::Create);
    // Between plan and apply (or: by a run killed after its POST), the service appears.
    let by_hand = fx
        .sb
        .call(
            "POST",
            &format!("{DB}/mongodb"),
            Some(json!({
                "description": "orders-db", "plan": "production", "version": "7.0",
                "nodesPattern": {"flavor": "db2-4", "number": 3, "region": "GRA"},
                "disk": {"size": 40},
                "ipRestrictions": [
                    {"ip": "203.0.113.0/24", "description": "office"},
                    {"ip": "198.51.100.7/32", "description": "vpn"}
                ]
            })),
        )
        .await;
    assert_eq!(by_hand.status, 200, "{:?}", by_hand.body);
    let report = fx
        .execute(&manifests, &live, &plan, &fx.options(), &engine::Silent)
        .await;
    assert_all_done(&report);
    let service = step(&report, Kind::DatabaseService, "orders-db");
    assert!(service.adopted);
    assert_eq!(
        service.live_id.as_ref(),
        by_hand.body["id"].as_str().map(str::to_owned).as_ref()
    );
    assert_converged_and_single(&fx).await;
}

/// A saved plan's calls read back as their rendered form (`Operation::Saved`), never parsed
/// back into paths to send: handed to the engine, every step fails naming the call and nothing
/// is sent (apply executes the plan it makes now, after comparing it with the saved one).
#[tokio::test]
async fn a_plan_read_back_from_json_is_compared_never_executed() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    let (manifests, live, plan) = fx.plan(false).await;
    let saved: Plan = serde_json::from_value(plan::render::json(&plan)).unwrap();
    assert_eq!(saved.changes, plan.changes, "equal by rendered form");
    let report = fx
        .execute(&manifests, &live, &saved, &fx.options(), &engine::Silent)
        .await;
    let service = step(&report, Kind::DatabaseService, "orders-db");
    let StepOutcome::Failed { message, .. } = &service.outcome else {
        panic!("{service:#?}")
    };
    assert_eq!(
        message,
        "POST /cloud/project/p1/database/mongodb was read back from a saved plan: apply executes \
         the plan it makes now, never a saved one"
    );
    assert!(fx.services_named("mongodb", "orders-db").await.is_empty());
}

/// Issue 9 item 1: the plan's read stood for a create's first lookup for 2 minutes, so a
/// service another run created right after that read was created again (a twin). Every create
/// now lists its scope right before its `POST`: the service made by hand after the read is
/// adopted, whatever the read's age.
#[tokio::test]
async fn a_create_looks_its_object_up_right_before_posting_not_in_the_plans_read() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    let (manifests, live, plan) = fx.plan(false).await;
    let by_hand = fx
        .sb
        .call(
            "POST",
            &format!("{DB}/mongodb"),
            Some(json!({
                "description": "orders-db", "plan": "production", "version": "7.0",
                "nodesPattern": {"flavor": "db2-4", "number": 3, "region": "GRA"},
                "ipRestrictions": [
                    {"ip": "203.0.113.0/24", "description": "office"},
                    {"ip": "198.51.100.7/32", "description": "vpn"}
                ]
            })),
        )
        .await;
    assert_eq!(by_hand.status, 200, "{:?}", by_hand.body);
    let answers = std::sync::Arc::new(live::Answers::default());
    let options = ExecuteOptions {
        answers: Some(answers),
        ..fx.options()
    };
    let report = fx
        .execute(&manifests, &live, &plan, &options, &engine::Silent)
        .await;
    assert_all_done(&report);
    let service = step(&report, Kind::DatabaseService, "orders-db");
    assert!(service.adopted, "{service:#?}");
    assert_eq!(fx.services_named("mongodb", "orders-db").await.len(), 1);
}

/// Reads, plans and applies `manifests` as `reconcile apply` does, keeping the run's answers
/// (the read's, then the engine's) for a read after it.
async fn apply_keeping_answers(
    fx: &Fixture,
    manifests: &ManifestSet,
) -> (std::sync::Arc<live::Answers>, ApplyReport) {
    let answers = std::sync::Arc::new(live::Answers::default());
    let live = live::read_with(&fx.client, manifests, 8, false, Some(&answers))
        .await
        .expect("the live read");
    let plan = plan::plan(manifests, &live, &PlanOptions { prune: false });
    let options = ExecuteOptions {
        answers: Some(answers.clone()),
        ..fx.options()
    };
    let report = fx
        .execute(manifests, &live, &plan, &options, &engine::Silent)
        .await;
    (answers, report)
}

/// A whole set (services, their users, hosting) converges in one run. And the run's `Answers`
/// (the read's, then the engine's) give the read after the run exactly what a fresh read
/// gives, for fewer calls.
#[tokio::test]
async fn a_fresh_read_converges_an_empty_project_in_one_run() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    fx.write("shop.yaml", SHOP);
    let manifests = fx.manifests();
    let (answers, report) = apply_keeping_answers(&fx, &manifests).await;
    assert_all_done(&report);
    assert!(report.steps.iter().all(|s| !s.adopted), "{report:#?}");
    assert_converged_and_single(&fx).await;

    let verified = live::read_with(&fx.client, &manifests, 8, false, Some(&answers))
        .await
        .expect("the live read");
    let fresh = live::read(&fx.client, &manifests, 8)
        .await
        .expect("the live read");
    assert_eq!(verified.scopes, fresh.scopes);
    assert_eq!(verified.catalogues, fresh.catalogues);
    assert!(
        verified.calls < fresh.calls / 2,
        "{} calls with the run's answers, {} without",
        verified.calls,
        fresh.calls
    );
}

/// Apply's verification read (`read_to_verify`) reads the users of the services a user
/// manifest names and no others (without prune): a service the run created with no user
/// manifest costs its list and its built-in users for nothing. Its plan is a fresh read's plan
/// (no change); with prune it reads every service's users, as a pruning plan needs.
#[tokio::test]
async fn the_verification_reads_users_only_where_a_manifest_names_one() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    fx.write("events.yaml", &LEGACY.replace("legacy-db", "events-db"));
    let manifests = fx.manifests();
    let (answers, report) = apply_keeping_answers(&fx, &manifests).await;
    assert_all_done(&report);

    let users_read = |state: &LiveState, name: &str| {
        let services: Vec<&live::LiveService> = state
            .scopes
            .values()
            .flat_map(|scope| match scope {
                live::ScopeState::Known(live::LiveScope::Database { services }) => services.iter(),
                _ => [].iter(),
            })
            .filter(|service| service.description == name)
            .collect();
        assert_eq!(services.len(), 1, "{name}: {services:#?}");
        services[0].users.is_some()
    };
    let verified = live::read_to_verify(&fx.client, &manifests, 8, false, &answers)
        .await
        .expect("the verification read");
    let fresh = live::read(&fx.client, &manifests, 8)
        .await
        .expect("the live read");
    assert!(users_read(&verified, "orders-db"));
    assert!(!users_read(&verified, "events-db"));
    assert!(users_read(&fresh, "events-db"));
    let replan = |state: &LiveState| plan::plan(&manifests, state, &PlanOptions { prune: false });
    assert!(!replan(&verified).has_changes(), "{:#?}", replan(&verified));
    assert_eq!(replan(&verified).changes, replan(&fresh).changes);

    let pruning = live::read_to_verify(&fx.client, &manifests, 8, true, &answers)
        .await
        .expect("the verification read");
    assert!(users_read(&pruning, "events-db"));

    // What it reads still shows a user that differs from its manifest: a user not converged
    // is not verified as converged.
    fx.write(
        "orders.yaml",
        &ORDERS.replace("roles: [read@orders]", "roles: [read@orders, read@audit]"),
    );
    let changed = fx.manifests();
    let verified = live::read_to_verify(&fx.client, &changed, 8, false, &answers)
        .await
        .expect("the verification read");
    let replan = plan::plan(&changed, &verified, &PlanOptions { prune: false });
    let changes: Vec<String> = replan
        .changes
        .iter()
        .map(|c| format!("{:?} {}", c.action, c.address))
        .collect();
    assert_eq!(changes, ["Update DatabaseUser/orders-report"]);
}

#[tokio::test]
async fn created_but_500_on_every_create_makes_no_duplicate() {
    let fx = Fixture::with(SandboxConfig {
        created_but_500: 1.0,
        ..SandboxConfig::default()
    })
    .await;
    fx.write("orders.yaml", ORDERS);
    fx.write("stack.yaml", STACK);
    let (_, report) = fx.apply(false, &engine::Silent).await;
    assert_all_done(&report);
    for (kind, name) in [
        (Kind::DatabaseService, "orders-db"),
        (Kind::DatabaseUser, "orders-app"),
        (Kind::DatabaseUser, "orders-report"),
        (Kind::ManagedStackMysql, "reports-stack"),
    ] {
        assert!(
            step(&report, kind, name).adopted,
            "{kind}/{name} adopted after its 500"
        );
    }
    assert_converged_and_single(&fx).await;
    let orders = &fx.services_named("mongodb", "orders-db").await[0];
    let users = fx
        .usernames("mongodb", orders["id"].as_str().unwrap())
        .await;
    let ours: Vec<&String> = users
        .iter()
        .filter(|u| !u.starts_with("admin") && !u.starts_with("mms") && !u.starts_with("backup"))
        .collect();
    assert_eq!(ours, ["app@admin", "report@admin"]);
    // The password the 500 swallowed was reset into the sink, and the step says so.
    let app = step(&report, Kind::DatabaseUser, "orders-app");
    assert!(app.warnings.iter().any(|w| w.contains("reset")), "{app:#?}");
    let file = secret_file(&engine::secrets_path(
        &fx.secrets_dir(),
        fx.client.endpoint(),
        &address(Kind::DatabaseUser, "orders-app"),
        app.live_id.as_deref().unwrap(),
    ));
    assert_eq!(file["userId"].as_str(), app.live_id.as_deref());
}

#[tokio::test]
async fn random_5xx_429_and_latency_still_converge_without_duplicates() {
    let fx = Fixture::with(SandboxConfig {
        fail_rate: 0.1,
        rate_limit: Some(200),
        latency: Duration::from_millis(5),
        ..SandboxConfig::default()
    })
    .await;
    fx.write("orders.yaml", ORDERS);
    fx.write("billing.yaml", BILLING);
    fx.write("shop.yaml", SHOP);
    fx.write("stack.yaml", STACK);
    let (_, report) = fx.apply(false, &engine::Silent).await;
    assert_all_done(&report);
    assert_converged_and_single(&fx).await;
}

// ---------------------------------------------------------------------------------------------
// Partial failure, deadlines, resuming.

#[tokio::test]
async fn a_failed_step_skips_its_dependants_and_not_independent_work() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    // A user the API refuses (':' is forbidden in usernames), and a service it cannot order
    // (db2-free is offered nowhere) with a user of its own.
    fx.write(
        "broken.yaml",
        r#"
apiVersion: reconcile/v1
kind: DatabaseUser
metadata: { name: orders-bad }
spec: { service: orders-db, username: "bad:name", roles: [read@orders] }
---
apiVersion: reconcile/v1
kind: DatabaseService
metadata: { name: free-db }
spec:
  engine: mongodb
  version: "7.0"
  plan: production
  nodes: { flavor: db2-free, region: GRA, count: 3 }
---
apiVersion: reconcile/v1
kind: DatabaseUser
metadata: { name: free-app }
spec: { service: free-db, username: app, roles: [read@orders] }
"#,
    );
    let (_, report) = fx.apply(false, &engine::Silent).await;
    let outcome = |kind, name| step(&report, kind, name).outcome.clone();
    let StepOutcome::Failed {
        message,
        status,
        class,
        query_id,
    } = outcome(Kind::DatabaseUser, "orders-bad")
    else {
        panic!("{report:#?}")
    };
    assert_eq!(status, Some(400));
    assert_eq!(
        class.as_deref(),
        Some("Client::BadRequest::UserInvalidNameFormat")
    );
    assert!(query_id.is_some_and(|q| q.starts_with("SB.")));
    assert!(message.starts_with("creating user bad:name: "), "{message}");
    let StepOutcome::Failed { class, status, .. } = outcome(Kind::DatabaseService, "free-db")
    else {
        panic!("{report:#?}")
    };
    assert_eq!(
        (status, class.as_deref()),
        (Some(404), Some("Client::NotFound::NoMatchingAvailability"))
    );
    assert_eq!(
        outcome(Kind::DatabaseUser, "free-app"),
        StepOutcome::Skipped {
            because: address(Kind::DatabaseService, "free-db")
        }
    );
    for name in ["orders-app", "orders-report"] {
        assert_eq!(outcome(Kind::DatabaseUser, name), StepOutcome::Done);
    }
    assert_eq!(
        outcome(Kind::DatabaseService, "orders-db"),
        StepOutcome::Done
    );
    assert_eq!(
        (report.done(), report.failed(), report.skipped()),
        (3, 2, 1)
    );
    assert!(fx.services_named("mongodb", "free-db").await.is_empty());
}

#[tokio::test]
async fn a_spent_wait_budget_ends_in_progress_and_the_next_run_resumes_without_reposting() {
    let fx = Fixture::with(SandboxConfig {
        ready_after: Duration::from_millis(1500),
        ..SandboxConfig::default()
    })
    .await;
    let orders: String = ORDERS.split("---").take(2).collect::<Vec<_>>().join("---");
    fx.write("orders.yaml", &orders);
    fx.write(
        "shop.yaml",
        "apiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata: { name: shop-www }\nspec: { domain: www.shop.example, path: www }\n",
    );
    let (manifests, live, plan) = fx.plan(false).await;
    let options = ExecuteOptions {
        timeout: Duration::from_millis(300),
        ..fx.options()
    };
    let started = Instant::now();
    let report = fx
        .execute(&manifests, &live, &plan, &options, &engine::Silent)
        .await;
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        step(&report, Kind::DatabaseService, "orders-db").outcome,
        StepOutcome::InProgress {
            last_status: "CREATING".into()
        }
    );
    assert!(matches!(
        &step(&report, Kind::HostingAttachedDomain, "shop-www").outcome,
        StepOutcome::InProgress { last_status } if last_status.starts_with("task ")
    ));
    assert_eq!(
        step(&report, Kind::DatabaseUser, "orders-app").outcome,
        StepOutcome::Skipped {
            because: address(Kind::DatabaseService, "orders-db")
        }
    );
    assert_eq!((report.in_progress(), report.skipped()), (2, 1));
    let first_id = step(&report, Kind::DatabaseService, "orders-db")
        .live_id
        .clone();

    // The next run: a fresh plan sees the service (CREATING) and the domain (creating) as
    // unchanged, creates the user, and waits for the rest.
    let (plan, report) = fx.apply(false, &engine::Silent).await;
    let planned: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(planned, ["DatabaseUser/orders-app"]);
    assert_all_done(&report);
    let resumed: Vec<String> = report
        .steps
        .iter()
        .filter(|s| s.resumed)
        .map(|s| s.address.to_string())
        .collect();
    assert_eq!(
        resumed,
        [
            "DatabaseService/orders-db",
            "HostingAttachedDomain/shop-www"
        ]
    );
    assert_eq!(
        step(&report, Kind::DatabaseService, "orders-db").live_id,
        first_id
    );
    let services = fx.services_named("mongodb", "orders-db").await;
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["status"], "READY");
    let domain = fx
        .sb
        .call(
            "GET",
            &format!("{WEB}/attachedDomain/www.shop.example"),
            None,
        )
        .await
        .body;
    assert_eq!(domain["status"], "created");
    assert_converged_and_single(&fx).await;
}

/// An IP entry stuck in PENDING (<https://github.com/ovh/terraform-provider-ovh/issues/533>)
/// holds the service step until the wait budget is spent: the step ends in progress naming the
/// entry (apply exits 5), and a next run with a fresh plan resumes waiting on it without
/// re-sending anything.
#[tokio::test]
async fn an_ip_entry_stuck_pending_ends_in_progress_and_the_next_run_resumes() {
    let fx = Fixture::with(SandboxConfig {
        stuck_pending: vec!["198.51.100.7/32".into()],
        ..SandboxConfig::default()
    })
    .await;
    fx.write("orders.yaml", ORDERS);
    let (manifests, live, plan) = fx.plan(false).await;
    let options = ExecuteOptions {
        timeout: Duration::from_secs(2),
        ..fx.options()
    };
    let report = fx
        .execute(&manifests, &live, &plan, &options, &engine::Silent)
        .await;
    let service = step(&report, Kind::DatabaseService, "orders-db");
    match &service.outcome {
        StepOutcome::InProgress { last_status } => assert!(
            last_status.contains("198.51.100.7/32 PENDING"),
            "{last_status}"
        ),
        other => panic!("expected in progress, got {other:?}"),
    }

    // The next run plans no write for the service but waits for it again.
    let (manifests, live, plan) = fx.plan(false).await;
    assert!(
        plan.changes
            .iter()
            .all(|c| c.address.kind != Kind::DatabaseService),
        "{:#?}",
        plan.changes
    );
    let report = fx
        .execute(&manifests, &live, &plan, &options, &engine::Silent)
        .await;
    let service = step(&report, Kind::DatabaseService, "orders-db");
    assert!(service.resumed, "{service:#?}");
    assert!(
        matches!(service.outcome, StepOutcome::InProgress { .. }),
        "{service:#?}"
    );
}

#[tokio::test]
async fn rotate_resets_a_password_into_the_sink() {
    let fx = Fixture::start().await;
    fx.write("orders.yaml", ORDERS);
    let (_, report) = fx.apply(false, &engine::Silent).await;
    assert_all_done(&report);
    let path = engine::secrets_path(
        &fx.secrets_dir(),
        fx.client.endpoint(),
        &address(Kind::DatabaseUser, "orders-app"),
        report_id(&report, "orders-app").as_deref().unwrap(),
    );
    let before = secret_file(&path)["password"].clone();

    let (manifests, live, _) = fx.plan(false).await;
    let target = address(Kind::DatabaseUser, "orders-app");
    let rotated = engine::rotate(&fx.client, &manifests, &live, &target, &fx.options()).await;
    assert_eq!(rotated.outcome, StepOutcome::Done, "{rotated:#?}");
    assert_eq!(rotated.live_id, report_id(&report, "orders-app"));
    let after = secret_file(&path)["password"].clone();
    assert_ne!(before, after);
    assert!(!serde_json::to_string(&rotated)
        .unwrap()
        .contains(after.as_str().unwrap()));

    let wrong = address(Kind::DatabaseService, "orders-db");
    let refused = engine::rotate(&fx.client, &manifests, &live, &wrong, &fx.options()).await;
    assert!(
        matches!(refused.outcome, StepOutcome::Failed { .. }),
        "{refused:#?}"
    );
}

fn report_id(report: &ApplyReport, user: &str) -> Option<String> {
    step(report, Kind::DatabaseUser, user).live_id.clone()
}

// ---------------------------------------------------------------------------------------------
// Secrets: only in the sink.

/// Set in the child process that runs `secrets_capture_child`.
const SECRETS_CHILD_ENV: &str = "RECONCILE_ENGINE_SECRETS_CHILD";

/// Runs `secrets_capture_child` alone in a fresh process of this test binary (tracing caches
/// log-site interest globally; a scoped subscriber in a shared process can miss events).
#[test]
fn secrets_reach_the_sink_and_never_logs_reports_or_progress() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "engine::secrets_capture_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SECRETS_CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the secrets check failed in its own process:\n{stdout}\n{stderr}"
    );
}

#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_capture_child() {
    if std::env::var_os(SECRETS_CHILD_ENV).is_none() {
        return;
    }
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);

    // "500 but created" on half the creates: both the direct password and the reset one.
    let fx = Fixture::with(SandboxConfig {
        created_but_500: 0.5,
        ..SandboxConfig::default()
    })
    .await;
    fx.write("orders.yaml", ORDERS);
    fx.write("billing.yaml", BILLING);
    fx.write("shop.yaml", SHOP);
    let progress = Recorder::default();
    let (_, report) = fx.apply(false, &progress).await;
    assert_all_done(&report);
    let dir = fx.secrets_dir();
    let mut secrets = vec![SHOP_DB_PASSWORD.to_owned(), BLOG_DB_PASSWORD.to_owned()];
    let mut read_passwords = |paths: &[PathBuf]| {
        for path in paths {
            #[cfg(unix)]
            assert_eq!(mode(path), 0o600, "{}", path.display());
            let password = secret_file(path)["password"].as_str().unwrap().to_owned();
            assert!(password.len() >= 8);
            secrets.push(password);
        }
    };
    assert_eq!(
        report.secrets_written.len(),
        3,
        "{:?}",
        report.secrets_written
    );
    read_passwords(&report.secrets_written);
    let manifests = fx.manifests();
    let (_, live, _) = fx.plan(false).await;
    let billing = address(Kind::DatabaseUser, "billing-app");
    let rotated = engine::rotate(&fx.client, &manifests, &live, &billing, &fx.options()).await;
    drop(guard);
    assert_eq!(rotated.outcome, StepOutcome::Done);
    read_passwords(&[engine::secrets_path(
        &dir,
        fx.client.endpoint(),
        &billing,
        rotated.live_id.as_deref().unwrap(),
    )]);
    #[cfg(unix)]
    assert_eq!(mode(&dir), 0o700);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("password written to the secrets sink"),
        "tracing captured nothing useful:\n{text}"
    );
    let reports =
        serde_json::to_string(&report).unwrap() + &serde_json::to_string(&rotated).unwrap();
    let events = progress.events().join("\n");
    assert_eq!(secrets.len(), 6);
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret is in the logs");
        assert!(
            !reports.contains(secret.as_str()),
            "a secret is in the report"
        );
        assert!(
            !events.contains(secret.as_str()),
            "a secret is in the progress"
        );
    }
    // The hosting databases were created with the passwords from the file and the environment.
    let databases = fx.get(&format!("{WEB}/database")).await.body;
    assert_eq!(databases, json!(["h1blog.mysql.db", "h1shop.mysql.db"]));
}
