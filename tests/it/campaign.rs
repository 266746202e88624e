//! The seeded fault campaign: episodes of faulty, killed and mutated applies against a
//! `sandbox serve` child, each ended by a clean re-run, then checked through the API: exactly
//! one live object per manifest, no unnamed leftover after `--prune`, a secrets file for every
//! user, and `plan --detailed-exitcode` exiting 0.
//!
//! One episode, from its seed alone: a random subset of a pool of manifests (users only with
//! their service), random sandbox faults (`--fail-rate`, `--created-but-500`, `--latency`,
//! `--rate-limit`, `--ready-after`), then one to three applies, each killed with SIGKILL at a
//! random moment or left to finish, the manifests mutated between them (one removed, one
//! added; `--prune` from then on). Then the sandbox restarts on its state file without faults
//! and a clean `apply --prune` runs once.
//!
//! This file stands alone (no `crate::` imports) so that `examples/fault_campaign.rs` runs
//! the same episodes with `--episodes N`: the test suite runs a few, the example many, and
//! docs/reliability.md holds the example's figures.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reconcile::ovh::{Client, ClientConfig, Credentials, Endpoint, Method};
use reconcile::sandbox::{
    DEFAULT_APPLICATION_KEY, DEFAULT_APPLICATION_SECRET, DEFAULT_CONSUMER_KEY,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROJECT: &str = "p1";
const HOSTING: &str = "shop.cluster021.hosting.ovh.net";
const DB: &str = "/cloud/project/p1/database";
const WEB: &str = "/hosting/web/shop.cluster021.hosting.ovh.net";
const HOSTING_DB_PASSWORD: &str = "CampaignPassw0rdQ9";
/// A run that has not ended after this long is killed and counted as hung.
const RUN_BOUND: Duration = Duration::from_secs(120);

/// One manifest of the pool: its document, the census key of the object it makes, and for a
/// user the manifest of its service.
struct PoolEntry {
    name: &'static str,
    census: &'static str,
    service: Option<&'static str>,
    user: bool,
    document: &'static str,
}

const POOL: &[PoolEntry] = &[
    PoolEntry {
        name: "orders-db",
        census: "mongodb/orders-db",
        service: None,
        user: false,
        document: "kind: DatabaseService
metadata: { name: orders-db }
spec:
  engine: mongodb
  version: \"7.0\"
  plan: production
  nodes: { flavor: db2-4, region: GRA, count: 3 }
  ipRestrictions:
    - { ip: 203.0.113.0/24, description: office }
",
    },
    PoolEntry {
        name: "billing-db",
        census: "postgresql/billing-db",
        service: None,
        user: false,
        document: "kind: DatabaseService
metadata: { name: billing-db }
spec:
  engine: postgresql
  version: \"16\"
  plan: business
  nodes: { flavor: db1-7, region: GRA, count: 2 }
",
    },
    PoolEntry {
        name: "orders-app",
        census: "mongodb/orders-db/user/app@admin",
        service: Some("orders-db"),
        user: true,
        document: "kind: DatabaseUser
metadata: { name: orders-app }
spec: { service: orders-db, username: app, roles: [readWrite@orders] }
",
    },
    PoolEntry {
        name: "orders-report",
        census: "mongodb/orders-db/user/report@admin",
        service: Some("orders-db"),
        user: true,
        document: "kind: DatabaseUser
metadata: { name: orders-report }
spec: { service: orders-db, username: report, roles: [read@orders] }
",
    },
    PoolEntry {
        name: "billing-app",
        census: "postgresql/billing-db/user/billing",
        service: Some("billing-db"),
        user: true,
        document: "kind: DatabaseUser
metadata: { name: billing-app }
spec: { service: billing-db, username: billing }
",
    },
    PoolEntry {
        name: "shop-www",
        census: "domain/www.shop.example",
        service: None,
        user: false,
        document: "kind: HostingAttachedDomain
metadata: { name: shop-www }
spec: { domain: www.shop.example, path: www, ssl: false, firewall: none }
",
    },
    PoolEntry {
        name: "shop-db",
        census: "hostingDatabase/shopdb",
        service: None,
        user: false,
        document: "kind: HostingDatabase
metadata: { name: shop-db }
spec:
  capability: sqlPerso
  type: mysql
  user: shopdb
  version: \"8.0\"
  password: { fromEnv: SHOP_DB_PASSWORD }
",
    },
];

/// What the campaign counts, over every episode.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Figures {
    pub episodes: usize,
    /// Live objects beyond the first for one manifest.
    pub duplicates: usize,
    /// Manifests with no live object after the clean re-run.
    pub lost: usize,
    /// Live objects no manifest names after the clean `apply --prune`.
    pub leftovers: usize,
    /// Users with no secrets file holding their password.
    pub lost_passwords: usize,
    /// Clean re-runs that exited 0 while a plan right after still differed.
    pub early_successes: usize,
    /// Clean re-runs that did not exit 0, and plans after them that did not exit 0.
    pub failed_reruns: usize,
    /// Runs killed because they had not ended after `RUN_BOUND`.
    pub hung_runs: usize,
    /// What went wrong, one line per problem, with the episode's seed.
    pub problems: Vec<String>,
}

impl Figures {
    pub fn add(&mut self, other: Figures) {
        self.episodes += other.episodes;
        self.duplicates += other.duplicates;
        self.lost += other.lost;
        self.leftovers += other.leftovers;
        self.lost_passwords += other.lost_passwords;
        self.early_successes += other.early_successes;
        self.failed_reruns += other.failed_reruns;
        self.hung_runs += other.hung_runs;
        self.problems.extend(other.problems);
    }

    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The figures as a Markdown table row (for docs/reliability.md).
    pub fn row(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            self.episodes,
            self.duplicates,
            self.lost,
            self.leftovers,
            self.lost_passwords,
            self.early_successes,
            self.failed_reruns,
            self.hung_runs
        )
    }

    pub const HEADER: &'static str = "| episodes | duplicates | lost | leftovers | lost passwords | early successes | failed re-runs | hung runs |\n|---|---|---|---|---|---|---|---|";
}

/// A `reconcile sandbox serve` child on `127.0.0.1:0`, killed on drop (the integration tests
/// start theirs through `ServedSandbox::start`, in cli.rs).
pub struct ServedSandbox {
    child: Child,
    pub endpoint: String,
}

impl ServedSandbox {
    /// `BINARY sandbox serve --listen 127.0.0.1:0 ARGS`, once it printed `endpoint=URL`.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(binary: &Path, args: &[S], stderr: Stdio) -> Self {
        Self::spawn_on(binary, "127.0.0.1:0", args, stderr)
    }

    /// `BINARY sandbox serve --listen LISTEN ARGS`, once it printed `endpoint=URL`.
    fn spawn_on<S: AsRef<std::ffi::OsStr>>(
        binary: &Path,
        listen: &str,
        args: &[S],
        stderr: Stdio,
    ) -> Self {
        let mut child = Command::new(binary)
            .args(["sandbox", "serve", "--listen", listen])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("reconcile sandbox serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let endpoint = line
            .trim()
            .strip_prefix("endpoint=")
            .unwrap_or_else(|| panic!("first line is endpoint=URL, got {line:?}"))
            .to_string();
        ServedSandbox { child, endpoint }
    }

    /// The episode's sandbox on `listen`: its project and hosting, its state file, `faults`.
    fn episode(binary: &Path, listen: &str, state: &Path, faults: &[String]) -> Self {
        let mut args: Vec<String> = ["--project", PROJECT, "--hosting", HOSTING, "--state"]
            .map(String::from)
            .to_vec();
        args.push(state.to_str().expect("a UTF-8 temp path").to_owned());
        args.extend_from_slice(faults);
        Self::spawn_on(binary, listen, &args, Stdio::null())
    }

    /// `host:port` of `endpoint`, to serve the same API again on the same address.
    fn address_of(endpoint: &str) -> &str {
        let rest = endpoint.split_once("://").map_or("", |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }
}

impl Drop for ServedSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reconcile API client with the sandbox's credentials.
pub fn api(endpoint: &str, rate_limit_per_sec: u32) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let credentials = Credentials::application(
        DEFAULT_APPLICATION_KEY,
        DEFAULT_APPLICATION_SECRET,
        DEFAULT_CONSUMER_KEY,
    );
    let mut config = ClientConfig::new(Endpoint::parse(endpoint).unwrap(), credentials);
    config.rate_limit_per_sec = rate_limit_per_sec;
    Client::new(config).unwrap()
}

pub async fn get(api: &Client, path: &str) -> Value {
    api.call(Method::GET, path, None)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .body
}

/// `GET path` of a listed object; `None` when it went away since the list.
pub async fn get_listed(api: &Client, path: &str) -> Option<Value> {
    match api.call(Method::GET, path, None).await {
        Ok(answer) => Some(answer.body),
        Err(err) if err.is_not_found() => None,
        Err(err) => panic!("GET {path}: {err}"),
    }
}

/// Every object the manifests can name, counted: services by engine and description, users by
/// service description and username (built-in users left out), attached domains (the
/// hosting's default left out), hosting databases by user. Objects on their way out
/// (`DELETING`, or gone between the list and the get) are not counted: the planner treats
/// them as gone too.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Census(pub BTreeMap<String, usize>);

impl Census {
    pub async fn take(api: &Client) -> Census {
        let mut census = BTreeMap::new();
        for engine in ["mongodb", "postgresql"] {
            let ids = get(api, &format!("{DB}/{engine}")).await;
            for id in ids.as_array().unwrap() {
                let path = format!("{DB}/{engine}/{}", id.as_str().unwrap());
                let Some(service) = get_listed(api, &path).await else {
                    continue;
                };
                if service["status"] == "DELETING" {
                    continue;
                }
                let name = service["description"].as_str().unwrap().to_string();
                *census.entry(format!("{engine}/{name}")).or_default() += 1;
                let users = get(api, &format!("{path}/user")).await;
                for user in users.as_array().unwrap() {
                    let user_path = format!("{path}/user/{}", user.as_str().unwrap());
                    let Some(user) = get_listed(api, &user_path).await else {
                        continue;
                    };
                    let username = user["username"].as_str().unwrap();
                    if ["admin@admin", "avnadmin"].contains(&username)
                        || user["status"] == "DELETING"
                    {
                        continue;
                    }
                    *census
                        .entry(format!("{engine}/{name}/user/{username}"))
                        .or_default() += 1;
                }
            }
        }
        for domain in get(api, &format!("{WEB}/attachedDomain"))
            .await
            .as_array()
            .unwrap()
        {
            let domain = domain.as_str().unwrap();
            if domain != HOSTING {
                *census.entry(format!("domain/{domain}")).or_default() += 1;
            }
        }
        for name in get(api, &format!("{WEB}/database"))
            .await
            .as_array()
            .unwrap()
        {
            let path = format!("{WEB}/database/{}", name.as_str().unwrap());
            let Some(db) = get_listed(api, &path).await else {
                continue;
            };
            let user = db["user"].as_str().unwrap();
            if db["status"] == "deleting" {
                continue;
            }
            *census.entry(format!("hostingDatabase/{user}")).or_default() += 1;
        }
        Census(census)
    }

    pub fn of(entries: &[&str]) -> Census {
        Census(entries.iter().map(|e| (e.to_string(), 1)).collect())
    }
}

/// The manifests of one moment of an episode: indexes into `POOL`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ManifestSet(BTreeSet<usize>);

impl ManifestSet {
    /// A random subset, users only with their service, never empty.
    fn random(rng: &mut StdRng) -> ManifestSet {
        let mut set = BTreeSet::new();
        for (i, entry) in POOL.iter().enumerate() {
            if entry.service.is_none() && rng.random_bool(0.7) {
                set.insert(i);
            }
        }
        if set.is_empty() {
            set.insert(rng.random_range(0..2));
        }
        for (i, entry) in POOL.iter().enumerate() {
            if let Some(service) = entry.service {
                if set.contains(&index(service)) && rng.random_bool(0.7) {
                    set.insert(i);
                }
            }
        }
        ManifestSet(set)
    }

    /// One manifest removed (with its users) or one added (with its service), at random.
    fn mutate(&self, rng: &mut StdRng) -> ManifestSet {
        let mut set = self.0.clone();
        let absent: Vec<usize> = (0..POOL.len()).filter(|i| !set.contains(i)).collect();
        if rng.random_bool(0.5) && set.len() > 1 {
            let present: Vec<usize> = set.iter().copied().collect();
            let gone = present[rng.random_range(0..present.len())];
            set.remove(&gone);
            set.retain(|&i| POOL[i].service != Some(POOL[gone].name));
        } else if !absent.is_empty() {
            let added = absent[rng.random_range(0..absent.len())];
            set.insert(added);
            if let Some(service) = POOL[added].service {
                set.insert(index(service));
            }
        }
        ManifestSet(set)
    }

    fn write(&self, manifests: &Path) {
        let _ = std::fs::remove_dir_all(manifests);
        std::fs::create_dir_all(manifests).unwrap();
        std::fs::write(
            manifests.join("reconcile.yaml"),
            // The directory owns the project and the hosting (`manages:`), so that a scope whose
            // last manifest goes is still read, and pruned.
            format!(
                "project: {PROJECT}\nhosting: {HOSTING}\nmanages: {{ projects: [{PROJECT}], hostings: [{HOSTING}] }}\n"
            ),
        )
        .unwrap();
        for &i in &self.0 {
            let entry = &POOL[i];
            std::fs::write(
                manifests.join(format!("{}.yaml", entry.name)),
                format!("apiVersion: reconcile/v1\n{}", entry.document),
            )
            .unwrap();
        }
    }

    fn census(&self) -> Census {
        Census::of(&self.0.iter().map(|&i| POOL[i].census).collect::<Vec<_>>())
    }

    fn users(&self) -> Vec<&'static str> {
        self.0
            .iter()
            .filter(|&&i| POOL[i].user)
            .map(|&i| POOL[i].name)
            .collect()
    }

    fn describe(&self) -> String {
        let names: Vec<_> = self.0.iter().map(|&i| POOL[i].name).collect();
        names.join(",")
    }
}

fn index(name: &str) -> usize {
    POOL.iter().position(|e| e.name == name).unwrap()
}

/// A `reconcile` run in the episode's workspace: its exit code (None when killed) and output.
struct Run {
    code: Option<i32>,
    output: String,
}

struct Workspace {
    binary: PathBuf,
    dir: PathBuf,
}

impl Workspace {
    fn command(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .args(["--endpoint", endpoint])
            .args(["--application-key", DEFAULT_APPLICATION_KEY])
            .args(["--application-secret", DEFAULT_APPLICATION_SECRET])
            .args(["--consumer-key", DEFAULT_CONSUMER_KEY])
            .current_dir(&self.dir)
            .env_clear()
            .env("HOME", &self.dir)
            .env("NO_COLOR", "1")
            .env("SHOP_DB_PASSWORD", HOSTING_DB_PASSWORD)
            .stdin(Stdio::null());
        command
    }

    /// Runs to the end (bounded by `RUN_BOUND`), or kills it with SIGKILL after `kill_after`.
    fn run(&self, endpoint: &str, args: &[&str], kill_after: Option<Duration>) -> Run {
        let log = self.dir.join("last-run.log");
        let file = std::fs::File::create(&log).unwrap();
        let mut child = self
            .command(endpoint, args)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("reconcile starts");
        let bound = kill_after.unwrap_or(RUN_BOUND);
        let start = Instant::now();
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if start.elapsed() >= bound {
                let _ = child.kill();
                child.wait().unwrap();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Run {
            code,
            output: std::fs::read_to_string(&log).unwrap_or_default(),
        }
    }

    /// Every password in the secrets sink, by the resource its file names.
    fn stored_passwords(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut dirs = vec![self.dir.join(".reconcile").join("secrets")];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let Ok(secret) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let has_password = secret["password"].as_str().is_some_and(|p| p.len() >= 8);
                if let (true, Some(resource)) = (has_password, secret["resource"].as_str()) {
                    found.insert(resource.to_string());
                }
            }
        }
        found
    }
}

/// The faults of one episode, as `sandbox serve` flags.
fn random_faults(rng: &mut StdRng) -> Vec<String> {
    let mut flags = Vec::new();
    let fail_rate = [0.0, 0.05, 0.1][rng.random_range(0..3)];
    let created_but_500 = [0.0, 0.2, 0.5, 1.0][rng.random_range(0..4)];
    let latency = ["0ms", "10ms", "30ms"][rng.random_range(0..3)];
    flags.extend(["--fail-rate".into(), fail_rate.to_string()]);
    flags.extend(["--created-but-500".into(), created_but_500.to_string()]);
    flags.extend(["--latency".into(), latency.to_string()]);
    if rng.random_bool(0.3) {
        flags.extend(["--rate-limit".into(), "40".into()]);
    }
    flags
}

/// Runs one episode from `seed`; what it found.
pub fn episode(binary: &Path, seed: u64) -> Figures {
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace {
        binary: binary.to_path_buf(),
        dir: dir.path().to_path_buf(),
    };
    let manifests = dir.path().join("manifests");
    let state = dir.path().join("sandbox-state.json");
    let ready_after = ["300ms", "1s", "2s"][rng.random_range(0..3)];
    let mut faults = random_faults(&mut rng);
    faults.extend(["--ready-after".into(), ready_after.into()]);

    let mut figures = Figures {
        episodes: 1,
        ..Figures::default()
    };
    let mut history = vec![format!("faults {}", faults.join(" "))];
    let faulty_endpoint;
    let mut set = ManifestSet::random(&mut rng);
    set.write(&manifests);
    history.push(format!("manifests {}", set.describe()));
    {
        let sandbox = ServedSandbox::episode(binary, "127.0.0.1:0", &state, &faults);
        faulty_endpoint = sandbox.endpoint.clone();
        let mut prune = false;
        for round in 0..rng.random_range(1..=3) {
            if round > 0 && rng.random_bool(0.6) {
                set = set.mutate(&mut rng);
                set.write(&manifests);
                prune = true;
                history.push(format!("manifests {}", set.describe()));
            }
            let mut args = vec!["apply", "manifests", "--yes", "--max-deletes", "100"];
            if prune {
                args.push("--prune");
            }
            let kill = rng
                .random_bool(0.6)
                .then(|| Duration::from_millis(rng.random_range(0..4000)));
            let run = ws.run(&sandbox.endpoint, &args, kill);
            history.push(format!(
                "{} kill {kill:?} -> {:?}",
                args.join(" "),
                run.code
            ));
            if kill.is_none() && run.code.is_none() {
                figures.hung_runs += 1;
                figures.problems.push(format!(
                    "seed {seed}: a faulty run did not end within {RUN_BOUND:?}"
                ));
            }
        }
    }

    // The clean re-run: the same state, no faults.
    // On the faulty one's address: the same API, so the same endpoint, and the secrets the
    // faulty runs filed under it (a new port would be another API to the secrets sink).
    let sandbox = ServedSandbox::episode(
        binary,
        ServedSandbox::address_of(&faulty_endpoint),
        &state,
        &["--ready-after".into(), ready_after.into()],
    );
    assert_eq!(
        sandbox.endpoint, faulty_endpoint,
        "the clean sandbox serves the faulty one's endpoint"
    );
    let rerun = ws.run(
        &sandbox.endpoint,
        &[
            "apply",
            "manifests",
            "--yes",
            "--prune",
            "--max-deletes",
            "100",
        ],
        None,
    );
    history.push(format!("clean apply --prune -> {:?}", rerun.code));
    let plan = ws.run(
        &sandbox.endpoint,
        &["plan", "manifests", "--detailed-exitcode"],
        None,
    );
    let context = || format!("seed {seed}: {}", history.join("; "));
    if rerun.code != Some(0) {
        figures.failed_reruns += 1;
        figures.problems.push(format!(
            "{}: clean re-run exited {:?}:\n{}",
            context(),
            rerun.code,
            rerun.output
        ));
    } else if plan.code != Some(0) {
        figures.early_successes += 1;
    }
    if plan.code != Some(0) {
        figures.problems.push(format!(
            "{}: plan --detailed-exitcode after the clean re-run exited {:?}:\n{}",
            context(),
            plan.code,
            plan.output
        ));
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let live = runtime.block_on(Census::take(&api(&sandbox.endpoint, 50)));
    let expected = set.census();
    for (key, &count) in &live.0 {
        match expected.0.get(key) {
            Some(_) if count > 1 => {
                figures.duplicates += count - 1;
                figures
                    .problems
                    .push(format!("{}: {count} live objects for {key}", context()));
            }
            Some(_) => {}
            None => {
                figures.leftovers += count;
                figures
                    .problems
                    .push(format!("{}: leftover {key} after --prune", context()));
            }
        }
    }
    for key in expected.0.keys() {
        if !live.0.contains_key(key) {
            figures.lost += 1;
            figures
                .problems
                .push(format!("{}: no live object for {key}", context()));
        }
    }
    let stored = ws.stored_passwords();
    for user in set.users() {
        if !stored.contains(&format!("DatabaseUser/{user}")) {
            figures.lost_passwords += 1;
            figures.problems.push(format!(
                "{}: no secrets file with a password for DatabaseUser/{user}",
                context()
            ));
        }
    }
    figures
}

/// Runs `episodes` episodes, seeds `seed`, `seed + 1`, ...
pub fn campaign(
    binary: &Path,
    seed: u64,
    episodes: usize,
    progress: impl Fn(u64, &Figures),
) -> Figures {
    let mut figures = Figures::default();
    for n in 0..episodes as u64 {
        let one = episode(binary, seed + n);
        progress(seed + n, &one);
        figures.add(one);
    }
    figures
}

/// A few episodes in the test suite; the seed comes from `RECONCILE_CAMPAIGN_SEED` or the
/// clock, and is printed on failure so the episode can be run again alone.
#[test]
#[cfg(test)]
fn a_seeded_fault_campaign_leaves_one_object_per_manifest_and_every_password() {
    let seed = std::env::var("RECONCILE_CAMPAIGN_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        });
    // `option_env!`: examples/fault_campaign.rs includes this file, and has no such variable.
    let Some(binary) = option_env!("CARGO_BIN_EXE_reconcile") else {
        unreachable!("cargo sets CARGO_BIN_EXE_reconcile for integration tests")
    };
    let binary = PathBuf::from(binary);
    let figures = campaign(&binary, seed, 3, |_, _| {});
    assert!(
        figures.is_clean(),
        "fault campaign from seed {seed} (re-run: RECONCILE_CAMPAIGN_SEED={seed} cargo test --test it campaign):\n{}\n{}",
        figures.row(),
        figures.problems.join("\n")
    );
}

/// The episode that failed in CI (seed 1796301344): a user POST answered 500 but made, the run
/// killed before it reset the password, and the clean sandbox then came up on another port,
/// where the secrets sink had no intent for it. It runs in every suite.
#[test]
#[cfg(test)]
fn the_episode_ci_found_leaves_every_password() {
    let Some(binary) = option_env!("CARGO_BIN_EXE_reconcile") else {
        unreachable!("cargo sets CARGO_BIN_EXE_reconcile for integration tests")
    };
    let figures = episode(Path::new(binary), 1796301344);
    assert!(
        figures.is_clean(),
        "{}\n{}",
        figures.row(),
        figures.problems.join("\n")
    );
}
