//! The issuer side of JWKS: signing keys with rollover, the JWKS endpoint, and the OAuth 2.0
//! JWT Bearer token endpoint (RFC 7523) that exchanges an identity provider's assertion for a
//! locally signed RFC 9068 access token.
//!
//! Not here: parsing (`jwk-core`), signature maths (`jws-crypto`), validation policy
//! (`jwt-validate`, used here for incoming assertions), fetching remote key sets (`jwks-fetch`,
//! which callers plug in through `jwt_validate::KeySource`), the command line (`jwkctl serve`,
//! `demo`).
//!
//! Invariant: a key is published before it signs, and stays published until every token it
//! signed has expired ([`Schedule`]); an assertion's `jti` is accepted at most once within its
//! lifetime ([`ReplayStore`]); a request that cannot be decided because keys or the replay
//! store are unavailable is answered 503 with `Retry-After`, never accepted and never blamed
//! on the caller.
//!
//! ```
//! use std::sync::Arc;
//! use jwk_core::{Algorithm, JwkSet};
//! use jwt_issuer::{KeyManager, ManualClock};
//!
//! let dir = std::env::temp_dir().join(format!("jwt-issuer-doc-{}", std::process::id()));
//! let keys = KeyManager::builder(&dir)
//!     .algorithms([Algorithm::Es256])
//!     .clock(Arc::new(ManualClock::at_secs(1_800_000_000)))
//!     .open()?;
//! // The JWKS document publishes the key with `kid` = RFC 7638 thumbprint + "_ES256".
//! let doc = keys.jwks()?;
//! let set = JwkSet::parse(&doc.body).expect("our own JWKS parses");
//! let signing = keys.signing_key(None)?;
//! assert_eq!(set.keys[0].kid.as_deref(), Some(signing.kid.as_str()));
//! assert_eq!(set.keys[0].kid.as_deref(), Some(format!("{}_ES256", set.keys[0].thumbprint()).as_str()));
//! let token = signing.sign_jwt("JWT", &serde_json::json!({"sub": "alice"}))?;
//! assert_eq!(token.split('.').count(), 3);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), jwt_issuer::Error>(())
//! ```
//!
//! # Pieces
//! - [`KeyManager`]: keys per algorithm (RS256, PS256, RS384/512, PS384/512, ES256, ES384,
//!   EdDSA, and with aws-lc-rs ML-DSA-44/65/87, published as RFC 9964 `AKP` keys:
//!   `algorithms = ["ML-DSA-65", "RS256"]` publishes one beside the RSA key and signs access
//!   tokens with it); one RSA key serves every configured RSA algorithm and is published once per
//!   algorithm (`<thumbprint>_RS256`, `<thumbprint>_PS256`, as the Asgardeo guide's JWKS does).
//!   Keys live as PKCS#8 PEM files (`<kind>-<created>.pem`, mode 0600) in a key directory:
//!   a restart keeps them, several instances share them (rotations take an advisory lock; the
//!   document, and its `ETag`, depend only on the files and the time). Corrupt, foreign or
//!   group-readable files are reported ([`KeyManager::problems`]) and left in place. As ssh
//!   does for `~/.ssh`, [`KeyManagerBuilder::open`] refuses (`key_dir`) a directory or key
//!   file writable by group or others, owned by another user, or a key file that is a symbolic
//!   link; key files are opened without following links and checked on the opened file, and
//!   a file planted while running is skipped and reported.
//! - [`Schedule`]: pre-publish (at least the JWKS `max-age`) → active → retired (until the
//!   longest token lifetime has passed) → removed, by interval ([`KeyManager::maintain`]) and
//!   on demand ([`KeyManager::rotate`]), with an injectable [`Clock`].
//! - [`TokenService`]: the RFC 7523 grant: trusted issuers ([`TrustedIssuer`]), each with its
//!   own key source and algorithms; `sub`, `aud`, `exp` (bounded lifetime), `nbf`, `iat` and
//!   `jti` checks; RFC 6749 section 5.1 / 5.2 responses ([`TokenResponse`], [`Refusal`]), with
//!   fixed error descriptions in RFC 6749's character set (details go to `tracing`).
//! - Known clients ([`Client`], [`ClientAuth`]) authenticated at the token endpoint:
//!   `client_secret_basic` / `client_secret_post` (Argon2id hashes, [`hash_client_secret`]),
//!   `private_key_jwt` (RFC 7523 2.2; `aud` must be the issuer identifier as a single string,
//!   per the 2025 update of RFC 7523; `jti` single-use) and `none`. Every failure is 401
//!   `invalid_client`. The access token's `client_id` and `azp` are the authenticated client.
//! - Subjects: an access token's `sub` is `<issuer>#<sub>` ([`SUBJECT_SEPARATOR`]), so two
//!   identity providers' `alice` stay apart; `idp` and `idp_sub` record the original issuer
//!   and subject. [`TrustedIssuer::subjects_as_is`] keeps `sub` for a single trusted issuer.
//! - [`ReplayStore`]: one round trip per `jti` ([`ReplayEntry`]), with quotas per trusted
//!   issuer and per client ([`MemoryReplayStore::with_quotas`], [`MemoryReplayStore::fair`]) so
//!   one party cannot starve the others; [`MemoryReplayStore::BYTES_PER_ENTRY`] is measured.
//! - [`Listener`] / [`RunningServer`]: the hyper 1.x server: `GET /oauth2/jwks` (ETag, 304,
//!   `Cache-Control: max-age` from the schedule), `GET /.well-known/openid-configuration`,
//!   `POST /oauth2/token` (form bodies only, bounded size, 405 on other methods),
//!   `GET /healthz`; header and body deadlines, a connection limit, graceful shutdown,
//!   `tracing` events per request; HTTPS through rustls with [`TlsFiles`] (on
//!   `jws_crypto::tls_provider()`, or the caller's [`TlsFiles::with_tls_provider`]) or a
//!   caller-built `rustls::ServerConfig` ([`Listener::serve_tls_config`]).
//! - `LoopbackClient` (feature `test-util`): a minimal HTTP/1.1 client for `jwkctl demo`, the
//!   load run and tests.
//!
//! # Several instances
//! Instances behind one load balancer share a key directory (rotations under an advisory lock
//! create one key however many instances reach the boundary; every instance publishes the
//! same set and `ETag`) and, with the `redis` feature, a `RedisReplayStore` (a `jti`
//! accepted at one instance is a replay at every other; Redis down is 503, never a token).
//! Each instance keeps its own cache of the trusted issuers' keys.
//!
//! # Load
//! `cargo run --release -p jwkctl -- load --seconds 10` (what `cargo xtask load` runs) starts
//! an identity provider and the token service on loopback, mints assertions up front, drives
//! the token endpoint over 16 keep-alive connections for a bounded time, as a registered
//! `private_key_jwt` client, and prints exchanges per second, p50 / p99 latency, the
//! crypto-bound limit `cores / (assertion verify + client assertion verify + sign)` (per-op
//! costs measured as thread CPU time) and, because a shared machine skews wall-clock rates,
//! the share of the process's CPU spent on that necessary crypto (`--json` for scripts).
//!
//! # Features
//! - `aws-lc-rs` (default): signing and TLS on aws-lc-rs (the only backend that generates RSA
//!   keys).
//! - `ring`: signing and TLS on ring; RSA keys cannot be generated (configure ES256 / EdDSA, or
//!   place RSA PKCS#8 files in the key directory); no ML-DSA (configuring it is
//!   `invalid_config`).
//! - `redis`: `RedisReplayStore`, the replay store several instances share
//!   (`SET key 1 NX PXAT t`, or a quota script by `EVALSHA`: one round trip per assertion,
//!   fail closed).
//! - `test-util`: re-exports `jwt_validate::ManualClock`, the hand-moved clock (tests, demos);
//!   `LoopbackClient` (with `Reply`, `ClientError`), the plain-HTTP loopback client of
//!   `jwkctl demo`, the load runs and tests; and `form_encode` (tests build token requests with
//!   it). None of them is needed to run an issuer.
//!
//! # Dependencies
//! - `jwk-core`, `jws-crypto` (feature `sign`), `jwt-validate`: ours (parsing, signing,
//!   assertion validation).
//! - `hyper`, `hyper-util`, `http`, `http-body-util`, `bytes`, `tokio`: the HTTP server and the
//!   loopback client.
//! - `rustls`, `tokio-rustls`, `rustls-pki-types`: HTTPS and PEM parsing; the TLS provider is
//!   chosen at compile time, never read from rustls's process-wide default.
//! - `serde_json`: building JWKS, discovery, token and claims JSON.
//! - `sha2`: the JWKS `ETag` and the replay store's fixed-size keys. `base64`: PEM encoding of
//!   PKCS#8 keys and HTTP Basic credentials. `rand`: `jti` values, salts and temporary file
//!   names. `tracing`: structured logs (no subscriber is installed here).
//! - `argon2`: client secrets stored as Argon2id PHC strings and verified in constant time
//!   (its `password-hash` output comparison); a well-kept RustCrypto crate, not hand-written.
//! - `rustix` (Unix): the effective uid and `open` with `O_NOFOLLOW` for the key directory
//!   trust checks, without `unsafe` code.
//! - `redis` (optional, feature `redis`): the Redis client and its reconnecting async
//!   `ConnectionManager` (tokio, rustls for `rediss://`), for the shared replay store.
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!("jwt-issuer needs a crypto backend: enable `aws-lc-rs` or `ring`");

#[cfg(feature = "test-util")]
mod client;
mod clients;
mod clock;
mod error;
mod keys;
mod oauth;
#[cfg(feature = "redis")]
mod redis_store;
mod replay;
mod schedule;
mod server;
mod token;
mod x5c;

#[cfg(feature = "test-util")]
pub use client::{form_encode, ClientError, LoopbackClient, Reply};
pub use clients::{hash_client_secret, Client, ClientAuth, SecretHash, CLIENT_ASSERTION_TYPE};
#[cfg(feature = "test-util")]
pub use clock::ManualClock;
pub use clock::{Clock, SystemClock};
pub use error::Error;
pub use keys::{
    pkcs8_pem, sign_compact, write_private_file, FileProblem, JwksDocument, KeyKind, KeyManager,
    KeyManagerBuilder, KeyStatus, SigningKey,
};
pub use oauth::{OAuthErrorCode, Refusal, TokenResponse, JWT_BEARER};
#[cfg(feature = "redis")]
pub use redis_store::{RedisReplayStore, RedisReplayStoreBuilder};
pub use replay::{
    AssertionKind, HealthFuture, MemoryReplayStore, ReplayEntry, ReplayFuture, ReplayStore,
    ReplayStoreError, Seen,
};
pub use schedule::{KeyState, Schedule};
pub use server::{
    Listener, RunningServer, ServerOptions, TlsFiles, DISCOVERY_PATH, HEALTH_PATH, JWKS_PATH,
    TOKEN_PATH,
};
pub use token::{TokenService, TokenServiceBuilder, TrustedIssuer, MAX_JTI_LEN, SUBJECT_SEPARATOR};
