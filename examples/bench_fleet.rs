//! The fleet benchmark (issue 5): how close reconcile gets to the limits the API imposes, and
//! how it compares with the script a user would write by hand. It starts the sandbox in this
//! process (the real router, wrapped in a layer that logs every request it answers), seeds a
//! fleet through signed API calls, writes the matching manifests to a temporary directory, runs
//! the real `reconcile` binary against it as a child process, and prints one Markdown table:
//! every row a measurement, its lower bound or target, the ratio and whether the target is met.
//!
//! Run: `cargo run --release --example bench_fleet` (about 2 minutes, plus row 3: 25 s at its
//! lower bound, 4 minutes today). Through cargo it builds `target/release/reconcile` first
//! (`cargo run --example` alone would not); run directly, set `RECONCILE_BIN` or build it.
//! Flags: `--rows 1,2,4,5` (a subset), `--no-apply` (skip row 3, the longest), `--keep` (keep
//! the temporary directory, with each row's request log as `requests-<row>.tsv`).
//! Not part of the test suite. The exit code is 1 only when the harness itself fails; a missed
//! target says MISSED in its row. docs/performance.md explains every row and the results.
//!
//! The rows:
//! 1. `plan` of the fleet (200 database services with 3 IP restrictions and 2 users each, 50
//!    hosting attached domains) with the sandbox at 20 req/s and the client at 20 req/s: the
//!    calls the sandbox answered against the minimum the API forces (counted from the sandbox's
//!    world, `GET /auth/time` included), the wall time against that minimum / 20 s;
//! 2. the same with no rate limit: wall time, CPU time and peak RSS of the `reconcile` process
//!    (`wait4` rusage);
//! 3. `apply` creating 50 services with `--ready-after 20s` at 20 req/s: wall time against
//!    20 s + the rate-limit floor of the calls before the last create, polls per service, and
//!    the delay between each service's READY deadline in the sandbox and the first GET after it;
//! 4. offline `validate` + plan (diff) of 10,000 generated resources against an equal live
//!    state built in memory from real sandbox answers: time and peak RSS;
//! 5. the same fleet read by `benches/baseline_python.py` (official `ovh` 1.2.0 client, one call
//!    at a time) and by `reconcile plan`, no rate limit, 20 ms sandbox latency: the ratio.

#[path = "common/binary.rs"]
mod binary;

use anyhow::{anyhow, bail, Context, Result};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use reconcile::live::{mapping, LiveHosting, LiveScope, LiveState, Scope, ScopeState, UsersState};
use reconcile::manifest::{self, ManifestSet, Spec};
use reconcile::ovh::{Client, ClientConfig, Credentials, Endpoint};
use reconcile::plan::{self, PlanOptions};
use reconcile::sandbox::hosting::Identity;
use reconcile::sandbox::state::StateFile;
use reconcile::sandbox::{self, Sandbox, SandboxConfig};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The API's documented budget, and the sandbox's and client's limit in rows 1 and 3.
const RATE: u32 = 20;
/// "No rate limit" for the client (the sandbox then has none at all).
const UNLIMITED_CLIENT_RATE: u32 = 10_000;
/// How long a seeded object stays CREATING/PENDING while the fleet is built.
const SEED_READY_AFTER: Duration = Duration::from_millis(50);
/// Requests in flight while seeding.
const SEED_PARALLELISM: usize = 16;
/// The longest any one child process may run before it is killed (a harness error).
const CHILD_DEADLINE: Duration = Duration::from_secs(300);

const PLAN_TARGET: f64 = 1.10;
const APPLY_TARGET: f64 = 1.15;
const NOTICE_TARGET: Duration = Duration::from_secs(2);
const OFFLINE_TIME_TARGET: Duration = Duration::from_millis(500);
const OFFLINE_RSS_TARGET_MB: f64 = 200.0;
const BASELINE_TARGET: f64 = 8.0;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(OFFLINE_CHILD) {
        return match offline_child(&args[1..]) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(&args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What the command line asked for.
struct Options {
    rows: Vec<u32>,
    /// Row 3 runs unless `--no-apply` (and says "not measured" while apply is a stub).
    apply: bool,
    keep: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            rows: vec![1, 2, 3, 4, 5],
            apply: true,
            keep: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-apply" => options.apply = false,
                "--keep" => options.keep = true,
                "--rows" => {
                    let list = args.next().context("--rows needs a list, e.g. 1,2,5")?;
                    options.rows = list
                        .split(',')
                        .map(|n| {
                            n.trim()
                                .parse::<u32>()
                                .context("--rows takes numbers 1 to 5")
                        })
                        .collect::<Result<_>>()?;
                }
                "-h" | "--help" => {
                    println!("usage: bench_fleet [--rows 1,2,3,4,5] [--no-apply] [--keep]");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try --help)"),
            }
        }
        Ok(options)
    }

    fn wants(&self, row: u32) -> bool {
        self.rows.contains(&row)
    }
}

async fn run(args: &[String]) -> Result<()> {
    let options = Options::parse(args)?;
    let reconcile_bin = binary::reconcile_binary("bench_fleet", progress)?;
    if !reconcile_bin.parent().is_some_and(binary::release_profile) {
        progress("warning: not a release build; the numbers mean little (use --release)");
    }
    let tmp = tempfile::Builder::new().prefix("bench-fleet-").tempdir()?;
    let work = tmp.path().to_path_buf();
    let started = Instant::now();
    let mut table = Table::default();
    progress(&format!(
        "{} CPUs, load average {}, reconcile at {}, work in {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        reconcile_bin.display(),
        work.display()
    ));

    // Rows 1, 2 and 5 share one seeded fleet, saved as a sandbox state file.
    let fleet = Fleet::plan_fleet();
    let needs_fleet = [1, 2, 4, 5].iter().any(|&r| options.wants(r));
    let seeded = if needs_fleet {
        Some(seed_fleet(&fleet, &work).await?)
    } else {
        None
    };
    let env = Env {
        reconcile: reconcile_bin,
        work: work.clone(),
        keep: options.keep,
    };

    if let Some(seeded) = &seeded {
        table.notes.push(format!(
            "Minimum calls of row 1a, counted from the sandbox's world: {} = {}.",
            seeded.minimum.total, seeded.minimum.explained
        ));
        // Row 2 first: it also proves the seeded fleet equals the manifests (no changes).
        if options.wants(2) {
            table.extend(row_unlimited(&env, &fleet, seeded).await?);
        }
        if options.wants(1) {
            table.extend(row_rate_limited(&env, &fleet, seeded).await?);
        }
    }
    if options.wants(3) {
        table.extend(row_apply(&env, options.apply).await?);
    }
    if let Some(seeded) = &seeded {
        if options.wants(4) {
            table.extend(row_offline(&env, seeded).await?);
        }
        if options.wants(5) {
            table.extend(row_baseline(&env, &fleet, seeded).await?);
        }
    }

    table.sort();
    println!("{}", table.render());
    println!(
        "fleet of rows 1, 2, 5: {}; machine: {} CPUs, load average {} at the end; harness ran {:.0} s",
        fleet.describe(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        started.elapsed().as_secs_f64()
    );
    if options.keep {
        let kept = tmp.keep();
        println!("kept {}", kept.display());
    }
    Ok(())
}

/// Where children run and what they run.
struct Env {
    reconcile: PathBuf,
    work: PathBuf,
    /// `--keep`: also write each row's request log to `requests-<row>.tsv`.
    keep: bool,
}

impl Env {
    /// With `--keep`, the requests a row's sandbox answered, one per line: milliseconds since
    /// the first, method, path, status.
    fn dump(&self, row: &str, log: &[Seen]) {
        if !self.keep || log.is_empty() {
            return;
        }
        let first = log.iter().map(|s| s.at).min().unwrap_or_else(Utc::now);
        let mut out = String::new();
        for s in log {
            let ms = (s.at - first).num_milliseconds();
            let _ = writeln!(out, "{ms}\t{}\t{}\t{}", s.method, s.path, s.status);
        }
        let path = self.work.join(format!("requests-{row}.tsv"));
        if let Err(e) = std::fs::write(&path, out) {
            progress(&format!("cannot write {}: {e}", path.display()));
        }
    }
}

fn progress(line: &str) {
    eprintln!("bench_fleet: {line}");
}

// ------------------------------------------------------------------------------------------
// The fleet: what is seeded and what the manifests say (the same thing).

#[derive(Clone, Copy)]
struct Engine {
    name: &'static str,
    short: &'static str,
    version: &'static str,
    plan: &'static str,
    flavor: &'static str,
    nodes: u32,
    /// Roles of the `app` and `ro` users.
    roles: [&'static [&'static str]; 2],
}

const MONGODB: Engine = Engine {
    name: "mongodb",
    short: "mongo",
    version: "7.0",
    plan: "production",
    flavor: "db2-4",
    nodes: 3,
    roles: [&["readWrite@app"], &["read@app"]],
};

const POSTGRESQL: Engine = Engine {
    name: "postgresql",
    short: "pg",
    version: "16",
    plan: "business",
    flavor: "db1-7",
    nodes: 2,
    roles: [&[], &[]],
};

/// The two users of every service (when the fleet has users).
const USERS: [&str; 2] = ["app", "ro"];

#[derive(Clone)]
struct Fleet {
    projects: Vec<String>,
    engines: Vec<Engine>,
    services_per_scope: usize,
    with_users: bool,
    hostings: Vec<String>,
    domains_per_hosting: usize,
}

struct ServiceDef {
    project: String,
    engine: Engine,
    name: String,
    ips: Vec<(String, &'static str)>,
}

struct DomainDef {
    hosting: String,
    name: String,
    domain: String,
}

impl Fleet {
    /// Rows 1, 2, 5: 2 projects x 2 engines x 50 services (3 IPs, 2 users each), one hosting
    /// with 50 attached domains.
    fn plan_fleet() -> Fleet {
        Fleet {
            projects: vec!["bench-p1".into(), "bench-p2".into()],
            engines: vec![MONGODB, POSTGRESQL],
            services_per_scope: 50,
            with_users: true,
            hostings: vec!["bench1.cluster021.hosting.ovh.net".into()],
            domains_per_hosting: 50,
        }
    }

    /// Row 4: 4 projects x 500 mongodb services with 2 users each, 4 hostings x 1,000 attached
    /// domains = 10,000 resources.
    fn offline_fleet() -> Fleet {
        Fleet {
            projects: (1..=4).map(|n| format!("bench-p{n}")).collect(),
            engines: vec![MONGODB],
            services_per_scope: 500,
            with_users: true,
            hostings: (1..=4)
                .map(|n| format!("bench{n}.cluster021.hosting.ovh.net"))
                .collect(),
            domains_per_hosting: 1000,
        }
    }

    /// Row 3: 50 mongodb services with 3 IPs each, nothing else.
    fn apply_fleet() -> Fleet {
        Fleet {
            projects: vec!["bench-apply".into()],
            engines: vec![MONGODB],
            services_per_scope: 50,
            with_users: false,
            hostings: vec![],
            domains_per_hosting: 0,
        }
    }

    fn services(&self) -> Vec<ServiceDef> {
        let mut out = Vec::new();
        let mut n = 0usize;
        for project in &self.projects {
            let p = project.trim_start_matches("bench-");
            for engine in &self.engines {
                for i in 0..self.services_per_scope {
                    n += 1;
                    out.push(ServiceDef {
                        project: project.clone(),
                        engine: *engine,
                        name: format!("{p}-{}-{i:04}", engine.short),
                        ips: vec![
                            (format!("10.{}.{}.0/24", n / 256 % 256, n % 256), "office"),
                            (format!("192.0.2.{}/32", n % 256), "ci runner"),
                            (format!("2001:db8:{n:x}::/48"), "vpn"),
                        ],
                    });
                }
            }
        }
        out
    }

    fn domains(&self) -> Vec<DomainDef> {
        let mut out = Vec::new();
        for hosting in &self.hostings {
            let h = hosting.split('.').next().unwrap_or("h");
            for i in 0..self.domains_per_hosting {
                out.push(DomainDef {
                    hosting: hosting.clone(),
                    name: format!("{h}-site-{i:04}"),
                    domain: format!("site-{i:04}.{h}.example"),
                });
            }
        }
        out
    }

    fn resource_count(&self) -> usize {
        let services = self.projects.len() * self.engines.len() * self.services_per_scope;
        let users = if self.with_users {
            services * USERS.len()
        } else {
            0
        };
        services + users + self.hostings.len() * self.domains_per_hosting
    }

    fn describe(&self) -> String {
        let services = self.projects.len() * self.engines.len() * self.services_per_scope;
        format!(
            "{services} database services ({} projects x {} engines), 3 IP restrictions{} each, {} attached domains on {} hosting(s) = {} resources",
            self.projects.len(),
            self.engines.len(),
            if self.with_users { " and 2 users" } else { "" },
            self.hostings.len() * self.domains_per_hosting,
            self.hostings.len(),
            self.resource_count()
        )
    }

    /// One file per service (with its users), attached domains 100 to a file: the layout of a
    /// real manifest repository. Returns the directory.
    fn write_manifests(&self, dir: &Path) -> Result<PathBuf> {
        let databases = dir.join("databases");
        let hosting = dir.join("hosting");
        std::fs::create_dir_all(&databases)?;
        std::fs::create_dir_all(&hosting)?;
        for service in self.services() {
            let mut doc = String::new();
            let e = service.engine;
            let _ = write!(
                doc,
                "apiVersion: reconcile/v1\nkind: DatabaseService\nmetadata:\n  name: {}\nspec:\n  project: {}\n  engine: {}\n  version: \"{}\"\n  plan: {}\n  nodes: {{ flavor: {}, region: GRA, count: {} }}\n  ipRestrictions:\n",
                service.name, service.project, e.name, e.version, e.plan, e.flavor, e.nodes
            );
            for (ip, description) in &service.ips {
                let _ = writeln!(doc, "    - {{ ip: \"{ip}\", description: {description} }}");
            }
            if self.with_users {
                for (k, user) in USERS.iter().enumerate() {
                    let _ = write!(
                        doc,
                        "---\napiVersion: reconcile/v1\nkind: DatabaseUser\nmetadata:\n  name: {}-{user}\nspec:\n  service: {}\n  username: {user}\n  roles: [{}]\n",
                        service.name,
                        service.name,
                        e.roles[k].join(", ")
                    );
                }
            }
            std::fs::write(databases.join(format!("{}.yaml", service.name)), doc)?;
        }
        for (chunk, domains) in self.domains().chunks(100).enumerate() {
            let mut doc = String::new();
            for d in domains {
                let _ = write!(
                    doc,
                    "---\napiVersion: reconcile/v1\nkind: HostingAttachedDomain\nmetadata:\n  name: {}\nspec:\n  hosting: {}\n  domain: {}\n  path: www\n",
                    d.name, d.hosting, d.domain
                );
            }
            std::fs::write(hosting.join(format!("domains-{chunk:03}.yaml")), doc)?;
        }
        Ok(dir.to_path_buf())
    }
}

// ------------------------------------------------------------------------------------------
// The sandbox, in this process, with every answered request logged.

/// One request the sandbox answered: when the answer left, method, API path, status.
#[derive(Clone, Debug)]
struct Seen {
    at: DateTime<Utc>,
    method: String,
    path: String,
    status: u16,
}

#[derive(Clone, Default)]
struct RequestLog(Arc<Mutex<Vec<Seen>>>);

impl RequestLog {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

async fn record(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path();
    let path = path
        .strip_prefix("/1.0")
        .or_else(|| path.strip_prefix("/v1"))
        .unwrap_or(path)
        .to_owned();
    let response = next.run(request).await;
    let seen = Seen {
        at: Utc::now(),
        method,
        path,
        status: response.status().as_u16(),
    };
    log.0.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
    response
}

/// A sandbox listening on 127.0.0.1:0 (stopped when dropped).
struct Served {
    endpoint: String,
    sandbox: Arc<Sandbox>,
    log: RequestLog,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The sandbox's own router (every middleware: query id, faults, auth) behind one more layer,
/// outermost, that logs each answer (429s included).
async fn serve(config: SandboxConfig) -> Result<Served> {
    let sandbox = Sandbox::new(config)?;
    let log = RequestLog::default();
    let app = sandbox::server::router(sandbox.clone(), "http")
        .layer(middleware::from_fn_with_state(log.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Served {
        endpoint: format!("http://{addr}/1.0"),
        sandbox,
        log,
        task,
    })
}

/// A sandbox on the seeded fleet's state (a fresh copy of the file), with these faults.
async fn serve_fleet(
    seeded: &Seeded,
    name: &str,
    rate_limit: Option<u32>,
    latency: Duration,
) -> Result<Served> {
    let state = seeded.state.with_file_name(format!("state-{name}.json"));
    std::fs::copy(&seeded.state, &state)?;
    serve(SandboxConfig {
        state_file: Some(state),
        rate_limit,
        latency,
        ready_after: SEED_READY_AFTER,
        ..SandboxConfig::default()
    })
    .await
}

fn api_client(endpoint: &str, rate: u32) -> Result<Client> {
    let credentials = Credentials::application(
        sandbox::DEFAULT_APPLICATION_KEY,
        sandbox::DEFAULT_APPLICATION_SECRET,
        sandbox::DEFAULT_CONSUMER_KEY,
    );
    let mut config = ClientConfig::new(Endpoint::parse(endpoint)?, credentials);
    config.rate_limit_per_sec = rate;
    Ok(Client::new(config)?)
}

// ------------------------------------------------------------------------------------------
// Seeding.

/// The seeded fleet: its state file, the minimum number of calls a plan of it needs, and real
/// answers to build row 4's in-memory live state from.
struct Seeded {
    state: PathBuf,
    manifests: PathBuf,
    minimum: Minimum,
    templates: PathBuf,
}

/// Real sandbox answers, the shapes row 4's generated live state is built from.
#[derive(Serialize, Deserialize)]
struct Templates {
    service: Value,
    users: Vec<Value>,
    availability: Value,
    attached_domain: Value,
}

/// The calls a plan of the fleet cannot do without, counted from the sandbox's world.
#[derive(Clone, Debug)]
struct Minimum {
    total: usize,
    explained: String,
}

async fn seed_fleet(fleet: &Fleet, work: &Path) -> Result<Seeded> {
    let started = Instant::now();
    let served = serve(SandboxConfig {
        projects: fleet.projects.clone(),
        hostings: fleet.hostings.clone(),
        ready_after: SEED_READY_AFTER,
        ..SandboxConfig::default()
    })
    .await?;
    let api = api_client(&served.endpoint, 1_000_000)?;
    let api = &api;

    let created: Vec<(ServiceDef, String)> = stream::iter(fleet.services())
        .map(|service| async move {
            let e = service.engine;
            let path = format!("/cloud/project/{}/database/{}", service.project, e.name);
            let ips: Vec<Value> = service
                .ips
                .iter()
                .map(|(ip, description)| json!({ "ip": ip, "description": description }))
                .collect();
            let body = json!({
                "description": service.name,
                "plan": e.plan,
                "version": e.version,
                "nodesPattern": { "flavor": e.flavor, "number": e.nodes, "region": "GRA" },
                "ipRestrictions": ips,
            });
            let answer: Value = api
                .post(&path, &body)
                .await
                .with_context(|| format!("seeding POST {path}"))?;
            let id = answer["id"]
                .as_str()
                .context("a created service without an id")?
                .to_owned();
            anyhow::Ok((service, id))
        })
        .buffer_unordered(SEED_PARALLELISM)
        .try_collect()
        .await?;
    wait_settled(&served.sandbox).await?;

    if fleet.with_users {
        let users = created.iter().flat_map(|(service, id)| {
            USERS.iter().enumerate().map(move |(k, name)| {
                let path = format!(
                    "/cloud/project/{}/database/{}/{id}/user",
                    service.project, service.engine.name
                );
                (
                    path,
                    json!({ "name": name, "roles": service.engine.roles[k] }),
                )
            })
        });
        stream::iter(users)
            .map(|(path, body)| async move {
                let _: Value = api
                    .post(&path, &body)
                    .await
                    .with_context(|| format!("seeding POST {path}"))?;
                anyhow::Ok(())
            })
            .buffer_unordered(SEED_PARALLELISM)
            .try_collect::<Vec<()>>()
            .await?;
    }
    stream::iter(fleet.domains())
        .map(|d| async move {
            let path = format!("/hosting/web/{}/attachedDomain", d.hosting);
            let body = json!({ "domain": d.domain, "path": "www" });
            let _: Value = api
                .post(&path, &body)
                .await
                .with_context(|| format!("seeding POST {path}"))?;
            anyhow::Ok(())
        })
        .buffer_unordered(SEED_PARALLELISM)
        .try_collect::<Vec<()>>()
        .await?;
    wait_settled(&served.sandbox).await?;

    // Real answers for row 4.
    let (first, first_id) = created.first().context("the fleet has no service")?;
    let service_path = format!(
        "/cloud/project/{}/database/{}/{first_id}",
        first.project, first.engine.name
    );
    let user_ids: Vec<String> = api.get(&format!("{service_path}/user")).await?;
    let mut users = Vec::new();
    for id in user_ids {
        users.push(
            api.get::<Value>(&format!("{service_path}/user/{id}"))
                .await?,
        );
    }
    let some_domain = fleet.domains().into_iter().next().context("no domain")?;
    let templates = Templates {
        service: api.get(&service_path).await?,
        users,
        availability: api
            .get(&format!(
                "/cloud/project/{}/database/availability",
                first.project
            ))
            .await?,
        attached_domain: api
            .get(&format!(
                "/hosting/web/{}/attachedDomain/{}",
                some_domain.hosting, some_domain.domain
            ))
            .await?,
    };
    let templates_path = work.join("templates.json");
    std::fs::write(&templates_path, serde_json::to_vec_pretty(&templates)?)?;

    let minimum = minimum_calls(fleet, &served.sandbox);
    let state = work.join("state.json");
    served
        .sandbox
        .read(|world, _| StateFile::new(&state).save(world))?;
    let manifests = fleet.write_manifests(&work.join("fleet"))?;
    progress(&format!(
        "seeded {} through the API in {:.1} s ({} requests); minimum calls for a plan: {} = {}",
        fleet.describe(),
        started.elapsed().as_secs_f64(),
        served.log.take().len(),
        minimum.total,
        minimum.explained
    ));
    Ok(Seeded {
        state,
        manifests,
        minimum,
        templates: templates_path,
    })
}

/// Waits until nothing in the sandbox is CREATING/PENDING/creating any more.
async fn wait_settled(sandbox: &Sandbox) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let busy = sandbox.read(|world, now| {
            let services = world.projects.values().flat_map(|p| p.services.values());
            let mut busy = 0;
            for s in services {
                busy += usize::from(s.lifecycle.is_busy(now));
                busy += s.nodes.iter().filter(|n| n.lifecycle.is_busy(now)).count();
                busy += s
                    .ip_restrictions
                    .iter()
                    .filter(|i| i.lifecycle.is_busy(now))
                    .count();
                busy += s.users.iter().filter(|u| u.lifecycle.is_busy(now)).count();
            }
            for h in world.hostings.values() {
                busy += h
                    .attached_domains
                    .values()
                    .filter(|d| d.lifecycle.is_busy(now))
                    .count();
            }
            busy
        });
        if busy == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{busy} seeded objects still busy after 60 s");
        }
        tokio::time::sleep(SEED_READY_AFTER).await;
    }
}

/// The minimum a plan of `fleet` needs, from what the sandbox holds: per (project, engine) one
/// list and one get per service; per service that user manifests name (all of them here) one
/// user list and one get per user the API lists (built-in users included); one `availability`
/// per project; per hosting the service, the attached-domain list and one get per domain (the
/// default one included), `ssl` (one 404 when there is none, else `ssl` + `ssl/domains`), the
/// database list and one get per database; and the client's one `GET /auth/time`.
fn minimum_calls(fleet: &Fleet, sandbox: &Sandbox) -> Minimum {
    sandbox.read(|world, now| {
        let (mut lists, mut gets, mut user_lists, mut user_gets, mut hosting) = (0, 0, 0, 0, 0);
        for project in &fleet.projects {
            let services: Vec<_> = world
                .projects
                .get(project)
                .map(|p| p.services.values().collect())
                .unwrap_or_default();
            for engine in &fleet.engines {
                lists += 1;
                for s in services.iter().filter(|s| s.engine == engine.name) {
                    if s.lifecycle.status(now).is_none() {
                        continue;
                    }
                    gets += 1;
                    if fleet.with_users {
                        user_lists += 1;
                        user_gets += s
                            .users
                            .iter()
                            .filter(|u| u.lifecycle.status(now).is_some())
                            .count();
                    }
                }
            }
        }
        let availability = fleet.projects.len();
        for name in &fleet.hostings {
            let Some(h) = world.hostings.get(name) else {
                continue;
            };
            let domains = h
                .attached_domains
                .values()
                .filter(|d| d.status(now).is_some())
                .count();
            let ssl = if h.ssl.is_some() { 2 } else { 1 };
            hosting += 1 + 1 + domains + ssl + 1 + h.databases.len();
        }
        let total = 1 + lists + gets + user_lists + user_gets + availability + hosting;
        Minimum {
            total,
            explained: format!(
                "1 auth/time + {lists} service lists + {gets} service gets + {user_lists} user lists + {user_gets} user gets + {availability} availability + {hosting} hosting"
            ),
        }
    })
}

// ------------------------------------------------------------------------------------------
// Child processes, measured with wait4.

#[derive(Debug)]
struct ChildRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    wall: Duration,
    usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    cpu: Duration,
    max_rss_mb: f64,
}

impl ChildRun {
    fn check(&self, what: &str, ok_codes: &[i32]) -> Result<()> {
        if self.code.is_some_and(|c| ok_codes.contains(&c)) {
            return Ok(());
        }
        bail!(
            "{what} exited with {:?}\nstderr:\n{}",
            self.code,
            tail(&self.stderr, 30)
        )
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs `command` to completion (killed after `CHILD_DEADLINE`), capturing stdout and stderr,
/// with its wall time and, on Linux, its own CPU time and peak RSS.
async fn run_child(mut command: Command) -> Result<ChildRun> {
    tokio::task::spawn_blocking(move || {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {command:?}"))?;
        let mut out = child.stdout.take().context("stdout")?;
        let mut err = child.stderr.take().context("stderr")?;
        let read_out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut out, &mut s);
            s
        });
        let read_err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut err, &mut s);
            s
        });
        let (code, usage) = rusage::wait(child, CHILD_DEADLINE)?;
        let wall = started.elapsed();
        Ok(ChildRun {
            code,
            stdout: read_out.join().unwrap_or_default(),
            stderr: read_err.join().unwrap_or_default(),
            wall,
            usage,
        })
    })
    .await?
}

#[cfg(target_os = "linux")]
mod rusage {
    //! `wait4(2)` through `libc`: the exit status and the resource usage of that one child (std
    //! has no getrusage).
    use super::Usage;
    use std::sync::mpsc;
    use std::time::Duration;

    pub fn wait(
        child: std::process::Child,
        deadline: Duration,
    ) -> anyhow::Result<(Option<i32>, Option<Usage>)> {
        let pid = libc::pid_t::try_from(child.id())?;
        let (done, watch) = mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = watch.recv_timeout(deadline) {
                // SAFETY: kill(2) with a pid this process spawned and has not reaped yet.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                true
            } else {
                false
            }
        });
        let mut status: libc::c_int = 0;
        // SAFETY: `rusage` is plain integers, for which all zeroes is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: both pointers are to live locals of the types wait4 writes.
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            if r == pid {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err.into());
            }
        }
        drop(done);
        if watchdog.join().unwrap_or(false) {
            anyhow::bail!("a child ran longer than {deadline:?} and was killed");
        }
        // The child is reaped: std's handle must not wait again (dropping it does not).
        drop(child);
        let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        let time = |t: &libc::timeval| {
            Duration::from_secs(t.tv_sec.try_into().unwrap_or(0))
                + Duration::from_micros(t.tv_usec.try_into().unwrap_or(0))
        };
        let usage = Usage {
            cpu: time(&usage.ru_utime) + time(&usage.ru_stime),
            // Linux reports `ru_maxrss` in KiB.
            max_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        };
        Ok((code, Some(usage)))
    }
}

#[cfg(not(target_os = "linux"))]
mod rusage {
    //! Elsewhere: exit status only (CPU time and peak RSS say "n/a").
    use super::Usage;
    use std::time::Duration;

    pub fn wait(
        mut child: std::process::Child,
        _deadline: Duration,
    ) -> anyhow::Result<(Option<i32>, Option<Usage>)> {
        Ok((child.wait()?.code(), None))
    }
}

/// `reconcile ARGS` against `endpoint` with the sandbox's credentials, in `cwd`, with a clean
/// environment (no `OVH_*`, no `ovh.conf`, no colour).
fn reconcile_command(env: &Env, endpoint: &str, cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(&env.reconcile);
    command
        .args(args)
        .args(["--endpoint", endpoint])
        .args(["--application-key", sandbox::DEFAULT_APPLICATION_KEY])
        .args(["--application-secret", sandbox::DEFAULT_APPLICATION_SECRET])
        .args(["--consumer-key", sandbox::DEFAULT_CONSUMER_KEY])
        .current_dir(cwd)
        .env_clear()
        .env("HOME", cwd)
        .env("NO_COLOR", "1");
    command
}

/// `reconcile plan` of the seeded fleet at `client_rate`; checks it planned no change.
async fn plan_fleet(
    env: &Env,
    served: &Served,
    seeded: &Seeded,
    fleet: &Fleet,
    client_rate: u32,
) -> Result<(ChildRun, Vec<Seen>)> {
    served.log.take();
    let manifests = seeded.manifests.to_string_lossy().into_owned();
    let rate = client_rate.to_string();
    let command = reconcile_command(
        env,
        &served.endpoint,
        &env.work,
        &[
            "plan",
            &manifests,
            "--format",
            "json",
            "--rate-limit",
            &rate,
        ],
    );
    let run = run_child(command).await?;
    let log = served.log.take();
    run.check("reconcile plan", &[0])?;
    let plan: Value = serde_json::from_str(&run.stdout).context("plan --format json")?;
    let counts = &plan["counts"];
    let unchanged = counts["unchanged"].as_u64().unwrap_or(0) as usize;
    let changed: u64 = ["create", "update", "delete"]
        .iter()
        .filter_map(|k| counts[k].as_u64())
        .sum();
    if changed != 0 || unchanged != fleet.resource_count() {
        bail!(
            "the seeded fleet does not match its manifests: counts {counts} (expected {} unchanged)",
            fleet.resource_count()
        );
    }
    Ok((run, log))
}

// ------------------------------------------------------------------------------------------
// The rows.

/// Row 1: plan at 20 req/s (sandbox and client).
async fn row_rate_limited(env: &Env, fleet: &Fleet, seeded: &Seeded) -> Result<Vec<Row>> {
    progress(&format!(
        "row 1: plan at {RATE} req/s (about {:.0} s)",
        seeded.minimum.total as f64 / f64::from(RATE)
    ));
    let served = serve_fleet(seeded, "rate-limited", Some(RATE), Duration::ZERO).await?;
    let (run, log) = plan_fleet(env, &served, seeded, fleet, RATE).await?;
    env.dump("1", &log);
    let answered = log.iter().filter(|s| s.status != 429).count();
    let refused = log.len() - answered;
    let minimum = seeded.minimum.total;
    let bound = Duration::from_secs_f64(minimum as f64 / f64::from(RATE));
    let ratio = run.wall.as_secs_f64() / bound.as_secs_f64();
    let calls_ratio = answered as f64 / minimum as f64;
    Ok(vec![
        Row::new(
            "1a",
            format!("plan, {RATE} req/s: API calls answered"),
            answered.to_string(),
            format!("{minimum}: the minimum (see below)"),
            Some(calls_ratio),
            verdict(answered == minimum, "calls == minimum"),
        ),
        Row::new(
            "1b",
            format!("plan, {RATE} req/s: wall time"),
            secs(run.wall),
            format!("{}: {minimum} calls / {RATE} per s", secs(bound)),
            Some(ratio),
            verdict(ratio <= PLAN_TARGET, &format!("<= {PLAN_TARGET:.2}")),
        ),
        Row::new(
            "1c",
            format!("plan, {RATE} req/s: answered 429 (budget exceeded)"),
            refused.to_string(),
            "0".to_owned(),
            None,
            verdict(refused == 0, "none"),
        ),
    ])
}

/// Row 2: plan with no rate limit anywhere: wall, CPU, peak RSS of reconcile.
async fn row_unlimited(env: &Env, fleet: &Fleet, seeded: &Seeded) -> Result<Vec<Row>> {
    progress("row 2: plan with no rate limit");
    let served = serve_fleet(seeded, "unlimited", None, Duration::ZERO).await?;
    let (run, log) = plan_fleet(env, &served, seeded, fleet, UNLIMITED_CLIENT_RATE).await?;
    env.dump("2", &log);
    let calls = log.len();
    let (cpu, rss) = match run.usage {
        Some(u) => (
            format!(
                "{} CPU ({:.0} µs per call), {:.1} MB peak RSS",
                secs(u.cpu),
                u.cpu.as_secs_f64() * 1e6 / calls as f64,
                u.max_rss_mb
            ),
            Some(u.cpu.as_secs_f64() / run.wall.as_secs_f64()),
        ),
        None => ("n/a".to_owned(), None),
    };
    Ok(vec![Row::new(
        "2",
        "plan, no rate limit: wall / CPU / memory of reconcile".to_owned(),
        format!("{} wall, {cpu}", secs(run.wall)),
        format!("{calls} calls; ratio = CPU / wall"),
        rss,
        "- (no target)".to_owned(),
    )])
}

/// Row 3: apply creating 50 services, READY after 20 s, 20 req/s.
async fn row_apply(env: &Env, enabled: bool) -> Result<Vec<Row>> {
    let not_measured = |why: String| {
        vec![Row::new(
            "3",
            "apply 50 services, READY after 20 s, 20 req/s".to_owned(),
            format!("not measured: {why}"),
            "20 s + (3 reads + 50 creates) / 20 per s".to_owned(),
            None,
            "-".to_owned(),
        )]
    };
    let probe = run_child(reconcile_command(
        env,
        "http://127.0.0.1:9/1.0",
        &env.work,
        &["apply", "/nonexistent-bench-dir", "--yes"],
    ))
    .await?;
    let stub = probe.stderr.contains("work in progress");
    if stub {
        return Ok(not_measured("apply not built yet".to_owned()));
    }
    if !enabled {
        return Ok(not_measured("skipped (--no-apply)".to_owned()));
    }
    let ready_after = Duration::from_secs(20);
    progress("row 3: apply creating 50 services (READY after 20 s)");
    let fleet = Fleet::apply_fleet();
    let dir = env.work.join("apply");
    let manifests = fleet.write_manifests(&dir.join("manifests"))?;
    let served = serve(SandboxConfig {
        projects: fleet.projects.clone(),
        ready_after,
        rate_limit: Some(RATE),
        ..SandboxConfig::default()
    })
    .await?;
    let manifests = manifests.to_string_lossy().into_owned();
    let rate = RATE.to_string();
    let run = run_child(reconcile_command(
        env,
        &served.endpoint,
        &dir,
        &[
            "apply",
            &manifests,
            "--yes",
            "--timeout",
            "4m",
            "--rate-limit",
            &rate,
        ],
    ))
    .await?;
    let log = served.log.take();
    env.dump("3", &log);
    if env.keep {
        let _ = std::fs::write(env.work.join("apply-stderr.txt"), &run.stderr);
        let _ = std::fs::write(env.work.join("apply-stdout.txt"), &run.stdout);
    }
    if run.code != Some(0) {
        return Ok(not_measured(format!(
            "apply exited with {:?}: {}",
            run.code,
            tail(&run.stderr, 3).replace('\n', " / ")
        )));
    }
    // Each created service: its id and the moment the sandbox turns it READY.
    // Each created service: its id, when it was created and when the sandbox turns it READY.
    let ready: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = served.sandbox.read(|world, _| {
        world
            .projects
            .values()
            .flat_map(|p| p.services.values())
            .filter_map(|s| {
                let t = s.lifecycle.transition.as_ref()?;
                Some((s.id.clone(), t.since, t.until?))
            })
            .collect()
    });
    // GETs of each service up to the first one after READY (its polls, and any other step's
    // lookup meanwhile), and after it; the delay from READY to that first GET.
    let mut polls = Vec::new();
    let mut later = Vec::new();
    let mut delays = Vec::new();
    for (id, since, until) in &ready {
        let suffix = format!("/{id}");
        let gets: Vec<&Seen> = log
            .iter()
            .filter(|s| s.method == "GET" && s.status != 429 && s.path.ends_with(&suffix))
            .collect();
        let noticed = gets.iter().find(|s| s.at >= *until).map(|s| s.at);
        if let Some(at) = noticed {
            delays.push((at - *until).to_std().unwrap_or_default());
        }
        let upto = noticed.unwrap_or(*until);
        let waiting = gets
            .iter()
            .filter(|s| s.at >= *since && s.at <= upto)
            .count();
        polls.push(waiting);
        later.push(gets.len() - waiting);
    }
    let refused = log.iter().filter(|s| s.status == 429).count();
    let answered = log.len() - refused;
    let creates = log
        .iter()
        .filter(|s| s.method == "POST" && s.status != 429)
        .count();
    let minimum = 3 + creates + ready.len();
    let bound = ready_after + Duration::from_secs_f64((3 + creates) as f64 / f64::from(RATE));
    let ratio = run.wall.as_secs_f64() / bound.as_secs_f64();
    polls.sort_unstable();
    later.sort_unstable();
    delays.sort_unstable();
    let max_delay = delays.last().copied().unwrap_or_default();
    let noticed_all = delays.len() == ready.len() && !ready.is_empty();
    let median = |v: &[usize]| v.get(v.len() / 2).copied().unwrap_or(0);
    Ok(vec![
        Row::new(
            "3a",
            "apply 50 services, READY after 20 s, 20 req/s: wall time".to_owned(),
            format!("{} ({refused} answered 429)", secs(run.wall)),
            format!(
                "{}: 20 s + (3 reads + {creates} creates) / {RATE} per s",
                secs(bound)
            ),
            Some(ratio),
            verdict(
                ratio <= APPLY_TARGET && refused == 0,
                &format!("<= {APPLY_TARGET:.2}, no 429"),
            ),
        ),
        Row::new(
            "3d",
            "apply: API calls answered".to_owned(),
            answered.to_string(),
            format!("{minimum}: 3 reads + {creates} creates + one GET per service that sees READY"),
            Some(answered as f64 / minimum as f64),
            "- (no target)".to_owned(),
        ),
        Row::new(
            "3c",
            "apply: GETs of each service".to_owned(),
            format!(
                "until READY seen: median {}, max {}; after: median {}, max {}",
                median(&polls),
                polls.last().copied().unwrap_or(0),
                median(&later),
                later.last().copied().unwrap_or(0)
            ),
            "1 (the GET that sees READY)".to_owned(),
            Some(median(&polls) as f64),
            "- (no target)".to_owned(),
        ),
        Row::new(
            "3b",
            "apply: READY noticed after".to_owned(),
            format!(
                "median {}, max {} ({} of {} services)",
                secs(percentile(&delays, 50)),
                secs(max_delay),
                delays.len(),
                ready.len()
            ),
            secs(NOTICE_TARGET),
            Some(max_delay.as_secs_f64() / NOTICE_TARGET.as_secs_f64()),
            verdict(noticed_all && max_delay <= NOTICE_TARGET, "max <= 2 s"),
        ),
    ])
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() - 1) * p / 100]
}

/// Row 4: offline validate + diff of 10,000 resources.
async fn row_offline(env: &Env, seeded: &Seeded) -> Result<Vec<Row>> {
    progress("row 4: offline validate + plan of 10,000 resources");
    let fleet = Fleet::offline_fleet();
    let dir = fleet.write_manifests(&env.work.join("offline"))?;
    let dir_arg = dir.to_string_lossy().into_owned();

    // The real binary: `reconcile validate`.
    let mut command = Command::new(&env.reconcile);
    command
        .args(["validate", &dir_arg])
        .env_clear()
        .env("NO_COLOR", "1");
    let validate = run_child(command).await?;
    validate.check("reconcile validate", &[0])?;

    // This harness in a child process: load (= validate) + the plan against an equal live state.
    let me = std::env::current_exe()?;
    let templates = seeded.templates.to_string_lossy().into_owned();
    let mut command = Command::new(me);
    command.args([OFFLINE_CHILD, &dir_arg, &templates]);
    let child = run_child(command).await?;
    child.check("the offline plan", &[0])?;
    let report: OfflineReport =
        serde_json::from_str(child.stdout.trim()).context("the offline child's report")?;
    if report.resources != fleet.resource_count() || report.changes != 0 {
        bail!(
            "the offline plan saw {} resources and {} changes (expected {} and 0)",
            report.resources,
            report.changes,
            fleet.resource_count()
        );
    }
    let validate_plus_diff = Duration::from_secs_f64(report.load_s + report.plan_s);
    let rss = child.usage.map(|u| u.max_rss_mb);
    let time_ratio = validate_plus_diff.as_secs_f64() / OFFLINE_TIME_TARGET.as_secs_f64();
    let rss_text =
        |u: Option<Usage>| u.map_or("n/a".to_owned(), |u| format!("{:.1} MB", u.max_rss_mb));
    Ok(vec![
        Row::new(
            "4a",
            "offline validate + diff, 10,000 resources: time".to_owned(),
            format!(
                "{} (load+validate {}, plan {} of which live digests {}; `reconcile validate` {} wall; building the equal live state {}, not counted)",
                secs(validate_plus_diff),
                secs(Duration::from_secs_f64(report.load_s)),
                secs(Duration::from_secs_f64(report.plan_s)),
                secs(Duration::from_secs_f64(report.digests_s)),
                secs(validate.wall),
                secs(Duration::from_secs_f64(report.live_s)),
            ),
            format!("{} target", secs(OFFLINE_TIME_TARGET)),
            Some(time_ratio),
            verdict(time_ratio <= 1.0, "< 0.5 s"),
        ),
        Row::new(
            "4b",
            "offline validate + diff, 10,000 resources: peak memory".to_owned(),
            format!(
                "{} peak RSS (live state in memory included; `reconcile validate` {})",
                rss_text(child.usage),
                rss_text(validate.usage)
            ),
            format!("{OFFLINE_RSS_TARGET_MB:.0} MB target"),
            rss.map(|r| r / OFFLINE_RSS_TARGET_MB),
            match rss {
                Some(r) => verdict(r < OFFLINE_RSS_TARGET_MB, "< 200 MB"),
                None => "n/a".to_owned(),
            },
        ),
    ])
}

/// Row 5: the python baseline against reconcile, 20 ms latency, no rate limit.
async fn row_baseline(env: &Env, fleet: &Fleet, seeded: &Seeded) -> Result<Vec<Row>> {
    progress("row 5: python baseline vs reconcile, 20 ms latency");
    let latency = Duration::from_millis(20);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/baseline_python.py");
    let served = serve_fleet(seeded, "latency", None, latency).await?;
    let (ours, our_log) = plan_fleet(env, &served, seeded, fleet, UNLIMITED_CLIENT_RATE).await?;

    // `$PYTHON`, else the virtual environment `tests/run.sh` makes in the target directory
    // (this binary is `target/release/examples/bench_fleet`), else `python3` on `PATH`.
    let python = std::env::var("PYTHON").unwrap_or_else(|_| {
        let exe = std::env::current_exe().unwrap_or_default();
        exe.ancestors()
            .skip(1)
            .take(4)
            .map(|dir| dir.join("interop-venv/bin/python"))
            .find(|python| python.is_file())
            .map_or_else(|| "python3".to_owned(), |p| p.display().to_string())
    });
    let version = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('ovh'))",
        ])
        .output();
    let version = match version {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => String::new(),
    };
    if version != "1.2.0" {
        return Ok(vec![Row::new(
            "5",
            "baseline: python ovh, sequential, 20 ms latency".to_owned(),
            format!(
                "not measured: {python} has ovh {:?}, not 1.2.0 (pip install ovh==1.2.0)",
                version
            ),
            format!("reconcile plan {}", secs(ours.wall)),
            None,
            "-".to_owned(),
        )]);
    }
    let mut command = Command::new(&python);
    command.arg(&script).arg(&served.endpoint);
    for p in &fleet.projects {
        command.args(["--project", p]);
    }
    for e in &fleet.engines {
        command.args(["--engine", e.name]);
    }
    for h in &fleet.hostings {
        command.args(["--hosting", h]);
    }
    for (key, _) in std::env::vars() {
        if key.starts_with("OVH_") {
            command.env_remove(key);
        }
    }
    command.current_dir(&env.work);
    served.log.take();
    let theirs = run_child(command).await?;
    let their_log = served.log.take();
    env.dump("5-reconcile", &our_log);
    env.dump("5-python", &their_log);
    theirs.check("benches/baseline_python.py", &[0])?;
    let ratio = theirs.wall.as_secs_f64() / ours.wall.as_secs_f64();
    Ok(vec![Row::new(
        "5",
        "baseline: python ovh 1.2.0, sequential vs reconcile plan, 20 ms latency".to_owned(),
        format!(
            "python {} ({} calls) vs reconcile {} ({} calls)",
            secs(theirs.wall),
            their_log.len(),
            secs(ours.wall),
            our_log.len()
        ),
        format!("{BASELINE_TARGET:.0}x faster target"),
        Some(ratio),
        verdict(ratio >= BASELINE_TARGET, ">= 8x"),
    )])
}

// ------------------------------------------------------------------------------------------
// Row 4's child: this harness re-run as `bench_fleet __offline DIR TEMPLATES`.

const OFFLINE_CHILD: &str = "__offline";

#[derive(Serialize, Deserialize)]
struct OfflineReport {
    resources: usize,
    changes: usize,
    unchanged: usize,
    load_s: f64,
    live_s: f64,
    plan_s: f64,
    /// `plan::live_digests` alone (`plan_s` includes it).
    digests_s: f64,
}

fn offline_child(args: &[String]) -> Result<()> {
    let [dir, templates] = args else {
        bail!("usage: bench_fleet {OFFLINE_CHILD} DIR TEMPLATES");
    };
    let templates: Templates = serde_json::from_slice(&std::fs::read(templates)?)?;

    let started = Instant::now();
    let manifests = manifest::load(Path::new(dir), &|_| None)
        .map_err(|d| anyhow!("invalid manifests: {}", d.summary()))?;
    let load_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let live = equal_live_state(&manifests, &templates)?;
    let live_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let plan = plan::plan(&manifests, &live, &PlanOptions { prune: false });
    let plan_s = started.elapsed().as_secs_f64();

    // The stale-plan digests `plan` computes for every live object, timed on their own.
    let started = Instant::now();
    std::hint::black_box(plan::live_digests(&live));
    let digests_s = started.elapsed().as_secs_f64();

    let report = OfflineReport {
        resources: manifests.resources.len(),
        changes: plan.changes.len(),
        unchanged: plan.unchanged.len(),
        load_s,
        live_s,
        plan_s,
        digests_s,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// A live state equal to `manifests`, built from real sandbox answers (`templates`) through
/// reconcile's own mappings: what a read of that fleet would give, without the API.
fn equal_live_state(manifests: &ManifestSet, templates: &Templates) -> Result<LiveState> {
    let mut users_of: HashMap<&str, Vec<(&str, &[String])>> = HashMap::new();
    for resource in &manifests.resources {
        if let Spec::DatabaseUser(user) = &resource.spec {
            users_of
                .entry(user.service.as_str())
                .or_default()
                .push((user.username.as_str(), &user.roles));
        }
    }
    let builtin = templates
        .users
        .iter()
        .find(|u| u["username"] == "admin@admin")
        .or(templates.users.first())
        .context("no user template")?;
    let user_template = templates
        .users
        .iter()
        .find(|u| u["username"] != "admin@admin")
        .unwrap_or(builtin);

    let mut services: BTreeMap<Scope, Vec<_>> = BTreeMap::new();
    let mut hostings: BTreeMap<String, Vec<_>> = BTreeMap::new();
    let mut projects = Vec::new();
    let mut n = 0u64;
    for resource in &manifests.resources {
        match &resource.spec {
            Spec::DatabaseService(spec) => {
                n += 1;
                let name = &resource.address.name;
                let project = spec
                    .project
                    .clone()
                    .context("a service without a project")?;
                let mut raw = templates.service.clone();
                raw["id"] = format!("00000000-0000-4000-8000-{n:012x}").into();
                raw["description"] = name.as_str().into();
                raw["plan"] = spec.plan.as_str().into();
                raw["version"] = spec.version.as_str().into();
                raw["flavor"] = spec.nodes.flavor.as_str().into();
                raw["ipRestrictions"] = spec
                    .ip_restrictions
                    .iter()
                    .flatten()
                    .map(|ip| json!({ "ip": ip.ip, "description": ip.description, "status": "READY" }))
                    .collect();
                let mut service =
                    mapping::live_service(raw, &spec.engine).map_err(|e| anyhow!(e))?;
                let mut users = vec![mapping::live_user(builtin.clone()).map_err(|e| anyhow!(e))?];
                for (k, (username, roles)) in users_of
                    .get(name.as_str())
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let mut raw = user_template.clone();
                    raw["id"] =
                        format!("00000000-0000-4000-9000-{:012x}", n * 16 + k as u64).into();
                    raw["username"] = if spec.engine == "mongodb" {
                        format!("{username}@admin").into()
                    } else {
                        (*username).into()
                    };
                    raw["roles"] = json!(roles);
                    users.push(mapping::live_user(raw).map_err(|e| anyhow!(e))?);
                }
                service.users = Some(UsersState::Known { users });
                projects.push(project.clone());
                services
                    .entry(Scope::Database {
                        project,
                        engine: spec.engine.clone(),
                    })
                    .or_default()
                    .push(service);
            }
            Spec::HostingAttachedDomain(spec) => {
                let hosting = spec.hosting.clone().context("a domain without a hosting")?;
                let mut raw = templates.attached_domain.clone();
                raw["domain"] = spec.domain.as_str().into();
                raw["path"] = spec.path.as_str().into();
                let domain = mapping::attached_domain(raw).map_err(|e| anyhow!(e))?;
                hostings.entry(hosting).or_default().push(domain);
            }
            Spec::DatabaseUser(_) => {}
            _ => bail!("the offline fleet has only services, users and attached domains"),
        }
    }
    let mut live = LiveState::default();
    for (scope, services) in services {
        live.scopes
            .insert(scope, ScopeState::Known(LiveScope::Database { services }));
    }
    for (hosting, mut attached_domains) in hostings {
        let identity = Identity::of(&hosting);
        let mut default = templates.attached_domain.clone();
        default["domain"] = identity.default_attached_domain.clone().into();
        attached_domains.push(mapping::attached_domain(default).map_err(|e| anyhow!(e))?);
        attached_domains.sort_by(|a, b| a.domain.cmp(&b.domain));
        live.scopes.insert(
            Scope::Hosting { hosting },
            ScopeState::Known(LiveScope::Hosting(LiveHosting {
                primary_login: identity.primary_login,
                default_attached_domain: Some(identity.default_attached_domain),
                attached_domains,
                ssl: None,
                databases: vec![],
            })),
        );
    }
    let catalogue = mapping::catalogue(&templates.availability).map_err(|e| anyhow!(e))?;
    projects.sort();
    projects.dedup();
    for project in projects {
        live.catalogues.insert(project, catalogue.clone());
    }
    Ok(live)
}

// ------------------------------------------------------------------------------------------
// The table.

struct Row {
    id: String,
    what: String,
    measured: String,
    bound: String,
    ratio: Option<f64>,
    result: String,
}

impl Row {
    fn new(
        id: &str,
        what: String,
        measured: String,
        bound: String,
        ratio: Option<f64>,
        result: String,
    ) -> Row {
        Row {
            id: id.to_owned(),
            what,
            measured,
            bound,
            ratio,
            result,
        }
    }
}

fn verdict(met: bool, target: &str) -> String {
    if met {
        format!("met ({target})")
    } else {
        format!("MISSED ({target})")
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Table {
    fn extend(&mut self, rows: Vec<Row>) {
        self.rows.extend(rows);
    }

    fn sort(&mut self) {
        self.rows.sort_by(|a, b| a.id.cmp(&b.id));
    }

    fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("| # | measurement | measured | lower bound / target | ratio | result |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let ratio = row.ratio.map_or("-".to_owned(), |r| format!("{r:.2}"));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.id, row.what, row.measured, row.bound, ratio, row.result
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n{note}");
        }
        out
    }
}

// ------------------------------------------------------------------------------------------
// Environment.

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".to_owned())
}
