//! The sandbox demo from the README's quick start: starts the built-in OVH API simulator in
//! this process and drives it with reconcile's own client through a whole life, the same
//! calls the official clients make: a MongoDB service (create, wait READY, IP restrictions
//! through the list and the deprecated per-IP routes, a user and a password reset), a hosting
//! attached domain followed through its task, a RunAbove managed MySQL stack, then deletes.
//!
//! Run: `cargo run --example sandbox_tour` (add `-- -v` to log every HTTP call).
//! Passwords are never printed: only their length is.

use reconcile::family::stack;
use reconcile::ovh::{Client, ClientConfig, Credentials, Endpoint, OvhError};
use reconcile::sandbox::{self, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PROJECT: &str = "tour-project";
const HOSTING: &str = "tour.cluster021.hosting.ovh.net";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "-v") {
        tracing_subscriber::fmt()
            .with_env_filter("warn,reconcile=debug")
            .with_writer(std::io::stderr)
            .init();
    }
    let started = Instant::now();
    let sandbox = Sandbox::new(SandboxConfig {
        projects: vec![PROJECT.into()],
        hostings: vec![HOSTING.into()],
        ready_after: Duration::from_millis(800),
        ..SandboxConfig::default()
    })?;
    let running = sandbox::serve(sandbox, "127.0.0.1:0", None).await?;
    println!("sandbox listening at {}", running.endpoint);

    let credentials = Credentials::application(
        sandbox::DEFAULT_APPLICATION_KEY,
        sandbox::DEFAULT_APPLICATION_SECRET,
        sandbox::DEFAULT_CONSUMER_KEY,
    );
    let mut config = ClientConfig::new(Endpoint::parse(&running.endpoint)?, credentials);
    let runabove = Endpoint::parse(&running.runabove_endpoint)?;
    config.apis.push((&stack::RUNABOVE, runabove));
    let api = Client::new(config)?;

    let me: Value = api.get("/auth/currentCredential").await?;
    println!("credential {} is {}", me["credentialId"], me["status"]);

    // Public Cloud database: a MongoDB service.
    let db = format!("/cloud/project/{PROJECT}/database/mongodb");
    let created: Value = api
        .post(
            &db,
            &json!({
                "description": "orders-db",
                "plan": "production",
                "version": "7.0",
                "nodesPattern": {"flavor": "db2-4", "number": 3, "region": "GRA"},
                "ipRestrictions": [{"ip": "203.0.113.0/24", "description": "office"}],
            }),
        )
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    println!("created mongodb service {id} ({})", created["status"]);
    let service = format!("{db}/{id}");
    wait_for(&api, &service, "status", "READY").await?;

    let mut ips = created["ipRestrictions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ips.push(json!({"ip": "198.51.100.7/32", "description": "ci runner"}));
    let ips: Vec<Value> = ips
        .into_iter()
        .map(|e| json!({"ip": e["ip"], "description": e["description"]}))
        .collect();
    let _: Value = api.put(&service, &json!({ "ipRestrictions": ips })).await?;
    println!("ip restrictions set through the service list");
    wait_for(&api, &service, "status", "READY").await?;
    let _: Value = api
        .post(
            &format!("{service}/ipRestriction"),
            &json!({"ip": "192.0.2.10/32", "description": "deprecated route"}),
        )
        .await?;
    let entry = format!("{service}/ipRestriction/192.0.2.10%2F32");
    wait_for(&api, &entry, "status", "READY").await?;
    let listed: Vec<String> = api.get(&format!("{service}/ipRestriction")).await?;
    println!("ip restrictions now: {}", listed.join(", "));

    let user: Value = api
        .post(
            &format!("{service}/user"),
            &json!({"name": "app", "roles": ["readWrite@orders"]}),
        )
        .await?;
    let user_path = format!("{service}/user/{}", user["id"].as_str().unwrap_or_default());
    println!(
        "created user {} with a password of {} characters (not shown)",
        user["username"],
        user["password"].as_str().map_or(0, str::len)
    );
    wait_for(&api, &user_path, "status", "READY").await?;
    let reset: Value = api
        .post(&format!("{user_path}/credentials/reset"), &json!({}))
        .await?;
    println!(
        "password reset: a new one of {} characters (not shown)",
        reset["password"].as_str().map_or(0, str::len)
    );

    // Web Hosting: attach a domain and follow its task.
    let hosting = format!("/hosting/web/{HOSTING}");
    let task: Value = api
        .post(
            &format!("{hosting}/attachedDomain"),
            &json!({"domain": "www.shop.example", "path": "www", "ssl": true, "firewall": "active"}),
        )
        .await?;
    println!(
        "attachedDomain/create is task {} ({})",
        task["id"], task["status"]
    );
    follow_task(&api, &format!("{hosting}/tasks/{}", task["id"])).await?;
    let domain: Value = api
        .get(&format!("{hosting}/attachedDomain/www.shop.example"))
        .await?;
    println!(
        "www.shop.example is {} in folder {}",
        domain["status"], domain["path"]
    );

    // RunAbove managed stack, on RunAbove's own API, as its guide shows: the create answers
    // no id, the listing does.
    let runabove = api.for_api(&stack::RUNABOVE);
    let created: Value = runabove.post("/stackMysql", &json!({})).await?;
    let listed: Value = runabove.get("/stackMysql").await?;
    let stack_id = listed["products"][0]["id"].clone();
    let stack_path = format!("/stackMysql/{stack_id}");
    println!("stackMysql: {} ({stack_id})", created["msg"]);
    let start = Instant::now();
    while runabove.get::<Value>(&stack_path).await?["active"] != true {
        anyhow::ensure!(start.elapsed() < DEADLINE, "{stack_path} not active");
        tokio::time::sleep(POLL).await;
    }

    // Everything goes away again, children first.
    let _: Value = api.delete(&user_path).await?;
    let _: Value = api.delete(&service).await?;
    wait_gone(&api, &service).await?;
    let task: Value = api
        .delete(&format!("{hosting}/attachedDomain/www.shop.example"))
        .await?;
    follow_task(&api, &format!("{hosting}/tasks/{}", task["id"])).await?;
    let _: Value = runabove.delete(&stack_path).await?;
    wait_gone(runabove, &stack_path).await?;
    println!(
        "tour done in {:.1}s: everything created, changed and deleted",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

const DEADLINE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(200);

/// Polls `path` until `field` is `want`, printing each new value.
async fn wait_for(api: &Client, path: &str, field: &str, want: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut last = String::new();
    loop {
        let object: Value = api.get(path).await?;
        let now = object[field].as_str().unwrap_or_default().to_string();
        if now != last {
            println!("  {path}: {field} = {now}");
            last = now;
        }
        if last == want {
            return Ok(());
        }
        anyhow::ensure!(
            start.elapsed() < DEADLINE,
            "{path} still {field}={last} after {DEADLINE:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Polls a hosting task until it is done or gone (404), as php-ovh and the manager do.
async fn follow_task(api: &Client, path: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut last = String::new();
    loop {
        match api.get::<Value>(path).await {
            Ok(task) => {
                let status = task["status"].as_str().unwrap_or_default().to_string();
                if status != last {
                    println!("  {path}: {status}");
                    last = status;
                }
                anyhow::ensure!(
                    last != "cancelled" && last != "error",
                    "task {path} ended {last}"
                );
            }
            Err(e) if is_not_found(&e) => {
                println!("  {path}: gone (finished)");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        anyhow::ensure!(start.elapsed() < DEADLINE, "task {path} still {last}");
        tokio::time::sleep(POLL).await;
    }
}

/// Polls until `path` answers 404.
async fn wait_gone(api: &Client, path: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        match api.get::<Value>(path).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {
                println!("  {path}: gone");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        anyhow::ensure!(start.elapsed() < DEADLINE, "{path} still there");
        tokio::time::sleep(POLL).await;
    }
}

fn is_not_found(e: &OvhError) -> bool {
    e.is_not_found()
}
