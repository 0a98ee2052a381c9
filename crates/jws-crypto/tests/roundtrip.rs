//! proptest laws: arbitrary bytes never verify and never panic; with `sign`, a signature made
//! by either backend verifies on every backend, and any single flipped bit in the signature
//! or the signing input makes it fail.

use jws_crypto::{Algorithm, KeyPolicy, Verifier, ALL};
use proptest::prelude::*;
use std::sync::Arc;

/// One verifier per key type and backend, from fixed public keys (RFC 7515 A.2-A.4, RFC 8037).
fn fixed_verifiers() -> Vec<Arc<dyn Verifier>> {
    let keys = [
        (
            r#"{"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}"#,
            vec![Algorithm::Rs256, Algorithm::Ps512],
        ),
        (
            r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
            vec![Algorithm::Es256],
        ),
        (
            r#"{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}"#,
            vec![Algorithm::Es512],
        ),
        (
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            vec![Algorithm::EdDsa],
        ),
        (
            r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#,
            vec![Algorithm::Hs256, Algorithm::Hs512],
        ),
    ];
    let mut out = Vec::new();
    for (json, algs) in keys {
        let jwk = jwk_core::Jwk::parse(json.as_bytes()).unwrap();
        for alg in algs {
            for p in ALL.iter().filter(|p| p.supports(alg)) {
                out.push(p.import(&jwk, alg, &KeyPolicy::default()).unwrap());
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_signatures_never_verify(
        input in proptest::collection::vec(any::<u8>(), 0..300),
        sig in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        for v in fixed_verifiers() {
            prop_assert!(v.verify(&input, &sig).is_err(), "{v:?}");
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    jwk_core::b64::encode(bytes)
}

/// Import results are typed errors or keys that refuse arbitrary signatures; never a panic.
fn import_all(json: &str, algs: &[Algorithm], sig: &[u8]) -> Result<(), TestCaseError> {
    let Ok(jwk) = jwk_core::Jwk::parse(json.as_bytes()) else {
        return Ok(());
    };
    for p in ALL {
        for alg in algs {
            match p.import(&jwk, *alg, &KeyPolicy::default().min_rsa_bits(1024)) {
                Ok(v) => prop_assert!(v.verify(b"a.b", sig).is_err()),
                Err(e) => prop_assert!(jws_crypto::Error::CODES.contains(&e.code())),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_rsa_keys_import_or_refuse(
        n in proptest::collection::vec(any::<u8>(), 0..1100),
        e in proptest::collection::vec(any::<u8>(), 0..10),
        sig in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let json = format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, b64(&n), b64(&e));
        import_all(&json, &[Algorithm::Rs256, Algorithm::Ps384, Algorithm::Hs256], &sig)?;
    }

    #[test]
    fn arbitrary_ec_okp_oct_keys_import_or_refuse(
        x in proptest::collection::vec(any::<u8>(), 66),
        y in proptest::collection::vec(any::<u8>(), 66),
        curve in 0usize..3,
        sig in proptest::collection::vec(any::<u8>(), 0..140),
    ) {
        let (crv, len) = [("P-256", 32), ("P-384", 48), ("P-521", 66)][curve];
        let ec = format!(
            r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
            b64(&x[..len]),
            b64(&y[..len])
        );
        import_all(&ec, &[Algorithm::Es256, Algorithm::Es384, Algorithm::Es512], &sig)?;
        let okp = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64(&x[..32]));
        import_all(&okp, &[Algorithm::EdDsa, Algorithm::Ed25519], &sig)?;
        let oct = format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(&x[..len]));
        import_all(&oct, &[Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512], &sig)?;
    }
}

#[cfg(feature = "sign")]
mod signing {
    use super::*;
    use jws_crypto::Signer;

    const ALGS: &[Algorithm] = &[
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::EdDsa,
        Algorithm::Ed25519,
    ];

    fn key_file(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/vectors/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// A signer per algorithm and backend (where the backend has the algorithm).
    fn signers() -> Vec<(&'static str, Arc<dyn Signer>)> {
        let mut out = Vec::new();
        for p in ALL {
            for alg in ALGS.iter().filter(|a| p.supports(**a)) {
                let file = match alg {
                    Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => {
                        out.push((p.name, p.hmac_signer(&[0x42; 64], *alg).unwrap()));
                        continue;
                    }
                    Algorithm::Es256 => "p256.der",
                    Algorithm::Es384 => "p384.der",
                    Algorithm::Es512 => "p521.der",
                    Algorithm::EdDsa | Algorithm::Ed25519 => "ed25519.der",
                    _ => "rsa2048.der",
                };
                out.push((
                    p.name,
                    p.signer_from_pkcs8_der(&key_file(file), *alg).unwrap(),
                ));
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn sign_verify_round_trip_across_backends_and_bit_flips(
            input in proptest::collection::vec(any::<u8>(), 0..200),
            flip in any::<usize>(),
            flip_signature in any::<bool>(),
        ) {
            for (made_by, signer) in signers() {
                let alg = signer.algorithm();
                let sig = signer.sign(&input).unwrap();
                let jwk = signer.public_jwk();
                let mut checked = 0;
                for p in ALL.iter().filter(|p| p.supports(alg)) {
                    let v = p.import(&jwk, alg, &KeyPolicy::default()).unwrap();
                    prop_assert_eq!(v.verify(&input, &sig), Ok(()), "{} by {} on {}", alg, made_by, p.name);
                    if flip_signature || input.is_empty() {
                        let mut bad = sig.clone();
                        let bit = flip % (bad.len() * 8);
                        bad[bit / 8] ^= 1 << (bit % 8);
                        prop_assert!(v.verify(&input, &bad).is_err(), "{} sig bit {}", alg, bit);
                    } else {
                        let mut bad = input.clone();
                        let bit = flip % (bad.len() * 8);
                        bad[bit / 8] ^= 1 << (bit % 8);
                        prop_assert!(v.verify(&bad, &sig).is_err(), "{} input bit {}", alg, bit);
                    }
                    checked += 1;
                }
                prop_assert!(checked >= 1);
            }
        }
    }
}
