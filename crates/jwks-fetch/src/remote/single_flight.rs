//! Single flight: one fetch at a time, on its own task, shared by every caller that asks
//! meanwhile; waiters never hang on a fetch that will not land.

use std::sync::Arc;

use tokio::sync::watch;

use super::{Inner, Kind};
use crate::error::FetchError;

/// `None` while the fetch runs, then its result.
pub(super) type Outcome = Option<Result<(), FetchError>>;

/// The fetch in flight: what started it, and where its result lands.
pub(super) struct Flight {
    pub(super) kind: Kind,
    pub(super) rx: watch::Receiver<Outcome>,
}

/// Clears the flight when the fetch task ends, however it ends (a runtime shutting down
/// drops it), so waiters never hang on a flight that will not land.
pub(super) struct FlightGuard {
    pub(super) inner: Arc<Inner>,
    pub(super) tx: watch::Sender<Outcome>,
}

impl FlightGuard {
    pub(super) fn finish(self, outcome: Result<(), FetchError>) {
        self.inner.lock().flight = None;
        self.tx.send_replace(Some(outcome));
        self.inner.wake.notify_one();
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if self.tx.borrow().is_none() {
            let mut st = self.inner.lock();
            st.flight = None;
        }
    }
}

/// Waits for the flight's result (a dropped flight is `no_runtime`).
pub(super) async fn wait(mut rx: watch::Receiver<Outcome>) -> Result<(), FetchError> {
    match rx.wait_for(Option::is_some).await {
        Ok(v) => v.clone().unwrap_or(Err(FetchError::Runtime)),
        Err(_) => Err(FetchError::Runtime),
    }
}
