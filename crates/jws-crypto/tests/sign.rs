//! The `sign` feature: PKCS#8 loading (DER and PEM), HMAC signers, generation, public JWK
//! export, and the errors for keys that do not fit.

use jws_crypto::{Algorithm, KeyPolicy, Provider, Signer, ALL};
use std::sync::Arc;

fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

fn pem(name: &str) -> String {
    String::from_utf8(key_file(name)).unwrap()
}

/// Signs with `signer`, then imports its public JWK on every backend that supports the
/// algorithm and verifies there.
fn sign_and_verify_everywhere(signer: &Arc<dyn Signer>, made_by: &Provider) {
    let alg = signer.algorithm();
    let jwk = signer.public_jwk();
    assert_eq!(jwk.alg.as_ref(), Some(&alg));
    assert_eq!(jwk.kid, None);
    let input = b"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0";
    let sig = signer.sign(input).unwrap();
    for p in ALL.iter().filter(|p| p.supports(alg)) {
        let v = p.import(&jwk, alg, &KeyPolicy::default()).unwrap();
        assert_eq!(
            v.verify(input, &sig),
            Ok(()),
            "{alg} signed by {}, verified by {}",
            made_by.name,
            p.name
        );
        assert!(v.verify(b"other", &sig).is_err());
    }
}

#[test]
fn pkcs8_der_and_pem_load_and_sign() {
    let cases = [
        ("rsa2048", Algorithm::Rs256),
        ("rsa2048", Algorithm::Rs384),
        ("rsa2048", Algorithm::Rs512),
        ("rsa2048", Algorithm::Ps256),
        ("rsa2048", Algorithm::Ps384),
        ("rsa2048", Algorithm::Ps512),
        ("p256", Algorithm::Es256),
        ("p384", Algorithm::Es384),
        ("p521", Algorithm::Es512),
        ("ed25519", Algorithm::EdDsa),
        ("ed25519", Algorithm::Ed25519),
    ];
    for p in ALL {
        for (file, alg) in &cases {
            let der = key_file(&format!("{file}.der"));
            let pem = pem(&format!("{file}.pem"));
            if !p.supports(*alg) {
                let err = p.signer_from_pkcs8_der(&der, *alg).unwrap_err();
                assert_eq!(err.code(), "unsupported_alg", "{} {alg}", p.name);
                continue;
            }
            let from_der = p.signer_from_pkcs8_der(&der, *alg).unwrap();
            let from_pem = p.signer_from_pkcs8_pem(&pem, *alg).unwrap();
            assert_eq!(from_der.public_jwk(), from_pem.public_jwk());
            assert_eq!(from_der.algorithm(), *alg);
            sign_and_verify_everywhere(&from_der, p);
            sign_and_verify_everywhere(&from_pem, p);
            assert!(format!("{from_der:?}").contains(alg.as_str()));
        }
    }
}

#[test]
fn deterministic_signatures_match_across_backends() {
    // RSA PKCS#1 v1.5, Ed25519 and HMAC are deterministic: both backends must produce the
    // same bytes from the same key.
    let input = b"a.b";
    let sigs = |make: &dyn Fn(&Provider) -> Arc<dyn Signer>| {
        ALL.iter()
            .map(|p| make(p).sign(input).unwrap())
            .collect::<Vec<_>>()
    };
    let der = key_file("rsa2048.der");
    let ed = key_file("ed25519.der");
    for (alg, key) in [(Algorithm::Rs256, &der), (Algorithm::EdDsa, &ed)] {
        let all = sigs(&|p| p.signer_from_pkcs8_der(key, alg).unwrap());
        assert!(all.windows(2).all(|w| w[0] == w[1]), "{alg}");
    }
    let all = sigs(&|p| p.hmac_signer(&[3; 32], Algorithm::Hs256).unwrap());
    assert!(all.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn hmac_signers() {
    for p in ALL {
        for (alg, len) in [
            (Algorithm::Hs256, 32),
            (Algorithm::Hs384, 48),
            (Algorithm::Hs512, 64),
        ] {
            let s = p.hmac_signer(&vec![5; len], alg).unwrap();
            assert_eq!(s.sign(b"x").unwrap().len(), len);
            sign_and_verify_everywhere(&s, p);
            let short = p.hmac_signer(&vec![5; len - 1], alg).unwrap_err();
            assert_eq!(short.code(), "weak_key");
            // The debug form never shows the secret.
            assert!(!format!("{s:?}").contains("5, 5"));
        }
        let err = p.hmac_signer(&[5; 64], Algorithm::Rs256).unwrap_err();
        assert_eq!(err.code(), "key_mismatch");
        let err = p.hmac_signer(&[5; 64], Algorithm::None).unwrap_err();
        assert_eq!(err.code(), "unsupported_alg");
    }
}

#[test]
fn pkcs8_keys_bound_to_their_algorithm() {
    let rsa = key_file("rsa2048.der");
    let p256 = key_file("p256.der");
    let p384 = key_file("p384.der");
    let ed = key_file("ed25519.der");
    for p in ALL {
        let code =
            |der: &[u8], alg: Algorithm| p.signer_from_pkcs8_der(der, alg).unwrap_err().code();
        assert_eq!(code(&rsa, Algorithm::Es256), "key_mismatch");
        assert_eq!(code(&p256, Algorithm::Es384), "key_mismatch");
        assert_eq!(code(&p384, Algorithm::Es256), "key_mismatch");
        assert_eq!(code(&p256, Algorithm::Rs256), "key_mismatch");
        assert_eq!(code(&ed, Algorithm::Es256), "key_mismatch");
        assert_eq!(code(&rsa, Algorithm::EdDsa), "key_mismatch");
        assert_eq!(code(&rsa, Algorithm::Hs256), "key_mismatch");
        assert_eq!(code(&rsa, Algorithm::Es256K), "unsupported_alg");
        assert_eq!(code(&key_file("rsa1024.der"), Algorithm::Rs256), "weak_key");
        for garbage in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x00",
            &rsa[..rsa.len() / 2],
        ] {
            assert_eq!(code(garbage, Algorithm::Rs256), "invalid_private_key");
        }
        let mut corrupt = p256.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff; // the public key no longer matches the private scalar
        assert_eq!(code(&corrupt, Algorithm::Es256), "invalid_private_key");
        let err = p
            .signer_from_pkcs8_pem(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                Algorithm::Rs256,
            )
            .unwrap_err();
        assert_eq!(err.code(), "invalid_private_key");
        assert_eq!(
            p.signer_from_pkcs8_pem("", Algorithm::Rs256)
                .unwrap_err()
                .code(),
            "invalid_private_key"
        );
    }
}

#[test]
fn generation() {
    for p in ALL {
        for alg in [
            Algorithm::Es256,
            Algorithm::Es384,
            Algorithm::Es512,
            Algorithm::EdDsa,
            Algorithm::Hs256,
            Algorithm::Hs512,
        ] {
            if !p.supports(alg) {
                assert_eq!(p.generate(alg, 0).unwrap_err().code(), "unsupported_alg");
                continue;
            }
            let (signer, der) = p.generate(alg, 0).unwrap();
            sign_and_verify_everywhere(&signer, p);
            if !alg.is_symmetric() {
                // The DER reloads to the same key, on every backend that has the algorithm.
                for q in ALL.iter().filter(|q| q.supports(alg)) {
                    let again = q.signer_from_pkcs8_der(&der, alg).unwrap();
                    assert_eq!(
                        again.public_jwk(),
                        signer.public_jwk(),
                        "{} -> {}",
                        p.name,
                        q.name
                    );
                }
            }
        }
        let rsa = p.generate(Algorithm::Ps256, 2048);
        match p.name {
            "ring" => assert_eq!(rsa.unwrap_err().code(), "unsupported_key_generation"),
            _ => {
                let (signer, der) = rsa.unwrap();
                sign_and_verify_everywhere(&signer, p);
                let jwk = signer.public_jwk();
                assert_eq!(jwk.bits(), 2048);
                for q in ALL {
                    q.signer_from_pkcs8_der(&der, Algorithm::Rs256).unwrap();
                }
            }
        }
        for bits in [0, 1024, 2047, 8192] {
            assert_eq!(
                p.generate(Algorithm::Rs256, bits).unwrap_err().code(),
                "unsupported_key_generation"
            );
        }
        assert_eq!(
            p.generate(Algorithm::None, 2048).unwrap_err().code(),
            "unsupported_alg"
        );
    }
}

#[test]
fn custom_provider_has_no_signing() {
    fn import(
        _: &jwk_core::Jwk,
        alg: Algorithm,
        _: &KeyPolicy,
    ) -> Result<Arc<dyn jws_crypto::Verifier>, jws_crypto::Error> {
        Err(jws_crypto::Error::UnsupportedAlg {
            alg: alg.as_str().into(),
            backend: "test",
        })
    }
    static TEST: Provider = Provider::new("test", import, |_| true);
    assert_eq!(
        TEST.hmac_signer(&[0; 32], Algorithm::Hs256)
            .unwrap_err()
            .code(),
        "unsupported_alg"
    );
    assert_eq!(format!("{TEST:?}"), "Provider { name: \"test\", .. }");
}

/// A PKCS#8 v2 (RFC 5958) Ed25519 document: the seed of `ed25519.der` and `public`.
fn ed25519_pkcs8_v2(public: &[u8]) -> Vec<u8> {
    let v1 = key_file("ed25519.der");
    let seed = &v1[v1.len() - 32..];
    let mut der = vec![0x30, 0x51, 0x02, 0x01, 0x01];
    der.extend_from_slice(&[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70]);
    der.extend_from_slice(&[0x04, 0x22, 0x04, 0x20]);
    der.extend_from_slice(seed);
    der.extend_from_slice(&[0x81, 0x21, 0x00]);
    der.extend_from_slice(public);
    assert_eq!(der.len(), 0x53);
    der
}

#[test]
fn ed25519_signer_with_small_order_public_key_is_refused() {
    let v1 = key_file("ed25519.der");
    for p in ALL {
        let real = p.signer_from_pkcs8_der(&v1, Algorithm::EdDsa).unwrap();
        let jwk_core::KeyParams::Okp(okp) = real.public_jwk().params else {
            panic!("an Ed25519 signer's public JWK is OKP");
        };
        let x = okp.x;
        // The same seed with its own public key in a v2 document loads.
        p.signer_from_pkcs8_der(&ed25519_pkcs8_v2(&x), Algorithm::EdDsa)
            .unwrap();
        for (point, order, spelling) in crate::keys::ed25519_small_order() {
            let err = p
                .signer_from_pkcs8_der(&ed25519_pkcs8_v2(&point), Algorithm::EdDsa)
                .unwrap_err();
            assert_eq!(
                err.code(),
                "invalid_key",
                "{} order {order} {spelling}",
                p.name
            );
        }
    }
}
