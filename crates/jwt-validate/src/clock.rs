//! Time, injectable.

use core::fmt::Debug;
use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the validator reads "now" from.
pub trait Clock: Send + Sync + Debug {
    /// Time since the Unix epoch.
    fn now(&self) -> Duration;
}

/// The system clock (the default). A clock before 1970 reads as the epoch.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }
}

/// A clock stopped at one instant: for tests and `jwkctl verify --now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub Duration);

impl FixedClock {
    /// Stopped at `secs` seconds after the epoch.
    pub fn at_secs(secs: u64) -> Self {
        FixedClock(Duration::from_secs(secs))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Duration {
        self.0
    }
}
