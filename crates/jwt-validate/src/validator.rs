//! The validator: built once, shared across threads, validating many tokens.

use core::time::Duration;
use std::sync::Arc;

use jwk_core::{Algorithm, Claims, Compact, Header, JwkSet, Limits, Part};
use jws_crypto::{KeyPolicy, Provider};
use serde::de::{Deserialize, DeserializeOwned};

use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Error};
use crate::policy::Policy;
use crate::select::{self, Miss};
use crate::source::{KeySet, KeySource, Lookup, SourceError, SourceErrorKind, StaticKeys};
use crate::token_cache::TokenCache;

/// A token whose signature verified and whose claims passed the policy.
///
/// The only constructors run after a [`jws_crypto::Verifier`] returned `Ok`.
#[derive(Debug, Clone)]
pub struct Verified<C = Claims<'static>> {
    /// Shared with the thread's recent headers (see `headers`): no copy per validation.
    header: Arc<Header>,
    claims: C,
}

impl<C> Verified<C> {
    /// The JOSE header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header's `alg`, which the key verified.
    pub fn alg(&self) -> Algorithm {
        self.header.alg
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The claims.
    pub fn claims(&self) -> &C {
        &self.claims
    }

    /// The claims, owned.
    pub fn into_claims(self) -> C {
        self.claims
    }

    /// Header and claims, owned (the header is copied if it is still shared).
    pub fn into_parts(self) -> (Header, C) {
        (Arc::unwrap_or_clone(self.header), self.claims)
    }
}

impl Verified<Claims<'static>> {
    /// The whole claims set deserialized into the caller's type (from the received bytes,
    /// which already passed the strict parse).
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(self.claims.deserialize_as()?)
    }
}

/// A JWS whose signature verified; the payload is not interpreted (no claims checks).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJws {
    /// The JOSE header.
    pub header: Header,
    /// The decoded payload.
    pub payload: Vec<u8>,
}

/// Builds a [`Validator`]. See [`Policy`] for every default.
#[derive(Debug)]
#[must_use]
pub struct ValidatorBuilder {
    policy: Policy,
    source: Option<PendingSource>,
    routes: Vec<(String, Arc<dyn KeySource>, Policy)>,
    provider: &'static Provider,
    key_policy: KeyPolicy,
    clock: Arc<dyn Clock>,
    limits: Limits,
    max_untagged: usize,
    token_cache: usize,
}

#[derive(Debug)]
enum PendingSource {
    Jwks(JwkSet),
    Keys(KeySet),
    Source(Arc<dyn KeySource>),
}

impl ValidatorBuilder {
    /// Static keys, imported with the builder's provider and key policy when `build` runs;
    /// `build` fails (`no_usable_keys`) when none imports.
    pub fn jwks(mut self, set: JwkSet) -> Self {
        self.source = Some(PendingSource::Jwks(set));
        self
    }

    /// Static keys, already imported; `build` fails (`no_usable_keys`) when the set holds no
    /// usable key.
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.source = Some(PendingSource::Keys(keys));
        self
    }

    /// Any key source (a remote fetcher, [`StaticKeys`], ...).
    pub fn key_source(self, source: impl KeySource + 'static) -> Self {
        self.shared_key_source(Arc::new(source))
    }

    /// A key source shared with other owners.
    pub fn shared_key_source(mut self, source: Arc<dyn KeySource>) -> Self {
        self.source = Some(PendingSource::Source(source));
        self
    }

    /// Multi-issuer: tokens whose (unverified) `iss` is `issuer` use `source` and `policy`;
    /// `iss` is checked again after the signature. Tokens matching no route use the default
    /// key source when there is one, else fail with `issuer_mismatch`.
    pub fn route(
        mut self,
        issuer: impl Into<String>,
        source: Arc<dyn KeySource>,
        policy: Policy,
    ) -> Self {
        self.routes.push((issuer.into(), source, policy));
        self
    }

    /// The crypto backend for [`Self::jwks`] and for the default algorithm list.
    /// Default: [`jws_crypto::default_provider`].
    pub fn provider(mut self, provider: &'static Provider) -> Self {
        self.provider = provider;
        self
    }

    /// Key import rules for [`Self::jwks`]. Default: [`KeyPolicy::default`].
    pub fn key_policy(mut self, policy: KeyPolicy) -> Self {
        self.key_policy = policy;
        self
    }

    /// Replaces the default policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// See [`Policy::algorithms`].
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.policy = self.policy.algorithms(algs);
        self
    }

    /// See [`Policy::issuer`].
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.policy = self.policy.issuer(iss);
        self
    }

    /// See [`Policy::audience`].
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.policy = self.policy.audience(aud);
        self
    }

    /// See [`Policy::dangerous_skip_audience_check`].
    pub fn dangerous_skip_audience_check(mut self) -> Self {
        self.policy = self.policy.dangerous_skip_audience_check();
        self
    }

    /// See [`Policy::subject`].
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.policy = self.policy.subject(sub);
        self
    }

    /// See [`Policy::typ`].
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.policy = self.policy.typ(typ);
        self
    }

    /// See [`Policy::require`].
    pub fn require(mut self, claim: impl Into<String>) -> Self {
        self.policy = self.policy.require(claim);
        self
    }

    /// See [`Policy::dangerous_allow_missing_exp`].
    pub fn dangerous_allow_missing_exp(mut self) -> Self {
        self.policy = self.policy.dangerous_allow_missing_exp();
        self
    }

    /// See [`Policy::leeway`]. Default 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.policy = self.policy.leeway(leeway);
        self
    }

    /// See [`Policy::max_age`].
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.policy = self.policy.max_age(max_age);
        self
    }

    /// See [`Policy::critical_extension`].
    pub fn critical_extension(mut self, name: impl Into<String>) -> Self {
        self.policy = self.policy.critical_extension(name);
        self
    }

    /// Where "now" comes from. Default: [`SystemClock`]. Pass an `Arc<C>` (or an
    /// `Arc<dyn Clock>`) to share one clock with other builders.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Size limits applied before decoding. Default: [`Limits::default`] (16 KiB).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How many keys a token without `kid` may be tried against. Default 5; a token that
    /// fits more keys than this is refused (`key_not_found`) rather than tried partially.
    pub fn max_untagged_candidates(mut self, n: usize) -> Self {
        self.max_untagged = n;
        self
    }

    /// Opt-in: remember up to `capacity` verified tokens, so that the same token presented
    /// again skips the signature (Envoy's JWT cache). Keyed by a keyed hash of the whole
    /// token, and an entry matches only that exact token; the claims policy (`exp`, `nbf`,
    /// `iat`, audience, issuer) runs again on every hit with the current time; an entry is
    /// used only while the key source still holds the key set the token verified against
    /// (after a refresh or rotation the token is validated fully again). Memory is bounded by
    /// `capacity` times the token size limit. Default: off (0).
    pub fn verified_token_cache(mut self, capacity: usize) -> Self {
        self.token_cache = capacity;
        self
    }

    /// Checks the configuration and builds the validator.
    pub fn build(self) -> Result<Validator, ConfigError> {
        let provider = self.provider;
        let default = match self.source {
            // The policy's errors first: they are the caller's, the keys' are the data's.
            Some(PendingSource::Jwks(set)) => Some(Route {
                issuer: None,
                policy: resolve(self.policy, provider)?,
                source: usable(KeySet::from_jwks(&set, provider, &self.key_policy))?,
            }),
            Some(PendingSource::Keys(keys)) => Some(Route {
                issuer: None,
                policy: resolve(self.policy, provider)?,
                source: usable(keys)?,
            }),
            Some(PendingSource::Source(source)) => Some(Route {
                issuer: None,
                source,
                policy: resolve(self.policy, provider)?,
            }),
            None => None,
        };
        let mut routes: Vec<Route> = Vec::with_capacity(self.routes.len());
        for (issuer, source, mut policy) in self.routes {
            if routes
                .iter()
                .any(|r| r.issuer.as_deref() == Some(issuer.as_str()))
            {
                return Err(ConfigError::DuplicateIssuer(issuer.into()));
            }
            if policy.issuers.is_empty() {
                policy.issuers.push(issuer.clone());
            } else if policy.issuers.iter().any(|i| *i != issuer) {
                return Err(ConfigError::RouteIssuerConflict(issuer.into()));
            }
            routes.push(Route {
                issuer: Some(issuer),
                source,
                policy: resolve(policy, provider)?,
            });
        }
        if default.is_none() && routes.is_empty() {
            return Err(ConfigError::NoKeySource);
        }
        Ok(Validator {
            inner: Arc::new(Inner {
                default,
                routes,
                clock: self.clock,
                limits: self.limits,
                max_untagged: self.max_untagged,
                cache: (self.token_cache > 0).then(|| TokenCache::new(self.token_cache)),
            }),
        })
    }
}

/// Static keys as a source, or `no_usable_keys` when none imported.
fn usable(keys: KeySet) -> Result<Arc<dyn KeySource>, ConfigError> {
    if !keys.is_empty() {
        return Ok(Arc::new(StaticKeys::new(keys)));
    }
    let import = keys.import_failures();
    let rejected = &keys.jwks().rejected;
    // Every parsed key failed to import (at least one failure each), and every rejected one
    // failed to parse: the keys set aside are all of them.
    let set_aside = keys.jwks().keys.len() + rejected.len();
    let first_reason = import
        .first()
        .map(|f| format!("{} ({})", f.message, f.code).into_boxed_str())
        .or_else(|| {
            rejected
                .first()
                .map(|r| format!("{} ({})", r.reason, r.reason.code()).into_boxed_str())
        });
    Err(ConfigError::NoUsableKeys {
        set_aside,
        first_reason,
    })
}

fn resolve(mut policy: Policy, provider: &'static Provider) -> Result<Policy, ConfigError> {
    match &policy.algorithms {
        Some(algs) => {
            if let Some(bad) = algs.iter().find(|a| !a.is_signature()) {
                return Err(ConfigError::ForbiddenAlgorithm(bad.as_str().into()));
            }
        }
        None => {
            let (supported, lacking) = Algorithm::SIGNATURE
                .iter()
                .filter(|a| !a.is_symmetric())
                .cloned()
                .partition(|a| provider.supports(*a));
            policy.algorithms = Some(supported);
            policy.backend_lacks = (lacking, provider.name);
        }
    }
    if policy.allowed().is_empty() {
        return Err(ConfigError::NoAlgorithms);
    }
    Ok(policy)
}

#[derive(Debug)]
struct Route {
    issuer: Option<String>,
    source: Arc<dyn KeySource>,
    policy: Policy,
}

#[derive(Debug)]
struct Inner {
    default: Option<Route>,
    routes: Vec<Route>,
    clock: Arc<dyn Clock>,
    limits: Limits,
    max_untagged: usize,
    cache: Option<TokenCache>,
}

/// Validates tokens against keys and a policy. Cheap to clone and share across threads.
///
/// Check order: structure and size, what selects the key and algorithm (`alg` allowed,
/// `crit`), key selection by `kid`, signature, then `typ` and the claims. A token badly signed
/// and expired, or badly signed with the wrong `typ`, is `bad_signature`; `alg` and `crit`
/// failures never reach the key source. With issuer routes, the payload is parsed before the
/// signature to read `iss`, so a malformed payload is reported before a bad signature.
#[derive(Debug, Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

/// A token split, routed, with its header past policy. The decoded payload is in the buffer
/// the caller lent to [`Validator::prepare`]; the signature in `s`.
struct Prepared<'t, 'v, 's> {
    compact: Compact<'t>,
    header: Arc<Header>,
    signature: Signature<'s>,
    route: &'v Route,
    claims: Option<Claims<'static>>,
}

/// Payload buffers up to this capacity are kept per thread by [`Validator::validate_as`]
/// (the default token size limit, 16 KiB, decodes to 12 KiB at most).
const KEPT_PAYLOAD: usize = 16 * 1024;

thread_local! {
    static PAYLOAD: core::cell::RefCell<Vec<u8>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// The largest signature decoded on the stack: RSA-4096 (RSA-8192 signatures, 1024 bytes, go
/// to the heap; a bigger buffer would be zeroed on every validation).
const INLINE_SIGNATURE: usize = 512;

impl Validator {
    /// A builder with every default.
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder {
            policy: Policy::default(),
            source: None,
            routes: Vec::new(),
            provider: jws_crypto::default_provider(),
            key_policy: KeyPolicy::default(),
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            max_untagged: 5,
            token_cache: 0,
        }
    }

    /// Validates `token` with the keys the source holds now (no I/O, no async runtime).
    /// A source that has loaded nothing yet gives `jwks_unavailable`.
    pub fn validate(&self, token: &str) -> Result<Verified<Claims<'static>>, Error> {
        if let Some(hit) = self.cache_hit(token) {
            return hit;
        }
        let mut payload = Vec::new();
        let mut sig = [0u8; INLINE_SIGNATURE];
        let prepared = self.prepare(token, true, &mut payload, &mut sig)?;
        let set = cached(prepared.route)?;
        self.verify_signature(&prepared, &set)
            .map_err(|m| m.error)?;
        self.finish_and_remember(token, prepared, payload, &set)
    }

    /// Like [`Self::validate`], with the claims deserialized into `T` (the caller's struct) in
    /// the same strict pass that reads the registered claims for the policy.
    ///
    /// The payload is decoded into a buffer kept per thread (an owned `T` never borrows it),
    /// so the only allocations are `T`'s own.
    pub fn validate_as<T: DeserializeOwned>(&self, token: &str) -> Result<Verified<T>, Error> {
        let reused = PAYLOAD.try_with(|buf| {
            let mut buf = buf.try_borrow_mut().ok()?;
            let result = self.validate_borrowed(token, &mut buf);
            if buf.capacity() > KEPT_PAYLOAD {
                // One large token does not pin its buffer for the thread's lifetime.
                *buf = Vec::new();
            }
            Some(result)
        });
        match reused {
            Ok(Some(result)) => result,
            // Thread-local storage being torn down, or `T`'s deserializer validating again
            // on this thread: a buffer of its own.
            _ => self.validate_borrowed(token, &mut Vec::new()),
        }
    }

    /// Like [`Self::validate_as`], with the payload decoded into `buf` (cleared first) and
    /// `T` free to borrow from it: with a buffer reused across calls and a claims type of
    /// `&str` fields, a validation allocates nothing (the header is shared from the thread's
    /// recent headers once seen).
    ///
    /// ```
    /// # fn demo(validator: &jwt_validate::Validator, token: &str) -> Result<(), jwt_validate::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Access<'a> {
    ///     sub: &'a str,
    ///     scope: &'a str,
    /// }
    /// let mut buf = Vec::new();
    /// let verified = validator.validate_borrowed::<Access<'_>>(token, &mut buf)?;
    /// println!("{} may {}", verified.claims().sub, verified.claims().scope);
    /// # Ok(()) }
    /// ```
    ///
    /// Errors come in the order of [`Self::validate`]: structure, header, key, signature, the
    /// strict claims parse, the policy; then `T`'s own (`malformed`).
    pub fn validate_borrowed<'b, T: Deserialize<'b>>(
        &self,
        token: &str,
        buf: &'b mut Vec<u8>,
    ) -> Result<Verified<T>, Error> {
        if let Some(hit) = self.cache_hit(token) {
            let hit = hit?;
            let claims = hit
                .claims
                .checked_json()
                .copy_into(buf)
                .deserialize_as::<T>()?;
            return Ok(Verified {
                header: hit.header,
                claims,
            });
        }
        let mut sig = [0u8; INLINE_SIGNATURE];
        let prepared = self.prepare(token, true, buf, &mut sig)?;
        let set = cached(prepared.route)?;
        self.verify_signature(&prepared, &set)
            .map_err(|m| m.error)?;
        self.finish_typed(token, prepared, buf, &set)
    }

    /// The typed tail of [`Self::validate_borrowed`] and [`Self::validate_async_as`]: the
    /// signature verified against `set`; one strict pass fills `T` and the registered claims.
    fn finish_typed<'b, T: Deserialize<'b>>(
        &self,
        token: &str,
        prepared: Prepared<'_, '_, '_>,
        buf: &'b [u8],
        set: &Arc<KeySet>,
    ) -> Result<Verified<T>, Error> {
        if self.inner.cache.is_some() || prepared.claims.is_some() {
            // Owned claims are wanted anyway (for the cache, or already parsed for routing).
            let verified = self.finish_and_remember(token, prepared, buf.to_vec(), set)?;
            // The same bytes passed the strict parse and the policy: only `T`'s own errors
            // remain, from one strict pass (`buf` is shared, so no `CheckedJson` copy).
            let (_, claims) = Claims::parse_into::<T>(buf)?;
            return Ok(Verified {
                header: verified.header,
                claims,
            });
        }
        let policy = &prepared.route.policy;
        match Claims::parse_into::<T>(buf) {
            Ok((registered, claims)) => {
                policy.check_claims(&prepared.header, &registered, self.inner.clock.now())?;
                Ok(Verified {
                    header: prepared.header,
                    claims,
                })
            }
            Err(e) => {
                // The same order as `validate` then `claims_as`: the strict parse's error,
                // then the policy's, then the type's own.
                let claims = Claims::parse(buf)?;
                policy.check_claims(&prepared.header, &claims, self.inner.clock.now())?;
                Err(e.into())
            }
        }
    }

    /// Validates `token`, asking the key source to refresh when the token's `kid` is unknown
    /// (or nothing is loaded). Runtime-agnostic: the source does the I/O.
    pub async fn validate_async(&self, token: &str) -> Result<Verified<Claims<'static>>, Error> {
        if let Some(hit) = self.cache_hit(token) {
            return hit;
        }
        let mut payload = Vec::new();
        let mut sig = [0u8; INLINE_SIGNATURE];
        let prepared = self.prepare(token, true, &mut payload, &mut sig)?;
        let set = self.verified_set(&prepared).await?;
        self.finish_and_remember(token, prepared, payload, &set)
    }

    /// Like [`Self::validate_async`], with the claims deserialized into `T` in the same strict
    /// pass that reads the registered claims for the policy (as [`Self::validate_as`] does).
    ///
    /// The key source may refresh (unknown `kid`, nothing loaded) exactly as for
    /// [`Self::validate_async`]; errors come in the same order as [`Self::validate_borrowed`].
    /// The payload buffer is the future's own (a per-thread buffer cannot be held across an
    /// `.await`), so the allocations are that buffer and `T`'s own.
    pub async fn validate_async_as<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<T>, Error> {
        if let Some(hit) = self.cache_hit(token) {
            let hit = hit?;
            let claims = hit.claims.deserialize_as::<T>()?;
            return Ok(Verified {
                header: hit.header,
                claims,
            });
        }
        let mut payload = Vec::new();
        let mut sig = [0u8; INLINE_SIGNATURE];
        let prepared = self.prepare(token, true, &mut payload, &mut sig)?;
        let set = self.verified_set(&prepared).await?;
        self.finish_typed(token, prepared, &payload, &set)
    }

    /// The key set `prepared`'s signature verified against: the cached one, or the one the
    /// source returned after a refresh (unknown `kid`, nothing loaded yet).
    async fn verified_set(&self, prepared: &Prepared<'_, '_, '_>) -> Result<Arc<KeySet>, Error> {
        let source = &prepared.route.source;
        let old = match source.cached() {
            Some(set) => match self.verify_signature(prepared, &set) {
                Ok(()) => return Ok(set),
                Err(Miss {
                    refresh: true,
                    error,
                }) => {
                    tracing::debug!(code = error.code(), "key not in cached set, refreshing");
                    Some(set)
                }
                Err(m) => return Err(m.error),
            },
            None => None,
        };
        let lookup = match &old {
            Some(_) => select::lookup(&prepared.header),
            None => Lookup::Empty,
        };
        let set = source
            .refresh(lookup)
            .await
            .map_err(Error::JwksUnavailable)?;
        if old.is_some_and(|o| Arc::ptr_eq(&o, &set)) {
            // Nothing new: the first miss stands.
            return Err(self
                .verify_signature(prepared, &set)
                .err()
                .map_or(Error::BadSignature, |m| m.error));
        }
        self.verify_signature(prepared, &set).map_err(|m| m.error)?;
        Ok(set)
    }

    /// JWS-level verification: structure, header policy, key selection and signature, no
    /// claims (the payload need not be JSON). Uses the default key source's cached keys.
    pub fn verify_jws(&self, token: &str) -> Result<VerifiedJws, Error> {
        let mut payload = Vec::new();
        let mut sig = [0u8; INLINE_SIGNATURE];
        let prepared = self.prepare(token, false, &mut payload, &mut sig)?;
        let set = cached(prepared.route)?;
        self.verify_signature(&prepared, &set)
            .map_err(|m| m.error)?;
        prepared.route.policy.check_typ(&prepared.header)?;
        Ok(VerifiedJws {
            header: Arc::unwrap_or_clone(prepared.header),
            payload,
        })
    }

    /// Splits `token`, decodes its payload into `payload` and its signature into `sig` (or
    /// the heap, past [`INLINE_SIGNATURE`]), routes it and checks its header.
    fn prepare<'t, 's>(
        &self,
        token: &'t str,
        route_by_iss: bool,
        payload: &mut Vec<u8>,
        sig: &'s mut [u8; INLINE_SIGNATURE],
    ) -> Result<Prepared<'t, '_, 's>, Error> {
        let compact = Compact::split(token, &self.inner.limits)?;
        let header = crate::headers::parse(&compact)?;
        // Structure first: every segment must be strict base64url before any key work.
        decode_payload(&compact, payload)?;
        let signature = Signature::decode(compact.signature_b64(), sig)?;
        let mut claims = None;
        let route = if route_by_iss && !self.inner.routes.is_empty() {
            // Owned: the payload buffer moves into the claims after the signature.
            let c = Claims::parse(payload)?.into_owned();
            let route = c.iss.as_deref().and_then(|iss| {
                self.inner
                    .routes
                    .iter()
                    .find(|r| r.issuer.as_deref() == Some(iss))
            });
            let found = c.iss.as_deref().map(Into::into);
            claims = Some(c);
            route
                .or(self.inner.default.as_ref())
                .ok_or(Error::IssuerMismatch { found })?
        } else {
            // Only `verify_jws` gets here with routes and no default: it does not read `iss`.
            self.inner
                .default
                .as_ref()
                .ok_or_else(|| Error::KeyNotFound {
                    kid: header.kid.as_deref().map(Into::into),
                    reason: "verify_jws uses the default key source, and this validator has only \
                         issuer routes"
                        .into(),
                })?
        };
        route.policy.check_header(&header)?;
        Ok(Prepared {
            compact,
            header,
            signature,
            route,
            claims,
        })
    }

    fn verify_signature(&self, p: &Prepared<'_, '_, '_>, set: &KeySet) -> Result<(), Miss> {
        let candidates = select::select(set, &p.header, self.inner.max_untagged)?;
        if candidates.verify(p.compact.signing_input(), p.signature.as_bytes()) {
            Ok(())
        } else {
            Err(Miss {
                error: Error::BadSignature,
                refresh: false,
            })
        }
    }

    /// The verified-token cache's answer for `token`, when it has one: the stored claims,
    /// checked again against the policy with the current time.
    fn cache_hit(&self, token: &str) -> Option<Result<Verified<Claims<'static>>, Error>> {
        let cache = self.inner.cache.as_ref()?;
        let hit = cache.get(token, |route| self.route_at(route)?.source.cached())?;
        let route = self.route_at(hit.route)?;
        Some(
            route
                .policy
                .check_claims(&hit.header, &hit.claims, self.inner.clock.now())
                .map(|()| Verified {
                    header: hit.header,
                    claims: hit.claims,
                }),
        )
    }

    /// The default route (`None`) or route `i`.
    fn route_at(&self, index: Option<usize>) -> Option<&Route> {
        match index {
            None => self.inner.default.as_ref(),
            Some(i) => self.inner.routes.get(i),
        }
    }

    /// [`Self::finish`], then remembers the token when the verified-token cache is on.
    fn finish_and_remember(
        &self,
        token: &str,
        p: Prepared<'_, '_, '_>,
        payload: Vec<u8>,
        set: &Arc<KeySet>,
    ) -> Result<Verified<Claims<'static>>, Error> {
        let Some(cache) = &self.inner.cache else {
            return self.finish(p, payload);
        };
        let route = self
            .inner
            .routes
            .iter()
            .position(|r| core::ptr::eq(r, p.route));
        let verified = self.finish(p, payload)?;
        let now = i64::try_from(self.inner.clock.now().as_secs()).unwrap_or(i64::MAX);
        cache.insert(token, &verified.header, &verified.claims, route, set, now);
        Ok(verified)
    }

    /// Tokens held by the verified-token cache (0 when it is off).
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, TokenCache::len)
    }

    fn finish(
        &self,
        p: Prepared<'_, '_, '_>,
        payload: Vec<u8>,
    ) -> Result<Verified<Claims<'static>>, Error> {
        let claims = match p.claims {
            Some(c) => c,
            None => Claims::parse_owned(payload)?,
        };
        p.route
            .policy
            .check_claims(&p.header, &claims, self.inner.clock.now())?;
        Ok(Verified {
            header: p.header,
            claims,
        })
    }
}

/// The decoded signature: in the caller's stack buffer up to [`INLINE_SIGNATURE`] bytes, on
/// the heap beyond.
enum Signature<'s> {
    Inline(&'s [u8]),
    Heap(Vec<u8>),
}

impl<'s> Signature<'s> {
    fn decode(encoded: &str, buf: &'s mut [u8; INLINE_SIGNATURE]) -> Result<Self, jwk_core::Error> {
        if jwk_core::b64::decoded_len(encoded.len()).is_some_and(|n| n <= buf.len()) {
            let len = jwk_core::b64::decode_to_slice(encoded, Part::Signature, buf)?;
            return Ok(Signature::Inline(buf.get(..len).unwrap_or_default()));
        }
        jwk_core::b64::decode(encoded, Part::Signature).map(Signature::Heap)
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Signature::Inline(bytes) => bytes,
            Signature::Heap(v) => v,
        }
    }
}

/// Decodes the payload into `out` (cleared first; `b64::decode_into` sizes it exactly, so an
/// owned claims set keeps the buffer without reallocating).
fn decode_payload(compact: &Compact<'_>, out: &mut Vec<u8>) -> Result<(), jwk_core::Error> {
    out.clear();
    compact.decode_payload_into(out)
}

fn cached(route: &Route) -> Result<Arc<KeySet>, Error> {
    route.source.cached().ok_or_else(|| {
        Error::JwksUnavailable(SourceError::new(
            SourceErrorKind::NotLoaded,
            "the key source has not loaded any keys yet",
        ))
    })
}
