//! The run lock: one `reconcile apply` at a time in a working directory (`.reconcile/lock`).
//!
//! The lock is a file created with `O_EXCL` holding who holds it (`pid`, `host`, `startedAt`
//! and a random `token`), removed when the run ends. A second apply finds it and waits up to
//! `--lock-timeout` (default 0: it fails at once, exit 1, naming the holder). A holder that died
//! without removing it (SIGKILL, a crash) is detected when it ran on this host and its pid is
//! gone: the lock is taken over (moved aside atomically, so two runs cannot both take it).
//!
//! What it covers: runs on one machine sharing this directory. Not runs on two machines (two
//! CI runners), nor a person in the console: CI serialises those (a GitHub Actions
//! `concurrency:` group, a GitLab `resource_group`: `examples/`), and the engine's lookup right
//! before each create keeps the window for a twin to milliseconds.

use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the lock lives, relative to the working directory.
pub const LOCK_PATH: &str = ".reconcile/lock";

/// How often a waiting run looks at the lock again.
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// Who holds the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub started_at: String,
    pub token: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on host {}, started {}",
            self.pid, self.host, self.started_at
        )
    }
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another apply holds the run lock {path}: {holder}")]
    Held { path: PathBuf, holder: Holder },
    #[error("cannot take the run lock {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The lock, held until dropped.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    token: String,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Only our own lock is removed (a holder that took it over after us keeps its own).
        if read_holder(&self.path).is_some_and(|h| h.token == self.token) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Takes the lock at `path`, waiting up to `timeout` for a live holder to let it go;
/// `waiting` is told once who it waits for.
pub async fn acquire(
    path: &Path,
    timeout: Duration,
    waiting: impl Fn(&Holder),
) -> Result<RunLock, LockError> {
    let io_error = |source| LockError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io_error)?;
    }
    let me = Holder {
        pid: std::process::id(),
        host: host_name(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        token: format!("{:016x}", rand::random::<u64>()),
    };
    let deadline = Instant::now() + timeout;
    let mut told = false;
    loop {
        match create(path, &me) {
            Ok(()) => {
                return Ok(RunLock {
                    path: path.to_owned(),
                    token: me.token,
                })
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(io_error(err)),
        }
        match read_holder(path) {
            Some(holder) if holder.host == me.host && !alive(holder.pid) => {
                tracing::warn!(%holder, "the run lock's holder is gone; taking the lock over");
                take_over(path, &holder).map_err(io_error)?;
                continue;
            }
            Some(holder) => {
                if Instant::now() >= deadline {
                    return Err(LockError::Held {
                        path: path.to_owned(),
                        holder,
                    });
                }
                if !told {
                    waiting(&holder);
                    told = true;
                }
            }
            // Being written by its holder this instant, or just removed: look again.
            None if Instant::now() >= deadline + Duration::from_secs(1) => {
                return Err(io_error(io::Error::other(
                    "it exists but does not say who holds it; remove it if no apply runs",
                )));
            }
            None => {}
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

/// Creates the lock file, failing with `AlreadyExists` when it is there.
fn create(path: &Path, me: &Holder) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let mut text = serde_json::to_vec_pretty(me).map_err(io::Error::other)?;
    text.push(b'\n');
    file.write_all(&text)?;
    file.sync_all()
}

fn read_holder(path: &Path) -> Option<Holder> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// Removes the lock of a dead `holder`: moved aside first (atomic), so that of two runs taking
/// it over only one removes it; a lock that turns out to be someone else's is put back.
fn take_over(path: &Path, holder: &Holder) -> io::Result<()> {
    let aside = path.with_extension(format!("stale.{}", std::process::id()));
    match fs::rename(path, &aside) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    }
    if read_holder(&aside).is_some_and(|h| h.token != holder.token) {
        // Another run took it over between our read and our move: give it back.
        let _ = fs::hard_link(&aside, path);
    }
    fs::remove_file(&aside)
}

/// True when process `pid` exists on this host.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    if cfg!(unix) {
        return std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    }
    true
}

/// This machine's name (as the lock records its holder's).
fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `startedAt` (and the sink's `writtenAt`, drift's `checkedAt`) kept the format chrono's
    /// `to_rfc3339_opts(Secs, true)` wrote when humantime replaced it: UTC, seconds, `Z`.
    #[test]
    fn timestamps_are_rfc3339_utc_seconds() {
        use std::time::{Duration, UNIX_EPOCH};
        for (secs, text) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_700_000_042, "2023-11-14T22:14:02Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ] {
            let at = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(999);
            assert_eq!(humantime::format_rfc3339_seconds(at).to_string(), text);
        }
    }

    #[tokio::test]
    async fn a_second_taker_fails_at_once_then_takes_it_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".reconcile/lock");
        let first = acquire(&path, Duration::ZERO, |_| {}).await.unwrap();
        let err = acquire(&path, Duration::ZERO, |_| {}).await.unwrap_err();
        let LockError::Held { holder, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(holder.pid, std::process::id());
        assert!(err
            .to_string()
            .starts_with("another apply holds the run lock"));
        drop(first);
        assert!(!path.exists());
        let again = acquire(&path, Duration::ZERO, |_| {}).await.unwrap();
        drop(again);
    }

    #[tokio::test]
    async fn a_dead_holder_on_this_host_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let pid = gone.id();
        gone.wait().unwrap();
        let dead = Holder {
            pid,
            host: host_name(),
            started_at: "2026-01-01T00:00:00Z".into(),
            token: "dead".into(),
        };
        create(&path, &dead).unwrap();
        let lock = acquire(&path, Duration::ZERO, |_| {}).await.unwrap();
        assert_eq!(read_holder(&path).unwrap().pid, std::process::id());
        drop(lock);
        // On another host, a pid says nothing: the lock is held.
        let remote = Holder {
            host: "elsewhere".into(),
            ..dead
        };
        create(&path, &remote).unwrap();
        assert!(acquire(&path, Duration::ZERO, |_| {}).await.is_err());
    }
}
