//! An axum API protected by a remote JWKS, with one scoped route.
//!
//! ```sh
//! JWKS_URL=https://idp.example/.well-known/jwks.json ISSUER=https://idp.example \
//! AUDIENCE=orders-api cargo run -p jwt-tower --features axum --example axum_api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/me
//! ```
//!
//! `GET /health` is open, `GET /me` needs a valid token, `POST /orders` also needs the
//! `orders:write` scope. `GET /metrics` prints the layer's counters. Plain-http JWKS URLs are
//! accepted for loopback hosts only (a local test issuer, `jwkctl serve`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use jwks_fetch::{FetchConfig, RemoteJwks};
use jwt_tower::{AccessClaims as _, Auth, JwtLayer};
use jwt_validate::Validator;

async fn me(auth: Auth) -> String {
    format!(
        "hello {} (kid {})\n",
        auth.claims().sub().unwrap_or("-"),
        auth.kid().unwrap_or("-")
    )
}

async fn create_order(auth: Auth) -> String {
    format!("order created for {}\n", auth.claims().sub().unwrap_or("-"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn core::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,jwt=debug".into()),
        )
        .init();
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let jwks_url = env("JWKS_URL", "http://127.0.0.1:8443/.well-known/jwks.json");
    let issuer = env("ISSUER", "http://127.0.0.1:8443");
    let audience = env("AUDIENCE", "orders-api");

    // Keys fetched and cached by jwks-fetch: refreshed ahead of expiry, refetched once for an
    // unknown kid, served stale while the identity provider is down.
    let keys = RemoteJwks::builder(jwks_url)
        .fetch_config(FetchConfig::default().with_allow_http_loopback(true))
        .build()?;
    let validator = Validator::builder()
        .key_source(keys)
        .issuer(issuer)
        .audience(audience)
        .build()?;
    let layer = JwtLayer::builder(validator).realm("orders").build()?;
    let metrics = Arc::clone(layer.metrics());

    let protected = Router::new()
        .route("/me", get(me))
        .route(
            "/orders",
            post(create_order).route_layer(layer.require().scopes(["orders:write"])),
        )
        .layer(layer);
    let app = Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move {
                    m.snapshot()
                        .into_iter()
                        .filter(|(_, n)| *n > 0)
                        .map(|(code, n)| format!("jwt_requests{{code=\"{code}\"}} {n}\n"))
                        .collect::<String>()
                }
            }),
        )
        .merge(protected);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
