//! Import checks and signature-shape checks, one line per boundary, on every backend.

use jwk_core::b64::encode as b64;
use jws_crypto::{Algorithm, KeyPolicy, ALL};

/// RFC 7515 A.2's 2048-bit modulus.
const N_2048: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
/// The P-256 group order.
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

fn jwk(json: &str) -> jwk_core::Jwk {
    jwk_core::Jwk::parse(json.as_bytes()).unwrap()
}

fn rsa(n: &str, e: &str) -> jwk_core::Jwk {
    jwk(&format!(r#"{{"kty":"RSA","n":"{n}","e":"{e}"}}"#))
}

/// An odd modulus of `bits` bits (not a real key: import checks do not factor).
fn odd_modulus(bits: usize) -> String {
    let mut n = vec![0xffu8; bits.div_ceil(8)];
    n[0] = 0xff >> ((8 - bits % 8) % 8);
    b64(&n)
}

fn ec_p256(x: &str, y: &str) -> jwk_core::Jwk {
    jwk(&format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}"}}"#
    ))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Import `key` for `alg` under `policy` on every backend; `expect` is "ok" or an error code.
fn check_with(policy: &KeyPolicy, key: &jwk_core::Jwk, alg: Algorithm, expect: &str) {
    for p in ALL {
        let got = match p.import(key, alg, policy) {
            Ok(v) => {
                assert_eq!(v.algorithm(), alg);
                "ok"
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                e.code()
            }
        };
        assert_eq!(got, expect, "{} {alg} {key:?}", p.name);
    }
}

fn check(key: &jwk_core::Jwk, alg: Algorithm, expect: &str) {
    check_with(&KeyPolicy::default(), key, alg, expect);
}

#[test]
fn rsa_modulus_floor_and_ceiling() {
    check(&rsa(N_2048, "AQAB"), Algorithm::Rs256, "ok");
    check(
        &rsa(&odd_modulus(2047), "AQAB"),
        Algorithm::Rs256,
        "weak_key",
    );
    check(
        &rsa(&odd_modulus(1024), "AQAB"),
        Algorithm::Rs256,
        "weak_key",
    );
    check(&rsa(&odd_modulus(8192), "AQAB"), Algorithm::Rs256, "ok");
    check(
        &rsa(&odd_modulus(8193), "AQAB"),
        Algorithm::Rs256,
        "invalid_key",
    );
    check(
        &rsa(&odd_modulus(16384), "AQAB"),
        Algorithm::Ps512,
        "invalid_key",
    );
    let legacy = KeyPolicy::default().min_rsa_bits(1024);
    check_with(
        &legacy,
        &rsa(&odd_modulus(1024), "AQAB"),
        Algorithm::Rs256,
        "ok",
    );
    check_with(
        &legacy,
        &rsa(&odd_modulus(1024), "AQAB"),
        Algorithm::Rs512,
        "ok",
    );
    check_with(
        &legacy,
        &rsa(&odd_modulus(1024), "AQAB"),
        Algorithm::Rs384,
        "weak_key",
    );
    check_with(
        &legacy,
        &rsa(&odd_modulus(1024), "AQAB"),
        Algorithm::Ps256,
        "weak_key",
    );
    check_with(
        &legacy,
        &rsa(&odd_modulus(1023), "AQAB"),
        Algorithm::Rs256,
        "weak_key",
    );
    // The floor never goes below 1024.
    let lower = KeyPolicy::default().min_rsa_bits(512);
    check_with(
        &lower,
        &rsa(&odd_modulus(1000), "AQAB"),
        Algorithm::Rs256,
        "weak_key",
    );
    let small_ceiling = KeyPolicy::default().max_rsa_bits(3072);
    check_with(
        &small_ceiling,
        &rsa(&odd_modulus(4096), "AQAB"),
        Algorithm::Rs256,
        "invalid_key",
    );
}

#[test]
fn rsa_exponent_and_modulus_shape() {
    check(&rsa(N_2048, "AQ"), Algorithm::Rs256, "invalid_key"); // e = 1
    check(&rsa(N_2048, "Aw"), Algorithm::Rs256, "ok"); // e = 3
    check(&rsa(N_2048, "AQAA"), Algorithm::Rs256, "invalid_key"); // e = 65536, even
    check(&rsa(N_2048, "Ag"), Algorithm::Rs256, "invalid_key"); // e = 2
    let e_2_32_plus_1 = b64(&[1, 0, 0, 0, 1]);
    check(
        &rsa(N_2048, &e_2_32_plus_1),
        Algorithm::Rs256,
        "invalid_key",
    );
    check(
        &rsa(N_2048, &b64(&[0xff, 0xff, 0xff, 0xff])),
        Algorithm::Rs256,
        "ok",
    );
    let large = KeyPolicy::default().allow_large_rsa_exponent(true);
    check_with(&large, &rsa(N_2048, &e_2_32_plus_1), Algorithm::Rs256, "ok");
    let e_2_33_plus_1 = b64(&[2, 0, 0, 0, 1]);
    check_with(
        &large,
        &rsa(N_2048, &e_2_33_plus_1),
        Algorithm::Rs256,
        "invalid_key",
    );
    check_with(
        &large,
        &rsa(N_2048, &b64(&[1, 0, 0, 0, 0, 1])),
        Algorithm::Rs256,
        "invalid_key",
    );
    // Leading zero bytes in the JWK do not change the value.
    check(&rsa(N_2048, "AAEAAQ"), Algorithm::Rs256, "ok");
    let mut even = jwk_core::b64::decode(N_2048, jwk_core::Part::Jwk).unwrap();
    *even.last_mut().unwrap() &= 0xfe;
    check(&rsa(&b64(&even), "AQAB"), Algorithm::Rs256, "invalid_key");
}

#[test]
fn ec_points_must_be_on_the_curve() {
    check(&ec_p256(P256_X, P256_Y), Algorithm::Es256, "ok");
    let mut y = jwk_core::b64::decode(P256_Y, jwk_core::Part::Jwk).unwrap();
    y[31] ^= 1;
    check(&ec_p256(P256_X, &b64(&y)), Algorithm::Es256, "invalid_key");
    let zero = b64(&[0; 32]);
    check(&ec_p256(&zero, &zero), Algorithm::Es256, "invalid_key");
    // Coordinates of the field size but not below the prime.
    let ff = b64(&[0xff; 32]);
    check(&ec_p256(&ff, &ff), Algorithm::Es256, "invalid_key");
    // A P-256 point labelled P-384 fails jwk-core's length check before us.
    assert!(jwk_core::Jwk::parse(
        format!(r#"{{"kty":"EC","crv":"P-384","x":"{P256_X}","y":"{P256_Y}"}}"#).as_bytes()
    )
    .is_err());
}

#[test]
fn hmac_secret_floor() {
    for (alg, len) in [
        (Algorithm::Hs256, 32),
        (Algorithm::Hs384, 48),
        (Algorithm::Hs512, 64),
    ] {
        let short = jwk(&format!(
            r#"{{"kty":"oct","k":"{}"}}"#,
            b64(&vec![7; len - 1])
        ));
        let enough = jwk(&format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(&vec![7; len])));
        check(&short, alg, "weak_key");
        check(&enough, alg, "ok");
    }
}

#[test]
fn algorithm_and_key_binding() {
    let rsa_key = rsa(N_2048, "AQAB");
    let ec_key = ec_p256(P256_X, P256_Y);
    let ed_key =
        jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#);
    let oct = jwk(&format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(&[1; 64])));
    // An HMAC secret never comes from a public key's bytes.
    check(&rsa_key, Algorithm::Hs256, "key_mismatch");
    check(&ec_key, Algorithm::Hs256, "key_mismatch");
    check(&ed_key, Algorithm::Hs512, "key_mismatch");
    check(&oct, Algorithm::Rs256, "key_mismatch");
    check(&ec_key, Algorithm::Es384, "key_mismatch");
    check(&ec_key, Algorithm::Rs256, "key_mismatch");
    check(&rsa_key, Algorithm::EdDsa, "key_mismatch");
    check(&ed_key, Algorithm::EdDsa, "ok");
    check(&ed_key, Algorithm::Ed25519, "ok");
    check(&ed_key, Algorithm::Es256, "key_mismatch");
    // An `alg` member binds the key to that algorithm.
    let rs256_only = jwk(&format!(
        r#"{{"kty":"RSA","alg":"RS256","n":"{N_2048}","e":"AQAB"}}"#
    ));
    check(&rs256_only, Algorithm::Rs256, "ok");
    check(&rs256_only, Algorithm::Ps256, "key_mismatch");
    check(&rs256_only, Algorithm::Rs512, "key_mismatch");
    let eddsa_only = jwk(
        r#"{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    );
    check(&eddsa_only, Algorithm::Ed25519, "key_mismatch");
    // Without `alg`, an RSA key may serve every RSA algorithm, one import each.
    for alg in [
        Algorithm::Rs384,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
    ] {
        check(&rsa_key, alg, "ok");
    }
    // `use` and `key_ops`.
    let enc = jwk(&format!(
        r#"{{"kty":"RSA","use":"enc","n":"{N_2048}","e":"AQAB"}}"#
    ));
    check(&enc, Algorithm::Rs256, "key_mismatch");
    let sign_only = jwk(&format!(
        r#"{{"kty":"RSA","key_ops":["sign"],"n":"{N_2048}","e":"AQAB"}}"#
    ));
    check(&sign_only, Algorithm::Rs256, "key_mismatch");
    let verify = jwk(&format!(
        r#"{{"kty":"RSA","key_ops":["verify"],"use":"sig","n":"{N_2048}","e":"AQAB"}}"#
    ));
    check(&verify, Algorithm::Rs256, "ok");
}

#[test]
fn unsupported_algorithms() {
    let ec_key = ec_p256(P256_X, P256_Y);
    for alg in [
        "none", "None", "ES256K", "Ed448", "HS1", "RS1", "ES256 ", "",
    ] {
        check(&ec_key, Algorithm::parse(alg), "unsupported_alg");
    }
    let k1 = jwk(&format!(
        r#"{{"kty":"EC","crv":"secp256k1","x":"{P256_X}","y":"{P256_Y}"}}"#
    ));
    check(&k1, Algorithm::Es256K, "unsupported_alg");
    let ed448 = jwk(&format!(
        r#"{{"kty":"OKP","crv":"Ed448","x":"{}"}}"#,
        b64(&[9; 57])
    ));
    check(&ed448, Algorithm::Ed448, "unsupported_alg");
    check(&ed448, Algorithm::EdDsa, "key_mismatch");
    for p in ALL {
        assert!(!p.supports(Algorithm::None));
        assert!(!p.supports(Algorithm::Es256K));
        assert!(p.supports(Algorithm::Es384));
        assert_eq!(p.supports(Algorithm::Es512), p.name == "aws-lc-rs");
    }
}

/// CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify; nor r or s equal to
/// the group order, nor any length but the JOSE one (a DER signature included).
#[test]
fn ecdsa_degenerate_signatures_are_bad_signatures() {
    let key = ec_p256(P256_X, P256_Y);
    let input = b"eyJhbGciOiJFUzI1NiJ9.e30";
    let n = hex(P256_N);
    for p in ALL {
        let v = p
            .import(&key, Algorithm::Es256, &KeyPolicy::default())
            .unwrap();
        let zero = [0u8; 64];
        assert!(v.verify(input, &zero).is_err(), "{}", p.name);
        let r_s_n = [n.as_slice(), n.as_slice()].concat();
        assert!(v.verify(input, &r_s_n).is_err(), "{}", p.name);
        let zero_n = [[0u8; 32].as_slice(), n.as_slice()].concat();
        assert!(v.verify(input, &zero_n).is_err(), "{}", p.name);
        for len in [0, 1, 63, 65, 70, 72, 128] {
            assert!(
                v.verify(input, &vec![1; len]).is_err(),
                "{} len {len}",
                p.name
            );
        }
        // A DER `SEQUENCE { INTEGER 1, INTEGER 1 }` is not the JOSE form.
        assert!(
            v.verify(input, &[0x30, 6, 2, 1, 1, 2, 1, 1]).is_err(),
            "{}",
            p.name
        );
    }
    // The P-384 base point.
    let p384 = jwk(&format!(
        r#"{{"kty":"EC","crv":"P-384","x":"{}","y":"{}"}}"#,
        b64(&hex("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7")),
        b64(&hex("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f"))
    ));
    let p521 = jwk(
        r#"{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}"#,
    );
    for (key, alg, len) in [(p384, Algorithm::Es384, 96), (p521, Algorithm::Es512, 132)] {
        for p in ALL {
            match p.import(&key, alg, &KeyPolicy::default()) {
                Ok(v) => assert!(v.verify(b"x.y", &vec![0; len]).is_err(), "{} {alg}", p.name),
                Err(e) => assert_eq!((alg, e.code()), (Algorithm::Es512, "unsupported_alg")),
            }
        }
    }
}

#[test]
fn eddsa_and_hmac_wrong_lengths_are_bad_signatures() {
    let ed =
        jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#);
    let oct = jwk(&format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(&[1; 32])));
    for p in ALL {
        let v = p
            .import(&ed, Algorithm::EdDsa, &KeyPolicy::default())
            .unwrap();
        for len in [0, 32, 63, 65] {
            assert!(v.verify(b"a.b", &vec![0; len]).is_err());
        }
        let h = p
            .import(&oct, Algorithm::Hs256, &KeyPolicy::default())
            .unwrap();
        for len in [0, 16, 31, 33, 64] {
            assert!(h.verify(b"a.b", &vec![0; len]).is_err());
        }
        // Debug output names the algorithm and never prints the secret.
        let debug = format!("{h:?}");
        assert!(
            debug.contains("HS256") && !debug.contains("[1, 1"),
            "{debug}"
        );
    }
}

#[test]
fn verifiers_are_shared_across_threads() {
    let key = ec_p256(P256_X, P256_Y);
    for p in ALL {
        let v = p
            .import(&key, Algorithm::Es256, &KeyPolicy::default())
            .unwrap();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let v = std::sync::Arc::clone(&v);
                std::thread::spawn(move || v.verify(b"a.b", &[0; 64]).is_err())
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap());
        }
    }
    assert_eq!(jws_crypto::default_provider().name, ALL[0].name);
}

/// The small-order encodings of `vectors/ed25519_small_order.txt`: (bytes, order, spelling).
pub(crate) fn ed25519_small_order() -> Vec<(Vec<u8>, u32, String)> {
    let path = format!(
        "{}/tests/vectors/ed25519_small_order.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (hex(f[0]), f[1].parse().unwrap(), f[2].to_owned())
        })
        .collect()
}

#[test]
fn ed25519_small_order_keys_are_invalid() {
    let points = ed25519_small_order();
    assert_eq!(points.len(), 14);
    // All eight points (distinct canonical encodings of order 1, 2, 4 and 8), both sign bits.
    let canonical = points.iter().filter(|p| p.2 == "canonical").count();
    assert_eq!(canonical, 8);
    for order in [1, 2, 4, 8] {
        assert!(points.iter().any(|p| p.1 == order));
    }
    assert!(points.iter().any(|p| p.2 == "y>=p"));
    for (x, order, spelling) in &points {
        let key = jwk(&format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
            b64(x)
        ));
        for alg in [Algorithm::EdDsa, Algorithm::Ed25519] {
            check(&key, alg, "invalid_key");
        }
        for p in ALL {
            let err = p
                .import(&key, Algorithm::EdDsa, &KeyPolicy::default())
                .map(|_| ())
                .unwrap_err();
            assert_eq!(
                err.code(),
                "invalid_key",
                "{} order {order} {spelling}",
                p.name
            );
        }
    }
    // Other non-canonical encodings (y >= p, not small order) are refused too; a regular
    // key still imports.
    let mut y_p_plus_2 = vec![0xffu8; 32];
    y_p_plus_2[0] = 0xef;
    y_p_plus_2[31] = 0x7f;
    let key = jwk(&format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
        b64(&y_p_plus_2)
    ));
    check(&key, Algorithm::EdDsa, "invalid_key");
    let good =
        jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#);
    check(&good, Algorithm::EdDsa, "ok");
}

#[test]
fn ed25519_non_canonical_s_is_a_bad_signature() {
    // RFC 8037 A.4, then S + L: the same signature with a scalar at or above the group order.
    let key =
        jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#);
    let input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    let sig = jwk_core::b64::decode(
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
        jwk_core::Part::Signature,
    )
    .unwrap();
    // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    let l = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut high = sig.clone();
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(high[32 + i]) + u16::from(l[i]) + carry;
        high[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    for p in ALL {
        let v = p
            .import(&key, Algorithm::EdDsa, &KeyPolicy::default())
            .unwrap();
        assert_eq!(v.verify(input, &sig), Ok(()));
        assert!(v.verify(input, &high).is_err(), "{}", p.name);
    }
}
