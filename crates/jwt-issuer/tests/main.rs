//! Integration tests: the key manager on real directories, servers on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod clients;
mod exchange;
mod keys;
#[cfg(feature = "redis")]
mod redis;
mod support;
mod tls;
