//! Key sets ready to verify, and the trait through which remote key sources plug in.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;

use jwk_core::{Algorithm, JwkSet, KeyParams};
use jws_crypto::{KeyPolicy, Provider, Verifier};

/// Keys imported once, ready to verify: one [`Verifier`] per (JWK, usable algorithm). Built per
/// fetched document.
///
/// Building never fails as a whole: a key or algorithm that does not import is kept aside in
/// [`KeySet::import_failures`] with its reason, and a token that names it gets that reason.
///
/// A set that holds both `oct` keys and asymmetric keys has its `oct` keys set aside: a
/// published key set must not carry shared secrets, and mixing the two is what HMAC
/// key-confusion attacks rely on (Wycheproof `MixedKeySet`).
#[derive(Debug)]
pub struct KeySet {
    jwks: JwkSet,
    entries: Vec<Entry>,
    failures: Vec<ImportFailure>,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) index: usize,
    pub(crate) alg: Algorithm,
    pub(crate) verifier: Arc<dyn Verifier>,
}

/// A key (and algorithm) of a [`KeySet`] that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportFailure {
    /// Position of the key in [`KeySet::jwks`]`().keys` (not in the document).
    pub index: usize,
    /// The algorithm the import was for; `None` when the whole key was set aside.
    pub alg: Option<Algorithm>,
    /// The backend's error code (`weak_key`, `unsupported_alg`, `invalid_key`, ...), or
    /// `mixed_key_set` for an `oct` key set aside next to public keys.
    pub code: &'static str,
    /// Why, for people.
    pub message: Box<str>,
}

impl KeySet {
    /// Imports every usable key of `set` with `provider`, once per algorithm the key allows
    /// (its `alg`, or every algorithm its type and curve fit). Never fails as a whole.
    pub fn from_jwks(set: &JwkSet, provider: &'static Provider, policy: &KeyPolicy) -> KeySet {
        let is_oct = |k: &jwk_core::Jwk| matches!(k.params, KeyParams::Oct(_));
        let mixed = set.keys.iter().any(is_oct) && !set.keys.iter().all(is_oct);
        let mut entries = Vec::new();
        let mut failures = Vec::new();
        for (index, jwk) in set.keys.iter().enumerate() {
            if mixed && is_oct(jwk) {
                failures.push(ImportFailure {
                    index,
                    alg: None,
                    code: "mixed_key_set",
                    message: "a shared secret (kty oct) in a set that also holds public keys \
                              is refused"
                        .into(),
                });
                continue;
            }
            for alg in jwk.algorithms() {
                if !provider.supports(alg) {
                    failures.push(ImportFailure {
                        index,
                        message: format!(
                            "backend {} does not support {}",
                            provider.name,
                            alg.as_str()
                        )
                        .into(),
                        alg: Some(alg),
                        code: "unsupported_alg",
                    });
                    continue;
                }
                match provider.import(jwk, alg, policy) {
                    Ok(verifier) => entries.push(Entry {
                        index,
                        alg,
                        verifier,
                    }),
                    Err(e) => failures.push(ImportFailure {
                        index,
                        alg: Some(alg),
                        code: e.code(),
                        message: e.to_string().into(),
                    }),
                }
            }
        }
        KeySet {
            jwks: set.clone(),
            entries,
            failures,
        }
    }

    /// The document the set was built from.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Number of usable (key, algorithm) pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no key imported.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when a usable key has this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.entries
            .iter()
            .any(|e| self.jwks.keys.get(e.index).and_then(|k| k.kid.as_deref()) == Some(kid))
    }

    /// The algorithms key `index` (of `jwks().keys`) imported for.
    pub fn algorithms_of(&self, index: usize) -> impl Iterator<Item = Algorithm> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.index == index)
            .map(|e| e.alg)
    }

    /// Keys or (key, algorithm) pairs that did not import, with why.
    pub fn import_failures(&self) -> &[ImportFailure] {
        &self.failures
    }

    pub(crate) fn entry(&self, index: usize, alg: Algorithm) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.index == index && e.alg == alg)
    }

    pub(crate) fn failure(&self, index: usize, alg: Algorithm) -> Option<&ImportFailure> {
        self.failures
            .iter()
            .find(|f| f.index == index && f.alg.is_none_or(|a| a == alg))
    }
}

/// Why the validator asks the source again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup<'a> {
    /// The token names this `kid`, which the cached set lacks.
    UnknownKid(&'a str),
    /// The token has no `kid` and no cached key fits its algorithm.
    NoKid,
    /// Nothing is cached yet.
    Empty,
}

/// Why a key source could not provide keys, as a small stable set. Every [`SourceError`] is
/// reported by validation as `jwks_unavailable`; its kind says why, for metrics and logs.
///
/// The [`SourceErrorKind::code`] strings are stable: never renamed (match on them or on the
/// variants, never on message text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// `not_loaded`: the source holds no keys yet (or only keys staler than allowed) and has
    /// no failure to report.
    NotLoaded,
    /// `fetch_failed`: the transport failed (connect, HTTP exchange, refused redirect, the
    /// runtime went away).
    FetchFailed,
    /// `timeout`: a connect or request deadline passed.
    Timeout,
    /// `http_status`: the server answered a status other than 200/304.
    HttpStatus,
    /// `rate_limited`: 429 or 503; [`SourceError::retry_after`] says when to come back.
    RateLimited,
    /// `invalid_document`: the answer is not a usable key set (media type, JSON, size, no
    /// usable key, discovery metadata, issuer mismatch).
    InvalidDocument,
    /// `tls`: the TLS handshake failed (untrusted, expired or wrong-host certificate).
    Tls,
    /// `backoff`: the source is waiting after failures and did not ask again;
    /// [`SourceError::retry_after`] says how long.
    Backoff,
    /// `config`: the source cannot work as configured (insecure or invalid URL, unreadable CA
    /// file).
    Config,
    /// `other`: any other reason (a custom source's own failure).
    Other,
}

impl SourceErrorKind {
    /// Every kind, in declaration order (a test checks the codes are unique).
    pub const ALL: &'static [SourceErrorKind] = &[
        SourceErrorKind::NotLoaded,
        SourceErrorKind::FetchFailed,
        SourceErrorKind::Timeout,
        SourceErrorKind::HttpStatus,
        SourceErrorKind::RateLimited,
        SourceErrorKind::InvalidDocument,
        SourceErrorKind::Tls,
        SourceErrorKind::Backoff,
        SourceErrorKind::Config,
        SourceErrorKind::Other,
    ];

    /// The stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            SourceErrorKind::NotLoaded => "not_loaded",
            SourceErrorKind::FetchFailed => "fetch_failed",
            SourceErrorKind::Timeout => "timeout",
            SourceErrorKind::HttpStatus => "http_status",
            SourceErrorKind::RateLimited => "rate_limited",
            SourceErrorKind::InvalidDocument => "invalid_document",
            SourceErrorKind::Tls => "tls",
            SourceErrorKind::Backoff => "backoff",
            SourceErrorKind::Config => "config",
            SourceErrorKind::Other => "other",
        }
    }
}

/// A key source could not provide keys. Reported by validation as `jwks_unavailable`; the
/// [`SourceError::code`] says why (a [`SourceErrorKind`]), the cause (a fetch error, say) is
/// kept as [`core::error::Error::source`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceError {
    kind: SourceErrorKind,
    message: Box<str>,
    retry_after: Option<Duration>,
    cause: Option<Arc<dyn core::error::Error + Send + Sync + 'static>>,
}

impl SourceError {
    /// An error of `kind` with a message for people, no retry hint and no cause.
    pub fn new(kind: SourceErrorKind, message: impl Into<Box<str>>) -> Self {
        SourceError {
            kind,
            message: message.into(),
            retry_after: None,
            cause: None,
        }
    }

    /// Sets when the source will try again.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// Keeps `cause` as the error's [`source`](core::error::Error::source).
    pub fn with_source(mut self, cause: impl core::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Arc::new(cause));
        self
    }

    /// Why, as a kind.
    pub fn kind(&self) -> SourceErrorKind {
        self.kind
    }

    /// Why, as a stable code ([`SourceErrorKind::code`]).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// What went wrong, for people (not stable: match on [`SourceError::code`]).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// When the source will try again, if it knows.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

/// Equal when kind, message and retry hint are equal (the cause is not compared).
impl PartialEq for SourceError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.message == other.message
            && self.retry_after == other.retry_after
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(r) = self.retry_after {
            write!(f, " (retry after {} s)", r.as_secs())?;
        }
        Ok(())
    }
}

impl core::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn core::error::Error + 'static))
    }
}

/// The future [`KeySource::refresh`] returns.
pub type RefreshFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Arc<KeySet>, SourceError>> + Send + 'a>>;

/// Where a validator gets its keys: a static set, or a remote fetcher (`jwks-fetch`).
pub trait KeySource: Send + Sync + fmt::Debug {
    /// Keys held now; never does I/O. `None` before the first successful load.
    fn cached(&self) -> Option<Arc<KeySet>>;

    /// Called only after the header passed policy, when the kid is not in [`Self::cached`]
    /// (or nothing is cached). The source decides whether to fetch (cooldown, single flight)
    /// and returns the set to look in again.
    fn refresh<'a>(&'a self, lookup: Lookup<'a>) -> RefreshFuture<'a>;
}

/// A [`KeySet`] held for the life of the validator: no I/O, no refresh.
#[derive(Debug, Clone)]
pub struct StaticKeys {
    keys: Arc<KeySet>,
}

impl StaticKeys {
    /// Holds `keys`.
    pub fn new(keys: KeySet) -> Self {
        StaticKeys {
            keys: Arc::new(keys),
        }
    }

    /// Imports `set` with `provider` and `policy` (see [`KeySet::from_jwks`]).
    pub fn from_jwks(set: &JwkSet, provider: &'static Provider, policy: &KeyPolicy) -> Self {
        StaticKeys::new(KeySet::from_jwks(set, provider, policy))
    }

    /// The keys.
    pub fn keys(&self) -> &Arc<KeySet> {
        &self.keys
    }
}

impl KeySource for StaticKeys {
    fn cached(&self) -> Option<Arc<KeySet>> {
        Some(self.keys.clone())
    }

    fn refresh<'a>(&'a self, _lookup: Lookup<'a>) -> RefreshFuture<'a> {
        let keys = self.keys.clone();
        Box::pin(core::future::ready(Ok(keys)))
    }
}
