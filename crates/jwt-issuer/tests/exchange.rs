//! The token endpoint end to end: real servers on 127.0.0.1, one injected clock.

use core::time::Duration;
use std::sync::Arc;

use jwk_core::Algorithm;
use jwt_issuer::{
    Clock as _, LoopbackClient, DISCOVERY_PATH, HEALTH_PATH, JWKS_PATH, JWT_BEARER, TOKEN_PATH,
};
use jwt_validate::Validator;
use serde_json::{json, Value};

use crate::support::{exchange_at, oauth_error, remote, start, Env, TempDir, PUBLIC_CLIENT};

/// RFC 6749 section 5.2: `error_description` holds only `%x20-21 / %x23-5B / %x5D-7E`.
fn rfc6749_description(s: &str) -> bool {
    s.bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// A validator for the service's access tokens, fetching its JWKS over HTTP.
fn at_validator(env: &Env, source: Arc<jwks_fetch::RemoteJwks>) -> Validator {
    Validator::builder()
        .shared_key_source(source)
        .issuer(env.svc.url.clone())
        .audience(env.svc.url.clone())
        .typ("at+jwt")
        .clock(jwt_validate::FixedClock::at_secs(env.clock.now().as_secs()))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_exchange() {
    let env = Env::new().await;
    let assertion = env.assertion(&env.claims());
    let r = env
        .svc
        .client()
        .await
        .post_form(
            TOKEN_PATH,
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &assertion),
                ("scope", "read"),
                ("client_id", PUBLIC_CLIENT),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "read");
    let at = body["access_token"].as_str().unwrap();

    let source = Arc::new(remote(&format!("{}{JWKS_PATH}", env.svc.url)));
    let verified = at_validator(&env, source.clone())
        .validate_async(at)
        .await
        .unwrap();
    let c = verified.claims();
    // The subject is qualified by its identity provider, which is recorded as well.
    assert_eq!(
        c.sub.as_deref(),
        Some(format!("{}#alice", env.idp.url).as_str())
    );
    assert_eq!(c.get("idp"), Some(Value::String(env.idp.url.clone())));
    assert_eq!(c.get("idp_sub"), Some(Value::String("alice".into())));
    assert_eq!(c.iss.as_deref(), Some(env.svc.url.as_str()));
    assert!(c.jti.is_some());
    assert_eq!(c.exp.unwrap().secs(), env.now() + 300);
    // client_id and azp: the authenticated client.
    assert_eq!(
        c.get("client_id"),
        Some(Value::String(PUBLIC_CLIENT.into()))
    );
    assert_eq!(c.get("azp"), Some(Value::String(PUBLIC_CLIENT.into())));
    assert_eq!(c.get("scope"), Some(Value::String("read".into())));
    assert_eq!(verified.header().typ.as_deref(), Some("at+jwt"));
    assert_eq!(
        verified.kid(),
        Some(env.svc.keys.signing_key(None).unwrap().kid.as_str())
    );
    assert_eq!(source.stats().fetches, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal() {
    let env = Env::new().await;
    let now = env.now();
    let good = env.claims();
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = good.clone();
        f(c.as_object_mut().unwrap());
        c
    };
    let grant = |c: &Value| env.assertion(c);
    // (case, assertion, expected status, expected error)
    let other_idp = start(&env.clock, &[Algorithm::Es256], None, &[]).await;
    let mut untrusted = good.clone();
    untrusted["iss"] = json!(other_idp.url);
    let untrusted = other_idp
        .keys
        .signing_key(None)
        .unwrap()
        .sign_jwt("JWT", &untrusted)
        .unwrap();
    // Signed by a key the IdP never published, under the IdP's name and kid.
    let forged = {
        let k = other_idp.keys.signing_key(None).unwrap();
        let own_kid = env.idp.keys.signing_key(None).unwrap().kid;
        let k = jwt_issuer::SigningKey {
            kid: own_kid,
            signer: k.signer,
        };
        k.sign_jwt(
            "JWT",
            &with(&|c| {
                c.insert("jti".into(), json!("forged"));
            }),
        )
        .unwrap()
    };
    let tampered = {
        let a = grant(&with(&|c| {
            c.insert("jti".into(), json!("tampered"));
        }));
        let (head, sig) = a.rsplit_once('.').unwrap();
        let mut sig: Vec<u8> = sig.bytes().collect();
        sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
        format!("{head}.{}", String::from_utf8(sig).unwrap())
    };
    let hostile_iss = grant(&with(&|c| {
        c.insert("iss".into(), json!("https://idp.example/\"\\caf\u{e9}"));
    }));
    let no_iss = grant(&with(&|c| {
        c.remove("iss");
    }));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("untrusted issuer", untrusted, 400, "invalid_grant"),
        ("hostile issuer", hostile_iss, 400, "invalid_grant"),
        ("no issuer", no_iss, 400, "invalid_grant"),
        ("forged signature", forged, 400, "invalid_grant"),
        ("tampered signature", tampered, 400, "invalid_grant"),
        (
            "missing sub",
            grant(&with(&|c| {
                c.remove("sub");
            })),
            400,
            "invalid_grant",
        ),
        (
            "wrong aud",
            grant(&with(&|c| {
                c.insert("aud".into(), json!("https://elsewhere.example"));
            })),
            400,
            "invalid_grant",
        ),
        (
            "missing exp",
            grant(&with(&|c| {
                c.remove("exp");
            })),
            400,
            "invalid_grant",
        ),
        (
            "exp too far",
            grant(&with(&|c| {
                c.insert("exp".into(), json!(now + 7200));
            })),
            400,
            "invalid_grant",
        ),
        (
            "expired",
            grant(&with(&|c| {
                c.insert("exp".into(), json!(now - 120));
            })),
            400,
            "invalid_grant",
        ),
        (
            "nbf in the future",
            grant(&with(&|c| {
                c.insert("nbf".into(), json!(now + 600));
            })),
            400,
            "invalid_grant",
        ),
        (
            "iat in the future",
            grant(&with(&|c| {
                c.insert("iat".into(), json!(now + 600));
            })),
            400,
            "invalid_grant",
        ),
        (
            "iat long ago",
            grant(&with(&|c| {
                c.insert("iat".into(), json!(now - 5000));
            })),
            400,
            "invalid_grant",
        ),
        (
            "missing jti",
            grant(&with(&|c| {
                c.remove("jti");
            })),
            400,
            "invalid_grant",
        ),
        ("not a JWT", "abc".into(), 400, "invalid_grant"),
    ];
    let mut descriptions = Vec::new();
    for (case, assertion, status, error) in cases {
        let r = env.exchange(&assertion).await;
        assert_eq!(
            oauth_error(&r),
            (status, error.to_owned()),
            "{case}: {:?}",
            r.json()
        );
        assert_eq!(r.header("cache-control"), Some("no-store"), "{case}");
        let desc = r.json()["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!desc.is_empty(), "{case}");
        // RFC 6749 5.2's charset; nothing the client chose, nothing about our configuration.
        assert!(rfc6749_description(&desc), "{case}: {desc}");
        for leak in ["127.0.0.1", "idp.example", "alice", "ES256", "http"] {
            assert!(!desc.contains(leak), "{case}: {desc}");
        }
        descriptions.push((case, desc));
    }
    // "Not trusted" and "no iss" read the same: the trusted issuers cannot be enumerated.
    let of = |case: &str| &descriptions.iter().find(|(c, _)| *c == case).unwrap().1;
    assert_eq!(of("untrusted issuer"), of("hostile issuer"));
    assert_eq!(of("untrusted issuer"), of("no issuer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_is_refused() {
    let env = Env::new().await;
    let a = env.assertion(&env.claims());
    assert_eq!(env.exchange(&a).await.status, 200);
    let r = env.exchange(&a).await;
    assert_eq!(oauth_error(&r), (400, "invalid_grant".into()));
    // A fixed description per cause (the code is the contract; the text names no jti).
    let desc = r.json()["error_description"].as_str().unwrap().to_owned();
    assert!(rfc6749_description(&desc));
    let again = env.exchange(&a).await;
    assert_eq!(
        again.json()["error_description"].as_str(),
        Some(desc.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_shape_refusals() {
    let env = Env::new().await;
    let a = env.assertion(&env.claims());
    let mut c = env.svc.client().await;
    let check = |r: jwt_issuer::Reply, status: u16, error: &str| {
        assert_eq!(
            oauth_error(&r),
            (status, error.to_owned()),
            "{:?}",
            r.json()
        );
    };
    check(
        c.post_form(
            TOKEN_PATH,
            &[("grant_type", "client_credentials"), ("assertion", &a)],
        )
        .await
        .unwrap(),
        400,
        "unsupported_grant_type",
    );
    check(
        c.post_form(TOKEN_PATH, &[("assertion", &a)]).await.unwrap(),
        400,
        "invalid_request",
    );
    check(
        c.post_form(TOKEN_PATH, &[("grant_type", JWT_BEARER)])
            .await
            .unwrap(),
        400,
        "invalid_request",
    );
    check(
        c.post_form(
            TOKEN_PATH,
            &[
                ("grant_type", JWT_BEARER),
                ("grant_type", JWT_BEARER),
                ("assertion", &a),
            ],
        )
        .await
        .unwrap(),
        400,
        "invalid_request",
    );
    check(
        c.post_form(
            TOKEN_PATH,
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &a),
                ("scope", "admin"),
                ("client_id", PUBLIC_CLIENT),
            ],
        )
        .await
        .unwrap(),
        400,
        "invalid_scope",
    );
    check(
        c.post_form(
            TOKEN_PATH,
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &a),
                ("client_id", "someone-else"),
            ],
        )
        .await
        .unwrap(),
        401,
        "invalid_client",
    );
    // JSON instead of a form.
    let r = c
        .request(
            http::Method::POST,
            TOKEN_PATH,
            &[("content-type", "application/json")],
            bytes::Bytes::from(json!({"grant_type": JWT_BEARER}).to_string()),
        )
        .await
        .unwrap();
    check(r, 400, "invalid_request");
    // Wrong method.
    let r = c.get(TOKEN_PATH, &[]).await.unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = c
        .request(http::Method::DELETE, JWKS_PATH, &[], bytes::Bytes::new())
        .await
        .unwrap();
    assert_eq!(r.status, 405);
    // Oversized body (the test servers allow 16 KiB).
    let big = "a".repeat(20 * 1024);
    let r = c
        .post_form(
            TOKEN_PATH,
            &[("grant_type", JWT_BEARER), ("assertion", &big)],
        )
        .await
        .unwrap();
    check(r, 413, "invalid_request");
    // A parameter with an empty name is malformed.
    let addr = env.svc.addr;
    let raw = |body: String| async move {
        let mut c = LoopbackClient::connect(addr).await.unwrap();
        c.request(
            http::Method::POST,
            TOKEN_PATH,
            &[("content-type", "application/x-www-form-urlencoded")],
            bytes::Bytes::from(body),
        )
        .await
        .unwrap()
    };
    let form = jwt_issuer::form_encode(&[
        ("grant_type", JWT_BEARER),
        ("assertion", &a),
        ("client_id", PUBLIC_CLIENT),
    ]);
    check(raw(format!("{form}&=x")).await, 400, "invalid_request");
    // RFC 6749 3.1: `scope=` and `client_id=` (no value) are treated as omitted: the
    // scope-less exchange works, on a new connection.
    let r = raw(format!("{form}&scope=&client_secret=")).await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert!(r.json().get("scope").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_keys_down_is_503_with_retry_after() {
    let clock = Arc::new(jwt_issuer::ManualClock::at_secs(crate::support::wall_now()));
    // An identity provider that has gone away: its port is closed.
    let idp = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let trust = [(idp.url.clone(), format!("http://{dead}/oauth2/jwks"))];
    let svc = start(&clock, &[Algorithm::Es256], None, &trust).await;
    let now = jwt_issuer::Clock::now(&*clock).as_secs() as i64;
    let a = idp
        .keys
        .signing_key(None)
        .unwrap()
        .sign_jwt(
            "JWT",
            &json!({"iss": idp.url, "sub": "a", "aud": svc.service.token_endpoint(),
                    "exp": now + 60, "jti": "x"}),
        )
        .unwrap();
    let r = exchange_at(svc.addr, &a).await;
    assert_eq!(r.status, 503, "{:?}", r.json());
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(r.json()["error"], "temporarily_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_discovery_and_health() {
    let env = Env::with_algs(&[Algorithm::Rs256, Algorithm::Ps256]).await;
    let mut c = env.svc.client().await;
    let r = c.get(JWKS_PATH, &[]).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=100"));
    assert_eq!(r.header("content-type"), Some("application/jwk-set+json"));
    let etag = r.header("etag").unwrap().to_owned();
    let set = jwk_core::JwkSet::parse(&r.body).unwrap();
    let kids: Vec<&str> = set.keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert!(kids[0].ends_with("_RS256") && kids[1].ends_with("_PS256"));
    assert_eq!(
        kids[0].trim_end_matches("_RS256"),
        kids[1].trim_end_matches("_PS256")
    );
    let r = c.get(JWKS_PATH, &[("if-none-match", &etag)]).await.unwrap();
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    let r = c
        .get(JWKS_PATH, &[("if-none-match", "\"other\"")])
        .await
        .unwrap();
    assert_eq!(r.status, 200);

    let d = c.get(DISCOVERY_PATH, &[]).await.unwrap().json();
    assert_eq!(d["issuer"], env.svc.url);
    assert_eq!(d["jwks_uri"], format!("{}{JWKS_PATH}", env.svc.url));
    assert_eq!(d["token_endpoint"], format!("{}{TOKEN_PATH}", env.svc.url));
    assert_eq!(d["grant_types_supported"], json!([JWT_BEARER]));
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        json!(["RS256", "PS256"])
    );

    let h = c.get(HEALTH_PATH, &[]).await.unwrap();
    assert_eq!(h.status, 200);
    assert_eq!(c.get("/nope", &[]).await.unwrap().status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollover_keeps_old_tokens_valid() {
    let env = Env::new().await;
    let source = Arc::new(remote(&format!("{}{JWKS_PATH}", env.svc.url)));
    let first = env.exchange(&env.assertion(&env.claims())).await.json();
    let first_at = first["access_token"].as_str().unwrap().to_owned();
    let v = at_validator(&env, source.clone());
    let old_kid = v
        .validate_async(&first_at)
        .await
        .unwrap()
        .kid()
        .unwrap()
        .to_owned();
    assert_eq!(source.stats().fetches, 1);

    env.svc.keys.rotate().unwrap();
    // Pre-publish: the new key is in the JWKS but tokens still carry the old kid.
    let a = env.exchange(&env.assertion(&env.claims())).await.json();
    let v2 = at_validator(&env, source.clone());
    assert_eq!(
        v2.validate_async(a["access_token"].as_str().unwrap())
            .await
            .unwrap()
            .kid(),
        Some(old_kid.as_str())
    );

    // 101 s: a rotation in the same second as the previous key's creation is stamped one
    // second later (key file names are unique per second).
    env.clock.advance(Duration::from_secs(101));
    let b = env.exchange(&env.assertion(&env.claims())).await.json();
    let new_at = b["access_token"].as_str().unwrap();
    let v3 = at_validator(&env, source.clone());
    let verified = v3.validate_async(new_at).await.unwrap();
    assert_ne!(verified.kid(), Some(old_kid.as_str()));
    // The validator fetched once more (unknown kid), and the old token still verifies.
    assert_eq!(source.stats().fetches, 2);
    v3.validate_async(&first_at).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_the_same_key_directory() {
    let clock = Arc::new(jwt_issuer::ManualClock::at_secs(crate::support::wall_now()));
    let dir = TempDir::new("restart-http");
    let mut a = start(&clock, &[Algorithm::Rs256], Some(dir.path()), &[]).await;
    let before = a.client().await.get(JWKS_PATH, &[]).await.unwrap();
    a.stop().await;
    let b = start(&clock, &[Algorithm::Rs256], Some(dir.path()), &[]).await;
    let after = b.client().await.get(JWKS_PATH, &[]).await.unwrap();
    assert_eq!(before.body, after.body);
    assert_eq!(before.header("etag"), after.header("etag"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_exchanges() {
    let env = Arc::new(Env::new().await);
    // 24 different assertions at once: all succeed.
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let env = env.clone();
        tasks.push(tokio::spawn(async move {
            let a = env.assertion(&env.claims());
            env.exchange(&a).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    // One assertion sent 8 times at once: exactly one succeeds.
    let a = Arc::new(env.assertion(&env.claims()));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (env, a) = (env.clone(), a.clone());
        tasks.push(tokio::spawn(async move { env.exchange(&a).await.status }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            400 => {}
            other => panic!("status {other}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_stops_listening() {
    let mut env = Env::new().await;
    let addr = env.svc.addr;
    env.svc.stop().await;
    assert!(LoopbackClient::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let clock = Arc::new(jwt_issuer::ManualClock::at_secs(crate::support::wall_now()));
    let dir = TempDir::new("slow");
    let keys = jwt_issuer::KeyManager::builder(dir.path())
        .algorithms([Algorithm::Es256])
        .clock(clock)
        .open()
        .unwrap();
    let listener = jwt_issuer::Listener::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let service = jwt_issuer::TokenService::builder(format!("http://{addr}"), keys)
        .build()
        .unwrap();
    let mut options = jwt_issuer::ServerOptions::default();
    options.header_timeout = Duration::from_millis(300);
    let server = listener.serve(service, options);
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The server gives up on the headers and closes (an upper bound only: no timing assert).
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "connection still open after 30 s");
    server.shutdown().await;
}

/// A scripted server: answers every request with `response`, then closes.
async fn scripted(response: &'static str) -> core::net::SocketAddr {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(response.as_bytes()).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_issuer_keys_pass_retry_after_on() {
    let clock = Arc::new(jwt_issuer::ManualClock::at_secs(crate::support::wall_now()));
    let idp = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let limited = scripted(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let trust = [(idp.url.clone(), format!("http://{limited}/oauth2/jwks"))];
    let svc = start(&clock, &[Algorithm::Es256], None, &trust).await;
    let now = jwt_issuer::Clock::now(&*clock).as_secs() as i64;
    let a = idp
        .keys
        .signing_key(None)
        .unwrap()
        .sign_jwt(
            "JWT",
            &json!({"iss": idp.url, "sub": "a", "aud": svc.service.token_endpoint(),
                    "exp": now + 60, "jti": "rl"}),
        )
        .unwrap();
    let r = exchange_at(svc.addr, &a).await;
    assert_eq!(r.status, 503, "{:?}", r.json());
    // The identity provider's own hint (7 s, counted down since its answer), not our default
    // of 10 s.
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=7).contains(&retry), "{retry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_issuer_found_through_our_own_discovery_document() {
    let clock = Arc::new(jwt_issuer::ManualClock::at_secs(crate::support::wall_now()));
    let idp = start(&clock, &[Algorithm::EdDsa], None, &[]).await;
    let source =
        jwks_fetch::RemoteJwks::discover(idp.url.clone(), jwks_fetch::DiscoveryKind::OpenId)
            .fetch_config(jwks_fetch::FetchConfig::default().with_allow_http_loopback(true))
            .build()
            .unwrap();
    let keys = source.load().await.unwrap();
    assert!(keys.contains_kid(&idp.keys.signing_key(None).unwrap().kid));
    assert_eq!(
        source.stats().jwks_uri.as_deref(),
        Some(format!("{}{JWKS_PATH}", idp.url).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_changed_character_is_refused_and_burns_nothing() {
    const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let env = Env::new().await;
    let good = env.assertion(&env.claims());
    let bytes = good.as_bytes();
    for _ in 0..300 {
        let i = rand::random::<usize>() % bytes.len();
        if bytes[i] == b'.' {
            continue;
        }
        let mut changed = bytes.to_vec();
        while changed[i] == bytes[i] {
            changed[i] = B64URL[rand::random::<usize>() % B64URL.len()];
        }
        let changed = String::from_utf8(changed).unwrap();
        let form = jwt_issuer::form_encode(&[
            ("grant_type", JWT_BEARER),
            ("assertion", &changed),
            ("client_id", PUBLIC_CLIENT),
        ]);
        match env.svc.service.exchange(form.as_bytes()).await {
            Err(jwt_issuer::Refusal::OAuth { code, .. }) => {
                assert_eq!(
                    code,
                    jwt_issuer::OAuthErrorCode::InvalidGrant,
                    "position {i}"
                )
            }
            other => panic!("position {i}: {other:?}"),
        }
    }
    // None of the refusals recorded the jti: the real assertion still works once.
    assert_eq!(env.exchange(&good).await.status, 200);
    assert_eq!(env.exchange(&good).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_request_in_flight_finish() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut env = Env::new().await;
    let a = env.assertion(&env.claims());
    let body = jwt_issuer::form_encode(&[
        ("grant_type", JWT_BEARER),
        ("assertion", &a),
        ("client_id", PUBLIC_CLIENT),
    ]);
    let mut s = tokio::net::TcpStream::connect(env.svc.addr).await.unwrap();
    let head = format!(
        "POST {TOKEN_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // "100 Continue" means the server read the headers and is reading the body: the request
    // is in flight.
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let mut b = [0u8; 256];
        let n = s.read(&mut b).await.unwrap();
        assert!(n > 0, "closed before 100 Continue");
        seen.extend_from_slice(&b[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 100"));
    s.write_all(&body.as_bytes()[..10]).await.unwrap();
    // Shutdown starts while the body is half sent.
    let server = env.svc.server.take().unwrap();
    let stopping = tokio::spawn(server.shutdown());
    // Wait until the listener is closed: shutdown has begun, the request is still open.
    let addr = env.svc.addr;
    tokio::time::timeout(Duration::from_secs(30), async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    s.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"access_token\""));
    stopping.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_down_with_cached_keys_still_works_until_they_are_too_stale() {
    let clock = Arc::new(jwt_issuer::ManualClock::at_secs(crate::support::wall_now()));
    let fetch_clock = Arc::new(jwt_issuer::ManualClock::new());
    let mut idp = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let mut cache = jwks_fetch::CacheConfig::default();
    cache.background = false;
    let source = jwks_fetch::RemoteJwks::builder(format!("{}{JWKS_PATH}", idp.url))
        .fetch_config(jwks_fetch::FetchConfig::default().with_allow_http_loopback(true))
        .cache_config(cache.clone())
        .clock(fetch_clock.clone())
        .build()
        .unwrap();
    let dir = TempDir::new("stale");
    let keys = jwt_issuer::KeyManager::builder(dir.path())
        .algorithms([Algorithm::Es256])
        .schedule(crate::support::schedule())
        .clock(clock.clone())
        .open()
        .unwrap();
    let listener = jwt_issuer::Listener::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr());
    let service = jwt_issuer::TokenService::builder(url, keys)
        .trust(jwt_issuer::TrustedIssuer::new(
            idp.url.clone(),
            Arc::new(source),
        ))
        // Today's behaviour without registered clients, explicitly allowed.
        .allow_unauthenticated_clients(true)
        .build()
        .unwrap();
    let server = listener.serve(service.clone(), jwt_issuer::ServerOptions::default());
    let mint = |jti: &str| {
        let now = jwt_issuer::Clock::now(&*clock).as_secs() as i64;
        idp.keys
            .signing_key(None)
            .unwrap()
            .sign_jwt(
                "JWT",
                &json!({"iss": idp.url, "sub": "a", "aud": service.token_endpoint(),
                        "exp": now + 60, "jti": jti}),
            )
            .unwrap()
    };
    let exchange = |a: String| {
        let service = service.clone();
        async move {
            let form = jwt_issuer::form_encode(&[("grant_type", JWT_BEARER), ("assertion", &a)]);
            service.exchange(form.as_bytes()).await
        }
    };
    let (a1, a2, a3) = (mint("1"), mint("2"), mint("3"));
    assert!(exchange(a1).await.is_ok());
    idp.stop().await;
    // Past the cache's TTL, the identity provider unreachable: the held keys still serve.
    fetch_clock.advance(cache.max_ttl + Duration::from_secs(1));
    assert!(exchange(a2).await.is_ok());
    // Past the maximum staleness the keys are gone: 503, not invalid_grant.
    fetch_clock.advance(cache.max_staleness);
    match exchange(a3).await {
        Err(jwt_issuer::Refusal::Unavailable { retry_after, .. }) => {
            assert!(retry_after >= Duration::from_secs(1))
        }
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
}
