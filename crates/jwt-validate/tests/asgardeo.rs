//! The Asgardeo JWKS shape (tests/vectors/asgardeo-jwks.json, from the identity provider's
//! guide): one RSA key published twice, kids `<hash>_RS256` and `<hash>_PS256`, with `alg`
//! RS256 and PS256. Rebuilt with our test key's modulus so we can sign.

use jwk_core::{Algorithm, JwkSet};
use jwt_validate::KeySet;
use serde_json::Value;

use crate::common::*;

const DOC: &str = include_str!("vectors/asgardeo-jwks.json");
const PREFIX: &str =
    "OWJmNzgyNTNhMGNiMzE1NGQ3ZjYxZTUzYTI2MmZhZTEyYzJkYTdlMDBjYjI2MDNlZWIxYmQ2MDkzYWY5ODFmZQ";

#[test]
fn published_set_loads_from_n_and_e() {
    let set = JwkSet::parse(DOC.as_bytes()).unwrap();
    assert_eq!(set.keys.len(), 2);
    assert!(set.rejected.is_empty());
    for p in providers() {
        let ks = KeySet::from_jwks(&set, p, &Default::default());
        assert_eq!(ks.len(), 2, "one (key, alg) pair per entry");
        assert!(ks.contains_kid(&format!("{PREFIX}_RS256")));
        assert!(ks.contains_kid(&format!("{PREFIX}_PS256")));
        assert!(!ks.contains_kid(PREFIX));
        assert_eq!(ks.algorithms_of(0).collect::<Vec<_>>(), [Algorithm::Rs256]);
        assert_eq!(ks.algorithms_of(1).collect::<Vec<_>>(), [Algorithm::Ps256]);
    }
}

#[test]
fn rebuilt_with_a_test_key() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let ps = rsa(p, Algorithm::Ps256);
        let n = rs.public_jwk().to_value()["n"].clone();
        let mut doc: Value = serde_json::from_str(DOC).unwrap();
        for key in doc["keys"].as_array_mut().unwrap() {
            key["n"] = n.clone();
        }
        let keys = JwkSet::parse(doc.to_string().as_bytes()).unwrap();
        let v = builder(p, keys).build().unwrap();
        let rs_kid = format!("{PREFIX}_RS256");
        let ps_kid = format!("{PREFIX}_PS256");
        let code = |t: &str| v.validate(t).map(|_| "ok").unwrap_or_else(|e| e.code());
        assert_eq!(code(&good_token(&*rs, &rs_kid)), "ok", "{}", p.name);
        assert_eq!(code(&good_token(&*ps, &ps_kid)), "ok", "{}", p.name);
        // The same key under the other kid is for the other algorithm.
        assert_eq!(code(&good_token(&*rs, &ps_kid)), "key_mismatch");
        assert_eq!(code(&good_token(&*ps, &rs_kid)), "key_mismatch");
        // The error names the token's alg and kid (matched on the variant, not its text).
        match v.validate(&good_token(&*rs, &ps_kid)).unwrap_err() {
            jwt_validate::Error::KeyMismatch { kid, alg, .. } => {
                assert_eq!(
                    (kid.as_deref(), alg),
                    (Some(ps_kid.as_str()), Algorithm::Rs256)
                );
            }
            other => panic!("{other:?}"),
        }
        // Without kid, only the entry whose alg fits is tried.
        let claims = good_claims().to_string();
        assert_eq!(code(&mint(&*rs, &header(&*rs, None), &claims)), "ok");
        assert_eq!(code(&mint(&*ps, &header(&*ps, None), &claims)), "ok");
        let rs384 = rsa(p, Algorithm::Rs384);
        assert_eq!(
            code(&mint(&*rs384, &header(&*rs384, Some(&rs_kid)), &claims)),
            "key_mismatch"
        );
    }
}
