//! Protect tower, axum, tonic and plain hyper services with bearer tokens validated by
//! `jwt-validate` (keys from any `KeySource`, e.g. `jwks-fetch`'s remote JWKS cache).
//!
//! Not here: parsing (`jwk-core`), signatures (`jws-crypto`), policy and key selection
//! (`jwt-validate`), fetching keys (`jwks-fetch`). This crate reads the token from the
//! request, calls [`Validator::validate_async_as`](jwt_validate::Validator::validate_async_as),
//! checks requirements, and answers refusals as RFC 6750 section 3 says.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use jwt_tower::{Claims, JwtLayer};
//! use jwt_validate::Validator;
//! # let keys: std::sync::Arc<dyn jwt_validate::KeySource> = todo!();
//! let validator = Validator::builder()
//!     .shared_key_source(keys) // e.g. jwks_fetch::RemoteJwks
//!     .issuer("https://idp.example")
//!     .audience("orders-api")
//!     .build()?;
//! let layer = JwtLayer::builder(validator)
//!     .realm("orders")
//!     .require(|r| r.scopes(["orders:read"]))
//!     .build()?;
//! let write_only = layer.require().scopes(["orders:write"]); // per route
//! // tower::ServiceBuilder::new().layer(layer.clone()).service(my_service)
//! // axum: Router::new().route(..).route_layer(write_only).layer(layer)
//! println!("{:?}", layer.metrics().snapshot()); // [("ok", 0), ("anonymous", 0), ...]
//! # Ok(()) }
//! ```
//!
//! # Behaviour
//! - Generic over the request and response bodies: `Request<B>` in, `Response<ResBody>` out
//!   with `ResBody: Default` (axum's and tonic's bodies, `http_body_util::Empty`/`Full`), so
//!   refusals are built without boxing the body. gRPC clients read the HTTP status as
//!   `UNAUTHENTICATED` (401), `PERMISSION_DENIED` (403) and `UNAVAILABLE` (503).
//! - Token sources (RFC 6750 section 2): `Authorization: Bearer` (scheme case-insensitive, at
//!   most one header, exactly one `b64token`); optionally a named cookie or header; the query
//!   string's `access_token` only with [`JwtLayerBuilder::allow_query_token`]. A token sent by
//!   two methods is `invalid_request`.
//! - Answers ([`Refusal`]): no token: 401 `WWW-Authenticate: Bearer realm="..."` without
//!   `error`; invalid token: 401 `error="invalid_token"` with a fixed `error_description` per
//!   validator code; scope, role or custom check missing: 403 `error="insufficient_scope"`
//!   (with `scope="..."` for scopes); keys unavailable (IdP down, nothing cached): 503 with
//!   `Retry-After`; a malformed `Authorization`: 400 `error="invalid_request"`.
//! - The verified claims go into the extensions as [`Auth<C>`], `C` filled in the validator's
//!   one strict pass (`validate_async_as`). [`Claims`] (the default) is the JSON object;
//!   any `serde` type implementing [`AccessClaims`] works.
//! - Requirements per layer ([`JwtLayerBuilder::require`]) or per route
//!   ([`JwtLayer::require`]): scopes (`scope` string or `scp` array), roles/groups from a
//!   named claim (dotted path for nested objects), custom checks over `C`.
//! - Several issuers: the validator's issuer routes (`ValidatorBuilder::route`), one layer.
//! - `tracing`: one `jwt` span per validation with `iss`, `kid`, `sub` and `code` (never the
//!   token). Counters per result code: [`Metrics`], a plain snapshot API (why not the
//!   `metrics` facade: see [`Metrics`]).
//!
//! # Features
//! - `aws-lc-rs` (default) / `ring`: the crypto backend of `jwt-validate`.
//! - `axum`: [`Auth<C>`] and `Option<Auth<C>>` are axum extractors (through `axum-core`).
//!
//! # Dependencies
//! - `jwt-validate`, `jwk-core`: validation. `tower-layer`, `tower-service`: the two traits
//!   (not all of `tower`). `http`: requests, responses, headers.
//! - `serde`, `serde_json`: the typed claims bound and the default [`Claims`] object.
//! - `tracing`: the span per validation. `axum-core` (optional): the extractor traits.
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
mod axum;
mod claims;
mod error;
mod extract;
mod layer;
mod metrics;
mod require;

#[cfg(feature = "axum")]
pub use crate::axum::NotAuthenticated;
pub use claims::{AccessClaims, Claims};
pub use error::Refusal;
pub use layer::{Auth, ConfigError, JwtLayer, JwtLayerBuilder, JwtService, PayloadSegment};
pub use metrics::Metrics;
pub use require::{RequireLayer, RequireService, Requirements};
