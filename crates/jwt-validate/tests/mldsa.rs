//! ML-DSA (RFC 9964) through the validator: default algorithms per backend, full validation
//! on the three parameter sets, tampering, a mixed RSA + AKP set on each backend, and the
//! size limit holding ML-DSA-87 tokens.
// Some helpers serve only the aws-lc-rs tests (ring has no ML-DSA).
#![cfg_attr(not(feature = "aws-lc-rs"), allow(unused_imports, dead_code))]

use jwk_core::{Algorithm, Jwk, Limits};
use jws_crypto::{Provider, Signer};
use jwt_validate::Validator;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::common::*;

#[cfg(feature = "aws-lc-rs")]
const SETS: [Algorithm; 3] = [Algorithm::MlDsa44, Algorithm::MlDsa65, Algorithm::MlDsa87];

/// The RFC 9964 Appendix A.1 example key (public half), for `index` 0, 1, 2 = 44, 65, 87.
fn rfc_jwk(index: usize) -> Jwk {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../jwk-core/tests/vectors/rfc9964.json"
    );
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut jwk = v["cases"][index]["jwk"].clone();
    jwk.as_object_mut().unwrap().remove("priv");
    Jwk::parse(jwk.to_string().as_bytes()).unwrap()
}

/// `tests/vectors/mldsa65-token.txt`: good claims at [`NOW`], `kid` "pq", signed with the RFC
/// 9964 example ML-DSA-65 key (all-zero seed); checked against that key below, so ring-only
/// builds have an ML-DSA token to refuse.
const RFC_KEY_TOKEN: &str = include_str!("vectors/mldsa65-token.txt");

#[cfg(feature = "aws-lc-rs")]
fn aws() -> Option<&'static Provider> {
    providers().find(|p| p.supports(Algorithm::MlDsa65))
}

#[cfg(feature = "aws-lc-rs")]
fn ml_dsa(p: &'static Provider, alg: Algorithm) -> Arc<dyn Signer> {
    p.generate(alg, 0).unwrap().0
}

fn code(v: &Validator, token: &str) -> &'static str {
    v.validate(token).unwrap_err().code()
}

#[test]
fn default_algorithms_follow_the_backend() {
    for p in providers() {
        // An empty set as an explicit source (`jwks` would refuse it: `no_usable_keys`).
        let v = builder_keeping_unusable(p, set(vec![])).build().unwrap();
        let token = RFC_KEY_TOKEN.trim();
        if p.supports(Algorithm::MlDsa65) {
            // Allowed by default: it gets as far as key selection (the set is empty).
            assert_eq!(code(&v, token), "key_not_found", "{}", p.name);
        } else {
            assert_eq!(code(&v, token), "unsupported_alg", "{}", p.name);
        }
        // An explicit list without ML-DSA is a policy refusal on every backend.
        let rs_only = builder_keeping_unusable(p, set(vec![]))
            .algorithms([Algorithm::Rs256])
            .build()
            .unwrap();
        assert_eq!(code(&rs_only, token), "alg_not_allowed");
    }
}

#[cfg(feature = "aws-lc-rs")]
#[test]
fn rfc_key_token_file_is_what_it_says() {
    let p = aws().expect("aws-lc-rs verifies ML-DSA");
    let v = builder(p, set(vec![with_kid(rfc_jwk(1), "pq")]))
        .build()
        .unwrap();
    let verified = v.validate(RFC_KEY_TOKEN.trim()).unwrap();
    assert_eq!(verified.claims().sub.as_deref(), Some("alice"));
}

fn with_kid(mut jwk: Jwk, kid: &str) -> Jwk {
    jwk.kid = Some(kid.into());
    jwk
}

#[cfg(feature = "aws-lc-rs")]
#[test]
fn validates_all_three_sets_and_refuses_tampering() {
    let p = aws().expect("aws-lc-rs verifies ML-DSA");
    for alg in SETS {
        let signer = ml_dsa(p, alg);
        let v = builder(p, set(vec![jwk(&*signer, "pq")])).build().unwrap();
        let token = good_token(&*signer, "pq");
        assert!(token.len() < Limits::DEFAULT_MAX_TOKEN_LEN);
        let verified = v.validate(&token).unwrap();
        assert_eq!(verified.claims().sub.as_deref(), Some("alice"), "{alg}");
        assert_eq!(code(&v, &tamper(&token)), "bad_signature", "{alg}");
        // Tampered payload: another subject under the same signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut claims = good_claims();
        claims["sub"] = json!("mallory");
        let forged = jwk_core::b64::encode(claims.to_string().as_bytes());
        parts[1] = &forged;
        assert_eq!(code(&v, &parts.join(".")), "bad_signature", "{alg}");
        // Signature one byte short.
        let dot = token.rfind('.').unwrap();
        let sig = jwk_core::b64::decode(&token[dot + 1..], jwk_core::Part::Signature).unwrap();
        let short = format!(
            "{}.{}",
            &token[..dot],
            jwk_core::b64::encode(&sig[..sig.len() - 1])
        );
        assert_eq!(code(&v, &short), "bad_signature", "{alg}");
        // Without `kid`: the fitting key is tried.
        let no_kid = mint(
            &*signer,
            &header(&*signer, None),
            &good_claims().to_string(),
        );
        assert!(v.validate(&no_kid).is_ok(), "{alg}");
    }
}

#[cfg(feature = "aws-lc-rs")]
#[test]
fn alg_mismatch_between_key_and_header() {
    let p = aws().expect("aws-lc-rs verifies ML-DSA");
    let s44 = ml_dsa(p, Algorithm::MlDsa44);
    let s65 = ml_dsa(p, Algorithm::MlDsa65);
    // The set holds the 44 key under "pq"; a 65 token names "pq".
    let v = builder(p, set(vec![jwk(&*s44, "pq")])).build().unwrap();
    assert_eq!(code(&v, &good_token(&*s65, "pq")), "key_mismatch");
    // An RSA key under the kid an ML-DSA token names.
    let rs = rsa(p, Algorithm::Rs256);
    let v = builder(p, set(vec![jwk(&*rs, "pq")])).build().unwrap();
    assert_eq!(code(&v, &good_token(&*s65, "pq")), "key_mismatch");
    // An RS256 token naming the AKP key's kid.
    let v = builder(p, set(vec![jwk(&*s65, "pq")])).build().unwrap();
    assert_eq!(code(&v, &good_token(&*rs, "pq")), "key_mismatch");
}

/// RSA keys beside an `AKP` key: on every backend the RSA keys load and verify; on ring the
/// AKP key is set aside as `unsupported_alg`.
#[test]
fn mixed_set_on_each_backend() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let keys = set(vec![with_kid(rfc_jwk(1), "pq"), jwk(&*rs, "rs")]);
        assert_eq!(keys.keys.len(), 2, "jwk-core keeps both");
        let ks = jwt_validate::KeySet::from_jwks(&keys, p, &jws_crypto::KeyPolicy::default());
        let failures: Vec<(Option<Algorithm>, &str)> = ks
            .import_failures()
            .iter()
            .map(|f| (f.alg, f.code))
            .collect();
        if p.supports(Algorithm::MlDsa65) {
            assert!(failures.is_empty(), "{failures:?}");
            assert!(ks.algorithms_of(0).any(|a| a == Algorithm::MlDsa65));
        } else {
            assert_eq!(failures, [(Some(Algorithm::MlDsa65), "unsupported_alg")]);
            assert_eq!(ks.algorithms_of(0).count(), 0);
        }
        let v = builder(p, keys).build().unwrap();
        assert!(v.validate(&good_token(&*rs, "rs")).is_ok(), "{}", p.name);
        let pq = v.validate(RFC_KEY_TOKEN.trim());
        if p.supports(Algorithm::MlDsa65) {
            assert!(pq.is_ok(), "{}", p.name);
        } else {
            assert_eq!(pq.unwrap_err().code(), "unsupported_alg");
        }
    }
}

/// An ML-DSA-87 token with a claims set of several KiB fits the default limit.
#[cfg(feature = "aws-lc-rs")]
#[test]
fn ml_dsa_87_token_with_large_claims_fits_the_default_limit() {
    let p = aws().expect("aws-lc-rs verifies ML-DSA");
    let signer = ml_dsa(p, Algorithm::MlDsa87);
    let v = builder(p, set(vec![jwk(&*signer, "pq")])).build().unwrap();
    let mut claims = good_claims();
    claims["groups"] = json!((0..200)
        .map(|i| format!("group-{i:04}"))
        .collect::<Vec<_>>());
    let token = mint(&*signer, &header(&*signer, Some("pq")), &claims.to_string());
    assert!(token.len() > 8 * 1024, "{}", token.len());
    assert!(token.len() < Limits::DEFAULT_MAX_TOKEN_LEN);
    assert!(v.validate(&token).is_ok());
}
