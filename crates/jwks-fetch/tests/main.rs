//! Integration tests: real servers on 127.0.0.1, an injected clock for the cache.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs,
    unreachable_pub
)]

mod support;

mod cache;
mod fetch;
