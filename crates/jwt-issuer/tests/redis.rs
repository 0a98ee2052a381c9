//! The Redis replay store against a real `redis-server` (Debian package `redis-server`) started
//! on a free loopback port with persistence off, and the token endpoint failing closed while
//! it is down.
//!
//! Without `redis-server` on the PATH these tests say so and return, except under `CI=true`,
//! where a missing Redis is a failure (`cargo xtask ci` installs it first).

use core::time::Duration;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use jwk_core::Algorithm;
use jwt_issuer::{
    AssertionKind, Clock as _, RedisReplayStore, ReplayEntry, ReplayStore, Seen, HEALTH_PATH,
};
use serde_json::json;

use crate::support::{exchange_at, oauth_error, start_with_store, wall_now, Env};

/// A `redis-server` child process on 127.0.0.1, killed on drop.
pub(crate) struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// TLS only (certificate file, key file).
    tls: Option<(String, String)>,
}

impl RedisServer {
    /// Starts one on a free port; `None` (after saying why) when `redis-server` is not
    /// installed and this is not CI.
    pub(crate) fn start() -> Option<RedisServer> {
        RedisServer::start_with(None)
    }

    /// Starts one that speaks TLS only, with this certificate and key (PEM files).
    pub(crate) fn start_tls(cert: &std::path::Path, key: &std::path::Path) -> Option<RedisServer> {
        RedisServer::start_with(Some((
            cert.display().to_string(),
            key.display().to_string(),
        )))
    }

    fn start_with(tls: Option<(String, String)>) -> Option<RedisServer> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "redis-server is not installed (apt-get install -y redis-server); \
                 under CI=true this is a failure"
            );
            eprintln!("SKIPPED: redis-server is not installed (apt-get install -y redis-server)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = RedisServer {
            port,
            child: None,
            tls,
        };
        s.restart();
        Some(s)
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts the server again on the same port (after [`RedisServer::stop`]) and waits,
    /// bounded, until it accepts connections.
    pub(crate) fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let port = self.port.to_string();
        let mut cmd = Command::new("redis-server");
        match &self.tls {
            None => cmd.args(["--port", &port]),
            Some((cert, key)) => cmd
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .args(["--tls-cert-file", cert, "--tls-key-file", key]),
        };
        let child = cmd
            .args(["--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..200 {
            if self.tls.is_some() {
                // Listening is all a plain client can see of a TLS port.
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
                continue;
            }
            if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read as _, Write as _};
                let mut buf = [0u8; 7];
                if c.write_all(b"PING\r\n").is_ok()
                    && c.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// Kills the server (as a crash would) and waits for it to exit.
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A grant from `iss` with no authenticated client.
fn g<'a>(iss: &'a str, jti: &'a str) -> ReplayEntry<'a> {
    ReplayEntry {
        kind: AssertionKind::Grant,
        issuer: iss,
        client: None,
        jti,
    }
}

fn store(redis: &RedisServer, prefix: &str) -> RedisReplayStore {
    RedisReplayStore::builder(redis.url())
        .key_prefix(prefix)
        .build()
        .unwrap()
}

async fn raw(redis: &RedisServer, cmd: &redis::Cmd) -> redis::Value {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    cmd.query_async(&mut c).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_redis_accept_a_jti_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let now = wall_now() as i64;
    let (a, b) = (store(&redis, "t1:"), store(&redis, "t1:"));
    assert_eq!(a.kind(), "redis");
    a.health().await.unwrap();
    assert_eq!(
        a.check_and_record(g("iss", "j1"), now + 300, now).await,
        Ok(Seen::Fresh)
    );
    // The other instance sees it: a replay, whichever instance it reaches.
    assert_eq!(
        b.check_and_record(g("iss", "j1"), now + 300, now).await,
        Ok(Seen::Replayed)
    );
    assert_eq!(
        a.check_and_record(g("iss", "j1"), now + 300, now).await,
        Ok(Seen::Replayed)
    );
    // Another issuer may use the same jti; separators cannot be forged.
    assert_eq!(
        b.check_and_record(g("iss2", "j1"), now + 300, now).await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        a.check_and_record(g("is", "sj1"), now + 300, now).await,
        Ok(Seen::Fresh)
    );
    // Another prefix is another service.
    let other = store(&redis, "t2:");
    assert_eq!(
        other.check_and_record(g("iss", "j1"), now + 300, now).await,
        Ok(Seen::Fresh)
    );

    // Racing: the same jti sent to both stores at once, many times: exactly one Fresh each.
    for i in 0..50 {
        let jti = format!("race{i}");
        let (x, y) = tokio::join!(
            a.check_and_record(g("iss", &jti), now + 300, now),
            b.check_and_record(g("iss", &jti), now + 300, now)
        );
        let fresh = [x.unwrap(), y.unwrap()]
            .iter()
            .filter(|s| **s == Seen::Fresh)
            .count();
        assert_eq!(fresh, 1, "{jti}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_expire_when_the_assertion_does() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let now = wall_now() as i64;
    let s = store(&redis, "exp:");
    assert_eq!(
        s.check_and_record(g("iss", "j"), now + 400, now).await,
        Ok(Seen::Fresh)
    );
    // The key carries the assertion's expiry, in milliseconds (Redis 7: PEXPIRETIME).
    let at = raw(&redis, redis::cmd("PEXPIRETIME").arg(s.key(&g("iss", "j")))).await;
    assert_eq!(at, redis::Value::Int((now + 400) * 1000));
    // An entry whose time has passed is gone: the jti is fresh again (the validator refuses
    // the expired assertion itself before it gets here).
    assert_eq!(
        s.check_and_record(g("iss", "old"), now - 5, now).await,
        Ok(Seen::Fresh)
    );
    let exists = raw(&redis, redis::cmd("EXISTS").arg(s.key(&g("iss", "old")))).await;
    assert_eq!(exists, redis::Value::Int(0));
    assert_eq!(
        s.check_and_record(g("iss", "old"), now + 60, now).await,
        Ok(Seen::Fresh)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_an_error_never_fresh() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let s = store(&redis, "down:");
    s.health().await.unwrap();
    redis.stop();
    let now = wall_now() as i64;
    for i in 0..3 {
        assert!(s
            .check_and_record(g("iss", &format!("j{i}")), now + 60, now)
            .await
            .is_err());
    }
    assert!(s.health().await.is_err());
    // A store built while Redis is down starts, and fails closed.
    let late = store(&redis, "down:");
    assert!(late
        .check_and_record(g("iss", "x"), now + 60, now)
        .await
        .is_err());
    redis.restart();
    // Back without a restart of the store: the first request after Redis returns succeeds.
    assert_eq!(
        s.check_and_record(g("iss", "after"), now + 60, now).await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        late.check_and_record(g("iss", "after"), now + 60, now)
            .await,
        Ok(Seen::Replayed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_fails_closed_and_recovers() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    // An identity provider and two token-service instances sharing one key_dir and one Redis.
    let base = Env::new().await;
    let dir = crate::support::TempDir::new("redis-svc");
    let trust = [(
        base.idp.url.clone(),
        format!("{}/oauth2/jwks", base.idp.url),
    )];
    let mut nodes = Vec::new();
    for _ in 0..2 {
        // With quotas: every exchange runs the quota script (EVALSHA), which a restarted
        // Redis no longer knows (NOSCRIPT: loaded again on the fly).
        let s: Arc<dyn ReplayStore> = Arc::new(
            RedisReplayStore::builder(redis.url())
                .key_prefix("svc:")
                .quotas(1000, 1000)
                .build()
                .unwrap(),
        );
        nodes.push(
            start_with_store(
                &base.clock,
                &[Algorithm::Es256],
                Some(dir.path()),
                &trust,
                Some(s),
            )
            .await,
        );
    }
    let now = base.clock.now().as_secs() as i64;
    let assertion = |jti: &str, aud: &str| {
        base.assertion(&json!({
            "iss": base.idp.url, "sub": "alice", "aud": aud,
            "iat": now, "exp": now + 300, "jti": jti,
        }))
    };
    let post = |node: usize, a: String| {
        let addr = nodes[node].addr;
        async move { exchange_at(addr, &a).await }
    };
    // Each instance listens on its own port, so each has its own token endpoint URL (`aud`).
    let aud = |node: usize| nodes[node].service.token_endpoint().to_owned();

    // A jti used at one instance is a replay at the other.
    let a1 = assertion("first", &aud(0));
    assert_eq!(post(0, a1.clone()).await.status, 200);
    let a1b = assertion("first", &aud(1));
    assert_eq!(
        oauth_error(&post(1, a1b).await),
        (400, "invalid_grant".into())
    );

    let health = |node: usize| {
        let addr = nodes[node].addr;
        async move {
            jwt_issuer::LoopbackClient::connect(addr)
                .await
                .unwrap()
                .get(HEALTH_PATH, &[])
                .await
                .unwrap()
        }
    };
    let h = health(0).await;
    assert_eq!(h.status, 200);
    assert_eq!(
        h.json()["replay_store"],
        json!({"kind": "redis", "state": "ok"})
    );

    redis.stop();
    for node in 0..2 {
        let r = post(node, assertion(&format!("down{node}"), &aud(node))).await;
        assert_eq!(oauth_error(&r), (503, "temporarily_unavailable".into()));
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(r.json().get("access_token").is_none());
        let h = health(node).await;
        assert_eq!(h.status, 503);
        assert_eq!(h.json()["replay_store"]["state"], "unavailable");
    }

    redis.restart();
    // Back without a restart of either instance, from the first request on; the assertion
    // refused while Redis was down was not used up.
    let r = post(0, assertion("down0", &aud(0))).await;
    assert_eq!(
        r.status,
        200,
        "no recovery after Redis came back: {:?}",
        r.json()
    );
    assert_eq!(health(1).await.status, 200);
    assert_eq!(
        oauth_error(&post(0, assertion("down0", &aud(0))).await),
        (400, "invalid_grant".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_checks_the_server_certificate() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    // A CA made at test time and a server certificate for 127.0.0.1.
    let dir = crate::support::TempDir::new("rediss");
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "jwt-issuer redis test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let (ca_file, cert_file, key_file) = (
        dir.path().join("ca.pem"),
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
    );
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    std::fs::write(&cert_file, leaf.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();

    let Some(redis) = RedisServer::start_tls(&cert_file, &key_file) else {
        return;
    };
    let url = format!("rediss://127.0.0.1:{}/0", redis.port);
    let s = RedisReplayStore::builder(url.clone())
        .ca_file(&ca_file)
        .key_prefix("tls:")
        .build()
        .unwrap();
    // The port is open slightly before the server answers: a bounded wait.
    let mut up = false;
    for _ in 0..50 {
        if s.health().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "no answer over TLS");
    let now = wall_now() as i64;
    assert_eq!(
        s.check_and_record(g("iss", "t"), now + 60, now).await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        s.check_and_record(g("iss", "t"), now + 60, now).await,
        Ok(Seen::Replayed)
    );

    // The system's roots do not know the test CA: every request fails, none is accepted.
    let untrusted = RedisReplayStore::builder(url)
        .key_prefix("tls:")
        .build()
        .unwrap();
    assert!(untrusted
        .check_and_record(g("iss", "u"), now + 60, now)
        .await
        .is_err());
    assert!(untrusted.health().await.is_err());
    // A CA file says TLS: with redis:// it is a configuration error.
    let e = RedisReplayStore::builder(redis.url())
        .ca_file(&ca_file)
        .build()
        .unwrap_err();
    assert_eq!(e.code(), "invalid_config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_refusing_redis_fails_closed() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let s = RedisReplayStore::builder(redis.url())
        .key_prefix("stall:")
        .command_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let now = wall_now() as i64;
    assert_eq!(
        s.check_and_record(g("iss", "a"), now + 60, now).await,
        Ok(Seen::Fresh)
    );

    // Frozen (SIGSTOP): no answer within the command timeout is an error, not a decision.
    let pid = redis.child.as_ref().unwrap().id().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill").args([sig, &pid]).status().unwrap();
        assert!(ok.success());
    };
    signal("-STOP");
    let stalled = s.check_and_record(g("iss", "b"), now + 60, now).await;
    signal("-CONT");
    assert!(stalled.is_err(), "{stalled:?}");
    // Thawed: answers again (the frozen SET may have landed: then "b" is a replay, the safe
    // side; a fresh jti is fresh).
    let mut back = false;
    for _ in 0..20 {
        if s.check_and_record(g("iss", "c"), now + 60, now).await == Ok(Seen::Fresh) {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "no recovery after the stall");

    // Answering an error (out of memory under noeviction): an error, never fresh.
    raw(
        &redis,
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg("noeviction"),
    )
    .await;
    raw(
        &redis,
        redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("1"),
    )
    .await;
    let refused = s.check_and_record(g("iss", "d"), now + 60, now).await;
    assert!(refused.is_err(), "{refused:?}");
    raw(
        &redis,
        redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg("0"),
    )
    .await;
    assert_eq!(
        s.check_and_record(g("iss", "d"), now + 60, now).await,
        Ok(Seen::Fresh)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_hold_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let quota = |prefix: &str| {
        RedisReplayStore::builder(redis.url())
            .key_prefix(prefix)
            .quotas(2, 3)
            .build()
            .unwrap()
    };
    let (a, b) = (quota("q:"), quota("q:"));
    let now = wall_now() as i64;
    let e = |kind, issuer, client, jti| ReplayEntry {
        kind,
        issuer,
        client,
        jti,
    };
    use AssertionKind::{ClientAuth, Grant};
    // Issuer x: two grants, one at each instance; the third is over quota at either.
    assert_eq!(
        a.check_and_record(e(Grant, "x", Some("c1"), "1"), now + 60, now)
            .await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        b.check_and_record(e(Grant, "x", Some("c2"), "2"), now + 60, now)
            .await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        a.check_and_record(e(Grant, "x", Some("c2"), "3"), now + 60, now)
            .await,
        Ok(Seen::OverQuota)
    );
    assert_eq!(
        b.check_and_record(e(Grant, "x", None, "4"), now + 60, now)
            .await,
        Ok(Seen::OverQuota)
    );
    // A replay is still a replay (checked before the quota), and issuer y is unaffected.
    assert_eq!(
        b.check_and_record(e(Grant, "x", Some("c1"), "1"), now + 60, now)
            .await,
        Ok(Seen::Replayed)
    );
    assert_eq!(
        b.check_and_record(e(Grant, "y", Some("c1"), "1"), now + 60, now)
            .await,
        Ok(Seen::Fresh)
    );
    // Client c1 has two entries; its own authentication assertion is the third, the fourth
    // is over its quota (client assertions count against no issuer).
    assert_eq!(
        a.check_and_record(e(ClientAuth, "c1", Some("c1"), "1"), now + 60, now)
            .await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        a.check_and_record(e(ClientAuth, "c1", Some("c1"), "2"), now + 60, now)
            .await,
        Ok(Seen::OverQuota)
    );
    // An over-quota answer recorded nothing: the same jti is fresh once there is room.
    // Entries that have expired leave the count (by Redis's clock): issuer z's two old ones.
    assert_eq!(
        a.check_and_record(e(Grant, "z", None, "old1"), now - 10, now)
            .await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        a.check_and_record(e(Grant, "z", None, "old2"), now - 10, now)
            .await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        a.check_and_record(e(Grant, "z", None, "new1"), now + 60, now)
            .await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        a.check_and_record(e(Grant, "z", None, "new2"), now + 60, now)
            .await,
        Ok(Seen::Fresh)
    );
    assert_eq!(
        a.check_and_record(e(Grant, "z", None, "new3"), now + 60, now)
            .await,
        Ok(Seen::OverQuota)
    );
    // The count's set expires with its newest entry.
    let at = raw(&redis, redis::cmd("PEXPIRETIME").arg(a.quota_key('i', "z"))).await;
    assert_eq!(at, redis::Value::Int((now + 60) * 1000));
}
