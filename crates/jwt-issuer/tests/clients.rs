//! Issue 13 on real servers (127.0.0.1): subjects per issuer, registered clients and each
//! authentication method, per-client issuers and scopes, replay quotas.

use core::time::Duration;
use std::sync::Arc;

use jwk_core::{Algorithm, JwkSet};
use jwt_issuer::{
    hash_client_secret, Client, ClientAuth, KeyManager, Listener, LoopbackClient, ManualClock,
    MemoryReplayStore, ReplayStore, Reply, SecretHash, ServerOptions, SigningKey, TokenService,
    TrustedIssuer, CLIENT_ASSERTION_TYPE, DISCOVERY_PATH, JWKS_PATH, JWT_BEARER, TOKEN_PATH,
};
use jwt_validate::StaticKeys;
use serde_json::{json, Value};

use crate::support::{oauth_error, remote, start, wall_now, Node, TempDir};

/// A token service on 127.0.0.1 trusting `idps`, with `clients`.
struct Svc {
    service: TokenService,
    addr: core::net::SocketAddr,
    _dir: TempDir,
    _server: jwt_issuer::RunningServer,
}

async fn service(
    clock: &Arc<ManualClock>,
    idps: &[&Node],
    as_is: bool,
    clients: impl FnOnce(&str) -> Vec<Client>,
    replay: Option<Arc<dyn ReplayStore>>,
) -> Result<Svc, jwt_issuer::Error> {
    let dir = TempDir::new("clients");
    let keys = KeyManager::builder(dir.path())
        .algorithms([Algorithm::Es256])
        .schedule(crate::support::schedule())
        .clock(clock.clone())
        .open()
        .unwrap();
    let listener = Listener::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let url = format!("http://{addr}");
    let mut b = TokenService::builder(url.clone(), keys);
    for idp in idps {
        b = b.trust(
            TrustedIssuer::new(
                idp.url.clone(),
                Arc::new(remote(&format!("{}{JWKS_PATH}", idp.url))),
            )
            .scopes(["read", "write", "admin"])
            .subjects_as_is(as_is),
        );
    }
    for c in clients(&url) {
        b = b.client(c);
    }
    if let Some(r) = replay {
        b = b.replay_store(r);
    }
    let service = b.build()?;
    let server = listener.serve(service.clone(), ServerOptions::default());
    Ok(Svc {
        service,
        addr,
        _dir: dir,
        _server: server,
    })
}

impl Svc {
    async fn post(&self, headers: &[(&str, &str)], form: &[(&str, &str)]) -> Reply {
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        LoopbackClient::connect(self.addr)
            .await
            .unwrap()
            .request(
                http::Method::POST,
                TOKEN_PATH,
                &h,
                bytes::Bytes::from(jwt_issuer::form_encode(form)),
            )
            .await
            .unwrap()
    }

    /// The claims of the access token in a 200 reply (the signature is the service's; the
    /// exchange tests check it through the JWKS).
    fn token_claims(r: &Reply) -> Value {
        assert_eq!(r.status, 200, "{:?}", r.json());
        let at = r.json()["access_token"].as_str().unwrap().to_owned();
        let payload = at.split('.').nth(1).unwrap();
        serde_json::from_slice(&jwk_core::b64::decode(payload, jwk_core::Part::Payload).unwrap())
            .unwrap()
    }
}

fn now(clock: &ManualClock) -> i64 {
    jwt_issuer::Clock::now(clock).as_secs() as i64
}

fn jti() -> String {
    jwk_core::b64::encode(&rand::random::<[u8; 12]>())
}

/// An identity provider's assertion for `sub`, addressed to `svc`.
fn grant(idp: &Node, clock: &ManualClock, svc: &Svc, sub: &str, extra: Value) -> String {
    let n = now(clock);
    let mut c = json!({
        "iss": idp.url, "sub": sub, "aud": svc.service.token_endpoint(),
        "iat": n, "exp": n + 300, "jti": jti(),
    });
    if let (Value::Object(m), Value::Object(x)) = (&mut c, extra) {
        m.extend(x);
    }
    idp.keys
        .signing_key(None)
        .unwrap()
        .sign_jwt("JWT", &c)
        .unwrap()
}

/// A client assertion (RFC 7523 2.2) signed with `key`; `change` edits the claims.
fn client_assertion(
    key: &SigningKey,
    clock: &ManualClock,
    client_id: &str,
    aud: Value,
    change: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> String {
    let n = now(clock);
    let mut c = json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "iat": n, "exp": n + 60, "jti": jti(),
    });
    change(c.as_object_mut().unwrap());
    key.sign_jwt("JWT", &c).unwrap()
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_identity_providers_asserting_the_same_sub_get_distinct_subjects() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let a = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let b = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let svc = service(
        &clock,
        &[&a, &b],
        false,
        |_| {
            vec![Client::new("app", ClientAuth::None)
                .trusted_issuers([a.url.clone(), b.url.clone()])]
        },
        None,
    )
    .await
    .unwrap();
    let exchange = |assertion: String| {
        let svc = &svc;
        async move {
            let form = [
                ("grant_type", JWT_BEARER),
                ("assertion", assertion.as_str()),
                ("client_id", "app"),
            ];
            svc.post(&[], &form).await
        }
    };
    let from_a = Svc::token_claims(&exchange(grant(&a, &clock, &svc, "alice", json!({}))).await);
    // B claims A's user, and names A in client_id / azp: nothing of that reaches the token.
    let forged = json!({"client_id": a.url, "azp": a.url});
    let from_b = Svc::token_claims(&exchange(grant(&b, &clock, &svc, "alice", forged)).await);
    assert_ne!(from_a["sub"], from_b["sub"]);
    assert_eq!(from_a["sub"], format!("{}#alice", a.url));
    assert_eq!(from_b["sub"], format!("{}#alice", b.url));
    assert_eq!(from_a["idp"], a.url);
    assert_eq!(from_b["idp"], b.url);
    assert_eq!(from_b["idp_sub"], "alice");
    assert_eq!(from_b["client_id"], "app");
    assert_eq!(from_b["azp"], "app");

    // Subjects as they are: only for a single trusted issuer.
    let two = service(&clock, &[&a, &b], true, |_| vec![], None).await;
    assert_eq!(two.err().map(|e| e.code()), Some("invalid_config"));
    let single = service(
        &clock,
        &[&a],
        true,
        |_| vec![Client::new("app", ClientAuth::None).trusted_issuers([a.url.clone()])],
        None,
    )
    .await
    .unwrap();
    let form_a = grant(&a, &clock, &single, "alice", json!({}));
    let r = single
        .post(
            &[],
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &form_a),
                ("client_id", "app"),
            ],
        )
        .await;
    let plain = Svc::token_claims(&r);
    assert_eq!(plain["sub"], "alice");
    assert_eq!(plain["idp"], a.url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_basic_and_post() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let idp = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let hash = SecretHash::parse(&hash_client_secret("basic secret").unwrap()).unwrap();
    let post_hash = SecretHash::parse(&hash_client_secret("post secret").unwrap()).unwrap();
    let svc = service(
        &clock,
        &[&idp],
        false,
        |_| {
            vec![
                Client::new("b-app", ClientAuth::SecretBasic(hash))
                    .trusted_issuers([idp.url.clone()])
                    .scopes(["read"]),
                Client::new("p-app", ClientAuth::SecretPost(post_hash))
                    .trusted_issuers([idp.url.clone()]),
            ]
        },
        None,
    )
    .await
    .unwrap();
    let g = || grant(&idp, &clock, &svc, "alice", json!({}));
    let fail = |r: &Reply, basic: bool| {
        assert_eq!(
            oauth_error(r),
            (401, "invalid_client".to_owned()),
            "{:?}",
            r.json()
        );
        assert_eq!(
            r.json()["error_description"],
            jwt_issuer::Refusal::INVALID_CLIENT
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(
            r.header("www-authenticate")
                .map(|h| h.starts_with("Basic ")),
            basic.then_some(true),
        );
    };

    // Basic: right secret, wrong secret, unknown client, a post client over Basic.
    let a = g();
    let ok = svc
        .post(
            &[("authorization", &basic("b-app", "basic secret"))],
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &a),
                ("scope", "read"),
            ],
        )
        .await;
    let c = Svc::token_claims(&ok);
    assert_eq!(c["client_id"], "b-app");
    assert_eq!(c["scope"], "read");
    fn form(a: &str) -> Vec<(&str, &str)> {
        vec![("grant_type", JWT_BEARER), ("assertion", a)]
    }
    let a = g();
    for auth in [
        basic("b-app", "basic secreT"),
        basic("nobody", "basic secret"),
        basic("p-app", "post secret"),
        "Basic !!!".to_owned(),
    ] {
        fail(
            &svc.post(&[("authorization", &auth)], &form(&a)).await,
            true,
        );
    }
    // A client_id parameter naming another client than Basic's.
    let mut f = form(&a);
    f.push(("client_id", "p-app"));
    fail(
        &svc.post(&[("authorization", &basic("b-app", "basic secret"))], &f)
            .await,
        true,
    );
    // A scope the client may not get (the issuer allows it).
    let r = svc
        .post(
            &[("authorization", &basic("b-app", "basic secret"))],
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &a),
                ("scope", "admin"),
            ],
        )
        .await;
    assert_eq!(oauth_error(&r), (400, "invalid_scope".to_owned()));
    // Another scheme is not Basic: 401 without the Basic challenge.
    fail(
        &svc.post(&[("authorization", "Bearer abc")], &form(&a))
            .await,
        false,
    );

    // Post: right secret, wrong secret, the basic client's secret in the body, no client_id.
    let mut f = form(&a);
    f.extend([("client_id", "p-app"), ("client_secret", "post secret")]);
    assert_eq!(
        Svc::token_claims(&svc.post(&[], &f).await)["client_id"],
        "p-app"
    );
    let a = g();
    for (id, secret) in [
        ("p-app", "post secreT"),
        ("b-app", "basic secret"),
        ("nobody", "x"),
    ] {
        let mut f = form(&a);
        f.extend([("client_id", id), ("client_secret", secret)]);
        fail(&svc.post(&[], &f).await, false);
    }
    let mut f = form(&a);
    f.push(("client_secret", "post secret"));
    fail(&svc.post(&[], &f).await, false);
    // No authentication at all, or a public-client claim for a confidential client.
    fail(&svc.post(&[], &form(&a)).await, false);
    let mut f = form(&a);
    f.push(("client_id", "p-app"));
    fail(&svc.post(&[], &f).await, false);
    // Two methods at once: malformed.
    let mut f = form(&a);
    f.extend([("client_id", "p-app"), ("client_secret", "post secret")]);
    let r = svc
        .post(&[("authorization", &basic("b-app", "basic secret"))], &f)
        .await;
    assert_eq!(oauth_error(&r), (400, "invalid_request".to_owned()));
    // None of the failures used up the grant.
    let mut f = form(&a);
    f.extend([("client_id", "p-app"), ("client_secret", "post secret")]);
    assert_eq!(svc.post(&[], &f).await.status, 200);

    // Discovery lists the methods in use.
    let d = LoopbackClient::connect(svc.addr)
        .await
        .unwrap()
        .get(DISCOVERY_PATH, &[])
        .await
        .unwrap()
        .json();
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert!(d
        .get("token_endpoint_auth_signing_alg_values_supported")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_with_jwks_uri_and_inline_jwks() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let idp = start(&clock, &[Algorithm::Es256], None, &[]).await;
    // The client publishes its keys like any JWKS server; a second client's keys are inline.
    let client_node = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let inline_dir = TempDir::new("inline-client");
    let inline_keys = KeyManager::builder(inline_dir.path())
        .algorithms([Algorithm::EdDsa])
        .clock(clock.clone())
        .open()
        .unwrap();
    let inline_set = JwkSet::parse(&inline_keys.jwks().unwrap().body).unwrap();
    let provider = jws_crypto::default_provider();
    let svc = service(
        &clock,
        &[&idp],
        false,
        |_| {
            vec![
                Client::new(
                    "remote-app",
                    ClientAuth::PrivateKeyJwt {
                        keys: Arc::new(remote(&format!("{}{JWKS_PATH}", client_node.url))),
                        algorithms: vec![Algorithm::Es256],
                    },
                )
                .trusted_issuers([idp.url.clone()]),
                Client::new(
                    "inline-app",
                    ClientAuth::PrivateKeyJwt {
                        keys: Arc::new(StaticKeys::from_jwks(
                            &inline_set,
                            provider,
                            &jws_crypto::KeyPolicy::default(),
                        )),
                        algorithms: vec![],
                    },
                )
                .trusted_issuers([idp.url.clone()]),
            ]
        },
        None,
    )
    .await
    .unwrap();
    let issuer = json!(svc.service.issuer());
    let remote_key = client_node.keys.signing_key(None).unwrap();
    let inline_key = inline_keys.signing_key(None).unwrap();
    let exchange = |client_assertion: String, grant: String, client_id: Option<&'static str>| {
        let svc = &svc;
        async move {
            let mut f = vec![
                ("grant_type", JWT_BEARER),
                ("assertion", grant.as_str()),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", client_assertion.as_str()),
            ];
            if let Some(id) = client_id {
                f.push(("client_id", id));
            }
            svc.post(&[], &f).await
        }
    };
    let g = || grant(&idp, &clock, &svc, "alice", json!({}));

    // Success, both ways; the token names the authenticated client.
    let ca = client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |_| {});
    let r = exchange(ca.clone(), g(), Some("remote-app")).await;
    assert_eq!(Svc::token_claims(&r)["client_id"], "remote-app");
    let ca2 = client_assertion(&inline_key, &clock, "inline-app", issuer.clone(), |_| {});
    let r = exchange(ca2, g(), None).await;
    assert_eq!(Svc::token_claims(&r)["azp"], "inline-app");

    // Every failure is 401 invalid_client, without the Basic challenge.
    let forged_key = SigningKey {
        kid: remote_key.kid.clone(),
        signer: inline_keys.signing_key(None).unwrap().signer,
    };
    let other_es256 = idp.keys.signing_key(None).unwrap();
    let token_endpoint = json!(svc.service.token_endpoint());
    let n = now(&clock);
    let cases: Vec<(&str, String, Option<&'static str>)> = vec![
        ("replayed client assertion", ca, None),
        (
            "wrong key (same kid)",
            client_assertion(&forged_key, &clock, "remote-app", issuer.clone(), |_| {}),
            None,
        ),
        (
            "another client's key",
            client_assertion(&other_es256, &clock, "remote-app", issuer.clone(), |_| {}),
            None,
        ),
        (
            "aud is the token endpoint",
            client_assertion(&remote_key, &clock, "remote-app", token_endpoint, |_| {}),
            None,
        ),
        (
            "aud is an array holding the issuer",
            client_assertion(&remote_key, &clock, "remote-app", json!([issuer]), |_| {}),
            None,
        ),
        (
            "iss != sub",
            client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |c| {
                c.insert("sub".into(), json!("inline-app"));
            }),
            None,
        ),
        (
            "no exp",
            client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |c| {
                c.remove("exp");
            }),
            None,
        ),
        (
            "expired",
            client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |c| {
                c.insert("exp".into(), json!(n - 600));
                c.insert("iat".into(), json!(n - 660));
            }),
            None,
        ),
        (
            "exp too far",
            client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |c| {
                c.insert("exp".into(), json!(n + 86_400));
            }),
            None,
        ),
        (
            "no jti",
            client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |c| {
                c.remove("jti");
            }),
            None,
        ),
        (
            "client_id names another client",
            client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |_| {}),
            Some("inline-app"),
        ),
        (
            "unknown client",
            client_assertion(&remote_key, &clock, "nobody", issuer.clone(), |_| {}),
            None,
        ),
        ("not a JWT", "abc".into(), None),
    ];
    let grant_kept = g();
    for (case, ca, id) in cases {
        let r = exchange(ca, grant_kept.clone(), id).await;
        assert_eq!(
            oauth_error(&r),
            (401, "invalid_client".to_owned()),
            "{case}: {:?}",
            r.json()
        );
        assert_eq!(r.header("www-authenticate"), None, "{case}");
        assert_eq!(
            r.json()["error_description"],
            jwt_issuer::Refusal::INVALID_CLIENT,
            "{case}"
        );
    }
    // The grant was not used up by any of them.
    let ca = client_assertion(&remote_key, &clock, "remote-app", issuer.clone(), |_| {});
    assert_eq!(exchange(ca, grant_kept, None).await.status, 200);
    // Discovery: the method and its algorithms (RFC 8414: required with private_key_jwt).
    let d = LoopbackClient::connect(svc.addr)
        .await
        .unwrap()
        .get(DISCOVERY_PATH, &[])
        .await
        .unwrap()
        .json();
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    let algs = d["token_endpoint_auth_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(
        algs.contains(&json!("ES256")) && algs.contains(&json!("EdDSA")),
        "{algs:?}"
    );
    assert!(!algs.iter().any(|a| a.as_str().unwrap().starts_with("HS")));
    // A wrong client_assertion_type is malformed.
    let r = svc
        .post(
            &[],
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &g()),
                ("client_assertion_type", "urn:other"),
                ("client_assertion", "a.b.c"),
            ],
        )
        .await;
    assert_eq!(oauth_error(&r), (400, "invalid_request".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_exchanges_only_the_issuers_it_is_allowed() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let a = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let b = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let untrusted = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let svc = service(
        &clock,
        &[&a, &b],
        false,
        |_| {
            vec![
                Client::new("only-a", ClientAuth::None).trusted_issuers([a.url.clone()]),
                Client::new("nothing", ClientAuth::None),
            ]
        },
        None,
    )
    .await
    .unwrap();
    let post = |client: &'static str, assertion: String| {
        let svc = &svc;
        async move {
            svc.post(
                &[],
                &[
                    ("grant_type", JWT_BEARER),
                    ("assertion", &assertion),
                    ("client_id", client),
                ],
            )
            .await
        }
    };
    let from_b = post("only-a", grant(&b, &clock, &svc, "alice", json!({}))).await;
    let from_nowhere = post(
        "only-a",
        grant(&untrusted, &clock, &svc, "alice", json!({})),
    )
    .await;
    let nothing_allowed = post("nothing", grant(&a, &clock, &svc, "alice", json!({}))).await;
    for r in [&from_b, &from_nowhere, &nothing_allowed] {
        assert_eq!(oauth_error(r), (400, "invalid_grant".to_owned()));
    }
    // Not allowed and not trusted read the same: no enumeration of trusted issuers.
    assert_eq!(
        from_b.json()["error_description"],
        from_nowhere.json()["error_description"]
    );
    assert_eq!(
        post("only-a", grant(&a, &clock, &svc, "alice", json!({})))
            .await
            .status,
        200
    );
    // A client naming an issuer that is not trusted is a configuration error.
    let bad = service(
        &clock,
        &[&a],
        false,
        |_| vec![Client::new("x", ClientAuth::None).trusted_issuers([b.url.clone()])],
        None,
    )
    .await;
    assert_eq!(bad.err().map(|e| e.code()), Some("invalid_config"));
    // No client at all, unauthenticated not allowed: refused at build.
    let none = service(&clock, &[&a], false, |_| vec![], None).await;
    assert_eq!(none.err().map(|e| e.code()), Some("invalid_config"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_issuer_or_client_filling_its_quota_does_not_lock_out_the_others() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let a = start(&clock, &[Algorithm::Es256], None, &[]).await;
    let b = start(&clock, &[Algorithm::Es256], None, &[]).await;
    // Fair shares: half of 8 among 2 issuers, half among 1 client.
    let fair = MemoryReplayStore::fair(8, 2, 1);
    assert_eq!((fair.per_issuer(), fair.per_client()), (2, 4));
    let store = Arc::new(MemoryReplayStore::with_quotas(100, 2, 3));
    let svc = service(
        &clock,
        &[&a, &b],
        false,
        |_| {
            let both = [a.url.clone(), b.url.clone()];
            vec![
                Client::new("app", ClientAuth::None).trusted_issuers(both.clone()),
                Client::new("other", ClientAuth::None).trusted_issuers(both),
            ]
        },
        Some(store.clone()),
    )
    .await
    .unwrap();
    let post = |client: &'static str, assertion: String| {
        let svc = &svc;
        async move {
            let r = svc
                .post(
                    &[],
                    &[
                        ("grant_type", JWT_BEARER),
                        ("assertion", &assertion),
                        ("client_id", client),
                    ],
                )
                .await;
            if r.status == 503 {
                assert!(r.header("retry-after").is_some());
                assert_eq!(r.json()["error"], "temporarily_unavailable");
            }
            r.status
        }
    };
    let from = |idp: &Node| grant(idp, &clock, &svc, "x", json!({}));
    assert_eq!(post("app", from(&a)).await, 200);
    assert_eq!(post("app", from(&a)).await, 200);
    // Issuer A is at its quota: 503 for A only ...
    assert_eq!(post("app", from(&a)).await, 503);
    assert_eq!(post("app", from(&b)).await, 200);
    // ... and now client app is at its quota (3): 503 for app, whatever the issuer ...
    assert_eq!(post("app", from(&b)).await, 503);
    // ... while another client is still served.
    assert_eq!(post("other", from(&b)).await, 200);
    assert_eq!(store.len(), 4);
    // Once the assertions expire, everyone is served again.
    clock.advance(Duration::from_secs(300 + 61 + 1));
    assert_eq!(post("app", from(&a)).await, 200);
}
