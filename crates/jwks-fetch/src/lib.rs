//! A JWKS client that stays up when the identity provider does not: keys over HTTPS (hyper +
//! rustls), behind a cache that `jwt-validate` reads through its [`KeySource`] trait.
//!
//! Not here: parsing keys (`jwk-core`), verifying signatures (`jws-crypto`), deciding whether a
//! token is acceptable (`jwt-validate`), printing anything (`jwkctl`).
//!
//! Invariant: a validation on a cache hit does no I/O, takes no lock and waits on nothing
//! (one atomic load of the current [`KeySet`], one clock read); every network operation is
//! bounded in time, bytes and keys, and every failure is a typed [`FetchError`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use jwks_fetch::{DiscoveryKind, RemoteJwks};
//! use jwt_validate::Validator;
//!
//! // Keys of one issuer, found through OpenID Connect discovery, refreshed in the background.
//! let keys = RemoteJwks::discover("https://idp.example", DiscoveryKind::OpenId).build()?;
//! let validator = Validator::builder()
//!     .key_source(keys.clone())
//!     .issuer("https://idp.example")
//!     .audience("my-api")
//!     .build()?;
//! # let token = "";
//! match validator.validate_async(token).await {
//!     Ok(verified) => println!("hello {:?}", verified.claims().sub),
//!     Err(e) => println!("refused: {}", e.code()), // `jwks_unavailable` when no keys can be had
//! }
//! println!("{}", keys.stats()); // health=fresh keys=2 requests=2 ...
//! # Ok(()) }
//! ```
//!
//! One-shot fetches for tools need no cache:
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use jwks_fetch::{fetch_once, FetchConfig};
//! // Plain http is refused unless the host is loopback *and* it is explicitly allowed.
//! let err = fetch_once("http://idp.example/jwks", &FetchConfig::default()).await.unwrap_err();
//! assert_eq!(err.code(), "insecure_url");
//! # });
//! ```
//!
//! # Behaviour
//! Fetching ([`fetch_once`], [`FetchConfig`]):
//! - HTTPS through rustls with the web PKI roots, plus trust anchors from PEM files
//!   (`--ca-file`); plain http only for loopback hosts and only with
//!   [`FetchConfig::allow_http_loopback`] (the resolved addresses must be loopback too).
//! - TLS is injectable: [`FetchConfig::tls_provider`] (a FIPS or restricted rustls
//!   `CryptoProvider`) with the trust anchors above, or a whole rustls `ClientConfig` in
//!   [`FetchConfig::tls_config`] (platform verifier, private CA set, client certificates).
//! - Bounds: connect timeout (2 s: DNS, TCP and TLS), one deadline over the whole request
//!   (5 s: redirects, headers and body, so a slow drip ends there and not per read), body size
//!   counted while streaming (512 KiB; a larger `Content-Length` fails before reading), keys
//!   per document (100).
//! - No redirects by default; [`RedirectPolicy::Follow`] allows same scheme or http to https,
//!   never https to http, same host unless allowed, bounded hops, loops detected.
//! - Media types `application/jwk-set+json` and `application/json`; anything else is
//!   [`FetchError::ContentType`] naming the type (an HTML login page served with 200).
//! - `Cache-Control: max-age` (minus `Age`) or `Expires` (against `Date`) gives the TTL,
//!   clamped into [1 min, 1 h] by default ([`CacheConfig`]); `ETag` / `Last-Modified` are sent
//!   back as `If-None-Match` / `If-Modified-Since`, and a 304 renews the keys held.
//! - A fetched set is public: it never yields an `oct` key. Each is set aside as
//!   `private_key` (`jwk_core::JwkSet::parse_public`), so `--jwks-url`, `--discovery` and an
//!   issuer's `trusted_issuers` never verify HMAC tokens with a secret anyone could read.
//! - Discovery ([`DiscoveryKind::OpenId`], RFC 8414 [`DiscoveryKind::OAuth`]): the document's
//!   `issuer` must equal the configured issuer byte for byte, `jwks_uri` must be https (or
//!   allowed loopback http). A source built by discovery asks the metadata again when its
//!   JWKS URL answers 404 or 410.
//!
//! Caching ([`RemoteJwks`], [`CacheConfig`]):
//! - The current set is an `Arc<KeySet>` in an `ArcSwap`: imported once per document, read
//!   lock-free, so a cache hit costs what [`jwt_validate::StaticKeys`] costs.
//! - Single flight: concurrent misses share one fetch, which runs on its own task (a caller
//!   that gives up does not cancel it for the others).
//! - Unknown `kid`: one refetch at once (with `Cache-Control: no-cache`), then at most one per
//!   cooldown (30 s; not started at start-up; scheduled refreshes do not use it up). Inside the
//!   cooldown unknown kids fail fast (`key_not_found`); a kid absent from a fresh fetch is
//!   remembered (bounded negative cache, 1024 kids, 5 min). Tokens refused on their header
//!   (algorithm, `crit`, issuer route) never reach the source: `jwt-validate` checks first.
//! - Refresh ahead of expiry on a background task; stale-if-error up to 24 h past expiry,
//!   with exponential backoff and jitter (1 s doubling to 5 min), and `Retry-After` on 429 /
//!   503 honoured (clamped to 10 min): no request before it.
//! - A bad document never replaces a good one. `{"keys":[]}` after a good set is accepted (the
//!   provider said so) and logged at error level. Every change is a [`KeySetDiff`] (added,
//!   removed, same `kid` with new material: logged at error level) in `tracing`, in
//!   [`Stats::last_diff`] and in the [`Event`]s of [`RemoteJwks::subscribe`].
//! - Several issuers: one [`RemoteJwks`] per issuer, each with its own cache and [`Stats`],
//!   routed by `jwt_validate::ValidatorBuilder::route`.
//! - Time comes from `jwt-validate`'s [`Clock`](jwt_validate::Clock), the same clock a
//!   validator and an issuer read; the background refresher sleeps on it through
//!   [`SleepClock`]. Tests use `jwt_validate::ManualClock` (feature `test-util`) to step
//!   through TTLs, cooldowns and backoff without sleeping.
//!
//! # Why a hand-driven `hyper::client::conn::http1` per request
//! JWKS fetches are rare (minutes apart) and go to one host, so a connection pool buys nothing
//! and would keep idle connections to the identity provider. Driving one connection per
//! request lets a single `tokio::time::timeout` cover DNS, TCP, TLS, headers and body (the
//! connection future is polled inside the request future, not spawned, so the deadline closes
//! the socket), lets the plain-http loopback check apply to the resolved addresses, and keeps
//! the TLS configuration ours (trust anchors, crypto provider) without `hyper-util`'s legacy
//! client and its connector stack.
//!
//! # Features
//! - `aws-lc-rs` (default): rustls and `jws-crypto` on aws-lc-rs; the TLS provider used when
//!   both are compiled in.
//! - `ring`: rustls and `jws-crypto` on ring. Neither is a compile error. The TLS provider is
//!   chosen by the compiler (`jws_crypto::tls_provider`, the one helper `jwt-issuer` uses too)
//!   and passed to rustls explicitly, never read from rustls's process-wide default (which
//!   panics when ambiguous).
//! - `test-util`: [`SleepClock`] for `jwt_validate::ManualClock` (tests and demos).
//!
//! # Dependencies
//! - `hyper` (client, http1), `hyper-util` (`TokioIo` only), `http`, `http-body-util`, `bytes`:
//!   the HTTP exchange.
//! - `tokio`: sockets, timeouts, the background task and the single-flight channels.
//! - `rustls` (via `tokio-rustls`), `webpki-roots`, `rustls-pki-types` (PEM `--ca-file`): TLS
//!   without OpenSSL.
//! - `arc-swap`: the lock-free current set. `httpdate`: `Expires`, `Date` and `Retry-After`.
//! - `serde_json`: discovery documents. `tracing`: events for every fetch, failure and change.
//! - `jwk-core`, `jws-crypto`, `jwt-validate`: the JWK Set type, key import, the trait.
#![forbid(unsafe_code)]

mod caching;
mod clock;
mod config;
mod diff;
mod error;
mod fetch;
mod remote;
mod url;

pub use clock::{Sleep, SleepClock};
pub use config::{FetchConfig, RedirectPolicy};
pub use diff::KeySetDiff;
pub use error::FetchError;
pub use fetch::{
    discover_once, fetch_once, DiscoveryKind, Fetched, ProviderMetadata, JWKS_MEDIA_TYPES,
};
pub use remote::{CacheConfig, Event, Health, RemoteJwks, RemoteJwksBuilder, Stats};

#[cfg(doc)]
use jwt_validate::{KeySet, KeySource};

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!("jwks-fetch needs a TLS crypto provider: enable `aws-lc-rs` or `ring`");
