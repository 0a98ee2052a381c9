//! JWT validation: "here is a token, here are my keys and my policy; give me typed claims or a
//! precise reason."
//!
//! Not here: parsing rules (`jwk-core`), signature maths (`jws-crypto`), fetching keys over
//! HTTPS (`jwks-fetch`, which implements [`KeySource`]), issuing tokens (`jwt-issuer`).
//!
//! Invariant: no I/O and no async runtime. [`Validator::validate`] is synchronous over the keys
//! a source holds now; [`Validator::validate_async`] lets the source refresh, with whatever
//! runtime the source uses.
//!
//! ```
//! use jwt_validate::{Algorithm, FixedClock, JwkSet, Validator};
//!
//! // RFC 7515 appendix A.1: an HS256 JWT and its key.
//! let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
//! let keys = JwkSet::parse(br#"{"keys":[{"kty":"oct",
//!     "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#)?;
//! let validator = Validator::builder()
//!     .jwks(keys)
//!     .algorithms([Algorithm::Hs256]) // HS* only when listed
//!     .issuer("joe")
//!     .clock(FixedClock::at_secs(1_300_819_000))
//!     .build()?;
//! let verified = validator.validate(token)?;
//! assert_eq!(verified.claims().iss.as_deref(), Some("joe"));
//!
//! let late = Validator::builder()
//!     .jwks(JwkSet::parse(br#"{"keys":[{"kty":"oct",
//!         "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#)?)
//!     .algorithms([Algorithm::Hs256])
//!     .clock(FixedClock::at_secs(1_400_000_000))
//!     .build()?;
//! assert_eq!(late.validate(token).unwrap_err().code(), "expired");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Entry points
//! - [`Validator::validate`] / [`Validator::validate_as`]: a JWT, synchronously, over the keys
//!   the source holds now ([`StaticKeys`] always holds its keys). `validate_as::<T>` fills the
//!   caller's type in the same strict pass that reads the registered claims for the policy
//!   ([`Claims::parse_into`]).
//! - [`Validator::validate_borrowed`]: the same with the payload decoded into a buffer the
//!   caller lends (and reuses), so `T` may borrow `&str` fields from it: no allocation per
//!   validation once the token's header has been seen on this thread.
//! - [`Validator::validate_async`]: the same, asking the [`KeySource`] to refresh when the
//!   token's `kid` is unknown (`jwks-fetch` decides about cooldowns and single flight).
//!   [`Validator::validate_async_as`] is its typed form (one strict pass, as `validate_as`).
//! - [`Validator::verify_jws`]: a JWS whose payload is not a claims set (header policy, key
//!   selection and signature only).
//! - Opt-in [`ValidatorBuilder::verified_token_cache`]: a token seen before skips its
//!   signature (claims and time are checked again on every hit; entries die with their key
//!   set).
//! - Multi-issuer: [`ValidatorBuilder::route`] routes by the unverified `iss` to that issuer's
//!   key source and [`Policy`]; `iss` is checked again after the signature.
//!
//! # Rules
//! - Check order: structure and size; what selects the key and algorithm (`alg` allowed,
//!   `crit`); key selection by `kid`; signature; then `typ` and the claims. Only the header
//!   members that choose the key and algorithm are judged before the signature: a badly
//!   signed expired token, or a badly signed token with the wrong `typ`, is `bad_signature`.
//!   `alg` and `crit` failures never touch the key source.
//! - Size: a token longer than 16 KiB is `too_large` before anything is decoded
//!   ([`jwk_core::Limits::DEFAULT_MAX_TOKEN_LEN`], [`ValidatorBuilder::limits`]). The default
//!   is sized for post-quantum signatures: ML-DSA-87's 4627-byte signature is 6170 base64url
//!   characters, and such a token with a claims set of several KiB still fits; it bounds the
//!   work a hostile token can cost.
//! - Algorithms: by default every asymmetric algorithm the provider supports; `none` never;
//!   HS* only when listed, and an HMAC key is only ever built from an `oct` JWK. ML-DSA-44/65/87
//!   (RFC 9964, `AKP` keys) are in the default list with aws-lc-rs; ring lacks them, so there a
//!   key set's `AKP` keys are set aside (`unsupported_alg`, see [`KeySet::import_failures`]) while its
//!   other keys load, and a token naming ML-DSA is `unsupported_alg`.
//! - Key selection: by `kid`; the key's `alg` must equal the header's (else `key_mismatch`),
//!   `use`/`key_ops` must allow verifying, `kty`/`crv` must fit. The same key published twice
//!   with different `alg` (Asgardeo's `_RS256` / `_PS256` kids) is two keys. A `kid` matching
//!   two fitting keys is refused as ambiguous. Without `kid`, only fitting keys are tried, at
//!   most 5 by default. Header-supplied keys (`jwk`, `jku`, `x5u`, `x5c`) are never used.
//! - Claims: wrong JSON types are `invalid_claim`, never "absent"; `exp` is required by
//!   default; leeway 60 s; a token carrying `aud` needs a named audience or an explicit opt-out.
//!
//! # Claims
//! One type, [`Claims`], for the registered claims whether they borrow from the payload or
//! own their values (`Cow` fields; `jwk_core` has the details). What [`Validator::validate`]
//! returns, and what the verified-token cache stores, is `Claims<'static>`: it owns the
//! decoded payload and outlives the token. [`Verified`]'s type parameter defaults to it, so
//! `Verified` alone names the usual result and no `OwnedClaims` alias is added (one more name
//! for the same type would be one more thing to learn). To keep borrowed claims from a
//! payload you decoded yourself, `Claims::parse`, and `into_owned()` when they must outlive
//! it.
//!
//! # Features
//! - `aws-lc-rs` (default): the aws-lc-rs backend of `jws-crypto`.
//! - `ring`: the ring backend. Both at once is a normal build.
//! - `sign`: forwards `jws-crypto/sign` (token minting, for tests and tools).
//! - `test-util`: `ManualClock`, the workspace's one hand-moved clock (wall and monotonic
//!   time, with sleepers woken on advance), for tests and demos.
//!
//! # Dependencies
//! - `jwk-core`: strict parsing; `jws-crypto`: key import and signature checks.
//! - `serde`: the `Deserialize` bounds of [`Validator::validate_as`],
//!   [`Validator::validate_borrowed`] and [`Verified::claims_as`].
//!
//! # Performance
//! Parsed headers are remembered per thread by their exact base64url text (8 per thread, up
//! to 512 characters each): tokens signed with one key share their header, so a repeat is one
//! comparison and an `Arc` shared by [`Verified`], not a decode, a parse and two strings. The
//! parse is a pure function of the text and the policy runs on every validation, so a
//! remembered header answers exactly as a fresh parse. Figures: `benches/RESULTS.md`.
//! - `tracing`: debug events on key refresh; this crate installs no subscriber.
#![forbid(unsafe_code)]

mod clock;
mod error;
mod headers;
mod policy;
mod select;
mod source;
mod token_cache;
mod validator;

pub use clock::{Clock, FixedClock, SystemClock};
#[cfg(feature = "test-util")]
pub use clock::{ManualClock, ManualSleep};
pub use error::{ConfigError, Error};
pub use policy::Policy;
pub use source::{
    ImportFailure, KeySet, KeySource, Lookup, RefreshFuture, SourceError, SourceErrorKind,
    StaticKeys,
};
pub use validator::{Validator, ValidatorBuilder, Verified, VerifiedJws};

// What a caller names to validate a token, so that `jwt-validate` alone is enough: the
// algorithm list, key sets, the claims and header types, the parsing limits, and the crypto
// provider and key policy of the builder.
pub use jwk_core::{Algorithm, Audience, Claims, Header, Jwk, JwkSet, Limits};
pub use jws_crypto::{KeyPolicy, Provider};
