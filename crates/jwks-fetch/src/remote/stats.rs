//! What a source reports: [`Health`], [`Stats`] and the [`Event`]s after each fetch.

use core::fmt;
use core::time::Duration;
use std::time::SystemTime;

use crate::diff::KeySetDiff;
use crate::error::FetchError;

#[cfg(doc)]
use crate::RemoteJwks;

/// How usable a source's keys are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// Keys within their TTL.
    Fresh,
    /// Keys past their TTL but within the max staleness (refreshes failing).
    Stale,
    /// No usable keys: never loaded, or staler than allowed.
    Unavailable,
}

impl Health {
    /// `fresh`, `stale` or `unavailable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Fresh => "fresh",
            Health::Stale => "stale",
            Health::Unavailable => "unavailable",
        }
    }
}

/// Counters and state of one source, for health endpoints and `jwkctl jwks watch`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// The configured JWKS URL or issuer.
    pub source: String,
    /// The JWKS URL in use (after discovery).
    pub jwks_uri: Option<String>,
    /// HTTP requests sent (discovery and redirect hops included).
    pub requests: u64,
    /// Fetch attempts (each may be several requests).
    pub fetches: u64,
    /// Attempts that returned a document (200).
    pub updates: u64,
    /// Attempts answered with 304 Not Modified.
    pub not_modified: u64,
    /// Attempts that failed.
    pub failures: u64,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Refetches for an unknown `kid` (or a token without one).
    pub forced_refreshes: u64,
    /// Unknown `kid`s answered from the cache because of the cooldown.
    pub cooldown_skips: u64,
    /// Unknown `kid`s answered from the negative cache.
    pub negative_hits: u64,
    /// Keys held: the JWKs of the document that parsed as usable (`JwkSet::keys`).
    pub key_count: usize,
    /// When the last attempt succeeded (200 or 304).
    pub last_success: Option<SystemTime>,
    /// The last failure, if the last attempt failed or ever did.
    pub last_error: Option<FetchError>,
    /// When it happened.
    pub last_error_at: Option<SystemTime>,
    /// How far past expiry the held keys are (zero while fresh); `None` with nothing held.
    pub staleness: Option<Duration>,
    /// Time left before the held keys expire (zero once expired).
    pub expires_in: Option<Duration>,
    /// Time before the next attempt is allowed after failures.
    pub retry_in: Option<Duration>,
    /// Summary.
    pub health: Health,
    /// The last non-empty change of the key set.
    pub last_diff: Option<KeySetDiff>,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "health={} keys={} requests={} fetches={} updates={} not_modified={} failures={} \
             consecutive_failures={} forced={} cooldown_skips={}",
            self.health.as_str(),
            self.key_count,
            self.requests,
            self.fetches,
            self.updates,
            self.not_modified,
            self.failures,
            self.consecutive_failures,
            self.forced_refreshes,
            self.cooldown_skips,
        )?;
        if let Some(s) = self.staleness {
            write!(f, " staleness_s={}", s.as_secs())?;
        }
        if let Some(e) = &self.last_error {
            write!(f, " last_error={}", e.code())?;
        }
        Ok(())
    }
}

/// What a source reports after each fetch attempt ([`RemoteJwks::subscribe`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A new document was accepted; `diff` may be empty.
    Updated {
        /// What changed.
        diff: KeySetDiff,
        /// Stats after the update.
        stats: Box<Stats>,
    },
    /// 304: the keys held were confirmed and their freshness renewed.
    NotModified {
        /// Stats after.
        stats: Box<Stats>,
    },
    /// The attempt failed; the keys held (if any) are kept.
    Failed {
        /// Why.
        error: FetchError,
        /// Stats after.
        stats: Box<Stats>,
    },
}

impl fmt::Display for Event {
    /// One line, for `jwkctl jwks watch`: `updated added [..] removed [..] changed [..] | stats`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Updated { diff, stats } if diff.is_empty() => {
                write!(f, "unchanged | {stats}")
            }
            Event::Updated { diff, stats } => write!(f, "updated {diff} | {stats}"),
            Event::NotModified { stats } => write!(f, "not-modified | {stats}"),
            Event::Failed { error, stats } => {
                write!(f, "failed {}: {error} | {stats}", error.code())
            }
        }
    }
}
