//! [`CacheConfig`]: TTL clamps, refresh ahead, staleness, cooldown, backoff, negative cache.

use core::time::Duration;

#[cfg(doc)]
use crate::{FetchConfig, RemoteJwks};

/// How the cache behaves. Each field's default is in its doc.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CacheConfig {
    /// TTL when the response has no caching headers. Default 10 min.
    pub default_ttl: Duration,
    /// Lower clamp of the TTL (`max-age=0`, `no-cache`). Default 1 min.
    pub min_ttl: Duration,
    /// Upper clamp of the TTL: a key removed upstream is dropped at most this late.
    /// Default 1 h.
    pub max_ttl: Duration,
    /// Refresh this long before expiry (at most half the TTL), in the background.
    /// Default 1 min.
    pub refresh_ahead: Duration,
    /// How long past expiry the last good set is still served while refreshes fail.
    /// Default 24 h.
    pub max_staleness: Duration,
    /// At most one unknown-`kid` refetch per this period. Default 30 s; the period starts at
    /// the first such refetch, not at start-up, and scheduled refreshes do not count.
    pub cooldown: Duration,
    /// First delay after a failed fetch; doubles per failure, with jitter. Default 1 s.
    pub backoff_initial: Duration,
    /// Longest delay between failed fetches (`Retry-After` may ask for more, up to
    /// [`FetchConfig::max_retry_after`]). Default 5 min.
    pub backoff_max: Duration,
    /// How long a `kid` that a fresh fetch did not contain stays known-absent. Default 5 min.
    pub negative_ttl: Duration,
    /// Most `kid`s remembered as absent (oldest forgotten first). Default 1024.
    pub negative_capacity: usize,
    /// Run scheduled refreshes on a background task. Default true; when false the owner calls
    /// [`RemoteJwks::tick`].
    pub background: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            default_ttl: Duration::from_secs(600),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(3600),
            refresh_ahead: Duration::from_secs(60),
            max_staleness: Duration::from_secs(24 * 3600),
            cooldown: Duration::from_secs(30),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(300),
            negative_capacity: 1024,
            background: true,
        }
    }
}

impl CacheConfig {
    /// Sets the TTL used without caching headers and the clamp applied to the headers' TTL.
    pub fn with_ttl(mut self, default: Duration, min: Duration, max: Duration) -> Self {
        self.default_ttl = default;
        self.min_ttl = min;
        self.max_ttl = max;
        self
    }
    /// Sets [`CacheConfig::refresh_ahead`].
    pub fn with_refresh_ahead(mut self, d: Duration) -> Self {
        self.refresh_ahead = d;
        self
    }
    /// Sets [`CacheConfig::max_staleness`].
    pub fn with_max_staleness(mut self, d: Duration) -> Self {
        self.max_staleness = d;
        self
    }
    /// Sets [`CacheConfig::cooldown`].
    pub fn with_cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }
    /// Sets [`CacheConfig::backoff_initial`] and [`CacheConfig::backoff_max`].
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max;
        self
    }
    /// Sets [`CacheConfig::negative_ttl`] and [`CacheConfig::negative_capacity`].
    pub fn with_negative_cache(mut self, ttl: Duration, capacity: usize) -> Self {
        self.negative_ttl = ttl;
        self.negative_capacity = capacity;
        self
    }
    /// Sets [`CacheConfig::background`].
    pub fn with_background(mut self, on: bool) -> Self {
        self.background = on;
        self
    }
}
