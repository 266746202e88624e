//! APIs other than OVH's main one, each declared by the family that lives on it
//! (`Family::api`): `DeclaredApi` says how its endpoint is given (a global flag and an
//! environment variable, parsed its own way), which endpoint it has by default for the
//! credentials in use, where the in-process sandbox serves it, and its rate budget (`ApiRate`,
//! a `Rate` over any period). The CLI adds one flag per declaration and resolves it
//! (`cli::client::connect`); `Client` holds one client per declared API that has an endpoint
//! (`ClientConfig::apis`, `Client::for_api`). Nothing here names a family.

use std::num::NonZeroU32;
use std::time::Duration;

use super::credentials::Credentials;
use super::endpoint::Endpoint;
use super::error::OvhError;
use crate::sandbox::RunningSandbox;

/// An API a family lives on, other than OVH's main one (RunAbove's, for managed stacks): a
/// `static` in the family's folder, returned by its `Family::api`.
#[derive(Debug)]
pub struct DeclaredApi {
    /// Stable key, how `Client::for_api` finds this API's client (`runabove`).
    pub key: &'static str,
    /// The global flag that gives its endpoint, without the dashes (`runabove-endpoint`).
    pub flag: &'static str,
    /// The environment variable read when the flag is absent (`RUNABOVE_ENDPOINT`).
    pub env: &'static str,
    /// The flag's help text.
    pub help: &'static str,
    /// Parses the flag's value (a name it knows, or a URL); its error is what the user reads.
    pub parse: fn(&str) -> Result<Endpoint, OvhError>,
    /// Its endpoint when the flag and the variable are absent, given the credentials in use;
    /// `None`: this API has no client, and its family's calls stay on the main one.
    pub default_endpoint: fn(&Credentials) -> Option<Endpoint>,
    /// Where a running sandbox serves it (`--sandbox`): a URL `parse` accepts.
    pub sandbox_endpoint: fn(&RunningSandbox) -> &str,
    /// How many requests it takes from this program.
    pub rate: ApiRate,
}

/// An API's rate budget. Whichever, the budget is its own: its calls never wait for another
/// API's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiRate {
    /// The main API's rate (`ClientConfig::rate_limit_per_sec`, `--rate-limit`).
    SameAsMain,
    /// A quota of its own, whatever `--rate-limit` says (MongoDB Cloud Manager: 100 requests
    /// per minute per project). A per-project quota needs a key per project: a keyed governor
    /// limiter in `transport::RateBudget` (governor's `keyed` state, the `dashmap` feature),
    /// the key passed by the caller with each request (`Prepared`), since only the family
    /// knows which project a path belongs to. Today the quota is one budget for the whole API,
    /// which is safe (never more than the quota for any one project) but slower with several.
    Quota(Rate),
}

/// At most `requests` per `period`, evenly spaced: one every `period / requests`, no burst (a
/// server bucket that refills at another moment than ours answered 429 to bursts,
/// docs/performance.md, row 1c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub requests: NonZeroU32,
    pub period: Duration,
}

impl Rate {
    pub const fn per_second(requests: NonZeroU32) -> Rate {
        Rate {
            requests,
            period: Duration::from_secs(1),
        }
    }

    pub const fn per_minute(requests: NonZeroU32) -> Rate {
        Rate {
            requests,
            period: Duration::from_secs(60),
        }
    }

    /// `rate` per second; refused when it is 0.
    pub fn per_second_at_least_one(rate: u32) -> Result<Rate, OvhError> {
        NonZeroU32::new(rate).map(Rate::per_second).ok_or_else(|| {
            OvhError::config("the request rate limit must be at least 1 per second", None)
        })
    }

    /// The time between two requests.
    pub fn interval(&self) -> Duration {
        self.period / self.requests.get()
    }
}
