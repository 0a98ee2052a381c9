//! RFC 9964 Appendix A.1: the ML-DSA-44/65/87 JOSE examples (`AKP` keys, thumbprints, JWS),
//! and the section 3 to 6 rules around them.

use jwk_core::{
    b64, Algorithm, Error, Jwk, JwkSet, KeyParams, Limits, MlDsaParams, Part, UnverifiedJws, Value,
};

use crate::load;

fn hex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() % 2, 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The example's JWK without `priv`: the public key RFC 9964 section 3 describes.
fn public_half(private: &str) -> String {
    let mut v: Value = serde_json::from_str(private).unwrap();
    assert!(v.as_object_mut().unwrap().remove("priv").is_some());
    v.to_string()
}

#[test]
fn appendix_a1_examples() {
    let file = load::file("rfc9964.json");
    file.skip("source");
    let cases = file.list("cases");
    assert_eq!(cases.len(), 3);
    for (case, params) in cases.iter().zip(MlDsaParams::ALL) {
        let name = case.str("figure");
        assert_eq!(name, params.as_str().replace('-', "_"));

        // Section 4: `priv` is the 32-byte seed; a JWK holding it is refused as private.
        let seed = hex(&case.str("priv"));
        assert_eq!(seed.len(), MlDsaParams::SEED_LEN);
        let private = case.json("jwk");
        assert_eq!(
            Jwk::parse(private.as_bytes()).unwrap_err(),
            Error::PrivateKey { member: "priv" }
        );
        let priv_b64: Value = serde_json::from_str(&private).unwrap();
        assert_eq!(
            b64::decode(priv_b64["priv"].as_str().unwrap(), Part::Jwk).unwrap(),
            seed
        );

        // Sections 3 and 5: the public key, its parameter set from `alg`.
        let jwk = Jwk::parse(public_half(&private).as_bytes()).unwrap();
        let KeyParams::Akp(akp) = &jwk.params else {
            panic!("{name}: {:?}", jwk.params)
        };
        assert_eq!(akp.params, params);
        assert_eq!(akp.pub_key, hex(&case.str("raw_public_key")));
        assert_eq!(akp.pub_key.len(), params.public_key_len());
        assert_eq!(jwk.alg, Some(params.algorithm()));
        assert_eq!(jwk.algorithms(), [params.algorithm()]);
        assert!(jwk.fits(params.algorithm()));
        for other in MlDsaParams::ALL.iter().filter(|p| **p != params) {
            assert!(!jwk.fits(other.algorithm()), "{name} fits {other:?}");
        }
        assert!(!jwk.fits(Algorithm::Rs256));
        assert!(!jwk.fits(Algorithm::EdDsa));
        assert_eq!(jwk.usable_for_verify(), Ok(()));

        // Section 6: the thumbprint over `alg`, `kty`, `pub` is the example's `kid`.
        let kid = jwk.kid.clone().unwrap();
        assert_eq!(jwk.thumbprint(), kid);
        assert_eq!(
            jwk.thumbprint_input(),
            format!(
                r#"{{"alg":"{}","kty":"AKP","pub":"{}"}}"#,
                params.as_str(),
                b64::encode(&akp.pub_key)
            )
        );
        let mut bare = jwk.clone();
        bare.kid = None;
        assert_eq!(bare.thumbprint(), kid);

        // Serialization round trip.
        assert_eq!(Jwk::parse(jwk.to_json().as_bytes()).unwrap(), jwk);

        // The JWS: fits the default size limit; signature is the raw FIPS 204 encoding.
        let compact = case.str("jws");
        let jws = UnverifiedJws::parse(&compact, &Limits::default()).unwrap();
        assert_eq!(jws.header().alg, params.algorithm());
        assert_eq!(jws.header().kid.as_deref(), Some(kid.as_str()));
        assert_eq!(jws.signing_input(), hex(&case.str("raw_to_be_signed")));
        let signature = jws.signature().unwrap();
        assert_eq!(signature, hex(&case.str("raw_signature")));
        assert_eq!(signature.len(), params.signature_len());
    }
}

fn akp(alg: Option<&str>, pub_len: usize) -> String {
    let pub_b64 = b64::encode(&vec![7u8; pub_len]);
    match alg {
        Some(a) => format!(r#"{{"kty":"AKP","alg":"{a}","pub":"{pub_b64}"}}"#),
        None => format!(r#"{{"kty":"AKP","pub":"{pub_b64}"}}"#),
    }
}

#[test]
fn akp_rules() {
    let code = |s: String| Jwk::parse(s.as_bytes()).map(|_| ()).unwrap_err().code();
    for p in MlDsaParams::ALL {
        let n = p.public_key_len();
        assert!(Jwk::parse(akp(Some(p.as_str()), n).as_bytes()).is_ok());
        // `pub` of any other length, including another parameter set's.
        for bad in [0, 1, n - 1, n + 1] {
            assert_eq!(
                code(akp(Some(p.as_str()), bad)),
                "invalid_key",
                "{p:?} {bad}"
            );
        }
        for other in MlDsaParams::ALL.iter().filter(|o| **o != p) {
            assert_eq!(
                code(akp(Some(p.as_str()), other.public_key_len())),
                "invalid_key"
            );
        }
    }
    // `alg` is REQUIRED (section 3) and must name an algorithm we know an AKP format for.
    assert_eq!(code(akp(None, 1952)), "invalid_key");
    assert_eq!(
        code(akp(Some("SLH-DSA-SHA2-128s"), 1952)),
        "unsupported_key"
    );
    assert_eq!(code(akp(Some("ml-dsa-65"), 1952)), "unsupported_key");
    assert_eq!(code(akp(Some("RS256"), 1952)), "unsupported_key");
    assert_eq!(
        code(r#"{"kty":"AKP","alg":65,"pub":"AA"}"#.to_owned()),
        "invalid_key"
    );
    // `pub` is REQUIRED.
    assert_eq!(
        code(r#"{"kty":"AKP","alg":"ML-DSA-65"}"#.to_owned()),
        "invalid_key"
    );
    // `priv` is refused even when `alg` or `pub` is broken.
    assert_eq!(
        code(r#"{"kty":"AKP","alg":"ML-DSA-65","priv":"AA"}"#.to_owned()),
        "private_key"
    );
    // Duplicate `alg` is a JSON-level refusal, as everywhere.
    let dup = akp(Some("ML-DSA-65"), 1952).replacen('{', r#"{"alg":"ML-DSA-44","#, 1);
    assert_eq!(code(dup), "malformed");
}

#[test]
fn mixed_set_keeps_both() {
    let file = load::file("rfc9964.json");
    file.skip("source");
    let mut keys = Vec::new();
    for case in file.list("cases") {
        keys.push(public_half(&case.json("jwk")));
        for k in [
            "figure",
            "priv",
            "jws",
            "raw_to_be_signed",
            "raw_signature",
            "raw_public_key",
        ] {
            case.skip(k);
        }
    }
    keys.push(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"rsa"}"#.to_owned());
    // A private AKP key and a short one are set aside, not fatal.
    keys.push(r#"{"kty":"AKP","alg":"ML-DSA-44","pub":"AA","priv":"AA","kid":"p"}"#.to_owned());
    keys.push(akp(Some("ML-DSA-44"), 10));
    let set = JwkSet::parse(format!(r#"{{"keys":[{}]}}"#, keys.join(",")).as_bytes()).unwrap();
    let ktys: Vec<&str> = set.keys.iter().map(|k| k.params.kty()).collect();
    assert_eq!(ktys, ["AKP", "AKP", "AKP", "RSA"]);
    let reasons: Vec<&str> = set.rejected.iter().map(|r| r.reason.code()).collect();
    assert_eq!(reasons, ["private_key", "invalid_key"]);
    assert_eq!(set.rejected[0].kty.as_deref(), Some("AKP"));
}
