//! One fetch at a time: TLS, limits, media types, documents, redirects, status codes,
//! conditional requests, discovery. Each asserts the outcome and the requests the server got.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jwks_fetch::{
    discover_once, fetch_once, DiscoveryKind, FetchConfig, FetchError, RedirectPolicy,
};

use crate::support::*;

fn code<T: std::fmt::Debug>(r: Result<T, FetchError>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code(),
    }
}

#[tokio::test]
async fn tls_with_test_ca_from_pem_file() {
    let pki = Pki::new();
    let key = TestKey::new("k1");
    let doc = jwks(&[&key]);
    let server = Server::tls(
        pki.server(&["localhost", "127.0.0.1"], false),
        handler(move |_, _| {
            with_headers(
                200,
                &[("content-type", "application/jwk-set+json")],
                doc.clone(),
            )
        }),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("jwks-fetch-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let cfg = FetchConfig::default()
        .with_web_pki_roots(false)
        .with_ca_file(&ca);
    let fetched = fetch_once(&server.url("/jwks"), &cfg).await.unwrap();
    assert_eq!(fetched.jwks.keys.len(), 1);
    assert_eq!(fetched.jwks.keys[0].kid.as_deref(), Some("k1"));
    // By IP address too (the certificate has an IP SAN).
    let by_ip = format!("https://127.0.0.1:{}/jwks", server.addr.port());
    assert!(fetch_once(&by_ip, &cfg).await.is_ok());
    assert_eq!(server.hits(), 2);
    let req = &server.requests()[0];
    assert_eq!(req.path, "/jwks");
    assert!(req
        .header("accept")
        .unwrap()
        .contains("application/jwk-set+json"));
    assert!(req.header("user-agent").unwrap().starts_with("jwks-fetch/"));
    assert_eq!(req.header("cache-control"), None);

    // CA file problems are typed.
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "nothing here").unwrap();
    let bad = FetchConfig::default().with_ca_file(&empty);
    assert_eq!(
        code(fetch_once(&server.url("/jwks"), &bad).await),
        "ca_file"
    );
    let missing = FetchConfig::default().with_ca_file(dir.join("missing.pem"));
    assert_eq!(
        code(fetch_once(&server.url("/jwks"), &missing).await),
        "ca_file"
    );
    assert_eq!(server.hits(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tls_client_config_and_crypto_provider_are_injectable() {
    let pki = Pki::new();
    let key = TestKey::new("k1");
    let doc = jwks(&[&key]);
    let server = Server::tls(
        pki.server(&["localhost"], false),
        handler(move |_, _| json(doc.clone())),
    )
    .await;
    let url = server.url("/jwks");
    let provider = || rustls::crypto::aws_lc_rs::default_provider();

    // A whole client configuration (here: a private CA set), with the web PKI roots still on
    // by default: the given configuration replaces them.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let cfg = FetchConfig::default().with_tls_config(Arc::new(client));
    let fetched = fetch_once(&url, &cfg).await.unwrap();
    assert_eq!(fetched.jwks.keys[0].kid.as_deref(), Some("k1"));
    assert_eq!(server.hits(), 1);
    // Combined with roots, CA files or a provider it is refused, before any request.
    for mixed in [
        cfg.clone().with_root(pki.ca_der.clone()),
        cfg.clone().with_ca_file("ca.pem"),
        cfg.clone().with_tls_provider(Arc::new(provider())),
    ] {
        assert_eq!(code(fetch_once(&url, &mixed).await), "tls_config");
    }

    // A crypto provider (a FIPS build, fewer suites) with the usual trust anchors: used.
    let mut tls13_only = provider();
    tls13_only
        .cipher_suites
        .retain(|s| s.version() == &rustls::version::TLS13);
    let cfg = pki.fetch_config().with_tls_provider(Arc::new(tls13_only));
    assert!(fetch_once(&url, &cfg).await.is_ok());
    assert_eq!(server.hits(), 2);
    // One that offers no suite at all cannot be used: refused as a setting, no request sent.
    let mut empty = provider();
    empty.cipher_suites.clear();
    let cfg = pki.fetch_config().with_tls_provider(Arc::new(empty));
    assert_eq!(code(fetch_once(&url, &cfg).await), "tls_config");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn bad_certificates_are_refused_before_any_request() {
    let pki = Pki::new();
    let ok = handler(|_, _| json(r#"{"keys":[]}"#));
    for (what, cfg) in [
        ("expired", pki.server(&["localhost"], true)),
        ("self-signed", Pki::self_signed(&["localhost"])),
        ("wrong host", pki.server(&["other.example"], false)),
    ] {
        let server = Server::tls(cfg, ok.clone()).await;
        let err = fetch_once(&server.url("/jwks"), &pki.fetch_config())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "tls", "{what}: {err}");
        assert_eq!(server.hits(), 0, "{what}");
    }
    // The web PKI roots alone do not trust the test CA.
    let server = Server::tls(pki.server(&["localhost"], false), ok).await;
    assert_eq!(
        code(fetch_once(&server.url("/"), &FetchConfig::default()).await),
        "tls"
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn plain_http_only_for_loopback_when_allowed() {
    let server = Server::raw(handler(|_, _| json(r#"{"keys":[]}"#))).await;
    let url = server.url("/jwks");
    assert_eq!(
        code(fetch_once(&url, &FetchConfig::default()).await),
        "insecure_url"
    );
    assert_eq!(server.hits(), 0);
    let allow = FetchConfig::default().with_allow_http_loopback(true);
    assert!(fetch_once(&url, &allow).await.is_ok());
    assert_eq!(server.hits(), 1);
    // Never for other hosts, even when allowed (refused before any I/O).
    for url in ["http://10.0.0.1/jwks", "http://example.com/jwks"] {
        assert_eq!(code(fetch_once(url, &allow).await), "insecure_url", "{url}");
    }
    for url in ["ftp://127.0.0.1/", "https://user@127.0.0.1/", "jwks.json"] {
        assert_eq!(code(fetch_once(url, &allow).await), "invalid_url", "{url}");
    }
}

#[tokio::test]
async fn connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let cfg = FetchConfig::default().with_allow_http_loopback(true);
    assert_eq!(
        code(fetch_once(&format!("http://127.0.0.1:{port}/"), &cfg).await),
        "connect_failed"
    );
}

#[tokio::test]
async fn media_types() {
    let server = Server::raw(handler(|n, _| match n {
        0 => with_headers(
            200,
            &[("content-type", "text/html; charset=utf-8")],
            "<html><body><form action=/login>Sign in</form></body></html>",
        ),
        1 => with_headers(200, &[], r#"{"keys":[]}"#),
        2 => with_headers(
            200,
            &[("content-type", "application/json; charset=utf-8")],
            r#"{"keys":[]}"#,
        ),
        _ => with_headers(
            200,
            &[("content-type", "application/jwk-set+json")],
            r#"{"keys":[]}"#,
        ),
    }))
    .await;
    let cfg = http_config();
    let url = server.url("/jwks");
    match fetch_once(&url, &cfg).await {
        Err(FetchError::ContentType { found }) => {
            assert_eq!(found.as_deref(), Some("text/html; charset=utf-8"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fetch_once(&url, &cfg).await.unwrap_err().to_string(),
        "response has no content type; expected application/json or application/jwk-set+json"
    );
    assert!(fetch_once(&url, &cfg).await.is_ok());
    assert!(fetch_once(&url, &cfg).await.is_ok());
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn bad_documents() {
    let good = TestKey::new("good");
    let good2 = TestKey::new("good2");
    let mixed = format!(
        r#"{{"keys":[{},{{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"broken"}},{}]}}"#,
        good.jwk().to_json(),
        good2.jwk().to_json()
    );
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "bad_document"),
        ("null".into(), "bad_document"),
        ("{}".into(), "bad_document"),
        (r#"{"keys":null}"#.into(), "bad_document"),
        (r#"{"keys":[null]}"#.into(), "no_usable_keys"),
        ("".into(), "bad_document"),
        (mixed, "ok"),
        (r#"{"keys":[]}"#.into(), "ok"),
    ];
    let docs: Vec<String> = cases.iter().map(|(d, _)| d.clone()).collect();
    let server = Server::raw(handler(move |n, _| json(docs[n].clone()))).await;
    let cfg = http_config();
    for (i, (doc, want)) in cases.iter().enumerate() {
        let got = match fetch_once(&server.url("/"), &cfg).await {
            Ok(f) => {
                if i == 6 {
                    assert_eq!(f.jwks.keys.len(), 2);
                    assert_eq!(f.jwks.rejected.len(), 1);
                    assert_eq!(f.jwks.rejected[0].kid.as_deref(), Some("broken"));
                }
                "ok"
            }
            Err(e) => e.code(),
        };
        assert_eq!(got, *want, "{doc}");
        assert_eq!(server.hits(), i + 1);
    }
}

#[tokio::test]
async fn key_count_is_bounded() {
    let key = TestKey::new("k");
    let one = key.jwk().to_json();
    let doc = format!(r#"{{"keys":[{}]}}"#, vec![one; 101].join(","));
    let server = Server::raw(handler(move |_, _| json(doc.clone()))).await;
    assert_eq!(
        fetch_once(&server.url("/"), &http_config())
            .await
            .unwrap_err(),
        FetchError::TooManyKeys {
            count: 101,
            limit: 100
        }
    );
    let more = http_config().with_max_keys(200);
    assert!(fetch_once(&server.url("/"), &more).await.is_ok());
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn huge_and_endless_bodies_stop_at_the_limit() {
    const MIB: usize = 1024 * 1024;
    let server = Server::raw(handler(|n, _| match n {
        // 50 MiB announced: refused on the header.
        0 => Reply::Endless {
            head: format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                50 * MIB
            )
            .into_bytes(),
            chunk: vec![b' '; 64 * 1024],
        },
        // 50 MiB without a length (read to close): counted while streaming.
        1 => Reply::Endless {
            head: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                .to_vec(),
            chunk: vec![b' '; 64 * 1024],
        },
        // Chunked, never ending.
        _ => Reply::Endless {
            head: b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec(),
            chunk: {
                let mut c = format!("{:x}\r\n", 16 * 1024).into_bytes();
                c.extend(vec![b' '; 16 * 1024]);
                c.extend_from_slice(b"\r\n");
                c
            },
        },
    }))
    .await;
    let cfg = http_config();
    for i in 0..3 {
        let err = fetch_once(&server.url("/"), &cfg).await.unwrap_err();
        assert_eq!(err, FetchError::TooLarge { limit: 512 * 1024 }, "case {i}");
    }
    assert_eq!(server.hits(), 3);
    // The client hung up long before 50 MiB per response (socket buffers aside).
    assert!(server.written.load(std::sync::atomic::Ordering::SeqCst) < 3 * 50 * MIB);
}

#[tokio::test]
async fn slow_drip_hits_the_whole_request_deadline() {
    let key = TestKey::new("k");
    let doc = jwks(&[&key]);
    let body_head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        doc.len()
    );
    let server = Server::raw(handler(move |n, _| match n {
        // Headers one byte every 20 ms: each read makes progress, the whole takes seconds.
        0 => Reply::Drip {
            prefix: Vec::new(),
            bytes: body_head.clone().into_bytes(),
            every: Duration::from_millis(20),
        },
        // Headers at once, body dripping.
        1 => Reply::Drip {
            prefix: body_head.clone().into_bytes(),
            bytes: doc.clone().into_bytes(),
            every: Duration::from_millis(20),
        },
        _ => Reply::Hang,
    }))
    .await;
    let cfg = http_config().with_request_timeout(Duration::from_millis(300));
    for i in 0..3 {
        let started = Instant::now();
        let err = fetch_once(&server.url("/"), &cfg).await.unwrap_err();
        assert_eq!(
            err,
            FetchError::Timeout {
                phase: "request",
                limit: Duration::from_millis(300)
            },
            "case {i}"
        );
        // Generous: the point is that it ends, not how fast.
        assert!(started.elapsed() < Duration::from_secs(30));
    }
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn redirects() {
    let server = Server::raw(handler(|_, req| {
        let to = |loc: &str| with_headers(302, &[("location", loc)], "");
        match req.path.as_str() {
            "/moved" => to("/jwks"),
            "/other-host" => to(&format!(
                "http://localhost:{}/jwks",
                req.header("host").unwrap().rsplit(':').next().unwrap()
            )),
            "/loop-a" => to("/loop-b"),
            "/loop-b" => to("/loop-a"),
            "/chain1" => to("/chain2"),
            "/chain2" => to("/chain3"),
            "/chain3" => to("/jwks"),
            "/jwks" => json(r#"{"keys":[]}"#),
            _ => status(404),
        }
    }))
    .await;
    let off = http_config();
    let err = fetch_once(&server.url("/moved"), &off).await.unwrap_err();
    assert_eq!(
        err,
        FetchError::Redirect {
            location: "/jwks".into(),
            reason: "redirects are not followed"
        }
    );
    assert_eq!(server.hits(), 1);

    let follow = http_config().with_redirects(RedirectPolicy::Follow {
        max: 2,
        other_hosts: false,
    });
    let f = fetch_once(&server.url("/moved"), &follow).await.unwrap();
    assert!(f.url.ends_with("/jwks"));
    assert_eq!(server.hits(), 3);

    let reason = |r: Result<_, FetchError>| match r {
        Err(FetchError::Redirect { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason(fetch_once(&server.url("/other-host"), &follow).await),
        "another host"
    );
    assert_eq!(server.hits(), 4);
    assert_eq!(
        reason(fetch_once(&server.url("/loop-a"), &follow).await),
        "redirect loop"
    );
    assert_eq!(server.hits(), 6);
    assert_eq!(
        reason(fetch_once(&server.url("/chain1"), &follow).await),
        "too many redirects"
    );
    assert_eq!(server.hits(), 9);
}

#[tokio::test]
async fn https_never_redirects_to_http() {
    let pki = Pki::new();
    let plain = Server::raw(handler(|_, _| json(r#"{"keys":[]}"#))).await;
    let target = plain.url("/jwks");
    let tls = Server::tls(
        pki.server(&["localhost"], false),
        handler(move |_, _| with_headers(301, &[("location", &target)], "")),
    )
    .await;
    let cfg = pki
        .fetch_config()
        .with_allow_http_loopback(true)
        .with_redirects(RedirectPolicy::Follow {
            max: 5,
            other_hosts: true,
        });
    match fetch_once(&tls.url("/jwks"), &cfg).await {
        Err(FetchError::Redirect { reason, .. }) => assert_eq!(reason, "https to http"),
        other => panic!("{other:?}"),
    }
    assert_eq!((tls.hits(), plain.hits()), (1, 0));
}

#[tokio::test]
async fn status_codes_and_retry_after() {
    let server = Server::raw(handler(|n, _| match n {
        0 => status(500),
        1 => with_headers(429, &[("retry-after", "120")], ""),
        2 => with_headers(503, &[("retry-after", "999999")], ""),
        3 => status(404),
        _ => status(503),
    }))
    .await;
    let cfg = http_config();
    let url = server.url("/");
    assert_eq!(
        fetch_once(&url, &cfg).await.unwrap_err(),
        FetchError::HttpStatus { status: 500 }
    );
    assert_eq!(
        fetch_once(&url, &cfg).await.unwrap_err(),
        FetchError::RateLimited {
            status: 429,
            retry_after: Some(Duration::from_secs(120))
        }
    );
    // Clamped to max_retry_after (10 min).
    assert_eq!(
        fetch_once(&url, &cfg).await.unwrap_err().retry_after(),
        Some(Duration::from_secs(600))
    );
    assert_eq!(code(fetch_once(&url, &cfg).await), "http_status");
    assert_eq!(
        fetch_once(&url, &cfg).await.unwrap_err(),
        FetchError::RateLimited {
            status: 503,
            retry_after: None
        }
    );
    assert_eq!(server.hits(), 5);
}

#[tokio::test]
async fn conditional_request_and_304() {
    let server = Server::raw(handler(|_, req| {
        if req.header("if-none-match") == Some("\"v1\"") {
            with_headers(304, &[("cache-control", "max-age=900")], "")
        } else {
            with_headers(
                200,
                &[
                    ("content-type", "application/json"),
                    ("etag", "\"v1\""),
                    ("last-modified", "Tue, 14 Nov 2023 22:13:20 GMT"),
                    ("cache-control", "public, max-age=300"),
                ],
                r#"{"keys":[]}"#,
            )
        }
    }))
    .await;
    // Through the cache: the first fetch keeps the validators, an operator's refresh sends
    // them back with `no-cache`, and the 304 renews the keys with its own lifetime.
    let clock = clock();
    let src = source(&server.url("/jwks"), &clock);
    src.load().await.unwrap();
    assert_eq!(src.stats().expires_in, Some(Duration::from_secs(300)));
    let mut events = src.subscribe();
    src.refresh_now().await.unwrap();
    assert!(matches!(
        events.try_recv().unwrap(),
        jwks_fetch::Event::NotModified { .. }
    ));
    let stats = src.stats();
    assert_eq!((stats.updates, stats.not_modified), (1, 1));
    assert_eq!(stats.expires_in, Some(Duration::from_secs(900)));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert_eq!(reqs[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        reqs[1].header("if-modified-since"),
        Some("Tue, 14 Nov 2023 22:13:20 GMT")
    );
    assert_eq!(reqs[1].header("cache-control"), Some("no-cache"));
    assert_eq!(stats.requests, 2);
}

#[tokio::test]
async fn discovery_openid_and_rfc8414() {
    let server = Server::raw(handler(|_, req| {
        let port = req
            .header("host")
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        let me = format!("http://127.0.0.1:{port}");
        match req.path.as_str() {
            "/.well-known/openid-configuration" => json(format!(
                r#"{{"issuer":"{me}","jwks_uri":"{me}/keys","authorization_endpoint":"{me}/a"}}"#
            )),
            "/.well-known/oauth-authorization-server/tenant" => json(format!(
                r#"{{"issuer":"{me}/tenant","jwks_uri":"{me}/tenant/keys"}}"#
            )),
            "/wrong/.well-known/openid-configuration" => json(format!(
                r#"{{"issuer":"{me}/evil","jwks_uri":"{me}/keys"}}"#
            )),
            "/insecure/.well-known/openid-configuration" => json(format!(
                r#"{{"issuer":"{me}/insecure","jwks_uri":"http://idp.example/keys"}}"#
            )),
            "/nojwks/.well-known/openid-configuration" => {
                json(format!(r#"{{"issuer":"{me}/nojwks"}}"#))
            }
            _ => status(404),
        }
    }))
    .await;
    let cfg = http_config();
    let discover = |issuer: String, kind| {
        let cfg = cfg.clone();
        async move { discover_once(&issuer, kind, &cfg).await }
    };
    let base = server.url("");
    let meta = discover(base.clone(), DiscoveryKind::OpenId).await.unwrap();
    assert_eq!(meta.jwks_uri, format!("{base}/keys"));
    let meta = discover(format!("{base}/tenant"), DiscoveryKind::OAuth)
        .await
        .unwrap();
    assert_eq!(meta.jwks_uri, format!("{base}/tenant/keys"));
    match discover(format!("{base}/wrong"), DiscoveryKind::OpenId).await {
        Err(FetchError::IssuerMismatch { expected, found }) => {
            assert_eq!(&*expected, format!("{base}/wrong"));
            assert_eq!(&*found, format!("{base}/evil"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        code(discover(format!("{base}/insecure"), DiscoveryKind::OpenId).await),
        "insecure_url"
    );
    assert_eq!(
        code(discover(format!("{base}/nojwks"), DiscoveryKind::OpenId).await),
        "bad_metadata"
    );
    // A trailing slash is a different issuer: exact match.
    assert_eq!(
        code(discover(format!("{base}/"), DiscoveryKind::OpenId).await),
        "issuer_mismatch"
    );
    assert_eq!(server.hits(), 6);
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_hits_the_connect_timeout() {
    // A plain TCP server that never answers the ClientHello.
    let server = Server::raw(handler(|_, _| Reply::Hang)).await;
    let url = format!("https://127.0.0.1:{}/jwks", server.addr.port());
    let cfg = FetchConfig::default().with_connect_timeout(Duration::from_millis(200));
    assert_eq!(
        fetch_once(&url, &cfg).await.unwrap_err(),
        FetchError::Timeout {
            phase: "connect",
            limit: Duration::from_millis(200)
        }
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn close_delimited_and_chunked_bodies_are_read_whole() {
    let key = TestKey::new("k");
    let doc = jwks(&[&key]);
    let server = Server::raw(handler(move |n, _| {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n";
        match n {
            0 => Reply::Raw(format!("{head}connection: close\r\n\r\n{doc}").into_bytes()),
            _ => {
                let (a, b) = doc.split_at(doc.len() / 2);
                Reply::Raw(
                    format!(
                        "{head}transfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                        a.len(),
                        b.len()
                    )
                    .into_bytes(),
                )
            }
        }
    }))
    .await;
    for _ in 0..2 {
        let f = fetch_once(&server.url("/"), &http_config()).await.unwrap();
        assert_eq!(f.jwks.keys[0].kid.as_deref(), Some("k"));
    }
    assert_eq!(server.hits(), 2);
}

/// Issue 11 item 2: a fetched set is public, so it never yields an `oct` key: each is set
/// aside as `private_key` at its document position; a set of nothing but secrets has no
/// usable key.
#[tokio::test]
async fn fetched_sets_never_yield_shared_secrets() {
    let good = TestKey::new("good");
    let secret = r#"{"kty":"oct","kid":"hs","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"#;
    let docs = [
        format!(
            r#"{{"keys":[{secret},{{"kty":"zzz","kid":"odd"}},{}]}}"#,
            good.jwk().to_json()
        ),
        format!(r#"{{"keys":[{secret}]}}"#),
    ];
    let server = Server::raw(handler(move |n, _| json(docs[n].clone()))).await;
    let cfg = http_config();
    let f = fetch_once(&server.url("/"), &cfg).await.unwrap();
    let kids: Vec<_> = f.jwks.keys.iter().map(|k| k.kid.as_deref()).collect();
    assert_eq!(kids, [Some("good")]);
    let rejected: Vec<_> = f
        .jwks
        .rejected
        .iter()
        .map(|r| (r.index, r.kid.as_deref(), r.reason.code()))
        .collect();
    assert_eq!(
        rejected,
        [
            (0, Some("hs"), "private_key"),
            (1, Some("odd"), "unsupported_key")
        ]
    );
    assert_eq!(f.jwks.rejected[0].alg.as_deref(), Some("HS256"));
    assert_eq!(f.jwks.rejected[0].bits, Some(272));
    match fetch_once(&server.url("/"), &cfg).await {
        Err(FetchError::NoUsableKeys {
            rejected,
            first_reason,
        }) => assert_eq!((rejected, first_reason), (1, "private_key")),
        other => panic!("{other:?}"),
    }
}
