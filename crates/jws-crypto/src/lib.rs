//! JWS signatures behind a pluggable provider: import a `jwk-core` JWK once (every key check
//! runs there), then verify signing inputs through the [`Verifier`] trait; with the `sign`
//! feature, sign through the `Signer` trait.
//!
//! Not here: choosing a key or an algorithm for a token, claims, key sets (`jwt-validate`),
//! parsing (`jwk-core`), fetching (`jwks-fetch`).
//!
//! Invariant: no `ring` or `aws_lc_rs` type appears in a public signature; the backend is a
//! [`Provider`] value chosen by the caller (after rustls's `CryptoProvider`), never a
//! process-global, so nothing here can panic for want of one.
//!
//! ```
//! use jws_crypto::{Algorithm, KeyPolicy};
//! // RFC 8037 appendix A.4: an Ed25519 JWS.
//! let jwk = jwk_core::Jwk::parse(br#"{"kty":"OKP","crv":"Ed25519",
//!     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?;
//! let jws = jwk_core::UnverifiedJws::parse(
//!     "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
//!     &jwk_core::Limits::default(),
//! )?;
//! for provider in jws_crypto::ALL {
//!     let key = provider.import(&jwk, Algorithm::EdDsa, &KeyPolicy::default())?;
//!     assert_eq!(key.verify(jws.signing_input(), &jws.signature()?), Ok(()));
//!     // An Ed25519 key verifies EdDSA (or Ed25519) and nothing else.
//!     let err = provider.import(&jwk, Algorithm::Es256, &KeyPolicy::default()).unwrap_err();
//!     assert_eq!(err.code(), "key_mismatch");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Algorithms
//! HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA and Ed25519 (RFC 9864)
//! with Ed25519 keys; ML-DSA-44/65/87 (RFC 9964) with `AKP` keys on aws-lc-rs only. ring has no
//! P-521 and no ML-DSA: its provider answers ES512 and ML-DSA-* with `unsupported_alg` (at
//! import, signing and generation; never a panic), so a key set holding an ML-DSA key beside RSA
//! keys still yields its RSA keys there. ES256K, Ed448, `none` and unknown names are
//! `unsupported_alg` on every backend, so enabling a second backend never changes what is
//! accepted. Algorithms are passed by value ([`Algorithm`] is `Copy`); an unregistered name
//! reaches this crate as `Algorithm::Unknown` without its text, so its errors say `"unknown"`
//! and the caller, which read the name, shows it (`Header::alg_name`, `Jwk::alg_name`).
//!
//! ML-DSA uses aws-lc-rs's stable `signature` module (`ML_DSA_44` .. `ML_DSA_87`,
//! `PqdsaKeyPair`, stable since aws-lc-rs 1.18; no `unstable` feature): pure ML-DSA with the
//! empty context, public keys parsed once at import (FIPS 204 `pkDecode`), signatures the raw
//! FIPS 204 encoding of exactly 2420, 3309 or 4627 bytes (any other length is `BadSignature`
//! before the backend sees it). Generated keys are PKCS#8 v1 holding the 32-byte seed, the form
//! RFC 9964 section 4 uses for `priv`; PKCS#8 in the expanded or both forms loads too.
//!
//! # Import checks ([`KeyPolicy`])
//! - The JWK's type and curve fit the algorithm; its `alg` member, when present, is the
//!   requested algorithm (an `alg: RS256` key never verifies PS256); `use` is `sig` or
//!   absent; `key_ops`, when present, lists `verify`. Otherwise `key_mismatch`. An HMAC
//!   secret comes only from an `oct` key, never from a public key's bytes.
//! - RSA: modulus 2048..=8192 bits by default (floor configurable, never below 1024;
//!   too small is `weak_key`, too large `invalid_key`), modulus odd, exponent odd, at
//!   least 3 and at most 2^32 unless allowed; no ROCA fingerprint (CVE-2017-15361).
//! - EC: the point is decoded and checked on its curve once (`invalid_key`).
//! - Ed25519: `x` is 32 bytes, canonically encoded (`y < p`), and not one of the eight points
//!   of small order in any spelling (`invalid_key`): such a key verifies forged signatures
//!   (`R = identity, S = 0` for the identity). The same check runs on a signer's public key.
//!   Non-canonical signature scalars (`S >= L`) stay `BadSignature` in both backends.
//! - HMAC: the secret is at least the hash output long (`weak_key`).
//!
//! # Verification
//! ECDSA signatures must be exactly `2 * coordinate length` bytes (`r || s`, RFC 7518
//! section 3.4): a DER signature or any other length is `BadSignature` before the backend
//! sees it. HMAC tags are recomputed and compared in constant time by the backend's own
//! `hmac::verify` (`CRYPTO_memcmp` in both), full length only (an earlier version compared
//! with `subtle` here and was slower in every criterion run). RSA moduli are parsed once into
//! aws-lc-rs's `ParsedPublicKey`; ring has no parsed RSA key type, so its verifier keeps the
//! checked, minimal big-endian components and ring builds its arithmetic per call.
//!
//! Cost of the trait (`benches/verify.rs`, paired batches, `JWS_CRYPTO_PAIRED=1`): imported-key
//! verification takes 0.975 to 1.006 times the raw backend call on the same bytes for every
//! algorithm and backend; against aws-lc-rs's parse-per-call RSA API it takes 0.87 times.
//!
//! # Features
//! - `aws-lc-rs` (default): `aws_lc_rs::PROVIDER`; the [`default_provider`] when enabled.
//! - `ring`: `ring::PROVIDER` (no P-521).
//! - `sign`: the `Signer` trait, `Provider::signer_from_pkcs8_der` / `_pem`,
//!   `Provider::hmac_signer`, `Provider::generate` (RSA and ML-DSA on aws-lc-rs only).
//! - `tls`: `tls_provider()`, the rustls `CryptoProvider` on the same backend choice as
//!   [`default_provider`] (what `jwks-fetch` and `jwt-issuer` use by default).
//!
//! Both backends may be enabled at once; at least one is required (a compile error says so).
//!
//! # Dependencies
//! - `jwk-core`: the `Jwk` and `Algorithm` types keys are imported from.
//! - `aws-lc-rs`, `ring` (optional): the cryptography. No OpenSSL.
//! - `rustls-pki-types` (with `sign`): PEM parsing of PKCS#8 private keys.
//! - `rustls` (with `tls`): only its `CryptoProvider` type and the backends' providers, so
//!   the TLS backend is chosen here with the signature backend.
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
compile_error!("jws-crypto needs a backend: enable the `aws-lc-rs` or `ring` feature");

#[cfg(feature = "aws-lc-rs")]
pub mod aws_lc_rs;
mod checks;
mod error;
mod policy;
mod provider;
#[cfg(feature = "ring")]
pub mod ring;
#[cfg(feature = "sign")]
mod sign;

pub use error::{BadSignature, Error};
pub use jwk_core::Algorithm;
pub use policy::{KeyPolicy, RSA_CEILING_BITS, RSA_FLOOR_BITS};
pub use provider::{ImportFn, Provider, Verifier};
#[cfg(feature = "sign")]
pub use sign::Signer;

/// Every backend compiled into this build (tests and `jwkctl --backend` iterate over it).
pub static ALL: &[&Provider] = &[
    #[cfg(feature = "aws-lc-rs")]
    &aws_lc_rs::PROVIDER,
    #[cfg(feature = "ring")]
    &ring::PROVIDER,
];

/// The rustls crypto provider on the backend [`default_provider`] uses (aws-lc-rs when
/// compiled in, else ring). Chosen by the compiler, never read from rustls's process-wide
/// default (which panics when both are compiled in), so it cannot fail at run time. The one
/// place `jwks-fetch` and `jwt-issuer` get their default TLS provider from.
#[cfg(feature = "tls")]
pub fn tls_provider() -> alloc::sync::Arc<rustls::crypto::CryptoProvider> {
    #[cfg(feature = "aws-lc-rs")]
    let p = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(not(feature = "aws-lc-rs"), feature = "ring"))]
    let p = rustls::crypto::ring::default_provider();
    alloc::sync::Arc::new(p)
}

/// aws-lc-rs when compiled in, else ring: chosen by the compiler, so it cannot fail at run time.
pub fn default_provider() -> &'static Provider {
    #[cfg(feature = "aws-lc-rs")]
    let provider = &aws_lc_rs::PROVIDER;
    #[cfg(all(not(feature = "aws-lc-rs"), feature = "ring"))]
    let provider = &ring::PROVIDER;
    provider
}
