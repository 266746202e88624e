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

#[path = "../common/binary.rs"]
mod binary;
mod child;
mod fleet;
mod offline;
mod rows;
mod seed;
mod served;
mod table;

// One program in files to read: every module says `use crate::*`, so it shares these imports
// and the other modules' items (re-exported below).
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

pub(crate) use child::*;
pub(crate) use fleet::*;
pub(crate) use offline::*;
pub(crate) use rows::*;
pub(crate) use seed::*;
pub(crate) use served::*;
pub(crate) use table::*;

// Environment.

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".to_owned())
}
