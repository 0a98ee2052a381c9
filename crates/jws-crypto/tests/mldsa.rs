//! ML-DSA (RFC 9964): the RFC's JOSE examples, round trips on the three parameter sets,
//! tampering, key/algorithm binding, and ring's `unsupported_alg`.
// Some helpers serve only the aws-lc-rs signing tests (ring has no ML-DSA).
#![cfg_attr(
    not(all(feature = "sign", feature = "aws-lc-rs")),
    allow(unused_imports, dead_code)
)]

#[cfg(all(feature = "sign", feature = "aws-lc-rs"))]
use jws_crypto::Provider;
use jws_crypto::{Algorithm, KeyPolicy, ALL};
use serde_json::Value;

const SETS: [(Algorithm, usize, usize); 3] = [
    (Algorithm::MlDsa44, 1312, 2420),
    (Algorithm::MlDsa65, 1952, 3309),
    (Algorithm::MlDsa87, 2592, 4627),
];

fn examples() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../jwk-core/tests/vectors/rfc9964.json"
    );
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn public_jwk(case: &Value) -> jwk_core::Jwk {
    let mut jwk = case["jwk"].clone();
    jwk.as_object_mut().unwrap().remove("priv");
    jwk_core::Jwk::parse(jwk.to_string().as_bytes()).unwrap()
}

#[cfg(all(feature = "sign", feature = "aws-lc-rs"))]
fn aws() -> Option<&'static Provider> {
    ALL.iter().copied().find(|p| p.name == "aws-lc-rs")
}

#[test]
fn rfc9964_examples_verify_on_aws_lc_rs_only() {
    for case in examples() {
        let jwk = public_jwk(&case);
        let jws = jwk_core::UnverifiedJws::parse(
            case["jws"].as_str().unwrap(),
            &jwk_core::Limits::default(),
        )
        .unwrap();
        let alg = jws.header().alg;
        let sig = jws.signature().unwrap();
        for p in ALL {
            if p.name == "ring" {
                assert!(!p.supports(alg));
                let err = p.import(&jwk, alg, &KeyPolicy::default()).unwrap_err();
                assert_eq!(err.code(), "unsupported_alg");
                continue;
            }
            assert!(p.supports(alg), "{}", p.name);
            let key = p.import(&jwk, alg, &KeyPolicy::default()).unwrap();
            assert_eq!(key.algorithm(), alg);
            assert_eq!(key.verify(jws.signing_input(), &sig), Ok(()), "{alg}");
            // Tampered signature, payload, truncated and extended signature.
            let mut bad = sig.clone();
            bad[sig.len() / 2] ^= 1;
            assert!(key.verify(jws.signing_input(), &bad).is_err());
            let mut input = jws.signing_input().to_vec();
            let last = input.len() - 1;
            input[last] ^= 1;
            assert!(key.verify(&input, &sig).is_err());
            assert!(key
                .verify(jws.signing_input(), &sig[..sig.len() - 1])
                .is_err());
            let mut longer = sig.clone();
            longer.push(0);
            assert!(key.verify(jws.signing_input(), &longer).is_err());
            assert!(key.verify(jws.signing_input(), &[]).is_err());
        }
    }
}

/// PKCS#8 v1 of an ML-DSA seed (RFC 9881 `seed [0] IMPLICIT OCTET STRING (SIZE (32))`).
#[cfg(all(feature = "sign", feature = "aws-lc-rs"))]
fn seed_pkcs8(alg: Algorithm, seed: &[u8]) -> Vec<u8> {
    let last = match alg {
        Algorithm::MlDsa44 => 0x11,
        Algorithm::MlDsa65 => 0x12,
        _ => 0x13,
    };
    let mut der = vec![0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09];
    der.extend_from_slice(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, last]);
    der.extend_from_slice(&[0x04, 0x22, 0x80, 0x20]);
    der.extend_from_slice(seed);
    der
}

/// RFC 9964 section 4: `priv` is the seed; the example's seed gives the example's `pub`, and
/// what it signs verifies with the example's public key.
#[cfg(all(feature = "sign", feature = "aws-lc-rs"))]
#[test]
fn rfc9964_seed_gives_the_examples_public_key() {
    let aws = aws().expect("aws-lc-rs verifies ML-DSA");
    for case in examples() {
        let jwk = public_jwk(&case);
        let alg = jwk.alg.unwrap();
        let seed = hex(case["priv"].as_str().unwrap());
        let signer = aws
            .signer_from_pkcs8_der(&seed_pkcs8(alg, &seed), alg)
            .unwrap();
        let mine = signer.public_jwk();
        assert_eq!(mine.params, jwk.params, "{alg}");
        assert_eq!(mine.thumbprint(), jwk.kid.clone().unwrap());
        let input = hex(case["raw_to_be_signed"].as_str().unwrap());
        let sig = signer.sign(&input).unwrap();
        let key = aws.import(&jwk, alg, &KeyPolicy::default()).unwrap();
        assert_eq!(key.verify(&input, &sig), Ok(()));
        // The example's signature too, from its hex form.
        let theirs = hex(case["raw_signature"].as_str().unwrap());
        assert_eq!(key.verify(&input, &theirs), Ok(()));
    }
}

#[cfg(feature = "sign")]
#[test]
fn generate_sign_verify_reload_all_three_sets() {
    for p in ALL {
        for (alg, pub_len, sig_len) in SETS {
            if !p.supports(alg) {
                assert_eq!(p.generate(alg, 0).unwrap_err().code(), "unsupported_alg");
                continue;
            }
            let (signer, der) = p.generate(alg, 0).unwrap();
            let jwk = signer.public_jwk();
            assert_eq!(jwk.params.kty(), "AKP");
            let jwk_core::KeyParams::Akp(akp) = &jwk.params else {
                panic!()
            };
            assert_eq!(akp.pub_key.len(), pub_len);
            let input = b"eyJhbGciOiJNTC1EU0EtNjUifQ.eyJzdWIiOiJ4In0";
            let sig = signer.sign(input).unwrap();
            assert_eq!(sig.len(), sig_len);
            let key = p.import(&jwk, alg, &KeyPolicy::default()).unwrap();
            assert_eq!(key.verify(input, &sig), Ok(()));
            assert!(key
                .verify(b"eyJhbGciOiJNTC1EU0EtNjUifQ.eyJzdWIiOiJ5In0", &sig)
                .is_err());
            // The key file is PKCS#8 as aws-lc-rs writes it, and loads back to the same key.
            let again = p.signer_from_pkcs8_der(&der, alg).unwrap();
            assert_eq!(again.public_jwk(), jwk);
            assert_eq!(key.verify(input, &again.sign(input).unwrap()), Ok(()));
            // Another parameter set's algorithm: refused for the PKCS#8 key and the JWK.
            for (other, _, _) in SETS.iter().filter(|(o, _, _)| *o != alg) {
                let e = p.signer_from_pkcs8_der(&der, *other).unwrap_err();
                assert_eq!(e.code(), "key_mismatch", "{alg} as {other}");
                let e = p.import(&jwk, *other, &KeyPolicy::default()).unwrap_err();
                assert_eq!(e.code(), "key_mismatch", "{alg} as {other}");
            }
            let e = p.signer_from_pkcs8_der(&der, Algorithm::EdDsa).unwrap_err();
            assert_eq!(e.code(), "key_mismatch");
        }
    }
}

#[test]
fn binding_between_key_and_algorithm() {
    let cases = examples();
    let ml44 = public_jwk(&cases[0]);
    let ml65 = public_jwk(&cases[1]);
    let rsa = jwk_core::Jwk::parse(br#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#).unwrap();
    for p in ALL.iter().filter(|p| p.supports(Algorithm::MlDsa65)) {
        let code = |jwk: &jwk_core::Jwk, alg: Algorithm| {
            p.import(jwk, alg, &KeyPolicy::default())
                .unwrap_err()
                .code()
        };
        assert_eq!(code(&ml44, Algorithm::MlDsa65), "key_mismatch");
        assert_eq!(code(&ml65, Algorithm::MlDsa44), "key_mismatch");
        assert_eq!(code(&ml65, Algorithm::Rs256), "key_mismatch");
        assert_eq!(code(&ml65, Algorithm::EdDsa), "key_mismatch");
        assert_eq!(code(&rsa, Algorithm::MlDsa65), "key_mismatch");
        // A key built by hand with a wrong-length `pub` is refused at import too.
        let mut short = ml65.clone();
        if let jwk_core::KeyParams::Akp(k) = &mut short.params {
            k.pub_key.pop();
        }
        assert_eq!(code(&short, Algorithm::MlDsa65), "invalid_key");
        // `use: enc` on an AKP key.
        let mut enc = ml65.clone();
        enc.key_use = Some(jwk_core::KeyUse::Enc);
        assert_eq!(code(&enc, Algorithm::MlDsa65), "key_mismatch");
    }
}

/// A set with an ML-DSA key beside an RSA key: the RSA key imports on every backend; the
/// ML-DSA key on aws-lc-rs, and on ring it is `unsupported_alg`, never a panic.
#[test]
fn mixed_set_on_each_backend() {
    let cases = examples();
    let akp = public_jwk(&cases[1]);
    let rsa = r#"{"kty":"RSA","kid":"rsa","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}"#;
    let set =
        jwk_core::JwkSet::parse(format!(r#"{{"keys":[{},{rsa}]}}"#, akp.to_json()).as_bytes())
            .unwrap();
    assert_eq!(set.keys.len(), 2);
    for p in ALL {
        let mut imported = Vec::new();
        let mut refused = Vec::new();
        for jwk in &set.keys {
            for alg in jwk.algorithms() {
                match p.import(jwk, alg, &KeyPolicy::default()) {
                    Ok(_) => imported.push(alg),
                    Err(e) => refused.push((alg, e.code())),
                }
            }
        }
        assert!(imported.contains(&Algorithm::Rs256), "{}", p.name);
        if p.name == "ring" {
            assert_eq!(refused, [(Algorithm::MlDsa65, "unsupported_alg")]);
        } else {
            assert!(imported.contains(&Algorithm::MlDsa65));
            assert!(refused.is_empty(), "{refused:?}");
        }
    }
}
