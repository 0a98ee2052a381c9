//! Fixtures shared by the benchmarks in `benches/benches/`: one key per measured algorithm,
//! one token per key carrying ten realistic claims, the typed claims struct every contender
//! deserializes into, and this workspace's validators per backend.
//!
//! Not a library for anyone else, and not tests: `cargo xtask bench [--quick]` runs the
//! benchmarks and writes `benches/RESULTS.md` (`--quick` takes about a minute once built).
//!
//! - `benches/compare.rs` (criterion): per algorithm, each backend's raw verify (the limit),
//!   this workspace with static keys, through a warm `jwks-fetch` cache (JWKS served on
//!   127.0.0.1) and from the verified-token cache; `jsonwebtoken` 12 and `jwt-simple` 0.15 on
//!   the same token; the parse floor. Then paired ratios (row and limit alternating) and 1
//!   versus 2 threads sharing one validator.
//! - `benches/allocs.rs`: allocations per validation under a counting global allocator
//!   (`stats_alloc`), in its own binary so the timed runs use the plain system allocator.
//! - `benches/interleaved.rs`: the raw verify, this workspace (owned and borrowed claims),
//!   `jsonwebtoken` and a `serde_json` floor in one run, shuffled every round, ratios taken per
//!   round: the figures as a server with cold-ish caches sees them (the bars are judged here).
//!
//! The limit rows call aws-lc-rs and ring directly, under the renamed dependencies `raw-aws-lc`
//! and `raw-ring`: only benchmarks may, since naming the backend is what they measure.
//!
//! Keys are generated at start-up with `jws-crypto`'s aws-lc-rs signer (ring cannot generate
//! RSA keys); every contender verifies the same token bytes.
//!
//! Dependencies: `jwk-core`, `jws-crypto` (`sign`), `jwt-validate` (both backends): the code
//! under measurement. `serde`: the typed claims. `serde_json`: reading generated JWKs.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jwk_core::{Algorithm, Jwk, JwkSet, KeyParams};
use jws_crypto::{Provider, Signer};
use jwt_validate::Validator;
use serde::Deserialize;

/// The issuer every token names and every validator requires.
pub const ISS: &str = "https://idp.example.com/";
/// The audience every token names and every validator requires.
pub const AUD: &str = "https://api.example.com";

/// The claims of every token, as an application would declare them (ten claims).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct AppClaims {
    /// `iss`.
    pub iss: String,
    /// `sub`.
    pub sub: String,
    /// `aud`.
    pub aud: String,
    /// `exp`.
    pub exp: u64,
    /// `nbf`.
    pub nbf: u64,
    /// `iat`.
    pub iat: u64,
    /// `jti`.
    pub jti: String,
    /// OAuth scopes.
    pub scope: String,
    /// RFC 9068 `client_id`.
    pub client_id: String,
    /// OpenID Connect `email`.
    pub email: String,
}

/// The same claims borrowed from the decoded payload (what a zero-copy parse can give).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppClaimsBorrowed<'a> {
    /// `iss`.
    #[serde(borrow)]
    pub iss: &'a str,
    /// `sub`.
    #[serde(borrow)]
    pub sub: &'a str,
    /// `aud`.
    #[serde(borrow)]
    pub aud: &'a str,
    /// `exp`.
    pub exp: u64,
    /// `nbf`.
    pub nbf: u64,
    /// `iat`.
    pub iat: u64,
    /// `jti`.
    #[serde(borrow)]
    pub jti: &'a str,
    /// OAuth scopes.
    #[serde(borrow)]
    pub scope: &'a str,
    /// RFC 9068 `client_id`.
    #[serde(borrow)]
    pub client_id: &'a str,
    /// OpenID Connect `email`.
    #[serde(borrow)]
    pub email: &'a str,
}

/// The key material of a case, decoded, for the raw backend calls.
#[derive(Debug, Clone)]
pub enum Material {
    /// Big-endian modulus and exponent.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Exponent.
        e: Vec<u8>,
    },
    /// Uncompressed SEC1 point (`04 || x || y`).
    Ec {
        /// The point.
        point: Vec<u8>,
    },
    /// The 32-byte Ed25519 public key.
    Ed25519 {
        /// `x`.
        x: Vec<u8>,
    },
}

/// One measured algorithm: its key, its token and the pieces a raw verify needs.
#[derive(Debug, Clone)]
pub struct Case {
    /// Row label, e.g. `RS256 (RSA-2048)`.
    pub label: &'static str,
    /// Benchmark id, e.g. `rs256-2048`; also the `kid`.
    pub id: &'static str,
    /// The algorithm.
    pub alg: Algorithm,
    /// The public JWK, with `kid` and `alg`.
    pub jwk: Jwk,
    /// Public key bytes.
    pub material: Material,
    /// The compact token.
    pub token: String,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// The measured algorithms: RS256 and PS256 on RSA-2048, RS256 on RSA-4096, ES256, ES384,
/// EdDSA.
pub const ALGORITHMS: &[(&str, &str, Algorithm, usize)] = &[
    ("RS256 (RSA-2048)", "rs256-2048", Algorithm::Rs256, 2048),
    ("PS256 (RSA-2048)", "ps256-2048", Algorithm::Ps256, 2048),
    ("RS256 (RSA-4096)", "rs256-4096", Algorithm::Rs256, 4096),
    ("ES256", "es256", Algorithm::Es256, 0),
    ("ES384", "es384", Algorithm::Es384, 0),
    ("EdDSA (Ed25519)", "eddsa", Algorithm::EdDsa, 0),
];

/// Seconds since the epoch now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The claims of every token: issued ten seconds ago, valid for an hour.
pub fn claims_json(now: u64) -> String {
    format!(
        concat!(
            r#"{{"iss":"{iss}","sub":"248289761001","aud":"{aud}","exp":{exp},"nbf":{nbf},"#,
            r#""iat":{iat},"jti":"b1a7e4c0-5f2d-4c8e-9a6b-3d2f1e0c9b8a","#,
            r#""scope":"openid profile email orders:read","client_id":"s6BhdRkqt3","#,
            r#""email":"jane.doe@example.com"}}"#
        ),
        iss = ISS,
        aud = AUD,
        exp = now + 3600,
        nbf = now - 10,
        iat = now - 10,
    )
}

/// Generates every case's key and signs its token. Panics on failure: a benchmark without
/// its fixtures has nothing to measure.
#[allow(clippy::expect_used)]
pub fn cases() -> Vec<Case> {
    let provider = jws_crypto::default_provider();
    let claims = claims_json(now_secs());
    ALGORITHMS
        .iter()
        .map(|&(label, id, ref alg, bits)| {
            let (signer, _) = provider.generate(*alg, bits).expect("key generation");
            let mut jwk = signer.public_jwk();
            jwk.kid = Some(id.to_owned());
            let material = material(&jwk);
            let (token, signing_input, signature) = sign(&*signer, id, &claims);
            Case {
                label,
                id,
                alg: *alg,
                jwk,
                material,
                token,
                signing_input,
                signature,
            }
        })
        .collect()
}

/// A token over `claims` with header `{"alg":..,"typ":"JWT","kid":..}`.
#[allow(clippy::expect_used)]
pub fn sign(signer: &dyn Signer, kid: &str, claims: &str) -> (String, Vec<u8>, Vec<u8>) {
    let header = format!(
        r#"{{"alg":"{}","typ":"JWT","kid":"{kid}"}}"#,
        signer.algorithm().as_str()
    );
    let input = format!(
        "{}.{}",
        jwk_core::b64::encode(header.as_bytes()),
        jwk_core::b64::encode(claims.as_bytes())
    );
    let signature = signer.sign(input.as_bytes()).expect("signing");
    let token = format!("{input}.{}", jwk_core::b64::encode(&signature));
    (token, input.into_bytes(), signature)
}

fn material(jwk: &Jwk) -> Material {
    match &jwk.params {
        KeyParams::Rsa(k) => Material::Rsa {
            n: k.n.clone(),
            e: k.e.clone(),
        },
        KeyParams::Ec(k) => {
            let mut point = vec![4u8];
            point.extend_from_slice(&k.x);
            point.extend_from_slice(&k.y);
            Material::Ec { point }
        }
        KeyParams::Okp(k) => Material::Ed25519 { x: k.x.clone() },
        KeyParams::Oct(_) => Material::Ed25519 { x: Vec::new() },
        _ => Material::Ed25519 { x: Vec::new() },
    }
}

/// Every case's public key in one JWK Set (key selection by `kid` among six keys).
pub fn jwk_set(cases: &[Case]) -> JwkSet {
    JwkSet::new(cases.iter().map(|c| c.jwk.clone()).collect())
}

/// This workspace's validator over `set` with `provider`: issuer and audience required,
/// every measured algorithm allowed, the system clock.
#[allow(clippy::expect_used)]
pub fn validator(provider: &'static Provider, set: JwkSet) -> Validator {
    Validator::builder()
        .provider(provider)
        .jwks(set)
        .issuer(ISS)
        .audience(AUD)
        .build()
        .expect("validator")
}

/// The same policy over any key source.
#[allow(clippy::expect_used)]
pub fn validator_over(source: Arc<dyn jwt_validate::KeySource>) -> Validator {
    Validator::builder()
        .shared_key_source(source)
        .issuer(ISS)
        .audience(AUD)
        .build()
        .expect("validator")
}

/// [`validator`] with the opt-in verified-token cache (64 tokens).
#[allow(clippy::expect_used)]
pub fn cached_validator(provider: &'static Provider, set: JwkSet) -> Validator {
    Validator::builder()
        .provider(provider)
        .jwks(set)
        .issuer(ISS)
        .audience(AUD)
        .verified_token_cache(64)
        .build()
        .expect("validator")
}
