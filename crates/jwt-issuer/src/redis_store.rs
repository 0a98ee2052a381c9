//! The Redis replay store: several token-service instances share one record of seen `jti`
//! values (feature `redis`).
//!
//! One round trip per assertion. Without quotas: `SET <key> 1 NX PXAT <expires_at in ms>`;
//! Redis answers `OK` when the key was absent (fresh: recorded until the assertion can no
//! longer be accepted) and nil when it exists (a replay). `NX` makes the check and the record
//! one atomic step on the server, so two instances receiving the same assertion at the same
//! moment cannot both accept it. With quotas (per trusted issuer, per client): one `EVALSHA` of
//! `QUOTA_SCRIPT`, which also keeps, per party, a sorted set of its unexpired entries
//! (score: expiry; the set itself expires with its newest entry) and refuses an entry that
//! would take a party over its quota; a script runs atomically in Redis.
//!
//! Fail closed: an unreachable server, an answer slower than the command timeout, or an
//! error reply is a [`ReplayStoreError`] (503 with `Retry-After` at the token endpoint), never
//! an acceptance. The connection is re-established in the background by the `redis` crate's
//! `ConnectionManager`; the store recovers by itself when Redis answers again.

use core::fmt;
use core::time::Duration;
use std::path::PathBuf;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ErrorKind, ServerErrorKind, TlsCertificates, Value};

use crate::error::Error;
use crate::replay::{
    AssertionKind, HealthFuture, ReplayEntry, ReplayFuture, ReplayStore, ReplayStoreError, Seen,
};

/// The quota check: `KEYS[1]` the entry, `KEYS[2..]` each party's sorted set; `ARGV[1]` the
/// entry's expiry (milliseconds since the epoch), `ARGV[2..]` each party's quota. Answers 0
/// (fresh, recorded), 1 (replayed) or 2 (over quota, nothing recorded). Time is Redis's
/// (`TIME`), the same clock that expires the entries; expired members are dropped from a set
/// only when it reaches its quota (a set never holds more members than its quota). Needs
/// Redis 7.0 or later
/// (`PEXPIREAT … GT`).
pub(crate) const QUOTA_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
for i = 2, #KEYS do
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[i]) then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[i]) then return 2 end
  end
end
redis.call('SET', KEYS[1], '1', 'PXAT', ARGV[1])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[1], KEYS[1])
  if redis.call('PEXPIREAT', KEYS[i], ARGV[1], 'GT') == 0 and redis.call('PTTL', KEYS[i]) == -1 then
    redis.call('PEXPIREAT', KEYS[i], ARGV[1])
  end
end
return 0
";

/// Builds a [`RedisReplayStore`]. Defaults in each method's doc.
#[derive(Debug, Clone)]
pub struct RedisReplayStoreBuilder {
    url: String,
    key_prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    ca_file: Option<PathBuf>,
    per_issuer: Option<usize>,
    per_client: Option<usize>,
}

impl RedisReplayStoreBuilder {
    /// Quotas of unexpired entries: at most `per_issuer` from one trusted issuer's grants and
    /// at most `per_client` made by one client (the same rules as
    /// [`crate::MemoryReplayStore::with_quotas`]). Default: no quota (one `SET NX` per
    /// assertion).
    pub fn quotas(mut self, per_issuer: usize, per_client: usize) -> Self {
        self.per_issuer = Some(per_issuer);
        self.per_client = Some(per_client);
        self
    }

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
            let _ = std::sync::Arc::unwrap_or_clone(jws_crypto::tls_provider()).install_default();
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
            per_issuer: self.per_issuer,
            per_client: self.per_client,
            script_sha: redis::Script::new(QUOTA_SCRIPT).get_hash().to_owned(),
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
    per_issuer: Option<usize>,
    per_client: Option<usize>,
    /// SHA-1 of [`QUOTA_SCRIPT`], for `EVALSHA`.
    script_sha: String,
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("url", &self.shown)
            .field("key_prefix", &self.key_prefix)
            .field("command_timeout", &self.command_timeout)
            .field("per_issuer", &self.per_issuer)
            .field("per_client", &self.per_client)
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
            per_issuer: None,
            per_client: None,
        }
    }

    /// The URL with any password replaced by `***`.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The key recording one entry: the prefix, then the base64url SHA-256 of the kind and
    /// the length-prefixed issuer and `jti` (fixed size whatever the `jti`; `("ab", "c")` and
    /// `("a", "bc")` differ; a grant and a client assertion never collide).
    pub fn key(&self, entry: &ReplayEntry<'_>) -> String {
        let digest = crate::replay::key_of(entry);
        format!("{}{}", self.key_prefix, jwk_core::b64::encode(&digest))
    }

    /// The sorted set counting a party's unexpired entries (`kind`: `i` issuer, `c` client).
    pub fn quota_key(&self, kind: char, party: &str) -> String {
        format!("{}q:{kind}:{party}", self.key_prefix)
    }

    /// Sends one command under the command timeout. A connection-level failure (the socket
    /// broke, or an earlier reconnection attempt failed while Redis was down) makes the
    /// connection manager start a fresh connection at once; the command is sent once more on
    /// it, so the first request after Redis returns already succeeds. (A `SET NX` that
    /// reached Redis before the socket broke then answers "replayed": the safe side.)
    async fn query(&self, cmd: redis::Cmd) -> Result<Value, ReplayStoreError> {
        let attempt = async {
            let mut conn = self.manager.clone();
            let (mut reconnected, mut loaded) = (false, false);
            loop {
                match cmd.query_async::<Value>(&mut conn).await {
                    Err(e) if !reconnected && (e.is_io_error() || e.is_unrecoverable_error()) => {
                        tracing::debug!(error = %e, "redis connection lost; reconnecting");
                        reconnected = true;
                    }
                    // EVALSHA on a Redis that does not know the script yet (first use, or
                    // after a restart): load it, then send the command again.
                    Err(e)
                        if !loaded && e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) =>
                    {
                        redis::cmd("SCRIPT")
                            .arg("LOAD")
                            .arg(QUOTA_SCRIPT)
                            .query_async::<Value>(&mut conn)
                            .await?;
                        loaded = true;
                    }
                    r => break r,
                }
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
        entry: ReplayEntry<'_>,
        expires_at: i64,
    ) -> Result<Seen, ReplayStoreError> {
        let key = self.key(&entry);
        let at_ms = expires_at.max(1).saturating_mul(1000);
        let mut parties = Vec::new();
        if let (AssertionKind::Grant, Some(q)) = (entry.kind, self.per_issuer) {
            parties.push((self.quota_key('i', entry.issuer), q));
        }
        if let (Some(client), Some(q)) = (entry.client, self.per_client) {
            parties.push((self.quota_key('c', client), q));
        }
        if parties.is_empty() {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&key).arg("1").arg("NX").arg("PXAT").arg(at_ms);
            return match self.query(cmd).await? {
                Value::Okay => Ok(Seen::Fresh),
                Value::SimpleString(s) if s == "OK" => Ok(Seen::Fresh),
                Value::Nil => Ok(Seen::Replayed),
                other => Err(self.unexpected("SET NX", &other)),
            };
        }
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.script_sha).arg(1 + parties.len()).arg(&key);
        for (k, _) in &parties {
            cmd.arg(k);
        }
        cmd.arg(at_ms);
        for (_, q) in &parties {
            cmd.arg(*q);
        }
        match self.query(cmd).await? {
            Value::Int(0) => Ok(Seen::Fresh),
            Value::Int(1) => Ok(Seen::Replayed),
            Value::Int(2) => Ok(Seen::OverQuota),
            other => Err(self.unexpected("the quota script", &other)),
        }
    }

    fn unexpected(&self, what: &str, v: &Value) -> ReplayStoreError {
        ReplayStoreError {
            message: format!("redis {}: unexpected answer to {what}: {v:?}", self.shown),
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
        entry: ReplayEntry<'a>,
        expires_at: i64,
        _now: i64,
    ) -> ReplayFuture<'a> {
        // Expiry is Redis's: the key disappears at `expires_at` by the server's clock.
        Box::pin(self.check(entry, expires_at))
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
        let e = |kind, issuer, jti| ReplayEntry {
            kind,
            issuer,
            client: None,
            jti,
        };
        let k = s.key(&e(AssertionKind::Grant, "ab", "c"));
        assert!(k.starts_with("p:") && k.len() == 2 + 43, "{k}");
        assert_ne!(k, s.key(&e(AssertionKind::Grant, "a", "bc")));
        assert_ne!(k, s.key(&e(AssertionKind::ClientAuth, "ab", "c")));
        assert_eq!(k, s.key(&e(AssertionKind::Grant, "ab", "c")));
    }
}
