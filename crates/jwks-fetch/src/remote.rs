//! The cache: one remote key set, kept fresh in the background, served without waiting.

use core::fmt;
use core::time::Duration;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwapOption;
use jwk_core::JwkSet;
use jws_crypto::{KeyPolicy, Provider};
use jwt_validate::{KeySet, KeySource, Lookup, RefreshFuture, SourceError, SourceErrorKind};
use tokio::sync::{broadcast, watch, Notify};

mod backoff;
mod cache_config;
mod negative_cache;
mod single_flight;
mod stats;

pub use cache_config::CacheConfig;
pub use stats::{Event, Health, Stats};

use backoff::later;
use negative_cache::Negative;
use single_flight::{wait, Flight, FlightGuard, Outcome};

use crate::clock::{system_now, SleepClock};
use crate::config::FetchConfig;
use crate::diff::KeySetDiff;
use crate::error::{source_error, FetchError};
use crate::fetch::{Conditional, DiscoveryKind, Fetcher, JwksResponse};
use jwt_validate::SystemClock;

/// A remote JWK Set behind a cache; implements [`KeySource`] for `jwt-validate`.
///
/// Cheap to clone (clones share the cache). The background refresher stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct RemoteJwks {
    inner: Arc<Inner>,
    _stop: Arc<StopOnDrop>,
}

/// Builds a [`RemoteJwks`].
#[derive(Debug)]
pub struct RemoteJwksBuilder {
    location: Location,
    fetch: FetchConfig,
    cache: CacheConfig,
    clock: Arc<dyn SleepClock>,
    provider: Option<&'static Provider>,
    key_policy: KeyPolicy,
    runtime: Option<tokio::runtime::Handle>,
}

impl RemoteJwksBuilder {
    /// Fetch settings. Default [`FetchConfig::default`].
    pub fn fetch_config(mut self, cfg: FetchConfig) -> Self {
        self.fetch = cfg;
        self
    }
    /// Cache settings. Default [`CacheConfig::default`].
    pub fn cache_config(mut self, cfg: CacheConfig) -> Self {
        self.cache = cfg;
        self
    }
    /// The clock: `jwt-validate`'s [`jwt_validate::Clock`] plus sleeping ([`SleepClock`]).
    /// Pass an `Arc` to share one clock with a validator or an issuer. Default
    /// [`SystemClock`].
    pub fn clock(mut self, clock: impl SleepClock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
    /// The crypto backend keys are imported with. Default [`jws_crypto::default_provider`].
    pub fn provider(mut self, provider: &'static Provider) -> Self {
        self.provider = Some(provider);
        self
    }
    /// Key import policy (RSA size floor...). Default [`KeyPolicy::default`].
    pub fn key_policy(mut self, policy: KeyPolicy) -> Self {
        self.key_policy = policy;
        self
    }
    /// The tokio runtime fetches run on. Default: the runtime `build` is called in.
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// Builds the source. With [`CacheConfig::background`] on (the default) the first fetch
    /// starts at once on the runtime; otherwise on first use or [`RemoteJwks::tick`]. Fails on
    /// an unusable URL or CA file, or without a tokio runtime (no I/O happens here).
    pub fn build(self) -> Result<RemoteJwks, FetchError> {
        let runtime = match self.runtime {
            Some(h) => h,
            None => tokio::runtime::Handle::try_current().map_err(|_| FetchError::Runtime)?,
        };
        let (name, jwks_uri) = match &self.location {
            Location::Url(u) => (u.clone(), Some(u.clone())),
            Location::Discovery { issuer, .. } => (issuer.clone(), None),
        };
        let fetcher = Fetcher::new(self.fetch)?;
        // Fail at build time on a URL that can never be fetched.
        let probe = jwks_uri.clone().unwrap_or_else(|| name.clone());
        let target = crate::url::Target::parse(&probe)?;
        if !(target.https || fetcher.config().allow_http_loopback && target.is_loopback_host()) {
            return Err(FetchError::InsecureUrl { url: probe.into() });
        }
        let mut seed = core::hash::BuildHasher::hash_one(
            &std::collections::hash_map::RandomState::new(),
            system_now(&*self.clock),
        );
        seed |= 1;
        let inner = Arc::new(Inner {
            name,
            location: self.location,
            fetcher,
            provider: self.provider.unwrap_or_else(jws_crypto::default_provider),
            key_policy: self.key_policy,
            cfg: self.cache,
            clock: self.clock,
            runtime,
            current: ArcSwapOption::empty(),
            state: Mutex::new(State {
                jwks_uri,
                rng: seed,
                ..State::default()
            }),
            events: broadcast::channel(64).0,
            wake: Arc::new(Notify::new()),
        });
        let stop = Arc::new(StopOnDrop(Arc::new(Notify::new())));
        if inner.cfg.background {
            let weak = Arc::downgrade(&inner);
            let wake = inner.wake.clone();
            let clock = inner.clock.clone();
            let stop_rx = stop.0.clone();
            inner.runtime.spawn(background(weak, wake, clock, stop_rx));
        }
        Ok(RemoteJwks { inner, _stop: stop })
    }
}

impl RemoteJwks {
    /// A source for a JWKS URL (https; http only for loopback with
    /// [`FetchConfig::allow_http_loopback`]).
    pub fn builder(jwks_url: impl Into<String>) -> RemoteJwksBuilder {
        RemoteJwksBuilder::new(Location::Url(jwks_url.into()))
    }

    /// A source whose JWKS URL comes from the issuer's metadata (OpenID Connect Discovery or
    /// RFC 8414), whose `issuer` must equal `issuer` exactly.
    pub fn discover(issuer: impl Into<String>, kind: DiscoveryKind) -> RemoteJwksBuilder {
        RemoteJwksBuilder::new(Location::Discovery {
            issuer: issuer.into(),
            kind,
        })
    }

    /// Keys held now, if usable (fresh, or stale within the max staleness). Never does I/O.
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        // The hot path: one `ArcSwap` load and one reference count, as `StaticKeys` has.
        let guard = self.inner.current.load();
        let loaded = guard.as_ref()?;
        if self.inner.clock.monotonic() > loaded.unusable_after {
            return None;
        }
        Some(loaded.keys.clone())
    }

    /// The JWK Set held now, if usable.
    pub fn jwks(&self) -> Option<Arc<JwkSet>> {
        self.inner.usable().map(|l| l.jwks.clone())
    }

    /// Loads the keys if none are held (sharing any fetch in flight, ignoring backoff: for
    /// start-up checks and tools); returns them.
    pub async fn load(&self) -> Result<Arc<KeySet>, FetchError> {
        if let Some(k) = self.keys() {
            return Ok(k);
        }
        let outcome = self.inner.clone().fetch(Kind::Initial).await;
        match self.keys() {
            Some(k) => Ok(k),
            // A successful fetch always leaves usable keys (its staleness deadline is at or
            // after now), so the fallback is for a clock that jumped meanwhile.
            None => Err(outcome.err().unwrap_or(FetchError::Timeout {
                phase: "load",
                limit: Duration::ZERO,
            })),
        }
    }

    /// Fetches now with `Cache-Control: no-cache`, ignoring cooldown and backoff (an
    /// operator's request; never called by validation).
    pub async fn refresh_now(&self) -> Result<(), FetchError> {
        self.inner.clone().fetch(Kind::Manual).await
    }

    /// Runs the scheduled refresh if it is due (what the background task does); `None` when
    /// nothing was due.
    pub async fn tick(&self) -> Option<Result<(), FetchError>> {
        let due = self.inner.next_due()?;
        if self.inner.clock.monotonic() < due {
            return None;
        }
        Some(self.inner.clone().fetch(Kind::Scheduled).await)
    }

    /// Time until the next scheduled refresh (zero when due); `None` while a fetch runs.
    pub fn next_refresh_in(&self) -> Option<Duration> {
        let due = self.inner.next_due()?;
        Some(due.saturating_duration_since(self.inner.clock.monotonic()))
    }

    /// Counters and state.
    pub fn stats(&self) -> Stats {
        let st = self.inner.lock();
        self.inner.stats_locked(&st)
    }

    /// Fresh, stale or unavailable.
    pub fn health(&self) -> Health {
        self.inner.health()
    }

    /// Events after each fetch attempt (a slow receiver loses the oldest; see
    /// [`broadcast::Receiver`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }
}

impl fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJwks")
            .field("source", &self.inner.name)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

impl KeySource for RemoteJwks {
    fn cached(&self) -> Option<Arc<KeySet>> {
        self.keys()
    }

    fn refresh<'a>(&'a self, lookup: Lookup<'a>) -> RefreshFuture<'a> {
        Box::pin(self.inner.clone().refresh_for(lookup))
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Location {
    Url(String),
    Discovery { issuer: String, kind: DiscoveryKind },
}

impl RemoteJwksBuilder {
    fn new(location: Location) -> Self {
        RemoteJwksBuilder {
            location,
            fetch: FetchConfig::default(),
            cache: CacheConfig::default(),
            clock: Arc::new(SystemClock),
            provider: None,
            key_policy: KeyPolicy::default(),
            runtime: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nothing usable held.
    Initial,
    /// Refresh ahead of expiry, or retry after a failure.
    Scheduled,
    /// An unknown `kid` (or a token without one): cooldown applies, sends `no-cache`.
    Forced,
    /// [`RemoteJwks::refresh_now`].
    Manual,
}

struct Loaded {
    jwks: Arc<JwkSet>,
    keys: Arc<KeySet>,
    expires_at: Instant,
    refresh_at: Instant,
    unusable_after: Instant,
}

#[derive(Default)]
struct Counters {
    fetches: u64,
    updates: u64,
    not_modified: u64,
    failures: u64,
    forced: u64,
    cooldown_skips: u64,
    negative_hits: u64,
}

#[derive(Default)]
struct State {
    jwks_uri: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
    flight: Option<Flight>,
    last_forced: Option<Instant>,
    retry_at: Option<Instant>,
    consecutive_failures: u32,
    last_error: Option<FetchError>,
    last_error_at: Option<SystemTime>,
    last_success: Option<SystemTime>,
    last_diff: Option<KeySetDiff>,
    negative: Negative,
    counters: Counters,
    rng: u64,
}

struct Inner {
    name: String,
    location: Location,
    fetcher: Fetcher,
    provider: &'static Provider,
    key_policy: KeyPolicy,
    cfg: CacheConfig,
    clock: Arc<dyn SleepClock>,
    runtime: tokio::runtime::Handle,
    current: ArcSwapOption<Loaded>,
    state: Mutex<State>,
    events: broadcast::Sender<Event>,
    wake: Arc<Notify>,
}

struct StopOnDrop(Arc<Notify>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (plain fields), so a poisoned lock is
        // still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The held set if within max staleness.
    fn usable(&self) -> Option<Arc<Loaded>> {
        let guard = self.current.load();
        let loaded = guard.as_ref()?;
        if self.clock.monotonic() > loaded.unusable_after {
            return None;
        }
        Some(loaded.clone())
    }

    fn health(&self) -> Health {
        let now = self.clock.monotonic();
        match self.current.load().as_ref() {
            Some(l) if now <= l.expires_at => Health::Fresh,
            Some(l) if now <= l.unusable_after => Health::Stale,
            _ => Health::Unavailable,
        }
    }

    fn next_due(&self) -> Option<Instant> {
        let st = self.lock();
        if st.flight.is_some() {
            return None;
        }
        let now = self.clock.monotonic();
        let base = match self.current.load().as_ref() {
            Some(l) => l.refresh_at,
            None => now,
        };
        Some(st.retry_at.map_or(base, |r| r.max(base)))
    }

    /// Validation asks again: `lookup` says why.
    async fn refresh_for(self: Arc<Self>, lookup: Lookup<'_>) -> Result<Arc<KeySet>, SourceError> {
        let (kind, kid) = match lookup {
            Lookup::UnknownKid(k) => (Kind::Forced, Some(k)),
            Lookup::NoKid => (Kind::Forced, None),
            _ => (Kind::Initial, None),
        };
        for round in 0..2 {
            let joined_other;
            // Another fetch may have landed since the caller looked.
            if let Some(l) = self.usable() {
                match (kind, kid) {
                    (Kind::Initial, _) => return Ok(l.keys.clone()),
                    (_, Some(k)) if l.keys.contains_kid(k) => return Ok(l.keys.clone()),
                    _ => {}
                }
            }
            let rx = {
                let mut st = self.lock();
                let now = self.clock.monotonic();
                match &st.flight {
                    Some(f) => {
                        joined_other = f.kind == Kind::Scheduled;
                        f.rx.clone()
                    }
                    None => {
                        if let Some(retry_at) = st.retry_at.filter(|r| *r > now) {
                            return Err(unavailable(&st, retry_at.saturating_duration_since(now)));
                        }
                        if kind == Kind::Forced {
                            if let Some(k) = kid {
                                if st.negative.contains(k, now) {
                                    st.counters.negative_hits += 1;
                                    return self.current_or_err(&st);
                                }
                            }
                            if st
                                .last_forced
                                .is_some_and(|t| now < later(t, self.cfg.cooldown))
                            {
                                st.counters.cooldown_skips += 1;
                                return self.current_or_err(&st);
                            }
                            st.last_forced = Some(now);
                            st.counters.forced += 1;
                        }
                        joined_other = false;
                        self.start(&mut st, kind)
                    }
                }
            };
            let outcome = wait(rx).await;
            if joined_other && round == 0 && kind == Kind::Forced {
                // A scheduled refresh (no `no-cache`) answered; if the kid is still unknown,
                // a forced fetch may follow, within the cooldown rules.
                continue;
            }
            return self.finish_lookup(kid, outcome);
        }
        let st = self.lock();
        self.current_or_err(&st)
    }

    fn finish_lookup(
        &self,
        kid: Option<&str>,
        outcome: Result<(), FetchError>,
    ) -> Result<Arc<KeySet>, SourceError> {
        match outcome {
            Ok(()) => match self.usable() {
                Some(l) => {
                    if let Some(k) = kid {
                        if !l.keys.contains_kid(k) {
                            let until = later(self.clock.monotonic(), self.cfg.negative_ttl);
                            let mut st = self.lock();
                            st.negative.insert(k, until, self.cfg.negative_capacity);
                        }
                    }
                    Ok(l.keys.clone())
                }
                None => Err(SourceError::new(SourceErrorKind::NotLoaded, "no keys held")),
            },
            Err(e) => {
                let st = self.lock();
                let retry = st
                    .retry_at
                    .map(|r| r.saturating_duration_since(self.clock.monotonic()));
                Err(source_error(&e, retry))
            }
        }
    }

    fn current_or_err(&self, st: &State) -> Result<Arc<KeySet>, SourceError> {
        match self.usable() {
            Some(l) => Ok(l.keys.clone()),
            None => Err(match &st.last_error {
                Some(e) => source_error(e, None),
                None => SourceError::new(SourceErrorKind::NotLoaded, "no keys held"),
            }),
        }
    }

    /// Starts (or joins) a fetch of `kind` and waits for it.
    async fn fetch(self: Arc<Self>, kind: Kind) -> Result<(), FetchError> {
        let rx = {
            let mut st = self.lock();
            match &st.flight {
                Some(f) => f.rx.clone(),
                None => self.start(&mut st, kind),
            }
        };
        wait(rx).await
    }

    fn start(self: &Arc<Self>, st: &mut State, kind: Kind) -> watch::Receiver<Outcome> {
        let (tx, rx) = watch::channel(None);
        st.flight = Some(Flight {
            kind,
            rx: rx.clone(),
        });
        st.counters.fetches += 1;
        let conditional = Conditional {
            etag: st.etag.clone(),
            last_modified: st.last_modified.clone(),
            no_cache: matches!(kind, Kind::Forced | Kind::Manual),
        };
        let uri = st.jwks_uri.clone();
        let guard = FlightGuard {
            inner: self.clone(),
            tx,
        };
        // The fetch runs on its own task: a caller that gives up (timeout, cancelled request)
        // does not cancel it for the others waiting.
        self.runtime.spawn(async move {
            let result = guard.inner.run(uri, conditional).await;
            let outcome = guard.inner.apply(kind, result);
            guard.finish(outcome);
        });
        rx
    }

    async fn run(
        &self,
        uri: Option<String>,
        mut conditional: Conditional,
    ) -> Result<JwksResponse, FetchError> {
        let uri = match (uri, &self.location) {
            (Some(u), _) => u,
            (None, Location::Discovery { issuer, kind }) => {
                let meta = self.fetcher.discover(issuer, *kind).await?;
                tracing::info!(issuer = %issuer, jwks_uri = %meta.jwks_uri, "discovered JWKS URL");
                self.lock().jwks_uri = Some(meta.jwks_uri.clone());
                meta.jwks_uri
            }
            (None, Location::Url(u)) => u.clone(),
        };
        if self.current.load().is_none() {
            // Nothing held: a 304 would leave us with nothing.
            conditional.etag = None;
            conditional.last_modified = None;
        }
        tracing::debug!(source = %self.name, url = %uri, "fetching JWKS");
        self.fetcher.fetch_jwks(&uri, &conditional).await
    }

    /// Applies a fetch result to the cache; never replaces a good set with a bad document.
    fn apply(
        &self,
        kind: Kind,
        result: Result<JwksResponse, FetchError>,
    ) -> Result<(), FetchError> {
        let now = self.clock.monotonic();
        let sys = system_now(&*self.clock);
        let old = self.current.load_full();
        let result = result.and_then(|resp| match resp {
            JwksResponse::Fetched(f) => {
                let keys = KeySet::from_jwks(&f.jwks, self.provider, &self.key_policy);
                if keys.is_empty() && !f.jwks.keys.is_empty() {
                    let first = keys.import_failures().first().map_or("import", |x| x.code);
                    return Err(FetchError::NoUsableKeys {
                        rejected: f.jwks.keys.len(),
                        first_reason: first,
                    });
                }
                Ok((Some((f, keys)), None))
            }
            JwksResponse::NotModified { freshness } => match &old {
                Some(_) => Ok((None, Some(freshness))),
                None => Err(FetchError::HttpStatus { status: 304 }),
            },
        });
        let mut st = self.lock();
        let event;
        let outcome = match result {
            Ok((Some((f, keys)), _)) => {
                let ttl = f
                    .freshness
                    .ttl(self.cfg.default_ttl, self.cfg.min_ttl, self.cfg.max_ttl);
                let diff = KeySetDiff::between(old.as_ref().map(|l| &*l.jwks), &f.jwks);
                self.log_diff(&diff, old.as_deref(), &f.jwks, keys.len());
                for r in &f.jwks.rejected {
                    tracing::warn!(source = %self.name, index = r.index, kid = ?r.kid, code = r.reason.code(), reason = %r.reason, "JWKS entry set aside");
                }
                for r in keys.import_failures() {
                    tracing::warn!(source = %self.name, index = r.index, code = r.code, reason = %r.message, "JWKS key did not import");
                }
                self.current.store(Some(Arc::new(self.loaded(
                    Arc::new(f.jwks),
                    Arc::new(keys),
                    now,
                    ttl,
                ))));
                st.etag = f.etag;
                st.last_modified = f.last_modified;
                st.negative.remove_all(&diff.added);
                st.negative.remove_all(&diff.changed);
                st.counters.updates += 1;
                if !diff.is_empty() {
                    st.last_diff = Some(diff.clone());
                }
                self.succeeded(&mut st, sys);
                event = EventKind::Updated(diff);
                Ok(())
            }
            Ok((None, freshness)) => {
                let freshness = freshness.unwrap_or(crate::caching::Freshness::Unspecified);
                let ttl = freshness.ttl(self.cfg.default_ttl, self.cfg.min_ttl, self.cfg.max_ttl);
                if let Some(o) = &old {
                    self.current.store(Some(Arc::new(self.loaded(
                        o.jwks.clone(),
                        o.keys.clone(),
                        now,
                        ttl,
                    ))));
                }
                tracing::debug!(source = %self.name, ttl_s = ttl.as_secs(), "JWKS not modified");
                st.counters.not_modified += 1;
                self.succeeded(&mut st, sys);
                event = EventKind::NotModified;
                Ok(())
            }
            Err(e) => {
                st.counters.failures += 1;
                st.consecutive_failures = st.consecutive_failures.saturating_add(1);
                let delay = self
                    .backoff(&mut st)
                    .max(e.retry_after().unwrap_or_default());
                st.retry_at = Some(later(now, delay));
                if matches!(self.location, Location::Discovery { .. })
                    && matches!(e, FetchError::HttpStatus { status: 404 | 410 })
                {
                    // The JWKS URL is gone: ask the metadata again on the next attempt.
                    st.jwks_uri = None;
                }
                st.last_error = Some(e.clone());
                st.last_error_at = Some(sys);
                tracing::warn!(
                    source = %self.name,
                    code = e.code(),
                    error = %e,
                    kind = ?kind,
                    consecutive_failures = st.consecutive_failures,
                    retry_in_ms = delay.as_millis() as u64,
                    serving_stale = old.is_some(),
                    "JWKS fetch failed; keeping the keys held"
                );
                event = EventKind::Failed(e.clone());
                Err(e)
            }
        };
        let stats = Box::new(self.stats_locked(&st));
        drop(st);
        let event = match event {
            EventKind::Updated(diff) => Event::Updated { diff, stats },
            EventKind::NotModified => Event::NotModified { stats },
            EventKind::Failed(error) => Event::Failed { error, stats },
        };
        // No receivers is fine.
        let _ = self.events.send(event);
        outcome
    }

    fn loaded(&self, jwks: Arc<JwkSet>, keys: Arc<KeySet>, now: Instant, ttl: Duration) -> Loaded {
        let expires_at = later(now, ttl);
        Loaded {
            jwks,
            keys,
            expires_at,
            refresh_at: expires_at
                .checked_sub(self.cfg.refresh_ahead.min(ttl / 2))
                .unwrap_or(now),
            unusable_after: later(expires_at, self.cfg.max_staleness),
        }
    }

    fn succeeded(&self, st: &mut State, sys: SystemTime) {
        st.consecutive_failures = 0;
        st.retry_at = None;
        st.last_success = Some(sys);
    }

    fn log_diff(&self, diff: &KeySetDiff, old: Option<&Loaded>, new: &JwkSet, usable: usize) {
        if new.keys.is_empty() && old.is_some_and(|o| !o.jwks.keys.is_empty()) {
            tracing::error!(
                source = %self.name,
                removed = ?diff.removed,
                "identity provider published an EMPTY key set after a good one: accepted, \
                 every token will be refused until keys are published again"
            );
        }
        if !diff.changed.is_empty() {
            tracing::error!(
                source = %self.name,
                changed = ?diff.changed,
                "key material changed under the same kid: check the identity provider"
            );
        }
        if diff.added.is_empty() && diff.removed.is_empty() {
            tracing::debug!(source = %self.name, keys = new.keys.len(), "JWKS unchanged");
        } else {
            tracing::info!(
                source = %self.name,
                added = ?diff.added,
                removed = ?diff.removed,
                keys = new.keys.len(),
                usable,
                "JWKS updated"
            );
        }
    }

    /// The delay before the next attempt after a failure ([`backoff::delay`]).
    fn backoff(&self, st: &mut State) -> Duration {
        backoff::delay(
            st.consecutive_failures,
            self.cfg.backoff_initial,
            self.cfg.backoff_max,
            &mut st.rng,
        )
    }

    fn stats_locked(&self, st: &State) -> Stats {
        let now = self.clock.monotonic();
        let current = self.current.load();
        let loaded = current.as_ref();
        Stats {
            source: self.name.clone(),
            jwks_uri: st.jwks_uri.clone(),
            requests: self.fetcher.requests_sent(),
            fetches: st.counters.fetches,
            updates: st.counters.updates,
            not_modified: st.counters.not_modified,
            failures: st.counters.failures,
            consecutive_failures: st.consecutive_failures,
            forced_refreshes: st.counters.forced,
            cooldown_skips: st.counters.cooldown_skips,
            negative_hits: st.counters.negative_hits,
            key_count: loaded.map_or(0, |l| l.keys.jwks().keys.len()),
            last_success: st.last_success,
            last_error: st.last_error.clone(),
            last_error_at: st.last_error_at,
            staleness: loaded.map(|l| now.saturating_duration_since(l.expires_at)),
            expires_in: loaded.map(|l| l.expires_at.saturating_duration_since(now)),
            retry_in: st.retry_at.map(|r| r.saturating_duration_since(now)),
            health: self.health(),
            last_diff: st.last_diff.clone(),
        }
    }
}

enum EventKind {
    Updated(KeySetDiff),
    NotModified,
    Failed(FetchError),
}

/// The source is backing off after failures: `backoff`, with the last failure as the cause.
fn unavailable(st: &State, retry_in: Duration) -> SourceError {
    let err = SourceError::new(
        SourceErrorKind::Backoff,
        match &st.last_error {
            Some(e) => format!("JWKS fetch backing off after: {e} ({})", e.code()),
            None => "JWKS fetch backing off".into(),
        },
    )
    .with_retry_after(Some(retry_in));
    match &st.last_error {
        Some(e) => err.with_source(e.clone()),
        None => err,
    }
}

async fn background(
    weak: Weak<Inner>,
    wake: Arc<Notify>,
    clock: Arc<dyn SleepClock>,
    stop: Arc<Notify>,
) {
    loop {
        let due = match weak.upgrade() {
            Some(inner) => inner.next_due(),
            None => return,
        };
        let sleep = match due {
            Some(d) => clock.sleep_until(d),
            None => Box::pin(core::future::pending()),
        };
        tokio::select! {
            _ = stop.notified() => return,
            _ = wake.notified() => continue,
            _ = sleep => {}
        }
        let Some(inner) = weak.upgrade() else { return };
        let Some(due) = inner.next_due() else {
            continue;
        };
        if inner.clock.monotonic() >= due {
            let _ = inner.fetch(Kind::Scheduled).await;
        }
    }
}
