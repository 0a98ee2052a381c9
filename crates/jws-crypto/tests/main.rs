//! Integration tests for jws-crypto, one binary: RFC examples, key checks, Wycheproof.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod keys;
mod rfc;
#[cfg(feature = "sign")]
mod sign;
mod wycheproof_jose;
mod wycheproof_primitives;
