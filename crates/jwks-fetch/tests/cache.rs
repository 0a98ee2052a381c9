//! The cache behind the real validator: what validation returns and how many requests the
//! identity provider got, with an injected clock (no test sleeps through a TTL or cooldown).

use std::sync::Arc;
use std::time::Duration;

use jwk_core::Algorithm;
use jwks_fetch::{CacheConfig, DiscoveryKind, Event, Health, RemoteJwks};
use jwt_validate::{Error, Policy, Validator};

use crate::support::*;

/// Drains the events received so far.
fn events(rx: &mut tokio::sync::broadcast::Receiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

/// The code of the [`jwks_fetch::FetchError`] a source error carries as its cause.
fn cause_code(e: &jwt_validate::SourceError) -> Option<&'static str> {
    std::error::Error::source(e)
        .and_then(|c| c.downcast_ref::<jwks_fetch::FetchError>())
        .map(jwks_fetch::FetchError::code)
}

fn fixed(doc: String) -> Handler {
    handler(move |_, _| json(doc.clone()))
}

/// A token whose header names `kid`, with a well-formed but meaningless signature: enough
/// for key lookup, which happens before any signature check.
fn unsigned_token(kid: &str) -> String {
    let header = format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{kid}"}}"#);
    format!(
        "{}.{}.{}",
        jwk_core::b64::encode(header.as_bytes()),
        jwk_core::b64::encode(br#"{"iss":"https://idp.test","exp":4102444800}"#),
        jwk_core::b64::encode(&[7u8; 64])
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_with_1000_concurrent_validations_makes_one_request() {
    let k1 = TestKey::new("k1");
    let doc = jwks(&[&k1]);
    let server = Server::raw(handler(move |_, _| {
        Reply::Delay(Duration::from_millis(100), Box::new(json(doc.clone())))
    }))
    .await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    let token = Arc::new(k1.token());
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let v = v.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move { check(&v, &token).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "valid");
    }
    assert_eq!(server.hits(), 1);
    let stats = src.stats();
    assert_eq!((stats.fetches, stats.updates, stats.requests), (1, 1, 1));
    assert_eq!(stats.key_count, 1);
    assert_eq!(stats.health, Health::Fresh);
}

#[tokio::test]
async fn cold_start_while_the_provider_is_down() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(handler(|_, _| status(500))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    let token = k1.token();
    for _ in 0..10 {
        assert_eq!(check(&v, &token).await, "jwks_unavailable");
    }
    // One attempt; the others fail fast inside the backoff.
    assert_eq!(server.hits(), 1);
    match v.validate_async(&token).await {
        Err(Error::JwksUnavailable(e)) => {
            assert!(e.retry_after().is_some_and(|d| d <= secs(1)));
            // Backing off, and why: the fetch error is the cause.
            assert_eq!(e.code(), "backoff");
            assert_eq!(cause_code(&e), Some("http_status"));
        }
        other => panic!("{other:?}"),
    }
    // Why, by code (not by the message's text).
    assert_eq!(
        src.stats().last_error.map(|e| e.code()),
        Some("http_status")
    );
    assert_eq!(src.health(), Health::Unavailable);
    // After the backoff, one more attempt per validation burst.
    clock.advance(secs(1));
    assert_eq!(check(&v, &token).await, "jwks_unavailable");
    assert_eq!(check(&v, &token).await, "jwks_unavailable");
    assert_eq!(server.hits(), 2);
    assert_eq!(src.stats().consecutive_failures, 2);
    // Recovery.
    server.set(fixed(jwks(&[&k1])));
    clock.advance(secs(300));
    assert_eq!(check(&v, &token).await, "valid");
    assert_eq!(server.hits(), 3);
    assert_eq!(src.stats().consecutive_failures, 0);

    // Nothing listening at all.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let src = source(&format!("http://127.0.0.1:{port}/jwks"), &clock);
    let v = validator(&src);
    match v.validate_async(&token).await {
        Err(Error::JwksUnavailable(e)) => {
            assert_eq!(e.code(), "fetch_failed");
            assert_eq!(cause_code(&e), Some("connect_failed"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        src.stats().last_error.map(|e| e.code()),
        Some("connect_failed")
    );
}

#[tokio::test]
async fn outage_serves_stale_keys_up_to_max_staleness() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    let token = k1.token();
    assert_eq!(check(&v, &token).await, "valid");
    server.set(handler(|_, _| status(500)));
    // Past the TTL (10 min by default): stale, still served, no request from validation.
    clock.advance(secs(601));
    assert_eq!(src.health(), Health::Stale);
    assert_eq!(check(&v, &token).await, "valid");
    assert_eq!(server.hits(), 1);
    // Scheduled refreshes fail with growing backoff; keys keep validating throughout.
    let mut attempts = 0;
    for _ in 0..40 {
        if let Some(r) = src.tick().await {
            assert_eq!(r.unwrap_err().code(), "http_status");
            attempts += 1;
        }
        assert_eq!(check(&v, &token).await, "valid");
        clock.advance(secs(60));
    }
    assert_eq!(server.hits(), 1 + attempts);
    // Backoff doubles up to 5 min: 40 min of outage cannot take more than ~15 attempts.
    assert!((8..=20).contains(&attempts), "{attempts}");
    let stats = src.stats();
    assert_eq!(stats.health, Health::Stale);
    assert_eq!(stats.key_count, 1);
    assert!(stats.staleness.unwrap() >= secs(40 * 60));
    assert_eq!(
        stats.last_error.as_ref().map(|e| e.code()),
        Some("http_status")
    );
    assert!(stats.last_success.is_some());
    // Past 24 h of staleness the keys are no longer used.
    clock.advance(secs(24 * 3600));
    assert_eq!(src.health(), Health::Unavailable);
    assert_eq!(check(&v, &token).await, "jwks_unavailable");
    // And recovery brings them back.
    server.set(fixed(jwks(&[&k1])));
    clock.advance(secs(600));
    assert_eq!(check(&v, &token).await, "valid");
}

#[tokio::test]
async fn retry_after_on_429_and_503_is_honoured_and_clamped() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(handler(|_, _| {
        with_headers(429, &[("retry-after", "120")], "")
    }))
    .await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    let token = k1.token();
    match v.validate_async(&token).await {
        Err(Error::JwksUnavailable(e)) => {
            assert_eq!(e.retry_after(), Some(secs(120)));
            assert_eq!(e.code(), "rate_limited");
            assert_eq!(cause_code(&e), Some("rate_limited"));
        }
        other => panic!("{other:?}"),
    }
    server.set(fixed(jwks(&[&k1])));
    clock.advance(secs(119));
    // No request before Retry-After, whatever arrives.
    assert_eq!(check(&v, &token).await, "jwks_unavailable");
    assert!(src.tick().await.is_none());
    assert_eq!(server.hits(), 1);
    clock.advance(secs(1));
    assert_eq!(check(&v, &token).await, "valid");
    assert_eq!(server.hits(), 2);

    // 503 asking for 11 days while keys are held: clamped to 10 min, keys still served.
    server.set(handler(|_, _| {
        with_headers(503, &[("retry-after", "999999")], "")
    }));
    clock.advance(secs(600));
    assert_eq!(
        src.tick().await.unwrap().unwrap_err().code(),
        "rate_limited"
    );
    assert_eq!(server.hits(), 3);
    assert_eq!(src.stats().retry_in, Some(secs(600)));
    assert_eq!(check(&v, &token).await, "valid");
    clock.advance(secs(599));
    assert!(src.tick().await.is_none());
    assert_eq!(
        check(&v, &TestKey::new("new").token()).await,
        "jwks_unavailable"
    );
    assert_eq!(server.hits(), 3);
    clock.advance(secs(1));
    assert!(src.tick().await.is_some());
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn rotation_new_removed_and_replaced_keys() {
    let k1 = TestKey::new("k1");
    let k2 = TestKey::new("k2");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let mut rx = src.subscribe();
    let v = validator(&src);
    assert_eq!(check(&v, &k1.token()).await, "valid");
    assert_eq!(server.hits(), 1);

    // A new kid is picked up on first sight, with a no-cache request.
    server.set(fixed(jwks(&[&k1, &k2])));
    assert_eq!(check(&v, &k2.token()).await, "valid");
    assert_eq!(server.hits(), 2);
    assert_eq!(
        server.requests()[1].header("cache-control"),
        Some("no-cache")
    );
    assert_eq!(server.requests()[0].header("cache-control"), None);
    let ev = events(&mut rx);
    match &ev[..] {
        [Event::Updated { diff: d1, .. }, Event::Updated { diff: d2, stats }] => {
            assert_eq!(d1.added, ["k1"]);
            assert_eq!(d2.added, ["k2"]);
            assert!(d2.removed.is_empty() && d2.changed.is_empty());
            assert_eq!(stats.key_count, 2);
        }
        other => panic!("{other:?}"),
    }

    // A removed key goes at the next good refresh.
    server.set(fixed(jwks(&[&k2])));
    assert_eq!(check(&v, &k1.token()).await, "valid");
    clock.advance(secs(600));
    assert!(src.tick().await.unwrap().is_ok());
    assert_eq!(server.hits(), 3);
    assert_eq!(server.requests()[2].header("cache-control"), None);
    match &events(&mut rx)[..] {
        [e @ Event::Updated { diff, .. }] => {
            assert_eq!(diff.removed, ["k1"]);
            let line = e.to_string();
            assert!(
                line.starts_with("updated added [] removed [k1] changed [] | health=fresh keys=1"),
                "{line}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Unknown now: one refetch (cooldown not running), then key_not_found.
    assert_eq!(check(&v, &k1.token()).await, "key_not_found");
    assert_eq!(server.hits(), 4);

    // The same kid with new key material: reported as changed; old tokens stop verifying.
    let k2b = TestKey::new("k2");
    server.set(fixed(jwks(&[&k2b])));
    clock.advance(secs(600));
    assert!(src.tick().await.unwrap().is_ok());
    assert_eq!(server.hits(), 5);
    let ev = events(&mut rx);
    let last = ev.last().unwrap();
    match last {
        Event::Updated { diff, stats } => {
            assert_eq!(diff.changed, ["k2"]);
            assert_eq!(stats.last_diff.as_ref(), Some(diff));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(check(&v, &k2.token()).await, "bad_signature");
    assert_eq!(check(&v, &k2b.token()).await, "valid");
    // A known kid never triggers a fetch, even with a bad signature.
    assert_eq!(server.hits(), 5);
}

#[tokio::test]
async fn unknown_kids_cooldown_and_negative_cache() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let cfg = cache().with_ttl(secs(60), secs(60), secs(60)); // refresh at 30 s
    let src = source_with(&server.url("/jwks"), &clock, cfg, http_config());
    let v = validator(&src);
    assert_eq!(check(&v, &k1.token()).await, "valid");
    // A scheduled refresh does not start the cooldown.
    clock.advance(secs(31));
    assert!(src.tick().await.unwrap().is_ok());
    assert_eq!(server.hits(), 2);
    // The first unknown kid refetches at once...
    assert_eq!(check(&v, &unsigned_token("x1")).await, "key_not_found");
    assert_eq!(server.hits(), 3);
    // ...the next ones inside the cooldown fail fast.
    for kid in ["x2", "x3", "x1"] {
        assert_eq!(check(&v, &unsigned_token(kid)).await, "key_not_found");
    }
    assert_eq!(server.hits(), 3);
    clock.advance(secs(30));
    // x1 was absent from a fresh fetch: remembered, no request.
    assert_eq!(check(&v, &unsigned_token("x1")).await, "key_not_found");
    assert_eq!(server.hits(), 3);
    // x2 was never fetched for: the cooldown is over, one request.
    assert_eq!(check(&v, &unsigned_token("x2")).await, "key_not_found");
    assert_eq!(server.hits(), 4);
    let stats = src.stats();
    assert_eq!(stats.forced_refreshes, 2);
    // x2 and x3 inside the cooldown; x1 twice from the negative cache.
    assert_eq!(stats.cooldown_skips, 2);
    assert_eq!(stats.negative_hits, 2);
    // Known keys were never affected.
    assert_eq!(check(&v, &k1.token()).await, "valid");
}

#[tokio::test]
async fn flood_of_100_000_random_kids_is_one_request_per_cooldown() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    let good = k1.token();
    assert_eq!(check(&v, &good).await, "valid");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..100_000u32 {
        if i % 1000 == 0 {
            // 100 s of flood in all: at most 4 cooldown windows of 30 s.
            clock.advance(secs(1));
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let code = check(&v, &unsigned_token(&format!("{x:016x}"))).await;
        assert_eq!(code, "key_not_found");
        if i % 10_000 == 0 {
            assert_eq!(check(&v, &good).await, "valid");
        }
    }
    // The clock runs from 1 s to 100 s: refetches at 1, 31, 61 and 91 s, one per window.
    let forced = server.hits() - 1;
    assert_eq!(forced, 4, "{forced} refetches");
    assert_eq!(src.stats().forced_refreshes, forced as u64);
}

#[tokio::test]
async fn header_policy_failures_never_fetch() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    let hs = {
        let header = jwk_core::b64::encode(br#"{"alg":"HS256","kid":"k9"}"#);
        format!("{header}.{}.AAAA", jwk_core::b64::encode(br#"{"iss":"x"}"#))
    };
    let none = {
        let header = jwk_core::b64::encode(br#"{"alg":"none"}"#);
        format!("{header}.{}.", jwk_core::b64::encode(br#"{"iss":"x"}"#))
    };
    for t in [hs.as_str(), none.as_str(), "garbage", "a.b.c"] {
        assert_ne!(check(&v, t).await, "valid");
    }
    // (A wrong `typ` is not among them: it is judged after the signature, issue 11 item 8.)
    // Routed by issuer: an untrusted iss never reaches a key source.
    let routed = Validator::builder()
        .route(
            ISS,
            Arc::new(src.clone()),
            Policy::new().algorithms([Algorithm::Es256]),
        )
        .build()
        .unwrap();
    assert_eq!(
        check(&routed, &k1.token_as("k1", "https://evil.test")).await,
        "issuer_mismatch"
    );
    assert_eq!(server.hits(), 0);
    assert_eq!(check(&routed, &k1.token()).await, "valid");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn refresh_ahead_runs_in_the_background() {
    let k1 = TestKey::new("k1");
    let k2 = TestKey::new("k2");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source_with(
        &server.url("/jwks"),
        &clock,
        CacheConfig::default(),
        http_config(),
    );
    let v = validator(&src);
    let mut rx = src.subscribe();
    // The background task loads at start.
    let first = tokio::time::timeout(secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(first, Event::Updated { .. }));
    assert_eq!(check(&v, &k1.token()).await, "valid");
    assert_eq!(server.hits(), 1);
    server.set(fixed(jwks(&[&k1, &k2])));
    // Refresh ahead: 1 min before the 10 min TTL, nobody waiting on it.
    assert_eq!(src.next_refresh_in(), Some(secs(540)));
    clock.advance(secs(539));
    tokio::task::yield_now().await;
    assert_eq!(server.hits(), 1);
    clock.advance(secs(1));
    match tokio::time::timeout(secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap()
    {
        Event::Updated { diff, .. } => assert_eq!(diff.added, ["k2"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), 2);
    assert_eq!(src.health(), Health::Fresh);
    // k2 was picked up by the scheduled refresh: no forced fetch.
    assert_eq!(check(&v, &k2.token()).await, "valid");
    assert_eq!(server.hits(), 2);
    assert_eq!(src.stats().forced_refreshes, 0);
}

#[tokio::test]
async fn a_bad_document_never_replaces_a_good_one() {
    let k1 = TestKey::new("k1");
    let good = jwks(&[&k1]);
    let server = Server::raw(fixed(good.clone())).await;
    let clock = clock();
    let fetch = http_config().with_request_timeout(Duration::from_millis(1000));
    let src = source_with(&server.url("/jwks"), &clock, cache(), fetch);
    let v = validator(&src);
    let token = k1.token();
    assert_eq!(check(&v, &token).await, "valid");
    let keys = src.keys().unwrap();
    let cases: Vec<(Reply, &str)> = vec![
        (status(500), "http_status"),
        (json("{"), "bad_document"),
        (json("null"), "bad_document"),
        (json("{}"), "bad_document"),
        (json(r#"{"keys":null}"#), "bad_document"),
        (json(r#"{"keys":[null]}"#), "no_usable_keys"),
        (
            with_headers(200, &[("content-type", "text/html")], "<html>Sign in</html>"),
            "content_type",
        ),
        (Reply::Hang, "timeout"),
        (
            Reply::Raw(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n".to_vec()),
            "too_large",
        ),
        (Reply::Raw(b"garbage\r\n\r\n".to_vec()), "http_protocol"),
    ];
    let n = cases.len();
    let replies = Arc::new(std::sync::Mutex::new(
        cases
            .into_iter()
            .map(|(r, c)| (Some(r), c))
            .collect::<Vec<_>>(),
    ));
    let codes: Vec<&str> = replies.lock().unwrap().iter().map(|(_, c)| *c).collect();
    let shared = replies.clone();
    server.set(handler(move |i, _| {
        shared.lock().unwrap()[i - 1].0.take().unwrap()
    }));
    for (i, want) in codes.iter().enumerate() {
        clock.advance(secs(3600));
        let r = src.tick().await.expect("due");
        assert_eq!(r.unwrap_err().code(), *want, "case {i}");
        assert!(Arc::ptr_eq(&src.keys().unwrap(), &keys), "case {i}");
        assert_eq!(check(&v, &token).await, "valid", "case {i}");
    }
    assert_eq!(server.hits(), 1 + n);
    assert_eq!(src.stats().failures, n as u64);
}

#[tokio::test]
async fn an_empty_set_after_a_good_one_is_accepted() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let mut rx = src.subscribe();
    let v = validator(&src);
    assert_eq!(check(&v, &k1.token()).await, "valid");
    server.set(fixed(r#"{"keys":[]}"#.into()));
    clock.advance(secs(600));
    assert!(src.tick().await.unwrap().is_ok());
    match events(&mut rx).last().unwrap() {
        Event::Updated { diff, stats } => {
            assert_eq!(diff.removed, ["k1"]);
            assert_eq!(stats.key_count, 0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(check(&v, &k1.token()).await, "key_not_found");
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn flapping_never_leaves_the_keys_empty() {
    let ka = TestKey::new("a");
    let kb = TestKey::new("b");
    let (doc_a, doc_b) = (jwks(&[&ka]), jwks(&[&kb]));
    // 200 / 500 alternating.
    let server = Server::raw(handler(move |n, _| {
        if n % 2 == 0 {
            json(doc_a.clone())
        } else {
            status(500)
        }
    }))
    .await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    assert_eq!(check(&v, &ka.token()).await, "valid");
    for _ in 0..20 {
        clock.advance(secs(600));
        let _ = src.tick().await;
        assert!(!src.keys().unwrap().is_empty());
        assert_eq!(check(&v, &ka.token()).await, "valid");
    }
    assert_eq!(server.hits(), 21);

    // Two key sets alternating.
    let (doc_a, doc_b2) = (jwks(&[&ka]), doc_b.clone());
    let server = Server::raw(handler(move |n, _| {
        json(if n % 2 == 0 {
            doc_a.clone()
        } else {
            doc_b2.clone()
        })
    }))
    .await;
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    assert_eq!(check(&v, &ka.token()).await, "valid");
    for round in 0..20 {
        clock.advance(secs(600));
        assert!(src.tick().await.unwrap().is_ok());
        let keys = src.keys().unwrap();
        assert_eq!(keys.len(), 1, "round {round}");
        for t in [ka.token(), kb.token()] {
            let code = check(&v, &t).await;
            assert!(code == "valid" || code == "key_not_found", "{code}");
        }
        assert!(!src.keys().unwrap().is_empty());
    }
    // 1 + 20 scheduled, plus at most one forced refetch per round (cooldown 30 s < 600 s).
    assert!(server.hits() <= 1 + 20 + 20, "{}", server.hits());
}

#[tokio::test]
async fn not_modified_renews_freshness_without_reparsing() {
    let k1 = TestKey::new("k1");
    let doc = jwks(&[&k1]);
    let server = Server::raw(handler(move |_, req| {
        if req.header("if-none-match") == Some("\"v1\"") {
            with_headers(304, &[("cache-control", "max-age=300")], "")
        } else {
            with_headers(
                200,
                &[
                    ("content-type", "application/json"),
                    ("etag", "\"v1\""),
                    ("cache-control", "max-age=300"),
                ],
                doc.clone(),
            )
        }
    }))
    .await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    assert_eq!(check(&v, &k1.token()).await, "valid");
    let before = src.keys().unwrap();
    assert_eq!(src.stats().expires_in, Some(secs(300)));
    assert_eq!(src.next_refresh_in(), Some(secs(240)));
    clock.advance(secs(240));
    assert!(src.tick().await.unwrap().is_ok());
    assert_eq!(server.hits(), 2);
    assert_eq!(server.requests()[1].header("if-none-match"), Some("\"v1\""));
    let stats = src.stats();
    assert_eq!((stats.not_modified, stats.updates), (1, 1));
    assert_eq!(stats.expires_in, Some(secs(300)));
    assert!(Arc::ptr_eq(&before, &src.keys().unwrap()));
    assert_eq!(check(&v, &k1.token()).await, "valid");
}

#[tokio::test]
async fn ttl_from_headers_is_clamped() {
    let k1 = TestKey::new("k1");
    let doc = jwks(&[&k1]);
    let server = Server::raw(handler(move |n, _| {
        let cc = ["max-age=5", "max-age=999999", "no-store"][n % 3];
        with_headers(
            200,
            &[("content-type", "application/json"), ("cache-control", cc)],
            doc.clone(),
        )
    }))
    .await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    for want in [60, 3600, 60] {
        src.refresh_now().await.unwrap();
        assert_eq!(src.stats().expires_in, Some(secs(want)));
    }
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn discovery_then_keys_and_wrong_issuer() {
    let k1 = TestKey::new("k1");
    let doc = jwks(&[&k1]);
    let server = Server::raw(handler(move |_, req| {
        let port = req
            .header("host")
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        let me = format!("http://127.0.0.1:{port}");
        match req.path.as_str() {
            "/good/.well-known/openid-configuration" => json(format!(
                r#"{{"issuer":"{me}/good","jwks_uri":"{me}/good/jwks"}}"#
            )),
            "/bad/.well-known/openid-configuration" => json(format!(
                r#"{{"issuer":"{me}/evil","jwks_uri":"{me}/good/jwks"}}"#
            )),
            "/good/jwks" => json(doc.clone()),
            _ => status(404),
        }
    }))
    .await;
    let clock = clock();
    let issuer = server.url("/good");
    let src = RemoteJwks::discover(&issuer, DiscoveryKind::OpenId)
        .fetch_config(http_config())
        .cache_config(cache())
        .clock(clock.clone())
        .build()
        .unwrap();
    let v = Validator::builder()
        .key_source(src.clone())
        .algorithms([Algorithm::Es256])
        .issuer(&issuer)
        .build()
        .unwrap();
    assert_eq!(check(&v, &k1.token_as("k1", &issuer)).await, "valid");
    assert_eq!(server.hits(), 2);
    assert_eq!(src.stats().jwks_uri, Some(server.url("/good/jwks")));
    // Later refreshes go straight to the JWKS URL.
    clock.advance(secs(600));
    assert!(src.tick().await.unwrap().is_ok());
    assert_eq!(server.hits(), 3);

    let bad_issuer = server.url("/bad");
    let src = RemoteJwks::discover(&bad_issuer, DiscoveryKind::OpenId)
        .fetch_config(http_config())
        .cache_config(cache())
        .clock(clock.clone())
        .build()
        .unwrap();
    let v = Validator::builder()
        .key_source(src.clone())
        .algorithms([Algorithm::Es256])
        .issuer(&bad_issuer)
        .build()
        .unwrap();
    assert_eq!(
        check(&v, &k1.token_as("k1", &bad_issuer)).await,
        "jwks_unavailable"
    );
    assert_eq!(server.hits(), 4);
    assert_eq!(
        src.stats().last_error.map(|e| e.code()),
        Some("issuer_mismatch")
    );
    assert_eq!(src.stats().jwks_uri, None);
}

#[tokio::test]
async fn several_issuers_each_with_their_own_cache() {
    let ka = TestKey::new("ka");
    let kb = TestKey::new("kb");
    let server_a = Server::raw(fixed(jwks(&[&ka]))).await;
    let server_b = Server::raw(fixed(jwks(&[&kb]))).await;
    let clock = clock();
    let src_a = source(&server_a.url("/jwks"), &clock);
    let src_b = source(&server_b.url("/jwks"), &clock);
    let es = || Policy::new().algorithms([Algorithm::Es256]);
    let v = Validator::builder()
        .route("https://a.test", Arc::new(src_a.clone()), es())
        .route("https://b.test", Arc::new(src_b.clone()), es())
        .build()
        .unwrap();
    assert_eq!(
        check(&v, &ka.token_as("ka", "https://a.test")).await,
        "valid"
    );
    assert_eq!(
        check(&v, &kb.token_as("kb", "https://b.test")).await,
        "valid"
    );
    // B's key presented as A's: looked up in A's cache only.
    assert_eq!(
        check(&v, &kb.token_as("kb", "https://a.test")).await,
        "key_not_found"
    );
    assert_eq!((server_a.hits(), server_b.hits()), (2, 1));
    let (sa, sb) = (src_a.stats(), src_b.stats());
    assert_eq!((sa.forced_refreshes, sb.forced_refreshes), (1, 0));
    assert_eq!((sa.key_count, sb.key_count), (1, 1));
    assert_ne!(sa.source, sb.source);
}

/// Every fault on a cold start: the validator says `jwks_unavailable` (never valid), the
/// reason names the fault's code, and the server got exactly one request (none when TLS
/// fails first).
#[tokio::test]
async fn every_fault_on_cold_start_is_jwks_unavailable() {
    let k1 = TestKey::new("k1");
    let token = k1.token();
    let head = |extra: &str| {
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}\r\n").into_bytes()
    };
    type Fault = Box<dyn Fn() -> Reply + Send + Sync>;
    let faults: Vec<(&str, Fault)> = vec![
        ("http_status", Box::new(|| status(500))),
        (
            "rate_limited",
            Box::new(|| with_headers(429, &[("retry-after", "5")], "")),
        ),
        ("rate_limited", Box::new(|| with_headers(503, &[], ""))),
        (
            "timeout",
            Box::new(move || Reply::Drip {
                prefix: Vec::new(),
                bytes: head("content-length: 10\r\n"),
                every: Duration::from_millis(60),
            }),
        ),
        (
            "timeout",
            Box::new(move || Reply::Drip {
                prefix: head("content-length: 20\r\n"),
                bytes: br#"{"keys":[         ]}"#.to_vec(),
                every: Duration::from_millis(250),
            }),
        ),
        ("timeout", Box::new(|| Reply::Hang)),
        (
            "too_large",
            Box::new(move || Reply::Endless {
                head: head(&format!("content-length: {}\r\n", 50 << 20)),
                chunk: vec![b' '; 65536],
            }),
        ),
        (
            "too_large",
            Box::new(move || Reply::Endless {
                head: head("transfer-encoding: chunked\r\n"),
                chunk: [b"4000\r\n".to_vec(), vec![b' '; 0x4000], b"\r\n".to_vec()].concat(),
            }),
        ),
        ("bad_document", Box::new(|| json("{"))),
        ("bad_document", Box::new(|| json("null"))),
        ("bad_document", Box::new(|| json("{}"))),
        ("bad_document", Box::new(|| json(r#"{"keys":null}"#))),
        ("no_usable_keys", Box::new(|| json(r#"{"keys":[null]}"#))),
        (
            "content_type",
            Box::new(|| {
                with_headers(
                    200,
                    &[("content-type", "text/html")],
                    "<form>Sign in</form>",
                )
            }),
        ),
        (
            "redirect",
            Box::new(|| with_headers(302, &[("location", "/login")], "")),
        ),
        (
            "http_protocol",
            Box::new(|| Reply::Raw(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec())),
        ),
    ];
    let fetch = http_config().with_request_timeout(Duration::from_millis(1000));
    for (want, fault) in faults {
        let server = Server::raw(handler(move |_, _| fault())).await;
        let clock = clock();
        let src = source_with(&server.url("/jwks"), &clock, cache(), fetch.clone());
        let v = validator(&src);
        match v.validate_async(&token).await {
            // The fetch error travels as the cause; the stats say the same below.
            Err(Error::JwksUnavailable(e)) => assert_eq!(cause_code(&e), Some(want), "{want}"),
            other => panic!("{want}: {other:?}"),
        }
        assert_eq!(check(&v, &token).await, "jwks_unavailable", "{want}");
        assert_eq!(server.hits(), 1, "{want}");
        assert_eq!(src.stats().last_error.map(|e| e.code()), Some(want));
    }

    // Certificates: refused before any request.
    let pki = Pki::new();
    for (what, cfg) in [
        ("expired", pki.server(&["localhost"], true)),
        ("self-signed", Pki::self_signed(&["localhost"])),
        ("wrong host", pki.server(&["other.example"], false)),
    ] {
        let server = Server::tls(cfg, fixed(jwks(&[&k1]))).await;
        let clock = clock();
        let src = source_with(&server.url("/jwks"), &clock, cache(), pki.fetch_config());
        let v = validator(&src);
        assert_eq!(check(&v, &token).await, "jwks_unavailable", "{what}");
        assert_eq!(server.hits(), 0, "{what}");
        assert_eq!(src.stats().last_error.map(|e| e.code()), Some("tls"));
    }
    // And the same server with a good certificate works.
    let server = Server::tls(pki.server(&["localhost"], false), fixed(jwks(&[&k1]))).await;
    let src = source_with(&server.url("/jwks"), &clock(), cache(), pki.fetch_config());
    assert_eq!(check(&validator(&src), &token).await, "valid");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_caller_that_gives_up_does_not_cancel_the_shared_fetch() {
    let k1 = TestKey::new("k1");
    let doc = jwks(&[&k1]);
    let server = Server::raw(handler(move |_, _| {
        Reply::Delay(Duration::from_millis(300), Box::new(json(doc.clone())))
    }))
    .await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    let token = k1.token();
    // The first caller abandons its validation (a request timeout upstream of us).
    let abandoned = tokio::time::timeout(Duration::from_millis(20), v.validate_async(&token)).await;
    assert!(abandoned.is_err());
    // The next one joins the fetch still in flight (or finds its result).
    assert_eq!(check(&v, &token).await, "valid");
    assert_eq!(server.hits(), 1);
    assert_eq!(src.stats().fetches, 1);
}

#[tokio::test]
async fn tokens_without_kid_share_the_cooldown() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    let v = validator(&src);
    assert_eq!(check(&v, &k1.token()).await, "valid");
    let no_kid = {
        let header = jwk_core::b64::encode(br#"{"alg":"ES256","typ":"JWT"}"#);
        let payload = jwk_core::b64::encode(br#"{"iss":"https://idp.test","exp":4102444800}"#);
        format!("{header}.{payload}.{}", jwk_core::b64::encode(&[1u8; 64]))
    };
    // No kid: the one cached key is tried and fails; a refetch may happen once per cooldown.
    for _ in 0..50 {
        assert_ne!(check(&v, &no_kid).await, "valid");
    }
    assert!(server.hits() <= 2, "{}", server.hits());
    assert_eq!(check(&v, &k1.token()).await, "valid");
}

#[tokio::test]
async fn reads_never_wait_on_a_refresh_in_flight() {
    let k1 = TestKey::new("k1");
    let doc = jwks(&[&k1]);
    // First request answers; every later one hangs until the request deadline (60 s).
    let server = Server::raw(handler(move |n, _| {
        if n == 0 {
            json(doc.clone())
        } else {
            Reply::Hang
        }
    }))
    .await;
    let clock = clock();
    let fetch = http_config().with_request_timeout(secs(60));
    let src = source_with(&server.url("/jwks"), &clock, cache(), fetch);
    let v = validator(&src);
    let token = k1.token();
    assert_eq!(check(&v, &token).await, "valid");
    clock.advance(secs(600));
    let refresher = src.clone();
    let pending = tokio::spawn(async move { refresher.tick().await });
    tokio::time::timeout(secs(30), async {
        while server.hits() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the refresh reached the server");
    // The refresh hangs; validations with known keys do not wait for it (the margin is only a
    // safety net: waiting would take the full 60 s deadline).
    for _ in 0..100 {
        let r = tokio::time::timeout(secs(30), check(&v, &token)).await;
        assert_eq!(r.unwrap(), "valid");
    }
    assert_eq!(server.hits(), 2);
    pending.abort();
}

/// A process-wide `tracing` subscriber writing plain text into a buffer. Global because
/// thread-scoped subscribers miss events when other tests register the same callsites
/// concurrently; callers filter the lines by their own server's port.
fn capture_logs() -> Arc<std::sync::Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = Buf(buf.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("only this test sets it");
    buf
}

#[tokio::test]
async fn empty_sets_and_replaced_keys_are_logged_loudly() {
    let logs = capture_logs();
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    src.load().await.unwrap();
    server.set(fixed(jwks(&[&TestKey::new("k1")])));
    src.refresh_now().await.unwrap();
    server.set(fixed(r#"{"keys":[]}"#.into()));
    src.refresh_now().await.unwrap();
    server.set(handler(|_, _| status(502)));
    assert!(src.refresh_now().await.is_err());
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let mine = format!("source={}", server.url("/jwks"));
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(&mine)).collect();
    let find = |needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
    };
    assert!(find("JWKS updated").contains("INFO"));
    assert!(find("key material changed under the same kid").contains("ERROR"));
    assert!(find("changed under the same kid").contains(r#"changed=["k1"]"#));
    assert!(find("EMPTY key set").contains("ERROR"));
    assert!(find("JWKS fetch failed").contains("WARN"));
    assert!(find("JWKS fetch failed").contains("http_status"));
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn extreme_settings_do_not_panic() {
    let k1 = TestKey::new("k1");
    let server = Server::raw(fixed(jwks(&[&k1]))).await;
    let clock = clock();
    let max = Duration::MAX;
    let cfg = cache()
        .with_ttl(max, max, max)
        .with_refresh_ahead(max)
        .with_max_staleness(max)
        .with_cooldown(max)
        .with_backoff(max, max)
        .with_negative_cache(max, 0);
    let src = source_with(&server.url("/jwks"), &clock, cfg, http_config());
    let v = validator(&src);
    assert_eq!(check(&v, &k1.token()).await, "valid");
    assert_eq!(check(&v, &unsigned_token("x")).await, "key_not_found");
    assert_eq!(check(&v, &unsigned_token("y")).await, "key_not_found");
    server.set(handler(|_, _| status(500)));
    assert!(src.refresh_now().await.is_err());
    clock.advance(max);
    assert!(src.tick().await.is_none());
    assert_eq!(check(&v, &k1.token()).await, "valid");
    assert_eq!(server.hits(), 3);
    // Zero everywhere: a refetch per unknown kid at most per flight, never a panic.
    let zero = Duration::ZERO;
    let cfg = cache()
        .with_ttl(zero, zero, zero)
        .with_refresh_ahead(zero)
        .with_cooldown(zero)
        .with_backoff(zero, zero);
    server.set(fixed(jwks(&[&k1])));
    let src = source_with(&server.url("/jwks"), &clock, cfg, http_config());
    let v = validator(&src);
    assert_eq!(check(&v, &k1.token()).await, "valid");
    assert!(src.tick().await.unwrap().is_ok());
}

#[tokio::test]
async fn a_jwks_url_that_disappears_is_rediscovered() {
    let k1 = TestKey::new("k1");
    let doc = jwks(&[&k1]);
    let moved = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = moved.clone();
    let server = Server::raw(handler(move |_, req| {
        let port = req
            .header("host")
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        let me = format!("http://127.0.0.1:{port}");
        let path = if flag.load(std::sync::atomic::Ordering::SeqCst) {
            "/v2/jwks"
        } else {
            "/v1/jwks"
        };
        match req.path.as_str() {
            "/.well-known/openid-configuration" => {
                json(format!(r#"{{"issuer":"{me}","jwks_uri":"{me}{path}"}}"#))
            }
            p if p == path => json(doc.clone()),
            _ => status(404),
        }
    }))
    .await;
    let clock = clock();
    let issuer = server.url("");
    let src = RemoteJwks::discover(&issuer, DiscoveryKind::OpenId)
        .fetch_config(http_config())
        .cache_config(cache())
        .clock(clock.clone())
        .build()
        .unwrap();
    src.load().await.unwrap();
    assert_eq!(server.hits(), 2);
    moved.store(true, std::sync::atomic::Ordering::SeqCst);
    clock.advance(secs(600));
    // The old URL answers 404: the keys held stay, and the next attempt asks the metadata.
    assert_eq!(src.tick().await.unwrap().unwrap_err().code(), "http_status");
    assert_eq!(src.stats().jwks_uri, None);
    assert!(src.keys().is_some());
    clock.advance(secs(2));
    assert!(src.tick().await.unwrap().is_ok());
    assert_eq!(src.stats().jwks_uri, Some(server.url("/v2/jwks")));
    assert_eq!(server.hits(), 5);
}

/// Issue 11 item 2, for the cache behind `trusted_issuers` and `--jwks-url`: a fetched set
/// that carries a shared secret next to a public key keeps only the public key; the HMAC key
/// is set aside as `private_key`, so an HS256 token under its kid finds no key even when the
/// validator allows HS256.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_sets_never_yield_shared_secrets() {
    let k1 = TestKey::new("k1");
    let secret = [9u8; 32];
    let doc = format!(
        r#"{{"keys":[{{"kty":"oct","kid":"hs","k":"{}"}},{}]}}"#,
        jwk_core::b64::encode(&secret),
        k1.jwk().to_json()
    );
    let server = Server::raw(fixed(doc)).await;
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    src.load().await.unwrap();
    let set = src.jwks().unwrap();
    let kids: Vec<_> = set.keys.iter().map(|k| k.kid.as_deref()).collect();
    assert_eq!(kids, [Some("k1")]);
    assert_eq!(set.rejected[0].reason.code(), "private_key");
    let keys = src.keys().unwrap();
    assert!(keys
        .import_failures()
        .iter()
        .all(|f| f.code != "mixed_key_set"));
    let hs = jws_crypto::default_provider()
        .hmac_signer(&secret, Algorithm::Hs256)
        .unwrap();
    let input = format!(
        "{}.{}",
        jwk_core::b64::encode(br#"{"alg":"HS256","kid":"hs"}"#),
        jwk_core::b64::encode(br#"{"iss":"https://idp.test","exp":4102444800}"#)
    );
    let token = format!(
        "{input}.{}",
        jwk_core::b64::encode(&hs.sign(input.as_bytes()).unwrap())
    );
    let v = Validator::builder()
        .key_source(src.clone())
        .algorithms([Algorithm::Hs256, Algorithm::Es256])
        .build()
        .unwrap();
    assert_eq!(
        v.validate_async(&token)
            .await
            .map(|_| ())
            .unwrap_err()
            .code(),
        "key_not_found"
    );
    assert_eq!(check(&v, &k1.token()).await, "valid");
}
