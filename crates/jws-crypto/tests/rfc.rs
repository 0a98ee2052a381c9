//! RFC example signatures verify on every backend.

use jws_crypto::{Algorithm, KeyPolicy, ALL};

fn verify_compact(jwk: &str, alg: Algorithm, token: &str) {
    let jwk = jwk_core::Jwk::parse(jwk.as_bytes()).unwrap();
    let jws = jwk_core::UnverifiedJws::parse(token, &jwk_core::Limits::default()).unwrap();
    assert_eq!(jws.header().alg, alg);
    let sig = jws.signature().unwrap();
    for p in ALL {
        let key = p.import(&jwk, &alg, &KeyPolicy::default()).unwrap();
        assert_eq!(key.algorithm(), &alg);
        assert_eq!(key.verify(jws.signing_input(), &sig), Ok(()), "{}", p.name);
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(key.verify(jws.signing_input(), &bad).is_err(), "{}", p.name);
    }
}

#[test]
fn rfc8037_a4_ed25519_verifies() {
    verify_compact(
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        Algorithm::EdDsa,
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
    );
}
