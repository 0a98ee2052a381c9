//! Integration tests of jwt-tower: an axum app behind the layer on 127.0.0.1, keys from a real
//! `jwt-issuer` JWKS endpoint through `jwks-fetch`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    unreachable_pub,
    missing_docs
)]

mod axum_app;
mod grpc;
mod spans;
mod support;
