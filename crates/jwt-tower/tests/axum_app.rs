//! An axum app behind the layer, tokens from a real issuer, every RFC 6750 answer checked on
//! the status and the parsed `WWW-Authenticate`.

use core::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use jwt_issuer::ManualClock;
use jwt_tower::{AccessClaims as _, Auth, Claims, JwtLayer};
use jwt_validate::{Policy, Validator};
use serde_json::json;

use crate::support::*;

const AUD: &str = "orders-api";

async fn me(auth: Auth) -> String {
    auth.claims().sub().unwrap_or("-").to_owned()
}

async fn maybe(auth: Option<Auth<Claims>>) -> String {
    match auth {
        Some(a) => format!(
            "{}@{}",
            a.claims().sub().unwrap_or("-"),
            a.claims().iss().unwrap_or("-")
        ),
        None => "anonymous".into(),
    }
}

fn app(layer: &JwtLayer) -> Router {
    Router::new()
        .route("/me", get(me))
        .route(
            "/orders",
            get(me).route_layer(layer.require().scopes(["orders:write"])),
        )
        .route(
            "/admin",
            get(me).route_layer(layer.require().any_role("roles", ["admin"])),
        )
        .layer(layer.clone())
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

fn validator(
    keys: Arc<dyn jwt_validate::KeySource>,
    iss: &str,
    clock: &Arc<ManualClock>,
) -> Validator {
    Validator::builder()
        .shared_key_source(keys)
        .issuer(iss)
        .audience(AUD)
        .typ("at+jwt")
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rfc6750_answer() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let issuer = Issuer::start(&clock).await;
    let v = validator(Arc::new(remote(&issuer.jwks_url())), &issuer.url, &clock);
    let layer = JwtLayer::builder(v)
        .realm("orders")
        .require(|r| r.check("not_banned", |c: &Claims| c.sub() != Some("banned")))
        .build()
        .unwrap();
    let addr = serve(app(&layer)).await;

    // No token: 401, a challenge without an error attribute.
    let r = fetch(addr, "/me", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(params(&r), p(&[("realm", "orders")]));
    // Another scheme is not a bearer token either.
    let r = fetch(addr, "/me", &[("authorization", "Basic dXNlcjpwYXNz")]).await;
    assert_eq!(r.status, 401);
    assert_eq!(params(&r), p(&[("realm", "orders")]));

    // A valid token, scheme in any case.
    let good = issuer.token(&clock, AUD, json!({"scope": "orders:read"}));
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = fetch(
            addr,
            "/me",
            &[("authorization", &format!("{scheme} {good}"))],
        )
        .await;
        assert_eq!((r.status, &r.body[..]), (200, &b"alice"[..]), "{scheme}");
    }

    // Malformed Authorization: 400 invalid_request.
    let two = format!("Bearer {good} {good}");
    for headers in [
        vec![("authorization", two.as_str())],
        vec![("authorization", "Bearer")],
        vec![("authorization", "Bearer a,b")],
    ] {
        let r = fetch(addr, "/me", &headers).await;
        assert_eq!(r.status, 400, "{headers:?}");
        let c = challenge(&r);
        assert_eq!(c.params["error"], "invalid_request");
        assert_eq!(
            c.params["error_description"],
            "The Authorization header must hold exactly one bearer token"
        );
    }
    let r = fetch(
        addr,
        "/me",
        &[
            ("authorization", &bearer(&good)),
            ("authorization", &bearer(&good)),
        ],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        challenge(&r).params["error_description"],
        "More than one Authorization header"
    );

    // Bad tokens: 401 invalid_token, one fixed description per code, no token text.
    let expired = {
        let now = wall_now() as i64;
        issuer.token(&clock, AUD, json!({"iat": now - 900, "exp": now - 600}))
    };
    let other_aud = issuer.token(&clock, "someone-else", json!({}));
    for (token, description) in [
        (tamper(&good), "The access token signature is invalid"),
        (expired, "The access token expired"),
        (other_aud, "The access token is not for this audience"),
        ("not.a-token".to_owned(), "The access token is malformed"),
    ] {
        let r = fetch(addr, "/me", &[("authorization", &bearer(&token))]).await;
        assert_eq!(r.status, 401, "{description}");
        assert_eq!(
            params(&r),
            p(&[
                ("realm", "orders"),
                ("error", "invalid_token"),
                ("error_description", description)
            ])
        );
        assert!(!r.header("www-authenticate").unwrap().contains(&token));
    }

    // Scope missing: 403 insufficient_scope naming the scope; granted by scope or scp.
    let r = fetch(addr, "/orders", &[("authorization", &bearer(&good))]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        params(&r),
        p(&[
            ("realm", "orders"),
            ("error", "insufficient_scope"),
            (
                "error_description",
                "The access token lacks a required scope"
            ),
            ("scope", "orders:write"),
        ])
    );
    for extra in [
        json!({"scope": "orders:read orders:write"}),
        json!({"scp": ["orders:write"]}),
    ] {
        let t = issuer.token(&clock, AUD, extra);
        let r = fetch(addr, "/orders", &[("authorization", &bearer(&t))]).await;
        assert_eq!(r.status, 200);
    }
    // Role missing, then present.
    let r = fetch(addr, "/admin", &[("authorization", &bearer(&good))]).await;
    assert_eq!(r.status, 403);
    assert_eq!(challenge(&r).params["error"], "insufficient_scope");
    assert!(!challenge(&r).params.contains_key("scope"));
    let admin = issuer.token(&clock, AUD, json!({"roles": ["user", "admin"]}));
    assert_eq!(
        fetch(addr, "/admin", &[("authorization", &bearer(&admin))])
            .await
            .status,
        200
    );
    // The layer's custom check.
    let banned = issuer.token(&clock, AUD, json!({"sub": "banned"}));
    let r = fetch(addr, "/me", &[("authorization", &bearer(&banned))]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        challenge(&r).params["error_description"],
        "The access token is not allowed here"
    );

    // Counters per code.
    let m = layer.metrics();
    assert_eq!(m.get("missing_token"), 2);
    assert_eq!(m.get("invalid_request"), 4);
    assert_eq!(m.get("bad_signature"), 1);
    assert_eq!(m.get("expired"), 1);
    assert_eq!(m.get("audience_mismatch"), 1);
    assert_eq!(m.get("malformed"), 1);
    assert_eq!(m.get("insufficient_scope"), 1);
    assert_eq!(m.get("missing_role"), 1);
    assert_eq!(m.get("check_failed"), 1);
    // 3 on /me, 2 on /orders and 1 on /admin passed the layer; the 2 refused on their route
    // were counted twice: ok at the layer, then their route's code.
    assert_eq!(m.get("ok"), 3 + 2 + 1 + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_then_identity_provider_down() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let mut issuer = Issuer::start(&clock).await;
    let source = Arc::new(remote(&issuer.jwks_url()));
    let v = validator(source.clone(), &issuer.url, &clock);
    let layer = JwtLayer::builder(v).build().unwrap();
    let addr = serve(app(&layer)).await;

    let first = issuer.token(&clock, AUD, json!({}));
    assert_eq!(
        fetch(addr, "/me", &[("authorization", &bearer(&first))])
            .await
            .status,
        200
    );
    let fetches = source.stats().fetches;

    // Rotation during the test: the new key is published, then signs after pre-publish.
    let keys = issuer.keys.clone();
    tokio::task::spawn_blocking(move || keys.rotate())
        .await
        .unwrap()
        .unwrap();
    clock.advance(PREPUBLISH + core::time::Duration::from_secs(1));
    let second = issuer.token(&clock, AUD, json!({}));
    assert_ne!(kid(&first), kid(&second));
    assert_eq!(
        fetch(addr, "/me", &[("authorization", &bearer(&second))])
            .await
            .status,
        200
    );
    assert_eq!(
        source.stats().fetches,
        fetches + 1,
        "one refetch for the new kid"
    );
    assert_eq!(
        fetch(addr, "/me", &[("authorization", &bearer(&first))])
            .await
            .status,
        200
    );

    // The identity provider goes down: cached keys keep serving.
    issuer.stop().await;
    assert_eq!(
        fetch(addr, "/me", &[("authorization", &bearer(&second))])
            .await
            .status,
        200
    );
    // A kid the cache lacks cannot be fetched: the held set answers, and it has no such key.
    let keys = issuer.keys.clone();
    tokio::task::spawn_blocking(move || keys.rotate())
        .await
        .unwrap()
        .unwrap();
    clock.advance(PREPUBLISH + core::time::Duration::from_secs(1));
    let third = issuer.token(&clock, AUD, json!({}));
    let r = fetch(addr, "/me", &[("authorization", &bearer(&third))]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        challenge(&r).params["error_description"],
        "No key is known for the access token"
    );

    // Down with nothing cached: 503 with Retry-After, no challenge (the token may be fine).
    let cold = validator(Arc::new(remote(&issuer.jwks_url())), &issuer.url, &clock);
    let cold_layer = JwtLayer::builder(cold).build().unwrap();
    let cold_addr = serve(app(&cold_layer)).await;
    let r = fetch(cold_addr, "/me", &[("authorization", &bearer(&third))]).await;
    assert_eq!(r.status, 503);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(cold_layer.metrics().get("jwks_unavailable"), 1);
}

fn kid(token: &str) -> String {
    let h =
        jwk_core::b64::decode(token.split('.').next().unwrap(), jwk_core::Part::Header).unwrap();
    serde_json::from_slice::<serde_json::Value>(&h).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_layer_other_sources_and_two_issuers() {
    let clock = Arc::new(ManualClock::at_secs(wall_now()));
    let a = Issuer::start(&clock).await;
    let b = Issuer::start(&clock).await;
    let policy = || Policy::new().audience(AUD).typ("at+jwt");
    let v = Validator::builder()
        .route(a.url.clone(), Arc::new(remote(&a.jwks_url())), policy())
        .route(b.url.clone(), Arc::new(remote(&b.jwks_url())), policy())
        .clock(clock.clone())
        .build()
        .unwrap();
    let layer = JwtLayer::builder(v)
        .optional()
        .cookie("at")
        .allow_query_token()
        .build()
        .unwrap();
    let addr = serve(
        Router::new()
            .route("/maybe", get(maybe))
            .layer(layer.clone()),
    )
    .await;

    let r = fetch(addr, "/maybe", &[]).await;
    assert_eq!((r.status, &r.body[..]), (200, &b"anonymous"[..]));
    let ta = a.token(&clock, AUD, json!({}));
    let tb = b.token(&clock, AUD, json!({"sub": "bob"}));
    let r = fetch(
        addr,
        "/maybe",
        &[("cookie", &format!("theme=dark; at={ta}"))],
    )
    .await;
    assert_eq!(&r.body[..], format!("alice@{}", a.url).as_bytes());
    let r = fetch(addr, &format!("/maybe?x=1&access_token={tb}"), &[]).await;
    assert_eq!(&r.body[..], format!("bob@{}", b.url).as_bytes());
    // Two methods at once: 400.
    let r = fetch(
        addr,
        "/maybe",
        &[
            ("cookie", &format!("at={ta}")),
            ("authorization", &bearer(&ta)),
        ],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        challenge(&r).params["error_description"],
        "The access token was sent by more than one method"
    );
    // Optional does not mean a bad token passes.
    let r = fetch(addr, "/maybe", &[("authorization", &bearer(&tamper(&tb)))]).await;
    assert_eq!(r.status, 401);
    assert_eq!(challenge(&r).params["error"], "invalid_token");
    // B's key cannot sign for A.
    let forged = b.token(&clock, AUD, json!({"iss": a.url}));
    let r = fetch(addr, "/maybe", &[("authorization", &bearer(&forged))]).await;
    assert_eq!(r.status, 401);
    // An issuer with no route.
    let stranger = a.token(&clock, AUD, json!({"iss": "https://stranger.example"}));
    let r = fetch(addr, "/maybe", &[("authorization", &bearer(&stranger))]).await;
    assert_eq!(
        challenge(&r).params["error_description"],
        "The access token issuer is not accepted"
    );
    assert_eq!(layer.metrics().get("anonymous"), 1);
    assert_eq!(layer.metrics().get("ok"), 2);
}
