//! The rows of the table, one function each (the module docs of `main.rs` list them).

use crate::*;

/// Row 1: plan at 20 req/s (sandbox and client).
pub(crate) async fn row_rate_limited(
    env: &Env,
    fleet: &Fleet,
    seeded: &Seeded,
) -> Result<Vec<Row>> {
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
pub(crate) async fn row_unlimited(env: &Env, fleet: &Fleet, seeded: &Seeded) -> Result<Vec<Row>> {
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
pub(crate) async fn row_apply(env: &Env, enabled: bool) -> Result<Vec<Row>> {
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

pub(crate) fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() - 1) * p / 100]
}

/// Row 4: offline validate + diff of 10,000 resources.
pub(crate) async fn row_offline(env: &Env, seeded: &Seeded) -> Result<Vec<Row>> {
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
pub(crate) async fn row_baseline(env: &Env, fleet: &Fleet, seeded: &Seeded) -> Result<Vec<Row>> {
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
