//! The Redis replay store: several token-service instances share one record of seen `jti`
//! values (feature `redis`).
//!
//! One round trip per assertion: `SET <key> 1 NX PXAT <expires_at in ms>`. Redis answers `OK`
//! when the key was absent (fresh: recorded until the assertion can no longer be accepted)
//! and nil when it exists (a replay). `NX` makes the check and the record one atomic step on
//! the server, so two instances receiving the same assertion at the same moment cannot both
//! accept it.
//!
//! Fail closed: an unreachable server, an answer slower than the command timeout, or an
//! error reply is a [`ReplayStoreError`] (503 with `Retry-After` at the token endpoint), never
//! an acceptance. The connection is re-established in the background by the `redis` crate's
//! `ConnectionManager`; the store recovers by itself when Redis answers again.

use core::fmt;
use core::time::Duration;
use std::path::PathBuf;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, TlsCertificates, Value};

use crate::error::Error;
use crate::replay::{HealthFuture, ReplayFuture, ReplayStore, ReplayStoreError, Seen};

/// Builds a [`RedisReplayStore`]. Defaults in each method's doc.
#[derive(Debug, Clone)]
pub struct RedisReplayStoreBuilder {
    url: String,
    key_prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    ca_file: Option<PathBuf>,
}

impl RedisReplayStoreBuilder {
    /// `rediss://` only: trust the CA certificate(s) in this PEM file for the Redis server's
    /// certificate, instead of the system's roots. Default: the system's roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Prefix of every key the store writes (several services may share one database).
    /// Default `"jwt-issuer:jti:"`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Time allowed to open a connection (TCP, TLS, `AUTH`, `SELECT`). Default 1 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Time allowed for one command's answer, connecting included when the connection must
    /// be re-established; past it the request is answered 503. Default 500 ms.
    pub fn command_timeout(mut self, d: Duration) -> Self {
        self.command_timeout = d;
        self
    }

    /// Checks the URL and sets up the connection manager. Does not wait for Redis: a server
    /// that is down now only makes requests fail (503) until it answers. Must run inside a
    /// Tokio runtime (the connection manager spawns its reconnection task there).
    pub fn build(self) -> Result<RedisReplayStore, Error> {
        let shown = redact(&self.url);
        if !(self.url.starts_with("redis://") || self.url.starts_with("rediss://")) {
            return Err(Error::config(format!(
                "replay store {shown:?}: expected \"memory\", redis://HOST:PORT/DB or rediss://HOST:PORT/DB"
            )));
        }
        if self.connect_timeout.is_zero() || self.command_timeout.is_zero() {
            return Err(Error::config("redis timeouts must be positive"));
        }
        if self.url.starts_with("rediss://") {
            // The redis crate builds its rustls client configuration from the process-wide
            // provider; install the one this crate was compiled with when none is set (a
            // no-op when the application installed one).
            let _ = crate::server::tls_provider().install_default();
        }
        let bad = |e: &dyn fmt::Display| Error::config(format!("replay store {shown:?}: {e}"));
        let client = match &self.ca_file {
            None => Client::open(self.url.as_str()).map_err(|e| bad(&e))?,
            Some(ca) => {
                if !self.url.starts_with("rediss://") {
                    return Err(bad(&"a CA file applies to rediss:// (TLS) only"));
                }
                let pem = std::fs::read(ca).map_err(|e| bad(&format!("{}: {e}", ca.display())))?;
                let certs = TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                Client::build_with_tls(self.url.as_str(), certs).map_err(|e| bad(&e))?
            }
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.command_timeout))
            // One attempt per reconnection: requests fail fast (503) while Redis is down, and
            // the next request after a failure starts a fresh attempt.
            .set_number_of_retries(0)
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| Error::config(format!("replay store {shown:?}: {e}")))?;
        Ok(RedisReplayStore {
            manager,
            shown,
            key_prefix: self.key_prefix,
            command_timeout: self.command_timeout,
        })
    }
}

/// A [`ReplayStore`] in Redis, shared by every instance pointed at the same database.
#[derive(Clone)]
pub struct RedisReplayStore {
    manager: ConnectionManager,
    /// The URL without its password, for logs and errors.
    shown: String,
    key_prefix: String,
    command_timeout: Duration,
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("url", &self.shown)
            .field("key_prefix", &self.key_prefix)
            .field("command_timeout", &self.command_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisReplayStore {
    /// Starts building a store on `url`: `redis://[:PASSWORD@]HOST:PORT/DB` or `rediss://…`
    /// (TLS; the server certificate is checked against the system's roots, or the CA of
    /// [`RedisReplayStoreBuilder::ca_file`]).
    pub fn builder(url: impl Into<String>) -> RedisReplayStoreBuilder {
        RedisReplayStoreBuilder {
            url: url.into(),
            key_prefix: "jwt-issuer:jti:".into(),
            connect_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_millis(500),
            ca_file: None,
        }
    }

    /// The URL with any password replaced by `***`.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The key recording `(issuer, jti)`: the prefix, then the issuer's length, so that
    /// `("ab", "c")` and `("a", "bc")` stay apart.
    pub fn key(&self, issuer: &str, jti: &str) -> String {
        format!("{}{}:{issuer}{jti}", self.key_prefix, issuer.len())
    }

    /// Sends one command under the command timeout. A connection-level failure (the socket
    /// broke, or an earlier reconnection attempt failed while Redis was down) makes the
    /// connection manager start a fresh connection at once; the command is sent once more on
    /// it, so the first request after Redis returns already succeeds. (A `SET NX` that
    /// reached Redis before the socket broke then answers "replayed": the safe side.)
    async fn query(&self, cmd: redis::Cmd) -> Result<Value, ReplayStoreError> {
        let attempt = async {
            let mut conn = self.manager.clone();
            match cmd.query_async::<Value>(&mut conn).await {
                Err(e) if e.is_io_error() || e.is_unrecoverable_error() => {
                    tracing::debug!(error = %e, "redis connection lost; reconnecting");
                    cmd.query_async::<Value>(&mut conn).await
                }
                r => r,
            }
        };
        match tokio::time::timeout(self.command_timeout, attempt).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ReplayStoreError {
                message: format!("redis {}: {e}", self.shown),
            }),
            Err(_) => Err(ReplayStoreError {
                message: format!(
                    "redis {}: no answer within {} ms",
                    self.shown,
                    self.command_timeout.as_millis()
                ),
            }),
        }
    }

    async fn check(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<Seen, ReplayStoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(issuer, jti))
            .arg("1")
            .arg("NX")
            .arg("PXAT")
            .arg(expires_at.max(1).saturating_mul(1000));
        match self.query(cmd).await? {
            Value::Okay => Ok(Seen::Fresh),
            Value::SimpleString(s) if s == "OK" => Ok(Seen::Fresh),
            Value::Nil => Ok(Seen::Replayed),
            other => Err(ReplayStoreError {
                message: format!(
                    "redis {}: unexpected answer to SET NX: {other:?}",
                    self.shown
                ),
            }),
        }
    }

    /// `PING`: whether Redis answers now, within the command timeout.
    pub async fn ping(&self) -> Result<(), ReplayStoreError> {
        match self.query(redis::cmd("PING")).await? {
            Value::SimpleString(s) if s == "PONG" => Ok(()),
            other => Err(ReplayStoreError {
                message: format!("redis {}: unexpected answer to PING: {other:?}", self.shown),
            }),
        }
    }
}

impl ReplayStore for RedisReplayStore {
    fn check_and_record<'a>(
        &'a self,
        issuer: &'a str,
        jti: &'a str,
        expires_at: i64,
        _now: i64,
    ) -> ReplayFuture<'a> {
        // Expiry is Redis's: the key disappears at `expires_at` by the server's clock.
        Box::pin(self.check(issuer, jti, expires_at))
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn health(&self) -> HealthFuture<'_> {
        Box::pin(self.ping())
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            redact("redis://:hunter2@10.0.0.1:6379/0"),
            "redis://:***@10.0.0.1:6379/0"
        );
        assert_eq!(
            redact("rediss://app:p@ss@r.example:6380/2"),
            "rediss://app:***@r.example:6380/2"
        );
        assert_eq!(
            redact("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
    }

    #[tokio::test]
    async fn bad_urls_are_config_errors() {
        for bad in ["memcached://x", "redis//x", "http://127.0.0.1:6379"] {
            let e = RedisReplayStore::builder(bad).build().unwrap_err();
            assert_eq!(e.code(), "invalid_config", "{bad}");
        }
        let e = RedisReplayStore::builder("redis://127.0.0.1:1/0")
            .command_timeout(Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(e.code(), "invalid_config");
    }

    #[test]
    fn keys_keep_issuer_and_jti_apart() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _g = rt.enter();
        let s = RedisReplayStore::builder("redis://127.0.0.1:1/0")
            .key_prefix("p:")
            .build()
            .unwrap();
        assert_eq!(s.key("ab", "c"), "p:2:abc");
        assert_ne!(s.key("ab", "c"), s.key("a", "bc"));
    }
}
