//! jwk-core's integration tests: one binary, one module per source of truth.
//!
//! Vectors live in `tests/vectors/` (see its README for sources and licences) and are read by
//! `load`, which fails when a field goes unread. Fuzz crashes live in `tests/regressions/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]
// A test binary runs on std; the no_std lints are for the library.
#![allow(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

#[path = "suite/hostile.rs"]
mod hostile;
#[path = "suite/load.rs"]
mod load;
#[path = "suite/props.rs"]
mod props;
#[path = "suite/providers.rs"]
mod providers;
#[path = "suite/regressions.rs"]
mod regressions;
#[path = "suite/rfc7515.rs"]
mod rfc7515;
#[path = "suite/rfc7520.rs"]
mod rfc7520;
#[path = "suite/rfc7638.rs"]
mod rfc7638;
#[path = "suite/rfc8037.rs"]
mod rfc8037;
#[path = "suite/rfc9964.rs"]
mod rfc9964;
#[path = "suite/typed.rs"]
mod typed;
