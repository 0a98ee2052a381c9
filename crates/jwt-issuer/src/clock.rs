//! Time, injectable: the same clock type as `jwt-validate`, so one test clock drives the
//! issuer, its key schedule and the validators it uses.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

pub use jwt_validate::{Clock, SystemClock};

/// A clock that stands still until moved: for tests and `jwkctl demo`.
#[derive(Debug, Default)]
pub struct ManualClock {
    secs: AtomicU64,
}

impl ManualClock {
    /// Stopped at `secs` seconds after the epoch.
    pub fn at_secs(secs: u64) -> Self {
        ManualClock {
            secs: AtomicU64::new(secs),
        }
    }

    /// Moves the clock forward by `d` (whole seconds).
    pub fn advance(&self, d: Duration) {
        self.secs.fetch_add(d.as_secs(), Ordering::SeqCst);
    }

    /// Sets the clock to `secs`.
    pub fn set_secs(&self, secs: u64) {
        self.secs.store(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_secs(self.secs.load(Ordering::SeqCst))
    }
}
