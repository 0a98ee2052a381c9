//! Time as a value, so tests step through TTLs and cooldowns without sleeping.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use tokio::sync::watch;

/// A future that completes at a deadline of a [`Clock`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the cache reads the time. Cooldowns, TTLs, backoff and staleness use [`Clock::now`];
/// `Expires` and `Retry-After` dates use [`Clock::system_now`]. Network deadlines (connect and
/// request timeouts) always use real time: they bound real sockets.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock now.
    fn system_now(&self) -> SystemTime;
    /// Completes once `now() >= deadline`.
    fn sleep_until(&self, deadline: Instant) -> Sleep;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}

/// A clock that moves only when told to ([`ManualClock::advance`]); for tests.
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    system_base: SystemTime,
    offset: watch::Sender<Duration>,
    // Serializes advances so two concurrent calls add up.
    lock: Mutex<()>,
}

impl ManualClock {
    /// A clock that starts at the real time now.
    pub fn new() -> Self {
        ManualClock {
            base: Instant::now(),
            system_base: SystemTime::now(),
            offset: watch::channel(Duration::ZERO).0,
            lock: Mutex::new(()),
        }
    }

    /// Moves time forward by `by`, waking sleepers whose deadline passed.
    pub fn advance(&self, by: Duration) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.offset.send_modify(|o| *o = o.saturating_add(by));
    }

    /// Time elapsed since the clock was made.
    pub fn elapsed(&self) -> Duration {
        *self.offset.borrow()
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let offset = *self.offset.borrow();
        self.base.checked_add(offset).unwrap_or(self.base)
    }
    fn system_now(&self) -> SystemTime {
        let offset = *self.offset.borrow();
        self.system_base
            .checked_add(offset)
            .unwrap_or(self.system_base)
    }
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        let mut rx = self.offset.subscribe();
        let base = self.base;
        Box::pin(async move {
            // An error means the clock is gone: nobody can advance it, so wait forever, like a
            // stopped clock would.
            let reached = |o: &Duration| base.checked_add(*o).is_none_or(|t| t >= deadline);
            if rx.wait_for(reached).await.is_err() {
                core::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_sleep_wakes_on_advance() {
        let clock = std::sync::Arc::new(ManualClock::new());
        let deadline = clock.now() + Duration::from_secs(30);
        let sleep = clock.sleep_until(deadline);
        let task = tokio::spawn(sleep);
        clock.advance(Duration::from_secs(29));
        tokio::task::yield_now().await;
        assert!(!task.is_finished());
        clock.advance(Duration::from_secs(1));
        task.await.unwrap();
        assert_eq!(clock.elapsed(), Duration::from_secs(30));
    }
}
