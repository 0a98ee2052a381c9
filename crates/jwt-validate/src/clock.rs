//! Time, injectable: the one clock of the workspace.
//!
//! `jwt-validate` reads the wall clock ([`Clock::now`]) to judge `exp`, `nbf` and `iat`;
//! `jwks-fetch` also reads the monotonic clock ([`Clock::monotonic`]) for TTLs, cooldowns and
//! backoff, and sleeps on it through its own extension trait; `jwt-issuer` reads it for key
//! schedules. One test clock ([`ManualClock`], feature `test-util`) drives all three.

use core::fmt::Debug;
use core::time::Duration;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Where "now" is read from.
pub trait Clock: Send + Sync + Debug {
    /// Wall-clock time since the Unix epoch.
    fn now(&self) -> Duration;

    /// Monotonic time, for durations (TTLs, cooldowns, backoff). Default: [`Instant::now`],
    /// so a clock that only fixes the wall time (like [`FixedClock`]) measures durations in
    /// real time.
    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn monotonic(&self) -> Instant {
        (**self).monotonic()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn monotonic(&self) -> Instant {
        (**self).monotonic()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn monotonic(&self) -> Instant {
        (**self).monotonic()
    }
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

/// A clock stopped at one instant: for `jwkctl verify --now` and tests. Its monotonic time
/// is real time.
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

#[cfg(feature = "test-util")]
pub use manual::{ManualClock, ManualSleep};

#[cfg(feature = "test-util")]
mod manual {
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll, Waker};
    use core::time::Duration;
    use std::sync::{Arc, Mutex, MutexGuard};
    use std::time::Instant;

    use super::{Clock, SystemClock};

    /// A clock that moves only when told to ([`ManualClock::advance`], [`ManualClock::set`]):
    /// wall and monotonic time move together, and sleepers ([`ManualClock::sleep_until`]) wake
    /// when their deadline is reached. For tests and demos (feature `test-util`); share it
    /// with `Arc` (every builder takes `impl Clock`, and `Arc<C>` is a `Clock`).
    #[derive(Debug)]
    pub struct ManualClock {
        base: Instant,
        shared: Arc<Shared>,
    }

    #[derive(Debug)]
    struct Shared {
        state: Mutex<State>,
    }

    #[derive(Debug)]
    struct State {
        wall: Duration,
        elapsed: Duration,
        wakers: Vec<Waker>,
    }

    impl ManualClock {
        /// A clock that starts at the real time now.
        pub fn new() -> Self {
            ManualClock::at(SystemClock.now())
        }

        /// A clock that starts at `since_epoch`.
        pub fn at(since_epoch: Duration) -> Self {
            ManualClock {
                base: Instant::now(),
                shared: Arc::new(Shared {
                    state: Mutex::new(State {
                        wall: since_epoch,
                        elapsed: Duration::ZERO,
                        wakers: Vec::new(),
                    }),
                }),
            }
        }

        /// A clock that starts at `secs` seconds after the epoch.
        pub fn at_secs(secs: u64) -> Self {
            ManualClock::at(Duration::from_secs(secs))
        }

        /// Moves time forward by `by` (wall and monotonic), waking sleepers whose deadline
        /// passed.
        pub fn advance(&self, by: Duration) {
            let wakers = {
                let mut st = self.shared.lock();
                st.wall = st.wall.saturating_add(by);
                st.elapsed = st.elapsed.saturating_add(by);
                core::mem::take(&mut st.wakers)
            };
            wakers.into_iter().for_each(Waker::wake);
        }

        /// Sets the wall time to `since_epoch`. Monotonic time moves forward by as much when
        /// this is later, and stands still when it is earlier (monotonic time never goes back).
        pub fn set(&self, since_epoch: Duration) {
            let wakers = {
                let mut st = self.shared.lock();
                let forward = since_epoch.saturating_sub(st.wall);
                st.wall = since_epoch;
                st.elapsed = st.elapsed.saturating_add(forward);
                core::mem::take(&mut st.wakers)
            };
            wakers.into_iter().for_each(Waker::wake);
        }

        /// Sets the wall time to `secs` seconds after the epoch (see [`ManualClock::set`]).
        pub fn set_secs(&self, secs: u64) {
            self.set(Duration::from_secs(secs));
        }

        /// Monotonic time elapsed since the clock was made.
        pub fn elapsed(&self) -> Duration {
            self.shared.lock().elapsed
        }

        /// A future that completes once [`Clock::monotonic`] reaches `deadline`. It owns what
        /// it needs (`'static`), so it can be spawned.
        pub fn sleep_until(&self, deadline: Instant) -> ManualSleep {
            ManualSleep {
                base: self.base,
                shared: self.shared.clone(),
                deadline,
            }
        }
    }

    impl Default for ManualClock {
        fn default() -> Self {
            ManualClock::new()
        }
    }

    impl Shared {
        fn lock(&self) -> MutexGuard<'_, State> {
            // Plain fields: consistent across a panic.
            self.state.lock().unwrap_or_else(|p| p.into_inner())
        }
    }

    fn monotonic(base: Instant, elapsed: Duration) -> Instant {
        base.checked_add(elapsed).unwrap_or(base)
    }

    impl Clock for ManualClock {
        fn now(&self) -> Duration {
            self.shared.lock().wall
        }
        fn monotonic(&self) -> Instant {
            monotonic(self.base, self.shared.lock().elapsed)
        }
    }

    /// The future of [`ManualClock::sleep_until`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct ManualSleep {
        base: Instant,
        shared: Arc<Shared>,
        deadline: Instant,
    }

    impl Future for ManualSleep {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let mut st = self.shared.lock();
            if monotonic(self.base, st.elapsed) >= self.deadline {
                return Poll::Ready(());
            }
            if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                st.wakers.push(cx.waker().clone());
            }
            Poll::Pending
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use core::sync::atomic::{AtomicUsize, Ordering};
        use std::task::Wake;

        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }

        #[test]
        fn wall_and_monotonic_move_together_and_sleepers_wake() {
            let clock = ManualClock::at_secs(1_000);
            let t0 = clock.monotonic();
            let mut sleep = Box::pin(clock.sleep_until(t0 + Duration::from_secs(30)));
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
            clock.advance(Duration::from_secs(29));
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
            clock.advance(Duration::from_secs(1));
            assert!(sleep.as_mut().poll(&mut cx).is_ready());
            assert_eq!(clock.now(), Duration::from_secs(1_030));
            assert_eq!(clock.monotonic() - t0, Duration::from_secs(30));
            // Setting the wall time back leaves monotonic time where it is.
            clock.set_secs(10);
            assert_eq!(clock.now(), Duration::from_secs(10));
            assert_eq!(clock.elapsed(), Duration::from_secs(30));
            clock.set_secs(20);
            assert_eq!(clock.elapsed(), Duration::from_secs(40));
        }

        #[test]
        fn shared_through_arc_and_dyn() {
            let clock = Arc::new(ManualClock::at_secs(5));
            let as_dyn: Arc<dyn Clock> = clock.clone();
            let boxed: Box<dyn Clock> = Box::new(clock.clone());
            clock.advance(Duration::from_secs(1));
            assert_eq!(as_dyn.now(), Duration::from_secs(6));
            assert_eq!(boxed.now(), Duration::from_secs(6));
            assert_eq!(Clock::now(&&*clock), Duration::from_secs(6));
        }
    }
}
