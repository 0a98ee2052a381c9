//! Integration tests for jws-crypto, one binary: RFC examples, key checks, Wycheproof
//! (primitive and JOSE-level), proptest laws, and the `sign` feature.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod keys;
mod mldsa;
mod rfc;
mod roundtrip;
#[cfg(feature = "sign")]
mod sign;
mod wycheproof_jose;
mod wycheproof_primitives;
