//! The OVH API simulator: a local HTTP(S) server that behaves like the subset of the OVH API
//! reconcile manages, closely enough that the official python and node clients accept it.
//!
//! One file per concern: `server` (router, middlewares, listening, TLS), `auth` (signatures,
//! consumer keys, OAuth2), `faults` (rate limit, 5xx, latency), `state` (the `World` and its
//! file), `clock` (the time everything reads, injectable), `lifecycle` (time-driven statuses), `error` (the API's error bodies), and one folder
//! per route family: `database/` (Public Cloud Databases, with its catalogue), `hosting/`
//! (Web Hosting), `stack` (RunAbove Managed Stacks MySQL).

pub mod auth;
pub mod clock;
pub mod database;
pub mod error;
pub mod faults;
pub mod hosting;
pub mod lifecycle;
pub mod server;
pub mod stack;
pub mod state;

use chrono::{DateTime, Utc};
pub use clock::{Clock, ManualClock};
use error::ApiError;
use state::{StateError, StateFile, World};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use server::{serve, RunningSandbox, Tls, RUNABOVE_BASE};

/// Default credentials of the sandbox: the one application and consumer key it accepts
/// unless told otherwise.
pub const DEFAULT_APPLICATION_KEY: &str = "sandbox-application-key";
pub const DEFAULT_APPLICATION_SECRET: &str = "sandbox-application-secret";
pub const DEFAULT_CONSUMER_KEY: &str = "sandbox-consumer-key";
pub const DEFAULT_CLIENT_ID: &str = "sandbox-client-id";
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-client-secret";

/// Default of `--header-timeout`: an idle connection is closed after this long.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of `--body-timeout`.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request body the sandbox reads; a larger one is `413`, refused from its
/// `Content-Length` before any of it is read.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// How far a request's `X-Ovh-Timestamp` may be from the sandbox clock.
pub const TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(300);

/// Everything `reconcile sandbox serve` is told on its command line.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub application_key: String,
    pub application_secret: String,
    pub consumer_key: String,
    pub client_id: String,
    pub client_secret: String,
    /// Public Cloud project ids that exist.
    pub projects: Vec<String>,
    /// Web Hosting service names that exist.
    pub hostings: Vec<String>,
    /// Projects and hostings are created on first use (the in-process `--sandbox` mode).
    pub create_on_demand: bool,
    /// How long CREATING/UPDATING/DELETING/PENDING and hosting task states last.
    pub ready_after: Duration,
    /// Requests per second before 429 (none: unlimited).
    pub rate_limit: Option<u32>,
    /// Share of requests answered with a 500 before doing anything (0.0..=1.0).
    pub fail_rate: f64,
    /// Added before every answer.
    pub latency: Duration,
    /// Share of creates (database services, users, stacks) answered 500 *after* they happened.
    pub created_but_500: f64,
    /// IP blocks whose restriction entries stay PENDING forever.
    pub stuck_pending: Vec<String>,
    /// Where the world is persisted (none: in memory only).
    pub state_file: Option<PathBuf>,
    /// How long a connection may take to send a request's headers (its first request, or the
    /// next one on an idle keep-alive connection) and its TLS handshake; then it is closed.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive once its headers have (408 after that).
    pub body_timeout: Duration,
    /// Where the sandbox reads the time: the system clock, or a `ManualClock` in tests.
    pub clock: Clock,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            application_key: DEFAULT_APPLICATION_KEY.into(),
            application_secret: DEFAULT_APPLICATION_SECRET.into(),
            consumer_key: DEFAULT_CONSUMER_KEY.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            projects: Vec::new(),
            hostings: Vec::new(),
            create_on_demand: false,
            ready_after: Duration::from_secs(5),
            rate_limit: None,
            fail_rate: 0.0,
            latency: Duration::ZERO,
            created_but_500: 0.0,
            stuck_pending: Vec::new(),
            state_file: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            clock: Clock::System,
        }
    }
}

/// A running simulator's shared state: configuration, the world behind a lock, the state file.
pub struct Sandbox {
    pub config: SandboxConfig,
    world: Mutex<World>,
    store: Option<StateFile>,
    pub faults: faults::Faults,
}

impl Sandbox {
    /// Loads (or creates) the world, seeds the configured projects, hostings and consumer key,
    /// and saves it once so that a bad state path fails now rather than on the first write.
    pub fn new(config: SandboxConfig) -> Result<Arc<Sandbox>, StateError> {
        let store = config.state_file.clone().map(StateFile::new);
        let mut world = match &store {
            Some(store) => store.load()?.unwrap_or_default(),
            None => World::default(),
        };
        let now = config.clock.now();
        auth::seed(&mut world, &config, now);
        for project in &config.projects {
            world.projects.entry(project.clone()).or_default();
        }
        for name in &config.hostings {
            if !world.hostings.contains_key(name) {
                let hosting = hosting::Hosting::new(name, now);
                world.hostings.insert(name.clone(), hosting);
            }
        }
        if let Some(store) = &store {
            store.save(&world)?;
        }
        let faults = faults::Faults::new(&config);
        Ok(Arc::new(Sandbox {
            config,
            world: Mutex::new(world),
            store,
            faults,
        }))
    }

    /// The sandbox clock (`SandboxConfig::clock`).
    pub fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }

    /// How long transitional states last.
    pub fn ready_after(&self) -> Duration {
        self.config.ready_after
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        // A panic in a handler must not take the whole sandbox down with a poisoned lock.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the world. Statuses are computed from `now`, so reads never write.
    pub fn read<R>(&self, f: impl FnOnce(&World, DateTime<Utc>) -> R) -> R {
        let world = self.lock();
        f(&world, self.now())
    }

    /// Changes the world; on `Ok` the state file is saved before the answer goes out, on `Err`
    /// the change is rolled back, so a refused request changes nothing.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut World, DateTime<Utc>) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let mut world = self.lock();
        let before = world.clone();
        let result = f(&mut world, self.now());
        match &result {
            Ok(_) => {
                if let Some(store) = &self.store {
                    if let Err(e) = store.save(&world) {
                        tracing::error!("{e}");
                        *world = before;
                        return Err(ApiError::internal());
                    }
                }
            }
            Err(_) => *world = before,
        }
        result
    }

    /// Makes sure a project exists, when projects are created on demand.
    pub fn ensure_project(&self, project: &str) {
        if self.config.create_on_demand && !self.read(|w, _| w.projects.contains_key(project)) {
            let _ = self.write(|w, _| {
                w.projects.entry(project.to_string()).or_default();
                Ok(())
            });
        }
    }

    /// Makes sure a hosting exists, when hostings are created on demand.
    pub fn ensure_hosting(&self, name: &str) {
        if self.config.create_on_demand && !self.read(|w, _| w.hostings.contains_key(name)) {
            let _ = self.write(|w, now| {
                if !w.hostings.contains_key(name) {
                    w.hostings
                        .insert(name.to_string(), hosting::Hosting::new(name, now));
                }
                Ok(())
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The world is read and written at the configured clock's time, not the system's.
    #[test]
    fn the_sandbox_reads_and_writes_at_its_clock() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let clock = ManualClock::new(start);
        let sandbox = Sandbox::new(SandboxConfig {
            clock: clock.clone().into(),
            ..SandboxConfig::default()
        })
        .unwrap();
        assert_eq!(sandbox.now(), start);
        assert_eq!(sandbox.read(|_, now| now), start);
        clock.advance(Duration::from_secs(7));
        let later = start + chrono::Duration::seconds(7);
        assert_eq!(sandbox.read(|_, now| now), later);
        assert_eq!(sandbox.write(|_, now| Ok(now)), Ok(later));
    }
}
