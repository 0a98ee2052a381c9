//! Counters per result code: a plain snapshot API.
//!
//! Why not the `metrics` facade: it needs a process-wide recorder installed by the
//! application, and would make this crate pick label names and a registry for every user. A
//! fixed array of relaxed atomics costs one `fetch_add` per request, has no global state (two
//! layers in one process count apart), and [`Metrics::snapshot`] hands the figures to whatever
//! exporter the application runs (Prometheus, OpenTelemetry, a log line).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::error::all_codes;

/// Counters per result code (`ok`, `missing_token`, `invalid_request`, each validator code,
/// `insufficient_scope`, `missing_role`, `check_failed`, `jwks_unavailable`).
#[derive(Debug)]
pub struct Metrics {
    codes: Vec<&'static str>,
    counts: Box<[AtomicU64]>,
}

impl Default for Metrics {
    fn default() -> Self {
        let codes = all_codes();
        let counts = codes.iter().map(|_| AtomicU64::new(0)).collect();
        Metrics { codes, counts }
    }
}

impl Metrics {
    pub(crate) fn record(&self, code: &str) {
        let i = self
            .codes
            .iter()
            .position(|c| *c == code)
            .unwrap_or(self.codes.len() - 1);
        if let Some(n) = self.counts.get(i) {
            n.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The count for one code (0 for a code never seen or unknown).
    pub fn get(&self, code: &str) -> u64 {
        self.codes
            .iter()
            .position(|c| *c == code)
            .and_then(|i| self.counts.get(i))
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    /// Every code with its count, in a fixed order (zeros included).
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        self.codes
            .iter()
            .zip(self.counts.iter())
            .map(|(c, n)| (*c, n.load(Ordering::Relaxed)))
            .collect()
    }
}
