//! The replay store: every assertion's `jti` is accepted at most once within its lifetime.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// What the store answered for one `(issuer, jti)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First time within its lifetime: recorded now.
    Fresh,
    /// Already recorded and not yet expired: a replay.
    Replayed,
}

/// The store could not answer. The token endpoint turns this into 503 with `Retry-After`
/// (the caller did nothing wrong), never into an acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayStoreError {
    /// What went wrong, for logs.
    pub message: String,
}

impl fmt::Display for ReplayStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for ReplayStoreError {}

/// The future [`ReplayStore::check_and_record`] returns.
pub type ReplayFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Seen, ReplayStoreError>> + Send + 'a>>;

/// The future [`ReplayStore::health`] returns.
pub type HealthFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ReplayStoreError>> + Send + 'a>>;

/// Where seen `jti` values live. [`MemoryReplayStore`] serves one instance; several instances
/// behind a load balancer need a shared implementation (a database or cache with an atomic
/// "insert if absent, with expiry"), which plugs in here.
pub trait ReplayStore: Send + Sync + fmt::Debug {
    /// Atomically: if `(issuer, jti)` is recorded and `now < expires_at` of that record, answer
    /// [`Seen::Replayed`]; otherwise record it until `expires_at` (seconds since the epoch) and
    /// answer [`Seen::Fresh`].
    fn check_and_record<'a>(
        &'a self,
        issuer: &'a str,
        jti: &'a str,
        expires_at: i64,
        now: i64,
    ) -> ReplayFuture<'a>;

    /// A short name of the kind of store (`memory`, `redis`), for `/healthz` and logs.
    fn kind(&self) -> &'static str {
        "custom"
    }

    /// Whether the store can answer now, for `/healthz`. Default: always (in-process).
    fn health(&self) -> HealthFuture<'_> {
        Box::pin(core::future::ready(Ok(())))
    }
}

/// An in-memory replay store with a hard bound on entries.
///
/// Expired entries are dropped as time passes. When the store is full of unexpired entries it
/// refuses new ones with an error (503 at the endpoint) rather than forgetting one, because
/// forgetting an unexpired `jti` would let that assertion be replayed.
#[derive(Debug)]
pub struct MemoryReplayStore {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<Box<str>, i64>,
    by_expiry: BTreeSet<(i64, Box<str>)>,
}

impl MemoryReplayStore {
    /// Default bound: 1,000,000 entries (about 100 MB at the maximum `jti` length).
    pub const DEFAULT_CAPACITY: usize = 1_000_000;

    /// A store holding at most `capacity` unexpired entries.
    pub fn new(capacity: usize) -> Self {
        MemoryReplayStore {
            capacity,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// Entries held now (expired ones may still count until the next insertion).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|e| e.by_key.len()).unwrap_or(0)
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check_sync(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Seen, ReplayStoreError> {
        let mut e = self.inner.lock().map_err(|_| ReplayStoreError {
            message: "replay store lock poisoned".into(),
        })?;
        e.purge(now);
        // The issuer is part of the key (two issuers may pick the same jti); its length
        // prefix keeps ("ab", "c") and ("a", "bc") apart.
        let key: Box<str> = format!("{}:{issuer}{jti}", issuer.len()).into();
        if let Some(&exp) = e.by_key.get(&key) {
            if now < exp {
                return Ok(Seen::Replayed);
            }
        }
        if e.by_key.len() >= self.capacity {
            return Err(ReplayStoreError {
                message: format!("replay store full ({} unexpired entries)", self.capacity),
            });
        }
        if let Some(old) = e.by_key.insert(key.clone(), expires_at) {
            e.by_expiry.remove(&(old, key.clone()));
        }
        e.by_expiry.insert((expires_at, key));
        Ok(Seen::Fresh)
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        MemoryReplayStore::new(Self::DEFAULT_CAPACITY)
    }
}

impl Entries {
    /// Drops every entry with `expires_at <= now`, cheapest first.
    fn purge(&mut self, now: i64) {
        while let Some((exp, _)) = self.by_expiry.first() {
            if *exp > now {
                break;
            }
            if let Some((_, key)) = self.by_expiry.pop_first() {
                self.by_key.remove(&key);
            }
        }
    }
}

impl ReplayStore for MemoryReplayStore {
    fn check_and_record<'a>(
        &'a self,
        issuer: &'a str,
        jti: &'a str,
        expires_at: i64,
        now: i64,
    ) -> ReplayFuture<'a> {
        let r = self.check_sync(issuer, jti, expires_at, now);
        Box::pin(core::future::ready(r))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        s: &MemoryReplayStore,
        iss: &str,
        jti: &str,
        exp: i64,
        now: i64,
    ) -> Result<Seen, ReplayStoreError> {
        s.check_sync(iss, jti, exp, now)
    }

    #[test]
    fn second_use_within_lifetime_is_a_replay() {
        let s = MemoryReplayStore::new(10);
        assert_eq!(check(&s, "a", "1", 100, 10), Ok(Seen::Fresh));
        assert_eq!(check(&s, "a", "1", 100, 99), Ok(Seen::Replayed));
        // Another issuer may use the same jti.
        assert_eq!(check(&s, "b", "1", 100, 10), Ok(Seen::Fresh));
        // After expiry the record is gone (the assertion itself is expired by then anyway).
        assert_eq!(check(&s, "a", "1", 300, 100), Ok(Seen::Fresh));
    }

    #[test]
    fn issuer_and_jti_cannot_be_confused_by_separators() {
        let s = MemoryReplayStore::new(10);
        assert_eq!(check(&s, "a\u{0}b", "c", 100, 0), Ok(Seen::Fresh));
        assert_eq!(check(&s, "a", "b\u{0}c", 100, 0), Ok(Seen::Fresh));
    }

    #[test]
    fn full_store_refuses_rather_than_forgets() {
        let s = MemoryReplayStore::new(2);
        assert_eq!(check(&s, "a", "1", 100, 0), Ok(Seen::Fresh));
        assert_eq!(check(&s, "a", "2", 50, 0), Ok(Seen::Fresh));
        assert!(check(&s, "a", "3", 100, 0).is_err());
        assert_eq!(check(&s, "a", "1", 100, 1), Ok(Seen::Replayed));
        // Once one entry expires there is room again.
        assert_eq!(check(&s, "a", "3", 100, 50), Ok(Seen::Fresh));
        assert_eq!(s.len(), 2);
    }
}
