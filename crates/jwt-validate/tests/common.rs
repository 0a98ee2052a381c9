//! Token minting and validator set-up shared by the tests.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::Arc;

use jwk_core::{b64, Algorithm, Jwk, JwkSet};
use jws_crypto::{Provider, Signer};
use jwt_validate::{FixedClock, Validator, ValidatorBuilder};
use serde_json::{json, Value};

pub const NOW: u64 = 1_700_000_000;
pub const ISS: &str = "https://issuer.test";
pub const AUD: &str = "api://orders";

pub const RSA_PEM: &str = include_str!("keys/rsa2048.pem");
pub const ATTACKER_RSA_PEM: &str = include_str!("keys/attacker-rsa2048.pem");
pub const RSA_PUB_PEM: &str = include_str!("keys/rsa2048.pub.pem");
pub const RSA_PUB_DER: &[u8] = include_bytes!("keys/rsa2048.pub.der");

/// Every backend compiled in.
pub fn providers() -> impl Iterator<Item = &'static Provider> {
    jws_crypto::ALL.iter().copied()
}

pub fn rsa(p: &'static Provider, alg: Algorithm) -> Arc<dyn Signer> {
    p.signer_from_pkcs8_pem(RSA_PEM, alg).unwrap()
}

pub fn attacker_rsa(p: &'static Provider, alg: Algorithm) -> Arc<dyn Signer> {
    p.signer_from_pkcs8_pem(ATTACKER_RSA_PEM, alg).unwrap()
}

/// A fresh key (ECDSA, EdDSA): both backends generate these.
pub fn generated(p: &'static Provider, alg: Algorithm) -> Arc<dyn Signer> {
    p.generate(alg, 2048).unwrap().0
}

pub fn hmac(p: &'static Provider, secret: &[u8], alg: Algorithm) -> Arc<dyn Signer> {
    p.hmac_signer(secret, alg).unwrap()
}

/// The signer's public JWK with a `kid`.
pub fn jwk(signer: &dyn Signer, kid: &str) -> Jwk {
    let mut k = signer.public_jwk();
    k.kid = Some(kid.into());
    k
}

pub fn set(keys: Vec<Jwk>) -> JwkSet {
    // Through the parser, as a fetched document would be.
    JwkSet::parse(JwkSet::new(keys).to_json().as_bytes()).unwrap()
}

/// `header` and `claims` (raw JSON text) signed by `signer`.
pub fn mint(signer: &dyn Signer, header: &Value, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string().as_bytes()),
        b64::encode(claims.as_bytes())
    );
    let sig = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64::encode(&sig))
}

/// A header naming the signer's algorithm and `kid`.
pub fn header(signer: &dyn Signer, kid: Option<&str>) -> Value {
    let mut h = json!({"alg": signer.algorithm().as_str()});
    if let Some(kid) = kid {
        h["kid"] = json!(kid);
    }
    h
}

/// Claims that pass [`builder`]'s policy at [`NOW`].
pub fn good_claims() -> Value {
    json!({"iss": ISS, "aud": AUD, "sub": "alice", "iat": NOW - 10, "exp": NOW + 600})
}

/// A token with good claims, signed by `signer` under `kid`.
pub fn good_token(signer: &dyn Signer, kid: &str) -> String {
    mint(
        signer,
        &header(signer, Some(kid)),
        &good_claims().to_string(),
    )
}

/// A validator over `keys` expecting [`ISS`] and [`AUD`] at [`NOW`].
pub fn builder(p: &'static Provider, keys: JwkSet) -> ValidatorBuilder {
    Validator::builder()
        .provider(p)
        .jwks(keys)
        .issuer(ISS)
        .audience(AUD)
        .clock(FixedClock::at_secs(NOW))
}

/// [`builder`] over `keys` as an explicit key source: `build` does not refuse a set with no
/// usable key (`no_usable_keys`), so each token gets its key's own reason.
pub fn builder_keeping_unusable(p: &'static Provider, keys: JwkSet) -> ValidatorBuilder {
    Validator::builder()
        .provider(p)
        .key_source(jwt_validate::StaticKeys::from_jwks(
            &keys,
            p,
            &Default::default(),
        ))
        .issuer(ISS)
        .audience(AUD)
        .clock(FixedClock::at_secs(NOW))
}

/// Flips one bit in the signature's first byte.
pub fn tamper(token: &str) -> String {
    let dot = token.rfind('.').unwrap();
    let mut sig = b64::decode(&token[dot + 1..], jwk_core::Part::Signature).unwrap();
    sig[0] ^= 1;
    format!("{}.{}", &token[..dot], b64::encode(&sig))
}

/// Runs a future that needs no runtime (our test sources answer at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}
