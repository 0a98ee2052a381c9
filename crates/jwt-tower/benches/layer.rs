//! The layer's own cost: a request through `JwtLayer` with a valid RS256 token, against the
//! same handler called with the token already validated, and against `validate_async_as`
//! alone. No network: static keys, futures polled to completion on the spot.
//!
//! `cargo bench -p jwt-tower --bench layer`. The layer's own cost is
//! `through_layer - (validate_async_as + handler_prevalidated)`; goal at most 1 us.
//! `authenticate_only` (token extraction, the validation, its span, requirements, counters,
//! without the tower plumbing) splits it in two.
//!
//! An RS256 verification (~50 us here) swamps a sub-microsecond difference in run-to-run
//! noise, so the second group runs the same three measurements with the validator's
//! verified-token cache on (the signature is skipped on a repeat; the claims policy and the
//! typed pass still run): the same layer code over a ~1 us validation, where its own cost
//! can be read.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use core::convert::Infallible;
use core::future::Future;
use core::hint::black_box;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use jwk_core::{b64, Algorithm, JwkSet};
use jwt_tower::{AccessClaims as _, Auth, Claims, JwtLayer};
use jwt_validate::Validator;
use tower::{Layer as _, Service as _};

const PEM: &str = include_str!("rsa2048.pem");

/// Polls a future that never waits (static keys: no I/O) to completion.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// The handler: reads the verified claims, answers 200.
async fn handler(req: Request<()>) -> Result<Response<String>, Infallible> {
    let sub = req
        .extensions()
        .get::<Auth<Claims>>()
        .and_then(|a| a.claims().sub().map(str::len))
        .unwrap_or(0);
    let mut res = Response::new(String::new());
    if sub == 0 {
        *res.status_mut() = http::StatusCode::FORBIDDEN;
    }
    Ok(res)
}

fn bench(c: &mut Criterion) {
    let p = jws_crypto::default_provider();
    let signer = p.signer_from_pkcs8_pem(PEM, Algorithm::Rs256).unwrap();
    let mut jwk = signer.public_jwk();
    jwk.kid = Some("k1".into());
    let set = JwkSet::parse(JwkSet::new(vec![jwk]).to_json().as_bytes()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": "https://idp.example", "aud": "orders-api", "sub": "alice",
        "scope": "orders:read orders:write", "iat": now, "exp": now + 24 * 3600,
    });
    let input = format!(
        "{}.{}",
        b64::encode(br#"{"alg":"RS256","kid":"k1","typ":"at+jwt"}"#),
        b64::encode(claims.to_string().as_bytes())
    );
    let token = format!(
        "{input}.{}",
        b64::encode(&signer.sign(input.as_bytes()).unwrap())
    );
    let bearer = format!("Bearer {token}");
    let validator = Validator::builder()
        .jwks(set.clone())
        .issuer("https://idp.example")
        .audience("orders-api")
        .build()
        .unwrap();
    let cached = Validator::builder()
        .jwks(set)
        .issuer("https://idp.example")
        .audience("orders-api")
        .verified_token_cache(16)
        .build()
        .unwrap();
    for (group, validator) in [
        ("jwt_tower_rs256", validator),
        ("jwt_tower_rs256_token_cache", cached),
    ] {
        run(c, group, &validator, &token, &bearer);
    }
}

fn run(c: &mut Criterion, group: &str, validator: &Validator, token: &str, bearer: &str) {
    let layer = JwtLayer::builder(validator.clone()).build().unwrap();
    let mut svc = layer.layer(tower::service_fn(handler));
    let request = || {
        Request::builder()
            .uri("/orders")
            .header(http::header::AUTHORIZATION, bearer)
            .body(())
            .unwrap()
    };
    // One Auth made beforehand, for the handler called without the layer.
    let (auth, _) = ready(layer.authenticate(request().headers(), request().uri()))
        .unwrap()
        .unwrap();
    assert_eq!(ready(svc.call(request())).unwrap().status(), 200);

    let mut g = c.benchmark_group(group);
    g.bench_function("through_layer", |b| {
        b.iter(|| ready(svc.call(black_box(request()))).unwrap())
    });
    g.bench_function("handler_prevalidated", |b| {
        b.iter(|| {
            let mut req = black_box(request());
            req.extensions_mut().insert(auth.clone());
            ready(handler(req)).unwrap()
        })
    });
    let headers = request().headers().clone();
    let uri = request().uri().clone();
    g.bench_function("authenticate_only", |b| {
        b.iter(|| ready(layer.authenticate(black_box(&headers), &uri)).unwrap())
    });
    g.bench_function("validate_async_as", |b| {
        b.iter(|| ready(validator.validate_async_as::<Claims>(black_box(token))).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
