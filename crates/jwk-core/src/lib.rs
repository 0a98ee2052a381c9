//! Strict parsing of JOSE objects: base64url, compact JWS, headers, JWK and JWK Sets, RFC 7638
//! thumbprints, JWT claims.
//!
//! Not here: signatures (`jws-crypto`), trust decisions (`jwt-validate`), I/O of any kind.
//!
//! Invariant: no I/O, no crypto beyond the SHA-256 of RFC 7638, no async, no panics on input.
//!
//! ```
//! let set = jwk_core::JwkSet::parse(br#"{"keys":[{"kty":"OKP","crv":"Ed25519",
//!     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}]}"#)?;
//! assert_eq!(set.keys.len(), 1);
//! assert_eq!(set.keys[0].thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
//!
//! let jws = jwk_core::UnverifiedJws::parse(
//!     "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
//!     &jwk_core::Limits::default(),
//! )?;
//! assert_eq!(jws.header().alg, jwk_core::Algorithm::EdDsa);
//! # Ok::<(), jwk_core::Error>(())
//! ```
//!
//! # Strictness
//! - base64url per RFC 7515 section 2: no padding, no `+` `/` or whitespace, no
//!   non-canonical trailing bits.
//! - JSON: duplicate member names are refused at every depth (the last-one-wins behaviour of
//!   most parsers is a known parser-differential attack), nesting is bounded
//!   ([`json::MAX_DEPTH`]), header and payload must be objects.
//! - Sizes are checked before any decoding ([`Limits`]).
//!
//! # RSA keys: leading zero octets are normalised, not refused
//! RFC 7518 section 6.3.1.1 forbids a leading zero octet in `n` (and `e` is likewise a
//! minimal unsigned integer), yet encoders that copy a DER INTEGER emit one. Such a key is the
//! same key: parsing drops the zero octets, so [`RsaPublic`] always holds the minimal form and
//! [`Jwk::thumbprint`] (RFC 7638, which hashes the minimal form) is a function of the key, not
//! of its encoding; a thumbprint allow or deny list cannot be sidestepped by padding `n`.
//! Refusing would break interoperability with those encoders for no security gain, since the
//! integer, and so every signature check, is the same either way. `n` or `e` of only zero
//! octets is `invalid_key`.
//!
//! # One claims type, borrowed or owned
//! [`Claims`] holds the registered claims as `Cow<'a, str>`: [`Claims::parse`] borrows them
//! from the payload where the text has no escapes, [`Claims::parse_owned`] and
//! [`Claims::into_owned`] give a `Claims<'static>` to store or send across threads.
//!
//! # One pass into the caller's type
//! [`Claims::parse_into`] applies the same rules while deserializing the claims into the
//! caller's type (which may borrow from the payload) and reading the registered claims. The
//! usual claims set (unescaped strings, non-negative integers, literals, arrays, objects) is
//! read in one pass by a small strict deserializer of this crate; anything else, and every
//! error, in two: the general strict parse, then `serde_json` over the text it checked
//! ([`json::CheckedJson`]), so the answer never depends on which path ran (tested
//! differentially and fuzzed). [`Header::parse`] has the same kind of fast path for the
//! flat `{"alg","kid","typ","cty"}` header, and base64url decoding a SIMD one, each checked
//! against the general code.
//!
//! # Algorithm names
//! [`Algorithm`] is `Copy` and passed by value. An unregistered `alg` is
//! [`Algorithm::Unknown`], which carries no text: the name stays where it was received.
//! [`Header::alg_name`] and [`Jwk::alg_name`] answer it exactly (case-sensitive: `"None"` is
//! unknown, never `none`), [`Header::to_json`] and [`Jwk::to_value`] write it back, so an
//! unknown `alg` in a header or a published key set round-trips, and errors that must name it
//! carry it as their own string. [`Algorithm::as_str`] of a bare `Unknown` is `"unknown"`.
//!
//! # Features
//! - `std` (default): implements `std::error::Error`. Without it the crate is `no_std` + `alloc`.
//! - `test-util`: `test_util`, the general parsers without their fast paths, for this
//!   workspace's tests, fuzz targets and benchmarks; not part of the API.
//!
//! # Dependencies
//! - `base64`: the strict engine (no padding, canonical trailing bits): it decodes whatever the
//!   fast path declines and words every base64url error.
//! - `base64-simd`: the fast path, SIMD decoding of valid base64url (CPU features detected at
//!   run time with `std`), equally strict; about 3.4x the `base64` engine on a JWT payload.
//! - `serde` / `serde_json`: JSON parsing through our own visitors, which see every member;
//!   `float_roundtrip` so that numbers printed by `to_json()` parse back to the same value.
//! - `sha2`: SHA-256 for RFC 7638 thumbprints; pure Rust and `no_std`.
//! - `memchr`: finds the two dots of a compact JWS with SIMD (AVX2 detected at run time with
//!   `std`); the portable search cost about 1k instructions on an RSA token, `memchr` 0.2k.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod alg;
pub mod b64;
mod claims;
mod error;
mod flat;
mod header;
pub mod json;
mod jwk;
mod jwks;
mod jws;
mod thumbprint;

/// The general parsers without their fast paths: the references the fast paths are tested,
/// fuzzed and benchmarked against. Not part of the API (feature `test-util`).
#[cfg(feature = "test-util")]
pub mod test_util {
    use crate::{Claims, Error, Header};

    /// [`Claims::parse`] without the flat fast path.
    pub fn claims_parse_general(json: &[u8]) -> Result<Claims<'_>, Error> {
        Claims::parse_general(json)
    }

    /// [`Header::parse`] without the fast path for the flat header.
    pub fn header_parse_general(json: &[u8]) -> Result<Header, Error> {
        Header::parse_general(json)
    }
}

pub use alg::{Algorithm, Family};
pub use claims::{Audience, Claims, NumericDate};
pub use error::{Error, Part};
pub use header::{strip_application, Header, REGISTERED_NAMES};
pub use jwk::{
    rsa_bits, AkpPublic, EcCurve, EcPublic, Jwk, KeyParams, KeyUse, MlDsaParams, OctKey, OkpCurve,
    OkpPublic, RsaPublic,
};
pub use jwks::{JwkSet, RejectedKey};
pub use jws::{Compact, Limits, UnverifiedJws};

/// `serde_json`'s value type, used for unregistered members.
pub use serde_json::Value;
