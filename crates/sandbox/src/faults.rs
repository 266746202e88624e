//! Faults on demand: a global rate limit answering 429, a share of 500s, added latency, and
//! "500 but it was created" for creates.

use super::error::ApiError;
use super::SandboxConfig;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

pub struct Faults {
    limiter: Option<DefaultDirectRateLimiter>,
    fail_rate: f64,
    created_but_500: f64,
    latency: Duration,
}

impl Faults {
    pub fn new(config: &SandboxConfig) -> Self {
        let limiter = config
            .rate_limit
            .and_then(NonZeroU32::new)
            // A burst of one second's worth, like a token bucket refilled at N per second.
            .map(|n| RateLimiter::direct(Quota::per_second(n)));
        Faults {
            limiter,
            fail_rate: config.fail_rate,
            created_but_500: config.created_but_500,
            latency: config.latency,
        }
    }

    /// Applied to every request before it is served: latency, then 429, then a random 500.
    pub async fn before_request(&self) -> Result<(), ApiError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if let Some(limiter) = &self.limiter {
            if limiter.check().is_err() {
                return Err(ApiError::too_many_requests());
            }
        }
        if self.fail_rate > 0.0 && rand::random::<f64>() < self.fail_rate {
            return Err(ApiError::internal());
        }
        Ok(())
    }

    /// True when a create that just happened should still be answered with a 500.
    pub fn created_but_500(&self) -> bool {
        self.created_but_500 > 0.0 && rand::random::<f64>() < self.created_but_500
    }
}
