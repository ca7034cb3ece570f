//! Rate limits: a token bucket per key (a source at the intake gateway, a client address
//! at login or Open311, an Open311 key), so that a runaway caller is told to slow down
//! (429 with Retry-After) and cannot starve others. Per instance: behind a load balancer
//! each instance grants its own share.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The most buckets kept: past it, the full ones (callers quiet for a while) are dropped,
/// so that a flood from many addresses cannot grow the map without end.
const MAX_BUCKETS: usize = 10_000;

/// A caller over its budget: slow down.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("rate limit of {per_minute} requests per minute reached")]
pub(crate) struct RateLimited {
    /// The budget.
    pub per_minute: u32,
    /// Seconds until the next request is taken.
    pub retry_after_s: u64,
}

/// Buckets by key.
#[derive(Debug, Default)]
pub struct RateLimits {
    // A std Mutex: held only for a few arithmetic operations, never across an await.
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimits {
    /// Takes one request from `source`'s bucket of `per_minute` (burst: a tenth of a
    /// minute's worth, at least 1), or says how long to wait.
    pub(crate) fn check(&self, source: &str, per_minute: u32) -> Result<(), RateLimited> {
        let capacity = (f64::from(per_minute) / 10.0).max(1.0);
        let per_second = f64::from(per_minute) / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(source) {
            // A dropped bucket was (nearly) full: the caller it forgets gets a full one again.
            buckets.retain(|_, (tokens, last)| {
                *tokens + now.duration_since(*last).as_secs_f64() * per_second < capacity - 1.0
            });
            if buckets.len() >= MAX_BUCKETS {
                buckets.clear();
            }
        }
        let (tokens, last) = buckets.entry(source.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / per_second).ceil().max(1.0) as u64;
            Err(RateLimited { per_minute, retry_after_s: wait })
        }
    }
}
