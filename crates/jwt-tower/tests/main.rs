//! Integration tests of jwt-tower: an axum app behind the layer on 127.0.0.1, keys from a real
//! `jwt-issuer` JWKS endpoint through `jwks-fetch`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    unreachable_pub,
    missing_docs
)]
// Without `axum`, part of the shared support serves no test.
#![cfg_attr(not(feature = "axum"), allow(dead_code))]

// The axum app uses the `axum` feature's extractors; `cargo xtask ci` runs with every feature.
#[cfg(feature = "axum")]
mod axum_app;
mod grpc;
mod spans;
mod support;
