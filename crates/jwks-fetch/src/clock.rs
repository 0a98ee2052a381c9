//! Sleeping on `jwt-validate`'s [`Clock`], so tests step through TTLs and cooldowns without
//! sleeping.
//!
//! The cache reads monotonic time ([`Clock::monotonic`]) for cooldowns, TTLs, backoff and
//! staleness, and wall time ([`Clock::now`]) for `Expires` / `Retry-After` dates and
//! [`crate::Stats`]. Network deadlines (connect and request timeouts) always use real time:
//! they bound real sockets. The background refresher sleeps through [`SleepClock`].

use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use jwt_validate::{Clock, FixedClock, SystemClock};

/// A future that completes at a deadline of a [`SleepClock`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A [`Clock`] the background refresher can sleep on: [`SystemClock`] and [`FixedClock`]
/// sleep on tokio's timer; `jwt_validate::ManualClock` (feature `test-util`) wakes when moved
/// past the deadline.
pub trait SleepClock: Clock {
    /// Completes once `monotonic() >= deadline`.
    fn sleep_until(&self, deadline: Instant) -> Sleep;
}

impl SleepClock for SystemClock {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

impl SleepClock for FixedClock {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

#[cfg(feature = "test-util")]
impl SleepClock for jwt_validate::ManualClock {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(jwt_validate::ManualClock::sleep_until(self, deadline))
    }
}

impl<C: SleepClock + ?Sized> SleepClock for Arc<C> {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        (**self).sleep_until(deadline)
    }
}

impl<C: SleepClock + ?Sized> SleepClock for Box<C> {
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        (**self).sleep_until(deadline)
    }
}

/// The wall time of `clock` as a [`SystemTime`].
pub(crate) fn system_now(clock: &dyn Clock) -> SystemTime {
    UNIX_EPOCH.checked_add(clock.now()).unwrap_or(UNIX_EPOCH)
}
