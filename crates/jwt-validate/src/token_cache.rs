//! The opt-in cache of already-verified tokens (after Envoy's `jwt_authn` JWT cache).
//!
//! A service that sees the same bearer token on many requests pays for its signature once.
//! Keyed by a keyed hash of the whole token, and an entry only matches the exact same token
//! (the stored token is compared byte for byte, so a hash collision is a miss, never a false
//! hit). On every hit the claims policy runs again with the current time (`exp`, `nbf`,
//! `iat`, `max_age`), and the entry is used only while the key source still holds the very
//! key set the token verified against: after a rotation or refresh the next use validates
//! fully again, so a key that left the set verifies nothing from the cache.
//!
//! Bounded: at most `capacity` entries, each at most the validator's token size limit; when
//! full, expired entries go first, then an arbitrary one.

use core::hash::BuildHasher;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use jwk_core::{Claims, Header};

use crate::source::KeySet;

/// The cache a [`crate::Validator`] consults first when built with
/// [`crate::ValidatorBuilder::verified_token_cache`].
#[derive(Debug)]
pub(crate) struct TokenCache {
    capacity: usize,
    hasher: RandomState,
    entries: Mutex<HashMap<u64, Entry>>,
}

#[derive(Debug)]
struct Entry {
    token: Box<str>,
    header: Arc<Header>,
    claims: Claims<'static>,
    /// The route the token took (`None`: the default key source).
    route: Option<usize>,
    /// The key set it verified against; weak, so the cache keeps no retired keys alive (and
    /// the allocation, hence the address compared, is not reused while this exists).
    set: Weak<KeySet>,
}

/// What a hit hands back: the stored header and claims, and the route to re-check them with.
pub(crate) struct Hit {
    pub(crate) header: Arc<Header>,
    pub(crate) claims: Claims<'static>,
    pub(crate) route: Option<usize>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            hasher: RandomState::new(),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for exactly `token`, if the key source still holds the set it verified
    /// against (`current` maps a route to that source's current set). A stale entry is
    /// removed.
    pub(crate) fn get(
        &self,
        token: &str,
        current: impl FnOnce(Option<usize>) -> Option<Arc<KeySet>>,
    ) -> Option<Hit> {
        let key = self.hasher.hash_one(token);
        let mut entries = self.lock();
        let entry = entries.get(&key)?;
        if &*entry.token != token {
            return None;
        }
        let fresh = current(entry.route)
            .is_some_and(|set| core::ptr::eq(entry.set.as_ptr(), Arc::as_ptr(&set)));
        if !fresh {
            entries.remove(&key);
            return None;
        }
        Some(Hit {
            header: entry.header.clone(),
            claims: entry.claims.clone(),
            route: entry.route,
        })
    }

    /// Remembers a token that just verified against `set` and passed the claims policy.
    pub(crate) fn insert(
        &self,
        token: &str,
        header: &Arc<Header>,
        claims: &Claims<'static>,
        route: Option<usize>,
        set: &Arc<KeySet>,
        now_secs: i64,
    ) {
        if self.capacity == 0 {
            return;
        }
        let key = self.hasher.hash_one(token);
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, e| e.claims.exp.is_none_or(|exp| exp.secs() > now_secs));
            if entries.len() >= self.capacity {
                if let Some(victim) = entries.keys().next().copied() {
                    entries.remove(&victim);
                }
            }
        }
        entries.insert(
            key,
            Entry {
                token: token.into(),
                header: Arc::clone(header),
                claims: claims.clone(),
                route,
                set: Arc::downgrade(set),
            },
        );
    }

    /// Entries held now.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        // A panic while holding the lock cannot leave a half-written map (each operation is
        // one insert or remove), so a poisoned lock is still usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use core::sync::atomic::{AtomicU64, Ordering};
    use core::time::Duration;
    use std::sync::{Arc, Mutex};

    use jwk_core::{Algorithm, JwkSet};
    use jws_crypto::{KeyPolicy, Signer};

    use crate::{Clock, KeySet, KeySource, Lookup, RefreshFuture, Validator};

    const NOW: u64 = 1_700_000_000;

    #[derive(Debug, Clone)]
    struct StepClock(Arc<AtomicU64>);

    impl Clock for StepClock {
        fn now(&self) -> Duration {
            Duration::from_secs(self.0.load(Ordering::SeqCst))
        }
    }

    /// A key source whose set the test swaps (a rotation).
    #[derive(Debug)]
    struct Swappable(Mutex<Arc<KeySet>>);

    impl KeySource for Swappable {
        fn cached(&self) -> Option<Arc<KeySet>> {
            Some(self.0.lock().unwrap().clone())
        }
        fn refresh<'a>(&'a self, _lookup: Lookup<'a>) -> RefreshFuture<'a> {
            let set = self.0.lock().unwrap().clone();
            Box::pin(core::future::ready(Ok(set)))
        }
    }

    fn key(kid: &str) -> (Arc<dyn Signer>, jwk_core::Jwk) {
        let (signer, _) = jws_crypto::default_provider()
            .generate(Algorithm::Es256, 0)
            .unwrap();
        let mut jwk = signer.public_jwk();
        jwk.kid = Some(kid.into());
        (signer, jwk)
    }

    fn token(signer: &Arc<dyn Signer>, kid: &str, claims: &str) -> String {
        let header = format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#);
        let input = format!(
            "{}.{}",
            jwk_core::b64::encode(header.as_bytes()),
            jwk_core::b64::encode(claims.as_bytes())
        );
        let sig = signer.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", jwk_core::b64::encode(&sig))
    }

    fn key_set(jwks: Vec<jwk_core::Jwk>) -> Arc<KeySet> {
        Arc::new(KeySet::from_jwks(
            &JwkSet::new(jwks),
            jws_crypto::default_provider(),
            &KeyPolicy::default(),
        ))
    }

    struct Fixture {
        validator: Validator,
        clock: Arc<AtomicU64>,
        source: Arc<Swappable>,
        signer: Arc<dyn Signer>,
    }

    fn fixture(capacity: usize) -> Fixture {
        let (signer, jwk) = key("a");
        let source = Arc::new(Swappable(Mutex::new(key_set(vec![jwk]))));
        let clock = Arc::new(AtomicU64::new(NOW));
        let validator = Validator::builder()
            .shared_key_source(source.clone())
            .issuer("iss")
            .clock(StepClock(clock.clone()))
            .verified_token_cache(capacity)
            .build()
            .unwrap();
        Fixture {
            validator,
            clock,
            source,
            signer,
        }
    }

    fn code(r: Result<crate::Verified, crate::Error>) -> &'static str {
        r.map_or_else(|e| e.code(), |_| "ok")
    }

    #[test]
    fn a_repeated_token_is_served_from_the_cache_with_the_same_claims() {
        let f = fixture(8);
        let t = token(&f.signer, "a", r#"{"iss":"iss","exp":1700000100,"n":1}"#);
        let first = f.validator.validate(&t).unwrap();
        assert_eq!(f.validator.cached_tokens(), 1);
        let again = f.validator.validate(&t).unwrap();
        assert_eq!(again.claims(), first.claims());
        assert_eq!(again.header(), first.header());
        assert_eq!(f.validator.cached_tokens(), 1);
        // Another token with the same header and claims, signed by an impostor's key, is
        // validated on its own.
        let (impostor, _) = key("a");
        let forged = token(&impostor, "a", r#"{"iss":"iss","exp":1700000100,"n":1}"#);
        assert_eq!(code(f.validator.validate(&forged)), "bad_signature");
    }

    #[test]
    fn time_and_claims_are_checked_again_on_every_hit() {
        let f = fixture(8);
        let t = token(&f.signer, "a", r#"{"iss":"iss","exp":1700000100}"#);
        assert_eq!(code(f.validator.validate(&t)), "ok");
        f.clock.store(NOW + 100 + 60, Ordering::SeqCst);
        assert_eq!(code(f.validator.validate(&t)), "expired");
        f.clock.store(NOW, Ordering::SeqCst);
        assert_eq!(code(f.validator.validate(&t)), "ok");
    }

    #[test]
    fn an_entry_dies_when_its_key_leaves_the_set() {
        let f = fixture(8);
        let t = token(&f.signer, "a", r#"{"iss":"iss","exp":1700000100}"#);
        assert_eq!(code(f.validator.validate(&t)), "ok");
        let (_, other) = key("b");
        *f.source.0.lock().unwrap() = key_set(vec![other]);
        assert_eq!(code(f.validator.validate(&t)), "key_not_found");
        assert_eq!(f.validator.cached_tokens(), 0);
    }

    #[test]
    fn a_new_set_that_keeps_the_key_revalidates_once() {
        let f = fixture(8);
        let t = token(&f.signer, "a", r#"{"iss":"iss","exp":1700000100}"#);
        assert_eq!(code(f.validator.validate(&t)), "ok");
        let jwk = f.source.cached().unwrap().jwks().keys[0].clone();
        let (_, other) = key("b");
        *f.source.0.lock().unwrap() = key_set(vec![jwk, other]);
        assert_eq!(code(f.validator.validate(&t)), "ok");
        assert_eq!(f.validator.cached_tokens(), 1);
    }

    #[test]
    fn the_cache_is_bounded() {
        let f = fixture(2);
        for n in 0..5 {
            let t = token(
                &f.signer,
                "a",
                &format!(r#"{{"iss":"iss","exp":1700000100,"n":{n}}}"#),
            );
            assert_eq!(code(f.validator.validate(&t)), "ok");
            assert!(f.validator.cached_tokens() <= 2);
        }
        assert_eq!(f.validator.cached_tokens(), 2);
    }

    #[test]
    fn refusals_are_not_cached_and_off_means_off() {
        let f = fixture(8);
        let t = token(&f.signer, "a", r#"{"iss":"other","exp":1700000100}"#);
        assert_eq!(code(f.validator.validate(&t)), "issuer_mismatch");
        assert_eq!(f.validator.cached_tokens(), 0);
        let off = fixture(0);
        let t = token(&off.signer, "a", r#"{"iss":"iss","exp":1700000100}"#);
        assert_eq!(code(off.validator.validate(&t)), "ok");
        assert_eq!(off.validator.cached_tokens(), 0);
    }

    #[test]
    fn validate_async_uses_and_fills_the_cache() {
        let f = fixture(8);
        let t = token(&f.signer, "a", r#"{"iss":"iss","exp":1700000100}"#);
        assert_eq!(code(block_on(f.validator.validate_async(&t))), "ok");
        assert_eq!(f.validator.cached_tokens(), 1);
        assert_eq!(code(block_on(f.validator.validate_async(&t))), "ok");
    }

    /// Polls a future that never waits (the swappable source answers at once).
    fn block_on<F: core::future::Future>(fut: F) -> F::Output {
        use core::task::{Context, Poll, Waker};
        let mut fut = core::pin::pin!(fut);
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..100 {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
        }
        panic!("the future kept waiting");
    }
}
