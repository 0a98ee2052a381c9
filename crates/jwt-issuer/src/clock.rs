//! Time, injectable: `jwt-validate`'s clock, so one test clock drives the issuer, its key
//! schedule, the validators it uses and (through `jwks-fetch`) the caches of the issuers it
//! trusts.

pub use jwt_validate::{Clock, SystemClock};

#[cfg(feature = "test-util")]
pub use jwt_validate::ManualClock;
