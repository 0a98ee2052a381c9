//! Integration tests of jwt-validate: one binary (see STYLE.md section 8).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    unreachable_pub,
    missing_docs
)]

mod asgardeo;
mod attacks;
mod claims;
mod codes;
mod common;
mod laws;
mod mldsa;
mod sources;
mod wycheproof;
