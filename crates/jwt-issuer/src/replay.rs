//! The replay store: every assertion's `jti` is accepted at most once within its lifetime, with
//! a quota per trusted issuer and per client so one party cannot starve the others.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

/// What the store answered for one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First time within its lifetime: recorded now.
    Fresh,
    /// Already recorded and not yet expired: a replay.
    Replayed,
    /// Not recorded: the issuer's or the client's quota of unexpired entries is used up. The
    /// endpoint answers 503 with `Retry-After` to that party only; the others are unaffected.
    OverQuota,
}

/// Which kind of assertion a `jti` belongs to. Kinds are separate namespaces: a client's
/// authentication assertion and an identity provider's grant never collide, even when the
/// client id equals an issuer identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssertionKind {
    /// The grant: an identity provider's assertion (RFC 7523 section 2.1).
    Grant,
    /// A client's authentication assertion (`private_key_jwt`, RFC 7523 section 2.2).
    ClientAuth,
}

/// One `jti` to check and record.
///
/// The uniqueness key is `(kind, issuer, jti)`. Quotas: a [`AssertionKind::Grant`] entry counts
/// against its `issuer`'s quota; any entry with a `client` counts against that client's quota.
/// A shared implementation (Redis, a database) needs one atomic "insert if absent, with
/// expiry" per entry plus, for quotas, one counter per issuer and per client with the same
/// expiry as the entries they count: one round trip with a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayEntry<'a> {
    /// Grant or client authentication.
    pub kind: AssertionKind,
    /// The assertion's `iss`: a trusted identity provider, or the client id for
    /// [`AssertionKind::ClientAuth`].
    pub issuer: &'a str,
    /// The authenticated client the request is made by, when there is one.
    pub client: Option<&'a str>,
    /// The assertion's `jti` (at most [`crate::MAX_JTI_LEN`] bytes).
    pub jti: &'a str,
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
/// behind a load balancer need a shared implementation, which plugs in here.
pub trait ReplayStore: Send + Sync + fmt::Debug {
    /// Atomically: if `entry` is recorded and `now <` that record's `expires_at`, answer
    /// [`Seen::Replayed`]; else if recording it would take its issuer or client over quota,
    /// answer [`Seen::OverQuota`] (and record nothing); otherwise record it until `expires_at`
    /// (seconds since the epoch) and answer [`Seen::Fresh`].
    fn check_and_record<'a>(
        &'a self,
        entry: ReplayEntry<'a>,
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

/// An in-memory replay store with a hard bound on entries and quotas per issuer and client.
///
/// Expired entries are dropped as time passes. When the store (or a party's quota) is full of
/// unexpired entries it refuses new ones rather than forgetting one, because forgetting an
/// unexpired `jti` would let that assertion be replayed. Entries are keyed by a SHA-256 of
/// `(kind, issuer, jti)`, so an entry's size does not depend on the `jti`'s length: about
/// [`MemoryReplayStore::BYTES_PER_ENTRY`] bytes (measured by a test that fills a store).
#[derive(Debug)]
pub struct MemoryReplayStore {
    capacity: usize,
    per_issuer: usize,
    per_client: usize,
    inner: Mutex<Entries>,
}

pub(crate) type Key = [u8; 32];

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<Key, Meta>,
    by_expiry: BTreeSet<(i64, Key)>,
    /// Party name (issuer or client) -> index into `counts`.
    parties: HashMap<Box<str>, u32>,
    counts: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    expires_at: i64,
    issuer: u32,
    client: u32,
}

/// No party: the entry counts against no quota of that kind.
const NONE: u32 = u32::MAX;

impl MemoryReplayStore {
    /// Default bound: 1,000,000 entries (at most 180 MB, see [`Self::BYTES_PER_ENTRY`]).
    pub const DEFAULT_CAPACITY: usize = 1_000_000;

    /// Upper bound of the memory one entry takes, in bytes, hash table and expiry index
    /// included (their growth steps too). The `replay_memory` test fills stores of several
    /// sizes, measures the bytes allocated and checks this figure against them.
    pub const BYTES_PER_ENTRY: usize = 180;

    /// A store holding at most `capacity` unexpired entries; every issuer and client may hold
    /// all of them (no quota).
    pub fn new(capacity: usize) -> Self {
        MemoryReplayStore::with_quotas(capacity, capacity, capacity)
    }

    /// A store holding at most `capacity` unexpired entries, at most `per_issuer` of them from
    /// one identity provider's grants and at most `per_client` made by one client.
    pub fn with_quotas(capacity: usize, per_issuer: usize, per_client: usize) -> Self {
        MemoryReplayStore {
            capacity,
            per_issuer,
            per_client,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// Quotas that let no party starve another: with `issuers` trusted issuers and `clients`
    /// registered clients, half the capacity is shared out among the issuers and half among
    /// the clients, so all of them at their quota together still fit.
    pub fn fair(capacity: usize, issuers: usize, clients: usize) -> Self {
        let per_issuer = capacity / 2 / issuers.max(1);
        let per_client = capacity / 2 / clients.max(1);
        MemoryReplayStore::with_quotas(capacity, per_issuer.max(1), per_client.max(1))
    }

    /// The bound on entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The quota of one issuer's grants.
    pub fn per_issuer(&self) -> usize {
        self.per_issuer
    }

    /// The quota of one client.
    pub fn per_client(&self) -> usize {
        self.per_client
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
        entry: ReplayEntry<'_>,
        expires_at: i64,
        now: i64,
    ) -> Result<Seen, ReplayStoreError> {
        let mut e = self.inner.lock().map_err(|_| ReplayStoreError {
            message: "replay store lock poisoned".into(),
        })?;
        e.purge(now);
        let key = key_of(&entry);
        if let Some(m) = e.by_key.get(&key) {
            if now < m.expires_at {
                return Ok(Seen::Replayed);
            }
        }
        let issuer = match entry.kind {
            AssertionKind::Grant => e.party(&format!("i:{}", entry.issuer)),
            AssertionKind::ClientAuth => NONE,
        };
        let client = entry.client.map_or(NONE, |c| e.party(&format!("c:{c}")));
        if e.count(issuer) >= self.per_issuer || e.count(client) >= self.per_client {
            return Ok(Seen::OverQuota);
        }
        if e.by_key.len() >= self.capacity {
            return Err(ReplayStoreError {
                message: format!("replay store full ({} unexpired entries)", self.capacity),
            });
        }
        let meta = Meta {
            expires_at,
            issuer,
            client,
        };
        if let Some(old) = e.by_key.insert(key, meta) {
            e.by_expiry.remove(&(old.expires_at, key));
            e.add(old.issuer, -1);
            e.add(old.client, -1);
        }
        e.by_expiry.insert((expires_at, key));
        e.add(issuer, 1);
        e.add(client, 1);
        Ok(Seen::Fresh)
    }
}

/// SHA-256 of the kind, then each string with its length in front (so `("ab", "c")` and
/// `("a", "bc")` differ).
pub(crate) fn key_of(entry: &ReplayEntry<'_>) -> Key {
    let mut h = Sha256::new();
    h.update(match entry.kind {
        AssertionKind::Grant => [0u8],
        AssertionKind::ClientAuth => [1u8],
    });
    for s in [entry.issuer, entry.jti] {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    }
    h.finalize().into()
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
                if let Some(m) = self.by_key.remove(&key) {
                    self.add(m.issuer, -1);
                    self.add(m.client, -1);
                }
            }
        }
    }

    /// The index of a party's counter, created at 0. Parties are the configured issuers and
    /// clients (only authenticated clients and trusted issuers reach the store), so this
    /// table stays small.
    fn party(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.parties.get(name) {
            return i;
        }
        let i = u32::try_from(self.counts.len()).unwrap_or(NONE);
        if i != NONE {
            self.counts.push(0);
            self.parties.insert(name.into(), i);
        }
        i
    }

    fn count(&self, party: u32) -> usize {
        self.counts.get(party as usize).copied().unwrap_or(0)
    }

    fn add(&mut self, party: u32, delta: isize) {
        if let Some(c) = self.counts.get_mut(party as usize) {
            *c = c.saturating_add_signed(delta);
        }
    }
}

impl ReplayStore for MemoryReplayStore {
    fn check_and_record<'a>(
        &'a self,
        entry: ReplayEntry<'a>,
        expires_at: i64,
        now: i64,
    ) -> ReplayFuture<'a> {
        let r = self.check_sync(entry, expires_at, now);
        Box::pin(core::future::ready(r))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant<'a>(iss: &'a str, client: Option<&'a str>, jti: &'a str) -> ReplayEntry<'a> {
        ReplayEntry {
            kind: AssertionKind::Grant,
            issuer: iss,
            client,
            jti,
        }
    }

    fn check(
        s: &MemoryReplayStore,
        iss: &str,
        jti: &str,
        exp: i64,
        now: i64,
    ) -> Result<Seen, ReplayStoreError> {
        s.check_sync(grant(iss, None, jti), exp, now)
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
        assert_eq!(check(&s, "ab", "c", 100, 0), Ok(Seen::Fresh));
        assert_eq!(check(&s, "a", "bc", 100, 0), Ok(Seen::Fresh));
    }

    #[test]
    fn kinds_are_separate_namespaces() {
        let s = MemoryReplayStore::new(10);
        let auth = ReplayEntry {
            kind: AssertionKind::ClientAuth,
            issuer: "a",
            client: Some("a"),
            jti: "1",
        };
        assert_eq!(s.check_sync(grant("a", None, "1"), 100, 0), Ok(Seen::Fresh));
        assert_eq!(s.check_sync(auth, 100, 0), Ok(Seen::Fresh));
        assert_eq!(s.check_sync(auth, 100, 1), Ok(Seen::Replayed));
    }

    #[test]
    fn full_store_refuses_rather_than_forgets() {
        let s = MemoryReplayStore::with_quotas(2, 10, 10);
        assert_eq!(check(&s, "a", "1", 100, 0), Ok(Seen::Fresh));
        assert_eq!(check(&s, "a", "2", 50, 0), Ok(Seen::Fresh));
        assert!(check(&s, "a", "3", 100, 0).is_err());
        assert_eq!(check(&s, "a", "1", 100, 1), Ok(Seen::Replayed));
        // Once one entry expires there is room again.
        assert_eq!(check(&s, "a", "3", 100, 50), Ok(Seen::Fresh));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn one_issuer_or_client_cannot_starve_the_others() {
        let s = MemoryReplayStore::fair(8, 2, 2);
        assert_eq!((s.per_issuer(), s.per_client()), (2, 2));
        assert_eq!(
            s.check_sync(grant("a", Some("x"), "1"), 100, 0),
            Ok(Seen::Fresh)
        );
        assert_eq!(
            s.check_sync(grant("a", Some("y"), "2"), 100, 0),
            Ok(Seen::Fresh)
        );
        // Issuer a is at its quota, whichever client asks; issuer b is not.
        assert_eq!(
            s.check_sync(grant("a", Some("y"), "3"), 100, 0),
            Ok(Seen::OverQuota)
        );
        assert_eq!(
            s.check_sync(grant("b", Some("x"), "1"), 100, 0),
            Ok(Seen::Fresh)
        );
        // Client x is at its quota now (two entries), client y has one left.
        assert_eq!(
            s.check_sync(grant("b", Some("x"), "2"), 100, 0),
            Ok(Seen::OverQuota)
        );
        assert_eq!(
            s.check_sync(grant("b", Some("y"), "2"), 100, 0),
            Ok(Seen::Fresh)
        );
        // A replay is still a replay at quota.
        assert_eq!(
            s.check_sync(grant("a", Some("x"), "1"), 100, 1),
            Ok(Seen::Replayed)
        );
        // Expiry gives the quota back.
        assert_eq!(
            s.check_sync(grant("a", Some("z"), "3"), 200, 100),
            Ok(Seen::Fresh)
        );
        assert_eq!(s.len(), 1);
    }
}
