//! RFC 7515 Appendix A: the five example JWS, parsed without any crypto.

use jwk_core::{b64, Algorithm, Error, Header, Jwk, KeyParams, Limits, Part, UnverifiedJws};

use crate::load;

fn expected_alg(name: &str) -> Algorithm {
    match name {
        "HS256" => Algorithm::Hs256,
        "RS256" => Algorithm::Rs256,
        "ES256" => Algorithm::Es256,
        "ES512" => Algorithm::Es512,
        "none" => Algorithm::None,
        other => panic!("no expectation for {other}"),
    }
}

#[test]
fn rfc7515_appendix_a_examples_parse() {
    let file = load::file("rfc7515_appendix_a.json");
    file.skip("source"); // provenance only
    let mut seen = Vec::new();
    for case in file.list("cases") {
        let section = case.str("section");
        let compact = case.str("compact");
        let jws = UnverifiedJws::parse(&compact, &Limits::default())
            .unwrap_or_else(|e| panic!("{section}: {e}"));

        // alg, and the header as printed in the RFC (with its CR LF and spaces).
        let alg = expected_alg(&case.str("alg"));
        assert_eq!(jws.header().alg, alg, "{section}");
        let header_json = case.str("header_json");
        assert_eq!(
            &Header::parse(header_json.as_bytes()).unwrap(),
            jws.header()
        );
        assert_eq!(b64::encode(header_json.as_bytes()), case.str("header_b64"));

        // Segments and the signing input, borrowed from the token.
        let c = jws.compact();
        assert_eq!(c.header_b64(), case.str("header_b64"));
        assert_eq!(c.payload_b64(), case.str("payload_b64"));
        assert_eq!(c.signature_b64(), case.str("signature_b64"));
        assert_eq!(jws.signing_input(), case.str("signing_input").as_bytes());
        assert_eq!(jws.signing_input().as_ptr(), compact.as_ptr());
        assert_eq!(jws.payload().unwrap(), case.str("payload").as_bytes());
        assert_eq!(
            jws.signature().unwrap().len() as u64,
            case.u64("signature_len"),
            "{section}"
        );

        if case.has("jwk") {
            let jwk = Jwk::parse(case.json("jwk").as_bytes()).unwrap();
            assert!(jwk.fits(alg), "{section}: key does not fit {alg}");
            match (&jwk.params, alg) {
                (KeyParams::Oct(k), Algorithm::Hs256) => assert_eq!(k.k.len(), 64),
                (KeyParams::Rsa(_), Algorithm::Rs256) => assert_eq!(jwk.bits(), 2048),
                (KeyParams::Ec(k), Algorithm::Es256) => assert_eq!(k.x.len(), 32),
                (KeyParams::Ec(k), Algorithm::Es512) => assert_eq!(k.x.len(), 66),
                (p, a) => panic!("{section}: unexpected key {p:?} for {a}"),
            }
        }
        seen.push(section);
    }
    assert_eq!(seen, ["A.1", "A.2", "A.3", "A.4", "A.5"]);
}

#[test]
fn rfc7515_a1_header_and_claims() {
    let file = load::file("rfc7515_appendix_a.json");
    file.skip("source");
    let cases = file.list("cases");
    let a1 = &cases[0];
    let token = a1.str("compact");
    let jws = UnverifiedJws::parse(&token, &Limits::default()).unwrap();
    assert_eq!(jws.header().typ.as_deref(), Some("JWT"));
    assert_eq!(jws.header().typ_short(), Some("JWT"));
    let claims = jws.dangerous_claims().unwrap();
    assert_eq!(claims.iss.as_deref(), Some("joe"));
    assert_eq!(claims.exp.unwrap().secs(), 1_300_819_380);
    assert_eq!(
        claims.get("http://example.com/is_root"),
        Some(serde_json::Value::Bool(true))
    );
    // The claims keep the received bytes, CR LF included.
    assert_eq!(claims.raw_json(), a1.str("payload"));
    for case in &cases {
        let _ = case.to_json(); // every other field is covered by the test above
    }
}

#[test]
fn rfc7515_a4_payload_is_not_json_and_a5_is_unsecured() {
    let file = load::file("rfc7515_appendix_a.json");
    file.skip("source");
    let cases = file.list("cases");
    let a4_token = cases[3].str("compact");
    let a4 = UnverifiedJws::parse(&a4_token, &Limits::default()).unwrap();
    let err = a4.dangerous_claims().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Json {
                part: Part::Payload,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "malformed");

    let a5_token = cases[4].str("compact");
    let a5 = UnverifiedJws::parse(&a5_token, &Limits::default()).unwrap();
    assert_eq!(a5.header().alg, Algorithm::None);
    assert!(!a5.header().alg.is_signature());
    assert_eq!(a5.signature().unwrap(), Vec::<u8>::new());
    for case in &cases {
        let _ = case.to_json();
    }
}
