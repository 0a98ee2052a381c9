//! Attack cases from issue 4.

use jwk_core::{b64, Algorithm};
use jwt_validate::Validator;
use serde_json::json;

use crate::common::*;

fn code(v: &Validator, token: &str) -> &'static str {
    match v.validate(token) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn unsigned(header: &str, claims: &str, sig: &str) -> String {
    format!(
        "{}.{}.{sig}",
        b64::encode(header.as_bytes()),
        b64::encode(claims.as_bytes())
    )
}

#[test]
fn alg_none_in_any_casing() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        // Even with every registered algorithm allowed, HS included.
        let v = builder(p, set(vec![jwk(&*rs, "rs")]))
            .algorithms(Algorithm::SIGNATURE.iter().cloned())
            .build()
            .unwrap();
        let claims = good_claims().to_string();
        for alg in ["none", "None", "NONE", "nOnE", "none ", ""] {
            for sig in ["", "AAAA"] {
                let h = json!({"alg": alg, "kid": "rs"}).to_string();
                assert_eq!(
                    code(&v, &unsigned(&h, &claims, sig)),
                    "alg_not_allowed",
                    "{alg:?}"
                );
            }
        }
        // `none` can never be configured.
        let e = builder(p, set(vec![]))
            .algorithms([Algorithm::Rs256, Algorithm::None])
            .build()
            .unwrap_err();
        assert_eq!(
            e,
            jwt_validate::ConfigError::ForbiddenAlgorithm("none".into())
        );
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let public = jwk(&*rs, "rs");
        let keys = set(vec![public.clone()]);
        let default = builder(p, keys.clone()).build().unwrap();
        let hs_too = builder(p, keys)
            .algorithms([Algorithm::Rs256, Algorithm::Hs256])
            .build()
            .unwrap();
        let secrets: [(&str, Vec<u8>); 4] = [
            ("PEM", RSA_PUB_PEM.as_bytes().to_vec()),
            ("PEM trimmed", RSA_PUB_PEM.trim().as_bytes().to_vec()),
            ("DER", RSA_PUB_DER.to_vec()),
            ("JWK JSON", public.to_json().into_bytes()),
        ];
        for (what, secret) in &secrets {
            let hs = hmac(p, secret, Algorithm::Hs256);
            let claims = good_claims().to_string();
            let with_kid = mint(&*hs, &header(&*hs, Some("rs")), &claims);
            let no_kid = mint(&*hs, &header(&*hs, None), &claims);
            assert_eq!(code(&default, &with_kid), "alg_not_allowed", "{what}");
            assert_eq!(code(&default, &no_kid), "alg_not_allowed", "{what}");
            // Allowing HS256 still never builds an HMAC key from an RSA JWK.
            assert_eq!(code(&hs_too, &with_kid), "key_mismatch", "{what}");
            assert_eq!(code(&hs_too, &no_kid), "key_not_found", "{what}");
        }
    }
}

#[test]
fn header_supplied_keys_are_never_used() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let evil = attacker_rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")])).build().unwrap();
        let claims = good_claims().to_string();
        let evil_jwk = evil.public_jwk().to_value();
        for h in [
            json!({"alg":"RS256","jwk":evil_jwk}),
            json!({"alg":"RS256","kid":"rs","jwk":evil_jwk}),
            json!({"alg":"RS256","jku":"https://evil.test/jwks.json"}),
            json!({"alg":"RS256","x5u":"https://evil.test/cert.pem"}),
            json!({"alg":"RS256","x5c":["MIIB"]}),
        ] {
            assert_eq!(code(&v, &mint(&*evil, &h, &claims)), "bad_signature", "{h}");
        }
        // The same headers on a token we signed are harmless: they are ignored.
        let ours = mint(
            &*rs,
            &json!({"alg":"RS256","kid":"rs","jwk":evil_jwk,"jku":"https://evil.test/"}),
            &claims,
        );
        assert_eq!(code(&v, &ours), "ok");
    }
}

#[test]
fn kid_with_path_traversal_or_odd_text() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")])).build().unwrap();
        for kid in [
            "../../../../../../dev/null",
            "/etc/passwd",
            "..\\..\\windows\\win.ini",
            "rs\u{0}",
            "' OR '1'='1",
            "rs/../rs",
            "",
        ] {
            let t = mint(&*rs, &header(&*rs, Some(kid)), &good_claims().to_string());
            let e = v.validate(&t).unwrap_err();
            assert_eq!(e.code(), "key_not_found", "{kid:?}");
        }
    }
}

#[test]
fn crit_rules() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let keys = set(vec![jwk(&*rs, "rs")]);
        let v = builder(p, keys.clone()).build().unwrap();
        let understands = builder(p, keys)
            .critical_extension("urn:ex")
            .build()
            .unwrap();
        let claims = good_claims().to_string();
        let t = |h: serde_json::Value| mint(&*rs, &h, &claims);
        let unknown = t(json!({"alg":"RS256","kid":"rs","crit":["urn:ex"],"urn:ex":true}));
        assert_eq!(code(&v, &unknown), "unsupported_crit");
        assert_eq!(code(&understands, &unknown), "ok");
        for h in [
            json!({"alg":"RS256","kid":"rs","crit":[]}),
            json!({"alg":"RS256","kid":"rs","crit":["alg"]}),
            json!({"alg":"RS256","kid":"rs","crit":["kid"]}),
            json!({"alg":"RS256","kid":"rs","crit":["urn:ex"]}),
            json!({"alg":"RS256","kid":"rs","crit":["urn:ex","urn:ex"],"urn:ex":1}),
        ] {
            assert_eq!(code(&understands, &t(h.clone())), "unsupported_crit", "{h}");
        }
        // Issue 11 item 6: a malformed crit is unsupported_crit, not malformed.
        for h in [
            json!({"alg":"RS256","kid":"rs","crit":"urn:ex","urn:ex":1}),
            json!({"alg":"RS256","kid":"rs","crit":["urn:ex",1],"urn:ex":1}),
            json!({"alg":"RS256","kid":"rs","crit":null}),
        ] {
            for validator in [&v, &understands] {
                assert_eq!(code(validator, &t(h.clone())), "unsupported_crit", "{h}");
            }
        }
        // RFC 7797 unencoded payloads are refused whether or not crit names b64.
        assert_eq!(
            code(
                &v,
                &t(json!({"alg":"RS256","kid":"rs","b64":false,"crit":["b64"]}))
            ),
            "unsupported_crit"
        );
        assert_eq!(
            code(&v, &t(json!({"alg":"RS256","kid":"rs","b64":false}))),
            "unsupported_crit"
        );
        assert_eq!(
            code(&v, &t(json!({"alg":"RS256","kid":"rs","b64":true}))),
            "ok"
        );
    }
}

#[test]
fn psychic_ecdsa_signatures() {
    for p in providers() {
        let es = generated(p, Algorithm::Es256);
        let v = builder(p, set(vec![jwk(&*es, "ec")])).build().unwrap();
        let good = good_token(&*es, "ec");
        assert_eq!(code(&v, &good), "ok");
        let input = &good[..good.rfind('.').unwrap()];
        // CVE-2022-21449: r = s = 0 must never verify; nor r = s = n (the group order).
        let n = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
        let n_bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&n[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        for sig in [
            vec![0u8; 64],
            [n_bytes.clone(), n_bytes].concat(),
            vec![0u8; 0],
            vec![0u8; 1],
        ] {
            let t = format!("{input}.{}", b64::encode(&sig));
            assert_eq!(code(&v, &t), "bad_signature", "{} bytes", sig.len());
        }
    }
}

#[test]
fn duplicate_members_are_malformed() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")])).build().unwrap();
        let h = header(&*rs, Some("rs"));
        let dup_exp = format!(
            r#"{{"iss":"{ISS}","aud":"{AUD}","exp":{},"exp":{}}}"#,
            NOW - 1000,
            NOW + 1000
        );
        assert_eq!(code(&v, &mint(&*rs, &h, &dup_exp)), "malformed");
        let dup_iss = format!(
            r#"{{"iss":"x","iss":"{ISS}","aud":"{AUD}","exp":{}}}"#,
            NOW + 9
        );
        assert_eq!(code(&v, &mint(&*rs, &h, &dup_iss)), "malformed");
        // In the header too (the classic `alg` smuggling).
        let t = unsigned(
            r#"{"alg":"RS256","alg":"none","kid":"rs"}"#,
            &good_claims().to_string(),
            "",
        );
        assert_eq!(code(&v, &t), "malformed");
    }
}

#[test]
fn audience_arrays() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")])).build().unwrap();
        let with_aud = |aud: serde_json::Value| {
            let mut c = good_claims();
            c["aud"] = aud;
            mint(&*rs, &header(&*rs, Some("rs")), &c.to_string())
        };
        assert_eq!(code(&v, &with_aud(json!(["a", AUD, "b"]))), "ok");
        assert_eq!(code(&v, &with_aud(json!([AUD]))), "ok");
        assert_eq!(code(&v, &with_aud(json!([]))), "audience_mismatch");
        assert_eq!(code(&v, &with_aud(json!(["a", "b"]))), "audience_mismatch");
        // Exact, case-sensitive comparison (RFC 7519 4.1.3).
        assert_eq!(
            code(&v, &with_aud(json!(AUD.to_uppercase()))),
            "audience_mismatch"
        );
        assert_eq!(
            code(&v, &with_aud(json!(format!("{AUD}/")))),
            "audience_mismatch"
        );
    }
}

#[test]
fn badly_signed_and_expired_is_bad_signature() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")])).build().unwrap();
        let mut c = good_claims();
        c["exp"] = json!(NOW - 3600);
        c["iss"] = json!("https://evil.test");
        let t = mint(&*rs, &header(&*rs, Some("rs")), &c.to_string());
        assert_eq!(code(&v, &t), "expired");
        assert_eq!(code(&v, &tamper(&t)), "bad_signature");
        let evil = attacker_rsa(p, Algorithm::Rs256);
        assert_eq!(
            code(
                &v,
                &mint(&*evil, &header(&*evil, Some("rs")), &c.to_string())
            ),
            "bad_signature"
        );
    }
}

#[test]
fn mixed_symmetric_and_asymmetric_set() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let secret = [9u8; 32];
        let hs = hmac(p, &secret, Algorithm::Hs256);
        let mixed = set(vec![jwk(&*rs, "rs"), jwk(&*hs, "hs")]);
        let v = builder(p, mixed)
            .algorithms([Algorithm::Rs256, Algorithm::Hs256])
            .build()
            .unwrap();
        assert_eq!(code(&v, &good_token(&*hs, "hs")), "key_not_found");
        assert_eq!(
            code(
                &v,
                &mint(&*hs, &header(&*hs, None), &good_claims().to_string())
            ),
            "key_not_found"
        );
        assert_eq!(code(&v, &good_token(&*rs, "rs")), "ok");
        // The same secret alone is fine when HS256 is asked for.
        let only = builder(p, set(vec![jwk(&*hs, "hs")]))
            .algorithms([Algorithm::Hs256])
            .build()
            .unwrap();
        assert_eq!(code(&only, &good_token(&*hs, "hs")), "ok");
    }
}

/// Issue 11 item 1: an Ed25519 key of small order (here the identity, `x = AQAA...`) would
/// verify `R = identity, S = 0` over any claims. Its key is set aside as `invalid_key`, so
/// the forged token finds no key.
#[test]
fn ed25519_identity_key_forgery() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let doc = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"weak","x":"{}"}}]}}"#,
        b64::encode(&identity)
    );
    let keys = jwk_core::JwkSet::parse(doc.as_bytes()).unwrap();
    let mut sig = identity.to_vec();
    sig.extend_from_slice(&[0; 32]);
    let forged = unsigned(
        r#"{"alg":"EdDSA","kid":"weak"}"#,
        &good_claims().to_string(),
        &b64::encode(&sig),
    );
    for p in providers() {
        let imported = jwt_validate::KeySet::from_jwks(&keys, p, &Default::default());
        assert!(imported.is_empty());
        let codes: Vec<&str> = imported.import_failures().iter().map(|f| f.code).collect();
        // Once per algorithm an Ed25519 key fits (EdDSA, Ed25519).
        assert_eq!(codes, ["invalid_key", "invalid_key"], "{}", p.name);
        let v = builder(p, keys.clone())
            .algorithms([Algorithm::EdDsa])
            .build()
            .unwrap();
        assert_eq!(code(&v, &forged), "key_not_found", "{}", p.name);
    }
}

/// Issue 11 item 8: only what selects the key and algorithm is judged before the signature;
/// `typ` is judged after it, so a badly signed token with the wrong `typ` is `bad_signature`.
#[test]
fn typ_is_judged_after_the_signature() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")]))
            .typ("at+jwt")
            .build()
            .unwrap();
        let claims = good_claims().to_string();
        let wrong = mint(
            &*rs,
            &json!({"alg":"RS256","kid":"rs","typ":"JWT"}),
            &claims,
        );
        let none = mint(&*rs, &json!({"alg":"RS256","kid":"rs"}), &claims);
        let right = mint(
            &*rs,
            &json!({"alg":"RS256","kid":"rs","typ":"at+jwt"}),
            &claims,
        );
        assert_eq!(code(&v, &wrong), "type_mismatch");
        assert_eq!(code(&v, &none), "type_mismatch");
        assert_eq!(code(&v, &right), "ok");
        assert_eq!(code(&v, &tamper(&wrong)), "bad_signature", "{}", p.name);
        assert_eq!(code(&v, &tamper(&none)), "bad_signature");
        assert_eq!(
            v.verify_jws(&tamper(&wrong))
                .map(|_| ())
                .unwrap_err()
                .code(),
            "bad_signature"
        );
        assert_eq!(
            v.verify_jws(&wrong).map(|_| ()).unwrap_err().code(),
            "type_mismatch"
        );
        // typ comes before the claims: an expired token with the wrong typ, well signed.
        let expired = json!({"iss": ISS, "aud": AUD, "exp": NOW - 3600}).to_string();
        let t = mint(
            &*rs,
            &json!({"alg":"RS256","kid":"rs","typ":"JWT"}),
            &expired,
        );
        assert_eq!(code(&v, &t), "type_mismatch");
        // alg is still judged first.
        let hs = hmac(p, &[1; 32], Algorithm::Hs256);
        let t = mint(
            &*hs,
            &json!({"alg":"HS256","kid":"rs","typ":"JWT"}),
            &claims,
        );
        assert_eq!(code(&v, &t), "alg_not_allowed");
    }
}
