//! Child processes (the `reconcile` binary), measured with `wait4`: wall time, CPU time, peak RSS.

use crate::*;

#[derive(Debug)]
pub(crate) struct ChildRun {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) wall: Duration,
    pub(crate) usage: Option<Usage>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    pub(crate) cpu: Duration,
    pub(crate) max_rss_mb: f64,
}

impl ChildRun {
    pub(crate) fn check(&self, what: &str, ok_codes: &[i32]) -> Result<()> {
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

pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs `command` to completion (killed after `CHILD_DEADLINE`), capturing stdout and stderr,
/// with its wall time and, on Linux, its own CPU time and peak RSS.
pub(crate) async fn run_child(mut command: Command) -> Result<ChildRun> {
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
pub(crate) fn reconcile_command(env: &Env, endpoint: &str, cwd: &Path, args: &[&str]) -> Command {
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
pub(crate) async fn plan_fleet(
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
